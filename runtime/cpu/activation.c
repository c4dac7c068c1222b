/* Elementwise activations: Relu, LeakyRelu, Clip, Sigmoid, Tanh, Elu. The value and the
 * derivative mirror shaders/activation.glsl exactly, kinks included (Relu'(0) = 0,
 * LeakyRelu'(0) = 1, Clip' = 1 only strictly inside (min, max), Elu'(x >= 0) = 1), so the
 * CPU and Vulkan backends agree bit-for-bit in the choice of branch. The backward recomputes
 * y from x, so it needs only the input and grad_out. Relu's backward also follows the
 * deconvnet and guided-backprop rules (core/backend.h); the other activations ignore them. */
#include "cpu_ops.h"

#include "core/status.h"

#include <math.h>

static int is_activation(cnv_op_type op) {
    return op == CNV_OP_RELU || op == CNV_OP_LEAKYRELU || op == CNV_OP_CLIP || op == CNV_OP_SIGMOID ||
           op == CNV_OP_TANH || op == CNV_OP_ELU;
}

static float act_value(cnv_op_type op, const cnv_attrs *p, float x) {
    switch (op) {
    case CNV_OP_RELU: return x > 0.0f ? x : 0.0f;
    case CNV_OP_LEAKYRELU: return x >= 0.0f ? x : p->alpha * x;
    case CNV_OP_CLIP: return x < p->min ? p->min : (x > p->max ? p->max : x);
    case CNV_OP_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case CNV_OP_TANH: return tanhf(x);
    default: return x >= 0.0f ? x : p->alpha * expm1f(x); /* Elu */
    }
}

/* f'(x), using y = f(x) where that is cheaper (sigmoid, tanh, elu). */
static float act_derivative(cnv_op_type op, const cnv_attrs *p, float x, float y) {
    switch (op) {
    case CNV_OP_RELU: return x > 0.0f ? 1.0f : 0.0f;
    case CNV_OP_LEAKYRELU: return x >= 0.0f ? 1.0f : p->alpha;
    case CNV_OP_CLIP: return (x > p->min && x < p->max) ? 1.0f : 0.0f;
    case CNV_OP_SIGMOID: return y * (1.0f - y);
    case CNV_OP_TANH: return 1.0f - y * y;
    default: return x >= 0.0f ? 1.0f : y + p->alpha; /* Elu: alpha*exp(x) = y + alpha */
    }
}

static cnv_status check(const cnv_cpu_args *a) {
    if (!is_activation(a->node->op))
        return cnv_fail(CNV_ERR_INTERNAL, "%s: op %s is not an activation", a->node->name,
                        cnv_op_name(a->node->op));
    if (a->n_in < 1 || cnv_shape_numel(&a->in_shape[0]) != cnv_shape_numel(&a->out_shape))
        return cnv_fail(CNV_ERR_SHAPE, "%s: activation output size differs from its input", a->node->name);
    return CNV_OK;
}

cnv_status cnv_cpu_activation_forward(const cnv_cpu_args *a) {
    CNV_TRY(check(a));
    const cnv_op_type op = a->node->op;
    const size_t n = cnv_shape_numel(&a->out_shape);
    for (size_t i = 0; i < n; i++) a->out[i] = act_value(op, a->a, a->in[0][i]);
    return CNV_OK;
}

cnv_status cnv_cpu_activation_backward(const cnv_cpu_args *a) {
    CNV_TRY(check(a));
    float *dx = a->grad_in[0];
    if (!dx) return CNV_OK;
    const cnv_op_type op = a->node->op;
    const size_t n = cnv_shape_numel(&a->out_shape);
    const cnv_backward_rule rule = op == CNV_OP_RELU ? a->rule : CNV_RULE_GRADIENT;
    for (size_t i = 0; i < n; i++) {
        const float x = a->in[0][i], dy = a->grad_out[i];
        if (rule == CNV_RULE_DECONVNET)
            dx[i] += dy > 0.0f ? dy : 0.0f;
        else if (rule == CNV_RULE_GUIDED)
            dx[i] += (x > 0.0f && dy > 0.0f) ? dy : 0.0f;
        else
            dx[i] += dy * act_derivative(op, a->a, x, act_value(op, a->a, x));
    }
    return CNV_OK;
}
