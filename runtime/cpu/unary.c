/* The unary elementwise ops (core/op_list.h: the ops with a CNV_UNARY_* number), one switch over
 * the shared numbering (shaders/elementwise_ops.h). The value and the derivative mirror
 * shaders/unary.glsl exactly, kinks included (Relu'(0) = 0, LeakyRelu'(0) = 1, Clip' = 1 only
 * strictly inside (min, max), Elu'(x >= 0) = 1), so the CPU and Vulkan backends agree in the
 * choice of branch (the Vulkan erf is a rational approximation, not libm's, so Erf and Gelu agree
 * to about 1e-7). p0, p1 are the op's parameters (cnv_unary_params). Where the derivative is
 * cheaper from y = f(x) (derivative_reads_y), the backward reads the forward's output, which
 * holds the same y bit for bit, rather than computing it again (a Sigmoid's expf per element: the
 * vis graph's Sigmoid backward took 2.7 ms of a SqueezeNet batch-8 step). Relu's backward also
 * follows the deconvnet and guided-backprop rules (core/backend.h); the other ops ignore them. */
#include "cpu_ops.h"

#include "core/status.h"

#include <math.h>

#define SQRT_HALF 0.70710678118654752f
#define SQRT_2_OVER_PI 0.79788456080286536f
#define INV_SQRT_2PI 0.39894228040143268f
#define TWO_OVER_SQRT_PI 1.12837916709551257f
#define GELU_TANH_CUBIC 0.044715f

/* The argument of tanh in Gelu's tanh approximation. */
static float gelu_tanh_arg(float x) { return SQRT_2_OVER_PI * (x + GELU_TANH_CUBIC * x * x * x); }

CNV_CPU_INLINE float unary_value(int f, float p0, float p1, float x) {
    switch (f) {
    case CNV_UNARY_RELU: return x > 0.0f ? x : 0.0f;
    case CNV_UNARY_LEAKYRELU: return x >= 0.0f ? x : p0 * x;
    case CNV_UNARY_CLIP: return x < p0 ? p0 : (x > p1 ? p1 : x);
    case CNV_UNARY_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case CNV_UNARY_TANH: return tanhf(x);
    case CNV_UNARY_ELU: return x >= 0.0f ? x : p0 * expm1f(x);
    case CNV_UNARY_IDENTITY: return x;
    case CNV_UNARY_NEG: return -x;
    case CNV_UNARY_ABS: return fabsf(x);
    case CNV_UNARY_SQRT: return sqrtf(x);
    case CNV_UNARY_EXP: return expf(x);
    case CNV_UNARY_LOG: return logf(x);
    case CNV_UNARY_RECIPROCAL: return 1.0f / x;
    case CNV_UNARY_ERF: return erff(x);
    case CNV_UNARY_SOFTPLUS: return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x))); /* no overflow for large x */
    case CNV_UNARY_HARDSIGMOID: return fminf(fmaxf(p0 * x + p1, 0.0f), 1.0f);
    case CNV_UNARY_HARDSWISH: return x * fminf(fmaxf(x + 3.0f, 0.0f), 6.0f) / 6.0f;
    default: /* CNV_UNARY_GELU */
        return p0 != 0.0f ? 0.5f * x * (1.0f + tanhf(gelu_tanh_arg(x))) : 0.5f * x * (1.0f + erff(x * SQRT_HALF));
    }
}

/* f'(x), using y = f(x) where that is cheaper (sigmoid, tanh, elu, exp, sqrt, reciprocal). At the
 * kinks: Abs'(0) = 0, HardSigmoid' = alpha only strictly inside (0, 1), HardSwish' = x/3 + 1/2 on
 * [-3, 3] (PyTorch's choice). */
CNV_CPU_INLINE float unary_derivative(int f, float p0, float p1, float x, float y) {
    switch (f) {
    case CNV_UNARY_RELU: return x > 0.0f ? 1.0f : 0.0f;
    case CNV_UNARY_LEAKYRELU: return x >= 0.0f ? 1.0f : p0;
    case CNV_UNARY_CLIP: return (x > p0 && x < p1) ? 1.0f : 0.0f;
    case CNV_UNARY_SIGMOID: return y * (1.0f - y);
    case CNV_UNARY_TANH: return 1.0f - y * y;
    case CNV_UNARY_ELU: return x >= 0.0f ? 1.0f : y + p0; /* alpha*exp(x) = y + alpha */
    case CNV_UNARY_IDENTITY: return 1.0f;
    case CNV_UNARY_NEG: return -1.0f;
    case CNV_UNARY_ABS: return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);
    case CNV_UNARY_SQRT: return 0.5f / y;
    case CNV_UNARY_EXP: return y;
    case CNV_UNARY_LOG: return 1.0f / x;
    case CNV_UNARY_RECIPROCAL: return -y * y;
    case CNV_UNARY_ERF: return TWO_OVER_SQRT_PI * expf(-x * x);
    case CNV_UNARY_SOFTPLUS: return 1.0f / (1.0f + expf(-x));
    case CNV_UNARY_HARDSIGMOID: {
        const float z = p0 * x + p1;
        return (z > 0.0f && z < 1.0f) ? p0 : 0.0f;
    }
    case CNV_UNARY_HARDSWISH: return x < -3.0f ? 0.0f : (x <= 3.0f ? x / 3.0f + 0.5f : 1.0f);
    default: /* CNV_UNARY_GELU */
        if (p0 != 0.0f) {
            const float t = tanhf(gelu_tanh_arg(x));
            return 0.5f * (1.0f + t) +
                   0.5f * x * (1.0f - t * t) * SQRT_2_OVER_PI * (1.0f + 3.0f * GELU_TANH_CUBIC * x * x);
        }
        return 0.5f * (1.0f + erff(x * SQRT_HALF)) + x * INV_SQRT_2PI * expf(-0.5f * x * x);
    }
}

