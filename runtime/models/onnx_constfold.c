/* Import-time evaluation of the small integer subgraphs exporters emit around Reshape
 * (PyTorch's x.view(x.size(0), -1) becomes Shape -> Gather -> Unsqueeze -> Concat -> Reshape),
 * of Constant nodes, and of reshaped weights. Shapes are those inferred at import (batch 1). */
#include "onnx_internal.h"
#include "core/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

typedef struct fold_ctx {
    onnx_import *im;
    const Onnx__NodeProto *n;
} fold_ctx;

static cnv_status fold_fail(const fold_ctx *c, cnv_status s, const char *problem) {
    return onnx_node_refuse(c->im, c->n, s, problem);
}

/* A fresh constant for the node's first output with the given dims; float or int64 data. */
static cnv_status new_const(const fold_ctx *c, int is_float, int ndim, const int64_t *dims, onnx_const *out) {
    memset(out, 0, sizeof *out);
    if (ndim > ONNX_MAX_CONST_DIMS) return fold_fail(c, CNV_ERR_UNSUPPORTED, "result has too many dims");
    out->ndim = ndim;
    out->count = 1;
    for (int k = 0; k < ndim; k++) {
        out->dims[k] = dims[k];
        out->count *= (size_t)dims[k];
    }
    const char *name = c->n->output[0];
    out->name = malloc(strlen(name) + 1);
    if (out->name) strcpy(out->name, name);
    size_t n = out->count ? out->count : 1;
    if (is_float)
        out->f = malloc(n * sizeof *out->f);
    else
        out->i = malloc(n * sizeof *out->i);
    if (!out->name || (!out->f && !out->i)) {
        onnx_const_free(out);
        return fold_fail(c, CNV_ERR_NOMEM, "out of memory");
    }
    return CNV_OK;
}

static void const_set(onnx_const *c, size_t k, double v) {
    if (c->f)
        c->f[k] = (float)v;
    else
        c->i[k] = (int64_t)v;
}

/* Rejects any attribute outside `allowed` (space separated, with spaces around each name). */
static cnv_status only_attrs(const fold_ctx *c, const char *allowed) {
    for (size_t k = 0; k < c->n->n_attribute; k++) {
        char key[80];
        const char *name = c->n->attribute[k]->name ? c->n->attribute[k]->name : "";
        snprintf(key, sizeof key, " %s ", name);
        if (!strstr(allowed, key)) {
            char msg[120];
            snprintf(msg, sizeof msg, "unsupported attribute '%s'", name);
            return fold_fail(c, CNV_ERR_UNSUPPORTED, msg);
        }
    }
    return CNV_OK;
}

static int64_t int_attr(const Onnx__NodeProto *n, const char *name, int64_t dflt) {
    const Onnx__AttributeProto *a = onnx_find_attr(n, name);
    return a && a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT ? a->i : dflt;
}

/* Input k as a constant; fails when it is computed at run time. */
static cnv_status input_const(const fold_ctx *c, size_t k, const onnx_const **out) {
    *out = k < c->n->n_input && c->n->input[k][0] ? onnx_find_const(c->im, c->n->input[k]) : NULL;
    if (*out) return CNV_OK;
    return fold_fail(c, CNV_ERR_UNSUPPORTED, "needs constant inputs (computing it at run time is not supported)");
}

/* A list of ints from attribute `name` (older opsets) or input k (newer ones). */
static cnv_status int_list(const fold_ctx *c, const char *name, size_t k, int64_t *dst, size_t cap, size_t *n) {
    const Onnx__AttributeProto *a = onnx_find_attr(c->n, name);
    *n = 0;
    if (a) {
        if (a->n_ints > cap) return fold_fail(c, CNV_ERR_UNSUPPORTED, "too many values");
        memcpy(dst, a->ints, a->n_ints * sizeof *dst);
        *n = a->n_ints;
        return CNV_OK;
    }
    if (k >= c->n->n_input || !c->n->input[k][0]) return CNV_OK;
    const onnx_const *v;
    CNV_TRY(input_const(c, k, &v));
    if (v->count > cap) return fold_fail(c, CNV_ERR_UNSUPPORTED, "too many values");
    for (size_t j = 0; j < v->count; j++) dst[j] = onnx_const_get_int(v, j);
    *n = v->count;
    return CNV_OK;
}

