#version 450
#extension GL_GOOGLE_include_directive : require
// Elementwise activations forward: y = f(x). The op is a specialization constant, so
// Relu, LeakyRelu, Clip, Sigmoid, Tanh and Elu share one kernel.
#include "common.glsl"
#include "activation.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint n; float p0; float p1; } pc;

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    y[i] = act_forward(x[i], pc.p0, pc.p1);
}
