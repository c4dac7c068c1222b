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

/* Sample point of output pixel (i, j) under transform t (same float expression as the shaders). */
static void sample_point(const float *t, const resample_dims *d, int i, int j, float *sx, float *sy) {
    const float x = (float)j - 0.5f * (float)(d->wo - 1), y = (float)i - 0.5f * (float)(d->ho - 1);
    *sx = t[0] * x + t[1] * y + t[2] + 0.5f * (float)(d->wi - 1);
    *sy = t[3] * x + t[4] * y + t[5] + 0.5f * (float)(d->hi - 1);
}

static float tent(float dist) { return fmaxf(0.0f, 1.0f - fabsf(dist)); }

typedef enum { SAMPLE, SPREAD } walk_direction;

/* Planes of one item (they share its transform): channels [0, n) at x and y, one plane apart.
 * SAMPLE: y[i, j] = sum of weight * x[tap]. SPREAD: x[tap] += weight * y[i, j]. Each output
 * pixel's taps and weights are worked out once and applied to every plane. */
static void planes_walk(const float *t, const resample_dims *d, walk_direction dir, float *x, float *y, int n) {
    const size_t in_plane = (size_t)d->hi * d->wi, out_plane = (size_t)d->ho * d->wo;
    for (int i = 0; i < d->ho; i++)
        for (int j = 0; j < d->wo; j++) {
            float sx, sy;
            sample_point(t, d, i, j, &sx, &sy);
            const float fx = floorf(sx), fy = floorf(sy);
            /* The four taps around the sample point that lie inside the input; fx, fy may be far
             * outside any int range, so compare in float before converting. */
            size_t tap[4];
            float weight[4];
            int taps = 0;
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++) {
                    const float px = fx + (float)dx, py = fy + (float)dy;
                    if (!(px >= 0.0f && px < (float)d->wi && py >= 0.0f && py < (float)d->hi)) continue;
                    weight[taps] = tent(sx - px) * tent(sy - py);
                    tap[taps++] = (size_t)py * d->wi + (size_t)px;
                }
            const size_t at = (size_t)i * d->wo + j;
            for (int k = 0; k < n; k++) {
                float *xk = x + k * in_plane, *out = y + k * out_plane + at;
                if (dir == SAMPLE) {
                    float v = 0.0f;
                    for (int q = 0; q < taps; q++) v += weight[q] * xk[tap[q]];
                    *out = v;
                } else {
                    for (int q = 0; q < taps; q++) xk[tap[q]] += weight[q] * *out;
                }
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
