/* ONNX model import: protobuf (protobuf-c bindings generated from the system's onnx.proto)
 * into a cnv_graph whose nodes hold only float inputs. Integer and constant inputs become
 * attributes, shape arithmetic is evaluated here, BatchNormalization is folded, and shapes are
 * inferred with batch 1 at one height and width: a symbolic height and width take the size the
 * caller asks for, so shape arithmetic that reads them (Shape -> Gather -> Reshape) is evaluated
 * for that size; running at another size means loading again. */
#include "onnx_internal.h"
#include "models/onnx.h"
#include "core/alloc.h"
#include "core/status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Opsets 1..6 are read where an op means what it means at opset 7 (onnx_attrs.c: legacy_attr). */
#define ONNX_MIN_OPSET 1
#define ONNX_MAX_OPSET 20

const char *onnx_node_name(const Onnx__NodeProto *n) {
    if (n->name && n->name[0]) return n->name;
    return n->n_output && n->output[0] ? n->output[0] : "?";
}

static onnx_const *const_named(const onnx_import *im, const char *name) {
    for (int k = im->n_consts - 1; k >= 0; k--)
        if (!strcmp(im->consts[k].name, name)) return &im->consts[k];
    return NULL;
}

const onnx_const *onnx_find_const(const onnx_import *im, const char *name) { return const_named(im, name); }

cnv_status onnx_add_const(onnx_import *im, onnx_const *c) {
    if (!cnv_grow((void **)&im->consts, &im->cap_consts, im->n_consts + 1, sizeof *im->consts))
        return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", im->path);
    im->consts[im->n_consts++] = *c;
    memset(c, 0, sizeof *c);
    return CNV_OK;
}

static const onnx_name *find_name(const onnx_import *im, const char *name) {
    for (int k = 0; k < im->n_names; k++)
        if (!strcmp(im->names[k].name, name)) return &im->names[k];
    return NULL;
}

static cnv_status add_name(onnx_import *im, const char *name, int value, const char *why) {
    if (!cnv_grow((void **)&im->names, &im->cap_names, im->n_names + 1, sizeof *im->names))
        return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", im->path);
    onnx_name *e = &im->names[im->n_names];
    e->name = malloc(strlen(name) + 1);
    if (!e->name) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", im->path);
    strcpy(e->name, name);
    e->value = value;
    e->why = why;
    im->n_names++;
    return CNV_OK;
}

static cnv_status node_fail(const onnx_import *im, const Onnx__NodeProto *n, cnv_status s, const char *problem,
                            const char *name) {
    return cnv_fail(s, "%s: node '%s' (%s): %s'%s'", im->path, onnx_node_name(n), n->op_type, problem, name);
}

/* A float graph value for an input name: an activation, an alias, or a float constant that
 * becomes a weight (initializer) on first use. */
static cnv_status resolve_value(onnx_import *im, const Onnx__NodeProto *n, const char *name, int *value) {
    cnv_graph *g = im->g;
    *value = cnv_graph_find_value(g, name);
    if (*value >= 0) return CNV_OK;
    const onnx_name *alias = find_name(im, name);
    if (alias && alias->why) return node_fail(im, n, CNV_ERR_UNSUPPORTED, alias->why, name);
    if (alias) {
        *value = alias->value;
        return CNV_OK;
    }
    onnx_const *c = const_named(im, name);
    if (!c) return node_fail(im, n, CNV_ERR_FORMAT, "input is not defined before the node: ", name);
    if (!c->f) return node_fail(im, n, CNV_ERR_UNSUPPORTED, "int64 tensor used as float data: ", name);
    if (c->ndim > CNV_MAX_DIMS) {
        char problem[64];
        snprintf(problem, sizeof problem, "weight with more than %d dims: ", CNV_MAX_DIMS);
        return node_fail(im, n, CNV_ERR_UNSUPPORTED, problem, name);
    }
    cnv_shape s = {c->ndim, {0}};
    for (int k = 0; k < c->ndim; k++) {
        if (c->dims[k] < 1 || c->dims[k] > INT32_MAX)
            return node_fail(im, n, CNV_ERR_UNSUPPORTED, "empty or huge weight: ", name);
        s.d[k] = (int)c->dims[k];
    }
    /* The graph takes the data as it is, no copy: a view into its weight block, or the constant's
     * own array, which the constant then only views (constants are dropped after the import). */
    *value = cnv_graph_add_weight(g, name, &s, c->f, !c->f_kept);
    if (*value < 0) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", im->path);
    c->f_kept = 1;
    return CNV_OK;
}

