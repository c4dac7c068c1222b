/* The ONNX ops that are compositions of cnnvis ops, imported as those ops so that both backends,
 * their gradients and the exporter need nothing new:
 *   LayerNormalization (opset 17)  Y = (X - mean) / sqrt(var + eps) * Scale + B over axes axis..
 *   InstanceNormalization          the same per sample and channel (axes 2..), Scale and B per channel
 *   GlobalMaxPool                  ReduceMax over axes 2.. with the dims kept
 *   LogSoftmax                     (x - max) - log(sum(exp(x - max))): stable for any logits
 *   Selu                           gamma * Elu(x, alpha)
 *   Cast to float of an activation Identity (activations are float32 already)
 *   ReduceMin, ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSum, ReduceLogSumExp
 *                                  Neg/Abs/Pow/Exp around ReduceMax or ReduceSum (logsumexp shifted
 *                                  by the maximum), with ReduceMean's axes and keepdims rules
 * mean and var are ReduceMeans (var of (X - mean)^2, the biased variance both norms specify);
 * the steps and the normalization are models/compose.c's, which Keras' LayerNormalization uses
 * too. Each step is named '<node>/<step>' with output '<output>/<step>'; the last step carries
 * the node's own names, so layers are found by their ONNX names. LayerNormalization's optional Mean
 * and InvStdDev outputs are the mean step and a Reciprocal of the standard deviation, under their
 * ONNX names. */
#include "onnx_internal.h"
#include "models/compose.h"
#include "core/status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct norm_ctx {
    onnx_import *im;
    const Onnx__NodeProto *n;
    compose co; /* the steps: named after the node and its first output */
    char what[600];
} norm_ctx;

static cnv_status norm_fail(const norm_ctx *c, cnv_status s, const char *problem) {
    return compose_refuse(&c->co, s, problem);
}

static int given(const Onnx__NodeProto *n, size_t k) { return k < n->n_input && n->input[k][0]; }

/* An ONNX constant is a value name too: a step may not take it. */
static int const_taken(const void *im, const char *name) { return onnx_find_const(im, name) != NULL; }

static void norm_ctx_init(norm_ctx *c, onnx_import *im, const Onnx__NodeProto *n) {
    c->im = im;
    c->n = n;
    snprintf(c->what, sizeof c->what, "node '%s' (%s)", onnx_node_name(n), n->op_type);
    c->co = (compose){im->g, im->path, c->what, onnx_node_name(n), n->n_output ? n->output[0] : "", const_taken, im};
}

/* A constant float input k as a weight broadcast against the data: its own dims for LayerNorm
 * (numpy broadcasting aligns them with the trailing dims), [C, 1, ...] for InstanceNorm. */
static cnv_status affine(const norm_ctx *c, size_t k, const char *what, const cnv_shape *want, int *out) {
    const onnx_const *w = onnx_find_const(c->im, c->n->input[k]);
    if (!w || !w->f) {
        char msg[600];
        snprintf(msg, sizeof msg, "needs a constant float %s: '%s'", what, c->n->input[k]);
        return norm_fail(c, CNV_ERR_UNSUPPORTED, msg);
    }
    if (w->count != cnv_shape_numel(want)) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s '%s' holds %zu values; the data needs %zu", what, c->n->input[k], w->count,
                 cnv_shape_numel(want));
        return norm_fail(c, CNV_ERR_SHAPE, msg);
    }
    return compose_weight(&c->co, what, want, w->f, 0, out);
}

static float float_attr(const norm_ctx *c, const char *name, float def) {
    const Onnx__AttributeProto *a = onnx_find_attr(c->n, name);
    return a ? a->f : def;
}

static cnv_status data_value(const norm_ctx *c, int *x) {
    if (!given(c->n, 0)) return norm_fail(c, CNV_ERR_FORMAT, "missing its data input");
    return onnx_resolve_value(c->im, c->n, c->n->input[0], x);
}

