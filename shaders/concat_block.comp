#version 450
#extension GL_GOOGLE_include_directive : require
// Concat moves one input's share of every outer slice: `outer` blocks of `block` floats,
// src[src_offset + s*src_stride + j] to dst[dst_offset + s*dst_stride + j]. Forward copies an
// input into its place in the output; backward (ACCUMULATE) adds the output gradient's share
// into the input gradient.
#include "common.glsl"

layout(constant_id = 3) const bool ACCUMULATE = false;

layout(std430, binding = 0) readonly buffer Src { float src[]; };
layout(std430, binding = 1) buffer Dst { float dst[]; };
layout(push_constant) uniform P {
    uint n; // outer * block
    uint block;
    uint src_offset, src_stride;
    uint dst_offset, dst_stride;
} pc;

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    uint s = i / pc.block, j = i - s * pc.block;
    float v = src[pc.src_offset + s * pc.src_stride + j];
    uint at = pc.dst_offset + s * pc.dst_stride + j;
    if (ACCUMULATE) v += dst[at];
    dst[at] = v;
}
