/* ONNX attributes (and the constant inputs that newer opsets use in their place) into
 * cnv_attrs. Every attribute a supported op may carry is either implemented or rejected by
 * name, so a model never runs with a silently ignored setting. */
#include "onnx_internal.h"
#include "core/status.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The attributes that are one number (or one word of a fixed list) stored in a cnv_attrs field:
 * read here and written back by the exporter (onnx_export.c) from the same table, for every op
 * whose descriptor (core/op_list.h) lists them. */
static const char *const gelu_approximations[] = {"none", "tanh", NULL};
/* In the order of shaders/resize_modes.h. */
static const char *const resize_coords[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                                            "tf_half_pixel_for_nn", NULL};
static const char *const resize_roundings[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil", NULL};

static const onnx_attr_field onnx_attr_fields[] = {
    {"alpha", ONNX_FIELD_FLOAT, offsetof(cnv_attrs, alpha), NULL},
    {"beta", ONNX_FIELD_FLOAT, offsetof(cnv_attrs, beta), NULL},
    {"bias", ONNX_FIELD_FLOAT, offsetof(cnv_attrs, bias), NULL},
    {"min", ONNX_FIELD_FLOAT, offsetof(cnv_attrs, min), NULL},
    {"max", ONNX_FIELD_FLOAT, offsetof(cnv_attrs, max), NULL},
    {"value", ONNX_FIELD_FLOAT, offsetof(cnv_attrs, pad_value), NULL},
    {"size", ONNX_FIELD_INT, offsetof(cnv_attrs, size), NULL},
    {"axis", ONNX_FIELD_INT, offsetof(cnv_attrs, axis), NULL},
    {"group", ONNX_FIELD_INT, offsetof(cnv_attrs, group), NULL},
    {"ceil_mode", ONNX_FIELD_INT, offsetof(cnv_attrs, ceil_mode), NULL},
    {"count_include_pad", ONNX_FIELD_INT, offsetof(cnv_attrs, count_include_pad), NULL},
    {"keepdims", ONNX_FIELD_INT, offsetof(cnv_attrs, keepdims), NULL},
    {"transA", ONNX_FIELD_INT, offsetof(cnv_attrs, trans_a), NULL},
    {"transB", ONNX_FIELD_INT, offsetof(cnv_attrs, trans_b), NULL},
    {"approximate", ONNX_FIELD_CHOICE, offsetof(cnv_attrs, approximate), gelu_approximations},
    {"coordinate_transformation_mode", ONNX_FIELD_CHOICE, offsetof(cnv_attrs, resize_coord), resize_coords},
    {"nearest_mode", ONNX_FIELD_CHOICE, offsetof(cnv_attrs, resize_nearest), resize_roundings},
    {NULL, ONNX_FIELD_INT, 0, NULL},
};

const onnx_attr_field *onnx_attr_field_find(const char *name) {
    for (const onnx_attr_field *f = onnx_attr_fields; f->name; f++)
        if (!strcmp(f->name, name)) return f;
    return NULL;
}

typedef struct attr_ctx {
    onnx_import *im;
    const Onnx__NodeProto *n;
    cnv_op_type op;
} attr_ctx;

static cnv_status node_fail(const attr_ctx *c, cnv_status s, const char *problem, const char *detail) {
    return cnv_fail(s, "%s: node '%s' (%s): %s%s", c->im->path, onnx_node_name(c->n), c->n->op_type, problem,
                    detail);
}

static cnv_status want_type(const attr_ctx *c, const Onnx__AttributeProto *a, Onnx__AttributeProto__AttributeType t) {
    if (a->type == t) return CNV_OK;
    char msg[160];
    snprintf(msg, sizeof msg, "attribute '%s' has the wrong type (%d, expected %d)", a->name, (int)a->type, (int)t);
    return node_fail(c, CNV_ERR_FORMAT, msg, "");
}

/* A 2-D spatial list (kernel_shape, strides, dilations: 2 values; pads: 4). */
static cnv_status get_ints(const attr_ctx *c, const Onnx__AttributeProto *a, size_t count, int *dst) {
    CNV_TRY(want_type(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS));
    if (a->n_ints != count) {
        char msg[160];
        snprintf(msg, sizeof msg, "attribute '%s' has %zu values; only 2-D (NCHW) is supported", a->name, a->n_ints);
        return node_fail(c, CNV_ERR_UNSUPPORTED, msg, "");
    }
    for (size_t k = 0; k < count; k++) {
        if (a->ints[k] < -(1 << 24) || a->ints[k] > (1 << 24))
            return node_fail(c, CNV_ERR_FORMAT, "attribute out of range: ", a->name);
        dst[k] = (int)a->ints[k];
    }
    return CNV_OK;
}

static cnv_status get_int(const attr_ctx *c, const Onnx__AttributeProto *a, int *dst) {
    CNV_TRY(want_type(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT));
    if (a->i < -(1 << 24) || a->i > (1 << 24)) return node_fail(c, CNV_ERR_FORMAT, "attribute out of range: ", a->name);
    *dst = (int)a->i;
    return CNV_OK;
}

static cnv_status get_float(const attr_ctx *c, const Onnx__AttributeProto *a, float *dst) {
    CNV_TRY(want_type(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT));
    *dst = a->f;
    return CNV_OK;
}

/* A string attribute compared against a list of choices; *index = position in `choices`. */
static cnv_status get_choice(const attr_ctx *c, const Onnx__AttributeProto *a, const char *const *choices, int n,
                             int *index) {
    *index = 0; /* written on every path; callers read it only on success */
    CNV_TRY(want_type(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING));
    for (int k = 0; k < n; k++)
        if (a->s.len == strlen(choices[k]) && memcmp(a->s.data, choices[k], a->s.len) == 0) {
            *index = k;
            return CNV_OK;
        }
    char msg[200];
    snprintf(msg, sizeof msg, "unsupported value '%.*s' of attribute '%s'", (int)(a->s.len < 64 ? a->s.len : 64),
             (const char *)a->s.data, a->name);
    return node_fail(c, CNV_ERR_UNSUPPORTED, msg, "");
}

/* An attribute that must keep a given integer value (others change results cnnvis cannot). */
static cnv_status require_int(const attr_ctx *c, const Onnx__AttributeProto *a, int wanted) {
    int v = wanted;
    CNV_TRY(get_int(c, a, &v));
    if (v == wanted) return CNV_OK;
    char msg[160];
    snprintf(msg, sizeof msg, "unsupported value %d of attribute '%s'", v, a->name);
    return node_fail(c, CNV_ERR_UNSUPPORTED, msg, "");
}

/* Pads as ONNX lists them (begins of every dim, then ends) into pad_full. */
static cnv_status set_pad_full(const attr_ctx *c, const int64_t *pads, size_t n, const cnv_shape *in,
                               cnv_attrs *attrs) {
    if (n != 2 * (size_t)in->ndim) {
        char msg[160];
        snprintf(msg, sizeof msg, "%zu pads for a %d-D input", n, in->ndim);
        return node_fail(c, CNV_ERR_FORMAT, msg, "");
    }
    for (int d = 0; d < in->ndim; d++) {
        if (llabs(pads[d]) > (1 << 24) || llabs(pads[in->ndim + d]) > (1 << 24))
            return node_fail(c, CNV_ERR_FORMAT, "pads out of range", "");
        attrs->pad_full[d] = (int)pads[d];
        attrs->pad_full[CNV_MAX_DIMS + d] = (int)pads[in->ndim + d];
    }
    return CNV_OK;
}

/* Resize's scales, one per dim of the NCHW input: N and C must keep their size. */
static cnv_status set_resize_scales(const attr_ctx *c, const double *v, size_t n, const cnv_shape *in,
                                    cnv_attrs *attrs) {
    char msg[160];
    if (n != (size_t)in->ndim) {
        snprintf(msg, sizeof msg, "%zu scales for a %d-D input", n, in->ndim);
        return node_fail(c, CNV_ERR_FORMAT, msg, "");
    }
    if (v[0] != 1.0 || v[1] != 1.0) {
        snprintf(msg, sizeof msg, "scales %g, %g of the batch and channels (only height and width resize)", v[0], v[1]);
        return node_fail(c, CNV_ERR_UNSUPPORTED, msg, "");
    }
    for (int k = 0; k < 2; k++) {
        if (!(v[2 + k] > 0.0 && v[2 + k] <= 1e4)) {
            snprintf(msg, sizeof msg, "scale %g is not in (0, 1e4]", v[2 + k]);
            return node_fail(c, CNV_ERR_FORMAT, msg, "");
        }
        attrs->resize_scale[k] = (float)v[2 + k];
        attrs->out_hw[k] = 0;
    }
    return CNV_OK;
}

/* Transpose's perm: one entry per input dim, each naming an input dim (shape inference checks
 * that none repeats). */
static cnv_status get_perm(const attr_ctx *c, const Onnx__AttributeProto *a, const cnv_shape *in, cnv_attrs *attrs) {
    CNV_TRY(want_type(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS));
    char msg[160];
    if (a->n_ints != (size_t)in->ndim) {
        snprintf(msg, sizeof msg, "perm has %zu values for a %d-D input", a->n_ints, in->ndim);
        return node_fail(c, CNV_ERR_FORMAT, msg, "");
    }
    for (size_t k = 0; k < a->n_ints; k++) {
        if (a->ints[k] < 0 || a->ints[k] >= in->ndim) {
            snprintf(msg, sizeof msg, "perm value %lld out of range for a %d-D input", (long long)a->ints[k],
                     in->ndim);
            return node_fail(c, CNV_ERR_FORMAT, msg, "");
        }
        attrs->perm[k] = (int)a->ints[k];
    }
    return CNV_OK;
}

/* One attribute of onnx_attr_fields into its cnv_attrs field. */
static cnv_status get_field(const attr_ctx *c, const Onnx__AttributeProto *a, const onnx_attr_field *f,
                            cnv_attrs *attrs) {
    void *field = (char *)attrs + f->offset;
    switch (f->kind) {
    case ONNX_FIELD_FLOAT: return get_float(c, a, field);
    case ONNX_FIELD_CHOICE: return get_choice(c, a, f->choices, onnx_choice_count(f->choices), field);
    default: return get_int(c, a, field);
    }
}

static cnv_status apply_attr(const attr_ctx *c, const Onnx__AttributeProto *a, const cnv_shape *in,
                             cnv_attrs *attrs) {
    const char *name = a->name;
    if (!strcmp(name, "kernel_shape")) return get_ints(c, a, 2, attrs->kernel);
    if (!strcmp(name, "strides")) return get_ints(c, a, 2, attrs->stride);
    if (!strcmp(name, "dilations")) return get_ints(c, a, 2, attrs->dilation);
    if (!strcmp(name, "output_padding")) return get_ints(c, a, 2, attrs->output_padding);
    if (!strcmp(name, "output_shape")) { /* H, W, or N, C, H, W of which only H, W count */
        int v[4] = {0};
        CNV_TRY(want_type(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS));
        CNV_TRY(get_ints(c, a, a->n_ints == 4 ? 4 : 2, v));
        const int k = a->n_ints == 4 ? 2 : 0;
        if (v[k] < 1 || v[k + 1] < 1) return node_fail(c, CNV_ERR_FORMAT, "output_shape must be positive", "");
        attrs->out_hw[0] = v[k], attrs->out_hw[1] = v[k + 1];
        return CNV_OK;
    }
    if (!strcmp(name, "pads") && c->op != CNV_OP_PAD) return get_ints(c, a, 4, attrs->pads);
    if (!strcmp(name, "pads")) {
        CNV_TRY(want_type(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS));
        return set_pad_full(c, a->ints, a->n_ints, in, attrs);
    }
    if (!strcmp(name, "auto_pad")) {
        static const char *const modes[] = {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};
        int k;
        CNV_TRY(get_choice(c, a, modes, 4, &k));
        attrs->auto_pad = (cnv_auto_pad)k;
        return CNV_OK;
    }
    if (!strcmp(name, "mode") && c->op == CNV_OP_RESIZE) {
        static const char *const modes[] = {"nearest", "linear"}; /* in the order of CNV_RESIZE_* */
        return get_choice(c, a, modes, 2, &attrs->resize_mode);
    }
    if (!strcmp(name, "scales")) { /* Upsample opset 7; later opsets take an input */
        if (strcmp(c->n->op_type, "Upsample") != 0) return node_fail(c, CNV_ERR_UNSUPPORTED, "unsupported attribute 'scales'", "");
        CNV_TRY(want_type(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS));
        double v[CNV_MAX_DIMS];
        for (size_t k = 0; k < a->n_floats && k < CNV_MAX_DIMS; k++) v[k] = a->floats[k];
        return set_resize_scales(c, v, a->n_floats, in, attrs);
    }
    if (!strcmp(name, "exclude_outside") || !strcmp(name, "antialias")) return require_int(c, a, 0);
    if (!strcmp(name, "mode")) {
        static const char *const modes[] = {"constant", "reflect", "edge"};
        int k;
        CNV_TRY(get_choice(c, a, modes, 3, &k));
        attrs->pad_mode = (cnv_pad_mode)k;
        return CNV_OK;
    }
    const onnx_attr_field *f = onnx_attr_field_find(name);
    if (f) return get_field(c, a, f, attrs);
    if (!strcmp(name, "perm")) return get_perm(c, a, in, attrs);
    if (!strcmp(name, "axes") || !strcmp(name, "noop_with_empty_axes")) return CNV_OK; /* parse_reduce_axes */
    if (!strcmp(name, "allowzero") || !strcmp(name, "training_mode")) return require_int(c, a, 0);
    if (!strcmp(name, "spatial")) return require_int(c, a, 1);
    /* Accepted and without effect at inference (see the table above). */
    return CNV_OK;
}

/* A constant input (index k) of the node, NULL when absent (missing or empty name). */
static cnv_status const_input(const attr_ctx *c, size_t k, const char *role, const onnx_const **out) {
    *out = NULL;
    if (k >= c->n->n_input || !c->n->input[k][0]) return CNV_OK;
    *out = onnx_find_const(c->im, c->n->input[k]);
    if (!*out) return node_fail(c, CNV_ERR_UNSUPPORTED, "input must be a constant: ", role);
    return CNV_OK;
}

static cnv_status const_scalar(const attr_ctx *c, size_t k, const char *role, float *dst) {
    const onnx_const *v;
    CNV_TRY(const_input(c, k, role, &v));
    if (!v) return CNV_OK;
    if (v->count != 1) return node_fail(c, CNV_ERR_FORMAT, "input must be a scalar: ", role);
    *dst = (float)onnx_const_get(v, 0);
    return CNV_OK;
}

/* Resize's scales or sizes inputs (Upsample 9 and Resize 10: X, scales; Resize 11+: X, roi,
 * scales, sizes, exactly one of the last two given). roi only matters for tf_crop_and_resize,
 * which is refused. */
static cnv_status resize_inputs(const attr_ctx *c, const cnv_shape *in, cnv_attrs *attrs) {
    const int legacy = !strcmp(c->n->op_type, "Upsample") || c->im->opset < 11;
    const onnx_const *scales, *sizes = NULL;
    CNV_TRY(const_input(c, legacy ? 1 : 2, "scales", &scales));
    if (!legacy) CNV_TRY(const_input(c, 3, "sizes", &sizes));
    if (scales && scales->count == 0) scales = NULL; /* an empty tensor stands for an omitted input */
    if (sizes && sizes->count == 0) sizes = NULL;
    const int by_attr = attrs->resize_scale[0] > 0.0f;
    if ((scales != NULL) + (sizes != NULL) + by_attr != 1)
        return node_fail(c, CNV_ERR_FORMAT, "needs exactly one of 'scales' and 'sizes'", "");
    if (scales) {
        double v[CNV_MAX_DIMS] = {0};
        for (size_t k = 0; k < scales->count && k < CNV_MAX_DIMS; k++) v[k] = onnx_const_get(scales, k);
        CNV_TRY(set_resize_scales(c, v, scales->count, in, attrs));
    }
    if (sizes) {
        if (!sizes->i || sizes->count != (size_t)in->ndim)
            return node_fail(c, CNV_ERR_FORMAT, "'sizes' must be int64, one per input dim", "");
        if (sizes->i[0] != in->d[0] || sizes->i[1] != in->d[1])
            return node_fail(c, CNV_ERR_UNSUPPORTED, "'sizes' change the batch or channels (only height and width resize)", "");
        for (int k = 0; k < 2; k++) {
            if (sizes->i[2 + k] < 1 || sizes->i[2 + k] > (1 << 20))
                return node_fail(c, CNV_ERR_FORMAT, "'sizes' out of range", "");
            attrs->out_hw[k] = (int)sizes->i[2 + k];
            attrs->resize_scale[k] = 0.0f;
        }
    }
    if (!legacy) return CNV_OK;
    /* The legacy ops sample at o / scale and, like onnxruntime, round nearest down when
     * enlarging and up when shrinking. */
    attrs->resize_coord = CNV_COORD_ASYMMETRIC;
    const int up0 = attrs->resize_scale[0] >= 1.0f, up1 = attrs->resize_scale[1] >= 1.0f;
    if (attrs->resize_mode == CNV_RESIZE_NEAREST && up0 != up1)
        return node_fail(c, CNV_ERR_UNSUPPORTED, "legacy nearest resize that enlarges one axis and shrinks the other", "");
    attrs->resize_nearest = up0 ? CNV_NEAREST_FLOOR : CNV_NEAREST_CEIL;
    return CNV_OK;
}

/* One of Slice's lists: attribute `name` before opset 10, constant input k from then on (NULL,
 * 0 values when absent). */
static cnv_status slice_list(const attr_ctx *c, const char *name, size_t k, const int64_t **vals, size_t *n) {
    *vals = NULL;
    *n = 0;
    if (c->im->opset < 10) {
        for (size_t j = 0; j < c->n->n_attribute; j++)
            if (!strcmp(c->n->attribute[j]->name, name)) {
                CNV_TRY(want_type(c, c->n->attribute[j], ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS));
                *vals = c->n->attribute[j]->ints;
                *n = c->n->attribute[j]->n_ints;
            }
        return CNV_OK;
    }
    const onnx_const *v;
    CNV_TRY(const_input(c, k, name, &v));
    if (v && !v->i) return node_fail(c, CNV_ERR_FORMAT, "must be an int64 input: ", name);
    if (v) *vals = v->i, *n = v->count;
    return CNV_OK;
}

static int clamp_int32(int64_t v) { return v > INT32_MAX ? INT32_MAX : v < -INT32_MAX ? -INT32_MAX : (int)v; }

/* Slice's starts, ends, axes and steps into per-dim windows (the dims not named stay whole). */
static cnv_status set_slice(const attr_ctx *c, const cnv_shape *in, cnv_attrs *attrs) {
    const int64_t *starts, *ends, *axes, *steps;
    size_t ns, ne, na, nst;
    CNV_TRY(slice_list(c, "starts", 1, &starts, &ns));
    CNV_TRY(slice_list(c, "ends", 2, &ends, &ne));
    CNV_TRY(slice_list(c, "axes", 3, &axes, &na));
    CNV_TRY(slice_list(c, "steps", 4, &steps, &nst));
    if (!starts || !ends) return node_fail(c, CNV_ERR_FORMAT, "missing 'starts' or 'ends'", "");
    if (ns != ne || (axes && na != ns) || (steps && nst != ns))
        return node_fail(c, CNV_ERR_FORMAT, "'starts', 'ends', 'axes' and 'steps' differ in length", "");
    char seen[CNV_MAX_DIMS] = {0}, msg[120];
    for (size_t k = 0; k < ns; k++) {
        int64_t axis = axes ? axes[k] : (int64_t)k;
        if (axis < 0) axis += in->ndim;
        if (axis < 0 || axis >= in->ndim || seen[axis]++) {
            snprintf(msg, sizeof msg, "axis %lld out of range or repeated for a %d-D input",
                     (long long)(axes ? axes[k] : (int64_t)k), in->ndim);
            return node_fail(c, CNV_ERR_FORMAT, msg, "");
        }
        if (steps && steps[k] == 0) return node_fail(c, CNV_ERR_FORMAT, "a step is 0", "");
        attrs->slice_start[axis] = clamp_int32(starts[k]);
        attrs->slice_end[axis] = clamp_int32(ends[k]);
        attrs->slice_step[axis] = steps ? clamp_int32(steps[k]) : 1;
    }
    return CNV_OK;
}

static const Onnx__AttributeProto *node_attr(const Onnx__NodeProto *n, const char *name) {
    for (size_t k = 0; k < n->n_attribute; k++)
        if (n->attribute[k]->name && !strcmp(n->attribute[k]->name, name)) return n->attribute[k];
    return NULL;
}

/* Reshape's target, from the input (opset >= 5) or the attribute (opsets < 5). */
static cnv_status set_reshape(const attr_ctx *c, const int64_t *dims, size_t n, const cnv_shape *in, cnv_attrs *attrs) {
    if (n < 1 || n > CNV_MAX_DIMS) {
        char msg[96];
        snprintf(msg, sizeof msg, "target shape has %zu dims (1..%d supported)", n, CNV_MAX_DIMS);
        return node_fail(c, CNV_ERR_UNSUPPORTED, msg, "");
    }
    attrs->shape_n = (int)n;
    for (size_t k = 0; k < n; k++) {
        if (dims[k] < -1 || dims[k] > INT32_MAX) return node_fail(c, CNV_ERR_FORMAT, "invalid target shape", "");
        attrs->shape[k] = (int)dims[k];
    }
    /* Exporters write the batch as a literal 1 ([1, -1] for x.view(1, -1), or the folded
     * Shape of a batch-1 input). Copying dim 0 instead is the same at batch 1 and keeps
     * the graph usable with larger batches. */
    if (attrs->shape[0] == 1 && in->ndim >= 1 && in->d[0] == 1) attrs->shape[0] = 0;
    return CNV_OK;
}

static cnv_status legacy_reshape(const attr_ctx *c, const cnv_shape *in, cnv_attrs *attrs) {
    const Onnx__AttributeProto *a = node_attr(c->n, "shape");
    if (!a) return node_fail(c, CNV_ERR_FORMAT, "missing attribute 'shape'", "");
    CNV_TRY(want_type(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS));
    return set_reshape(c, a->ints, a->n_ints, in, attrs);
}

/* Opset >= 11 Clip (min, max) and Pad (pads, constant_value), and Reshape's shape. */
static cnv_status apply_const_inputs(const attr_ctx *c, const cnv_shape *in, cnv_attrs *attrs) {
    const onnx_const *v;
    switch (c->op) {
    case CNV_OP_CLIP:
        if (c->im->opset < 11) return CNV_OK;
        CNV_TRY(const_scalar(c, 1, "min", &attrs->min));
        return const_scalar(c, 2, "max", &attrs->max);
    case CNV_OP_PAD:
        if (c->im->opset < 11) return CNV_OK;
        if (c->n->n_input > 3 && c->n->input[3][0]) return node_fail(c, CNV_ERR_UNSUPPORTED, "input 'axes'", "");
        CNV_TRY(const_input(c, 1, "pads", &v));
        if (!v) return node_fail(c, CNV_ERR_FORMAT, "missing input 'pads'", "");
        if (!v->i) return node_fail(c, CNV_ERR_FORMAT, "'pads' must be int64", "");
        CNV_TRY(set_pad_full(c, v->i, v->count, in, attrs));
        return const_scalar(c, 2, "constant_value", &attrs->pad_value);
    case CNV_OP_RESHAPE:
        if (c->im->opset < 5) return legacy_reshape(c, in, attrs);
        CNV_TRY(const_input(c, 1, "shape", &v));
        if (!v || !v->i || v->ndim != 1) return node_fail(c, CNV_ERR_FORMAT, "'shape' must be a 1-D int64 input", "");
        return set_reshape(c, v->i, v->count, in, attrs);
    case CNV_OP_RESIZE: return resize_inputs(c, in, attrs);
    case CNV_OP_SLICE: return set_slice(c, in, attrs);
    default: return CNV_OK;
    }
}

static int is_reduce(cnv_op_type op) {
    return op == CNV_OP_REDUCEMEAN || op == CNV_OP_REDUCESUM || op == CNV_OP_REDUCEMAX;
}

/* ReduceSum takes its axes as an input from opset 13, ReduceMean and ReduceMax from opset 18. */
static int reduce_axes_are_input(const attr_ctx *c) {
    return c->im->opset >= (c->op == CNV_OP_REDUCESUM ? 13 : 18);
}

/* The reduced axes (attribute or constant input) as attrs->reduce_axes: each in [-rank, rank),
 * none twice; none given means every axis, or none at all (an identity) with
 * noop_with_empty_axes. */
static cnv_status parse_reduce_axes(const attr_ctx *c, const cnv_shape *in, cnv_attrs *attrs) {
    const int64_t *axes = NULL;
    size_t n_axes = 0;
    int noop = 0;
    for (size_t k = 0; k < c->n->n_attribute; k++) {
        const Onnx__AttributeProto *a = c->n->attribute[k];
        if (!strcmp(a->name, "noop_with_empty_axes")) CNV_TRY(get_int(c, a, &noop));
        if (!strcmp(a->name, "axes")) {
            CNV_TRY(want_type(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS));
            axes = a->ints;
            n_axes = a->n_ints;
        }
    }
    if (reduce_axes_are_input(c)) {
        const onnx_const *v;
        CNV_TRY(const_input(c, 1, "axes", &v));
        if (v && (!v->i || v->ndim > 1)) return node_fail(c, CNV_ERR_FORMAT, "'axes' must be a 1-D int64 input", "");
        axes = v ? v->i : NULL;
        n_axes = v ? v->count : 0;
    }
    if (n_axes == 0) {
        attrs->reduce_axes = noop ? 0 : (1 << in->ndim) - 1;
        return CNV_OK;
    }
    attrs->reduce_axes = 0;
    for (size_t k = 0; k < n_axes; k++) {
        const int64_t axis = axes[k] < 0 ? axes[k] + in->ndim : axes[k];
        char msg[96];
        if (axis < 0 || axis >= in->ndim) {
            snprintf(msg, sizeof msg, "axis %lld out of range for a %d-D input", (long long)axes[k], in->ndim);
            return node_fail(c, CNV_ERR_FORMAT, msg, "");
        }
        if (attrs->reduce_axes >> axis & 1) {
            snprintf(msg, sizeof msg, "axis %lld given twice", (long long)axes[k]);
            return node_fail(c, CNV_ERR_FORMAT, msg, "");
        }
        attrs->reduce_axes |= 1 << axis;
    }
    return CNV_OK;
}

/* Normalizes an axis attribute (negative counts from the end) against the data input. */
static cnv_status normalize_axis(const attr_ctx *c, int *axis, int ndim, int limit) {
    if (*axis < 0) *axis += ndim;
    if (*axis >= 0 && *axis < limit) return CNV_OK;
    char msg[96];
    snprintf(msg, sizeof msg, "axis %d out of range for a %d-D input", *axis, ndim);
    return node_fail(c, CNV_ERR_FORMAT, msg, "");
}

/* Attributes of opsets < 7 that leave an op's meaning as at opset 7: consumed_inputs (a memory
 * hint of opsets < 6), is_test (inference is all cnnvis does), and broadcast/axis of binary ops
 * and Gemm (checked against the shapes by onnx_check_legacy_broadcast; Gemm's C broadcasts one
 * way as at opset 7), Reshape's shape attribute (opsets < 5). */
static int legacy_attr(const attr_ctx *c, const char *name) {
    if (c->im->opset >= 7) return 0;
    if (!strcmp(name, "consumed_inputs")) return 1;
    if (!strcmp(name, "is_test")) return c->op == CNV_OP_BATCHNORM || c->op == CNV_OP_DROPOUT;
    if (!strcmp(name, "broadcast")) return cnv_op_binary_number(c->op) >= 0 || c->op == CNV_OP_GEMM;
    if (!strcmp(name, "axis")) return cnv_op_binary_number(c->op) >= 0;
    if (!strcmp(name, "shape")) return c->op == CNV_OP_RESHAPE && c->im->opset < 5;
    return 0;
}

cnv_status onnx_check_legacy_broadcast(onnx_import *im, const Onnx__NodeProto *n, const cnv_shape *a,
                                       const cnv_shape *b) {
    const Onnx__AttributeProto *bc = node_attr(n, "broadcast"), *ax = node_attr(n, "axis");
    attr_ctx c = {im, n, CNV_OP_COUNT};
    char msg[200];
    if (!strcmp(n->op_type, "PRelu")) {
        /* Opset 6's slope is one value or one per channel, not numpy-aligned. */
        if (cnv_shape_equal(a, b) || cnv_shape_numel(b) == 1) return CNV_OK;
        snprintf(msg, sizeof msg, "opset %d PRelu's per-channel slope (unsupported before opset 7)", im->opset);
        return node_fail(&c, CNV_ERR_UNSUPPORTED, msg, "");
    }
    if (!bc || bc->i == 0) {
        if (cnv_shape_equal(a, b)) return CNV_OK;
        snprintf(msg, sizeof msg, "opset %d without 'broadcast' needs equal shapes", im->opset);
        return node_fail(&c, CNV_ERR_SHAPE, msg, "");
    }
    int64_t axis = ax ? ax->i : a->ndim - b->ndim;
    if (axis < 0) axis += a->ndim;
    if (b->ndim <= a->ndim && axis + b->ndim == a->ndim) return CNV_OK;
    snprintf(msg, sizeof msg,
             "opset %d broadcasts the %d-D input 1 from axis %lld of the %d-D input 0, which numpy broadcasting "
             "(opset 7) does not (unsupported)",
             im->opset, b->ndim, (long long)axis, a->ndim);
    return node_fail(&c, CNV_ERR_UNSUPPORTED, msg, "");
}

cnv_status onnx_parse_attrs(onnx_import *im, const Onnx__NodeProto *n, cnv_op_type op, const cnv_shape *in_shape,
                            cnv_attrs *attrs) {
    attr_ctx c = {im, n, op};
    cnv_attrs_default(op, attrs);
    if ((op == CNV_OP_CONVTRANSPOSE || op == CNV_OP_RESIZE) && in_shape->ndim != 4) {
        char msg[96];
        snprintf(msg, sizeof msg, "a %d-D input (only 4-D NCHW is supported)", in_shape->ndim);
        return node_fail(&c, CNV_ERR_UNSUPPORTED, msg, "");
    }
    if (op == CNV_OP_SOFTMAX) {
        attrs->softmax_legacy = im->opset < 13;
        attrs->axis = attrs->softmax_legacy ? 1 : -1;
    }
    if (op == CNV_OP_TRANSPOSE) /* ONNX's default perm reverses the dims */
        for (int k = 0; k < in_shape->ndim; k++) attrs->perm[k] = in_shape->ndim - 1 - k;
    for (size_t k = 0; k < n->n_attribute; k++) {
        const Onnx__AttributeProto *a = n->attribute[k];
        if (!a->name) return node_fail(&c, CNV_ERR_FORMAT, "attribute without a name", "");
        /* Opset >= 11 Clip takes min/max as inputs; the attributes belong to older opsets. */
        if (legacy_attr(&c, a->name)) continue;
        int accepted_here = cnv_word_in_list(cnv_op_desc_of(op)->attrs, a->name) &&
                            !(op == CNV_OP_CLIP && im->opset >= 11) &&
                            !(op == CNV_OP_SLICE && im->opset >= 10) &&
                            !(op == CNV_OP_PAD && im->opset >= 11 && strcmp(a->name, "mode") != 0) &&
                            !(is_reduce(op) && reduce_axes_are_input(&c) && !strcmp(a->name, "axes"));
        if (!accepted_here) {
            char quoted[160];
            snprintf(quoted, sizeof quoted, "'%s'", a->name);
            return node_fail(&c, CNV_ERR_UNSUPPORTED, "unsupported attribute ", quoted);
        }
        CNV_TRY(apply_attr(&c, a, in_shape, attrs));
    }
    CNV_TRY(apply_const_inputs(&c, in_shape, attrs));
    if (is_reduce(op)) CNV_TRY(parse_reduce_axes(&c, in_shape, attrs));
    if (op == CNV_OP_CONCAT || op == CNV_OP_SOFTMAX) CNV_TRY(normalize_axis(&c, &attrs->axis, in_shape->ndim, in_shape->ndim));
    if (op == CNV_OP_FLATTEN) CNV_TRY(normalize_axis(&c, &attrs->axis, in_shape->ndim, in_shape->ndim + 1));
    if (op == CNV_OP_MAXPOOL || op == CNV_OP_AVGPOOL)
        if (attrs->kernel[0] <= 0 || attrs->kernel[1] <= 0)
            return node_fail(&c, CNV_ERR_FORMAT, "missing attribute 'kernel_shape'", "");
    if (op == CNV_OP_LRN && (attrs->size <= 0)) return node_fail(&c, CNV_ERR_FORMAT, "missing attribute 'size'", "");
    if (!isfinite(attrs->alpha) || !isfinite(attrs->beta)) return node_fail(&c, CNV_ERR_FORMAT, "non-finite alpha/beta", "");
    return CNV_OK;
}

cnv_status onnx_node_refuse(const onnx_import *im, const Onnx__NodeProto *n, cnv_status s, const char *problem) {
    return cnv_fail(s, "%s: node '%s' (%s): %s", im->path, onnx_node_name(n), n->op_type, problem);
}

const Onnx__AttributeProto *onnx_find_attr(const Onnx__NodeProto *n, const char *name) {
    for (size_t k = 0; k < n->n_attribute; k++)
        if (n->attribute[k]->name && !strcmp(n->attribute[k]->name, name)) return n->attribute[k];
    return NULL;
}

cnv_status onnx_only_attrs(const onnx_import *im, const Onnx__NodeProto *n, const char *allowed) {
    for (size_t k = 0; k < n->n_attribute; k++) {
        const char *name = n->attribute[k]->name ? n->attribute[k]->name : "";
        if (!cnv_word_in_list(allowed, name)) {
            char msg[120];
            snprintf(msg, sizeof msg, "unsupported attribute '%s'", name);
            return onnx_node_refuse(im, n, CNV_ERR_UNSUPPORTED, msg);
        }
    }
    return CNV_OK;
}