static cnv_status import_layernorm(const norm_ctx *c) {
    CNV_TRY(onnx_only_attrs(c->im, c->n, "axis epsilon stash_type"));
    const Onnx__AttributeProto *st = onnx_find_attr(c->n, "stash_type");
    if (st && st->i != 1) return norm_fail(c, CNV_ERR_UNSUPPORTED, "stash_type other than 1 (float32)");
    if (!given(c->n, 1)) return norm_fail(c, CNV_ERR_FORMAT, "missing Scale");
    if (c->n->n_input > 3) return norm_fail(c, CNV_ERR_FORMAT, "more than 3 inputs");
    int x;
    CNV_TRY(data_value(c, &x));
    const cnv_shape xs = c->im->g->values[x].shape;
    const Onnx__AttributeProto *ax = onnx_find_attr(c->n, "axis");
    int64_t axis = ax ? ax->i : -1;
    if (axis < 0) axis += xs.ndim;
    if (axis < 0 || axis >= xs.ndim) return norm_fail(c, CNV_ERR_SHAPE, "axis out of range for the input");
    int axes = 0;
    cnv_shape trailing = {0, {0}};
    for (int d = (int)axis; d < xs.ndim; d++) axes |= 1 << d, trailing.d[trailing.ndim++] = xs.d[d];
    const int has_bias = given(c->n, 2);
    const char *mean_out = c->n->n_output > 1 && c->n->output[1][0] ? c->n->output[1] : NULL;
    const char *inv_out = c->n->n_output > 2 && c->n->output[2][0] ? c->n->output[2] : NULL;
    if (c->n->n_output > 3) return norm_fail(c, CNV_ERR_FORMAT, "more than 3 outputs");
    int scale, bias = -1, y, sd, inv;
    CNV_TRY(affine(c, 1, "scale", &trailing, &scale));
    if (has_bias) CNV_TRY(affine(c, 2, "bias", &trailing, &bias));
    CNV_TRY(compose_normalize(&c->co, x, axes, float_attr(c, "epsilon", 1e-5f), scale, bias, mean_out, c->n->output[0],
                              &y, &sd));
    return inv_out ? compose_unary(&c->co, "inv_std", inv_out, CNV_OP_RECIPROCAL, sd, &inv) : CNV_OK;
}

static cnv_status import_instancenorm(const norm_ctx *c) {
    CNV_TRY(onnx_only_attrs(c->im, c->n, "epsilon"));
    if (!given(c->n, 1) || !given(c->n, 2)) return norm_fail(c, CNV_ERR_FORMAT, "needs scale and B");
    if (c->n->n_input > 3 || c->n->n_output > 1) return norm_fail(c, CNV_ERR_FORMAT, "3 inputs and 1 output expected");
    int x;
    CNV_TRY(data_value(c, &x));
    const cnv_shape xs = c->im->g->values[x].shape;
    if (xs.ndim < 3) return norm_fail(c, CNV_ERR_SHAPE, "needs an input of N x C x D1 x ...");
    int axes = 0;
    cnv_shape per_channel = {xs.ndim - 1, {xs.d[1]}};
    for (int d = 2; d < xs.ndim; d++) axes |= 1 << d, per_channel.d[d - 1] = 1;
    int scale, bias, y, sd;
    CNV_TRY(affine(c, 1, "scale", &per_channel, &scale));
    CNV_TRY(affine(c, 2, "bias", &per_channel, &bias));
    return compose_normalize(&c->co, x, axes, float_attr(c, "epsilon", 1e-5f), scale, bias, NULL, c->n->output[0], &y,
                             &sd);
}

static cnv_status import_globalmaxpool(const norm_ctx *c) {
    CNV_TRY(onnx_only_attrs(c->im, c->n, ""));
    if (c->n->n_input != 1 || c->n->n_output != 1) return norm_fail(c, CNV_ERR_FORMAT, "1 input and 1 output expected");
    int x, y;
    CNV_TRY(data_value(c, &x));
    const cnv_shape xs = c->im->g->values[x].shape;
    if (xs.ndim < 3) return norm_fail(c, CNV_ERR_SHAPE, "needs an input of N x C x D1 x ...");
    int axes = 0;
    for (int d = 2; d < xs.ndim; d++) axes |= 1 << d;
    return compose_reduce(&c->co, "", c->n->output[0], CNV_OP_REDUCEMAX, x, axes, &y);
}

/* The reduced axes and keepdims of a reduction-like node, read by ReduceMean's rules (the axes
 * an attribute before opset 18, a constant input from then on; noop_with_empty_axes). */
static cnv_status reduce_attrs(const norm_ctx *c, int x, cnv_attrs *a) {
    return onnx_parse_attrs(c->im, c->n, CNV_OP_REDUCEMEAN, &c->im->g->values[x].shape, a);
}

