/* Writing a cnv_graph as ONNX. The message tree is built in memory with protobuf-c; every
 * block it points to comes from one arena freed at the end, and allocation failures set a
 * sticky flag checked once, so the op mapping below reads as a plain list of ONNX fields. */
#include "cnnvis/convert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "io/atomic_file.h"
#include "onnx_internal.h"

/* BatchNormalization written with mean 0, var 1 - eps and this eps: both are exact in float and
 * var + eps == 1 exactly, so y = x * scale + shift holds bit for bit in every reader. */
#define BN_EPSILON (1.0f / 131072.0f) /* 2^-17 */

#define MAX_ATTRS 8

typedef struct writer {
    cnv_graph *g;
    const char *path;
    int oom;
    void **blocks; /* arena: everything the message tree points to */
    size_t n_blocks, cap_blocks;
    Onnx__NodeProto **nodes;
    size_t n_nodes, cap_nodes;
    Onnx__TensorProto **inits;
    size_t n_inits, cap_inits;
    char **aux_names; /* names this writer made up (extra initializers and values) */
    size_t n_aux, cap_aux;
} writer;

/* Makes room for one more item in a growable array (items points to the array pointer); sets
 * the oom flag on failure. */
static int grow(writer *w, void *items, size_t n, size_t *cap, size_t item_size) {
    if (w->oom) return 0;
    if (n < *cap) return 1;
    size_t cap2 = *cap ? *cap * 2 : 32;
    void *p = realloc(*(void **)items, cap2 * item_size);
    if (!p) {
        w->oom = 1;
        return 0;
    }
    *(void **)items = p;
    *cap = cap2;
    return 1;
}

static void *w_alloc(writer *w, size_t size) {
    if (!grow(w, &w->blocks, w->n_blocks, &w->cap_blocks, sizeof *w->blocks)) return NULL;
    void *p = calloc(1, size ? size : 1);
    if (!p) {
        w->oom = 1;
        return NULL;
    }
    w->blocks[w->n_blocks++] = p;
    return p;
}

static char *w_strdup(writer *w, const char *s) {
    size_t n = strlen(s) + 1;
    char *d = w_alloc(w, n);
    if (d) memcpy(d, s, n);
    return d;
}

static void writer_free(writer *w) {
    for (size_t i = 0; i < w->n_blocks; i++) free(w->blocks[i]);
    free(w->blocks);
    free(w->nodes);
    free(w->inits);
    free(w->aux_names);
}

static int name_taken(const writer *w, const char *name) {
    if (cnv_graph_find_value(w->g, name) >= 0) return 1;
    for (size_t i = 0; i < w->n_aux; i++)
        if (strcmp(w->aux_names[i], name) == 0) return 1;
    return 0;
}

/* A fresh tensor name "<base>.<suffix>", made unique with a counter when needed. */
static const char *aux_name(writer *w, const char *base, const char *suffix) {
    size_t size = strlen(base) + strlen(suffix) + 24;
    char *name = w_alloc(w, size);
    if (!name) return NULL;
    snprintf(name, size, "%s.%s", base, suffix);
    for (int k = 2; name_taken(w, name); k++) snprintf(name, size, "%s.%s_%d", base, suffix, k);
    if (!grow(w, &w->aux_names, w->n_aux, &w->cap_aux, sizeof *w->aux_names)) return NULL;
    w->aux_names[w->n_aux++] = name;
    return name;
}

/* ---- tensors: raw_data is little-endian whatever the host ---- */

static void put_le(uint8_t *dst, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) dst[i] = (uint8_t)(v >> (8 * i));
}

