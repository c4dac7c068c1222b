#version 450
#extension GL_GOOGLE_include_directive : require
// SquaredDistance backward (runtime/vulkan/sqdist.c): dx += dout[n] * alpha * (x - t), one
// invocation per element of X, n its batch item.
#include "common.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer T { float t[]; };
layout(std430, binding = 2) readonly buffer DOut { float dout[]; };
layout(std430, binding = 3) buffer DX { float dx[]; };
layout(push_constant) uniform P { uint total; uint len; float alpha; } pc;

void main() {
    uint i = cnv_global_index();
    if (i >= pc.total) return;
    dx[i] += dout[i / pc.len] * pc.alpha * (x[i] - t[i]);
}