cnv_status onnx_resolve_value(onnx_import *im, const Onnx__NodeProto *n, const char *name, int *value) {
    return resolve_value(im, n, name, value);
}

static int is_given(const Onnx__NodeProto *n, size_t k) { return k < n->n_input && n->input[k][0]; }

/* BatchNormalization (inference) as y = x*scale' + shift' per channel, scale' and shift' new
 * weights computed in double from gamma, beta, mean, var and epsilon. */
static cnv_status add_batchnorm_weights(onnx_import *im, const Onnx__NodeProto *n, int *in) {
    static const char *const roles[4] = {"scale", "B", "mean", "var"};
    const onnx_const *p[4];
    for (int k = 0; k < 4; k++) {
        p[k] = is_given(n, (size_t)k + 1) ? onnx_find_const(im, n->input[k + 1]) : NULL;
        if (!p[k] || !p[k]->f)
            return node_fail(im, n, CNV_ERR_UNSUPPORTED, "needs a constant float input ", roles[k]);
        if (p[k]->count != p[0]->count) return node_fail(im, n, CNV_ERR_FORMAT, "per-channel inputs differ in size: ", roles[k]);
    }
    float eps = 1e-5f;
    for (size_t k = 0; k < n->n_attribute; k++)
        if (n->attribute[k]->name && !strcmp(n->attribute[k]->name, "epsilon")) eps = n->attribute[k]->f;
    int channels = (int)p[0]->count;
    float *scale = malloc((size_t)channels * 2 * sizeof *scale);
    if (!scale) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", im->path);
    float *shift = scale + channels;
    for (int ch = 0; ch < channels; ch++) {
        double s = p[0]->f[ch] / sqrt((double)p[3]->f[ch] + eps);
        scale[ch] = (float)s;
        shift[ch] = (float)(p[1]->f[ch] - p[2]->f[ch] * s);
    }
    cnv_shape cs = {1, {channels}};
    char name[512];
    snprintf(name, sizeof name, "%s.bn_scale", onnx_node_name(n));
    in[1] = cnv_graph_add_value(im->g, name, &cs, scale);
    snprintf(name, sizeof name, "%s.bn_shift", onnx_node_name(n));
    in[2] = cnv_graph_add_value(im->g, name, &cs, shift);
    free(scale);
    if (in[1] < 0 || in[2] < 0) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", im->path);
    return CNV_OK;
}

/* Extra outputs cnnvis does not compute; using one later is an unsupported-feature error. */
static cnv_status mark_extra_outputs(onnx_import *im, const Onnx__NodeProto *n, cnv_op_type op) {
    const char *why = op == CNV_OP_MAXPOOL    ? "uses MaxPool's Indices output (unsupported): "
                      : op == CNV_OP_DROPOUT  ? "uses Dropout's mask output (unsupported): "
                      : op == CNV_OP_BATCHNORM ? "uses a training output of BatchNormalization (unsupported): "
                                              : NULL;
    for (size_t k = 1; k < n->n_output; k++) {
        if (!n->output[k][0]) continue;
        if (!why) return node_fail(im, n, CNV_ERR_FORMAT, "unexpected extra output ", n->output[k]);
        CNV_TRY(add_name(im, n->output[k], -1, why));
    }
    return CNV_OK;
}

