/* Transpose on the GPU: one gather kernel (shaders/transpose_fwd.comp) where each invocation
 * owns a destination element. Backward is the transpose by the inverse permutation, run by
 * the same kernel from dy into dx with specialization constant 3 (accumulate) set. */
#include "vk_backend.h"

#include "core/status.h"

typedef struct transpose_push {
    uint32_t n, dims[CNV_MAX_DIMS], steps[CNV_MAX_DIMS];
} transpose_push;

/* The push constants for dst = src (of shape s) transposed by perm, both viewed at CNV_MAX_DIMS
 * dims (leading unit dims). */
static cnv_status plan(const cnv_op_io *io, const cnv_shape *s, const int *perm, transpose_push *p) {
    if (cnv_shape_numel(s) > UINT32_MAX)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: Transpose tensor too large for one dispatch", io->node->name);
    uint32_t stride[CNV_MAX_DIMS], step = 1;
    for (int k = s->ndim - 1; k >= 0; k--) {
        stride[k] = step;
        step *= (uint32_t)s->d[k];
    }
    const int lead = CNV_MAX_DIMS - s->ndim;
    for (int k = 0; k < CNV_MAX_DIMS; k++) {
        const int t = k - lead;
        p->dims[k] = t >= 0 ? (uint32_t)s->d[perm[t]] : 1;
        p->steps[k] = t >= 0 ? stride[perm[t]] : 0;
    }
    p->n = (uint32_t)cnv_shape_numel(s);
    return CNV_OK;
}

static cnv_status check(const cnv_op_io *io) {
    const cnv_shape *x = &io->in_shape[0], *y = &io->out_shape;
    const int *perm = io->node->attrs.perm;
    int used[CNV_MAX_DIMS] = {0};
    int ok = io->n_in == 1 && x->ndim == y->ndim && x->ndim <= CNV_MAX_DIMS;
    for (int k = 0; ok && k < x->ndim; k++)
        ok = perm[k] >= 0 && perm[k] < x->ndim && !used[perm[k]]++ && y->d[k] == x->d[perm[k]];
    if (!ok) return cnv_fail(CNV_ERR_SHAPE, "%s: Transpose output does not match its input and perm", io->node->name);
    return CNV_OK;
}

static cnv_status transpose_dispatch(cnv_vk_backend *vb, const cnv_op_io *io, cnv_buf *src, const cnv_shape *s,
                                     const int *perm, cnv_buf *dst, uint32_t accumulate) {
    transpose_push push;
    CNV_TRY(plan(io, s, perm, &push));
    cnv_vk_kernel_desc d = {.shader = "transpose_fwd", .bindings = 2, .written = 0x2, .push_size = sizeof push,
                            .local_size = {cnv_vkb_local_1d(vb), 1, 1}, .spec = &accumulate, .spec_count = 1};
    const cnv_vk_pipeline *pipe;
    CNV_TRY(cnv_vkb_kernel(vb, &d, &pipe));
    cnv_buf *bufs[2] = {src, dst};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, push.n);
}

cnv_status cnv_vk_transpose_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    CNV_TRY(check(io));
    return transpose_dispatch(vb, io, io->in[0], &io->in_shape[0], io->node->attrs.perm, io->out, 0);
}

cnv_status cnv_vk_transpose_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    CNV_TRY(check(io));
    if (!io->grad_in[0]) return CNV_OK;
    int inverse[CNV_MAX_DIMS];
    for (int k = 0; k < io->out_shape.ndim; k++) inverse[io->node->attrs.perm[k]] = k;
    return transpose_dispatch(vb, io, io->grad_out, &io->out_shape, inverse, io->grad_in[0], 1);
}
