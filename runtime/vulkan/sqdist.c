/* SquaredDistance on the GPU, with the definitions of runtime/cpu/sqdist.c: the forward is one
 * line reduction per batch item (line_reduce.h, shaders/sqdist_fwd.comp); the backward,
 * dX += dOut[n] · alpha · (X - T), is elementwise (shaders/sqdist_bwd_data.comp). T is a
 * constant: grad_in[1] is left alone. */
#include "line_reduce.h"

#include "core/status.h"

typedef struct sqdist_fwd_push {
    uint32_t lines, len;
    float half_alpha;
} sqdist_fwd_push;

typedef struct sqdist_bwd_push {
    uint32_t total, len;
    float alpha;
} sqdist_bwd_push;

static cnv_status item_size(const cnv_op_io *io, uint32_t *items, uint32_t *len) {
    const cnv_shape *s = &io->in_shape[0];
    *items = *len = 0; /* written on every path; callers read them only on success */
    if (io->n_in != 2 || s->ndim < 1 || !cnv_shape_equal(s, &io->in_shape[1]) ||
        cnv_shape_numel(&io->out_shape) != (size_t)s->d[0])
        return cnv_fail(CNV_ERR_SHAPE, "%s: SquaredDistance needs X and a target of X's shape, and an [N, 1] output",
                        io->node->name);
    if (cnv_shape_numel(s) > UINT32_MAX)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: %zu elements are too many for one dispatch", io->node->name,
                        cnv_shape_numel(s));
    *items = (uint32_t)s->d[0];
    *len = (uint32_t)(cnv_shape_numel(s) / *items);
    return CNV_OK;
}

cnv_status cnv_vk_sqdist_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    sqdist_fwd_push push = {.half_alpha = 0.5f * io->node->attrs.alpha};
    CNV_TRY(item_size(io, &push.lines, &push.len));
    cnv_vk_line_kernel k;
    CNV_TRY(cnv_vk_line_kernel_get(vb, "sqdist_fwd", 3, 0x4, sizeof push, push.len, &k));
    cnv_buf *bufs[3] = {io->in[0], io->in[1], io->out};
    return cnv_vk_line_dispatch(vb, &k, bufs, &push, push.lines);
}

cnv_status cnv_vk_sqdist_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    uint32_t items;
    sqdist_bwd_push push = {.alpha = io->node->attrs.alpha};
    CNV_TRY(item_size(io, &items, &push.len));
    if (!io->grad_in[0]) return CNV_OK;
    push.total = items * push.len;
    cnv_vk_kernel_desc d = {.shader = "sqdist_bwd_data", .bindings = 4, .written = 0x8, .push_size = sizeof push,
                            .local_size = {cnv_vkb_local_1d(vb), 1, 1}};
    const cnv_vk_pipeline *pipe;
    CNV_TRY(cnv_vkb_kernel(vb, &d, &pipe));
    cnv_buf *bufs[4] = {io->in[0], io->in[1], io->grad_out, io->grad_in[0]};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, push.total);
}
