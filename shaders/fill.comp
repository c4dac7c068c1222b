#version 450
#extension GL_GOOGLE_include_directive : require
// Sets n floats to a value (zeroing gradients, buffers of constants).
#include "common.glsl"

layout(std430, binding = 0) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint n; float value; } pc;

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    y[i] = pc.value;
}
