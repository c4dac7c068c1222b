/* Slice on the GPU (Split imports as one Slice per output): one kernel, shaders/slice.comp, where
 * each invocation owns an output element. Forward gathers the window; backward scatters dy into
 * dx through the same addressing (specialization constant 3). */
#include "vk_backend.h"

#include "core/status.h"

#include <stdint.h>

typedef struct slice_push {
    uint32_t n;
    int32_t base;
    uint32_t dims[CNV_MAX_DIMS];
    int32_t steps[CNV_MAX_DIMS];
} slice_push;

/* The window of the input as base + sum_k idx_k * steps[k], at CNV_MAX_DIMS dims (leading unit
 * dims), checked against the node's output. */
static cnv_status plan(const cnv_op_io *io, slice_push *p) {
    const cnv_shape *x = &io->in_shape[0];
    int first[CNV_MAX_DIMS], count[CNV_MAX_DIMS], step[CNV_MAX_DIMS];
    CNV_TRY(cnv_slice_resolve(&io->node->attrs, x, first, count, step, io->node->name));
    int ok = io->n_in == 1 && io->out_shape.ndim == x->ndim;
    for (int k = 0; ok && k < x->ndim; k++) ok = io->out_shape.d[k] == count[k];
    if (!ok) return cnv_fail(CNV_ERR_SHAPE, "%s: Slice output does not match its input and window", io->node->name);
    if (cnv_shape_numel(x) > INT32_MAX)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: Slice input too large for one dispatch", io->node->name);
    int64_t stride = 1, base = 0;
    const int lead = CNV_MAX_DIMS - x->ndim;
    for (int k = CNV_MAX_DIMS - 1; k >= 0; k--) {
        const int t = k - lead;
        p->dims[k] = t >= 0 ? (uint32_t)count[t] : 1;
        p->steps[k] = t >= 0 ? (int32_t)(stride * step[t]) : 0;
        if (t >= 0) {
            base += stride * first[t];
            stride *= x->d[t];
        }
    }
    p->base = (int32_t)base;
    p->n = (uint32_t)cnv_shape_numel(&io->out_shape);
    return CNV_OK;
}

static cnv_status slice_dispatch(cnv_vk_backend *vb, const cnv_op_io *io, cnv_buf *from, cnv_buf *to,
                                 uint32_t scatter) {
    slice_push push;
    CNV_TRY(plan(io, &push));
    cnv_vk_kernel_desc d = {.shader = "slice", .bindings = 2, .written = 0x2, .push_size = sizeof push,
                            .local_size = {cnv_vkb_local_1d(vb), 1, 1}, .spec = &scatter, .spec_count = 1};
    const cnv_vk_pipeline *pipe;
    CNV_TRY(cnv_vkb_kernel(vb, &d, &pipe));
    cnv_buf *bufs[2] = {from, to};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, push.n);
}

cnv_status cnv_vk_slice_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    return slice_dispatch(vb, io, io->in[0], io->out, 0);
}

cnv_status cnv_vk_slice_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    if (!io->grad_in[0]) return CNV_OK;
    return slice_dispatch(vb, io, io->grad_out, io->grad_in[0], 1);
}
