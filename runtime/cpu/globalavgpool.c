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

typedef struct pool_job {
    const cnv_cpu_args *a;
    size_t plane;
} pool_job;

/* Lanes of the forward's sum: independent partial sums that the compiler keeps in vector
 * registers, where one running sum waits on each addition's latency (SqueezeNet batch 8's pool10,
 * 1000 planes of 196, took 0.9 ms each way on one thread with one sum). */
#define SUM_LANES 8

/* Planes [lo, hi): each plane's mean, summed in double so that large planes keep float precision
 * (lane by lane, then the lanes in order: the same result on any thread count). */
CNV_CPU_CLONES static void mean_planes(void *ctx, size_t lo, size_t hi) {
    const pool_job *j = ctx;
    const size_t plane = j->plane, body = plane / SUM_LANES * SUM_LANES;
    for (size_t p = lo; p < hi; p++) {
        const float *x = j->a->in[0] + p * plane;
        double lane[SUM_LANES] = {0};
        for (size_t i = 0; i < body; i += SUM_LANES)
            for (int k = 0; k < SUM_LANES; k++) lane[k] += x[i + k];
        double s = 0.0;
        for (int k = 0; k < SUM_LANES; k++) s += lane[k];
        for (size_t i = body; i < plane; i++) s += x[i];
        j->a->out[p] = (float)(s / (double)plane);
    }
}

cnv_status cnv_cpu_globalavgpool_forward(const cnv_cpu_args *a) {
    pool_job j = {a, 0};
    size_t planes;
    CNV_TRY(plane_size(a, &planes, &j.plane));
    cnv_cpu_parallel(planes, cnv_cpu_min_items(j.plane), mean_planes, &j);
    return CNV_OK;
}

/* Planes [lo, hi) of dx: each its share of the plane's output gradient. */
static void spread_planes(void *ctx, size_t lo, size_t hi) {
    const pool_job *j = ctx;
    const int assign = cnv_cpu_assigns(j->a, 0);
    for (size_t p = lo; p < hi; p++) {
        const float share = j->a->grad_out[p] / (float)j->plane;
        float *dx = j->a->grad_in[0] + p * j->plane;
        if (assign)
            for (size_t i = 0; i < j->plane; i++) dx[i] = share;
        else
            for (size_t i = 0; i < j->plane; i++) dx[i] += share;
    }
}

cnv_status cnv_cpu_globalavgpool_backward(const cnv_cpu_args *a) {
    pool_job j = {a, 0};
    size_t planes;
    CNV_TRY(plane_size(a, &planes, &j.plane));
    if (!a->grad_in[0]) return CNV_OK;
    cnv_cpu_parallel(planes, cnv_cpu_min_items(j.plane), spread_planes, &j);
    return CNV_OK;
}
