/* Resample: affine bilinear resampling with zeros outside the input. Output pixel (i, j) of
 * item n samples the input at
 *     sx = T0*x + T1*y + T2 + (Wi-1)/2,   sy = T3*x + T4*y + T5 + (Hi-1)/2,
 *     x = j - (Wo-1)/2,  y = i - (Ho-1)/2   (both frames centred),
 * with T = in[1][n*6 .. n*6+5]. Bilinear interpolation weighs input pixel (py, px) by the tent
 * tent(sx - px) * tent(sy - py), tent(d) = max(0, 1 - |d|), so taps outside the input simply
 * add nothing. T is a constant of the graph: it is never differentiated (grad_in[1] is left
 * alone).
 *
 * The backward to X is the exact adjoint in scatter form: each output pixel adds its dY, with
 * the same four weights, onto the taps its forward read. Forward and backward share one walk, so
 * they agree on the taps by construction. (The GPU gathers instead, shaders/resample_bwd_data.comp,
 * to avoid atomics; here one thread owns a whole plane, so scattering is safe and needs one
 * sample point per output pixel instead of one per pixel of a bounding box per channel.) */
#include "cpu_ops.h"

#include "core/status.h"

#include <math.h>

typedef struct resample_dims {
    int n, c, hi, wi, ho, wo;
} resample_dims;

static cnv_status resample_dims_of(const cnv_cpu_args *a, resample_dims *d) {
    const cnv_shape *x = &a->in_shape[0], *t = &a->in_shape[1], *y = &a->out_shape;
    *d = (resample_dims){0}; /* written on every path; callers read it only on success */
    if (a->n_in != 2 || x->ndim != 4 || y->ndim != 4 || t->ndim != 2 || t->d[0] != x->d[0] || t->d[1] != 6 ||
        y->d[0] != x->d[0] || y->d[1] != x->d[1])
        return cnv_fail(CNV_ERR_SHAPE, "%s: Resample needs X [N,C,H,W], T [N,6] and a [N,C,Ho,Wo] output",
                        a->node->name);
    *d = (resample_dims){x->d[0], x->d[1], x->d[2], x->d[3], y->d[2], y->d[3]};
    return CNV_OK;
}

/* max(0, 1 - |dist|), spelled as a select: fmaxf is a libm call outside -ffast-math, two per tap,
 * and the taps' loop took two thirds of Resample's time (perf). */
static float tent(float dist) {
    const float v = 1.0f - fabsf(dist);
    return v > 0.0f ? v : 0.0f;
}

typedef enum { SAMPLE, SPREAD } walk_direction;

/* Output columns whose taps are worked out at once (on the stack: 12 KiB). */
#define TAP_BLOCK 256

/* The four taps around the sample points of output pixels (i, j0 .. j0 + n): tap[q][k] the index
 * in the plane of tap q (dy = q / 2, dx = q % 2) of pixel j0 + k and weight[q][k] its weight,
 * 0 where the tap lies outside the input (its index is then 0, any index in the plane would do).
 * Without branches, and with what it reads in locals, so that GCC vectorizes it: it does where
 * floorf may not trap (this file is compiled with -fno-trapping-math, CMakeLists.txt), which took
 * SqueezeNet batch 8's Resample from 5.4 to 1.5-1.9 ms forward. fx, fy may be far outside any
 * int range, so they are compared in float before converting. The sample point is the shaders' expression (shaders/resample.glsl).
 * Worked out once per block of a row rather than per pixel and plane, with the applying loops
 * below free of tests: SqueezeNet batch 8's Resample 7.3-7.7 -> 4.8-5.1 ms forward, 8.2 -> 5.3 ms
 * backward. */
