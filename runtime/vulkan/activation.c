/* Relu, LeakyRelu, Clip, Sigmoid, Tanh, Elu: shaders/activation_fwd.comp and
 * activation_bwd.comp, the function picked by specialization constant 3 (activation.glsl), Relu's
 * backward rule (core/backend.h) by constant 4. */
#include "vk_backend.h"

#include "core/status.h"

typedef struct act_push {
    uint32_t n;
    float p0, p1;
} act_push;

/* The kernel's own numbering (shaders/activation.glsl), and its two parameters. */
static cnv_status act_params(const cnv_node *node, uint32_t *act, act_push *push) {
    const cnv_attrs *a = &node->attrs;
    *act = 0; /* written on every path; callers read it only on success */
    switch (node->op) {
    case CNV_OP_RELU: *act = 0; break;
    case CNV_OP_LEAKYRELU: *act = 1; push->p0 = a->alpha; break;
    case CNV_OP_CLIP: *act = 2; push->p0 = a->min; push->p1 = a->max; break;
    case CNV_OP_SIGMOID: *act = 3; break;
    case CNV_OP_TANH: *act = 4; break;
    case CNV_OP_ELU: *act = 5; push->p0 = a->alpha; break;
    default: return cnv_fail(CNV_ERR_INTERNAL, "vulkan: %s is not an activation", cnv_op_name(node->op));
    }
    return CNV_OK;
}

/* spec: the activation (constant 3) and, for the backward, the rule (constant 4). */
static cnv_status act_kernel(cnv_vk_backend *vb, const char *shader, uint32_t bindings, uint32_t written,
                             const uint32_t *spec, uint32_t spec_count, const cnv_vk_pipeline **pipe) {
    cnv_vk_kernel_desc d = {.shader = shader, .bindings = bindings, .written = written,
                            .push_size = sizeof(act_push), .local_size = {cnv_vkb_local_1d(vb), 1, 1},
                            .spec = spec, .spec_count = spec_count};
    return cnv_vkb_kernel(vb, &d, pipe);
}

cnv_status cnv_vk_activation_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    act_push push = {(uint32_t)cnv_shape_numel(&io->out_shape), 0, 0};
    uint32_t act;
    CNV_TRY(act_params(io->node, &act, &push));
    const cnv_vk_pipeline *pipe;
    CNV_TRY(act_kernel(vb, "activation_fwd", 2, 0x2, &act, 1, &pipe));
    cnv_buf *bufs[2] = {io->in[0], io->out};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, push.n);
}

cnv_status cnv_vk_activation_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    if (!io->grad_in[0]) return CNV_OK;
    act_push push = {(uint32_t)cnv_shape_numel(&io->out_shape), 0, 0};
    uint32_t act;
    CNV_TRY(act_params(io->node, &act, &push));
    /* The modified rules exist for Relu only; the shader's numbering is cnv_backward_rule's. */
    uint32_t spec[2] = {act, io->node->op == CNV_OP_RELU ? (uint32_t)io->rule : (uint32_t)CNV_RULE_GRADIENT};
    const cnv_vk_pipeline *pipe;
    CNV_TRY(act_kernel(vb, "activation_bwd", 4, 0x8, spec, 2, &pipe));
    cnv_buf *bufs[4] = {io->in[0], io->out, io->grad_out, io->grad_in[0]};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, push.n);
}
