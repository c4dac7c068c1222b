#version 450
#extension GL_GOOGLE_include_directive : require
// Transpose: each invocation owns one destination element and reads its source through the
// permutation. Forward writes y; backward runs the same kernel with the inverse permutation
// from dy into dx, with ACCUMULATE (dx += ...), as every backward does.
#include "common.glsl"

layout(constant_id = 3) const bool ACCUMULATE = false;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Y { float y[]; };
layout(push_constant) uniform P {
    uint n;         // destination elements
    uint dim4[4];   // destination dims, viewed as 4-D (leading unit dims)
    uint step4[4];  // along each destination dim, the step of the source index
} pc;

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    uint rest = i, at = 0u;
    [[unroll]] for (int k = 3; k >= 0; k--) {
        at += (rest % pc.dim4[k]) * pc.step4[k];
        rest /= pc.dim4[k];
    }
    float v = x[at];
    if (ACCUMULATE) v += y[i];
    y[i] = v;
}
