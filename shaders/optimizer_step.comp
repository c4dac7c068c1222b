#version 450
#extension GL_GOOGLE_include_directive : require
// One optimizer step over n floats; hyper-parameters come from a buffer (core/optim.h slots)
// so a recorded program takes each step's values. KIND: 0 SGD with momentum, 1 Adam.
// Same arithmetic, in the same order, as runtime/cpu/optimizer.c.
#include "common.glsl"

layout(constant_id = 3) const int KIND = 1;

layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer G { float g[]; };
layout(std430, binding = 2) buffer M { float m[]; };
layout(std430, binding = 3) buffer V { float v[]; };
layout(std430, binding = 4) readonly buffer H { float hyper[]; };
layout(push_constant) uniform P { uint n; } pc;

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    float lr = hyper[0], b1 = hyper[1], wd = hyper[6];
    float gi = g[i] + wd * x[i]; // weight decay (core/optim.h CNV_HYPER_WD)
    if (KIND == 0) {
        m[i] = b1 * m[i] + gi;
        x[i] += lr * m[i];
        return;
    }
    float b2 = hyper[2], eps = hyper[3], c1 = hyper[4], c2 = hyper[5];
    m[i] = b1 * m[i] + (1.0 - b1) * gi;
    v[i] = b2 * v[i] + (1.0 - b2) * (gi * gi);
    x[i] += lr * (m[i] * c1) / (sqrt(v[i] * c2) + eps);
}
