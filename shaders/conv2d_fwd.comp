#version 450
#extension GL_GOOGLE_include_directive : require
// Conv forward: Y_g = W_g * im2col(X)_g (+ B), a tiled product (gemm_tile.glsl) whose B
// operand is read straight from X with zeros in the padding; with CONV_RELU, max(Y, 0) too,
// with CONV_RELU_ONLY, max(Y, 0) instead of Y.
#include "common.glsl"
#define GEMM_PREPARED_COLUMNS
#define GEMM_PARTIALS_BINDING 5
#include "gemm_tile.glsl"
#include "conv2d.glsl"

CNV_INPUT(0, x);
CNV_INPUT(1, wt);
CNV_INPUT(2, bias); // placeholder without bias
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
layout(std430, binding = 4) writeonly buffer YRelu { float y_relu[]; }; // placeholder without CONV_RELU

float gemm_load_a(uint g, uint mo, uint r) { return CNV_LOAD(wt, (g * pc.mg + mo) * conv_rows() + r); }

float gemm_load_b(uint g, uint r, uint p) {
    const int i = conv_input_index(g, r, p);
    return i < 0 ? 0.0 : CNV_LOAD(x, i);
}

// DIRECT walk: the invocation's columns' windows, decomposed once per tile.
conv_pixel prepared[RN];

void gemm_prepare_column(uint g, uint j, uint p) { prepared[j] = conv_pixel_of(p); }

float gemm_load_prepared_b(uint g, uint r, uint j) {
    const int i = conv_im2col_index(conv_tap_of(g, r), prepared[j]);
    return i < 0 ? 0.0 : CNV_LOAD(x, i);
}

void gemm_store(uint g, uint mo, uint p, float value) {
    if ((pc.flags & CONV_BIAS) != 0u) value += CNV_LOAD(bias, g * pc.mg + mo);
    const uint at = conv_output_index(g, mo, p);
    y[at] = (pc.flags & CONV_RELU_ONLY) != 0u ? max(value, 0.0) : value; // max: as shaders/unary.glsl's Relu
    if ((pc.flags & CONV_RELU) != 0u) y_relu[at] = max(value, 0.0);
}

void main() { gemm_tile_run(gl_WorkGroupID.z, pc.mg, pc.n * conv_pixels(), conv_rows()); }
