/* Resample: shaders/resample_fwd.comp (one invocation per output element, four taps) and
 * resample_bwd_data.comp (the exact adjoint as a gather, one invocation per input element).
 * Same definition as runtime/cpu/resample.c. T (input 1) is a constant: grad_in[1] is left
 * alone. */
#include "vk_backend.h"

#include "core/status.h"

typedef struct resample_push {
    uint32_t total, c, hi, wi, ho, wo;
} resample_push;

static cnv_status resample_params(const cnv_op_io *io, size_t total, resample_push *p) {
    const cnv_shape *x = &io->in_shape[0], *t = &io->in_shape[1], *y = &io->out_shape;
    if (io->n_in != 2 || x->ndim != 4 || y->ndim != 4 || t->ndim != 2 || t->d[0] != x->d[0] || t->d[1] != 6 ||
        y->d[0] != x->d[0] || y->d[1] != x->d[1])
        return cnv_fail(CNV_ERR_SHAPE, "%s: Resample needs X [N,C,H,W], T [N,6] and a [N,C,Ho,Wo] output",
                        io->node->name);
    if (total > UINT32_MAX || cnv_shape_numel(x) > UINT32_MAX || cnv_shape_numel(y) > UINT32_MAX)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: Resample of %zu elements is too large for one dispatch",
                        io->node->name, total);
    *p = (resample_push){(uint32_t)total, (uint32_t)x->d[1], (uint32_t)x->d[2], (uint32_t)x->d[3],
                         (uint32_t)y->d[2], (uint32_t)y->d[3]};
    return CNV_OK;
}

static cnv_status resample_run(cnv_vk_backend *vb, const char *shader, cnv_buf *const *bufs, const resample_push *push) {
    cnv_vk_kernel_desc d = {.shader = shader, .bindings = 3, .written = 0x4, .push_size = sizeof *push,
                            .local_size = {cnv_vkb_local_1d(vb), 1, 1}};
    const cnv_vk_pipeline *pipe;
    CNV_TRY(cnv_vkb_kernel(vb, &d, &pipe));
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, push, push->total);
}

cnv_status cnv_vk_resample_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    resample_push push;
    CNV_TRY(resample_params(io, cnv_shape_numel(&io->out_shape), &push));
    cnv_buf *bufs[3] = {io->in[0], io->in[1], io->out};
    return resample_run(vb, "resample_fwd", bufs, &push);
}

cnv_status cnv_vk_resample_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    resample_push push;
    CNV_TRY(resample_params(io, cnv_shape_numel(&io->in_shape[0]), &push));
    if (!io->grad_in[0]) return CNV_OK;
    cnv_buf *bufs[3] = {io->in[1], io->grad_out, io->grad_in[0]};
    return resample_run(vb, "resample_bwd_data", bufs, &push);
}
