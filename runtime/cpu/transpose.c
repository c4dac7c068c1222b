/* Transpose: output dim k is input dim perm[k]. Forward gathers through the permutation;
 * backward is the transpose by the inverse permutation, added into the input's gradient. */
#include "cpu_ops.h"

#include "core/status.h"

/* dst (dims src's permuted by perm) = or += src transposed: dst is walked in order, an
 * odometer over its dims keeping the matching src offset in step, so one loop serves every rank. */
static void transpose_into(const float *src, const cnv_shape *s, const int *perm, float *dst, int accumulate) {
    size_t stride[CNV_MAX_DIMS]; /* of src's own dims */
    size_t step = 1;
    for (int k = s->ndim - 1; k >= 0; k--) {
        stride[k] = step;
        step *= (size_t)s->d[k];
    }
    int dim[CNV_MAX_DIMS], idx[CNV_MAX_DIMS] = {0};
    size_t st[CNV_MAX_DIMS]; /* along each dst dim: its extent and its step in src */
    for (int k = 0; k < s->ndim; k++) {
        dim[k] = s->d[perm[k]];
        st[k] = stride[perm[k]];
    }
    const size_t n = cnv_shape_numel(s);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (accumulate)
            dst[i] += src[at];
        else
            dst[i] = src[at];
        for (int k = s->ndim - 1; k >= 0; k--) {
            at += st[k];
            if (++idx[k] < dim[k]) break;
            at -= st[k] * (size_t)dim[k];
            idx[k] = 0;
        }
    }
}

static cnv_status check(const cnv_cpu_args *a) {
    const cnv_shape *x = &a->in_shape[0], *y = &a->out_shape;
    const int *perm = a->a->perm;
    int used[CNV_MAX_DIMS] = {0};
    int ok = a->n_in == 1 && x->ndim == y->ndim && x->ndim <= CNV_MAX_DIMS;
    for (int k = 0; ok && k < x->ndim; k++)
        ok = perm[k] >= 0 && perm[k] < x->ndim && !used[perm[k]]++ && y->d[k] == x->d[perm[k]];
    if (!ok) return cnv_fail(CNV_ERR_SHAPE, "%s: Transpose output does not match its input and perm", a->node->name);
    return CNV_OK;
}

cnv_status cnv_cpu_transpose_forward(const cnv_cpu_args *a) {
    CNV_TRY(check(a));
    transpose_into(a->in[0], &a->in_shape[0], a->a->perm, a->out, 0);
    return CNV_OK;
}

cnv_status cnv_cpu_transpose_backward(const cnv_cpu_args *a) {
    CNV_TRY(check(a));
    if (!a->grad_in[0]) return CNV_OK;
    int inverse[CNV_MAX_DIMS];
    for (int k = 0; k < a->out_shape.ndim; k++) inverse[a->a->perm[k]] = k;
    transpose_into(a->grad_out, &a->out_shape, inverse, a->grad_in[0], 1);
    return CNV_OK;
}
