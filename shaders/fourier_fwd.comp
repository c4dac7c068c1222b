#version 450
#extension GL_GOOGLE_include_directive : require
// Fourier parameterization forward: one workgroup per image row h of one channel (x, y of the
// grid = h, n * C + c). First r[v] = sum_u e^{2 pi i u h / H} s(u,v) (re + i im)[u,v] for every
// v into shared memory, then x[h,w] = Re sum_v r[v] e^{2 pi i v w / W}.
#include "common.glsl"
#include "fourier.glsl"

layout(std430, binding = 0) readonly buffer Coef { float coef[]; }; // [N, 2C, H, W/2+1]
layout(std430, binding = 1) writeonly buffer Img { float img[]; };  // [N, C, H, W]

shared vec2 row[TWF];

void main() {
    fill_roots();
    barrier();
    const uint h = gl_WorkGroupID.x, nc = gl_WorkGroupID.y;
    const uint re0 = 2u * nc * TH * TWF, im0 = re0 + TH * TWF;
    for (uint v = gl_LocalInvocationIndex; v < TWF; v += gl_WorkGroupSize.x) {
        vec2 acc = vec2(0.0);
        uint k = 0; // u h mod H
        for (uint u = 0; u < TH; u++) {
            vec2 q = spectral_scale(u, v) * vec2(coef[re0 + u * TWF + v], coef[im0 + u * TWF + v]);
            acc += complex_mul(q, roots_h[k]);
            k = advance(k, h, TH);
        }
        row[v] = acc;
    }
    barrier();
    for (uint w = gl_LocalInvocationIndex; w < TW; w += gl_WorkGroupSize.x) {
        float acc = 0.0;
        uint k = 0; // v w mod W
        for (uint v = 0; v < TWF; v++) {
            acc += complex_mul(row[v], roots_w[k]).x;
            k = advance(k, w, TW);
        }
        img[(nc * TH + h) * TW + w] = acc;
    }
}
