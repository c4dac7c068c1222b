/* MaxPool: shaders/maxpool_fwd.comp writes the output and the switches (io->aux, int32 flat
 * index in the input plane, the CPU backend's layout); shaders/maxpool_bwd_data.comp routes dy
 * back through them as a gather, one invocation per input element (or, with fill unpooling,
 * through every window covering the element). */
#include "pool.h"

#include "core/status.h"

/* spec (may be NULL): the backward's fill-unpooling flag (constant 3) and whether it writes dx,
 * which holds no gradient yet, rather than adding to it (constant 4). */
static cnv_status maxpool_kernel(cnv_vk_backend *vb, const char *shader, uint32_t bindings, uint32_t written,
                                 const uint32_t *spec, const cnv_vk_pipeline **pipe) {
    cnv_vk_kernel_desc d = {.shader = shader, .bindings = bindings, .written = written,
                            .push_size = sizeof(cnv_vk_pool_push), .local_size = {cnv_vkb_local_1d(vb), 1, 1},
                            .spec = spec, .spec_count = spec ? 2 : 0};
    return cnv_vkb_kernel(vb, &d, pipe);
}

static cnv_status maxpool_geometry(const cnv_op_io *io, cnv_vk_pool_push *p) {
    CNV_TRY(cnv_vk_pool_geometry(io, "maxpool", p));
    if (!io->aux) return cnv_fail(CNV_ERR_INTERNAL, "maxpool '%s': no switch buffer", io->node->name);
    return CNV_OK;
}

cnv_status cnv_vk_maxpool_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    cnv_vk_pool_push push;
    CNV_TRY(maxpool_geometry(io, &push));
    push.n = (uint32_t)cnv_shape_numel(&io->out_shape);
    const cnv_vk_pipeline *pipe;
    CNV_TRY(maxpool_kernel(vb, "maxpool_fwd", 3, 0x6, NULL, &pipe));
    cnv_buf *bufs[3] = {io->in[0], io->out, io->aux};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, push.n);
}

cnv_status cnv_vk_maxpool_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    if (!io->grad_in[0]) return CNV_OK;
    cnv_vk_pool_push push;
    CNV_TRY(maxpool_geometry(io, &push));
    push.n = (uint32_t)cnv_shape_numel(&io->in_shape[0]);
    const cnv_vk_pipeline *pipe;
    const uint32_t spec[2] = {io->unpool_fill ? 1u : 0u, (uint32_t)(io->grad_assign & 1)};
    CNV_TRY(maxpool_kernel(vb, "maxpool_bwd_data", 3, 0x4, spec, &pipe));
    cnv_buf *bufs[3] = {io->aux, io->grad_out, io->grad_in[0]};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, push.n);
}
