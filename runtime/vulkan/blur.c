/* Gaussian blur with clamped edges on the GPU: one gather kernel (shaders/blur_gather.comp) for
 * the forward and, with specialization constant 3 set, the exact adjoint accumulated into the
 * input gradient. Same definition as runtime/cpu/blur.c; the taps' normalization is summed here
 * in double. */
#include "vk_backend.h"

#include "core/status.h"

#include <math.h>

typedef struct blur_push {
    uint32_t n;
    int32_t H, W, r;
    float inv_two_sigma2, inv_total;
} blur_push;

static cnv_status blur_dispatch(cnv_vk_backend *vb, const cnv_op_io *io, uint32_t adjoint, cnv_buf *src,
                                cnv_buf *dst) {
    const cnv_shape *s = &io->out_shape;
    const double sigma = io->node->attrs.sigma;
    if (s->ndim != 4 || cnv_shape_numel(s) > UINT32_MAX)
        return cnv_fail(CNV_ERR_SHAPE, "%s: Blur needs an NCHW tensor of at most 2^32 elements", io->node->name);
    blur_push push = {(uint32_t)cnv_shape_numel(s), s->d[2], s->d[3], sigma > 0.0 ? (int32_t)ceil(3.0 * sigma) : 0,
                      0.0f, 1.0f};
    if (push.r > 0) {
        double total = 0.0;
        for (int k = -push.r; k <= push.r; k++) total += exp(-(double)k * k / (2.0 * sigma * sigma));
        push.inv_two_sigma2 = (float)(1.0 / (2.0 * sigma * sigma));
        push.inv_total = (float)(1.0 / total);
    }
    cnv_vk_kernel_desc d = {.shader = "blur_gather", .bindings = 2, .written = 0x2, .push_size = sizeof push,
                            .local_size = {cnv_vkb_local_1d(vb), 1, 1}, .spec = &adjoint, .spec_count = 1};
    const cnv_vk_pipeline *pipe;
    CNV_TRY(cnv_vkb_kernel(vb, &d, &pipe));
    cnv_buf *bufs[2] = {src, dst};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, push.n);
}

cnv_status cnv_vk_blur_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    return blur_dispatch(vb, io, 0, io->in[0], io->out);
}

cnv_status cnv_vk_blur_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    if (!io->grad_in[0]) return CNV_OK;
    return blur_dispatch(vb, io, 1, io->grad_out, io->grad_in[0]);
}
