#version 450
#extension GL_GOOGLE_include_directive : require
// Conv backward to the weights: dW_g[mo, r] += sum over p of dY_g[mo, p] * im2col(X)_g[r, p],
// a tiled product (gemm_tile.glsl) reducing over p = (n, oy, ox). The bias gradient
// dB[mo] += sum over p of dY_g[mo, p] rides along as one more column of the product whose
// im2col row is all ones, so it needs no kernel of its own. Columns are r = 0..R-1 (dW, when
// wanted) then R (dB, when wanted).
#include "common.glsl"
#define GEMM_PREPARED_COLUMNS
#define GEMM_PARTIALS_BINDING 4
#include "gemm_tile.glsl"
#include "conv2d.glsl"

CNV_INPUT(0, x);
CNV_INPUT(1, dy);
layout(std430, binding = 2) buffer DW { float dw[]; }; // placeholder when dW is not wanted
layout(std430, binding = 3) buffer DB { float db[]; }; // placeholder when dB is not wanted

uint first_column() { return (pc.flags & CONV_WANT_DW) != 0u ? 0u : conv_rows(); }

uint column_count() {
    return ((pc.flags & CONV_WANT_DW) != 0u ? conv_rows() : 0u) + ((pc.flags & CONV_BIAS) != 0u ? 1u : 0u);
}

float gemm_load_a(uint g, uint mo, uint p) { return CNV_LOAD(dy, conv_output_index(g, mo, p)); }

float gemm_load_b(uint g, uint p, uint col) {
    const uint r = first_column() + col;
    if (r == conv_rows()) return 1.0;
    const int i = conv_input_index(g, r, p);
    return i < 0 ? 0.0 : CNV_LOAD(x, i);
}

// DIRECT walk: the invocation's columns' taps, decomposed once per tile; `ones` marks the
// bias column.
conv_tap prepared[RN];
bool ones[RN];

void gemm_prepare_column(uint g, uint j, uint col) {
    const uint r = first_column() + col;
    ones[j] = r == conv_rows();
    prepared[j] = conv_tap_of(g, ones[j] ? 0u : r);
}

float gemm_load_prepared_b(uint g, uint p, uint j) {
    if (ones[j]) return 1.0;
    const int i = conv_im2col_index(prepared[j], conv_pixel_of(p));
    return i < 0 ? 0.0 : CNV_LOAD(x, i);
}

void gemm_store(uint g, uint mo, uint col, float value) {
    const uint r = first_column() + col;
    if (r == conv_rows()) {
        const uint at = g * pc.mg + mo;
        db[at] = (pc.flags & CONV_ASSIGN_DB) != 0u ? value : db[at] + value;
    } else {
        const uint at = (g * pc.mg + mo) * conv_rows() + r;
        dw[at] = (pc.flags & CONV_ASSIGN) != 0u ? value : dw[at] + value;
    }
}

void main() { gemm_tile_run(gl_WorkGroupID.z, pc.mg, column_count(), pc.n * conv_pixels()); }