static cnv_status fold_constant(const fold_ctx *c, onnx_const *out) {
    if (c->n->n_attribute != 1) return fold_fail(c, CNV_ERR_FORMAT, "needs exactly one value attribute");
    const Onnx__AttributeProto *a = c->n->attribute[0];
    const char *name = a->name ? a->name : "";
    int64_t one = 1;
    if (!strcmp(name, "value") && a->t)
        return onnx_const_from_tensor(a->t, NULL, c->n->output[0], c->im->path, "constant", out);
    if (!strcmp(name, "value_float") || !strcmp(name, "value_int")) {
        CNV_TRY(new_const(c, name[6] == 'f', 0, NULL, out));
        const_set(out, 0, name[6] == 'f' ? (double)a->f : (double)a->i);
        return CNV_OK;
    }
    if (!strcmp(name, "value_floats") || !strcmp(name, "value_ints")) {
        int is_float = name[6] == 'f';
        one = (int64_t)(is_float ? a->n_floats : a->n_ints);
        CNV_TRY(new_const(c, is_float, 1, &one, out));
        for (int64_t k = 0; k < one; k++) const_set(out, (size_t)k, is_float ? (double)a->floats[k] : (double)a->ints[k]);
        return CNV_OK;
    }
    char msg[120];
    snprintf(msg, sizeof msg, "unsupported attribute '%s'", name);
    return fold_fail(c, CNV_ERR_UNSUPPORTED, msg);
}

/* The dims of input 0: a constant's, or an activation's at the import's shapes (batch 1). */
static cnv_status input_dims(const fold_ctx *c, int *ndim, int64_t dims[ONNX_MAX_CONST_DIMS]) {
    const char *in = c->n->n_input ? c->n->input[0] : "";
    const onnx_const *k = onnx_find_const(c->im, in);
    int v = cnv_graph_find_value(c->im->g, in);
    if (k) {
        *ndim = k->ndim;
        memcpy(dims, k->dims, sizeof(int64_t) * ONNX_MAX_CONST_DIMS);
    } else if (v >= 0) {
        *ndim = c->im->g->values[v].shape.ndim;
        for (int d = 0; d < *ndim; d++) dims[d] = c->im->g->values[v].shape.d[d];
    } else {
        return fold_fail(c, CNV_ERR_FORMAT, "input is not defined before the node");
    }
    return CNV_OK;
}

static cnv_status fold_shape(const fold_ctx *c, onnx_const *out) {
    CNV_TRY(only_attrs(c, " start end "));
    int64_t dims[ONNX_MAX_CONST_DIMS];
    int ndim;
    CNV_TRY(input_dims(c, &ndim, dims));
    int64_t start = int_attr(c->n, "start", 0), end = int_attr(c->n, "end", ndim);
    if (start < 0) start += ndim;
    if (end < 0) end += ndim;
    start = start < 0 ? 0 : start > ndim ? ndim : start;
    end = end < start ? start : end > ndim ? ndim : end;
    int64_t len = end - start;
    CNV_TRY(new_const(c, 0, 1, &len, out));
    for (int64_t d = 0; d < len; d++) out->i[d] = dims[start + d];
    return CNV_OK;
}

/* Size: the element count of input 0 (its dims as Shape reads them). */
static cnv_status fold_size(const fold_ctx *c, onnx_const *out) {
    CNV_TRY(only_attrs(c, " "));
    int64_t dims[ONNX_MAX_CONST_DIMS], count = 1;
    int ndim;
    CNV_TRY(input_dims(c, &ndim, dims));
    for (int d = 0; d < ndim; d++) count *= dims[d];
    CNV_TRY(new_const(c, 0, 0, NULL, out));
    out->i[0] = count;
    return CNV_OK;
}

/* ConstantOfShape: a tensor of the constant shape input filled with `value` (one element; 0.0f
 * when absent). The shape comes from the file, so its size is capped before anything is made. */
