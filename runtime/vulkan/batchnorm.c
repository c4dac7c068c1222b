/* Unfolded BatchNormalization, y = x * scale[c] + shift[c] over X [N, C, ...]. Forward and the
 * backward to X are elementwise (shaders/batchnorm_fwd.comp, batchnorm_bwd_data.comp); the
 * backward to the weights is a per-channel reduction, one workgroup per channel
 * (shaders/batchnorm_bwd_weights.comp). */
#include "vk_backend.h"

#include "core/status.h"

typedef struct bn_push {
    uint32_t n, channels, inner;
} bn_push;

static cnv_status plan(const cnv_op_io *io, bn_push *p) {
    const cnv_shape *s = &io->in_shape[0];
    if (io->n_in != 3 || s->ndim < 2 || !cnv_shape_equal(s, &io->out_shape))
        return cnv_fail(CNV_ERR_SHAPE, "%s: BatchNormalization needs X [N, C, ...], scale and shift", io->node->name);
    const size_t numel = cnv_shape_numel(s), c = (size_t)s->d[1];
    if (cnv_shape_numel(&io->in_shape[1]) != c || cnv_shape_numel(&io->in_shape[2]) != c)
        return cnv_fail(CNV_ERR_SHAPE, "%s: BatchNormalization scale and shift need %zu values", io->node->name, c);
    if (numel > UINT32_MAX)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: BatchNormalization input too large for one dispatch",
                        io->node->name);
    size_t inner = 1;
    for (int k = 2; k < s->ndim; k++) inner *= (size_t)s->d[k];
    *p = (bn_push){(uint32_t)numel, (uint32_t)c, (uint32_t)inner};
    return CNV_OK;
}

static cnv_status bn_kernel(cnv_vk_backend *vb, const char *shader, uint32_t bindings, uint32_t written,
                            const uint32_t *spec, uint32_t spec_count, const cnv_vk_pipeline **pipe) {
    cnv_vk_kernel_desc d = {.shader = shader, .bindings = bindings, .written = written, .push_size = sizeof(bn_push),
                            .local_size = {cnv_vkb_local_1d(vb), 1, 1}, .spec = spec, .spec_count = spec_count};
    return cnv_vkb_kernel(vb, &d, pipe);
}

cnv_status cnv_vk_batchnorm_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    bn_push push;
    CNV_TRY(plan(io, &push));
    const cnv_vk_pipeline *pipe;
    CNV_TRY(bn_kernel(vb, "batchnorm_fwd", 4, 0x8, NULL, 0, &pipe));
    cnv_buf *bufs[4] = {io->in[0], io->in[1], io->in[2], io->out};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, push.n);
}

/* dscale and dshift, one workgroup per channel (folded into y past the device's x limit). */
static cnv_status backward_weights(cnv_vk_backend *vb, const cnv_op_io *io, const bn_push *push) {
    const uint32_t want[2] = {io->grad_in[1] != NULL, io->grad_in[2] != NULL};
    const cnv_vk_pipeline *pipe;
    CNV_TRY(bn_kernel(vb, "batchnorm_bwd_weights", 4, 0xc, want, 2, &pipe));
    const uint32_t max_x = cnv_vkb_caps(vb)->max_workgroup_count[0];
    uint32_t groups[3] = {push->channels < max_x ? push->channels : max_x, 1, 1};
    if (push->channels > max_x) groups[1] = (push->channels + max_x - 1) / max_x;
    cnv_buf *bufs[4] = {io->in[0], io->grad_out, io->grad_in[1], io->grad_in[2]};
    return cnv_vkb_dispatch(vb, pipe, bufs, push, groups);
}

cnv_status cnv_vk_batchnorm_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    bn_push push;
    CNV_TRY(plan(io, &push));
    if (io->grad_in[0]) {
        const cnv_vk_pipeline *pipe;
        CNV_TRY(bn_kernel(vb, "batchnorm_bwd_data", 3, 0x4, NULL, 0, &pipe));
        cnv_buf *bufs[3] = {io->grad_out, io->in[1], io->grad_in[0]};
        CNV_TRY(cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, push.n));
    }
    if (io->grad_in[1] || io->grad_in[2]) CNV_TRY(backward_weights(vb, io, &push));
    return CNV_OK;
}
