#version 450
#extension GL_GOOGLE_include_directive : require
// Regularize backward (runtime/cpu/regularize.c has the definition): dx += dy - (tv * dTV/dx
// + l1 * sign(x - c) + l2 * (x - c)), one invocation per element. Each pixel's TV gradient
// gathers the three terms that hold it: its own and those of its upper and left neighbours.
#include "common.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) buffer DX { float dx[]; };
layout(push_constant) uniform P {
    uint total; uint h; uint w;
    float tv; float beta; float l1; float l2; float center; float eps; // eps: CNV_TV_EPS
} pc;

// k = beta * (dv^2 + dh^2 + eps)^(beta/2 - 1) of pixel (r, q) of the plane at base, and its
// forward differences (0 past the last row / column).
float tv_term(uint base, uint r, uint q, out float dv, out float dh) {
    float v = x[base + r * pc.w + q];
    dv = r + 1u < pc.h ? x[base + (r + 1u) * pc.w + q] - v : 0.0;
    dh = q + 1u < pc.w ? x[base + r * pc.w + q + 1u] - v : 0.0;
    return pc.beta * pow(dv * dv + dh * dh + pc.eps, 0.5 * pc.beta - 1.0);
}

void main() {
    uint idx = cnv_global_index();
    if (idx >= pc.total) return;
    uint hw = pc.h * pc.w, base = idx / hw * hw, r = idx % hw / pc.w, q = idx % pc.w;
    float off = x[idx] - pc.center;
    float penalty = pc.l1 * sign(off) + pc.l2 * off;
    if (pc.tv != 0.0) {
        float dv, dh;
        float g = -tv_term(base, r, q, dv, dh) * (dv + dh);
        if (r > 0u) g += tv_term(base, r - 1u, q, dv, dh) * dv;
        if (q > 0u) g += tv_term(base, r, q - 1u, dv, dh) * dh;
        penalty += pc.tv * g;
    }
    dx[idx] += dy[idx] - penalty;
}
