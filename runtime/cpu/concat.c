/* Concat along attrs.axis. Every tensor is viewed as (outer, axis, inner): each input then
 * owns one contiguous block of d[axis] * inner floats in every outer slice of the output. */
#include "cpu_ops.h"

#include "core/status.h"

#include <string.h>

typedef struct concat_plan {
    size_t outer, inner, out_block;
    size_t block[CNV_MAX_INPUTS];  /* floats of each input per outer slice */
    size_t offset[CNV_MAX_INPUTS]; /* where that block starts in the output slice */
} concat_plan;

static cnv_status plan(const cnv_cpu_args *a, concat_plan *p) {
    const cnv_shape *o = &a->out_shape;
    const int axis = a->a->axis;
    if (a->n_in < 1 || a->n_in > CNV_MAX_INPUTS || axis < 0 || axis >= o->ndim)
        return cnv_fail(CNV_ERR_SHAPE, "%s: Concat axis %d or input count %d out of range", a->node->name, axis,
                        a->n_in);
    p->outer = p->inner = 1;
    for (int k = 0; k < axis; k++) p->outer *= (size_t)o->d[k];
    for (int k = axis + 1; k < o->ndim; k++) p->inner *= (size_t)o->d[k];
    size_t along = 0;
    for (int i = 0; i < a->n_in; i++) {
        const cnv_shape *s = &a->in_shape[i];
        int fits = s->ndim == o->ndim;
        for (int k = 0; fits && k < o->ndim; k++) fits = k == axis || s->d[k] == o->d[k];
        if (!fits)
            return cnv_fail(CNV_ERR_SHAPE, "%s: Concat input %d differs from the output off axis %d",
                            a->node->name, i, axis);
        p->offset[i] = along * p->inner;
        p->block[i] = (size_t)s->d[axis] * p->inner;
        along += (size_t)s->d[axis];
    }
    if (along != (size_t)o->d[axis])
        return cnv_fail(CNV_ERR_SHAPE, "%s: Concat inputs sum to %zu along axis %d, output has %d", a->node->name,
                        along, axis, o->d[axis]);
    p->out_block = along * p->inner;
    return CNV_OK;
}

cnv_status cnv_cpu_concat_forward(const cnv_cpu_args *a) {
    concat_plan p;
    CNV_TRY(plan(a, &p));
    for (size_t s = 0; s < p.outer; s++)
        for (int i = 0; i < a->n_in; i++)
            memcpy(a->out + s * p.out_block + p.offset[i], a->in[i] + s * p.block[i], p.block[i] * sizeof(float));
    return CNV_OK;
}

cnv_status cnv_cpu_concat_backward(const cnv_cpu_args *a) {
    concat_plan p;
    CNV_TRY(plan(a, &p));
    for (int i = 0; i < a->n_in; i++) {
        float *dx = a->grad_in[i];
        if (!dx) continue;
        for (size_t s = 0; s < p.outer; s++) {
            const float *g = a->grad_out + s * p.out_block + p.offset[i];
            if (cnv_cpu_assigns(a, i))
                memcpy(dx + s * p.block[i], g, p.block[i] * sizeof *dx);
            else
                for (size_t j = 0; j < p.block[i]; j++) dx[s * p.block[i] + j] += g[j];
        }
    }
    return CNV_OK;
}
