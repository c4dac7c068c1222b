/* GlobalAveragePool (ONNX): the mean of each NCHW plane, output [N, C, 1, 1]. */
#include "cpu_ops.h"

#include "core/status.h"

static cnv_status plane_size(const cnv_cpu_args *a, size_t *planes, size_t *plane) {
    const cnv_shape *in = &a->in_shape[0];
    *planes = *plane = 0; /* written on every path; callers read them only on success */
    if (in->ndim != 4 || cnv_shape_numel(&a->out_shape) != (size_t)in->d[0] * in->d[1] || in->d[2] * in->d[3] == 0)
        return cnv_fail(CNV_ERR_SHAPE, "globalavgpool '%s': expects a non-empty NCHW input and an [N, C, 1, 1] output",
                        a->node->name);
    *planes = (size_t)in->d[0] * in->d[1];
    *plane = (size_t)in->d[2] * in->d[3];
    return CNV_OK;
}

cnv_status cnv_cpu_globalavgpool_forward(const cnv_cpu_args *a) {
    size_t planes, plane;
    CNV_TRY(plane_size(a, &planes, &plane));
    for (size_t p = 0; p < planes; p++) {
        /* Summed in double so that large planes keep float precision. */
        double s = 0.0;
        for (size_t i = 0; i < plane; i++) s += a->in[0][p * plane + i];
        a->out[p] = (float)(s / (double)plane);
    }
    return CNV_OK;
}

cnv_status cnv_cpu_globalavgpool_backward(const cnv_cpu_args *a) {
    size_t planes, plane;
    CNV_TRY(plane_size(a, &planes, &plane));
    if (!a->grad_in[0]) return CNV_OK;
    for (size_t p = 0; p < planes; p++) {
        float share = a->grad_out[p] / (float)plane;
        float *dx = a->grad_in[0] + p * plane;
        if (cnv_cpu_assigns(a, 0))
            for (size_t i = 0; i < plane; i++) dx[i] = share;
        else
            for (size_t i = 0; i < plane; i++) dx[i] += share;
    }
    return CNV_OK;
}