#define FOLD_MAX_ELEMENTS ((int64_t)1 << 24)
static cnv_status fold_constant_of_shape(const fold_ctx *c, onnx_const *out) {
    CNV_TRY(only_attrs(c, " value "));
    const onnx_const *shape;
    CNV_TRY(input_const(c, 0, &shape));
    if (!shape->i || shape->ndim != 1 || shape->count > ONNX_MAX_CONST_DIMS)
        return fold_fail(c, CNV_ERR_FORMAT, "'input' must be a short 1-D int64 tensor");
    int64_t count = 1;
    for (size_t d = 0; d < shape->count; d++) {
        if (shape->i[d] < 1) return fold_fail(c, CNV_ERR_UNSUPPORTED, "an empty or negative dim (empty tensors are not supported)");
        if (shape->i[d] > FOLD_MAX_ELEMENTS || (count *= shape->i[d]) > FOLD_MAX_ELEMENTS)
            return fold_fail(c, CNV_ERR_LIMIT, "the tensor would hold more than 2^24 elements");
    }
    onnx_const fill = {0};
    const Onnx__AttributeProto *a = onnx_find_attr(c->n, "value");
    if (a) {
        if (!a->t) return fold_fail(c, CNV_ERR_FORMAT, "'value' is not a tensor");
        CNV_TRY(onnx_const_from_tensor(a->t, NULL, "value", c->im->path, "ConstantOfShape value", &fill));
        if (fill.count != 1) {
            onnx_const_free(&fill);
            return fold_fail(c, CNV_ERR_FORMAT, "'value' must hold one element");
        }
    }
    const int is_float = !a || fill.f != NULL;
    const double value = a ? onnx_const_get(&fill, 0) : 0.0;
    onnx_const_free(&fill);
    CNV_TRY(new_const(c, is_float, (int)shape->count, shape->i, out));
    for (size_t k = 0; k < out->count; k++) const_set(out, k, value);
    return CNV_OK;
}

static cnv_status fold_gather(const fold_ctx *c, onnx_const *out) {
    CNV_TRY(only_attrs(c, " axis "));
    const onnx_const *data, *idx;
    CNV_TRY(input_const(c, 0, &data));
    CNV_TRY(input_const(c, 1, &idx));
    int64_t axis = int_attr(c->n, "axis", 0);
    if (data->ndim != 1 || (axis != 0 && axis != -1))
        return fold_fail(c, CNV_ERR_UNSUPPORTED, "only gathers from a 1-D constant are supported");
    CNV_TRY(new_const(c, data->f != NULL, idx->ndim, idx->dims, out));
    for (size_t k = 0; k < idx->count; k++) {
        int64_t j = onnx_const_get_int(idx, k);
        if (j < 0) j += (int64_t)data->count;
        if (j < 0 || j >= (int64_t)data->count) {
            onnx_const_free(out);
            return fold_fail(c, CNV_ERR_FORMAT, "index out of range");
        }
        const_set(out, k, onnx_const_get(data, (size_t)j));
    }
    return CNV_OK;
}

static void copy_data(const onnx_const *src, onnx_const *dst) {
    for (size_t k = 0; k < src->count; k++) const_set(dst, k, onnx_const_get(src, k));
}

/* Unsqueeze and Squeeze: same data, dims with 1s inserted or removed. */
static cnv_status fold_squeeze(const fold_ctx *c, int unsqueeze, onnx_const *out) {
    CNV_TRY(only_attrs(c, " axes "));
    const onnx_const *data;
    CNV_TRY(input_const(c, 0, &data));
    int64_t axes[ONNX_MAX_CONST_DIMS];
    size_t n_axes;
    CNV_TRY(int_list(c, "axes", 1, axes, ONNX_MAX_CONST_DIMS, &n_axes));
    int out_ndim = unsqueeze ? data->ndim + (int)n_axes : data->ndim;
    char marked[ONNX_MAX_CONST_DIMS * 2] = {0};
    int range = unsqueeze ? out_ndim : data->ndim;
    if (out_ndim > ONNX_MAX_CONST_DIMS) return fold_fail(c, CNV_ERR_UNSUPPORTED, "result has too many dims");
    for (size_t k = 0; k < n_axes; k++) {
        int64_t a = axes[k] < 0 ? axes[k] + range : axes[k];
        if (a < 0 || a >= range || (!unsqueeze && data->dims[a] != 1))
            return fold_fail(c, CNV_ERR_FORMAT, "invalid axes");
        marked[a] = 1;
    }
    int64_t dims[ONNX_MAX_CONST_DIMS];
    int nd = 0;
    if (unsqueeze) {
        for (int d = 0, src = 0; d < out_ndim; d++) dims[nd++] = marked[d] ? 1 : data->dims[src++];
    } else {
        for (int d = 0; d < data->ndim; d++)
            if (!(n_axes ? marked[d] : data->dims[d] == 1)) dims[nd++] = data->dims[d];
    }
    CNV_TRY(new_const(c, data->f != NULL, nd, dims, out));
    copy_data(data, out);
    return CNV_OK;
}

