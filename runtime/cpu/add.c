/* Add with multidirectional (numpy) broadcasting of up to 4-D shapes. Shapes are aligned on
 * their last dimension and viewed as 4-D; a broadcast dimension gets stride 0, so one loop
 * over the output serves every combination. The backward sums the gradient over the
 * dimensions an input was broadcast along. */
#include "cpu_ops.h"

#include "core/status.h"

/* Strides (in elements) of `in` seen through the 4-D output `out4`; 0 where broadcast. */
static cnv_status broadcast_strides(const cnv_cpu_args *a, int input, const int out4[4], size_t strides[4]) {
    const cnv_shape *s = &a->in_shape[input];
    const int lead = CNV_MAX_DIMS - s->ndim;
    size_t step = 1;
    for (int k = CNV_MAX_DIMS - 1; k >= 0; k--) {
        const int d = k >= lead ? s->d[k - lead] : 1;
        if (d != out4[k] && d != 1)
            return cnv_fail(CNV_ERR_SHAPE, "%s: Add input %d does not broadcast to the output", a->node->name,
                            input);
        strides[k] = d == 1 ? 0 : step;
        step *= (size_t)d;
    }
    return CNV_OK;
}

typedef struct add_plan {
    int out4[4];
    size_t stride[2][4];
} add_plan;

static cnv_status plan(const cnv_cpu_args *a, add_plan *p) {
    const cnv_shape *o = &a->out_shape;
    if (a->n_in != 2 || o->ndim > CNV_MAX_DIMS || a->in_shape[0].ndim > o->ndim || a->in_shape[1].ndim > o->ndim)
        return cnv_fail(CNV_ERR_SHAPE, "%s: Add needs two inputs of rank up to the output's", a->node->name);
    const int lead = CNV_MAX_DIMS - o->ndim;
    for (int k = 0; k < CNV_MAX_DIMS; k++) p->out4[k] = k >= lead ? o->d[k - lead] : 1;
    CNV_TRY(broadcast_strides(a, 0, p->out4, p->stride[0]));
    return broadcast_strides(a, 1, p->out4, p->stride[1]);
}

static size_t offset(const size_t st[4], int i0, int i1, int i2, int i3) {
    return (size_t)i0 * st[0] + (size_t)i1 * st[1] + (size_t)i2 * st[2] + (size_t)i3 * st[3];
}

cnv_status cnv_cpu_add_forward(const cnv_cpu_args *a) {
    add_plan p;
    CNV_TRY(plan(a, &p));
    const float *x = a->in[0], *y = a->in[1];
    float *out = a->out;
    for (int i0 = 0; i0 < p.out4[0]; i0++)
        for (int i1 = 0; i1 < p.out4[1]; i1++)
            for (int i2 = 0; i2 < p.out4[2]; i2++)
                for (int i3 = 0; i3 < p.out4[3]; i3++)
                    *out++ = x[offset(p.stride[0], i0, i1, i2, i3)] + y[offset(p.stride[1], i0, i1, i2, i3)];
    return CNV_OK;
}

/* grad_in[input] += grad_out summed over the dimensions that input was broadcast along. */
static void reduce_into(const add_plan *p, int input, const float *g, float *dx) {
    for (int i0 = 0; i0 < p->out4[0]; i0++)
        for (int i1 = 0; i1 < p->out4[1]; i1++)
            for (int i2 = 0; i2 < p->out4[2]; i2++)
                for (int i3 = 0; i3 < p->out4[3]; i3++) dx[offset(p->stride[input], i0, i1, i2, i3)] += *g++;
}

cnv_status cnv_cpu_add_backward(const cnv_cpu_args *a) {
    add_plan p;
    CNV_TRY(plan(a, &p));
    for (int i = 0; i < 2; i++)
        if (a->grad_in[i]) reduce_into(&p, i, a->grad_out, a->grad_in[i]);
    return CNV_OK;
}
