#version 450
#extension GL_GOOGLE_include_directive : require
// AveragePool forward: one invocation per output sums its in-input taps in row-major order
// and divides by pool_divisor (count_include_pad and ceil_mode rules of the CPU kernel).
#include "common.glsl"
#include "pool.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    uint plane_out = uint(pc.oh * pc.ow);
    int o = int(i % plane_out);
    int oy = o / pc.ow, ox = o % pc.ow;
    uint base = (i / plane_out) * uint(pc.h * pc.w);
    float sum = 0.0;
    for (int ki = 0; ki < pc.kh; ki++) {
        int iy = oy * pc.sh - pc.ph + ki * pc.dh;
        if (iy < 0 || iy >= pc.h) continue;
        for (int kj = 0; kj < pc.kw; kj++) {
            int ix = ox * pc.sw - pc.pw + kj * pc.dw;
            if (ix >= 0 && ix < pc.w) sum += x[base + uint(iy * pc.w + ix)];
        }
    }
    int d = pool_divisor(oy, ox);
    y[i] = d != 0 ? sum / float(d) : 0.0;
}
