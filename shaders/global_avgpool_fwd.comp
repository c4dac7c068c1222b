#version 450
#extension GL_GOOGLE_include_directive : require
// GlobalAveragePool forward: the mean of each plane, a line reduction (line_reduce.glsl) with
// LINE_THREADS invocations per plane. (The backward is avgpool_bwd_data with the whole plane
// as the kernel.)
#include "common.glsl"
#include "line_reduce.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint planes; uint plane; } pc;

void main() {
    uint p = line_index(), lane = line_lane();
    float sum = 0.0;
    if (p < pc.planes)
        for (uint k = lane; k < pc.plane; k += LINE_THREADS) sum += x[p * pc.plane + k];
    sum = line_reduce(sum, false);
    if (p < pc.planes && lane == 0) y[p] = sum / float(pc.plane);
}
