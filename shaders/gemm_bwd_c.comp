#version 450
#extension GL_GOOGLE_include_directive : require
// Gemm backward to C: dC += beta * dY summed over the axes C was broadcast along. Each
// invocation owns one element of dC and gathers its rows/columns of dY (no atomics).
#include "common.glsl"

layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) buffer DC { float dc[]; };
layout(push_constant) uniform P {
    uint m, n;
    uint c_rows, c_cols; // 1 or M, 1 or N
    float beta;
} pc;

void main() {
    const uint e = cnv_global_index();
    if (e >= pc.c_rows * pc.c_cols) return;
    const uint r = e / pc.c_cols, c = e % pc.c_cols;
    const uint i_end = pc.c_rows == 1 ? pc.m : r + 1, j_end = pc.c_cols == 1 ? pc.n : c + 1;
    float s = 0.0;
    for (uint i = pc.c_rows == 1 ? 0 : r; i < i_end; i++)
        for (uint j = pc.c_cols == 1 ? 0 : c; j < j_end; j++) s += dy[i * pc.n + j];
    dc[e] += pc.beta * s;
}
