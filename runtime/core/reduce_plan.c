#include "reduce_plan.h"

#include "status.h"

cnv_status cnv_reduce_plan_make(const cnv_shape *x, int axes, const cnv_shape *out, const char *node,
                                cnv_reduce_plan *p) {
    *p = (cnv_reduce_plan){.n_out = 1, .count = 1};
    size_t step = 1, steps[CNV_MAX_DIMS];
    for (int k = x->ndim - 1; k >= 0; k--) {
        steps[k] = step;
        step *= (size_t)x->d[k];
    }
    for (int k = 0; k < x->ndim; k++) {
        if (axes >> k & 1) {
            p->red_dim[p->n_red] = (size_t)x->d[k];
            p->red_step[p->n_red++] = steps[k];
            p->count *= (size_t)x->d[k];
        } else {
            p->kept_dim[p->n_kept] = (size_t)x->d[k];
            p->kept_step[p->n_kept++] = steps[k];
            p->n_out *= (size_t)x->d[k];
        }
    }
    if (cnv_shape_numel(out) != p->n_out || p->count == 0)
        return cnv_fail(CNV_ERR_SHAPE, "node '%s': reduction output does not match its input and axes", node);
    return CNV_OK;
}

/* Both decode a row-major index over their dims, last dim fastest. */
static size_t decode(const size_t *dim, const size_t *step, int n, size_t i) {
    size_t at = 0;
    for (int k = n - 1; k >= 0; k--) {
        at += (i % dim[k]) * step[k];
        i /= dim[k];
    }
    return at;
}

size_t cnv_reduce_base(const cnv_reduce_plan *p, size_t i) { return decode(p->kept_dim, p->kept_step, p->n_kept, i); }

size_t cnv_reduce_at(const cnv_reduce_plan *p, size_t r) { return decode(p->red_dim, p->red_step, p->n_red, r); }