cnv_status onnx_import_node_as(onnx_import *im, const Onnx__NodeProto *n, cnv_op_type op, const cnv_attrs *given) {
    cnv_graph *g = im->g;
    const cnv_op_desc *desc = cnv_op_desc_of(op);
    if (n->n_input > (size_t)desc->onnx_in) {
        if (desc->onnx_in == CNV_MAX_INPUTS)
            return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: node '%s' (%s): %zu inputs; cnnvis takes at most %d", im->path,
                            onnx_node_name(n), n->op_type, n->n_input, CNV_MAX_INPUTS);
        return node_fail(im, n, CNV_ERR_FORMAT, "too many inputs for ", n->op_type);
    }
    /* The ONNX inputs that are float tensors of the graph node; the ones after them are constants
     * read as attributes. BatchNormalization's statistics become two weights below. */
    const size_t lo = op == CNV_OP_BATCHNORM ? 1 : (size_t)desc->min_in;
    const size_t hi = op == CNV_OP_BATCHNORM ? 1 : (size_t)desc->max_in;
    int in[CNV_MAX_INPUTS], n_in = 0;
    for (size_t k = 0; k < hi && k < n->n_input; k++) {
        if (!n->input[k][0]) continue; /* an omitted optional input */
        CNV_TRY(resolve_value(im, n, n->input[k], &in[n_in]));
        n_in++;
    }
    if ((size_t)n_in < lo || !is_given(n, 0)) return node_fail(im, n, CNV_ERR_FORMAT, "missing inputs of ", n->op_type);
    /* Data first: a commutative op with a weight first is turned around. */
    if ((desc->flags & CNV_OPF_COMMUTATIVE) && n_in == 2 && g->values[in[0]].init && !g->values[in[1]].init) {
        int t = in[0];
        in[0] = in[1];
        in[1] = t;
    }
    if (g->values[in[0]].init) return node_fail(im, n, CNV_ERR_UNSUPPORTED, "constant data input ", n->input[0]);
    if (im->opset < 7 && cnv_op_binary_number(op) >= 0 && n_in == 2)
        CNV_TRY(onnx_check_legacy_broadcast(im, n, &g->values[in[0]].shape, &g->values[in[1]].shape));
    if (op == CNV_OP_BATCHNORM) {
        CNV_TRY(add_batchnorm_weights(im, n, in));
        n_in = 3;
    }

    cnv_attrs attrs;
    if (given)
        attrs = *given;
    else
        CNV_TRY(onnx_parse_attrs(im, n, op, &g->values[in[0]].shape, &attrs));
    cnv_shape shapes[CNV_MAX_INPUTS], out_shape;
    for (int k = 0; k < n_in; k++) shapes[k] = g->values[in[k]].shape;
    const char *name = onnx_node_name(n);
    cnv_status st = cnv_op_infer_shape(op, &attrs, n_in, shapes, &out_shape, name);
    if (st != CNV_OK) {
        cnv_error_prefix(im->path);
        return st;
    }
    if (cnv_graph_find_value(g, n->output[0]) >= 0 || onnx_find_const(im, n->output[0]) || find_name(im, n->output[0]))
        return node_fail(im, n, CNV_ERR_FORMAT, "output defined twice: ", n->output[0]);
    int out = cnv_graph_add_value(g, n->output[0], &out_shape, NULL);
    if (out < 0 || cnv_graph_add_node(g, name, op, &attrs, n_in, in, out) < 0)
        return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", im->path);
    return mark_extra_outputs(im, n, op);
}

/* ConvTranspose with a bias B [M]: the op without it ('<name>/conv', output '<output>/conv'), then
 * an Add of B as [M, 1, 1] under the node's own name, so the bias runs on the Add kernels. */
