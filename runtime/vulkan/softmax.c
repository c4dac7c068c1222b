/* Softmax: shaders/softmax_fwd.comp and softmax_bwd_data.comp, line reductions (line_reduce.h)
 * over the (outer, D, inner) view: opset >= 13 normalizes along the one axis (D = d[axis],
 * inner = the dims after it); legacy opsets (< 13) over all of [axis, end) (inner = 1). The
 * backward reads the forward's output y: dx += y * (dy - sum(dy * y)). */
#include "line_reduce.h"

#include "core/status.h"

typedef struct softmax_push {
    uint32_t lines, d, inner;
} softmax_push;

static cnv_status softmax_params(const cnv_op_io *io, softmax_push *p) {
    const cnv_shape *s = &io->in_shape[0];
    const int axis = io->node->attrs.axis;
    if (io->n_in < 1 || !cnv_shape_equal(s, &io->out_shape) || axis < 0 || axis >= s->ndim)
        return cnv_fail(CNV_ERR_SHAPE, "%s: Softmax axis %d outside its %d-D input", io->node->name, axis, s->ndim);
    size_t outer = 1, d = 1, inner = 1;
    for (int k = 0; k < s->ndim; k++) {
        if (k < axis)
            outer *= (size_t)s->d[k];
        else if (k == axis || io->node->attrs.softmax_legacy)
            d *= (size_t)s->d[k];
        else
            inner *= (size_t)s->d[k];
    }
    *p = (softmax_push){(uint32_t)(outer * inner), (uint32_t)d, (uint32_t)inner};
    return CNV_OK;
}

static cnv_status softmax_run(cnv_vk_backend *vb, const char *shader, uint32_t bindings, uint32_t written,
                              cnv_buf *const *bufs, const softmax_push *push) {
    cnv_vk_line_kernel k;
    CNV_TRY(cnv_vk_line_kernel_get(vb, shader, bindings, written, sizeof *push, push->d, &k));
    return cnv_vk_line_dispatch(vb, &k, bufs, push, push->d ? push->lines : 0);
}

cnv_status cnv_vk_softmax_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    softmax_push push;
    CNV_TRY(softmax_params(io, &push));
    cnv_buf *bufs[2] = {io->in[0], io->out};
    return softmax_run(vb, "softmax_fwd", 2, 0x2, bufs, &push);
}

cnv_status cnv_vk_softmax_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    softmax_push push;
    CNV_TRY(softmax_params(io, &push));
    if (!io->grad_in[0]) return CNV_OK;
    cnv_buf *bufs[3] = {io->out, io->grad_out, io->grad_in[0]};
    return softmax_run(vb, "softmax_bwd_data", 3, 0x4, bufs, &push);
}
