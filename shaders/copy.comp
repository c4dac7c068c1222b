#version 450
#extension GL_GOOGLE_include_directive : require
// y[dst_offset + i] = x[src_offset + i] for i < n (host writes inside recorded programs,
// Flatten/Reshape/Dropout forward); with ACCUMULATE, y[...] += x[...] instead (their backward).
#include "common.glsl"

layout(constant_id = 3) const bool ACCUMULATE = false;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Y { float y[]; };
layout(push_constant) uniform P { uint n; uint src_offset; uint dst_offset; } pc;

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    float v = x[pc.src_offset + i];
    if (ACCUMULATE) v += y[pc.dst_offset + i];
    y[pc.dst_offset + i] = v;
}
