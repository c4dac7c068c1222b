/* Pad in constant, reflect and edge modes, up to 4-D, negative pads cropping. Forward gathers
 * each output element's source (shaders/pad_fwd.comp); backward gathers, per input element, the
 * gradient of every output position that read it (shaders/pad_bwd_data.comp), so reflect and
 * edge, which read a source many times, need no atomics. The mode is specialization constant 3. */
#include "vk_backend.h"

#include "core/status.h"

typedef struct pad_push {
    uint32_t n;
    int32_t in4[4], out4[4], begin4[4];
    float value;
} pad_push;

/* The kernel's own numbering of modes (shaders/pad.glsl). */
static uint32_t kernel_mode(cnv_pad_mode mode) {
    switch (mode) {
    case CNV_PAD_REFLECT: return 1;
    case CNV_PAD_EDGE: return 2;
    default: return 0;
    }
}

static cnv_status plan(const cnv_op_io *io, pad_push *p) {
    const cnv_shape *s = &io->in_shape[0], *o = &io->out_shape;
    const cnv_attrs *a = &io->node->attrs;
    if (io->n_in < 1 || s->ndim != o->ndim || s->ndim > CNV_PAD_MAX_DIMS)
        return cnv_fail(CNV_ERR_SHAPE, "%s: Pad output rank differs from its input's", io->node->name);
    if (cnv_shape_numel(o) > INT32_MAX || cnv_shape_numel(s) > INT32_MAX)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: Pad tensor too large for one dispatch", io->node->name);
    const int lead = CNV_PAD_MAX_DIMS - s->ndim;
    for (int k = 0; k < CNV_PAD_MAX_DIMS; k++) {
        const int t = k - lead; /* the tensor's own dim */
        p->in4[k] = t >= 0 ? s->d[t] : 1;
        p->out4[k] = t >= 0 ? o->d[t] : 1;
        p->begin4[k] = t >= 0 ? a->pad_full[t] : 0;
        const int end = t >= 0 ? a->pad_full[CNV_MAX_DIMS + t] : 0;
        if (p->out4[k] != p->in4[k] + p->begin4[k] + end || p->out4[k] < 0)
            return cnv_fail(CNV_ERR_SHAPE, "%s: Pad output dim %d is %d, pads give %d", io->node->name, t,
                            p->out4[k], p->in4[k] + p->begin4[k] + end);
        if (a->pad_mode != CNV_PAD_CONSTANT && p->in4[k] == 0 && p->out4[k] > 0)
            return cnv_fail(CNV_ERR_SHAPE, "%s: Pad cannot reflect or extend an empty dim", io->node->name);
    }
    p->value = a->pad_value;
    return CNV_OK;
}

static cnv_status pad_dispatch(cnv_vk_backend *vb, const cnv_op_io *io, const char *shader, cnv_buf *src,
                               cnv_buf *dst, pad_push *push, size_t n) {
    const uint32_t mode = kernel_mode(io->node->attrs.pad_mode);
    cnv_vk_kernel_desc d = {.shader = shader, .bindings = 2, .written = 0x2, .push_size = sizeof *push,
                            .local_size = {cnv_vkb_local_1d(vb), 1, 1}, .spec = &mode, .spec_count = 1};
    const cnv_vk_pipeline *pipe;
    CNV_TRY(cnv_vkb_kernel(vb, &d, &pipe));
    push->n = (uint32_t)n;
    cnv_buf *bufs[2] = {src, dst};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, push, n);
}

cnv_status cnv_vk_pad_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    pad_push push;
    CNV_TRY(plan(io, &push));
    return pad_dispatch(vb, io, "pad_fwd", io->in[0], io->out, &push, cnv_shape_numel(&io->out_shape));
}

cnv_status cnv_vk_pad_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    pad_push push;
    CNV_TRY(plan(io, &push));
    if (!io->grad_in[0]) return CNV_OK;
    return pad_dispatch(vb, io, "pad_bwd_data", io->grad_out, io->grad_in[0], &push, cnv_shape_numel(&io->in_shape[0]));
}
