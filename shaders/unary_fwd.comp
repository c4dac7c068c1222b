#version 450
#extension GL_GOOGLE_include_directive : require
// Unary elementwise ops forward: y = f(x). The op is a specialization constant, so every
// unary op (unary.glsl) shares this kernel.
#include "common.glsl"
#include "unary.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint n; float p0; float p1; } pc;

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    y[i] = unary_value(x[i], pc.p0, pc.p1);
}
