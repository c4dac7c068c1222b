/* Concat along attrs.axis. Every tensor is viewed as (outer, axis, inner): each input owns one
 * contiguous block of d[axis] * inner floats in every outer slice of the output. One strided
 * block kernel (shaders/concat_block.comp) serves both directions: forward copies each input
 * into its blocks, backward adds each wanted gradient's blocks back (specialization constant 3),
 * or writes them where the gradient holds none yet (grad_assign). */
#include "vk_backend.h"

#include "core/status.h"

typedef struct concat_plan {
    size_t outer, inner, out_block;
    size_t block[CNV_MAX_INPUTS];  /* floats of each input per outer slice */
    size_t offset[CNV_MAX_INPUTS]; /* where that block starts in the output slice */
} concat_plan;

static cnv_status plan(const cnv_op_io *io, concat_plan *p) {
    const cnv_shape *o = &io->out_shape;
    const int axis = io->node->attrs.axis;
    if (io->n_in < 1 || io->n_in > CNV_MAX_INPUTS || axis < 0 || axis >= o->ndim)
        return cnv_fail(CNV_ERR_SHAPE, "%s: Concat axis %d or input count %d out of range", io->node->name, axis,
                        io->n_in);
    p->outer = p->inner = 1;
    for (int k = 0; k < axis; k++) p->outer *= (size_t)o->d[k];
    for (int k = axis + 1; k < o->ndim; k++) p->inner *= (size_t)o->d[k];
    size_t along = 0;
    for (int i = 0; i < io->n_in; i++) {
        const cnv_shape *s = &io->in_shape[i];
        int fits = s->ndim == o->ndim;
        for (int k = 0; fits && k < o->ndim; k++) fits = k == axis || s->d[k] == o->d[k];
        if (!fits)
            return cnv_fail(CNV_ERR_SHAPE, "%s: Concat input %d differs from the output off axis %d",
                            io->node->name, i, axis);
        p->offset[i] = along * p->inner;
        p->block[i] = (size_t)s->d[axis] * p->inner;
        along += (size_t)s->d[axis];
    }
    if (along != (size_t)o->d[axis])
        return cnv_fail(CNV_ERR_SHAPE, "%s: Concat inputs sum to %zu along axis %d, output has %d", io->node->name,
                        along, axis, o->d[axis]);
    p->out_block = along * p->inner;
    if (p->outer * p->out_block > UINT32_MAX)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: Concat output too large for one dispatch", io->node->name);
    return CNV_OK;
}

typedef struct block_push {
    uint32_t n, block, src_offset, src_stride, dst_offset, dst_stride;
} block_push;

static cnv_status move_blocks(cnv_vk_backend *vb, cnv_buf *src, cnv_buf *dst, const block_push *push,
                              uint32_t accumulate) {
    cnv_vk_kernel_desc d = {.shader = "concat_block", .bindings = 2, .written = 0x2, .push_size = sizeof *push,
                            .local_size = {cnv_vkb_local_1d(vb), 1, 1}, .spec = &accumulate, .spec_count = 1};
    const cnv_vk_pipeline *pipe;
    CNV_TRY(cnv_vkb_kernel(vb, &d, &pipe));
    cnv_buf *bufs[2] = {src, dst};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, push, push->n);
}

cnv_status cnv_vk_concat_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    concat_plan p;
    CNV_TRY(plan(io, &p));
    for (int i = 0; i < io->n_in; i++) {
        const block_push push = {(uint32_t)(p.outer * p.block[i]), (uint32_t)p.block[i], 0, (uint32_t)p.block[i],
                                 (uint32_t)p.offset[i], (uint32_t)p.out_block};
        CNV_TRY(move_blocks(vb, io->in[i], io->out, &push, 0));
    }
    return CNV_OK;
}

cnv_status cnv_vk_concat_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    concat_plan p;
    CNV_TRY(plan(io, &p));
    for (int i = 0; i < io->n_in; i++) {
        if (!io->grad_in[i]) continue;
        const block_push push = {(uint32_t)(p.outer * p.block[i]), (uint32_t)p.block[i], (uint32_t)p.offset[i],
                                 (uint32_t)p.out_block, 0, (uint32_t)p.block[i]};
        CNV_TRY(move_blocks(vb, io->grad_out, io->grad_in[i], &push, !(io->grad_assign >> i & 1)));
    }
    return CNV_OK;
}
