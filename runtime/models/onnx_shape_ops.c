/* The ONNX shape ops that become other cnnvis nodes when their data is computed: Split as one
 * Slice per output (each output is a window of the input along the axis), Squeeze and Unsqueeze
 * as Reshape (the data does not move). On constants they are folded (onnx_constfold.c). */
#include "onnx_internal.h"
#include "core/status.h"

#include <stdio.h>
#include <string.h>

typedef struct shape_ctx {
    onnx_import *im;
    const Onnx__NodeProto *n;
} shape_ctx;

static cnv_status shape_fail(const shape_ctx *c, cnv_status s, const char *problem) {
    return onnx_node_refuse(c->im, c->n, s, problem);
}

/* A list of ints: attribute `name` before `input_opset`, constant input k from then on. */
static cnv_status int_list(const shape_ctx *c, const char *name, int input_opset, size_t k, int64_t *dst,
                           size_t cap, size_t *n, int *given) {
    *n = 0;
    *given = 0;
    const int64_t *v = NULL;
    if (c->im->opset < input_opset) {
        const Onnx__AttributeProto *a = onnx_find_attr(c->n, name);
        if (!a) return CNV_OK;
        if (a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS) return shape_fail(c, CNV_ERR_FORMAT, "attribute of the wrong type");
        v = a->ints, *n = a->n_ints;
    } else {
        if (onnx_find_attr(c->n, name)) return shape_fail(c, CNV_ERR_UNSUPPORTED, "list given as an attribute at this opset");
        if (k >= c->n->n_input || !c->n->input[k][0]) return CNV_OK;
        const onnx_const *in = onnx_find_const(c->im, c->n->input[k]);
        if (!in || !in->i) return shape_fail(c, CNV_ERR_UNSUPPORTED, "needs a constant int64 list input");
        v = in->i, *n = in->count;
    }
    if (*n > cap) return shape_fail(c, CNV_ERR_FORMAT, "too many values");
    memcpy(dst, v, *n * sizeof *dst);
    *given = 1;
    return CNV_OK;
}

static cnv_status data_shape(const shape_ctx *c, cnv_shape *s) {
    int v;
    /* libFuzzer: an Unsqueeze with no inputs at all reached the lookup below. */
    if (c->n->n_input < 1 || !c->n->input[0][0]) return shape_fail(c, CNV_ERR_FORMAT, "missing its data input");
    CNV_TRY(onnx_resolve_value(c->im, c->n, c->n->input[0], &v));
    *s = c->im->g->values[v].shape;
    return CNV_OK;
}

/* One node of `op` for output k of n (named '<name>/<k>' when n has several outputs). */
static cnv_status add_part(const shape_ctx *c, size_t k, cnv_op_type op, const cnv_attrs *a) {
    Onnx__NodeProto part = *c->n;
    char name[512];
    char *out[1] = {c->n->output[k]};
    part.output = out;
    part.n_output = 1;
    part.n_input = 1; /* the lists were read into a */
    if (c->n->n_output > 1) {
        snprintf(name, sizeof name, "%s/%zu", onnx_node_name(c->n), k);
        part.name = name;
    }
    return onnx_import_node_as(c->im, &part, op, a);
}

