#version 450
#extension GL_GOOGLE_include_directive : require
// MaxPool forward: one invocation per output. Padded cells never win; ties go to the first
// maximum in row-major window order; the switch is the argmax's flat index in its input plane
// (-1 with output 0 for a window entirely in the padding), the layout the CPU backend shares.
#include "common.glsl"
#include "pool.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(std430, binding = 2) writeonly buffer S { int switches[]; };

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    uint plane_out = uint(pc.oh * pc.ow);
    int o = int(i % plane_out);
    int oy = o / pc.ow, ox = o % pc.ow;
    uint base = (i / plane_out) * uint(pc.h * pc.w);
    int best = -1;
    float best_v = 0.0;
    for (int ki = 0; ki < pc.kh; ki++) {
        int iy = oy * pc.sh - pc.ph + ki * pc.dh;
        if (iy < 0 || iy >= pc.h) continue;
        for (int kj = 0; kj < pc.kw; kj++) {
            int ix = ox * pc.sw - pc.pw + kj * pc.dw;
            if (ix < 0 || ix >= pc.w) continue;
            int idx = iy * pc.w + ix;
            float v = x[base + uint(idx)];
            if (best < 0 || v > best_v) {
                best = idx;
                best_v = v;
            }
        }
    }
    y[i] = best_v;
    switches[i] = best;
}
