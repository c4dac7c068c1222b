#version 450
#extension GL_GOOGLE_include_directive : require
// Pad backward to the input, as a gather: each input element sums dy over every output
// position that reads it, then adds the sum (dx += Σ dy). Along one dim the output indices
// reading source s form at most two arithmetic progressions: one index (constant), one range
// (edge), or s and its mirror image repeated every period (reflect). The positions reading an
// element are the product of its dims' progressions.
#include "common.glsl"
#include "pad.glsl"

layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) buffer DX { float dx[]; };

// Output indices of one dim that read source s: first[j] + t * step for t < count[j], j = 0, 1.
struct preimage {
    int first[2];
    int count[2];
    int step;
};

// Indices congruent to r modulo step within [0, out).
void progression(int r, int step, int out_n, inout preimage pre, int j) {
    pre.first[j] = positive_mod(r, step);
    pre.count[j] = pre.first[j] < out_n ? (out_n - 1 - pre.first[j]) / step + 1 : 0;
}

preimage dim_preimage(int s, int begin, int d, int out_n) {
    preimage pre;
    pre.first[0] = pre.first[1] = 0;
    pre.count[0] = pre.count[1] = 0;
    pre.step = 1;
    if (MODE == PAD_CONSTANT) {
        int o = s + begin;
        pre.first[0] = o;
        pre.count[0] = (o >= 0 && o < out_n) ? 1 : 0;
    } else if (extends_edge(d)) {
        int lo = s == 0 ? 0 : s + begin, hi = s == d - 1 ? out_n - 1 : s + begin;
        lo = max(lo, 0);
        hi = min(hi, out_n - 1);
        pre.first[0] = lo;
        pre.count[0] = max(hi - lo + 1, 0);
    } else {
        pre.step = reflect_period(d);
        progression(begin + s, pre.step, out_n, pre, 0);
        // s and period - s coincide at the two edges: count those once.
        if (s > 0 && s < d - 1) progression(begin - s, pre.step, out_n, pre, 1);
    }
    return pre;
}

int count_of(preimage pre) { return pre.count[0] + pre.count[1]; }

// The t-th output index of a preimage, t < count_of(pre).
int index_of(preimage pre, int t) {
    return t < pre.count[0] ? pre.first[0] + t * pre.step : pre.first[1] + (t - pre.count[0]) * pre.step;
}

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    int s[4];
    unflatten(i, pc.in4, s);
    preimage pre[4];
    [[unroll]] for (int k = 0; k < 4; k++) pre[k] = dim_preimage(s[k], pc.begin4[k], pc.in4[k], pc.out4[k]);
    float sum = 0.0;
    for (int t0 = 0; t0 < count_of(pre[0]); t0++) {
        int o0 = index_of(pre[0], t0);
        for (int t1 = 0; t1 < count_of(pre[1]); t1++) {
            int o01 = o0 * pc.out4[1] + index_of(pre[1], t1);
            for (int t2 = 0; t2 < count_of(pre[2]); t2++) {
                int row = (o01 * pc.out4[2] + index_of(pre[2], t2)) * pc.out4[3];
                for (int t3 = 0; t3 < count_of(pre[3]); t3++) sum += dy[row + index_of(pre[3], t3)];
            }
        }
    }
    dx[i] += sum;
}
