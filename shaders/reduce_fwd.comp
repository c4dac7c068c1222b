#version 450
#extension GL_GOOGLE_include_directive : require
// ReduceSum / ReduceMean / ReduceMax forward: each invocation combines the inputs of one output
// element. ReduceMax keeps the first maximum (a NaN wins), as runtime/cpu/reduce.c does.
#include "reduce.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n_out) return;
    const uint base = reduce_base(i);
    float acc = x[base + reduce_at(0u)];
    for (uint r = 1u; r < pc.count; r++) {
        float v = x[base + reduce_at(r)];
        if (KIND == CNV_REDUCE_MAX) {
            if (isnan(acc)) break;
            if (v > acc || isnan(v)) acc = v;
        } else {
            acc += v;
        }
    }
    if (KIND == CNV_REDUCE_MEAN) acc /= float(pc.count);
    y[i] = acc;
}
