/* LRN across channels (ONNX): with the window W(c) = [c - floor((size-1)/2), c + ceil((size-1)/2)]
 * clipped to the channels, s_c = bias + alpha/size * sum_{i in W(c)} x_i^2 and y_c = x_c * s_c^-beta.
 * Backward (exact): dx_j = g_j s_j^-beta - 2 beta alpha/size x_j sum_{c : j in W(c)} g_c x_c s_c^(-beta-1),
 * where j in W(c) exactly when c in [j - ceil((size-1)/2), j + floor((size-1)/2)].
 * Tensors are viewed as (N, C, inner); one column of C channels is processed at a time, in
 * double, with a per-column scratch of C values. */
#include "cpu_ops.h"

#include "core/status.h"

#include <math.h>
#include <stdlib.h>

typedef struct lrn_plan {
    size_t n, c, inner;
    int lo, hi; /* window below and above the channel */
    double k;   /* alpha / size */
} lrn_plan;

static cnv_status plan(const cnv_cpu_args *a, lrn_plan *p) {
    const cnv_shape *s = &a->in_shape[0];
    if (a->n_in < 1 || s->ndim < 2 || !cnv_shape_equal(s, &a->out_shape))
        return cnv_fail(CNV_ERR_SHAPE, "%s: LRN needs an [N, C, ...] input and an output of its shape",
                        a->node->name);
    if (a->a->size < 1) return cnv_fail(CNV_ERR_ARG, "%s: LRN size %d must be positive", a->node->name, a->a->size);
    p->n = (size_t)s->d[0];
    p->c = (size_t)s->d[1];
    p->inner = 1;
    for (int k = 2; k < s->ndim; k++) p->inner *= (size_t)s->d[k];
    p->lo = (a->a->size - 1) / 2;
    p->hi = a->a->size - 1 - p->lo;
    p->k = (double)a->a->alpha / a->a->size;
    return CNV_OK;
}

/* s[c] for one column x[c * inner] (c = 0..C-1). */
static void column_scale(const lrn_plan *p, const cnv_attrs *at, const float *x, double *s) {
    for (size_t c = 0; c < p->c; c++) {
        const size_t first = c >= (size_t)p->lo ? c - p->lo : 0;
        const size_t last = c + p->hi < p->c ? c + p->hi : p->c - 1;
        double sum = 0.0;
        for (size_t i = first; i <= last; i++) sum += (double)x[i * p->inner] * x[i * p->inner];
        s[c] = at->bias + p->k * sum;
    }
}

static cnv_status alloc_scratch(const cnv_cpu_args *a, size_t n, double **out) {
    *out = malloc((n ? n : 1) * sizeof(double));
    if (!*out) return cnv_fail(CNV_ERR_NOMEM, "%s: LRN out of memory", a->node->name);
    return CNV_OK;
}

cnv_status cnv_cpu_lrn_forward(const cnv_cpu_args *a) {
    lrn_plan p;
    double *s;
    CNV_TRY(plan(a, &p));
    CNV_TRY(alloc_scratch(a, p.c, &s));
    const double beta = a->a->beta;
    for (size_t n = 0; n < p.n; n++)
        for (size_t q = 0; q < p.inner; q++) {
            const size_t base = n * p.c * p.inner + q;
            column_scale(&p, a->a, a->in[0] + base, s);
            for (size_t c = 0; c < p.c; c++)
                a->out[base + c * p.inner] = (float)(a->in[0][base + c * p.inner] * pow(s[c], -beta));
        }
    free(s);
    return CNV_OK;
}

cnv_status cnv_cpu_lrn_backward(const cnv_cpu_args *a) {
    lrn_plan p;
    double *s;
    float *dx = a->grad_in[0];
    CNV_TRY(plan(a, &p));
    if (!dx) return CNV_OK;
    CNV_TRY(alloc_scratch(a, 2 * p.c, &s));
    double *t = s + p.c; /* t_c = g_c x_c s_c^(-beta-1) */
    const double beta = a->a->beta;
    for (size_t n = 0; n < p.n; n++)
        for (size_t q = 0; q < p.inner; q++) {
            const size_t base = n * p.c * p.inner + q;
            const float *x = a->in[0] + base, *g = a->grad_out + base;
            column_scale(&p, a->a, x, s);
            for (size_t c = 0; c < p.c; c++) t[c] = g[c * p.inner] * x[c * p.inner] * pow(s[c], -beta - 1.0);
            for (size_t j = 0; j < p.c; j++) {
                const size_t first = j >= (size_t)p.hi ? j - p.hi : 0;
                const size_t last = j + p.lo < p.c ? j + p.lo : p.c - 1;
                double sum = 0.0;
                for (size_t c = first; c <= last; c++) sum += t[c];
                dx[base + j * p.inner] +=
                    (float)(g[j * p.inner] * pow(s[j], -beta) - 2.0 * beta * p.k * x[j * p.inner] * sum);
            }
        }
    free(s);
    return CNV_OK;
}