static cnv_status import_convtranspose_bias(onnx_import *im, const Onnx__NodeProto *n) {
    const onnx_const *b = onnx_find_const(im, n->input[2]);
    if (!b || !b->f || b->ndim != 1)
        return node_fail(im, n, CNV_ERR_UNSUPPORTED, "needs a constant 1-D float bias: ", n->input[2]);
    char name[512], out[512], bias[512];
    snprintf(name, sizeof name, "%s/conv", onnx_node_name(n));
    snprintf(out, sizeof out, "%s/conv", n->output[0]);
    snprintf(bias, sizeof bias, "%s/bias", onnx_node_name(n));
    Onnx__NodeProto step = *n;
    char *outs[1] = {out};
    step.n_input = 2;
    step.output = outs;
    step.name = name;
    CNV_TRY(onnx_import_node_as(im, &step, CNV_OP_CONVTRANSPOSE, NULL));
    cnv_graph *g = im->g;
    const int y = cnv_graph_find_value(g, out);
    if (b->dims[0] != g->values[y].shape.d[1])
        return node_fail(im, n, CNV_ERR_FORMAT, "bias size differs from the output channels: ", n->input[2]);
    cnv_shape bs = {3, {(int)b->dims[0], 1, 1}};
    int in[2] = {y, cnv_graph_add_value(g, bias, &bs, b->f)};
    if (in[1] < 0) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", im->path);
    cnv_attrs attrs;
    cnv_attrs_default(CNV_OP_ADD, &attrs);
    int o = cnv_graph_add_value(g, n->output[0], &g->values[y].shape, NULL);
    if (o < 0 || cnv_graph_add_node(g, onnx_node_name(n), CNV_OP_ADD, &attrs, 2, in, o) < 0)
        return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", im->path);
    return CNV_OK;
}

static int all_inputs_constant(const onnx_import *im, const Onnx__NodeProto *n) {
    if (n->n_input == 0) return 0;
    for (size_t k = 0; k < n->n_input; k++)
        if (n->input[k][0] && !onnx_find_const(im, n->input[k])) return 0;
    return 1;
}

/* Sum, Max or Min of k > 2 inputs as k - 1 two-input nodes, each folding in the next input:
 * '<name>/1', '<name>/2', ... with outputs '<output>/1', ...; the last is the node itself. */
static cnv_status import_chain(onnx_import *im, const Onnx__NodeProto *n, cnv_op_type op) {
    if (n->n_input > CNV_MAX_INPUTS)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: node '%s' (%s): %zu inputs; cnnvis takes at most %d", im->path,
                        onnx_node_name(n), n->op_type, n->n_input, CNV_MAX_INPUTS);
    char names[2][512], outs[2][512];
    const char *acc = n->input[0];
    for (size_t k = 1; k < n->n_input; k++) {
        const int last = k + 1 == n->n_input, slot = (int)(k & 1);
        snprintf(names[slot], sizeof names[slot], "%s/%zu", onnx_node_name(n), k);
        snprintf(outs[slot], sizeof outs[slot], "%s/%zu", n->output[0], k);
        Onnx__NodeProto step = *n;
        char *ins[2] = {(char *)acc, n->input[k]};
        char *out[1] = {last ? n->output[0] : outs[slot]};
        step.input = ins;
        step.n_input = 2;
        step.output = out;
        step.n_output = 1;
        step.name = last ? n->name : names[slot];
        CNV_TRY(onnx_import_node_as(im, &step, op, NULL));
        acc = outs[slot];
    }
    return CNV_OK;
}

