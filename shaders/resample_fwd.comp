#version 450
#extension GL_GOOGLE_include_directive : require
// Resample forward: one invocation per output element gathers its (up to) four input taps.
#include "common.glsl"
#include "resample.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer T { float tf[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };

void load_transform(uint n, out float t[6]) {
    for (uint k = 0u; k < 6u; k++) t[k] = tf[6u * n + k];
}

void main() {
    uint idx = cnv_global_index();
    if (idx >= pc.total) return;
    uint j = idx % pc.wo, i = (idx / pc.wo) % pc.ho, plane = idx / (pc.wo * pc.ho);
    float t[6];
    load_transform(plane / pc.c, t);
    vec2 s = sample_point(t, i, j), f = floor(s);
    uint base = plane * pc.hi * pc.wi;
    float v = 0.0;
    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++) {
            vec2 p = f + vec2(dx, dy);
            // In float first: f may be far outside any int range.
            if (!(p.x >= 0.0 && p.x < float(pc.wi) && p.y >= 0.0 && p.y < float(pc.hi))) continue;
            v += tent(s.x - p.x) * tent(s.y - p.y) * x[base + uint(p.y) * pc.wi + uint(p.x)];
        }
    y[idx] = v;
}
