/* Softmax, viewed as (outer, D, inner) and normalized over D: opset >= 13 normalizes along the
 * one axis (D = d[axis], inner = the dims after it); legacy opsets (< 13) coerce to 2-D at the
 * axis and normalize over all of [axis, end) (D = their product, inner = 1). Numerically
 * stable (the maximum is subtracted before exp). The backward recomputes y from x, so it needs
 * only the input and grad_out: dx_i += y_i (g_i - sum_j g_j y_j). */
#include "cpu_ops.h"

#include "core/status.h"

#include <math.h>

typedef struct softmax_plan {
    size_t outer, d, inner;
} softmax_plan;

static cnv_status plan(const cnv_cpu_args *a, softmax_plan *p) {
    const cnv_shape *s = &a->in_shape[0];
    const int axis = a->a->axis;
    if (a->n_in < 1 || !cnv_shape_equal(s, &a->out_shape) || axis < 0 || axis >= s->ndim)
        return cnv_fail(CNV_ERR_SHAPE, "%s: Softmax axis %d outside its %d-D input", a->node->name, axis, s->ndim);
    p->outer = p->d = p->inner = 1;
    for (int k = 0; k < s->ndim; k++) {
        if (k < axis)
            p->outer *= (size_t)s->d[k];
        else if (k == axis || a->a->softmax_legacy)
            p->d *= (size_t)s->d[k];
        else
            p->inner *= (size_t)s->d[k];
    }
    return CNV_OK;
}

/* Max and sum of exp(x - max) over one strided line of d values. */
static void line_stats(const float *x, size_t d, size_t stride, float *max, double *sum) {
    float m = x[0];
    for (size_t i = 1; i < d; i++)
        if (x[i * stride] > m) m = x[i * stride];
    double s = 0.0;
    for (size_t i = 0; i < d; i++) s += exp((double)x[i * stride] - m);
    *max = m;
    *sum = s;
}

cnv_status cnv_cpu_softmax_forward(const cnv_cpu_args *a) {
    softmax_plan p;
    CNV_TRY(plan(a, &p));
    if (p.d == 0) return CNV_OK;
    for (size_t o = 0; o < p.outer; o++)
        for (size_t q = 0; q < p.inner; q++) {
            const size_t base = o * p.d * p.inner + q;
            const float *x = a->in[0] + base;
            float m;
            double sum;
            line_stats(x, p.d, p.inner, &m, &sum);
            for (size_t i = 0; i < p.d; i++)
                a->out[base + i * p.inner] = (float)(exp((double)x[i * p.inner] - m) / sum);
        }
    return CNV_OK;
}

cnv_status cnv_cpu_softmax_backward(const cnv_cpu_args *a) {
    softmax_plan p;
    CNV_TRY(plan(a, &p));
    float *dx = a->grad_in[0];
    if (!dx || p.d == 0) return CNV_OK;
    for (size_t o = 0; o < p.outer; o++)
        for (size_t q = 0; q < p.inner; q++) {
            const size_t base = o * p.d * p.inner + q;
            const float *x = a->in[0] + base, *g = a->grad_out + base;
            float m;
            double sum, dot = 0.0;
            line_stats(x, p.d, p.inner, &m, &sum);
            for (size_t i = 0; i < p.d; i++) dot += g[i * p.inner] * exp((double)x[i * p.inner] - m);
            dot /= sum; /* sum_j g_j y_j */
            for (size_t i = 0; i < p.d; i++) {
                const double y = exp((double)x[i * p.inner] - m) / sum;
                dx[base + i * p.inner] += (float)(y * (g[i * p.inner] - dot));
            }
        }
    return CNV_OK;
}