static cnv_status fold_concat(const fold_ctx *c, onnx_const *out) {
    CNV_TRY(only_attrs(c, " axis "));
    const onnx_const *first;
    CNV_TRY(input_const(c, 0, &first));
    int64_t axis = int_attr(c->n, "axis", 0);
    if (axis < 0) axis += first->ndim;
    if (axis < 0 || axis >= first->ndim) return fold_fail(c, CNV_ERR_FORMAT, "axis out of range");
    int64_t dims[ONNX_MAX_CONST_DIMS];
    memcpy(dims, first->dims, sizeof dims);
    dims[axis] = 0;
    for (size_t k = 0; k < c->n->n_input; k++) {
        const onnx_const *v;
        CNV_TRY(input_const(c, k, &v));
        int ok = v->ndim == first->ndim && (v->f != NULL) == (first->f != NULL);
        for (int d = 0; ok && d < v->ndim; d++) ok = d == axis || v->dims[d] == first->dims[d];
        if (!ok) return fold_fail(c, CNV_ERR_FORMAT, "inputs do not fit together");
        dims[axis] += v->dims[axis];
    }
    CNV_TRY(new_const(c, first->f != NULL, first->ndim, dims, out));
    size_t outer = 1, pos = 0;
    for (int64_t d = 0; d < axis; d++) outer *= (size_t)dims[d];
    for (size_t o = 0; o < outer; o++)
        for (size_t k = 0; k < c->n->n_input; k++) {
            const onnx_const *v = onnx_find_const(c->im, c->n->input[k]);
            size_t chunk = outer ? v->count / outer : 0;
            for (size_t j = 0; j < chunk; j++) const_set(out, pos++, onnx_const_get(v, o * chunk + j));
        }
    return CNV_OK;
}

static cnv_status fold_cast(const fold_ctx *c, onnx_const *out) {
    CNV_TRY(only_attrs(c, " to "));
    const onnx_const *data;
    CNV_TRY(input_const(c, 0, &data));
    int64_t to = int_attr(c->n, "to", 0);
    if (to != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT && to != ONNX__TENSOR_PROTO__DATA_TYPE__INT64 &&
        to != ONNX__TENSOR_PROTO__DATA_TYPE__INT32)
        return fold_fail(c, CNV_ERR_UNSUPPORTED, "casts only to float32, int32 or int64");
    CNV_TRY(new_const(c, to == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, data->ndim, data->dims, out));
    copy_data(data, out);
    return CNV_OK;
}

/* Add/Sub/Mul/Div on equal shapes or with a one-element operand. */
static cnv_status fold_arith(const fold_ctx *c, char op, onnx_const *out) {
    CNV_TRY(only_attrs(c, " "));
    const onnx_const *a, *b;
    CNV_TRY(input_const(c, 0, &a));
    CNV_TRY(input_const(c, 1, &b));
    /* The larger operand's shape; of two one-element operands the one with more dims ([1] and a
     * scalar give [1], as numpy broadcasting does). */
    const onnx_const *shape_of = a->count != b->count ? (a->count > b->count ? a : b) : (a->ndim >= b->ndim ? a : b);
    if (a->count != b->count && a->count != 1 && b->count != 1)
        return fold_fail(c, CNV_ERR_UNSUPPORTED, "broadcasting of constants beyond scalars is not supported");
    int is_float = a->f || b->f;
    CNV_TRY(new_const(c, is_float, shape_of->ndim, shape_of->dims, out));
    for (size_t k = 0; k < out->count; k++) {
        size_t ka = a->count == 1 ? 0 : k, kb = b->count == 1 ? 0 : k;
        if (!is_float) {
            int64_t x = a->i[ka], y = b->i[kb];
            int64_t r = 0;
            /* The values come from the file: an overflow is refused, not left undefined. */
            int bad = op == '+' ? __builtin_add_overflow(x, y, &r) : op == '-' ? __builtin_sub_overflow(x, y, &r)
                      : op == '*' ? __builtin_mul_overflow(x, y, &r) : (y == 0 || (x == INT64_MIN && y == -1));
            if (bad) {
                onnx_const_free(out);
                return fold_fail(c, CNV_ERR_FORMAT, op == '/' ? "integer division by zero or overflow" : "integer overflow");
            }
            out->i[k] = op == '/' ? x / y : r;
        } else {
            double x = onnx_const_get(a, ka), y = onnx_const_get(b, kb);
            out->f[k] = (float)(op == '+' ? x + y : op == '-' ? x - y : op == '*' ? x * y : x / y);
        }
    }
    return CNV_OK;
}

