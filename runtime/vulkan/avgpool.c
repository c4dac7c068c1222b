/* AveragePool and GlobalAveragePool. AveragePool: shaders/avgpool_fwd.comp (one invocation per
 * output) and avgpool_bwd_data.comp (a gather, one invocation per input element).
 * GlobalAveragePool: its forward is a per-plane line reduction (global_avgpool_fwd.comp, see
 * line_reduce.h); its backward is avgpool_bwd_data with the whole plane as the kernel. */
#include "line_reduce.h"
#include "pool.h"

#include "core/status.h"

/* AveragePool geometry from the node, or for GlobalAveragePool the plane as one window. */
static cnv_status avgpool_geometry(const cnv_op_io *io, cnv_vk_pool_push *p) {
    if (io->node->op != CNV_OP_GLOBALAVGPOOL) return cnv_vk_pool_geometry(io, "avgpool", p);
    const cnv_shape *x = &io->in_shape[0];
    if (x->ndim != 4 || cnv_shape_numel(&io->out_shape) != (size_t)x->d[0] * x->d[1] || x->d[2] * x->d[3] == 0)
        return cnv_fail(CNV_ERR_SHAPE, "globalavgpool '%s': expects a non-empty NCHW input and an [N, C, 1, 1] output",
                        io->node->name);
    *p = (cnv_vk_pool_push){.h = x->d[2], .w = x->d[3], .oh = 1, .ow = 1, .kh = x->d[2], .kw = x->d[3],
                            .sh = 1, .sw = 1, .dh = 1, .dw = 1};
    return CNV_OK;
}

/* assign (the backward's constant 3): dx holds no gradient yet and is written, not added to. */
static cnv_status pool_kernel(cnv_vk_backend *vb, const char *shader, uint32_t written, uint32_t assign,
                              const cnv_vk_pipeline **pipe) {
    cnv_vk_kernel_desc d = {.shader = shader, .bindings = 2, .written = written,
                            .push_size = sizeof(cnv_vk_pool_push), .local_size = {cnv_vkb_local_1d(vb), 1, 1},
                            .spec = &assign, .spec_count = 1};
    return cnv_vkb_kernel(vb, &d, pipe);
}

static cnv_status global_forward(cnv_vk_backend *vb, const cnv_op_io *io, const cnv_vk_pool_push *g) {
    struct {
        uint32_t planes, plane;
    } push = {(uint32_t)cnv_vk_pool_planes(io), (uint32_t)(g->h * g->w)};
    cnv_vk_line_kernel k;
    CNV_TRY(cnv_vk_line_kernel_get(vb, "global_avgpool_fwd", 2, 0x2, sizeof push, push.plane, &k));
    cnv_buf *bufs[2] = {io->in[0], io->out};
    return cnv_vk_line_dispatch(vb, &k, bufs, &push, push.planes);
}

cnv_status cnv_vk_avgpool_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    cnv_vk_pool_push push;
    CNV_TRY(avgpool_geometry(io, &push));
    if (io->node->op == CNV_OP_GLOBALAVGPOOL) return global_forward(vb, io, &push);
    push.n = (uint32_t)cnv_shape_numel(&io->out_shape);
    const cnv_vk_pipeline *pipe;
    CNV_TRY(pool_kernel(vb, "avgpool_fwd", 0x2, 0, &pipe));
    cnv_buf *bufs[2] = {io->in[0], io->out};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, push.n);
}

cnv_status cnv_vk_avgpool_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    cnv_vk_pool_push push;
    CNV_TRY(avgpool_geometry(io, &push));
    if (!io->grad_in[0]) return CNV_OK;
    push.n = (uint32_t)cnv_shape_numel(&io->in_shape[0]);
    const cnv_vk_pipeline *pipe;
    CNV_TRY(pool_kernel(vb, "avgpool_bwd_data", 0x2, (uint32_t)(io->grad_assign & 1), &pipe));
    cnv_buf *bufs[2] = {io->grad_out, io->grad_in[0]};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, push.n);
}
