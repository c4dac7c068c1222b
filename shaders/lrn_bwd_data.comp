#version 450
#extension GL_GOOGLE_include_directive : require
// LRN backward to the input (exact), a gather over the channels whose window holds j:
// dx_j += g_j s_j^-beta - 2 beta k x_j sum_{c in [j - hi, j + lo]} g_c x_c s_c^(-beta-1).
#include "common.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) buffer DX { float dx[]; };

#include "lrn.glsl"

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    uint col;
    int j;
    lrn_locate(i, col, j);
    float sum = 0.0;
    int first = max(j - pc.hi, 0), last = min(j + pc.lo, int(pc.c) - 1);
    for (int c = first; c <= last; c++) {
        uint at = col + uint(c) * pc.inner;
        float s = lrn_scale(col, c);
        sum += dy[at] * x[at] * pow(s, -pc.beta) / s;
    }
    dx[i] += dy[i] * pow(lrn_scale(col, j), -pc.beta) - 2.0 * pc.beta * pc.k * x[i] * sum;
}