static cnv_status reduce_as(const norm_ctx *c, const char *stepname, const char *out_name, cnv_op_type op, int x,
                            const cnv_attrs *like, int keepdims, int *out) {
    cnv_attrs a;
    cnv_attrs_default(op, &a);
    a.reduce_axes = like->reduce_axes;
    a.keepdims = keepdims;
    return compose_step(&c->co, stepname, out_name, op, &a, 1, &x, out);
}

static cnv_status import_reduction(const norm_ctx *c) {
    if (c->n->n_output != 1) return norm_fail(c, CNV_ERR_FORMAT, "1 output expected");
    int x, t, u, y;
    CNV_TRY(data_value(c, &x));
    cnv_attrs a;
    CNV_TRY(reduce_attrs(c, x, &a));
    const char *op = c->n->op_type, *out = c->n->output[0];
    const cnv_shape one = {1, {1}};
    if (!strcmp(op, "ReduceMin")) {
        CNV_TRY(compose_unary(&c->co, "negated", NULL, CNV_OP_NEG, x, &t));
        CNV_TRY(reduce_as(c, "max", NULL, CNV_OP_REDUCEMAX, t, &a, a.keepdims, &u));
        return compose_unary(&c->co, "", out, CNV_OP_NEG, u, &y);
    }
    if (!strcmp(op, "ReduceL1")) {
        CNV_TRY(compose_unary(&c->co, "abs", NULL, CNV_OP_ABS, x, &t));
        return reduce_as(c, "", out, CNV_OP_REDUCESUM, t, &a, a.keepdims, &y);
    }
    if (!strcmp(op, "ReduceL2") || !strcmp(op, "ReduceSumSquare")) {
        int two;
        CNV_TRY(compose_weight(&c->co, "two", &one, NULL, 2.0f, &two));
        CNV_TRY(compose_binary(&c->co, "square", NULL, CNV_OP_POW, x, two, &t));
        if (!strcmp(op, "ReduceSumSquare")) return reduce_as(c, "", out, CNV_OP_REDUCESUM, t, &a, a.keepdims, &y);
        CNV_TRY(reduce_as(c, "sum", NULL, CNV_OP_REDUCESUM, t, &a, a.keepdims, &u));
        return compose_unary(&c->co, "", out, CNV_OP_SQRT, u, &y);
    }
    if (!strcmp(op, "ReduceLogSum")) {
        CNV_TRY(reduce_as(c, "sum", NULL, CNV_OP_REDUCESUM, x, &a, a.keepdims, &t));
        return compose_unary(&c->co, "", out, CNV_OP_LOG, t, &y);
    }
    /* ReduceLogSumExp: m + log(sum(exp(x - m))), m the maximum (kept for the shift, and in the
     * output's own shape for the sum). */
    int m, shifted, e, s, l, m_out;
    CNV_TRY(reduce_as(c, "max", NULL, CNV_OP_REDUCEMAX, x, &a, 1, &m));
    CNV_TRY(compose_binary(&c->co, "shifted", NULL, CNV_OP_SUB, x, m, &shifted));
    CNV_TRY(compose_unary(&c->co, "exp", NULL, CNV_OP_EXP, shifted, &e));
    CNV_TRY(reduce_as(c, "sum", NULL, CNV_OP_REDUCESUM, e, &a, a.keepdims, &s));
    CNV_TRY(compose_unary(&c->co, "log", NULL, CNV_OP_LOG, s, &l));
    if (a.keepdims) m_out = m;
    else CNV_TRY(reduce_as(c, "max_out", NULL, CNV_OP_REDUCEMAX, x, &a, 0, &m_out));
    return compose_binary(&c->co, "", out, CNV_OP_ADD, l, m_out, &y);
}

