#version 450
#extension GL_GOOGLE_include_directive : require
// Softmax forward, numerically stable: y = exp(x - max) / sum exp(x - max) along each line.
#include "common.glsl"
#include "softmax.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };

void main() {
    uint line = line_index(), lane = line_lane();
    bool live = line < pc.lines;
    uint base = live ? softmax_line_base(line) : 0u;
    // Every lane starts from the line's first value (max is idempotent), so a lane without
    // values of its own needs no -infinity.
    float m = live ? x[base] : 0.0;
    if (live)
        for (uint k = lane; k < pc.d; k += LINE_THREADS) m = max(m, x[base + k * pc.inner]);
    m = line_reduce(m, true);
    float sum = 0.0;
    if (live)
        for (uint k = lane; k < pc.d; k += LINE_THREADS) sum += exp(x[base + k * pc.inner] - m);
    sum = line_reduce(sum, false);
    if (live)
        for (uint k = lane; k < pc.d; k += LINE_THREADS) y[base + k * pc.inner] = exp(x[base + k * pc.inner] - m) / sum;
}
