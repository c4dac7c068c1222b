/* The binary elementwise ops with multidirectional (numpy) broadcasting: shaders/binary_fwd.comp
 * and binary_bwd.comp, the function picked by specialization constant 3 (the op's number from
 * shaders/elementwise_ops.h). Shapes are viewed at CNV_MAX_DIMS dims with leading unit
 * dims. The forward maps each output element to both inputs; the backward, run once per wanted
 * input (constant 4), gathers per gradient element dy * df/d(input) over the positions broadcast
 * from it, so no atomics. It serves an input that is a weight (a bias, PRelu's slope) alike. */
#include "vk_backend.h"

#include "core/status.h"

#define R CNV_MAX_DIMS

typedef struct binary_push {
    uint32_t n, out_dims[R], a_dims[R], b_dims[R];
} binary_push;

static cnv_status plan(const cnv_op_io *io, uint32_t *f, binary_push *p) {
    const int number = cnv_op_binary_number(io->node->op);
    const cnv_shape *o = &io->out_shape;
    *f = 0; /* written on every path; callers read it only on success */
    if (number < 0)
        return cnv_fail(CNV_ERR_INTERNAL, "vulkan: %s is not a binary elementwise op", cnv_op_name(io->node->op));
    *f = (uint32_t)number;
    if (io->n_in != 2 || o->ndim > R || io->in_shape[0].ndim > o->ndim || io->in_shape[1].ndim > o->ndim)
        return cnv_fail(CNV_ERR_SHAPE, "%s: %s needs two inputs of rank up to the output's", io->node->name,
                        cnv_op_name(io->node->op));
    const size_t numel = cnv_shape_numel(o);
    if (numel > UINT32_MAX)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: %s output too large for one dispatch", io->node->name,
                        cnv_op_name(io->node->op));
    p->n = (uint32_t)numel;
    for (int k = 0; k < R; k++) p->out_dims[k] = k >= R - o->ndim ? (uint32_t)o->d[k - (R - o->ndim)] : 1;
    for (int i = 0; i < 2; i++) {
        const cnv_shape *s = &io->in_shape[i];
        uint32_t *dims = i ? p->b_dims : p->a_dims;
        for (int k = 0; k < R; k++) {
            dims[k] = k >= R - s->ndim ? (uint32_t)s->d[k - (R - s->ndim)] : 1;
            if (dims[k] != p->out_dims[k] && dims[k] != 1)
                return cnv_fail(CNV_ERR_SHAPE, "%s: %s input %d does not broadcast to the output", io->node->name,
                                cnv_op_name(io->node->op), i);
        }
    }
    return CNV_OK;
}

static cnv_status binary_kernel(cnv_vk_backend *vb, const char *shader, uint32_t bindings, const uint32_t *spec,
                                uint32_t spec_count, const cnv_vk_pipeline **pipe) {
    cnv_vk_kernel_desc d = {.shader = shader, .bindings = bindings, .written = 1u << (bindings - 1),
                            .push_size = sizeof(binary_push), .local_size = {cnv_vkb_local_1d(vb), 1, 1},
                            .spec = spec, .spec_count = spec_count};
    return cnv_vkb_kernel(vb, &d, pipe);
}

cnv_status cnv_vk_binary_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    binary_push push;
    uint32_t f;
    CNV_TRY(plan(io, &f, &push));
    const cnv_vk_pipeline *pipe;
    CNV_TRY(binary_kernel(vb, "binary_fwd", 3, &f, 1, &pipe));
    cnv_buf *bufs[3] = {io->in[0], io->in[1], io->out};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, push.n);
}

cnv_status cnv_vk_binary_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    binary_push push;
    uint32_t f;
    CNV_TRY(plan(io, &f, &push));
    for (uint32_t which = 0; which < 2; which++) {
        if (!io->grad_in[which]) continue;
        const uint32_t spec[3] = {f, which, (uint32_t)(io->grad_assign >> which & 1)};
        const cnv_vk_pipeline *pipe;
        CNV_TRY(binary_kernel(vb, "binary_bwd", 4, spec, 3, &pipe));
        binary_push p = push;
        p.n = (uint32_t)cnv_shape_numel(&io->in_shape[which]);
        cnv_buf *bufs[4] = {io->in[0], io->in[1], io->grad_out, io->grad_in[which]};
        CNV_TRY(cnv_vkb_dispatch_1d(vb, pipe, bufs, &p, p.n));
    }
    return CNV_OK;
}
