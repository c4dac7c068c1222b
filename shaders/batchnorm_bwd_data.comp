#version 450
#extension GL_GOOGLE_include_directive : require
// BatchNormalization backward to X: dx += dy * scale[c].
#include "common.glsl"
#include "batchnorm.glsl"

layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) readonly buffer Scale { float scale[]; };
layout(std430, binding = 2) buffer DX { float dx[]; };

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    dx[i] += dy[i] * scale[channel_of(i)];
}
