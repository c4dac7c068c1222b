#version 450
#extension GL_GOOGLE_include_directive : require
// Fourier parameterization backward (the transpose of the forward map), accumulated into the
// coefficients' gradient: one workgroup per frequency row u of one channel (grid x, y = u,
// n * C + c). First t[w] = sum_h dy[h,w] e^{2 pi i u h / H} into shared memory, then
// g[v] = sum_w t[w] e^{2 pi i v w / W}; d re += s Re g, d im -= s Im g.
#include "common.glsl"
#include "fourier.glsl"

layout(std430, binding = 0) readonly buffer DImg { float dimg[]; }; // [N, C, H, W]
layout(std430, binding = 1) buffer DCoef { float dcoef[]; };         // [N, 2C, H, W/2+1]

shared vec2 line[TW];

void main() {
    fill_roots();
    barrier();
    const uint u = gl_WorkGroupID.x, nc = gl_WorkGroupID.y;
    for (uint w = gl_LocalInvocationIndex; w < TW; w += gl_WorkGroupSize.x) {
        vec2 acc = vec2(0.0);
        uint k = 0; // u h mod H
        for (uint h = 0; h < TH; h++) {
            acc += dimg[(nc * TH + h) * TW + w] * roots_h[k];
            k = advance(k, u, TH);
        }
        line[w] = acc;
    }
    barrier();
    const uint re0 = 2u * nc * TH * TWF + u * TWF, im0 = re0 + TH * TWF;
    for (uint v = gl_LocalInvocationIndex; v < TWF; v += gl_WorkGroupSize.x) {
        vec2 acc = vec2(0.0);
        uint k = 0; // v w mod W
        for (uint w = 0; w < TW; w++) {
            acc += complex_mul(line[w], roots_w[k]);
            k = advance(k, v, TW);
        }
        const float s = spectral_scale(u, v);
        dcoef[re0 + v] += s * acc.x;
        dcoef[im0 + v] -= s * acc.y;
    }
}