static Onnx__TensorProto *new_tensor(writer *w, const char *name, int data_type, int ndim, const int64_t *dims,
                                     size_t nbytes) {
    Onnx__TensorProto *t = w_alloc(w, sizeof *t);
    int64_t *d = w_alloc(w, (size_t)ndim * sizeof *d);
    uint8_t *raw = w_alloc(w, nbytes);
    char *nm = w_strdup(w, name);
    if (!t || !d || !raw || !nm) return NULL;
    onnx__tensor_proto__init(t);
    memcpy(d, dims, (size_t)ndim * sizeof *d);
    t->n_dims = (size_t)ndim;
    t->dims = d;
    t->has_data_type = 1;
    t->data_type = data_type;
    t->name = nm;
    t->has_raw_data = 1;
    t->raw_data.len = nbytes;
    t->raw_data.data = raw;
    if (!grow(w, &w->inits, w->n_inits, &w->cap_inits, sizeof *w->inits)) return NULL;
    w->inits[w->n_inits++] = t;
    return t;
}

static void add_float_init(writer *w, const char *name, const cnv_shape *s, const float *data) {
    int64_t dims[CNV_MAX_DIMS] = {0};
    for (int i = 0; i < s->ndim; i++) dims[i] = s->d[i];
    size_t n = cnv_shape_numel(s);
    Onnx__TensorProto *t = new_tensor(w, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, s->ndim, dims, n * 4);
    if (!t) return;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &data[i], 4);
        put_le(t->raw_data.data + 4 * i, bits, 4);
    }
}

/* A float scalar (0-D) initializer under a fresh name; returns the name. */
static const char *add_scalar_init(writer *w, const char *node, const char *suffix, float value) {
    const char *name = aux_name(w, node, suffix);
    if (!name) return NULL;
    cnv_shape scalar = {0, {0}};
    add_float_init(w, name, &scalar, &value);
    return name;
}

/* A 1-D float initializer of n copies of value under a fresh name; returns the name. */
static const char *add_filled_init(writer *w, const char *node, const char *suffix, int n, float value) {
    const char *name = aux_name(w, node, suffix);
    float *data = w_alloc(w, (size_t)n * sizeof *data);
    if (!name || !data) return NULL;
    for (int i = 0; i < n; i++) data[i] = value;
    cnv_shape s = {1, {n}};
    add_float_init(w, name, &s, data);
    return name;
}

/* A 1-D int64 initializer under a fresh name; returns the name. */
static const char *add_int64_init(writer *w, const char *node, const char *suffix, int n, const int *values) {
    const char *name = aux_name(w, node, suffix);
    if (!name) return NULL;
    int64_t dims[1] = {n};
    Onnx__TensorProto *t = new_tensor(w, name, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, dims, (size_t)n * 8);
    if (!t) return NULL;
    for (int i = 0; i < n; i++) put_le(t->raw_data.data + 8 * i, (uint64_t)(int64_t)values[i], 8);
    return name;
}

/* ---- nodes and attributes ---- */

static Onnx__NodeProto *new_node(writer *w, const char *op_type, const char *name, int n_in, const char *const *in,
                                 const char *out) {
    Onnx__NodeProto *p = w_alloc(w, sizeof *p);
    char **ins = w_alloc(w, (size_t)n_in * sizeof *ins);
    char **outs = w_alloc(w, sizeof *outs);
    Onnx__AttributeProto **attrs = w_alloc(w, MAX_ATTRS * sizeof *attrs);
    if (!p || !ins || !outs || !attrs) return NULL;
    onnx__node_proto__init(p);
    for (int i = 0; i < n_in; i++)
        if (!in[i] || !(ins[i] = w_strdup(w, in[i]))) return NULL;
    if (!out || !(outs[0] = w_strdup(w, out))) return NULL;
    p->n_input = (size_t)n_in;
    p->input = ins;
    p->n_output = 1;
    p->output = outs;
    p->name = w_strdup(w, name);
    p->op_type = w_strdup(w, op_type);
    p->domain = w_strdup(w, "");
    p->attribute = attrs;
    if (!p->name || !p->op_type || !p->domain) return NULL;
    if (!grow(w, &w->nodes, w->n_nodes, &w->cap_nodes, sizeof *w->nodes)) return NULL;
    w->nodes[w->n_nodes++] = p;
    return p;
}

