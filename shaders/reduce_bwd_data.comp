#version 450
#extension GL_GOOGLE_include_directive : require
// ReduceSum / ReduceMean / ReduceMax backward: each invocation owns one output element and adds
// its gradient into the inputs it combined (no two outputs share an input, so no atomics):
// dy, or dy / count, to each; ReduceMax's dy to its first maximum only.
#include "reduce.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) buffer DX { float dx[]; };

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n_out) return;
    const uint base = reduce_base(i);
    if (KIND == CNV_REDUCE_MAX) {
        uint best = base + reduce_at(0u);
        for (uint r = 1u; r < pc.count && !isnan(x[best]); r++) {
            uint at = base + reduce_at(r);
            if (x[at] > x[best] || isnan(x[at])) best = at;
        }
        dx[best] += dy[i];
        return;
    }
    const float g = KIND == CNV_REDUCE_MEAN ? dy[i] / float(pc.count) : dy[i];
    for (uint r = 0u; r < pc.count; r++) dx[base + reduce_at(r)] += g;
}
