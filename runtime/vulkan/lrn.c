/* LRN across channels: shaders/lrn_fwd.comp and lrn_bwd_data.comp (exact backward as a
 * gather), one invocation per element; the window sums are recomputed per invocation
 * (size is small, typically 5) rather than kept in a scratch buffer. */
#include "vk_backend.h"

#include "core/status.h"

typedef struct lrn_push {
    uint32_t n, c, inner;
    int32_t lo, hi;
    float k, beta, bias;
} lrn_push;

static cnv_status lrn_params(const cnv_op_io *io, lrn_push *p) {
    const cnv_shape *s = &io->in_shape[0];
    const cnv_attrs *a = &io->node->attrs;
    if (io->n_in < 1 || s->ndim < 2 || !cnv_shape_equal(s, &io->out_shape))
        return cnv_fail(CNV_ERR_SHAPE, "%s: LRN needs an [N, C, ...] input and an output of its shape", io->node->name);
    if (a->size < 1) return cnv_fail(CNV_ERR_ARG, "%s: LRN size %d must be positive", io->node->name, a->size);
    size_t inner = 1;
    for (int k = 2; k < s->ndim; k++) inner *= (size_t)s->d[k];
    const int lo = (a->size - 1) / 2;
    *p = (lrn_push){.n = (uint32_t)cnv_shape_numel(s), .c = (uint32_t)s->d[1], .inner = (uint32_t)inner,
                    .lo = lo, .hi = a->size - 1 - lo, .k = a->alpha / (float)a->size, .beta = a->beta,
                    .bias = a->bias};
    return CNV_OK;
}

static cnv_status lrn_kernel(cnv_vk_backend *vb, const char *shader, uint32_t bindings, uint32_t written,
                             const cnv_vk_pipeline **pipe) {
    cnv_vk_kernel_desc d = {.shader = shader, .bindings = bindings, .written = written, .push_size = sizeof(lrn_push),
                            .local_size = {cnv_vkb_local_1d(vb), 1, 1}};
    return cnv_vkb_kernel(vb, &d, pipe);
}

cnv_status cnv_vk_lrn_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    lrn_push push;
    CNV_TRY(lrn_params(io, &push));
    const cnv_vk_pipeline *pipe;
    CNV_TRY(lrn_kernel(vb, "lrn_fwd", 2, 0x2, &pipe));
    cnv_buf *bufs[2] = {io->in[0], io->out};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, push.n);
}

cnv_status cnv_vk_lrn_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    lrn_push push;
    CNV_TRY(lrn_params(io, &push));
    if (!io->grad_in[0]) return CNV_OK;
    const cnv_vk_pipeline *pipe;
    CNV_TRY(lrn_kernel(vb, "lrn_bwd_data", 3, 0x4, &pipe));
    cnv_buf *bufs[3] = {io->in[0], io->grad_out, io->grad_in[0]};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, push.n);
}
