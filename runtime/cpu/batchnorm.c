/* Unfolded BatchNormalization at inference, given per channel as y = x * scale[c] + shift[c]
 * (the importer turns mean/var/epsilon into scale and shift). X is [N, C, ...]; the backward
 * reaches X and, as weights, scale and shift. */
#include "cpu_ops.h"

#include "core/status.h"

typedef struct bn_plan {
    size_t n, c, inner;
} bn_plan;

static cnv_status plan(const cnv_cpu_args *a, bn_plan *p) {
    const cnv_shape *s = &a->in_shape[0];
    if (a->n_in != 3 || s->ndim < 2 || !cnv_shape_equal(s, &a->out_shape))
        return cnv_fail(CNV_ERR_SHAPE, "%s: BatchNormalization needs X [N, C, ...], scale and shift", a->node->name);
    p->n = (size_t)s->d[0];
    p->c = (size_t)s->d[1];
    p->inner = 1;
    for (int k = 2; k < s->ndim; k++) p->inner *= (size_t)s->d[k];
    if (cnv_shape_numel(&a->in_shape[1]) != p->c || cnv_shape_numel(&a->in_shape[2]) != p->c)
        return cnv_fail(CNV_ERR_SHAPE, "%s: BatchNormalization scale and shift need %zu values", a->node->name, p->c);
    return CNV_OK;
}

cnv_status cnv_cpu_batchnorm_forward(const cnv_cpu_args *a) {
    bn_plan p;
    CNV_TRY(plan(a, &p));
    const float *x = a->in[0], *scale = a->in[1], *shift = a->in[2];
    float *y = a->out;
    for (size_t n = 0; n < p.n; n++)
        for (size_t c = 0; c < p.c; c++)
            for (size_t i = 0; i < p.inner; i++, x++, y++) *y = *x * scale[c] + shift[c];
    return CNV_OK;
}

cnv_status cnv_cpu_batchnorm_backward(const cnv_cpu_args *a) {
    bn_plan p;
    CNV_TRY(plan(a, &p));
    const float *x = a->in[0], *scale = a->in[1], *g = a->grad_out;
    float *dx = a->grad_in[0], *dscale = a->grad_in[1], *dshift = a->grad_in[2];
    for (size_t n = 0; n < p.n; n++)
        for (size_t c = 0; c < p.c; c++) {
            const size_t base = (n * p.c + c) * p.inner;
            double gx = 0.0, gs = 0.0;
            for (size_t i = 0; i < p.inner; i++) {
                if (dx) dx[base + i] += g[base + i] * scale[c];
                gx += (double)g[base + i] * x[base + i];
                gs += g[base + i];
            }
            if (dscale) dscale[c] += (float)gx;
            if (dshift) dshift[c] += (float)gs;
        }
    return CNV_OK;
}
