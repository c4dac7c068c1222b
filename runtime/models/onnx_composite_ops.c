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
 * mean and var are ReduceMeans (var of (X - mean)^2, the biased variance both norms specify).
 * Each step is named '<node>/<step>' with output '<output>/<step>'; the last step carries the
 * node's own names, so layers are found by their ONNX names. LayerNormalization's optional Mean
 * and InvStdDev outputs are the mean step and a Reciprocal of the standard deviation, under their
 * ONNX names. */
#include "onnx_internal.h"
#include "core/status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct norm_ctx {
    onnx_import *im;
    const Onnx__NodeProto *n;
} norm_ctx;

static cnv_status norm_fail(const norm_ctx *c, cnv_status s, const char *problem) {
    return onnx_node_refuse(c->im, c->n, s, problem);
}

static int given(const Onnx__NodeProto *n, size_t k) { return k < n->n_input && n->input[k][0]; }

/* One step: node '<node>/<step>' with output '<output 0>/<step>', or, for out_name non-NULL, the
 * node's own name and that output name. Its shape is inferred; *out gets the value. */
static cnv_status step(const norm_ctx *c, const char *stepname, const char *out_name, cnv_op_type op,
                       const cnv_attrs *a, int n_in, const int *in, int *out) {
    cnv_graph *g = c->im->g;
    char node[512], value[512];
    if (out_name) {
        snprintf(node, sizeof node, "%s%s%s", onnx_node_name(c->n), stepname[0] ? "/" : "", stepname);
        snprintf(value, sizeof value, "%s", out_name);
    } else {
        snprintf(node, sizeof node, "%s/%s", onnx_node_name(c->n), stepname);
        snprintf(value, sizeof value, "%s/%s", c->n->output[0], stepname);
    }
    if (cnv_graph_find_value(g, value) >= 0 || onnx_find_const(c->im, value))
        return norm_fail(c, CNV_ERR_FORMAT, "an output is defined twice");
    cnv_shape shapes[2], shape;
    for (int k = 0; k < n_in; k++) shapes[k] = g->values[in[k]].shape;
    cnv_attrs attrs = *a; /* the shape rule may complete the attributes */
    cnv_status st = cnv_op_infer_shape(op, &attrs, n_in, shapes, &shape, node);
    if (st != CNV_OK) {
        cnv_error_prefix(c->im->path);
        return st;
    }
    *out = cnv_graph_add_value(g, value, &shape, NULL);
    if (*out < 0 || cnv_graph_add_node(g, node, op, &attrs, n_in, in, *out) < 0)
        return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", c->im->path);
    return CNV_OK;
}

static cnv_status binary(const norm_ctx *c, const char *stepname, const char *out_name, cnv_op_type op, int x, int y,
                         int *out) {
    cnv_attrs a;
    cnv_attrs_default(op, &a);
    const int in[2] = {x, y};
    return step(c, stepname, out_name, op, &a, 2, in, out);
}

static cnv_status unary(const norm_ctx *c, const char *stepname, const char *out_name, cnv_op_type op, int x,
                        int *out) {
    cnv_attrs a;
    cnv_attrs_default(op, &a);
    return step(c, stepname, out_name, op, &a, 1, &x, out);
}

static cnv_status reduce(const norm_ctx *c, const char *stepname, const char *out_name, cnv_op_type op, int x,
                         int axes, int *out) {
    cnv_attrs a;
    cnv_attrs_default(op, &a);
    a.reduce_axes = axes;
    a.keepdims = 1;
    return step(c, stepname, out_name, op, &a, 1, &x, out);
}

/* A weight of the graph: `count` floats from data (NULL: `fill` each) under '<node>/<what>'. */
static cnv_status weight(const norm_ctx *c, const char *what, const cnv_shape *shape, const float *data, float fill,
                         int *out) {
    const size_t count = cnv_shape_numel(shape);
    float *buf = NULL;
    if (!data) {
        buf = malloc(count * sizeof *buf);
        if (!buf) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", c->im->path);
        for (size_t i = 0; i < count; i++) buf[i] = fill;
    }
    char name[512];
    snprintf(name, sizeof name, "%s/%s", onnx_node_name(c->n), what);
    *out = cnv_graph_add_value(c->im->g, name, shape, data ? data : buf);
    free(buf);
    return *out < 0 ? cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", c->im->path) : CNV_OK;
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
    return weight(c, what, want, w->f, 0, out);
}

