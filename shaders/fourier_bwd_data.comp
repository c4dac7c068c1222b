#version 450
#extension GL_GOOGLE_include_directive : require
// Fourier parameterization backward (the transpose of the forward map), accumulated into the
// coefficients' gradient: one workgroup per ROWS frequency rows u0 .. u0+ROWS-1 of one channel
// (grid x, y = u0 / ROWS, n * C + c). First t_u[w] = sum_h dy[h,w] e^{2 pi i u h / H} for each
// of its rows into shared memory, then g[v] = sum_w t_u[w] e^{2 pi i v w / W}; d re += s Re g,
// d im -= s Im g. Each dy element is read once for the workgroup's ROWS rows.
#include "common.glsl"
#include "fourier.glsl"

layout(constant_id = 5) const uint ROWS = 1; // frequency rows per workgroup

layout(std430, binding = 0) readonly buffer DImg { float dimg[]; }; // [N, C, H, W]
layout(std430, binding = 1) buffer DCoef { float dcoef[]; };         // [N, 2C, H, W/2+1]

shared vec2 line[ROWS * TW];

void main() {
    fill_roots();
    barrier();
    const uint u0 = gl_WorkGroupID.x * ROWS, nc = gl_WorkGroupID.y;
    for (uint w = gl_LocalInvocationIndex; w < TW; w += gl_WorkGroupSize.x) {
        vec2 acc[ROWS];
        uint k[ROWS], step[ROWS]; // (u h mod H) for each row u; rows past H repeat row H - 1
        for (uint r = 0; r < ROWS; r++) {
            acc[r] = vec2(0.0);
            k[r] = 0;
            step[r] = min(u0 + r, TH - 1);
        }
        for (uint h = 0; h < TH; h++) {
            const float d = dimg[(nc * TH + h) * TW + w];
            for (uint r = 0; r < ROWS; r++) {
                acc[r] += d * roots_h[k[r]];
                k[r] = advance(k[r], step[r], TH);
            }
        }
        for (uint r = 0; r < ROWS; r++) line[r * TW + w] = acc[r];
    }
    barrier();
    for (uint i = gl_LocalInvocationIndex; i < ROWS * TWF; i += gl_WorkGroupSize.x) {
        const uint r = i / TWF, v = i % TWF, u = u0 + r;
        if (u >= TH) break; // i only grows, so every later one is past H too
        vec2 acc = vec2(0.0);
        uint k = 0; // v w mod W
        for (uint w = 0; w < TW; w++) {
            acc += complex_mul(line[r * TW + w], roots_w[k]);
            k = advance(k, v, TW);
        }
        const float s = spectral_scale(u, v);
        const uint re = 2u * nc * TH * TWF + u * TWF + v, im = re + TH * TWF;
        dcoef[re] += s * acc.x;
        dcoef[im] -= s * acc.y;
    }
}