/* Slice of a 1-D constant (starts/ends/axes/steps as inputs from opset 10, attributes before). */
static cnv_status fold_slice(const fold_ctx *c, onnx_const *out) {
    CNV_TRY(only_attrs(c, " starts ends axes "));
    const onnx_const *data;
    CNV_TRY(input_const(c, 0, &data));
    if (data->ndim != 1) return fold_fail(c, CNV_ERR_UNSUPPORTED, "only slices of 1-D constants are supported");
    int64_t starts[1], ends[1], axes[1] = {0}, steps[1] = {1};
    size_t ns, ne, na, nst;
    CNV_TRY(int_list(c, "starts", 1, starts, 1, &ns));
    CNV_TRY(int_list(c, "ends", 2, ends, 1, &ne));
    CNV_TRY(int_list(c, "axes", 3, axes, 1, &na));
    CNV_TRY(int_list(c, "steps", 4, steps, 1, &nst));
    if (ns != 1 || ne != 1 || (na && axes[0] != 0 && axes[0] != -1) || (nst && steps[0] != 1))
        return fold_fail(c, CNV_ERR_UNSUPPORTED, "only unit-step slices along axis 0 are supported");
    int64_t len = (int64_t)data->count;
    int64_t s = starts[0] < 0 ? starts[0] + len : starts[0], e = ends[0] < 0 ? ends[0] + len : ends[0];
    s = s < 0 ? 0 : s > len ? len : s;
    e = e < s ? s : e > len ? len : e;
    int64_t n = e - s;
    CNV_TRY(new_const(c, data->f != NULL, 1, &n, out));
    for (int64_t k = 0; k < n; k++) const_set(out, (size_t)k, onnx_const_get(data, (size_t)(s + k)));
    return CNV_OK;
}

/* Reshape of a constant (exporters reshape weights, e.g. the MNIST zoo model's MatMul weight). */
static cnv_status fold_reshape(const fold_ctx *c, onnx_const *out) {
    CNV_TRY(only_attrs(c, " allowzero "));
    const onnx_const *data, *shape;
    CNV_TRY(input_const(c, 0, &data));
    CNV_TRY(input_const(c, 1, &shape));
    if (!shape->i || shape->ndim != 1 || shape->count > ONNX_MAX_CONST_DIMS)
        return fold_fail(c, CNV_ERR_FORMAT, "'shape' must be a short 1-D int64 tensor");
    int64_t dims[ONNX_MAX_CONST_DIMS];
    int infer_at = -1;
    size_t known = 1;
    for (size_t k = 0; k < shape->count; k++) {
        dims[k] = shape->i[k] == 0 && (int)k < data->ndim ? data->dims[k] : shape->i[k];
        if (dims[k] == -1 && infer_at < 0) {
            infer_at = (int)k;
            continue;
        }
        if (dims[k] < 0) return fold_fail(c, CNV_ERR_FORMAT, "invalid target shape");
        known *= (size_t)dims[k];
    }
    if (infer_at >= 0 && known) dims[infer_at] = (int64_t)(data->count / known);
    if (infer_at >= 0) known *= (size_t)dims[infer_at];
    if (known != data->count) return fold_fail(c, CNV_ERR_FORMAT, "target shape does not match the element count");
    CNV_TRY(new_const(c, data->f != NULL, (int)shape->count, dims, out));
    copy_data(data, out);
    return CNV_OK;
}

