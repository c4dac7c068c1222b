#version 450
#extension GL_GOOGLE_include_directive : require
// MaxPool backward to the input, as a gather: one invocation per input element adds dy of
// every output window whose switch selected it (dx += ...; with ASSIGN, from 0: dx holds no
// gradient yet), in increasing output order like the CPU kernel's scatter, so both give the same
// float sums. No atomics needed.
#include "common.glsl"
#include "pool.glsl"

layout(std430, binding = 0) readonly buffer S { int switches[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) buffer DX { float dx[]; };

// 1: fill unpooling (deconvnet): every window covering the element adds its dy, switch or not.
layout(constant_id = 3) const int FILL = 0;
layout(constant_id = 4) const bool ASSIGN = false;

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    uint plane_in = uint(pc.h * pc.w), plane_out = uint(pc.oh * pc.ow);
    int idx = int(i % plane_in);
    int iy = idx / pc.w, ix = idx % pc.w;
    uint base = (i / plane_in) * plane_out;
    float acc = ASSIGN ? 0.0 : dx[i];
    for (int ki = pc.kh - 1; ki >= 0; ki--) {
        int oy = pool_out_of_tap(iy, ki, pc.sh, pc.ph, pc.dh, pc.oh);
        if (oy < 0) continue;
        for (int kj = pc.kw - 1; kj >= 0; kj--) {
            int ox = pool_out_of_tap(ix, kj, pc.sw, pc.pw, pc.dw, pc.ow);
            if (ox < 0) continue;
            uint o = base + uint(oy * pc.ow + ox);
            if (FILL != 0 || switches[o] == idx) acc += dy[o];
        }
    }
    dx[i] = acc;
}