static cnv_status import_node(onnx_import *im, const Onnx__NodeProto *n) {
    if (n->op_type && n->n_output > 1 && !n->output[0][0])
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: node '%s' (%s): leaves its first output unused (unsupported)",
                        im->path, onnx_node_name(n), n->op_type);
    if (!n->op_type || n->n_output < 1 || !n->output[0][0])
        return cnv_fail(CNV_ERR_FORMAT, "%s: node '%s' has no op type or no output", im->path, onnx_node_name(n));
    if (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx") != 0)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: node '%s': unsupported op '%s' (domain '%s')", im->path,
                        onnx_node_name(n), n->op_type, n->domain);
    cnv_op_type op = cnv_op_from_name(n->op_type);
    const int is_sum = !strcmp(n->op_type, "Sum");
    if (is_sum) op = CNV_OP_ADD;
    const int variadic = op != CNV_OP_COUNT && (is_sum || (cnv_op_desc_of(op)->flags & CNV_OPF_VARIADIC));
    /* A one-input Sum, Max or Min is the tensor itself. */
    if (variadic && n->n_input == 1) op = CNV_OP_IDENTITY;
    if (variadic && n->n_input > 2 && !all_inputs_constant(im, n)) return import_chain(im, n, op);
    if (op == CNV_OP_COUNT && !all_inputs_constant(im, n)) {
        int handled;
        CNV_TRY(onnx_import_shape_node(im, n, &handled));
        if (handled) return CNV_OK;
        CNV_TRY(onnx_import_composite_node(im, n, &handled));
        if (handled) return CNV_OK;
    }
    if (op == CNV_OP_COUNT || all_inputs_constant(im, n)) {
        int handled;
        CNV_TRY(onnx_fold_constant_node(im, n, &handled));
        if (handled) return CNV_OK;
        if (op == CNV_OP_COUNT)
            return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: node '%s': unsupported op '%s'", im->path, onnx_node_name(n),
                            n->op_type);
        return node_fail(im, n, CNV_ERR_UNSUPPORTED, "every input is a constant; cannot evaluate ", n->op_type);
    }
    if (op == CNV_OP_CONVTRANSPOSE && is_given(n, 2)) return import_convtranspose_bias(im, n);
    return onnx_import_node_as(im, n, op, NULL);
}

static cnv_status read_opset(onnx_import *im, const Onnx__ModelProto *m) {
    im->opset = -1;
    for (size_t k = 0; k < m->n_opset_import; k++) {
        const char *d = m->opset_import[k]->domain;
        if (!d || !d[0] || !strcmp(d, "ai.onnx")) im->opset = (int)m->opset_import[k]->version;
    }
    if (im->opset < 0 && m->n_opset_import && m->opset_import[0]->domain)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: uses only the operator set of domain '%s' (unsupported)", im->path,
                        m->opset_import[0]->domain);
    if (im->opset < 0) return cnv_fail(CNV_ERR_FORMAT, "%s: not a valid ONNX model (no default-domain opset)", im->path);
    if (im->opset < ONNX_MIN_OPSET || im->opset > ONNX_MAX_OPSET)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: opset %d is not supported (%d..%d are)", im->path, im->opset,
                        ONNX_MIN_OPSET, ONNX_MAX_OPSET);
    return CNV_OK;
}

/* Initializer k's raw_data as the split left it in the weight block; NULL when it had none. */
static const onnx_view *raw_view(const onnx_import *im, size_t k, onnx_view *view) {
    const onnx_split *sp = im->split;
    if (!sp || k >= sp->n_raws || !sp->raws[k].present) return NULL;
    uint8_t *block = im->g->weights;
    view->bytes = sp->raws[k].len ? block + sp->raws[k].offset : block;
    view->len = sp->raws[k].len;
    return view;
}

static cnv_status read_initializers(onnx_import *im, const Onnx__GraphProto *gp) {
    if (gp->n_sparse_initializer)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: sparse initializers are not supported", im->path);
    /* The split counted the initializers of the bytes protobuf-c decoded: the same list. */
    if (im->split && im->split->n_raws != gp->n_initializer)
        return cnv_fail(CNV_ERR_FORMAT, "%s: not a valid ONNX model (protobuf decoding failed)", im->path);
    for (size_t k = 0; k < gp->n_initializer; k++) {
        const Onnx__TensorProto *t = gp->initializer[k];
        if (!t->name || !t->name[0]) return cnv_fail(CNV_ERR_FORMAT, "%s: initializer %zu has no name", im->path, k);
        onnx_const c;
        onnx_view view;
        CNV_TRY(onnx_const_from_tensor(t, raw_view(im, k, &view), t->name, im->path, "initializer", &c));
        cnv_status st = onnx_add_const(im, &c);
        onnx_const_free(&c);
        CNV_TRY(st);
    }
    return CNV_OK;
}