CNV_CPU_CLONES static void block_taps(const float *t, const resample_dims *d, int i, int j0, int n,
                                      size_t (*restrict tap)[TAP_BLOCK], float (*restrict weight)[TAP_BLOCK]) {
    const float t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3], t4 = t[4], t5 = t[5];
    const float y = (float)i - 0.5f * (float)(d->ho - 1), half_wo = 0.5f * (float)(d->wo - 1);
    const float cx = 0.5f * (float)(d->wi - 1), cy = 0.5f * (float)(d->hi - 1), wi = (float)d->wi, hi = (float)d->hi;
    const size_t stride = (size_t)d->wi;
    for (int k = 0; k < n; k++) {
        const float x = (float)(j0 + k) - half_wo;
        const float sx = t0 * x + t1 * y + t2 + cx, sy = t3 * x + t4 * y + t5 + cy;
        const float fx = floorf(sx), fy = floorf(sy);
        for (int q = 0; q < 4; q++) {
            const float px = fx + (float)(q % 2), py = fy + (float)(q / 2);
            const int inside = (px >= 0.0f) & (px < wi) & (py >= 0.0f) & (py < hi); /* no short cut: no branch */
            weight[q][k] = inside ? tent(sx - px) * tent(sy - py) : 0.0f;
            tap[q][k] = (size_t)(inside ? py : 0.0f) * stride + (size_t)(inside ? px : 0.0f);
        }
    }
}

/* Planes of one item (they share its transform): channels [0, planes) at x and y, one plane
 * apart. SAMPLE: y[i, j] = the sum of weight * x[tap] (the taps in order, from 0). SPREAD:
 * x[tap] += weight * y[i, j]. Taps outside the input weigh 0, which adds exactly nothing. Each
 * block of a row's taps is worked out once and applied to every plane. */
CNV_CPU_CLONES static void planes_walk(const float *t, const resample_dims *d, walk_direction dir, float *x, float *y,
                                       int planes) {
    const size_t in_plane = (size_t)d->hi * d->wi, out_plane = (size_t)d->ho * d->wo;
    size_t tap[4][TAP_BLOCK];
    float weight[4][TAP_BLOCK];
    for (int i = 0; i < d->ho; i++)
        for (int j0 = 0; j0 < d->wo; j0 += TAP_BLOCK) {
            const int n = d->wo - j0 < TAP_BLOCK ? d->wo - j0 : TAP_BLOCK;
            block_taps(t, d, i, j0, n, tap, weight);
            for (int c = 0; c < planes; c++) {
                float *xc = x + c * in_plane, *out = y + c * out_plane + (size_t)i * d->wo + j0;
                if (dir == SAMPLE)
                    for (int k = 0; k < n; k++)
                        out[k] = 0.0f + weight[0][k] * xc[tap[0][k]] + weight[1][k] * xc[tap[1][k]] +
                                 weight[2][k] * xc[tap[2][k]] + weight[3][k] * xc[tap[3][k]];
                else
                    for (int k = 0; k < n; k++)
                        for (int q = 0; q < 4; q++) xc[tap[q][k]] += weight[q][k] * out[k];
            }
        }
}

typedef struct walk_job {
    const float *t;
    const resample_dims *d;
    walk_direction dir;
    float *x, *y;
} walk_job;

/* Planes [lo, hi), taken an item's run of channels at a time. */
static void walk_range(void *ctx, size_t lo, size_t hi) {
    const walk_job *j = ctx;
    const size_t c = (size_t)j->d->c;
    for (size_t p = lo; p < hi;) {
        const size_t item = p / c, next = (item + 1) * c < hi ? (item + 1) * c : hi;
        planes_walk(j->t + item * 6, j->d, j->dir, j->x + p * j->d->hi * j->d->wi, j->y + p * j->d->ho * j->d->wo,
                    (int)(next - p));
        p = next;
    }
}

/* Every plane of the batch, threaded over planes (each thread writes only its own). An output
 * pixel costs about as much as eight floats of an element-wise loop. */
static void walk_planes(const cnv_cpu_args *a, const resample_dims *d, walk_direction dir, float *x, float *y) {
    walk_job job = {a->in[1], d, dir, x, y};
    cnv_cpu_parallel((size_t)d->n * d->c, cnv_cpu_min_items((size_t)d->ho * d->wo * 8), walk_range, &job);
}

cnv_status cnv_cpu_resample_forward(const cnv_cpu_args *a) {
    resample_dims d;
    CNV_TRY(resample_dims_of(a, &d));
    walk_planes(a, &d, SAMPLE, (float *)a->in[0], a->out); /* sampling only reads x */
    return CNV_OK;
}

cnv_status cnv_cpu_resample_backward(const cnv_cpu_args *a) {
    resample_dims d;
    CNV_TRY(resample_dims_of(a, &d));
    if (!a->grad_in[0]) return CNV_OK;
    walk_planes(a, &d, SPREAD, a->grad_in[0], (float *)a->grad_out); /* spreading only reads dy */
    return CNV_OK;
}
