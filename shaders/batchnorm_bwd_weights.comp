#version 450
#extension GL_GOOGLE_include_directive : require
// BatchNormalization backward to scale and shift: one workgroup per channel c sums, over the
// batch and the inner positions, dy * x (into dscale[c]) and dy (into dshift[c]): each
// invocation strides over the channel's elements, then the workgroup reduces in shared memory.
// WANT_SCALE / WANT_SHIFT (constants 3, 4) say which gradient is bound; an absent one is the
// backend's small placeholder and must not be written.
#include "common.glsl"
#include "batchnorm.glsl"

layout(constant_id = 3) const bool WANT_SCALE = true;
layout(constant_id = 4) const bool WANT_SHIFT = true;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) buffer DScale { float dscale[]; };
layout(std430, binding = 3) buffer DShift { float dshift[]; };

shared float part_scale[gl_WorkGroupSize.x];
shared float part_shift[gl_WorkGroupSize.x];

void main() {
    // Channels beyond maxComputeWorkGroupCount[0] fold into y; whole workgroups leave together.
    uint c = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (c >= pc.channels) return;
    uint t = gl_LocalInvocationID.x, per_channel = pc.n / pc.channels;
    float gx = 0.0, gs = 0.0;
    for (uint e = t; e < per_channel; e += gl_WorkGroupSize.x) {
        uint batch = e / pc.inner, i = (batch * pc.channels + c) * pc.inner + (e - batch * pc.inner);
        gx += dy[i] * x[i];
        gs += dy[i];
    }
    part_scale[t] = gx;
    part_shift[t] = gs;
    barrier();
    // Pairwise halving that also handles workgroup sizes that are not powers of two.
    for (uint remaining = gl_WorkGroupSize.x; remaining > 1u;) {
        uint half_n = (remaining + 1u) / 2u;
        if (t + half_n < remaining) {
            part_scale[t] += part_scale[t + half_n];
            part_shift[t] += part_shift[t + half_n];
        }
        barrier();
        remaining = half_n;
    }
    if (t != 0u) return;
    if (WANT_SCALE) dscale[c] += part_scale[0];
    if (WANT_SHIFT) dshift[c] += part_shift[0];
}
