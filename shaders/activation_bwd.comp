#version 450
#extension GL_GOOGLE_include_directive : require
// Elementwise activations backward to the input: dx += dy * f'(x), with f' from x and y.
#include "common.glsl"
#include "activation.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Y { float y[]; };
layout(std430, binding = 2) readonly buffer DY { float dy[]; };
layout(std430, binding = 3) buffer DX { float dx[]; };
layout(push_constant) uniform P { uint n; float p0; float p1; } pc;

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    dx[i] += dy[i] * act_derivative(x[i], y[i], pc.p0, pc.p1);
}
