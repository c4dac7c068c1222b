/* Resize (ONNX) of H and W, nearest or bilinear. Each output index o along an axis reads two
 * input taps lo, hi with weights 1 - w, w (nearest: lo == hi, w == 0), so that forward and the
 * backward scatter share one definition (cnv_resize_tap_of, core/resize_taps.c, which receptive
 * fields read too); the 2-D output is the product of its axes' taps. Same definition as
 * shaders/resize.glsl. */
#include "cpu_ops.h"

#include "core/status.h"

#include <stdlib.h>

typedef cnv_resize_tap tap;

typedef struct resize_plan {
    int planes, h, w, oh, ow;
    tap *ty, *tx; /* one per output row, one per output column */
} resize_plan;

static cnv_status plan_init(const cnv_cpu_args *a, resize_plan *p) {
    const cnv_shape *x = &a->in_shape[0], *y = &a->out_shape;
    *p = (resize_plan){0};
    if (x->ndim != 4 || y->ndim != 4 || y->d[0] != x->d[0] || y->d[1] != x->d[1] || x->d[2] < 1 || x->d[3] < 1)
        return cnv_fail(CNV_ERR_SHAPE, "resize '%s': expects NCHW input and output of the same N, C", a->node->name);
    *p = (resize_plan){x->d[0] * x->d[1], x->d[2], x->d[3], y->d[2], y->d[3], NULL, NULL};
    p->ty = malloc(((size_t)p->oh + (size_t)p->ow) * sizeof *p->ty);
    if (!p->ty) return cnv_fail(CNV_ERR_NOMEM, "resize '%s': out of memory", a->node->name);
    p->tx = p->ty + p->oh;
    for (int o = 0; o < p->oh; o++) p->ty[o] = cnv_resize_tap_of(a->a, 0, o, p->h, p->oh);
    for (int o = 0; o < p->ow; o++) p->tx[o] = cnv_resize_tap_of(a->a, 1, o, p->w, p->ow);
    return CNV_OK;
}

cnv_status cnv_cpu_resize_forward(const cnv_cpu_args *a) {
    resize_plan p;
    CNV_TRY(plan_init(a, &p));
    for (int pl = 0; pl < p.planes; pl++) {
        const float *x = a->in[0] + (size_t)pl * p.h * p.w;
        float *y = a->out + (size_t)pl * p.oh * p.ow;
        for (int oy = 0; oy < p.oh; oy++) {
            const tap ty = p.ty[oy];
            const float *r0 = x + (size_t)ty.lo * p.w, *r1 = x + (size_t)ty.hi * p.w;
            for (int ox = 0; ox < p.ow; ox++) {
                const tap tx = p.tx[ox];
                float top = r0[tx.lo] + tx.w * (r0[tx.hi] - r0[tx.lo]);
                float bottom = r1[tx.lo] + tx.w * (r1[tx.hi] - r1[tx.lo]);
                y[(size_t)oy * p.ow + ox] = top + ty.w * (bottom - top);
            }
        }
    }
    free(p.ty);
    return CNV_OK;
}

/* dX += the adjoint: each dy scattered onto its four taps with their weights. */
cnv_status cnv_cpu_resize_backward(const cnv_cpu_args *a) {
    if (!a->grad_in[0]) return CNV_OK;
    resize_plan p;
    CNV_TRY(plan_init(a, &p));
    for (int pl = 0; pl < p.planes; pl++) {
        float *dx = a->grad_in[0] + (size_t)pl * p.h * p.w;
        const float *dy = a->grad_out + (size_t)pl * p.oh * p.ow;
        for (int oy = 0; oy < p.oh; oy++) {
            const tap ty = p.ty[oy];
            float *r0 = dx + (size_t)ty.lo * p.w, *r1 = dx + (size_t)ty.hi * p.w;
            for (int ox = 0; ox < p.ow; ox++) {
                const tap tx = p.tx[ox];
                float g = dy[(size_t)oy * p.ow + ox], g0 = g * (1.0f - ty.w), g1 = g * ty.w;
                r0[tx.lo] += g0 * (1.0f - tx.w);
                r0[tx.hi] += g0 * tx.w;
                r1[tx.lo] += g1 * (1.0f - tx.w);
                r1[tx.hi] += g1 * tx.w;
            }
        }
    }
    free(p.ty);
    return CNV_OK;
}
