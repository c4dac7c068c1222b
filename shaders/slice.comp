#version 450
#extension GL_GOOGLE_include_directive : require
// Slice: the output is a strided window of the input. Each invocation owns one output element
// and finds its input element from the window's base and per-dim signed steps. Forward copies
// x's element into y; backward (SCATTER) adds dy's element into dx's (distinct dx elements,
// since no step is 0, so no two invocations write the same one).
#include "common.glsl"
#include "limits.h"

layout(constant_id = 3) const bool SCATTER = false;

layout(std430, binding = 0) readonly buffer From { float from_[]; }; // x, or dy when scattering
layout(std430, binding = 1) buffer To { float to_[]; };              // y, or dx when scattering
layout(push_constant) uniform P {
    uint n;                  // output elements
    int base;                // input offset of the window's first element
    uint dims[CNV_MAX_DIMS]; // output dims, leading unit dims added
    int steps[CNV_MAX_DIMS]; // along each output dim, the step of the input offset
} pc;

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    uint rest = i;
    int at = pc.base;
    [[unroll]] for (int k = CNV_MAX_DIMS - 1; k >= 0; k--) {
        at += int(rest % pc.dims[k]) * pc.steps[k];
        rest /= pc.dims[k];
    }
    if (SCATTER)
        to_[at] += from_[i];
    else
        to_[i] = from_[at];
}