static cnv_status import_split(const shape_ctx *c) {
    CNV_TRY(onnx_only_attrs(c->im, c->n, c->im->opset >= 18 ? "axis num_outputs" : c->im->opset >= 13 ? "axis" : "axis split"));
    cnv_shape x = {0};
    CNV_TRY(data_shape(c, &x));
    const Onnx__AttributeProto *ax = onnx_find_attr(c->n, "axis");
    int64_t axis = ax ? ax->i : 0;
    if (axis < 0) axis += x.ndim;
    if (axis < 0 || axis >= x.ndim) return shape_fail(c, CNV_ERR_SHAPE, "axis out of range for the input");
    const size_t parts = c->n->n_output;
    int64_t sizes[CNV_MAX_INPUTS];
    size_t n_sizes;
    int given;
    if (parts > CNV_MAX_INPUTS) return shape_fail(c, CNV_ERR_UNSUPPORTED, "too many outputs");
    CNV_TRY(int_list(c, "split", 13, 1, sizes, CNV_MAX_INPUTS, &n_sizes, &given));
    const int dim = x.d[axis];
    if (!given) {
        /* Equal parts; opset 18's num_outputs lets the last one be smaller (ceil-sized parts). */
        const Onnx__AttributeProto *no = onnx_find_attr(c->n, "num_outputs");
        if (no && (size_t)no->i != parts) return shape_fail(c, CNV_ERR_FORMAT, "num_outputs differs from the outputs");
        int64_t each = no ? (dim + (int64_t)parts - 1) / (int64_t)parts : dim / (int64_t)parts;
        if (!no && dim % (int64_t)parts) return shape_fail(c, CNV_ERR_SHAPE, "the axis does not split into equal parts");
        for (size_t k = 0; k < parts; k++) sizes[k] = k + 1 < parts ? each : dim - each * (int64_t)(parts - 1);
        n_sizes = parts;
    }
    int64_t total = 0;
    for (size_t k = 0; k < n_sizes; k++) {
        if (sizes[k] < 0) return shape_fail(c, CNV_ERR_SHAPE, "a negative part");
        if (sizes[k] == 0) return shape_fail(c, CNV_ERR_UNSUPPORTED, "an empty part (empty tensors are not supported)");
        total += sizes[k];
    }
    if (n_sizes != parts || total != dim) {
        char msg[160];
        snprintf(msg, sizeof msg, "%zu parts of %lld in all do not split dim %lld (%d) into %zu outputs", n_sizes,
                 (long long)total, (long long)axis, dim, parts);
        return shape_fail(c, CNV_ERR_SHAPE, msg);
    }
    int64_t at = 0;
    for (size_t k = 0; k < parts; k++) {
        cnv_attrs a;
        cnv_attrs_default(CNV_OP_SLICE, &a);
        a.slice_start[axis] = (int)at;
        a.slice_end[axis] = (int)(at + sizes[k]);
        at += sizes[k];
        if (c->n->output[k][0]) CNV_TRY(add_part(c, k, CNV_OP_SLICE, &a));
    }
    return CNV_OK;
}

/* Squeeze (unsqueeze = 0) or Unsqueeze: the output dims, as a Reshape whose dim 0 copies the
 * input's (the batch) when the axes leave it in place. */
static cnv_status import_squeeze(const shape_ctx *c, int unsqueeze) {
    CNV_TRY(onnx_only_attrs(c->im, c->n, c->im->opset >= 13 ? "" : "axes"));
    cnv_shape x = {0};
    CNV_TRY(data_shape(c, &x));
    int64_t axes[CNV_MAX_DIMS];
    size_t n_axes;
    int given;
    CNV_TRY(int_list(c, "axes", 13, 1, axes, CNV_MAX_DIMS, &n_axes, &given));
    if (unsqueeze && !given) return shape_fail(c, CNV_ERR_FORMAT, "missing 'axes'");
    const int out_ndim = unsqueeze ? x.ndim + (int)n_axes : x.ndim;
    if (out_ndim > CNV_MAX_DIMS) return shape_fail(c, CNV_ERR_UNSUPPORTED, "result has more than 6 dims");
    const int range = unsqueeze ? out_ndim : x.ndim;
    char marked[CNV_MAX_DIMS] = {0};
    for (size_t k = 0; k < n_axes; k++) {
        int64_t a = axes[k] < 0 ? axes[k] + range : axes[k];
        if (a < 0 || a >= range || marked[a]++) return shape_fail(c, CNV_ERR_SHAPE, "axis out of range or repeated");
        if (!unsqueeze && x.d[a] != 1) return shape_fail(c, CNV_ERR_SHAPE, "squeezes a dim that is not 1");
    }
    cnv_attrs a;
    cnv_attrs_default(CNV_OP_RESHAPE, &a);
    if (unsqueeze) {
        for (int d = 0, src = 0; d < out_ndim; d++) a.shape[a.shape_n++] = marked[d] ? 1 : x.d[src++];
    } else {
        for (int d = 0; d < x.ndim; d++)
            if (!(given ? marked[d] : x.d[d] == 1)) a.shape[a.shape_n++] = x.d[d];
    }
    if (a.shape_n == 0) return shape_fail(c, CNV_ERR_UNSUPPORTED, "result is a scalar");
    const int batch_kept = !marked[0] && (given || x.d[0] != 1);
    if (batch_kept && x.ndim > 0) a.shape[0] = 0;
    return add_part(c, 0, CNV_OP_RESHAPE, &a);
}

cnv_status onnx_import_shape_node(onnx_import *im, const Onnx__NodeProto *n, int *handled) {
    shape_ctx c = {im, n};
    *handled = 1;
    if (!strcmp(n->op_type, "Split")) return import_split(&c);
    if (!strcmp(n->op_type, "Squeeze")) return import_squeeze(&c, 0);
    if (!strcmp(n->op_type, "Unsqueeze")) return import_squeeze(&c, 1);
    *handled = 0;
    return CNV_OK;
}
