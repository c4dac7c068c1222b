#version 450
#extension GL_GOOGLE_include_directive : require
// SquaredDistance forward (runtime/vulkan/sqdist.c): out[n] = alpha/2 * sum over item n of
// (x - t)^2, one line (line_reduce.glsl) per item. Each invocation sums its share in blocks of
// BLOCK values added to a running total, so a long line (an item can hold millions of values)
// loses far less to float rounding than one running sum would.
#include "common.glsl"
#include "line_reduce.glsl"

const uint BLOCK = 256;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer T { float t[]; };
layout(std430, binding = 2) writeonly buffer Out { float out_[]; };
layout(push_constant) uniform P { uint lines; uint len; float half_alpha; } pc;

void main() {
    uint line = line_index(), lane = line_lane();
    bool live = line < pc.lines;
    uint base = live ? line * pc.len : 0u, len = live ? pc.len : 0u;
    float total = 0.0;
    for (uint k0 = lane; k0 < len; k0 += LINE_THREADS * BLOCK) {
        uint end = min(len, k0 + LINE_THREADS * BLOCK);
        float block = 0.0;
        for (uint k = k0; k < end; k += LINE_THREADS) {
            float d = x[base + k] - t[base + k];
            block += d * d;
        }
        total += block;
    }
    float sum = line_reduce(total, false); // reached by every invocation: it holds barriers
    if (live && lane == 0u) out_[line] = pc.half_alpha * sum;
}