static Onnx__AttributeProto *new_attr(writer *w, Onnx__NodeProto *n, const char *name,
                                      Onnx__AttributeProto__AttributeType type) {
    if (!n) return NULL;
    Onnx__AttributeProto *a = w_alloc(w, sizeof *a);
    if (!a) return NULL;
    onnx__attribute_proto__init(a);
    a->name = w_strdup(w, name);
    if (!a->name) return NULL;
    a->has_type = 1;
    a->type = type;
    n->attribute[n->n_attribute++] = a; /* every op below sets at most MAX_ATTRS */
    return a;
}

static void attr_int(writer *w, Onnx__NodeProto *n, const char *name, int v) {
    Onnx__AttributeProto *a = new_attr(w, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (!a) return;
    a->has_i = 1;
    a->i = v;
}

static void attr_float(writer *w, Onnx__NodeProto *n, const char *name, float v) {
    Onnx__AttributeProto *a = new_attr(w, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    if (!a) return;
    a->has_f = 1;
    a->f = v;
}

static void attr_string(writer *w, Onnx__NodeProto *n, const char *name, const char *v) {
    Onnx__AttributeProto *a = new_attr(w, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    char *s = w_strdup(w, v);
    if (!a || !s) return;
    a->has_s = 1;
    a->s.data = (uint8_t *)s;
    a->s.len = strlen(v);
}

static void attr_ints(writer *w, Onnx__NodeProto *n, const char *name, int count, const int *v) {
    Onnx__AttributeProto *a = new_attr(w, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    int64_t *ints = w_alloc(w, (size_t)count * sizeof *ints);
    if (!a || !ints) return;
    for (int i = 0; i < count; i++) ints[i] = v[i];
    a->n_ints = (size_t)count;
    a->ints = ints;
}

/* pads or auto_pad (ONNX forbids both); pads are {top, left, bottom, right} in both orders. */
static void attr_padding(writer *w, Onnx__NodeProto *p, const cnv_attrs *a) {
    static const char *const auto_pad_names[] = {
        [CNV_AUTO_PAD_SAME_UPPER] = "SAME_UPPER", [CNV_AUTO_PAD_SAME_LOWER] = "SAME_LOWER",
        [CNV_AUTO_PAD_VALID] = "VALID"};
    if (a->auto_pad == CNV_AUTO_PAD_NOTSET)
        attr_ints(w, p, "pads", 4, a->pads);
    else
        attr_string(w, p, "auto_pad", auto_pad_names[a->auto_pad]);
}

static int is_unit(const int v[2]) { return v[0] == 1 && v[1] == 1; }

/* ---- the op mapping ---- */

static const char *value_name(const writer *w, int v) { return w->g->values[v].name; }

/* Softmax in opset 13 normalizes along one axis; the legacy op (opset < 13) over the flattened
 * dims [axis, end). When the dims after the axis (or all but the last) are 1 both agree and one
 * Softmax is written; otherwise Flatten -> Softmax -> Reshape computes the legacy op exactly. */
static void emit_softmax(writer *w, const cnv_node *n, const char *in) {
    const cnv_shape *x = &w->g->values[n->in[0]].shape;
    const char *out = value_name(w, n->out);
    int axis = n->attrs.axis < 0 ? n->attrs.axis + x->ndim : n->attrs.axis;
    int ones_after_axis = 1, ones_before_last = 1;
    for (int i = axis + 1; i < x->ndim; i++) ones_after_axis &= x->d[i] == 1;
    for (int i = axis; i < x->ndim - 1; i++) ones_before_last &= x->d[i] == 1;
    if (!n->attrs.softmax_legacy || ones_after_axis || ones_before_last) {
        int onnx_axis = (!n->attrs.softmax_legacy || ones_after_axis) ? axis : x->ndim - 1;
        attr_int(w, new_node(w, "Softmax", n->name, 1, &in, out), "axis", onnx_axis);
        return;
    }
    const char *flat = aux_name(w, n->name, "flat");
    const char *soft = aux_name(w, n->name, "softmax");
    const char *flat_node = aux_name(w, n->name, "flatten");
    const char *reshape_node = aux_name(w, n->name, "reshape");
    attr_int(w, new_node(w, "Flatten", flat_node, 1, &in, flat), "axis", axis);
    attr_int(w, new_node(w, "Softmax", n->name, 1, &flat, soft), "axis", 1);
    /* The batch dim is the only free one: -1 there, the others as inferred. */
    int target[CNV_MAX_DIMS];
    target[0] = -1;
    for (int i = 1; i < x->ndim; i++) target[i] = x->d[i];
    const char *ins[2] = {soft, add_int64_init(w, n->name, "shape", x->ndim, target)};
    new_node(w, "Reshape", reshape_node, 2, ins, out);
}

/* The one-field attributes a descriptor lists (onnx_attr_fields: alpha, axis, transA, ...),
 * written from the node's attributes; emit_plain: an op whose ONNX node is its inputs and those. */
static void emit_plain_attrs(writer *w, Onnx__NodeProto *p, const cnv_node *n) {
    const cnv_op_desc *desc = cnv_op_desc_of(n->op);
    for (const char *list = desc->attrs; *list;) {
        char word[32];
        size_t len = strcspn(list, " ");
        snprintf(word, sizeof word, "%.*s", (int)len, list);
        list += len + (list[len] == ' ');
        const onnx_attr_field *f = onnx_attr_field_find(word);
        if (!f) continue; /* accepted on import and without effect at inference (Dropout's ratio) */
        const void *field = (const char *)&n->attrs + f->offset;
        if (f->kind == ONNX_FIELD_FLOAT) attr_float(w, p, word, *(const float *)field);
        else if (f->kind == ONNX_FIELD_CHOICE) attr_string(w, p, word, f->choices[*(const int *)field]);
        else attr_int(w, p, word, *(const int *)field);
    }
}

static void emit_plain(writer *w, const cnv_node *n, const char *const *in, const char *out) {
    emit_plain_attrs(w, new_node(w, cnv_op_desc_of(n->op)->name, n->name, n->n_in, in, out), n);
}

static cnv_status emit_node(writer *w, const cnv_node *n) {
    const cnv_attrs *a = &n->attrs;
    const char *in[CNV_MAX_INPUTS + 4];
    for (int i = 0; i < n->n_in; i++) in[i] = value_name(w, n->in[i]);
    const char *out = value_name(w, n->out);
    const char *op = cnv_op_name(n->op);
    Onnx__NodeProto *p;
    switch (n->op) {
    case CNV_OP_CONV:
    case CNV_OP_CONVTRANSPOSE: {
        /* The same attributes, read off the weight the same way; ConvTranspose adds two. */
        const cnv_shape *ws = &w->g->values[n->in[1]].shape;
        int kernel[2] = {ws->d[2], ws->d[3]};
        p = new_node(w, op, n->name, n->n_in, in, out);
        attr_ints(w, p, "kernel_shape", 2, kernel);
        attr_ints(w, p, "strides", 2, a->stride);
        attr_ints(w, p, "dilations", 2, a->dilation);
        attr_int(w, p, "group", a->group);
        if (n->op == CNV_OP_CONVTRANSPOSE) {
            attr_ints(w, p, "output_padding", 2, a->output_padding);
            if (a->out_hw[0] > 0) attr_ints(w, p, "output_shape", 2, a->out_hw);
        }
        attr_padding(w, p, a);
        break;
    }
    case CNV_OP_MAXPOOL:
        p = new_node(w, op, n->name, n->n_in, in, out);
        attr_ints(w, p, "kernel_shape", 2, a->kernel);
        attr_ints(w, p, "strides", 2, a->stride);
        if (!is_unit(a->dilation)) attr_ints(w, p, "dilations", 2, a->dilation);
        attr_int(w, p, "ceil_mode", a->ceil_mode);
        attr_padding(w, p, a);
        break;
    case CNV_OP_AVGPOOL:
        if (!is_unit(a->dilation))
            return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: node '%s' (AveragePool): dilations need opset 19, written is %d",
                            w->path, n->name, CNV_ONNX_EXPORT_OPSET);
        p = new_node(w, op, n->name, n->n_in, in, out);
        attr_ints(w, p, "kernel_shape", 2, a->kernel);
        attr_ints(w, p, "strides", 2, a->stride);
        attr_int(w, p, "ceil_mode", a->ceil_mode);
        attr_int(w, p, "count_include_pad", a->count_include_pad);
        attr_padding(w, p, a);
        break;
    case CNV_OP_CLIP:
        in[1] = add_scalar_init(w, n->name, "min", a->min);
        in[2] = add_scalar_init(w, n->name, "max", a->max);
        new_node(w, op, n->name, 3, in, out);
        break;
    case CNV_OP_RESHAPE:
        in[1] = add_int64_init(w, n->name, "shape", a->shape_n, a->shape);
        new_node(w, op, n->name, 2, in, out);
        break;
    case CNV_OP_PAD: {
        static const char *const modes[] = {
            [CNV_PAD_CONSTANT] = "constant", [CNV_PAD_REFLECT] = "reflect", [CNV_PAD_EDGE] = "edge"};
        int rank = w->g->values[n->in[0]].shape.ndim, pads[2 * CNV_MAX_DIMS];
        for (int i = 0; i < rank; i++) {
            pads[i] = a->pad_full[i];
            pads[rank + i] = a->pad_full[CNV_MAX_DIMS + i];
        }
        in[1] = add_int64_init(w, n->name, "pads", 2 * rank, pads);
        int n_in = 2;
        if (a->pad_mode == CNV_PAD_CONSTANT) in[n_in++] = add_scalar_init(w, n->name, "value", a->pad_value);
        attr_string(w, new_node(w, op, n->name, n_in, in, out), "mode", modes[a->pad_mode]);
        break;
    }
    case CNV_OP_RESIZE: {
        /* Opset 13: X, roi (unused), then scales or sizes, whichever the node was given. */
        static const char *const modes[] = {[CNV_RESIZE_NEAREST] = "nearest", [CNV_RESIZE_LINEAR] = "linear"};
        const cnv_shape *x = &w->g->values[n->in[0]].shape;
        in[1] = "";
        if (a->out_hw[0] > 0) {
            int sizes[4] = {x->d[0], x->d[1], a->out_hw[0], a->out_hw[1]};
            in[2] = "";
            in[3] = add_int64_init(w, n->name, "sizes", 4, sizes);
        } else {
            float scales[4] = {1.0f, 1.0f, a->resize_scale[0], a->resize_scale[1]};
            const char *name = aux_name(w, n->name, "scales");
            cnv_shape s1 = {1, {4}};
            if (name) add_float_init(w, name, &s1, scales);
            in[2] = name;
        }
        p = new_node(w, op, n->name, a->out_hw[0] > 0 ? 4 : 3, in, out);
        attr_string(w, p, "mode", modes[a->resize_mode]);
        emit_plain_attrs(w, p, n);
        break;
    }
    case CNV_OP_SOFTMAX:
        emit_softmax(w, n, in[0]);
        break;
    case CNV_OP_BATCHNORM: {
        int channels = w->g->values[n->in[1]].shape.d[0];
        in[3] = add_filled_init(w, n->name, "mean", channels, 0.0f);
        in[4] = add_filled_init(w, n->name, "var", channels, 1.0f - BN_EPSILON);
        attr_float(w, new_node(w, op, n->name, 5, in, out), "epsilon", BN_EPSILON);
        break;
    }
    case CNV_OP_REDUCEMEAN:
    case CNV_OP_REDUCESUM:
    case CNV_OP_REDUCEMAX: {
        /* Opset 13: axes an attribute, but ReduceSum's an input; no axes at all is an Identity. */
        int axes[CNV_MAX_DIMS], n_axes = 0;
        for (int k = 0; k < CNV_MAX_DIMS; k++)
            if (a->reduce_axes >> k & 1) axes[n_axes++] = k;
        if (n_axes == 0) {
            new_node(w, "Identity", n->name, 1, in, out);
            break;
        }
        if (n->op == CNV_OP_REDUCESUM) {
            in[1] = add_int64_init(w, n->name, "axes", n_axes, axes);
            p = new_node(w, op, n->name, 2, in, out);
        } else {
            p = new_node(w, op, n->name, 1, in, out);
            attr_ints(w, p, "axes", n_axes, axes);
        }
        attr_int(w, p, "keepdims", a->keepdims);
        break;
    }
    case CNV_OP_TRANSPOSE:
        attr_ints(w, new_node(w, op, n->name, n->n_in, in, out), "perm", w->g->values[n->in[0]].shape.ndim, a->perm);
        break;
    case CNV_OP_SLICE: {
        /* Opset-10 form: every dim's window as inputs (axes 0..rank-1). */
        int rank = w->g->values[n->in[0]].shape.ndim, axes[CNV_MAX_DIMS];
        for (int k = 0; k < rank; k++) axes[k] = k;
        in[1] = add_int64_init(w, n->name, "starts", rank, a->slice_start);
        in[2] = add_int64_init(w, n->name, "ends", rank, a->slice_end);
        in[3] = add_int64_init(w, n->name, "axes", rank, axes);
        in[4] = add_int64_init(w, n->name, "steps", rank, a->slice_step);
        new_node(w, op, n->name, 5, in, out);
        break;
    }
    default:
        if (cnv_op_desc_of(n->op)->flags & CNV_OPF_IMAGE)
            /* Feature-visualization ops live only in cnnvis's own graphs; ONNX has no such op. */
            return cnv_fail(CNV_ERR_UNSUPPORTED,
                            "%s: node '%s': %s is an image-space op of cnnvis and cannot be written to ONNX", w->path,
                            n->name, op);
        emit_plain(w, n, in, out);
        break;
    }
    return CNV_OK;
}

/* ---- graph input and output ---- */

static Onnx__ValueInfoProto *value_info(writer *w, int v, int symbolic_batch) {
    const cnv_shape *s = &w->g->values[v].shape;
    Onnx__ValueInfoProto *vi = w_alloc(w, sizeof *vi);
    Onnx__TypeProto *type = w_alloc(w, sizeof *type);
    Onnx__TypeProto__Tensor *tensor = w_alloc(w, sizeof *tensor);
    Onnx__TensorShapeProto *shape = w_alloc(w, sizeof *shape);
    Onnx__TensorShapeProto__Dimension **dims = w_alloc(w, (size_t)s->ndim * sizeof *dims);
    char *name = w_strdup(w, value_name(w, v));
    if (!vi || !type || !tensor || !shape || !dims || !name) return NULL;
    for (int i = 0; i < s->ndim; i++) {
        Onnx__TensorShapeProto__Dimension *d = w_alloc(w, sizeof *d);
        if (!d) return NULL;
        onnx__tensor_shape_proto__dimension__init(d);
        if (i == 0 && symbolic_batch) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            if (!(d->dim_param = w_strdup(w, "N"))) return NULL;
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = s->d[i];
        }
        dims[i] = d;
    }
    onnx__tensor_shape_proto__init(shape);
    shape->n_dim = (size_t)s->ndim;
    shape->dim = dims;
    onnx__type_proto__tensor__init(tensor);
    tensor->has_elem_type = 1;
    tensor->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tensor->shape = shape;
    onnx__type_proto__init(type);
    type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    type->tensor_type = tensor;
    onnx__value_info_proto__init(vi);
    vi->name = name;
    vi->type = type;
    return vi;
}

/* True when the graph runs at batch 2 with the output's first dim following the batch. */
static cnv_status batch_is_free(cnv_graph *g, const char *path, int *free_batch) {
    *free_batch = 0;
    const cnv_shape *in = &g->values[g->input].shape, *out1 = &g->values[g->output].shape;
    if (in->ndim < 1 || in->d[0] != 1 || out1->ndim < 1 || out1->d[0] != 1) return CNV_OK;
    cnv_shape *shapes = malloc((size_t)g->n_values * sizeof *shapes);
    if (!shapes) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", path);
    cnv_shape in2 = *in;
    in2.d[0] = 2;
    if (cnv_graph_infer_shapes(g, &in2, shapes) == CNV_OK) {
        cnv_shape expect = *out1;
        expect.d[0] = 2;
        *free_batch = cnv_shape_equal(&shapes[g->output], &expect);
    }
    free(shapes);
    return CNV_OK;
}

/* ---- the model ---- */

static cnv_status build_graph(writer *w, Onnx__GraphProto *gp) {
    cnv_graph *g = w->g;
    char *used = calloc((size_t)g->n_values + 1, 1);
    if (!used) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", w->path);
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++) used[g->nodes[i].in[j]] = 1;
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].init && used[v]) add_float_init(w, g->values[v].name, &g->values[v].shape, g->values[v].init);
    free(used);

    for (int i = 0; i < g->n_nodes; i++) CNV_TRY(emit_node(w, &g->nodes[i]));

    int free_batch;
    CNV_TRY(batch_is_free(g, w->path, &free_batch));
    Onnx__ValueInfoProto **in = w_alloc(w, sizeof *in), **out = w_alloc(w, sizeof *out);
    if (in && out) {
        in[0] = value_info(w, g->input, free_batch);
        out[0] = value_info(w, g->output, free_batch);
    }
    gp->name = w_strdup(w, "cnnvis");
    gp->n_node = w->n_nodes;
    gp->node = w->nodes;
    gp->n_initializer = w->n_inits;
    gp->initializer = w->inits;
    gp->n_input = 1;
    gp->input = in;
    gp->n_output = 1;
    gp->output = out;
    if (w->oom) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory building the ONNX model", w->path);
    return CNV_OK;
}

