#version 450
#extension GL_GOOGLE_include_directive : require
// Resize backward to the input, as a gather (no atomics): each input element sums dy times its
// weight over the outputs whose taps include it. Along an axis tap lo is non-decreasing in o
// and hi is lo + 1 or lo, so the outputs reading index s are those with lo in [s - 1, s]
// (nearest: lo == s), one contiguous range found by binary search.
#include "common.glsl"
#include "resize.glsl"

layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) buffer DX { float dx[]; };

// The first output index o in [0, out_n] whose tap lo is >= v.
int first_lo_at_least(int v, float scale, int in_n, int out_n) {
    int a = 0, b = out_n;
    while (a < b) {
        int m = (a + b) / 2;
        if (tap_of(m, scale, in_n, out_n).lo >= v) b = m;
        else a = m + 1;
    }
    return a;
}

// The weight input index s has in output o's interpolation along one axis.
float weight_of(tap t, int s) { return (t.lo == s ? 1.0 - t.w : 0.0) + (t.hi == s ? t.w : 0.0); }

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    int sx = int(i % uint(pc.w)), sy = int((i / uint(pc.w)) % uint(pc.h));
    uint plane = i / uint(pc.w * pc.h);
    int below = MODE == CNV_RESIZE_NEAREST ? 0 : 1;
    int y0 = first_lo_at_least(sy - below, pc.scale_h, pc.h, pc.oh), y1 = first_lo_at_least(sy + 1, pc.scale_h, pc.h, pc.oh);
    int x0 = first_lo_at_least(sx - below, pc.scale_w, pc.w, pc.ow), x1 = first_lo_at_least(sx + 1, pc.scale_w, pc.w, pc.ow);
    float sum = 0.0;
    for (int oy = y0; oy < y1; oy++) {
        float wy = weight_of(tap_of(oy, pc.scale_h, pc.h, pc.oh), sy);
        if (wy == 0.0) continue;
        uint row = (plane * uint(pc.oh) + uint(oy)) * uint(pc.ow);
        float acc = 0.0;
        for (int ox = x0; ox < x1; ox++) acc += weight_of(tap_of(ox, pc.scale_w, pc.w, pc.ow), sx) * dy[row + ox];
        sum += wy * acc;
    }
    dx[i] += sum;
}
