/* Gaussian blur, CNV_OP_BLUR: separable, taps g(k) = exp(-k^2 / (2 sigma^2)) for |k| <= r =
 * ceil(3 sigma), normalized to sum 1; a tap that falls outside the plane reads the nearest edge
 * pixel. sigma <= 0 is the identity.
 * Along one line of n pixels, output p reads pixel q with weight F(p, q) = the sum of g(k) over
 * the taps k with clamp(p + k) = q: g(q - p) inside the line, and at an edge pixel also every tap
 * clamped onto it. The backward is the exact adjoint: pixel q collects F(p, q) dy[p] from each
 * output p within reach (a gather: no scatter, same order on every run). */
#include "cpu_ops.h"

#include "core/status.h"

#include <math.h>
#include <stdlib.h>

typedef struct blur_taps {
    int r;
    double *g; /* g[k + r] for k in [-r, r] */
} blur_taps;

static cnv_status taps_make(const cnv_cpu_args *a, blur_taps *t) {
    const double sigma = a->a->sigma;
    t->r = sigma > 0.0 ? (int)ceil(3.0 * sigma) : 0;
    t->g = malloc((size_t)(2 * t->r + 1) * sizeof(double));
    if (!t->g) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory for blur taps", a->node->name);
    double total = 0.0;
    for (int k = -t->r; k <= t->r; k++)
        total += t->g[k + t->r] = t->r ? exp(-(double)k * k / (2.0 * sigma * sigma)) : 1.0;
    for (int k = 0; k <= 2 * t->r; k++) t->g[k] /= total;
    return CNV_OK;
}

/* F(p, q) on a line of n pixels. */
static double tap_weight(const blur_taps *t, int p, int q, int n) {
    const int lo = q == 0 ? -t->r : q - p, hi = q == n - 1 ? t->r : q - p;
    double w = 0.0;
    for (int k = lo; k <= hi; k++) w += t->g[k + t->r];
    return w;
}

/* One pass along lines of n pixels spaced `stride` apart within each of `lines` lines (the
 * lines start at line_step multiples): dst[p] = sum_q F(p, q) src[q], or with adjoint set,
 * dst[q] = sum_p F(p, q) src[p]. */
static void blur_lines(const blur_taps *t, int adjoint, const double *src, double *dst, size_t lines,
                       size_t line_step, size_t stride, int n) {
    for (size_t l = 0; l < lines; l++) {
        const double *s = src + l * line_step;
        double *d = dst + l * line_step;
        for (int i = 0; i < n; i++) {
            const int lo = i - t->r < 0 ? 0 : i - t->r, hi = i + t->r >= n ? n - 1 : i + t->r;
            double sum = 0.0;
            for (int j = lo; j <= hi; j++)
                sum += (adjoint ? tap_weight(t, j, i, n) : tap_weight(t, i, j, n)) * s[(size_t)j * stride];
            d[(size_t)i * stride] = sum;
        }
    }
}

/* Runs rows then columns (forward) or columns then rows (the adjoint), plane by plane. */
static cnv_status blur_planes(const cnv_cpu_args *a, int adjoint, const float *src, float *dst, int accumulate) {
    const int H = a->out_shape.d[2], W = a->out_shape.d[3];
    const size_t planes = (size_t)a->out_shape.d[0] * a->out_shape.d[1], plane = (size_t)H * W;
    blur_taps t;
    CNV_TRY(taps_make(a, &t));
    double *x = malloc(plane * sizeof(double)), *tmp = malloc(plane * sizeof(double));
    if (!x || !tmp) {
        free(t.g), free(x), free(tmp);
        return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory for a %dx%d blur", a->node->name, H, W);
    }
    for (size_t p = 0; p < planes; p++) {
        for (size_t i = 0; i < plane; i++) x[i] = src[p * plane + i];
        if (!adjoint) {
            blur_lines(&t, 0, x, tmp, (size_t)H, (size_t)W, 1, W); /* rows */
            blur_lines(&t, 0, tmp, x, (size_t)W, 1, (size_t)W, H); /* columns */
        } else {
            blur_lines(&t, 1, x, tmp, (size_t)W, 1, (size_t)W, H);
            blur_lines(&t, 1, tmp, x, (size_t)H, (size_t)W, 1, W);
        }
        float *d = dst + p * plane;
        for (size_t i = 0; i < plane; i++) d[i] = (float)(accumulate ? d[i] + x[i] : x[i]);
    }
    free(t.g), free(x), free(tmp);
    return CNV_OK;
}

cnv_status cnv_cpu_blur_forward(const cnv_cpu_args *a) { return blur_planes(a, 0, a->in[0], a->out, 0); }

cnv_status cnv_cpu_blur_backward(const cnv_cpu_args *a) {
    if (!a->grad_in[0]) return CNV_OK;
    return blur_planes(a, 1, a->grad_out, a->grad_in[0], 1);
}
