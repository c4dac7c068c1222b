#version 450
#extension GL_GOOGLE_include_directive : require
// Resize forward: one invocation per output element, the product of its row's and column's taps.
#include "common.glsl"
#include "resize.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    int ox = int(i % uint(pc.ow)), oy = int((i / uint(pc.ow)) % uint(pc.oh));
    uint plane = i / uint(pc.ow * pc.oh);
    tap ty = tap_of(oy, pc.scale_h, pc.h, pc.oh), tx = tap_of(ox, pc.scale_w, pc.w, pc.ow);
    uint r0 = (plane * uint(pc.h) + uint(ty.lo)) * uint(pc.w), r1 = (plane * uint(pc.h) + uint(ty.hi)) * uint(pc.w);
    float top = x[r0 + tx.lo] + tx.w * (x[r0 + tx.hi] - x[r0 + tx.lo]);
    float bottom = x[r1 + tx.lo] + tx.w * (x[r1 + tx.hi] - x[r1 + tx.lo]);
    y[i] = top + ty.w * (bottom - top);
}
