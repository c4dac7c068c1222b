#version 450
#extension GL_GOOGLE_include_directive : require
// BatchNormalization forward: y = x * scale[c] + shift[c].
#include "common.glsl"
#include "batchnorm.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Scale { float scale[]; };
layout(std430, binding = 2) readonly buffer Shift { float shift[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    uint c = channel_of(i);
    y[i] = x[i] * scale[c] + shift[c];
}
