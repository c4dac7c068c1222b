#version 450
#extension GL_GOOGLE_include_directive : require
// Gemm and MatMul: Out = alpha * A * B (+ beta * C broadcast to [M, N]), or, with ACCUMULATE,
// Out += alpha * A * B. A is [M, K] and B is [K, N] as the product sees them; A_COLUMN_MAJOR /
// B_COLUMN_MAJOR say they are stored transposed. The backward products dA = dY * op(B)^T and
// dB = op(A)^T * dY are this kernel with other operands and flags (runtime/vulkan/gemm.c).
#include "common.glsl"
#define GEMM_PARTIALS_BINDING 4
#include "gemm_tile.glsl"

layout(constant_id = 11) const bool ACCUMULATE = false;

CNV_INPUT(0, a);
CNV_INPUT(1, b);
CNV_INPUT(2, c); // placeholder when has_c == 0
layout(std430, binding = 3) buffer Out { float out_[]; };
// A product whose operand exceeds maxStorageBufferRange runs in pieces (runtime/vulkan/gemm.c):
// m, n, k are this piece's extent, (m0, n0, k0) its origin in the whole product, and each
// *_base the element of the whole tensor at which its bound descriptor range starts.
layout(push_constant) uniform P {
    uint m, n, k;
    uint lda, ldb;        // row length of A and B as stored
    uint c_rows, c_cols;  // C's extent before broadcasting: 1 or M, 1 or N
    uint has_c;
    float alpha, beta;
    uint a_off, b_off, out_off; // MatMul: where this batch entry's A, B and Out start
    uint ldo;             // row length of Out (the whole product's N)
    uint m0, n0, k0;
    uint a_base, b_base, c_base, out_base;
} pc;

float gemm_load_a(uint z, uint row, uint k) {
    row += pc.m0;
    k += pc.k0;
    return CNV_LOAD(a, pc.a_off + (A_COLUMN_MAJOR ? k * pc.lda + row : row * pc.lda + k) - pc.a_base);
}

float gemm_load_b(uint z, uint k, uint col) {
    k += pc.k0;
    col += pc.n0;
    return CNV_LOAD(b, pc.b_off + (B_COLUMN_MAJOR ? col * pc.ldb + k : k * pc.ldb + col) - pc.b_base);
}

void gemm_store(uint z, uint row, uint col, float value) {
    row += pc.m0;
    col += pc.n0;
    const uint o = pc.out_off + row * pc.ldo + col - pc.out_base;
    float v = pc.alpha * value;
    if (ACCUMULATE) {
        out_[o] += v;
        return;
    }
    if (pc.has_c != 0)
        v += pc.beta * CNV_LOAD(c, (pc.c_rows == 1 ? 0 : row) * pc.c_cols + (pc.c_cols == 1 ? 0 : col) - pc.c_base);
    out_[o] = v;
}

void main() { gemm_tile_run(gl_WorkGroupID.z, pc.m, pc.n, pc.k); }
