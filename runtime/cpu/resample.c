/* Resample: affine bilinear resampling with zeros outside the input. Output pixel (i, j) of
 * item n samples the input at
 *     sx = T0*x + T1*y + T2 + (Wi-1)/2,   sy = T3*x + T4*y + T5 + (Hi-1)/2,
 *     x = j - (Wo-1)/2,  y = i - (Ho-1)/2   (both frames centred),
 * with T = in[1][n*6 .. n*6+5]. Bilinear interpolation weighs input pixel (py, px) by the tent
 * tent(sx - px) * tent(sy - py), tent(d) = max(0, 1 - |d|), so taps outside the input simply
 * add nothing. T is a constant of the graph: it is never differentiated (grad_in[1] is left
 * alone).
 *
 * The backward to X is the exact adjoint in gather form, as on the GPU
 * (shaders/resample_bwd_data.comp): each input pixel sums dY over the output pixels whose sample
 * point lies within distance < 1 of it in both axes. Those output pixels lie in the preimage of
 * the square p + (-1, 1)^2 under the sampling map, a parallelogram bounded with the inverse of
 * T's 2x2 part; a singular (or non-finite) T falls back to scanning the whole output plane. */
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

cnv_status cnv_cpu_resample_forward(const cnv_cpu_args *a) {
    resample_dims d;
    CNV_TRY(resample_dims_of(a, &d));
    for (int n = 0; n < d.n; n++) {
        const float *t = a->in[1] + (size_t)n * 6;
        for (int ch = 0; ch < d.c; ch++) {
            const size_t plane = (size_t)n * d.c + ch;
            const float *x = a->in[0] + plane * d.hi * d.wi;
            float *y = a->out + plane * d.ho * d.wo;
            for (int i = 0; i < d.ho; i++)
                for (int j = 0; j < d.wo; j++) {
                    float sx, sy;
                    sample_point(t, &d, i, j, &sx, &sy);
                    const float fx = floorf(sx), fy = floorf(sy);
                    float v = 0.0f;
                    /* The four taps around the sample point; fx, fy may be far outside any int
                     * range, so compare in float before converting. */
                    for (int dy = 0; dy < 2; dy++)
                        for (int dx = 0; dx < 2; dx++) {
                            const float px = fx + (float)dx, py = fy + (float)dy;
                            if (!(px >= 0.0f && px < (float)d.wi && py >= 0.0f && py < (float)d.hi)) continue;
                            v += tent(sx - px) * tent(sy - py) * x[(size_t)py * d.wi + (size_t)px];
                        }
                    y[(size_t)i * d.wo + j] = v;
                }
        }
    }
    return CNV_OK;
}

/* Output pixel rows [lo, hi] (and columns) whose sample points may lie within distance < 1 of
 * input pixel (py, px): the parallelogram's bounding box, widened by one pixel against
 * rounding, clamped to the output plane. */
typedef struct out_window {
    int i0, i1, j0, j1;
} out_window;

/* v clamped to [0, hi] and converted (NaN gives 0): never converts an out-of-range float. */
static int clamp_index(float v, int hi) { return !(v > 0.0f) ? 0 : !(v < (float)hi) ? hi : (int)v; }

static out_window window_of(const float *t, const resample_dims *d, int py, int px) {
    const float det = t[0] * t[4] - t[1] * t[3];
    if (!(fabsf(det) > 1e-20f) || !isfinite(det)) return (out_window){0, d->ho - 1, 0, d->wo - 1};
    const float i00 = t[4] / det, i01 = -t[1] / det, i10 = -t[3] / det, i11 = t[0] / det;
    const float ux = (float)px - t[2] - 0.5f * (float)(d->wi - 1), uy = (float)py - t[5] - 0.5f * (float)(d->hi - 1);
    const float cx = i00 * ux + i01 * uy + 0.5f * (float)(d->wo - 1), cy = i10 * ux + i11 * uy + 0.5f * (float)(d->ho - 1);
    const float ex = fabsf(i00) + fabsf(i01) + 1.0f, ey = fabsf(i10) + fabsf(i11) + 1.0f;
    return (out_window){clamp_index(ceilf(cy - ey), d->ho - 1), clamp_index(floorf(cy + ey), d->ho - 1),
                        clamp_index(ceilf(cx - ex), d->wo - 1), clamp_index(floorf(cx + ex), d->wo - 1)};
}

cnv_status cnv_cpu_resample_backward(const cnv_cpu_args *a) {
    resample_dims d;
    CNV_TRY(resample_dims_of(a, &d));
    if (!a->grad_in[0]) return CNV_OK;
    for (int n = 0; n < d.n; n++) {
        const float *t = a->in[1] + (size_t)n * 6;
        for (int py = 0; py < d.hi; py++)
            for (int px = 0; px < d.wi; px++) {
                const out_window w = window_of(t, &d, py, px);
                for (int ch = 0; ch < d.c; ch++) {
                    const size_t plane = (size_t)n * d.c + ch;
                    const float *dy = a->grad_out + plane * d.ho * d.wo;
                    float acc = 0.0f;
                    for (int i = w.i0; i <= w.i1; i++)
                        for (int j = w.j0; j <= w.j1; j++) {
                            float sx, sy;
                            sample_point(t, &d, i, j, &sx, &sy);
                            acc += tent(sx - (float)px) * tent(sy - (float)py) * dy[(size_t)i * d.wo + j];
                        }
                    a->grad_in[0][plane * d.hi * d.wi + (size_t)py * d.wi + px] += acc;
                }
            }
    }
    return CNV_OK;
}
