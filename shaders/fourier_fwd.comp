#version 450
#extension GL_GOOGLE_include_directive : require
// Fourier parameterization forward: one workgroup per ROWS image rows h0 .. h0+ROWS-1 of one
// channel (x, y of the grid = h0 / ROWS, n * C + c). First r_h[v] = sum_u e^{2 pi i u h / H}
// s(u,v) (re + i im)[u,v] for every v and each of its rows into shared memory, then
// x[h,w] = Re sum_v r_h[v] e^{2 pi i v w / W}. Each scaled coefficient (a pow() for s) is read
// once for the workgroup's ROWS rows, not once per row (lavapipe's SqueezeNet forward spent
// most of its 111 ms there at one row a workgroup).
#include "common.glsl"
#include "fourier.glsl"

layout(constant_id = 5) const uint ROWS = 1; // image rows per workgroup

layout(std430, binding = 0) readonly buffer Coef { float coef[]; }; // [N, 2C, H, W/2+1]
layout(std430, binding = 1) writeonly buffer Img { float img[]; };  // [N, C, H, W]

shared vec2 row[ROWS * TWF];

void main() {
    fill_roots();
    barrier();
    const uint h0 = gl_WorkGroupID.x * ROWS, nc = gl_WorkGroupID.y;
    const uint re0 = 2u * nc * TH * TWF, im0 = re0 + TH * TWF;
    for (uint v = gl_LocalInvocationIndex; v < TWF; v += gl_WorkGroupSize.x) {
        vec2 acc[ROWS];
        uint k[ROWS], step[ROWS]; // (u h mod H) for each row h; rows past H repeat row H - 1
        for (uint r = 0; r < ROWS; r++) {
            acc[r] = vec2(0.0);
            k[r] = 0;
            step[r] = min(h0 + r, TH - 1);
        }
        for (uint u = 0; u < TH; u++) {
            vec2 q = spectral_scale(u, v) * vec2(coef[re0 + u * TWF + v], coef[im0 + u * TWF + v]);
            for (uint r = 0; r < ROWS; r++) {
                acc[r] += complex_mul(q, roots_h[k[r]]);
                k[r] = advance(k[r], step[r], TH);
            }
        }
        for (uint r = 0; r < ROWS; r++) row[r * TWF + v] = acc[r];
    }
    barrier();
    for (uint i = gl_LocalInvocationIndex; i < ROWS * TW; i += gl_WorkGroupSize.x) {
        const uint r = i / TW, w = i % TW, h = h0 + r;
        if (h >= TH) break; // i only grows, so every later one is past H too
        float acc = 0.0;
        uint k = 0; // v w mod W
        for (uint v = 0; v < TWF; v++) {
            acc += complex_mul(row[r * TWF + v], roots_w[k]).x;
            k = advance(k, w, TW);
        }
        img[(nc * TH + h) * TW + w] = acc;
    }
}
