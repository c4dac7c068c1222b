#version 450
#extension GL_GOOGLE_include_directive : require
// Copies n floats from x[src_offset..] to y[dst_offset..] (host writes inside recorded programs,
// reshapes).
#include "common.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint n; uint src_offset; uint dst_offset; } pc;

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    y[pc.dst_offset + i] = x[pc.src_offset + i];
}
