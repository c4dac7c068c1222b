/* SquaredDistance, CNV_OP_SQDIST: how far each item of X is from a target T of the same shape
 * (image inversion, style content loss, DeepDream's objective with T = 0):
 *     out[n] = alpha/2 * sum over item n's elements of (X - T)^2,   output [N, 1].
 * Backward: dX += dOut[n] * alpha * (X - T). T is a constant of the graph: it is never
 * differentiated (grad_in[1] is left alone). The sums run in double: an item can hold millions
 * of elements. */
#include "cpu_ops.h"

#include "core/status.h"

static cnv_status item_size(const cnv_cpu_args *a, size_t *items, size_t *per_item) {
    const cnv_shape *s = &a->in_shape[0];
    if (a->n_in != 2 || s->ndim < 1 || !cnv_shape_equal(s, &a->in_shape[1]) ||
        cnv_shape_numel(&a->out_shape) != (size_t)s->d[0])
        return cnv_fail(CNV_ERR_SHAPE, "%s: SquaredDistance needs X and a target of X's shape, and an [N, 1] output",
                        a->node->name);
    *items = (size_t)s->d[0];
    *per_item = cnv_shape_numel(s) / *items;
    return CNV_OK;
}

cnv_status cnv_cpu_sqdist_forward(const cnv_cpu_args *a) {
    size_t items, per_item;
    CNV_TRY(item_size(a, &items, &per_item));
    for (size_t n = 0; n < items; n++) {
        const float *x = a->in[0] + n * per_item, *t = a->in[1] + n * per_item;
        double sum = 0.0;
        for (size_t i = 0; i < per_item; i++) {
            const double d = (double)x[i] - (double)t[i];
            sum += d * d;
        }
        a->out[n] = (float)(0.5 * (double)a->a->alpha * sum);
    }
    return CNV_OK;
}

cnv_status cnv_cpu_sqdist_backward(const cnv_cpu_args *a) {
    size_t items, per_item;
    CNV_TRY(item_size(a, &items, &per_item));
    if (!a->grad_in[0]) return CNV_OK;
    for (size_t n = 0; n < items; n++) {
        const float *x = a->in[0] + n * per_item, *t = a->in[1] + n * per_item;
        const float k = a->grad_out[n] * a->a->alpha;
        float *dx = a->grad_in[0] + n * per_item;
        for (size_t i = 0; i < per_item; i++) dx[i] += k * (x[i] - t[i]);
    }
    return CNV_OK;
}