static cnv_status write_model(const Onnx__ModelProto *model, const char *path) {
    size_t size = onnx__model_proto__get_packed_size(model);
    /* Protobuf readers (onnx, onnxruntime, cnnvis's own) refuse a message of 2 GB or more. */
    if (size > INT32_MAX)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: the model would take %.1f GB, beyond protobuf's 2 GB limit for one ONNX file",
                        path, (double)size / 1e9);
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory serializing %zu bytes", path, size);
    onnx__model_proto__pack(model, buf);
    cnv_atomic_file af;
    cnv_status st = cnv_atomic_open(path, &af);
    if (st == CNV_OK) {
        if (fwrite(buf, 1, size, af.f) == size) {
            st = cnv_atomic_commit(&af);
        } else {
            cnv_atomic_abort(&af);
            st = cnv_fail(CNV_ERR_IO, "%s: write failed", path);
        }
    }
    free(buf);
    return st;
}

static int has_op(const cnv_graph *g, cnv_op_type op) {
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == op) return 1;
    return 0;
}

cnv_status cnv_onnx_save(cnv_graph *g, const char *path) {
    if (g->input < 0 || g->output < 0 || g->n_nodes == 0)
        return cnv_fail(CNV_ERR_ARG, "%s: the graph has no input, output or nodes to write", path);
    writer w = {.g = g, .path = path};
    Onnx__GraphProto graph;
    onnx__graph_proto__init(&graph);
    cnv_status st = build_graph(&w, &graph);
    if (st == CNV_OK) {
        Onnx__OperatorSetIdProto opset;
        onnx__operator_set_id_proto__init(&opset);
        opset.domain = "";
        opset.has_version = 1;
        const int gelu = has_op(g, CNV_OP_GELU);
        opset.version = gelu ? CNV_ONNX_EXPORT_GELU_OPSET : CNV_ONNX_EXPORT_OPSET;
        Onnx__OperatorSetIdProto *opsets[1] = {&opset};
        Onnx__ModelProto model;
        onnx__model_proto__init(&model);
        model.has_ir_version = 1;
        model.ir_version = gelu ? CNV_ONNX_EXPORT_GELU_IR_VERSION : CNV_ONNX_EXPORT_IR_VERSION;
        model.n_opset_import = 1;
        model.opset_import = opsets;
        model.producer_name = "cnnvis";
        model.producer_version = CNNVIS_VERSION;
        model.graph = &graph;
        st = write_model(&model, path);
    }
    writer_free(&w);
    return st;
}
