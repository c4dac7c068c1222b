/* Resize: shaders/resize_fwd.comp (one invocation per output element) and resize_bwd_data.comp
 * (the adjoint as a gather, one invocation per input element). Mode, coordinate transform and
 * rounding are specialization constants; the scales of the transform are push constants. Same
 * definition as runtime/cpu/resize.c. */
#include "vk_backend.h"

#include "core/status.h"

typedef struct resize_push {
    uint32_t n;
    int32_t h, w, oh, ow;
    float scale_h, scale_w;
} resize_push;

static cnv_status plan(const cnv_op_io *io, resize_push *p) {
    const cnv_shape *x = &io->in_shape[0], *y = &io->out_shape;
    if (x->ndim != 4 || y->ndim != 4 || y->d[0] != x->d[0] || y->d[1] != x->d[1] || x->d[2] < 1 || x->d[3] < 1)
        return cnv_fail(CNV_ERR_SHAPE, "%s: Resize expects NCHW input and output of the same N, C", io->node->name);
    if (cnv_shape_numel(x) > INT32_MAX || cnv_shape_numel(y) > INT32_MAX)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: Resize tensor too large for one dispatch", io->node->name);
    const cnv_attrs *a = &io->node->attrs;
    *p = (resize_push){0, x->d[2], x->d[3], y->d[2], y->d[3], cnv_resize_scale(a, 0, x->d[2], y->d[2]),
                       cnv_resize_scale(a, 1, x->d[3], y->d[3])};
    return CNV_OK;
}

static cnv_status resize_dispatch(cnv_vk_backend *vb, const cnv_op_io *io, const char *shader, cnv_buf *src,
                                  cnv_buf *dst, resize_push *push, size_t n) {
    const cnv_attrs *a = &io->node->attrs;
    const uint32_t spec[3] = {(uint32_t)a->resize_mode, (uint32_t)a->resize_coord, (uint32_t)a->resize_nearest};
    cnv_vk_kernel_desc d = {.shader = shader, .bindings = 2, .written = 0x2, .push_size = sizeof *push,
                            .local_size = {cnv_vkb_local_1d(vb), 1, 1}, .spec = spec, .spec_count = 3};
    const cnv_vk_pipeline *pipe;
    CNV_TRY(cnv_vkb_kernel(vb, &d, &pipe));
    push->n = (uint32_t)n;
    cnv_buf *bufs[2] = {src, dst};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, push, n);
}

cnv_status cnv_vk_resize_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    resize_push push;
    CNV_TRY(plan(io, &push));
    return resize_dispatch(vb, io, "resize_fwd", io->in[0], io->out, &push, cnv_shape_numel(&io->out_shape));
}

cnv_status cnv_vk_resize_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    resize_push push;
    CNV_TRY(plan(io, &push));
    if (!io->grad_in[0]) return CNV_OK;
    return resize_dispatch(vb, io, "resize_bwd_data", io->grad_out, io->grad_in[0], &push,
                           cnv_shape_numel(&io->in_shape[0]));
}
