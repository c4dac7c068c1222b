#version 450
#extension GL_GOOGLE_include_directive : require
// Resample backward to X, the exact adjoint as a gather: one invocation per input element sums
// dY over the output pixels whose sample point lies within distance < 1 of it in both axes.
// They lie in the preimage of the square p + (-1, 1)^2 under the sampling map: a parallelogram
// whose bounding box comes from the inverse of T's 2x2 part, widened by one pixel against
// rounding; a singular or non-finite T scans the whole output plane. Weights are recomputed
// exactly, so extra candidates add nothing.
#include "common.glsl"
#include "resample.glsl"

layout(std430, binding = 0) readonly buffer T { float tf[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) buffer DX { float dx[]; };

void load_transform(uint n, out float t[6]) {
    for (uint k = 0u; k < 6u; k++) t[k] = tf[6u * n + k];
}

// v clamped to [0, hi] and converted; NaN gives 0.
int clamp_index(float v, int hi) { return !(v > 0.0) ? 0 : !(v < float(hi)) ? hi : int(v); }

void main() {
    uint idx = cnv_global_index();
    if (idx >= pc.total) return;
    uint px = idx % pc.wi, py = (idx / pc.wi) % pc.hi, plane = idx / (pc.wi * pc.hi);
    float t[6];
    load_transform(plane / pc.c, t);
    int ho1 = int(pc.ho) - 1, wo1 = int(pc.wo) - 1;
    ivec4 win = ivec4(0, ho1, 0, wo1); // rows i0..i1, columns j0..j1
    float det = t[0] * t[4] - t[1] * t[3];
    if (abs(det) > 1e-20 && !isinf(det)) {
        float i00 = t[4] / det, i01 = -t[1] / det, i10 = -t[3] / det, i11 = t[0] / det;
        float ux = float(px) - t[2] - 0.5 * float(pc.wi - 1u), uy = float(py) - t[5] - 0.5 * float(pc.hi - 1u);
        float cx = i00 * ux + i01 * uy + 0.5 * float(pc.wo - 1u), cy = i10 * ux + i11 * uy + 0.5 * float(pc.ho - 1u);
        float ex = abs(i00) + abs(i01) + 1.0, ey = abs(i10) + abs(i11) + 1.0;
        win = ivec4(clamp_index(ceil(cy - ey), ho1), clamp_index(floor(cy + ey), ho1),
                    clamp_index(ceil(cx - ex), wo1), clamp_index(floor(cx + ex), wo1));
    }
    uint base = plane * pc.ho * pc.wo;
    float acc = 0.0;
    for (int i = win.x; i <= win.y; i++)
        for (int j = win.z; j <= win.w; j++) {
            vec2 s = sample_point(t, uint(i), uint(j));
            acc += tent(s.x - float(px)) * tent(s.y - float(py)) * dy[base + uint(i) * pc.wo + uint(j)];
        }
    dx[idx] += acc;
}
