#version 450
#extension GL_GOOGLE_include_directive : require
// Gaussian blur with clamped edges (runtime/cpu/blur.c has the definition), forward or, with
// ADJOINT, its exact adjoint accumulated into the input gradient. One invocation per element it
// writes, gathering over the (2r+1)^2 window around it: along a line of n pixels, output p
// reads pixel q with weight F(p, q) = the sum of the taps k with clamp(p + k) = q, so an edge
// pixel also carries the taps clamped onto it; the adjoint gathers with F(q, p).
#include "common.glsl"

layout(constant_id = 3) const bool ADJOINT = false;

layout(std430, binding = 0) readonly buffer Src { float src[]; };
layout(std430, binding = 1) buffer Dst { float dst[]; };
layout(push_constant) uniform P {
    uint n;               // elements (N C H W)
    int H, W, r;          // plane size, tap radius
    float inv_two_sigma2; // 1 / (2 sigma^2); 0 with r = 0
    float inv_total;      // 1 / sum of the unnormalized taps
} pc;

float tap(int k) { return exp(-float(k * k) * pc.inv_two_sigma2) * pc.inv_total; }

// F(p, q) on a line of n pixels.
float clamped_weight(int p, int q, int n) {
    int lo = q == 0 ? -pc.r : q - p, hi = q == n - 1 ? pc.r : q - p;
    float w = 0.0;
    for (int k = lo; k <= hi; k++) w += tap(k);
    return w;
}

float line_weight(int at, int other, int n) {
    return ADJOINT ? clamped_weight(other, at, n) : clamped_weight(at, other, n);
}

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    int w = int(i % uint(pc.W)), h = int((i / uint(pc.W)) % uint(pc.H));
    uint plane = i - uint(h * pc.W + w);
    float acc = 0.0;
    for (int y = max(0, h - pc.r); y <= min(pc.H - 1, h + pc.r); y++) {
        float row = 0.0;
        for (int x = max(0, w - pc.r); x <= min(pc.W - 1, w + pc.r); x++)
            row += line_weight(w, x, pc.W) * src[plane + uint(y * pc.W + x)];
        acc += line_weight(h, y, pc.H) * row;
    }
    if (ADJOINT) dst[i] += acc;
    else dst[i] = acc;
}
