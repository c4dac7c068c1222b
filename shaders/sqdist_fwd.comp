#version 450
#extension GL_GOOGLE_include_directive : require
// SquaredDistance forward (runtime/vulkan/sqdist.c): out[n] = alpha/2 * sum over item n of
// (x - t)^2, one line (line_reduce.glsl) per item. Each invocation sums its share in blocks of
// GROUPS * UNROLL values added to a running total, so a long line (an item can hold millions of
// values) loses far less to float rounding than one running sum would. The UNROLL values of a
// step are an unrolled loop: llvmpipe ends a shader after 65535 loop iterations in all (its
// LP_MAX_TGSI_LOOP_ITERATIONS), which one-value steps reach at 4M values per item on 64 lanes;
// unrolled steps reach it past 60M.
#include "common.glsl"
#include "line_reduce.glsl"

const uint UNROLL = 16;
const uint GROUPS = 16;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer T { float t[]; };
layout(std430, binding = 2) writeonly buffer Out { float out_[]; };
layout(push_constant) uniform P { uint lines; uint len; float half_alpha; } pc;

void main() {
    uint line = line_index(), lane = line_lane();
    bool live = line < pc.lines;
    uint base = live ? line * pc.len : 0u, len = live ? pc.len : 0u;
    const uint step = LINE_THREADS * UNROLL;
    float total = 0.0;
    for (uint b0 = lane; b0 < len; b0 += step * GROUPS) {
        uint end = min(len, b0 + step * GROUPS);
        float block = 0.0;
        for (uint k0 = b0; k0 < end; k0 += step) {
            [[unroll]] for (uint u = 0; u < UNROLL; u++) {
                uint k = k0 + u * LINE_THREADS;
                if (k < end) {
                    float d = x[base + k] - t[base + k];
                    block += d * d;
                }
            }
        }
        total += block;
    }
    float sum = line_reduce(total, false); // reached by every invocation: it holds barriers
    if (live && lane == 0u) out_[line] = pc.half_alpha * sum;
}
