/* The unary elementwise ops: shaders/unary_fwd.comp and unary_bwd.comp, the function picked by
 * specialization constant 3 (the op's number from shaders/elementwise_ops.h, read from its
 * descriptor), Relu's backward rule (core/backend.h) by constant 4, whether the backward writes
 * its gradient (grad_assign) rather than adding to it by constant 5. */
#include "vk_backend.h"

#include "core/status.h"

typedef struct unary_push {
    uint32_t n;
    float p0, p1;
} unary_push;

static cnv_status unary_params(const cnv_node *node, uint32_t *f, unary_push *push) {
    const int number = cnv_op_unary_number(node->op);
    *f = 0; /* written on every path; callers read it only on success */
    if (number < 0)
        return cnv_fail(CNV_ERR_INTERNAL, "vulkan: %s is not a unary elementwise op", cnv_op_name(node->op));
    *f = (uint32_t)number;
    float p[2];
    cnv_unary_params(node->op, &node->attrs, p);
    push->p0 = p[0];
    push->p1 = p[1];
    return CNV_OK;
}

/* spec: the function (constant 3) and, for the backward, the rule (constant 4). */
static cnv_status unary_kernel(cnv_vk_backend *vb, const char *shader, uint32_t bindings, uint32_t written,
                               const uint32_t *spec, uint32_t spec_count, const cnv_vk_pipeline **pipe) {
    cnv_vk_kernel_desc d = {.shader = shader, .bindings = bindings, .written = written,
                            .push_size = sizeof(unary_push), .local_size = {cnv_vkb_local_1d(vb), 1, 1},
                            .spec = spec, .spec_count = spec_count};
    return cnv_vkb_kernel(vb, &d, pipe);
}

cnv_status cnv_vk_unary_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    unary_push push = {(uint32_t)cnv_shape_numel(&io->out_shape), 0, 0};
    uint32_t f;
    CNV_TRY(unary_params(io->node, &f, &push));
    const cnv_vk_pipeline *pipe;
    CNV_TRY(unary_kernel(vb, "unary_fwd", 2, 0x2, &f, 1, &pipe));
    cnv_buf *bufs[2] = {io->in[0], io->out};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, push.n);
}

cnv_status cnv_vk_unary_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    if (!io->grad_in[0]) return CNV_OK;
    unary_push push = {(uint32_t)cnv_shape_numel(&io->out_shape), 0, 0};
    uint32_t f;
    CNV_TRY(unary_params(io->node, &f, &push));
    /* The modified rules exist for Relu only; the shader's numbering is cnv_backward_rule's. */
    uint32_t spec[3] = {f, io->node->op == CNV_OP_RELU ? (uint32_t)io->rule : (uint32_t)CNV_RULE_GRADIENT,
                        (uint32_t)(io->grad_assign & 1)};
    const cnv_vk_pipeline *pipe;
    CNV_TRY(unary_kernel(vb, "unary_bwd", 4, 0x8, spec, 3, &pipe));
    /* Relu's x is read from its output (y > 0 exactly where x > 0): its input may be a conv's
     * pre-activation that the executor did not keep (core/backend.h, relu_out). */
    cnv_buf *bufs[4] = {io->node->op == CNV_OP_RELU ? io->out : io->in[0], io->out, io->grad_out, io->grad_in[0]};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, push.n);
}
