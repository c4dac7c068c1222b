/* ReduceSum, ReduceMean, ReduceMax over any set of axes (core/reduce_plan.h walks the indices).
 * Sums run in double. ReduceMax keeps the first maximum in row-major order of the reduced dims,
 * and its gradient goes to that element only (ties: the first one); a NaN is the maximum. */
#include "cpu_ops.h"

#include "core/reduce_plan.h"
#include "core/status.h"
#include "../../shaders/reduce_ops.h"

#include <math.h>

static int kind_of(cnv_op_type op) {
    return op == CNV_OP_REDUCEMAX ? CNV_REDUCE_MAX : op == CNV_OP_REDUCEMEAN ? CNV_REDUCE_MEAN : CNV_REDUCE_SUM;
}

/* The offset (from its base) of output i's maximum among its inputs. */
static size_t arg_max(const cnv_reduce_plan *p, const float *x) {
    size_t best = cnv_reduce_at(p, 0);
    for (size_t r = 1; r < p->count && !isnan(x[best]); r++) {
        size_t at = cnv_reduce_at(p, r);
        if (x[at] > x[best] || isnan(x[at])) best = at;
    }
    return best;
}

cnv_status cnv_cpu_reduce_forward(const cnv_cpu_args *a) {
    cnv_reduce_plan p;
    CNV_TRY(cnv_reduce_plan_make(&a->in_shape[0], a->a->reduce_axes, &a->out_shape, a->node->name, &p));
    const int kind = kind_of(a->node->op);
    for (size_t i = 0; i < p.n_out; i++) {
        const float *x = a->in[0] + cnv_reduce_base(&p, i);
        if (kind == CNV_REDUCE_MAX) {
            a->out[i] = x[arg_max(&p, x)];
            continue;
        }
        double s = 0.0;
        for (size_t r = 0; r < p.count; r++) s += x[cnv_reduce_at(&p, r)];
        a->out[i] = (float)(kind == CNV_REDUCE_MEAN ? s / (double)p.count : s);
    }
    return CNV_OK;
}

cnv_status cnv_cpu_reduce_backward(const cnv_cpu_args *a) {
    cnv_reduce_plan p;
    CNV_TRY(cnv_reduce_plan_make(&a->in_shape[0], a->a->reduce_axes, &a->out_shape, a->node->name, &p));
    if (!a->grad_in[0]) return CNV_OK;
    const int kind = kind_of(a->node->op);
    for (size_t i = 0; i < p.n_out; i++) {
        const size_t base = cnv_reduce_base(&p, i);
        float *dx = a->grad_in[0] + base;
        if (kind == CNV_REDUCE_MAX) {
            dx[arg_max(&p, a->in[0] + base)] += a->grad_out[i];
            continue;
        }
        const float g = kind == CNV_REDUCE_MEAN ? a->grad_out[i] / (float)p.count : a->grad_out[i];
        for (size_t r = 0; r < p.count; r++) dx[cnv_reduce_at(&p, r)] += g;
    }
    return CNV_OK;
}