/* The size a symbolic height or width takes when the caller asks for none: torchvision's and
 * Keras applications' ImageNet size, which any fully convolutional classifier accepts. */
#define ONNX_DEFAULT_SPATIAL 224

/* One dim of the image (or vector) input: a symbolic batch becomes 1; a symbolic height or
 * width of a 4-D input becomes the size asked for (im->want_hw, 0: ONNX_DEFAULT_SPATIAL); a
 * fixed one must equal the size asked for. Sets bit k of g->input_symbolic for symbolic dims. */
static cnv_status input_dim(onnx_import *im, const Onnx__ValueInfoProto *vi, int ndim, int k, int *dim) {
    const Onnx__TensorShapeProto__Dimension *d = vi->type->tensor_type->shape->dim[k];
    int known = d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value > 0;
    if (known && d->dim_value > INT32_MAX)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: input '%s' dim %d is too large", im->path, vi->name, k);
    int spatial = ndim == 4 && k >= 2, want = spatial ? im->want_hw[k - 2] : 0;
    if (known) {
        *dim = (int)d->dim_value;
        return CNV_OK;
    }
    if (k > 0 && !spatial)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: input '%s' has an unknown dim %d (only the batch, height and width may be symbolic)",
                        im->path, vi->name, k);
    im->g->input_symbolic |= 1u << k;
    *dim = k == 0 ? 1 : want > 0 ? want : ONNX_DEFAULT_SPATIAL;
    return CNV_OK;
}

/* The image (or other tensor) input: float32, 4-D NCHW for images, 1 to CNV_MAX_DIMS dims. */
static cnv_status add_data_input(onnx_import *im, const Onnx__ValueInfoProto *vi) {
    const Onnx__TypeProto *tp = vi->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: input '%s' is not a tensor", im->path, vi->name);
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    if (tt->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: input '%s' has element type %d, not float32", im->path, vi->name,
                        (int)tt->elem_type);
    if (!tt->shape) return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: input '%s' has no shape", im->path, vi->name);
    cnv_shape s = {(int)tt->shape->n_dim, {0}};
    if (s.ndim < 1 || s.ndim > CNV_MAX_DIMS)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: input '%s' is %d-D; cnnvis takes 1 to %d dims (a 4-D NCHW image)",
                        im->path, vi->name, s.ndim, CNV_MAX_DIMS);
    for (int k = 0; k < s.ndim; k++) CNV_TRY(input_dim(im, vi, s.ndim, k, &s.d[k]));
    int asked = im->want_hw[0] > 0 || im->want_hw[1] > 0;
    if (asked && (s.ndim != 4 || (im->want_hw[0] > 0 && s.d[2] != im->want_hw[0]) ||
                  (im->want_hw[1] > 0 && s.d[3] != im->want_hw[1]))) {
        char fixed[64];
        cnv_shape one = s;
        one.d[0] = 1;
        return cnv_fail(CNV_ERR_SHAPE, "%s: the model's input is fixed at %s; it cannot run at %dx%d", im->path,
                        cnv_shape_str(&one, fixed, sizeof fixed), im->want_hw[0], im->want_hw[1]);
    }
    im->g->input = cnv_graph_add_value(im->g, vi->name, &s, NULL);
    if (im->g->input < 0) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", im->path);
    return CNV_OK;
}

/* The one graph input that is not an initializer; the ones after it are bound to the tensors
 * in bound_pb (constants), or it is an error to have them. */
