#version 450
#extension GL_GOOGLE_include_directive : require
// Transpose: each invocation owns one destination element and reads its source through the
// permutation. Forward writes y; backward runs the same kernel with the inverse permutation
// from dy into dx, with ACCUMULATE (dx += ...), as every backward does.
#include "common.glsl"
#include "limits.h"

layout(constant_id = 3) const bool ACCUMULATE = false;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Y { float y[]; };
layout(push_constant) uniform P {
    uint n;         // destination elements
    uint dims[CNV_MAX_DIMS];  // destination dims, leading unit dims added
    uint steps[CNV_MAX_DIMS]; // along each destination dim, the step of the source index
} pc;

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    uint rest = i, at = 0u;
    [[unroll]] for (int k = CNV_MAX_DIMS - 1; k >= 0; k--) {
        at += (rest % pc.dims[k]) * pc.steps[k];
        rest /= pc.dims[k];
    }
    float v = x[at];
    if (ACCUMULATE) v += y[i];
    y[i] = v;
}
