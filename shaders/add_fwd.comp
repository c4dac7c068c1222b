#version 450
#extension GL_GOOGLE_include_directive : require
// Add with numpy broadcasting: c = a + b over the 4-D output (shapes aligned on their last
// dimension, leading unit dims added). An input dim of 1 against a larger output dim is
// broadcast: its index stays 0 there.
#include "common.glsl"

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer C { float c[]; };
layout(push_constant) uniform P { uint n; uint out4[4]; uint a4[4]; uint b4[4]; } pc;

// Flat index into an input of dims in4 at output position o (broadcast dims read index 0).
uint broadcast_index(uint o[4], uint in4[4]) {
    uint at = 0;
    [[unroll]] for (int k = 0; k < 4; k++) at = at * in4[k] + (in4[k] == 1u ? 0u : o[k]);
    return at;
}

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    uint o[4], rest = i;
    [[unroll]] for (int k = 3; k >= 0; k--) {
        o[k] = rest % pc.out4[k];
        rest /= pc.out4[k];
    }
    c[i] = a[broadcast_index(o, pc.a4)] + b[broadcast_index(o, pc.b4)];
}
