#version 450
#extension GL_GOOGLE_include_directive : require
// AveragePool (and GlobalAveragePool: kernel = the whole plane) backward to the input, as a
// gather: one invocation per input element adds dy / divisor of every window that holds it
// (dx += ...; with ASSIGN, from 0: dx holds no gradient yet), in increasing output order like
// the CPU kernel's scatter.
#include "common.glsl"
#include "pool.glsl"

layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) buffer DX { float dx[]; };
layout(constant_id = 3) const bool ASSIGN = false;

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
            // A window holding an input cell has at least that tap: the divisor is positive.
            acc += dy[base + uint(oy * pc.ow + ox)] / float(pool_divisor(oy, ox));
        }
    }
    dx[i] = acc;
}