/* LogSoftmax over Softmax's axes (one axis from opset 13; before it, every axis from `axis` on). */
static cnv_status import_logsoftmax(const norm_ctx *c) {
    if (c->n->n_output != 1) return norm_fail(c, CNV_ERR_FORMAT, "1 output expected");
    int x;
    CNV_TRY(data_value(c, &x));
    cnv_attrs sm;
    CNV_TRY(onnx_parse_attrs(c->im, c->n, CNV_OP_SOFTMAX, &c->im->g->values[x].shape, &sm));
    const int ndim = c->im->g->values[x].shape.ndim;
    cnv_attrs a = {0};
    a.reduce_axes = sm.softmax_legacy ? ((1 << ndim) - 1) & ~((1 << sm.axis) - 1) : 1 << sm.axis;
    int m, shifted, e, s, l, y;
    CNV_TRY(reduce_as(c, "max", NULL, CNV_OP_REDUCEMAX, x, &a, 1, &m));
    CNV_TRY(compose_binary(&c->co, "shifted", NULL, CNV_OP_SUB, x, m, &shifted));
    CNV_TRY(compose_unary(&c->co, "exp", NULL, CNV_OP_EXP, shifted, &e));
    CNV_TRY(reduce_as(c, "sum", NULL, CNV_OP_REDUCESUM, e, &a, 1, &s));
    CNV_TRY(compose_unary(&c->co, "log_sum", NULL, CNV_OP_LOG, s, &l));
    return compose_binary(&c->co, "", c->n->output[0], CNV_OP_SUB, shifted, l, &y);
}

static cnv_status import_selu(const norm_ctx *c) {
    CNV_TRY(onnx_only_attrs(c->im, c->n, "alpha gamma"));
    if (c->n->n_input != 1 || c->n->n_output != 1) return norm_fail(c, CNV_ERR_FORMAT, "1 input and 1 output expected");
    int x, e, gamma, y;
    CNV_TRY(data_value(c, &x));
    cnv_attrs a;
    cnv_attrs_default(CNV_OP_ELU, &a);
    a.alpha = float_attr(c, "alpha", 1.67326319217681884765625f);
    const float g = float_attr(c, "gamma", 1.05070102214813232421875f);
    if (!isfinite(a.alpha) || !isfinite(g)) return norm_fail(c, CNV_ERR_FORMAT, "non-finite alpha or gamma");
    CNV_TRY(compose_step(&c->co, "elu", NULL, CNV_OP_ELU, &a, 1, &x, &e));
    const cnv_shape one = {1, {1}};
    CNV_TRY(compose_weight(&c->co, "gamma", &one, NULL, g, &gamma));
    return compose_binary(&c->co, "", c->n->output[0], CNV_OP_MUL, e, gamma, &y);
}

static cnv_status import_cast(const norm_ctx *c) {
    CNV_TRY(onnx_only_attrs(c->im, c->n, "to saturate"));
    const Onnx__AttributeProto *to = onnx_find_attr(c->n, "to");
    if (!to || to->i != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        return norm_fail(c, CNV_ERR_UNSUPPORTED, "a Cast of an activation to another type than float32");
    if (c->n->n_input != 1 || c->n->n_output != 1) return norm_fail(c, CNV_ERR_FORMAT, "1 input and 1 output expected");
    int x, y;
    CNV_TRY(data_value(c, &x));
    return compose_unary(&c->co, "", c->n->output[0], CNV_OP_IDENTITY, x, &y);
}

static int is_reduction(const char *op) {
    static const char *const names[] = {"ReduceMin", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum",
                                        "ReduceLogSumExp"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (!strcmp(op, names[k])) return 1;
    return 0;
}

cnv_status onnx_import_composite_node(onnx_import *im, const Onnx__NodeProto *n, int *handled) {
    norm_ctx c;
    norm_ctx_init(&c, im, n);
    *handled = 1;
    if (!strcmp(n->op_type, "LayerNormalization")) {
        if (im->opset < 17) return norm_fail(&c, CNV_ERR_FORMAT, "LayerNormalization is defined from opset 17");
        return import_layernorm(&c);
    }
    if (!strcmp(n->op_type, "InstanceNormalization")) return import_instancenorm(&c);
    if (!strcmp(n->op_type, "GlobalMaxPool")) return import_globalmaxpool(&c);
    if (!strcmp(n->op_type, "LogSoftmax")) return import_logsoftmax(&c);
    if (!strcmp(n->op_type, "Selu")) return import_selu(&c);
    if (!strcmp(n->op_type, "Cast") && n->n_input >= 1 && !onnx_find_const(im, n->input[0])) return import_cast(&c);
    if (is_reduction(n->op_type)) return import_reduction(&c);
    *handled = 0;
    return CNV_OK;
}