static cnv_status read_inputs(onnx_import *im, const Onnx__GraphProto *gp, int n_bound, const char *const *bound_pb) {
    int seen = 0;
    for (size_t k = 0; k < gp->n_input; k++) {
        const Onnx__ValueInfoProto *vi = gp->input[k];
        if (!vi->name || onnx_find_const(im, vi->name)) continue;
        if (seen == 0) {
            CNV_TRY(add_data_input(im, vi));
        } else if (seen <= n_bound) {
            onnx_const c;
            CNV_TRY(onnx_read_const_file(bound_pb[seen - 1], vi->name, &c));
            cnv_status st = onnx_add_const(im, &c);
            onnx_const_free(&c);
            CNV_TRY(st);
        } else {
            return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: the graph has several inputs ('%s', '%s', ...); cnnvis feeds one",
                            im->path, im->g->values[im->g->input].name, vi->name);
        }
        seen++;
    }
    if (!seen) return cnv_fail(CNV_ERR_FORMAT, "%s: not a valid ONNX model (no graph input)", im->path);
    return CNV_OK;
}

static cnv_status set_output(onnx_import *im, const Onnx__GraphProto *gp) {
    if (gp->n_output < 1 || !gp->output[0]->name)
        return cnv_fail(CNV_ERR_FORMAT, "%s: not a valid ONNX model (no graph output)", im->path);
    const char *name = gp->output[0]->name;
    int v = cnv_graph_find_value(im->g, name);
    const onnx_name *alias = find_name(im, name);
    if (v < 0 && alias && !alias->why) v = alias->value;
    if (v < 0 || im->g->values[v].init)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: graph output '%s' is not computed from the input", im->path, name);
    im->g->output = v;
    return CNV_OK;
}

/* After folding: every value's shape for batch 1 (the graph input's own batch when fixed). */
static cnv_status finish_graph(onnx_import *im) {
    cnv_graph *g = im->g;
    CNV_TRY(cnv_graph_fold_batchnorm(g));
    cnv_shape *shapes = malloc((size_t)g->n_values * sizeof *shapes);
    if (!shapes) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", im->path);
    cnv_status st = cnv_graph_infer_shapes(g, &g->values[g->input].shape, shapes);
    for (int v = 0; st == CNV_OK && v < g->n_values; v++) g->values[v].shape = shapes[v];
    free(shapes);
    g->opset = im->opset;
    return st;
}

static cnv_status import_model(onnx_import *im, const Onnx__ModelProto *m, int n_bound, const char *const *bound_pb) {
    if (!m->has_ir_version || !m->graph)
        return cnv_fail(CNV_ERR_FORMAT, "%s: not a valid ONNX model (%s)", im->path,
                        !m->has_ir_version ? "no ir_version" : "no graph");
    CNV_TRY(read_opset(im, m));
    const Onnx__GraphProto *gp = m->graph;
    CNV_TRY(read_initializers(im, gp));
    CNV_TRY(read_inputs(im, gp, n_bound, bound_pb));
    for (size_t k = 0; k < gp->n_node; k++) CNV_TRY(import_node(im, gp->node[k]));
    CNV_TRY(set_output(im, gp));
    return finish_graph(im);
}

static void import_free(onnx_import *im) {
    for (int k = 0; k < im->n_consts; k++) onnx_const_free(&im->consts[k]);
    for (int k = 0; k < im->n_names; k++) free(im->names[k].name);
    free(im->consts);
    free(im->names);
}

/* The weight block once the graph is built: kept when a weight lies in it, else freed. */
static void settle_weights(cnv_graph *g, size_t len) {
    const uintptr_t block = (uintptr_t)g->weights;
    for (int v = 0; block && v < g->n_values; v++) {
        const uintptr_t p = (uintptr_t)g->values[v].init;
        if (g->values[v].borrowed && p >= block && p - block < len) return;
    }
    free(g->weights);
    g->weights = NULL;
}

/* Loads with the symbolic height and width of the input set to want_h x want_w (0: default);
 * with hash, g->sha256 is the file's digest, taken while it was read. The file is read once
 * into one buffer, which becomes the block the weights lie in (onnx_split.c); protobuf-c decodes
 * only the rest, and no weight is copied on the way to the graph. */