static float float_attr(const norm_ctx *c, const char *name, float def) {
    const Onnx__AttributeProto *a = onnx_find_attr(c->n, name);
    return a ? a->f : def;
}

/* (x - mean) / sqrt(var + eps) over `axes`; *centred and *sd are the steps the callers reuse. */
static cnv_status standardize(const norm_ctx *c, int x, int axes, float eps, const char *mean_name, int *out,
                              int *sd) {
    const cnv_shape one = {1, {1}};
    int mean, centred, two, sq, var, e, ve;
    CNV_TRY(reduce(c, "mean", mean_name, CNV_OP_REDUCEMEAN, x, axes, &mean));
    CNV_TRY(binary(c, "centred", NULL, CNV_OP_SUB, x, mean, &centred));
    CNV_TRY(weight(c, "two", &one, NULL, 2.0f, &two));
    CNV_TRY(binary(c, "square", NULL, CNV_OP_POW, centred, two, &sq));
    CNV_TRY(reduce(c, "variance", NULL, CNV_OP_REDUCEMEAN, sq, axes, &var));
    CNV_TRY(weight(c, "epsilon", &one, NULL, eps, &e));
    CNV_TRY(binary(c, "variance_eps", NULL, CNV_OP_ADD, var, e, &ve));
    CNV_TRY(unary(c, "std", NULL, CNV_OP_SQRT, ve, sd));
    return binary(c, "normalized", NULL, CNV_OP_DIV, centred, *sd, out);
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
    int normalized, sd, scale, scaled, bias, y, inv;
    CNV_TRY(standardize(c, x, axes, float_attr(c, "epsilon", 1e-5f), mean_out, &normalized, &sd));
    if (inv_out) CNV_TRY(unary(c, "inv_std", inv_out, CNV_OP_RECIPROCAL, sd, &inv));
    CNV_TRY(affine(c, 1, "scale", &trailing, &scale));
    CNV_TRY(binary(c, has_bias ? "scaled" : "", has_bias ? NULL : c->n->output[0], CNV_OP_MUL, normalized, scale,
                   &scaled));
    if (!has_bias) return CNV_OK;
    CNV_TRY(affine(c, 2, "bias", &trailing, &bias));
    return binary(c, "", c->n->output[0], CNV_OP_ADD, scaled, bias, &y);
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
    int normalized, sd, scale, scaled, bias, y;
    CNV_TRY(standardize(c, x, axes, float_attr(c, "epsilon", 1e-5f), NULL, &normalized, &sd));
    CNV_TRY(affine(c, 1, "scale", &per_channel, &scale));
    CNV_TRY(binary(c, "scaled", NULL, CNV_OP_MUL, normalized, scale, &scaled));
    CNV_TRY(affine(c, 2, "bias", &per_channel, &bias));
    return binary(c, "", c->n->output[0], CNV_OP_ADD, scaled, bias, &y);
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
    return reduce(c, "", c->n->output[0], CNV_OP_REDUCEMAX, x, axes, &y);
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
    return step(c, stepname, out_name, op, &a, 1, &x, out);
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
        CNV_TRY(unary(c, "negated", NULL, CNV_OP_NEG, x, &t));
        CNV_TRY(reduce_as(c, "max", NULL, CNV_OP_REDUCEMAX, t, &a, a.keepdims, &u));
        return unary(c, "", out, CNV_OP_NEG, u, &y);
    }
    if (!strcmp(op, "ReduceL1")) {
        CNV_TRY(unary(c, "abs", NULL, CNV_OP_ABS, x, &t));
        return reduce_as(c, "", out, CNV_OP_REDUCESUM, t, &a, a.keepdims, &y);
    }
    if (!strcmp(op, "ReduceL2") || !strcmp(op, "ReduceSumSquare")) {
        int two;
        CNV_TRY(weight(c, "two", &one, NULL, 2.0f, &two));
        CNV_TRY(binary(c, "square", NULL, CNV_OP_POW, x, two, &t));
        if (!strcmp(op, "ReduceSumSquare")) return reduce_as(c, "", out, CNV_OP_REDUCESUM, t, &a, a.keepdims, &y);
        CNV_TRY(reduce_as(c, "sum", NULL, CNV_OP_REDUCESUM, t, &a, a.keepdims, &u));
        return unary(c, "", out, CNV_OP_SQRT, u, &y);
    }
    if (!strcmp(op, "ReduceLogSum")) {
        CNV_TRY(reduce_as(c, "sum", NULL, CNV_OP_REDUCESUM, x, &a, a.keepdims, &t));
        return unary(c, "", out, CNV_OP_LOG, t, &y);
    }
    /* ReduceLogSumExp: m + log(sum(exp(x - m))), m the maximum (kept for the shift, and in the
     * output's own shape for the sum). */
    int m, shifted, e, s, l, m_out;
    CNV_TRY(reduce_as(c, "max", NULL, CNV_OP_REDUCEMAX, x, &a, 1, &m));
    CNV_TRY(binary(c, "shifted", NULL, CNV_OP_SUB, x, m, &shifted));
    CNV_TRY(unary(c, "exp", NULL, CNV_OP_EXP, shifted, &e));
    CNV_TRY(reduce_as(c, "sum", NULL, CNV_OP_REDUCESUM, e, &a, a.keepdims, &s));
    CNV_TRY(unary(c, "log", NULL, CNV_OP_LOG, s, &l));
    if (a.keepdims) m_out = m;
    else CNV_TRY(reduce_as(c, "max_out", NULL, CNV_OP_REDUCEMAX, x, &a, 0, &m_out));
    return binary(c, "", out, CNV_OP_ADD, l, m_out, &y);
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
    CNV_TRY(binary(c, "shifted", NULL, CNV_OP_SUB, x, m, &shifted));
    CNV_TRY(unary(c, "exp", NULL, CNV_OP_EXP, shifted, &e));
    CNV_TRY(reduce_as(c, "sum", NULL, CNV_OP_REDUCESUM, e, &a, 1, &s));
    CNV_TRY(unary(c, "log_sum", NULL, CNV_OP_LOG, s, &l));
    return binary(c, "", c->n->output[0], CNV_OP_SUB, shifted, l, &y);
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
    CNV_TRY(step(c, "elu", NULL, CNV_OP_ELU, &a, 1, &x, &e));
    const cnv_shape one = {1, {1}};
    CNV_TRY(weight(c, "gamma", &one, NULL, g, &gamma));
    return binary(c, "", c->n->output[0], CNV_OP_MUL, e, gamma, &y);
}

static cnv_status import_cast(const norm_ctx *c) {
    CNV_TRY(onnx_only_attrs(c->im, c->n, "to saturate"));
    const Onnx__AttributeProto *to = onnx_find_attr(c->n, "to");
    if (!to || to->i != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        return norm_fail(c, CNV_ERR_UNSUPPORTED, "a Cast of an activation to another type than float32");
    if (c->n->n_input != 1 || c->n->n_output != 1) return norm_fail(c, CNV_ERR_FORMAT, "1 input and 1 output expected");
    int x, y;
    CNV_TRY(data_value(c, &x));
    return unary(c, "", c->n->output[0], CNV_OP_IDENTITY, x, &y);
}

static int is_reduction(const char *op) {
    static const char *const names[] = {"ReduceMin", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum",
                                        "ReduceLogSumExp"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (!strcmp(op, names[k])) return 1;
    return 0;
}

cnv_status onnx_import_composite_node(onnx_import *im, const Onnx__NodeProto *n, int *handled) {
    norm_ctx c = {im, n};
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
