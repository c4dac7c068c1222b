#version 450
#extension GL_GOOGLE_include_directive : require
// Gemm and MatMul: Out = alpha * A * B (+ beta * C broadcast to [M, N]), or, with ACCUMULATE,
// Out += alpha * A * B. A is [M, K] and B is [K, N] as the product sees them; A_COLUMN_MAJOR /
// B_COLUMN_MAJOR say they are stored transposed. The backward products dA = dY * op(B)^T and
// dB = op(A)^T * dY are this kernel with other operands and flags (runtime/vulkan/gemm.c).
#include "common.glsl"
#include "gemm_tile.glsl"

layout(constant_id = 8) const bool ACCUMULATE = false;

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) readonly buffer C { float c[]; }; // placeholder when has_c == 0
layout(std430, binding = 3) buffer Out { float out_[]; };
layout(push_constant) uniform P {
    uint m, n, k;
    uint lda, ldb;        // row length of A and B as stored
    uint c_rows, c_cols;  // C's extent before broadcasting: 1 or M, 1 or N
    uint has_c;
    float alpha, beta;
    uint a_off, b_off, out_off; // MatMul: where this batch entry's A, B and Out start
} pc;

float gemm_load_a(uint z, uint row, uint k) {
    return A_COLUMN_MAJOR ? a[pc.a_off + k * pc.lda + row] : a[pc.a_off + row * pc.lda + k];
}
float gemm_load_b(uint z, uint k, uint col) {
    return B_COLUMN_MAJOR ? b[pc.b_off + col * pc.ldb + k] : b[pc.b_off + k * pc.ldb + col];
}

void gemm_store(uint z, uint row, uint col, float value) {
    const uint o = pc.out_off + row * pc.n + col;
    float v = pc.alpha * value;
    if (ACCUMULATE) {
        out_[o] += v;
        return;
    }
    if (pc.has_c != 0) v += pc.beta * c[(pc.c_rows == 1 ? 0 : row) * pc.c_cols + (pc.c_cols == 1 ? 0 : col)];
    out_[o] = v;
}

void main() { gemm_tile_run(0, pc.m, pc.n, pc.k); }
