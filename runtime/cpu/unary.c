/* The unary elementwise ops (core/op_list.h: the ops with a CNV_UNARY_* number), one switch over
 * the shared numbering (shaders/elementwise_ops.h). The value and the derivative mirror
 * shaders/unary.glsl exactly, kinks included (Relu'(0) = 0, LeakyRelu'(0) = 1, Clip' = 1 only
 * strictly inside (min, max), Elu'(x >= 0) = 1), so the CPU and Vulkan backends agree in the
 * choice of branch. p0, p1 are the op's parameters (cnv_unary_params). The backward recomputes y
 * from x, so it needs only the input and grad_out. Relu's backward also follows the deconvnet
 * and guided-backprop rules (core/backend.h); the other ops ignore them. */
#include "cpu_ops.h"

#include "core/status.h"

#include <math.h>

static float unary_value(int f, float p0, float p1, float x) {
    switch (f) {
    case CNV_UNARY_RELU: return x > 0.0f ? x : 0.0f;
    case CNV_UNARY_LEAKYRELU: return x >= 0.0f ? x : p0 * x;
    case CNV_UNARY_CLIP: return x < p0 ? p0 : (x > p1 ? p1 : x);
    case CNV_UNARY_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case CNV_UNARY_TANH: return tanhf(x);
    default: return x >= 0.0f ? x : p0 * expm1f(x); /* CNV_UNARY_ELU */
    }
}

/* f'(x), using y = f(x) where that is cheaper (sigmoid, tanh, elu). */
static float unary_derivative(int f, float p0, float p1, float x, float y) {
    switch (f) {
    case CNV_UNARY_RELU: return x > 0.0f ? 1.0f : 0.0f;
    case CNV_UNARY_LEAKYRELU: return x >= 0.0f ? 1.0f : p0;
    case CNV_UNARY_CLIP: return (x > p0 && x < p1) ? 1.0f : 0.0f;
    case CNV_UNARY_SIGMOID: return y * (1.0f - y);
    case CNV_UNARY_TANH: return 1.0f - y * y;
    default: return x >= 0.0f ? 1.0f : y + p0; /* CNV_UNARY_ELU: alpha*exp(x) = y + alpha */
    }
}

static cnv_status check(const cnv_cpu_args *a, int *f, float p[2]) {
    *f = cnv_op_desc_of(a->node->op)->elementwise;
    if (cnv_op_desc_of(a->node->op)->shape != CNV_SHAPE_SAME || *f < 0 || *f >= CNV_UNARY_COUNT)
        return cnv_fail(CNV_ERR_INTERNAL, "%s: op %s is not a unary elementwise op", a->node->name,
                        cnv_op_name(a->node->op));
    if (a->n_in < 1 || cnv_shape_numel(&a->in_shape[0]) != cnv_shape_numel(&a->out_shape))
        return cnv_fail(CNV_ERR_SHAPE, "%s: output size differs from its input", a->node->name);
    cnv_unary_params(a->node->op, a->a, p);
    return CNV_OK;
}

cnv_status cnv_cpu_unary_forward(const cnv_cpu_args *a) {
    int f;
    float p[2];
    CNV_TRY(check(a, &f, p));
    const size_t n = cnv_shape_numel(&a->out_shape);
    for (size_t i = 0; i < n; i++) a->out[i] = unary_value(f, p[0], p[1], a->in[0][i]);
    return CNV_OK;
}

cnv_status cnv_cpu_unary_backward(const cnv_cpu_args *a) {
    int f;
    float p[2];
    CNV_TRY(check(a, &f, p));
    float *dx = a->grad_in[0];
    if (!dx) return CNV_OK;
    const size_t n = cnv_shape_numel(&a->out_shape);
    const cnv_backward_rule rule = a->node->op == CNV_OP_RELU ? a->rule : CNV_RULE_GRADIENT;
    for (size_t i = 0; i < n; i++) {
        const float x = a->in[0][i], dy = a->grad_out[i];
        if (rule == CNV_RULE_DECONVNET)
            dx[i] += dy > 0.0f ? dy : 0.0f;
        else if (rule == CNV_RULE_GUIDED)
            dx[i] += (x > 0.0f && dy > 0.0f) ? dy : 0.0f;
        else
            dx[i] += dy * unary_derivative(f, p[0], p[1], x, unary_value(f, p[0], p[1], x));
    }
    return CNV_OK;
}