/* Flatten of a constant into 2-D at `axis` (the expanded LayerNormalization flattens its Scale). */
static cnv_status fold_flatten(const fold_ctx *c, onnx_const *out) {
    CNV_TRY(only_attrs(c, " axis "));
    const onnx_const *data;
    CNV_TRY(input_const(c, 0, &data));
    int64_t axis = int_attr(c->n, "axis", 1);
    if (axis < 0) axis += data->ndim;
    if (axis < 0 || axis > data->ndim) return fold_fail(c, CNV_ERR_FORMAT, "axis out of range");
    int64_t dims[2] = {1, 1};
    for (int k = 0; k < data->ndim; k++) dims[k >= axis] *= data->dims[k];
    CNV_TRY(new_const(c, data->f != NULL, 2, dims, out));
    copy_data(data, out);
    return CNV_OK;
}

static cnv_status fold_neg(const fold_ctx *c, onnx_const *out) {
    CNV_TRY(only_attrs(c, " "));
    const onnx_const *data;
    CNV_TRY(input_const(c, 0, &data));
    CNV_TRY(new_const(c, data->f != NULL, data->ndim, data->dims, out));
    for (size_t k = 0; k < out->count; k++) {
        if (data->f) {
            out->f[k] = -data->f[k];
        } else if (data->i[k] == INT64_MIN) {
            onnx_const_free(out);
            return fold_fail(c, CNV_ERR_FORMAT, "integer overflow");
        } else {
            out->i[k] = -data->i[k];
        }
    }
    return CNV_OK;
}

static cnv_status fold_identity(const fold_ctx *c, onnx_const *out) {
    CNV_TRY(only_attrs(c, " "));
    const onnx_const *data;
    CNV_TRY(input_const(c, 0, &data));
    CNV_TRY(new_const(c, data->f != NULL, data->ndim, data->dims, out));
    copy_data(data, out);
    return CNV_OK;
}

cnv_status onnx_fold_constant_node(onnx_import *im, const Onnx__NodeProto *n, int *handled) {
    fold_ctx c = {im, n};
    const char *op = n->op_type;
    onnx_const out;
    cnv_status st;
    *handled = 1;
    if (n->n_output < 1) return fold_fail(&c, CNV_ERR_FORMAT, "node has no output");
    if (!strcmp(op, "Constant")) st = fold_constant(&c, &out);
    else if (!strcmp(op, "Shape")) st = fold_shape(&c, &out);
    else if (!strcmp(op, "Size")) st = fold_size(&c, &out);
    else if (!strcmp(op, "ConstantOfShape")) st = fold_constant_of_shape(&c, &out);
    else if (!strcmp(op, "Gather")) st = fold_gather(&c, &out);
    else if (!strcmp(op, "Unsqueeze")) st = fold_squeeze(&c, 1, &out);
    else if (!strcmp(op, "Squeeze")) st = fold_squeeze(&c, 0, &out);
    else if (!strcmp(op, "Concat")) st = fold_concat(&c, &out);
    else if (!strcmp(op, "Cast")) st = fold_cast(&c, &out);
    else if (!strcmp(op, "Slice")) st = fold_slice(&c, &out);
    else if (!strcmp(op, "Identity")) st = fold_identity(&c, &out);
    else if (!strcmp(op, "Reshape")) st = fold_reshape(&c, &out);
    else if (!strcmp(op, "Flatten")) st = fold_flatten(&c, &out);
    else if (!strcmp(op, "Neg")) st = fold_neg(&c, &out);
    else if (!strcmp(op, "Add")) st = fold_arith(&c, '+', &out);
    else if (!strcmp(op, "Sub")) st = fold_arith(&c, '-', &out);
    else if (!strcmp(op, "Mul")) st = fold_arith(&c, '*', &out);
    else if (!strcmp(op, "Div")) st = fold_arith(&c, '/', &out);
    else {
        *handled = 0;
        return CNV_OK;
    }
    if (st != CNV_OK) return st;
    st = onnx_add_const(im, &out);
    onnx_const_free(&out);
    return st;
}
