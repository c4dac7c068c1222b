#version 450
#extension GL_GOOGLE_include_directive : require
// Binary elementwise ops backward to one input (constant 4: 0 = a, 1 = b; data or weight
// alike): each gradient element of that input gathers dy * df/d(input) over every output
// position broadcast from it (the whole output dim where its dim is 1 and the output's is not,
// else its own index) and adds the sum (ASSIGN: writes it), so no atomics.
#include "common.glsl"
#include "binary.glsl"

layout(constant_id = 4) const int WHICH = 0;
layout(constant_id = 5) const bool ASSIGN = false;

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) readonly buffer DY { float dy[]; };
layout(std430, binding = 3) buffer DX { float dx[]; };
layout(push_constant) uniform P { uint n; uint out_dims[R]; uint a_dims[R]; uint b_dims[R]; } pc;

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    uint own[R], o[R], rest = i, count = 1u;
    bool spread[R];
    [[unroll]] for (int k = R - 1; k >= 0; k--) {
        uint d = WHICH == 0 ? pc.a_dims[k] : pc.b_dims[k];
        spread[k] = d == 1u && pc.out_dims[k] != 1u;
        own[k] = spread[k] ? 0u : rest % d;
        rest /= d;
        if (spread[k]) count *= pc.out_dims[k];
    }
    float sum = 0.0;
    for (uint j = 0u; j < count; j++) {
        uint r = j;
        [[unroll]] for (int k = R - 1; k >= 0; k--) {
            o[k] = own[k];
            if (spread[k]) {
                o[k] = r % pc.out_dims[k];
                r /= pc.out_dims[k];
            }
        }
        uint at = 0u;
        [[unroll]] for (int k = 0; k < R; k++) at = at * pc.out_dims[k] + o[k];
        sum += dy[at] * binary_partial(WHICH, a[broadcast_index(o, pc.a_dims)], b[broadcast_index(o, pc.b_dims)]);
    }
    dx[i] = ASSIGN ? sum : dx[i] + sum;
}
