/* Flatten, Reshape and Dropout (identity at inference): the data is unchanged, only the shape
 * differs, so forward copies and backward passes the gradient straight through. */
#include "cpu_ops.h"

#include "core/status.h"

#include <string.h>

static cnv_status check(const cnv_cpu_args *a) {
    if (a->n_in < 1 || cnv_shape_numel(&a->in_shape[0]) != cnv_shape_numel(&a->out_shape))
        return cnv_fail(CNV_ERR_SHAPE, "%s: %s changes the element count", a->node->name, cnv_op_name(a->node->op));
    return CNV_OK;
}

cnv_status cnv_cpu_copy_forward(const cnv_cpu_args *a) {
    CNV_TRY(check(a));
    if (a->out != a->in[0]) memcpy(a->out, a->in[0], cnv_shape_numel(&a->out_shape) * sizeof(float));
    return CNV_OK;
}

cnv_status cnv_cpu_copy_backward(const cnv_cpu_args *a) {
    CNV_TRY(check(a));
    float *dx = a->grad_in[0];
    if (!dx) return CNV_OK;
    const size_t n = cnv_shape_numel(&a->out_shape);
    if (cnv_cpu_assigns(a, 0))
        memcpy(dx, a->grad_out, n * sizeof *dx);
    else
        for (size_t i = 0; i < n; i++) dx[i] += a->grad_out[i];
    return CNV_OK;
}
