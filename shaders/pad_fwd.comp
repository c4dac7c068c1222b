#version 450
#extension GL_GOOGLE_include_directive : require
// Pad forward: each output element reads its source element, or the constant.
#include "common.glsl"
#include "pad.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };

// Source index along one dim for output index o, or -1 where the constant fills in.
int source_index(int o, int begin, int d) {
    int s = o - begin;
    if (s >= 0 && s < d) return s;
    if (MODE == PAD_CONSTANT) return -1;
    if (extends_edge(d)) return s < 0 ? 0 : d - 1;
    int p = reflect_period(d);
    s = positive_mod(s, p);
    return s < d ? s : p - s;
}

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    int o[4];
    unflatten(i, pc.out4, o);
    int at = 0;
    bool inside = true;
    [[unroll]] for (int k = 0; k < 4; k++) {
        int s = source_index(o[k], pc.begin4[k], pc.in4[k]);
        inside = inside && s >= 0;
        at = at * pc.in4[k] + s;
    }
    y[i] = inside ? x[at] : pc.value;
}
