/* Slice (and Split, imported as one Slice per output): the output is a strided window of the
 * input. Forward gathers it; backward adds each output gradient into the one input element it
 * came from (distinct elements, since no step is 0). */
#include "cpu_ops.h"

#include "core/status.h"

#include <stddef.h>

/* Walks the output in order with an odometer over its dims, keeping the matching input offset
 * in step; scatter = 0 copies x's window into y, 1 adds y into x's window. */
static void slice_walk(float *x, const cnv_shape *xs, const int *first, const int *count, const int *step, float *y,
                       int scatter) {
    ptrdiff_t stride[CNV_MAX_DIMS], st[CNV_MAX_DIMS], at = 0, step_all = 1;
    for (int k = xs->ndim - 1; k >= 0; k--) {
        stride[k] = step_all;
        step_all *= xs->d[k];
    }
    size_t n = 1;
    for (int k = 0; k < xs->ndim; k++) {
        st[k] = stride[k] * step[k];
        at += stride[k] * first[k];
        n *= (size_t)count[k];
    }
    int idx[CNV_MAX_DIMS] = {0};
    for (size_t i = 0; i < n; i++) {
        if (scatter)
            x[at] += y[i];
        else
            y[i] = x[at];
        for (int k = xs->ndim - 1; k >= 0; k--) {
            at += st[k];
            if (++idx[k] < count[k]) break;
            at -= st[k] * count[k];
            idx[k] = 0;
        }
    }
}

static cnv_status resolve(const cnv_cpu_args *a, int *first, int *count, int *step) {
    CNV_TRY(cnv_slice_resolve(a->a, &a->in_shape[0], first, count, step, a->node->name));
    int ok = a->n_in == 1 && a->out_shape.ndim == a->in_shape[0].ndim;
    for (int k = 0; ok && k < a->out_shape.ndim; k++) ok = a->out_shape.d[k] == count[k];
    if (!ok) return cnv_fail(CNV_ERR_SHAPE, "%s: Slice output does not match its input and window", a->node->name);
    return CNV_OK;
}

cnv_status cnv_cpu_slice_forward(const cnv_cpu_args *a) {
    int first[CNV_MAX_DIMS], count[CNV_MAX_DIMS], step[CNV_MAX_DIMS];
    CNV_TRY(resolve(a, first, count, step));
    slice_walk((float *)a->in[0], &a->in_shape[0], first, count, step, a->out, 0);
    return CNV_OK;
}

cnv_status cnv_cpu_slice_backward(const cnv_cpu_args *a) {
    int first[CNV_MAX_DIMS], count[CNV_MAX_DIMS], step[CNV_MAX_DIMS];
    CNV_TRY(resolve(a, first, count, step));
    if (!a->grad_in[0]) return CNV_OK;
    slice_walk(a->grad_in[0], &a->in_shape[0], first, count, step, (float *)a->grad_out, 1);
    return CNV_OK;
}
