/* Pad in constant, reflect and edge modes, up to 4-D. Every output position reads one source
 * position (or the constant), so one index map serves both directions: forward gathers, and
 * backward scatters the gradient back, accumulating where reflect/edge read a source twice.
 * Negative pads crop; the same map handles them in every mode. */
#include "cpu_ops.h"

#include "core/status.h"

typedef struct pad_plan {
    int in4[4], out4[4], begin4[4];
    cnv_pad_mode mode;
} pad_plan;

static cnv_status plan(const cnv_cpu_args *a, pad_plan *p) {
    const cnv_shape *s = &a->in_shape[0], *o = &a->out_shape;
    if (a->n_in < 1 || s->ndim != o->ndim || s->ndim > CNV_PAD_MAX_DIMS)
        return cnv_fail(CNV_ERR_SHAPE, "%s: Pad output rank differs from its input's", a->node->name);
    p->mode = a->a->pad_mode;
    const int lead = CNV_PAD_MAX_DIMS - s->ndim; /* view as 4-D with leading unit dims */
    for (int k = 0; k < CNV_PAD_MAX_DIMS; k++) {
        const int t = k - lead; /* the tensor's own dim */
        p->in4[k] = t >= 0 ? s->d[t] : 1;
        p->out4[k] = t >= 0 ? o->d[t] : 1;
        p->begin4[k] = t >= 0 ? a->a->pad_full[t] : 0;
        const int end = t >= 0 ? a->a->pad_full[CNV_MAX_DIMS + t] : 0;
        if (p->out4[k] != p->in4[k] + p->begin4[k] + end || p->out4[k] < 0)
            return cnv_fail(CNV_ERR_SHAPE, "%s: Pad output dim %d is %d, pads give %d", a->node->name, t,
                            p->out4[k], p->in4[k] + p->begin4[k] + end);
        if (p->mode != CNV_PAD_CONSTANT && p->in4[k] == 0 && p->out4[k] > 0)
            return cnv_fail(CNV_ERR_SHAPE, "%s: Pad cannot reflect or extend an empty dim", a->node->name);
    }
    return CNV_OK;
}

/* Source index along one dim of output index o, or -1 where the constant fills in. Reflect
 * mirrors without repeating the edge (numpy "reflect"), periodically for pads wider than d-1. */
static int source_index(int o, int begin, int d, cnv_pad_mode mode) {
    int s = o - begin;
    if (s >= 0 && s < d) return s;
    if (mode == CNV_PAD_CONSTANT) return -1;
    if (mode == CNV_PAD_EDGE || d == 1) return s < 0 ? 0 : d - 1;
    const int period = 2 * (d - 1);
    s %= period;
    if (s < 0) s += period;
    return s < d ? s : period - s;
}

/* Forward when y is set (y = x or the pad value), else backward (dx += g at the source). */
static void walk(const pad_plan *p, float value, const float *x, float *y, const float *g, float *dx) {
    size_t o = 0;
    for (int i0 = 0; i0 < p->out4[0]; i0++) {
        const int s0 = source_index(i0, p->begin4[0], p->in4[0], p->mode);
        for (int i1 = 0; i1 < p->out4[1]; i1++) {
            const int s1 = source_index(i1, p->begin4[1], p->in4[1], p->mode);
            for (int i2 = 0; i2 < p->out4[2]; i2++) {
                const int s2 = source_index(i2, p->begin4[2], p->in4[2], p->mode);
                const int row_ok = s0 >= 0 && s1 >= 0 && s2 >= 0;
                const size_t row = row_ok ? (((size_t)s0 * p->in4[1] + s1) * p->in4[2] + s2) * p->in4[3] : 0;
                for (int i3 = 0; i3 < p->out4[3]; i3++, o++) {
                    const int s3 = source_index(i3, p->begin4[3], p->in4[3], p->mode);
                    const int ok = row_ok && s3 >= 0;
                    if (y)
                        y[o] = ok ? x[row + s3] : value;
                    else if (ok)
                        dx[row + s3] += g[o];
                }
            }
        }
    }
}

cnv_status cnv_cpu_pad_forward(const cnv_cpu_args *a) {
    pad_plan p;
    CNV_TRY(plan(a, &p));
    walk(&p, a->a->pad_value, a->in[0], a->out, NULL, NULL);
    return CNV_OK;
}

cnv_status cnv_cpu_pad_backward(const cnv_cpu_args *a) {
    pad_plan p;
    CNV_TRY(plan(a, &p));
    if (a->grad_in[0]) walk(&p, 0.0f, NULL, NULL, a->grad_out, a->grad_in[0]);
    return CNV_OK;
}
