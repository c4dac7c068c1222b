#version 450
#extension GL_GOOGLE_include_directive : require
// LRN forward: y_c = x_c * s_c^-beta, one invocation per element.
#include "common.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };

#include "lrn.glsl"

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    uint col;
    int ch;
    lrn_locate(i, col, ch);
    y[i] = x[i] * pow(lrn_scale(col, ch), -pc.beta);
}
