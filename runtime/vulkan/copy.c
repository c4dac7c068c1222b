/* Flatten, Reshape and Dropout (identity at inference): the data is unchanged, so forward
 * copies and backward adds the gradient straight through, both with the backend's copy kernel
 * (shaders/copy.comp; specialization constant 3 picks accumulate). */
#include "vk_backend.h"

#include "core/status.h"

typedef struct copy_push {
    uint32_t n, src_offset, dst_offset;
} copy_push;

static cnv_status check(const cnv_op_io *io, uint32_t *n) {
    const size_t numel = cnv_shape_numel(&io->out_shape);
    *n = 0; /* written on every path; callers read it only on success */
    if (io->n_in < 1 || cnv_shape_numel(&io->in_shape[0]) != numel)
        return cnv_fail(CNV_ERR_SHAPE, "%s: %s changes the element count", io->node->name, cnv_op_name(io->node->op));
    if (numel > UINT32_MAX)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: %zu elements are too many for one dispatch", io->node->name, numel);
    *n = (uint32_t)numel;
    return CNV_OK;
}

/* dst = src (accumulate 0) or dst += src (accumulate 1) over n floats. */
static cnv_status copy_floats(cnv_vk_backend *vb, cnv_buf *src, cnv_buf *dst, uint32_t n, uint32_t accumulate) {
    cnv_vk_kernel_desc d = {.shader = "copy", .bindings = 2, .written = 0x2, .push_size = sizeof(copy_push),
                            .local_size = {cnv_vkb_local_1d(vb), 1, 1}, .spec = &accumulate, .spec_count = 1};
    const cnv_vk_pipeline *pipe;
    CNV_TRY(cnv_vkb_kernel(vb, &d, &pipe));
    copy_push push = {n, 0, 0};
    cnv_buf *bufs[2] = {src, dst};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, n);
}

cnv_status cnv_vk_copy_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    uint32_t n;
    CNV_TRY(check(io, &n));
    if (io->out == io->in[0]) return CNV_OK; /* run in place: nothing to move */
    return copy_floats(vb, io->in[0], io->out, n, 0);
}

cnv_status cnv_vk_copy_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    uint32_t n;
    CNV_TRY(check(io, &n));
    if (!io->grad_in[0]) return CNV_OK;
    return copy_floats(vb, io->grad_out, io->grad_in[0], n, !(io->grad_assign & 1));
}