/* The ops whose unary_derivative uses its y. */
static int derivative_reads_y(int f) {
    return f == CNV_UNARY_SIGMOID || f == CNV_UNARY_TANH || f == CNV_UNARY_ELU || f == CNV_UNARY_SQRT ||
           f == CNV_UNARY_EXP || f == CNV_UNARY_RECIPROCAL;
}

static cnv_status check(const cnv_cpu_args *a, int *f, float p[2]) {
    *f = cnv_op_unary_number(a->node->op);
    if (*f < 0)
        return cnv_fail(CNV_ERR_INTERNAL, "%s: op %s is not a unary elementwise op", a->node->name,
                        cnv_op_name(a->node->op));
    if (a->n_in < 1 || cnv_shape_numel(&a->in_shape[0]) != cnv_shape_numel(&a->out_shape))
        return cnv_fail(CNV_ERR_SHAPE, "%s: output size differs from its input", a->node->name);
    cnv_unary_params(a->node->op, a->a, p);
    return CNV_OK;
}

typedef struct unary_job {
    int f;
    cnv_backward_rule rule;
    int assign; /* backward: dx is written, not added to */
    float p[2];
    const float *x, *dy;
    const float *fy; /* backward: the forward's output where derivative_reads_y (else y is computed) */
    float *y, *dx;
} unary_job;

CNV_CPU_INLINE void forward_range(int f, const unary_job *j, size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; i++) j->y[i] = unary_value(f, j->p[0], j->p[1], j->x[i]);
}

/* Relu is by far the most common op and has the cheapest body: it gets a copy of the loop of its
 * own (the same code, f constant), which the compiler vectorizes, once per x86-64 level
 * (CNV_CPU_CLONES: SqueezeNet batch 8's Relu backward took 19 ms a step on SSE2, 11.5 ms on
 * AVX-512). */
CNV_CPU_CLONES static void forward_job(void *ctx, size_t lo, size_t hi) {
    const unary_job *j = ctx;
    if (j->f == CNV_UNARY_RELU)
        forward_range(CNV_UNARY_RELU, j, lo, hi);
    else
        forward_range(j->f, j, lo, hi);
}

cnv_status cnv_cpu_unary_forward(const cnv_cpu_args *a) {
    unary_job j = {.x = a->in[0], .y = a->out};
    CNV_TRY(check(a, &j.f, j.p));
    cnv_cpu_parallel(cnv_shape_numel(&a->out_shape), CNV_CPU_PARALLEL_MIN, forward_job, &j);
    return CNV_OK;
}

/* dx = (or +=, without assign) the rule's gradient. */
CNV_CPU_INLINE void backward_range(int f, cnv_backward_rule rule, int assign, const unary_job *j, size_t lo, size_t hi) {
    const float *x = j->x, *dy = j->dy, *fy = j->fy;
    float *dx = j->dx;
    for (size_t i = lo; i < hi; i++) {
        float g;
        if (rule == CNV_RULE_DECONVNET)
            g = dy[i] > 0.0f ? dy[i] : 0.0f;
        else if (rule == CNV_RULE_GUIDED)
            g = (x[i] > 0.0f && dy[i] > 0.0f) ? dy[i] : 0.0f;
        else
            g = dy[i] * unary_derivative(f, j->p[0], j->p[1], x[i], fy ? fy[i] : unary_value(f, j->p[0], j->p[1], x[i]));
        dx[i] = assign ? g : dx[i] + g;
    }
}

CNV_CPU_CLONES static void backward_job(void *ctx, size_t lo, size_t hi) {
    const unary_job *j = ctx;
    const int relu = j->f == CNV_UNARY_RELU && j->rule == CNV_RULE_GRADIENT;
    if (relu && j->assign)
        backward_range(CNV_UNARY_RELU, CNV_RULE_GRADIENT, 1, j, lo, hi);
    else if (relu)
        backward_range(CNV_UNARY_RELU, CNV_RULE_GRADIENT, 0, j, lo, hi);
    else
        backward_range(j->f, j->rule, j->assign, j, lo, hi);
}

cnv_status cnv_cpu_unary_backward(const cnv_cpu_args *a) {
    /* Relu's derivative reads its output (y > 0 exactly where x > 0, NaN included): its input may
     * be a conv's pre-activation that the executor did not keep (core/backend.h, relu_out). */
    const float *x = a->node->op == CNV_OP_RELU ? a->out : a->in[0];
    unary_job j = {.x = x, .dy = a->grad_out, .dx = a->grad_in[0], .assign = cnv_cpu_assigns(a, 0)};
    CNV_TRY(check(a, &j.f, j.p));
    if (!j.dx) return CNV_OK;
    if (derivative_reads_y(j.f)) j.fy = a->out;
    j.rule = a->node->op == CNV_OP_RELU ? a->rule : CNV_RULE_GRADIENT;
    cnv_cpu_parallel(cnv_shape_numel(&a->out_shape), CNV_CPU_PARALLEL_MIN, backward_job, &j);
    return CNV_OK;
}
