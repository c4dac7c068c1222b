#version 450
#extension GL_GOOGLE_include_directive : require
// GradNorm backward (runtime/cpu/regularize.c has the definition), one line per batch item
// (line_reduce.glsl): with clip_mode 0, dx += dy / (mean of |dy| over the item + eps), the mean
// reduced in shared memory by the line's invocations; with clip_mode 1, dx += clamp(dy, -clip,
// clip). clip_mode is uniform, so every invocation still reaches the reduction's barriers.
#include "common.glsl"
#include "line_reduce.glsl"

layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) buffer DX { float dx[]; };
layout(push_constant) uniform P { uint lines; uint len; uint clip_mode; float clip; float eps; } pc;

void main() {
    uint line = line_index(), lane = line_lane();
    bool live = line < pc.lines;
    uint base = live ? line * pc.len : 0u;
    if (pc.clip_mode != 0u) {
        if (live)
            for (uint k = lane; k < pc.len; k += LINE_THREADS) dx[base + k] += clamp(dy[base + k], -pc.clip, pc.clip);
        return;
    }
    float sum = 0.0;
    if (live)
        for (uint k = lane; k < pc.len; k += LINE_THREADS) sum += abs(dy[base + k]);
    float denom = line_reduce(sum, false) / float(pc.len) + pc.eps;
    if (live)
        for (uint k = lane; k < pc.len; k += LINE_THREADS) dx[base + k] += dy[base + k] / denom;
}
