#version 450
#extension GL_GOOGLE_include_directive : require
// Softmax backward to the input from the forward's output: dx += y * (dy - sum(dy * y)) along
// each line.
#include "common.glsl"
#include "softmax.glsl"

layout(std430, binding = 0) readonly buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) buffer DX { float dx[]; };

void main() {
    uint line = line_index(), lane = line_lane();
    bool live = line < pc.lines;
    uint base = live ? softmax_line_base(line) : 0u;
    float dot = 0.0;
    if (live)
        for (uint k = lane; k < pc.d; k += LINE_THREADS) dot += dy[base + k * pc.inner] * y[base + k * pc.inner];
    dot = line_reduce(dot, false);
    if (live)
        for (uint k = lane; k < pc.d; k += LINE_THREADS) {
            uint j = base + k * pc.inner;
            dx[j] += y[j] * (dy[j] - dot);
        }
}