static cnv_status load(const char *path, int want_h, int want_w, int n_bound, const char *const *bound_pb, int hash,
                       cnv_graph **out) {
    *out = NULL;
    uint8_t *bytes;
    size_t size;
    char sha256[65] = "";
    CNV_TRY(onnx_read_file(path, &bytes, &size, hash ? sha256 : NULL));
    onnx_split sp;
    CNV_TRY(onnx_split_model(path, bytes, size, &sp));
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, sp.skeleton_len, sp.skeleton);
    free(sp.skeleton); /* protobuf-c copied what it keeps */
    sp.skeleton = NULL;
    onnx_import im = {.path = path, .g = m ? cnv_graph_new(path) : NULL, .want_hw = {want_h, want_w}, .split = &sp};
    cnv_status st = !m      ? cnv_fail(CNV_ERR_FORMAT, "%s: not a valid ONNX model (protobuf decoding failed)", path)
                    : !im.g ? cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", path)
                            : CNV_OK;
    if (st == CNV_OK) {
        im.g->weights = sp.block; /* the graph's from now on, freed with it */
        sp.block = NULL;
        st = import_model(&im, m, n_bound, bound_pb);
    }
    if (m) onnx__model_proto__free_unpacked(m, NULL);
    import_free(&im);
    if (st == CNV_OK) settle_weights(im.g, sp.block_len);
    onnx_split_free(&sp);
    if (st != CNV_OK) {
        cnv_graph_free(im.g);
        return st;
    }
    memcpy(im.g->sha256, sha256, sizeof sha256);
    *out = im.g;
    return CNV_OK;
}

cnv_status cnv_onnx_load_bound(const char *path, int n_bound, const char *const *bound_pb, cnv_graph **out) {
    return load(path, 0, 0, n_bound, bound_pb, 0, out);
}

cnv_status cnv_onnx_load(const char *path, cnv_graph **out) { return load(path, 0, 0, 0, NULL, 0, out); }

cnv_status cnv_onnx_load_sized(const char *path, int height, int width, cnv_graph **out) {
    return load(path, height, width, 0, NULL, 0, out);
}

cnv_status cnv_onnx_load_hashed(const char *path, int height, int width, cnv_graph **out) {
    return load(path, height, width, 0, NULL, 1, out);
}

/* Appends op to the space-separated list unless it is there already. */
static int add_op_name(char **list, size_t *len, const char *op) {
    size_t n = strlen(op);
    for (const char *p = *list; p && (p = strstr(p, op)) != NULL; p += n)
        if ((p == *list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return 1;
    char *grown = realloc(*list, *len + n + 2);
    if (!grown) return 0;
    if (*len) grown[(*len)++] = ' ';
    memcpy(grown + *len, op, n + 1);
    *len += n;
    *list = grown;
    return 1;
}

cnv_status cnv_onnx_list_ops(const char *path, char **ops) {
    *ops = NULL;
    uint8_t *bytes;
    size_t size, len = 0;
    CNV_TRY(onnx_read_file(path, &bytes, &size, NULL));
    onnx_split sp; /* the nodes are all it reads: the weights' bytes are not decoded */
    CNV_TRY(onnx_split_model(path, bytes, size, &sp));
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, sp.skeleton_len, sp.skeleton);
    onnx_split_free(&sp);
    if (!m || !m->graph) {
        if (m) onnx__model_proto__free_unpacked(m, NULL);
        return cnv_fail(CNV_ERR_FORMAT, "%s: not a valid ONNX model (protobuf decoding failed)", path);
    }
    char *list = calloc(1, 1);
    int ok = list != NULL;
    for (size_t k = 0; ok && k < m->graph->n_node; k++)
        if (m->graph->node[k]->op_type) ok = add_op_name(&list, &len, m->graph->node[k]->op_type);
    onnx__model_proto__free_unpacked(m, NULL);
    if (!ok) {
        free(list);
        return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", path);
    }
    *ops = list;
    return CNV_OK;
}
