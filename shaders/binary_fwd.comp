#version 450
#extension GL_GOOGLE_include_directive : require
// Binary elementwise ops forward with numpy broadcasting: c = f(a, b) over the output (the
// function from binary.glsl, specialization constant 3).
#include "common.glsl"
#include "binary.glsl"

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer C { float c[]; };
layout(push_constant) uniform P { uint n; uint out_dims[R]; uint a_dims[R]; uint b_dims[R]; } pc;

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    uint o[R], rest = i;
    [[unroll]] for (int k = R - 1; k >= 0; k--) {
        o[k] = rest % pc.out_dims[k];
        rest /= pc.out_dims[k];
    }
    c[i] = binary_value(a[broadcast_index(o, pc.a_dims)], b[broadcast_index(o, pc.b_dims)]);
}
