#version 450
#extension GL_GOOGLE_include_directive : require
// Conv forward: Y_g = W_g * im2col(X)_g (+ B), a tiled product (gemm_tile.glsl) whose B
// operand is read straight from X with zeros in the padding.
#include "common.glsl"
#include "gemm_tile.glsl"
#include "conv2d.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float wt[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; }; // placeholder without bias
layout(std430, binding = 3) writeonly buffer Y { float y[]; };

float gemm_load_a(uint g, uint mo, uint r) { return wt[(g * pc.mg + mo) * conv_rows() + r]; }

float gemm_load_b(uint g, uint r, uint p) {
    const int i = conv_input_index(g, r, p);
    return i < 0 ? 0.0 : x[i];
}

void gemm_store(uint g, uint mo, uint p, float value) {
    if ((pc.flags & CONV_BIAS) != 0u) value += bias[g * pc.mg + mo];
    y[conv_output_index(g, mo, p)] = value;
}

void main() { gemm_tile_run(gl_WorkGroupID.z, pc.mg, pc.n * conv_pixels(), conv_rows()); }
