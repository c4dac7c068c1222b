/* The Keras layer list plus its weights into an NCHW cnnvis graph.
 *
 * Keras is channels-last; the graph is channels-first. Kernels go from HWIO to OIHW. A Flatten
 * of a feature map is where the two orders show: Keras flattens (H, W, C), the graph (C, H, W).
 * So a flattened map remembers its (C, H, W) and the Dense reading it gets its weight rows
 * permuted into CHW order; elementwise layers in between pass that along, and any other layer
 * reading it is refused rather than computed in the wrong order. */
#include "models/keras_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "models/compose.h"

/* What a built layer produced: its value, and for a flattened feature map its (C, H, W). */
typedef struct built {
    int value; /* -1 until built */
    int flat_c, flat_h, flat_w;
} built;

typedef struct builder {
    const char *path;
    const keras_model *m;
    hid_t weights;
    keras_fit *fit; /* NULL: not asked */
    cnv_graph *g;
    built *out; /* per layer */
} builder;

static cnv_status layer_fail(const builder *b, const keras_layer *l, cnv_status s, const char *fmt, const char *detail) {
    char what[512];
    snprintf(what, sizeof what, fmt, detail);
    return cnv_fail(s, "%s: layer '%s' (%s): %s", b->path, l->name, l->class_name, what);
}

static int find_layer(const keras_model *m, const char *name) {
    for (int i = 0; i < m->n; i++)
        if (!strcmp(m->layers[i].name, name)) return i;
    return -1;
}

/* Appends a node whose output value has the node's name; *out gets the value. */
static cnv_status emit(builder *b, const char *name, cnv_op_type op, cnv_attrs *a, int n_in, const int *in, int *out) {
    cnv_shape shapes[CNV_MAX_INPUTS], shape;
    for (int i = 0; i < n_in; i++) shapes[i] = b->g->values[in[i]].shape;
    cnv_status st = cnv_op_infer_shape(op, a, n_in, shapes, &shape, name);
    if (st != CNV_OK) {
        cnv_error_prefix(b->path);
        return st;
    }
    int v = cnv_graph_add_value(b->g, name, &shape, NULL);
    if (v < 0 || cnv_graph_add_node(b->g, name, op, a, n_in, in, v) < 0)
        return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory building layer '%s'", b->path, name);
    *out = v;
    return CNV_OK;
}

/* A weight value named "<layer>/<role>". */
static cnv_status add_weight(builder *b, const keras_layer *l, const char *role, cnv_shape shape, const float *data, int *v) {
    char name[512];
    snprintf(name, sizeof name, "%s/%s", l->name, role);
    *v = cnv_graph_add_value(b->g, name, &shape, data);
    return *v < 0 ? cnv_fail(CNV_ERR_NOMEM, "%s: out of memory adding weight %s", b->path, name) : CNV_OK;
}

/* ---- weights ---- */

typedef struct layer_weights {
    int n;
    float *data[4];
    int rank[4], dims[4][4];
} layer_weights;

static void free_weights(layer_weights *w) {
    for (int i = 0; i < w->n; i++) free(w->data[i]);
    w->n = 0;
}

/* Reads the layer's weights in stored order; there must be exactly `expected`. */
static cnv_status read_weights(builder *b, const keras_layer *l, int expected, layer_weights *w) {
    memset(w, 0, sizeof *w);
    hid_t group = H5Lexists(b->weights, l->name, H5P_DEFAULT) > 0 ? H5Gopen2(b->weights, l->name, H5P_DEFAULT) : -1;
    if (group < 0) return layer_fail(b, l, CNV_ERR_FORMAT, "no weights in the file%s", "");
    char **names = NULL;
    int n = 0;
    cnv_status st = keras_h5_string_list(b->path, group, "weight_names", &names, &n);
    if (st == CNV_OK && n != expected) {
        char detail[64];
        snprintf(detail, sizeof detail, "%d weights in the file, %d expected", n, expected);
        st = layer_fail(b, l, CNV_ERR_FORMAT, "%s", detail);
    }
    for (int i = 0; i < n && st == CNV_OK; i++) {
        st = keras_h5_read_floats(b->path, group, names[i], &w->data[i], &w->rank[i], w->dims[i]);
        if (st == CNV_OK) w->n++;
    }
    keras_h5_free_list(names, n);
    H5Gclose(group);
    if (st != CNV_OK) free_weights(w);
    return st;
}

static void dims_str(int rank, const int *d, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < rank && used < size; i++) used += (size_t)snprintf(buf + used, size - used, i ? "x%d" : "%d", d[i]);
    if (rank == 0) snprintf(buf, size, "scalar");
}

/* Weight k must have exactly the given dims; CNV_ERR_SHAPE names both shapes. */
static cnv_status check_dims(const builder *b, const keras_layer *l, const layer_weights *w, int k, const char *role, int rank,
                             const int *want) {
    int ok = w->rank[k] == rank;
    for (int i = 0; ok && i < rank; i++) ok = w->dims[k][i] == want[i];
    if (ok) return CNV_OK;
    char have[64], expect[64];
    dims_str(w->rank[k], w->dims[k], have, sizeof have);
    dims_str(rank, want, expect, sizeof expect);
    return cnv_fail(CNV_ERR_SHAPE, "%s: layer '%s' (%s): %s has shape %s in the file, expected %s", b->path, l->name,
                    l->class_name, role, have, expect);
}

/* ---- layers ---- */

/* A constant [1] named "<name>/<role>", broadcast by the elementwise ops. */
static cnv_status add_scalar(builder *b, const char *name, const char *role, float value, int *v) {
    char full[512];
    snprintf(full, sizeof full, "%s/%s", name, role);
    *v = cnv_graph_add_value(b->g, full, &(cnv_shape){1, {1}}, &value);
    return *v < 0 ? cnv_fail(CNV_ERR_NOMEM, "%s: out of memory adding %s", b->path, full) : CNV_OK;
}

/* A binary op of x and a scalar constant. */
static cnv_status emit_with_scalar(builder *b, const char *name, const char *role, cnv_op_type op, int x, float value,
                                   int *out) {
    int in[2] = {x, -1};
    CNV_TRY(add_scalar(b, name, role, value, &in[1]));
    cnv_attrs a;
    cnv_attrs_default(op, &a);
    return emit(b, name, op, &a, 2, in, out);
}

/* The activation of a Conv/Dense or an activation layer reading x: the op's node, then the
 * steps Keras composes from it (gate, scale, cap); the last node is named `name`. */
static cnv_status emit_activation(builder *b, const char *name, const keras_activation *act, int x, int *out) {
    cnv_attrs a;
    cnv_attrs_default(act->op, &a);
    switch (act->op) {
    case CNV_OP_ELU:
    case CNV_OP_LEAKYRELU: a.alpha = act->alpha; break;
    case CNV_OP_HARDSIGMOID: a.alpha = act->alpha; a.beta = act->beta; break;
    case CNV_OP_CLIP: a.min = 0.0f; a.max = act->max; break;
    case CNV_OP_SOFTMAX: a.axis = 1; break; /* Keras' last axis is the channel axis, 1 in NCHW */
    default: break;
    }
    int more = act->gate || act->scale != 0.0f || act->cap != 0.0f;
    char step[512];
    snprintf(step, sizeof step, "%s/%s", name, cnv_op_name(act->op));
    CNV_TRY(emit(b, more ? step : name, act->op, &a, 1, &x, out));
    if (act->gate) {
        int pair[2] = {x, *out};
        cnv_attrs_default(CNV_OP_MUL, &a);
        snprintf(step, sizeof step, "%s/gate", name);
        CNV_TRY(emit(b, act->scale != 0.0f || act->cap != 0.0f ? step : name, CNV_OP_MUL, &a, 2, pair, out));
    }
    if (act->scale != 0.0f) {
        snprintf(step, sizeof step, "%s/scaled", name);
        CNV_TRY(emit_with_scalar(b, act->cap != 0.0f ? step : name, "scale", CNV_OP_MUL, *out, act->scale, out));
    }
    if (act->cap != 0.0f) CNV_TRY(emit_with_scalar(b, name, "max_value", CNV_OP_MIN, *out, act->cap, out));
    return CNV_OK;
}

/* A Conv/Dense: the main node takes the layer's name unless an activation node follows. */
static cnv_status emit_with_activation(builder *b, const keras_layer *l, const char *role, cnv_op_type op, cnv_attrs *a,
                                       int n_in, const int *in, int *out) {
    if (l->act.op == CNV_OP_DROPOUT) return emit(b, l->name, op, a, n_in, in, out);
    char name[512];
    snprintf(name, sizeof name, "%s/%s", l->name, role);
    int pre = -1;
    CNV_TRY(emit(b, name, op, a, n_in, in, &pre));
    return emit_activation(b, l->name, &l->act, pre, out);
}

/* TF "same" padding along one axis: output ceil(n / stride); the odd pixel goes at the end. */
static void same_pads(int n, int kernel, int stride, int dilation, int *begin, int *end) {
    int out = (n + stride - 1) / stride;
    int total = (out - 1) * stride + (kernel - 1) * dilation + 1 - n;
    if (total < 0) total = 0;
    *begin = total / 2;
    *end = total - *begin;
}

static void spatial_attrs(const keras_layer *l, const cnv_shape *x, cnv_attrs *a) {
    for (int i = 0; i < 2; i++) {
        a->kernel[i] = l->kernel[i];
        a->stride[i] = l->strides[i];
        a->dilation[i] = l->dilation[i];
        if (l->same) same_pads(x->d[2 + i], l->kernel[i], l->strides[i], l->dilation[i], &a->pads[i], &a->pads[2 + i]);
    }
}

static cnv_status need_4d(const builder *b, const keras_layer *l, const cnv_shape *x) {
    if (x->ndim == 4) return CNV_OK;
    return layer_fail(b, l, CNV_ERR_UNSUPPORTED, "needs a 4-D (image) input%s", "");
}

/* A kernel stored HWIO (kh, kw, ci, co) as the graph's OIHW weight "<layer>/<role>". A
 * depthwise kernel (kh, kw, C, multiplier) is HWIO with ci 1 and co C*multiplier: output channel
 * c*multiplier + m reads input channel c, which is what a Conv with C groups computes. */
static cnv_status add_kernel(builder *b, const keras_layer *l, const char *role, const float *hwio, int kh, int kw,
                             int ci, int co, int *v) {
    float *oihw = malloc((size_t)co * ci * kh * kw * sizeof *oihw);
    if (!oihw) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory converting layer '%s'", b->path, l->name);
    for (int o = 0; o < co; o++)
        for (int i = 0; i < ci; i++)
            for (int h = 0; h < kh; h++)
                for (int w = 0; w < kw; w++)
                    oihw[(((size_t)o * ci + i) * kh + h) * kw + w] = hwio[(((size_t)h * kw + w) * ci + i) * co + o];
    cnv_status st = add_weight(b, l, role, cnv_shape4(co, ci, kh, kw), oihw, v);
    free(oihw);
    return st;
}

/* Conv2D, DepthwiseConv2D (a Conv with one group per input channel) and SeparableConv2D (that
 * depthwise Conv, then a 1x1 Conv carrying the bias and the activation). Stored weights:
 * kernel, bias; depthwise_kernel, bias; depthwise_kernel, pointwise_kernel, bias. */
static cnv_status build_conv(builder *b, const keras_layer *l, int x, int *out) {
    const cnv_shape xs = b->g->values[x].shape;
    CNV_TRY(need_4d(b, l, &xs));
    const int c = xs.d[1], kh = l->kernel[0], kw = l->kernel[1], mult = l->depth_multiplier;
    const int depthwise = l->kind != KL_CONV, separable = l->kind == KL_SEPCONV;
    if (c % l->groups) return layer_fail(b, l, CNV_ERR_SHAPE, "input channels do not divide into groups%s", "");
    const int co = l->kind == KL_DEPTHWISE ? c * mult : l->units;
    layer_weights w;
    CNV_TRY(read_weights(b, l, separable + 1 + l->use_bias, &w));
    int kdims[4] = {kh, kw, depthwise ? c : c / l->groups, depthwise ? mult : co};
    int pdims[4] = {1, 1, c * mult, co};
    cnv_status st = check_dims(b, l, &w, 0, depthwise ? "depthwise_kernel" : "kernel", 4, kdims);
    if (st == CNV_OK && separable) st = check_dims(b, l, &w, 1, "pointwise_kernel", 4, pdims);
    if (st == CNV_OK && l->use_bias) st = check_dims(b, l, &w, separable + 1, "bias", 1, &co);
    int in[3] = {x, -1, -1}, dw_in[2] = {x, -1};
    if (st == CNV_OK && separable) st = add_kernel(b, l, "depthwise_kernel", w.data[0], kh, kw, 1, c * mult, &dw_in[1]);
    if (st == CNV_OK && separable) st = add_kernel(b, l, "pointwise_kernel", w.data[1], 1, 1, c * mult, co, &in[1]);
    if (st == CNV_OK && !separable)
        st = add_kernel(b, l, "kernel", w.data[0], kh, kw, depthwise ? 1 : c / l->groups, co, &in[1]);
    if (st == CNV_OK && l->use_bias) st = add_weight(b, l, "bias", (cnv_shape){1, {co}}, w.data[separable + 1], &in[2]);
    free_weights(&w);
    if (st != CNV_OK) return st;
    cnv_attrs a;
    cnv_attrs_default(CNV_OP_CONV, &a);
    spatial_attrs(l, &xs, &a);
    a.group = depthwise ? c : l->groups;
    if (separable) {
        char name[512];
        snprintf(name, sizeof name, "%s/depthwise", l->name);
        CNV_TRY(emit(b, name, CNV_OP_CONV, &a, 2, dw_in, &in[0]));
        cnv_attrs_default(CNV_OP_CONV, &a);
    }
    return emit_with_activation(b, l, "conv", CNV_OP_CONV, &a, l->use_bias ? 3 : 2, in, out);
}

/* The length Keras gives a Conv2DTranspose output along one axis (its deconv_output_length). */
static int convt_length(const keras_layer *l, int i, int n) {
    const int k = (l->kernel[i] - 1) * l->dilation[i] + 1, s = l->strides[i];
    if (l->output_padding[i] < 0) return l->same ? n * s : n * s + (k > s ? k - s : 0);
    return (n - 1) * s + k - 2 * (l->same ? k / 2 : 0) + l->output_padding[i];
}

/* Conv2DTranspose: a ConvTranspose to the length Keras gives (the shape rule derives the pads
 * as TensorFlow's conv2d_transpose does: the odd one at the end), then the bias as an Add and
 * the activation. Stored weights: kernel (kh, kw, filters, in), bias. */
static cnv_status build_convt(builder *b, const keras_layer *l, int x, int *out) {
    const cnv_shape xs = b->g->values[x].shape;
    CNV_TRY(need_4d(b, l, &xs));
    const int c = xs.d[1], kh = l->kernel[0], kw = l->kernel[1], co = l->units;
    layer_weights w;
    CNV_TRY(read_weights(b, l, 1 + l->use_bias, &w));
    int kdims[4] = {kh, kw, co, c};
    cnv_status st = check_dims(b, l, &w, 0, "kernel", 4, kdims);
    if (st == CNV_OK && l->use_bias) st = check_dims(b, l, &w, 1, "bias", 1, &co);
    /* (kh, kw, out, in) is HWIO of the Conv this one transposes: its OIHW is ConvTranspose's W. */
    int in[2] = {x, -1}, bias[2] = {-1, -1};
    if (st == CNV_OK) st = add_kernel(b, l, "kernel", w.data[0], kh, kw, co, c, &in[1]);
    if (st == CNV_OK && l->use_bias) st = add_weight(b, l, "bias", (cnv_shape){3, {co, 1, 1}}, w.data[1], &bias[1]);
    free_weights(&w);
    if (st != CNV_OK) return st;
    cnv_attrs a;
    cnv_attrs_default(CNV_OP_CONVTRANSPOSE, &a);
    for (int i = 0; i < 2; i++) {
        a.stride[i] = l->strides[i];
        a.dilation[i] = l->dilation[i];
        a.out_hw[i] = convt_length(l, i, xs.d[2 + i]);
    }
    if (!l->use_bias) return emit_with_activation(b, l, "convtranspose", CNV_OP_CONVTRANSPOSE, &a, 2, in, out);
    char name[512];
    snprintf(name, sizeof name, "%s/convtranspose", l->name);
    CNV_TRY(emit(b, name, CNV_OP_CONVTRANSPOSE, &a, 2, in, &bias[0]));
    cnv_attrs_default(CNV_OP_ADD, &a);
    return emit_with_activation(b, l, "bias", CNV_OP_ADD, &a, 2, bias, out);
}

/* UpSampling2D by integer factors: nearest reads floor((o + 0.5) / s) as TensorFlow 2's resize
 * (the same as floor(o / s) for integer factors), bilinear samples at half pixels. */
static cnv_status build_upsample(builder *b, const keras_layer *l, int x, int *out) {
    const cnv_shape xs = b->g->values[x].shape;
    CNV_TRY(need_4d(b, l, &xs));
    cnv_attrs a;
    cnv_attrs_default(CNV_OP_RESIZE, &a);
    a.resize_mode = l->bilinear ? CNV_RESIZE_LINEAR : CNV_RESIZE_NEAREST;
    a.resize_coord = l->bilinear ? CNV_COORD_HALF_PIXEL : CNV_COORD_TF_HALF_PIXEL_FOR_NN;
    a.resize_nearest = CNV_NEAREST_FLOOR;
    a.resize_scale[0] = (float)l->kernel[0];
    a.resize_scale[1] = (float)l->kernel[1];
    return emit(b, l->name, CNV_OP_RESIZE, &a, 1, &x, out);
}

static cnv_status build_dense(builder *b, const keras_layer *l, const built *src, int *out) {
    const cnv_shape xs = b->g->values[src->value].shape;
    if (xs.ndim != 2) return layer_fail(b, l, CNV_ERR_UNSUPPORTED, "reads a feature map (%s)", "Dense needs a Flatten before it");
    int f = xs.d[1], u = l->units;
    layer_weights w;
    CNV_TRY(read_weights(b, l, l->use_bias ? 2 : 1, &w));
    int kdims[2] = {f, u};
    cnv_status st = check_dims(b, l, &w, 0, "kernel", 2, kdims);
    /* With a None input size the features it reads follow the size tried: the loader looks for
     * the size its kernel takes (keras_import.c). */
    if (st == CNV_ERR_SHAPE && b->fit && (b->g->input_symbolic & 12u) && w.rank[0] == 2 && w.dims[0][1] == u)
        *b->fit = (keras_fit){w.dims[0][0], f, l->name};
    if (st == CNV_OK && l->use_bias) st = check_dims(b, l, &w, 1, "bias", 1, &u);
    float *rows = st == CNV_OK ? malloc((size_t)f * u * sizeof *rows) : NULL;
    if (st == CNV_OK && !rows) st = cnv_fail(CNV_ERR_NOMEM, "%s: out of memory converting layer '%s'", b->path, l->name);
    int in[3] = {src->value, -1, -1};
    if (st == CNV_OK) {
        /* Row r of Keras' kernel is feature r in its (H, W, C) flattening; the graph's feature
         * c*H*W + h*W + w is Keras' (h*W + w)*C + c. Not flattened: the identity. */
        int c_n = src->flat_c ? src->flat_c : 1, hw = src->flat_c ? src->flat_h * src->flat_w : f;
        for (int c = 0; c < c_n; c++)
            for (int p = 0; p < hw; p++)
                memcpy(rows + ((size_t)c * hw + p) * u, w.data[0] + ((size_t)p * c_n + c) * u, (size_t)u * sizeof *rows);
        st = add_weight(b, l, "kernel", (cnv_shape){2, {f, u}}, rows, &in[1]);
    }
    if (st == CNV_OK && l->use_bias) st = add_weight(b, l, "bias", (cnv_shape){1, {u}}, w.data[1], &in[2]);
    free(rows);
    free_weights(&w);
    if (st != CNV_OK) return st;
    cnv_attrs a;
    cnv_attrs_default(CNV_OP_GEMM, &a);
    return emit_with_activation(b, l, "dense", CNV_OP_GEMM, &a, l->use_bias ? 3 : 2, in, out);
}

/* Inference BatchNormalization as y = x*scale + shift per channel. */
static cnv_status build_batchnorm(builder *b, const keras_layer *l, int x, int *out) {
    const cnv_shape xs = b->g->values[x].shape;
    int last = xs.ndim == 4 ? 3 : 1;
    if (xs.ndim != 4 && xs.ndim != 2) return layer_fail(b, l, CNV_ERR_UNSUPPORTED, "reads a 3-D input%s", "");
    if (l->axis != -1 && l->axis != last) return layer_fail(b, l, CNV_ERR_UNSUPPORTED, "normalizes an axis other than the channels%s", "");
    int c = xs.d[1];
    layer_weights w;
    CNV_TRY(read_weights(b, l, l->scale + l->center + 2, &w));
    static const char *roles[] = {"gamma", "beta", "moving_mean", "moving_variance"};
    const float *param[4] = {NULL, NULL, NULL, NULL}; /* gamma, beta, mean, variance as stored */
    cnv_status st = CNV_OK;
    for (int role = 0, k = 0; role < 4 && st == CNV_OK; role++) {
        if ((role == 0 && !l->scale) || (role == 1 && !l->center)) continue;
        st = check_dims(b, l, &w, k, roles[role], 1, &c);
        param[role] = w.data[k++];
    }
    float *scale = malloc((size_t)c * sizeof *scale), *shift = malloc((size_t)c * sizeof *shift);
    if (st == CNV_OK && (!scale || !shift)) st = cnv_fail(CNV_ERR_NOMEM, "%s: out of memory converting layer '%s'", b->path, l->name);
    int in[3] = {x, -1, -1};
    if (st == CNV_OK) {
        for (int i = 0; i < c; i++) {
            double s = (param[0] ? param[0][i] : 1.0) / sqrt((double)param[3][i] + l->epsilon);
            scale[i] = (float)s;
            shift[i] = (float)((param[1] ? param[1][i] : 0.0) - param[2][i] * s);
        }
        st = add_weight(b, l, "scale", (cnv_shape){1, {c}}, scale, &in[1]);
    }
    if (st == CNV_OK) st = add_weight(b, l, "shift", (cnv_shape){1, {c}}, shift, &in[2]);
    free(scale);
    free(shift);
    free_weights(&w);
    if (st != CNV_OK) return st;
    cnv_attrs a;
    cnv_attrs_default(CNV_OP_BATCHNORM, &a);
    return emit(b, l->name, CNV_OP_BATCHNORM, &a, 3, in, out);
}

/* LayerNormalization over Keras axes (N, H, W, C) or (N, F), composed as the ONNX importer's
 * (models/compose.c). Keras reshapes gamma and beta (stored with the normalized axes' dims, in
 * the order the axis list gives) to the input's rank with 1 elsewhere, so their data is in the
 * order of the sorted axes: an (H', W', C') array, here transposed to the graph's (C', H', W'). */
static cnv_status build_layernorm(builder *b, const keras_layer *l, int x, int *out) {
    const cnv_shape xs = b->g->values[x].shape;
    if (xs.ndim != 4 && xs.ndim != 2) return layer_fail(b, l, CNV_ERR_UNSUPPORTED, "reads a 3-D input%s", "");
    static const int nhwc_to_nchw[4] = {0, 2, 3, 1};
    int axes = 0, want[3], keras_dims[4] = {1, 1, 1, 1}; /* keras_dims: N, then H, W, C or F */
    for (int d = 1; d < xs.ndim; d++) keras_dims[d] = xs.ndim == 4 ? xs.d[nhwc_to_nchw[d]] : xs.d[d];
    int bcast[4] = {1, 1, 1, 1};
    for (int i = 0; i < l->rank; i++) {
        int k = l->shape[i] < 0 ? l->shape[i] + xs.ndim : l->shape[i];
        if (k <= 0 || k >= xs.ndim)
            return layer_fail(b, l, CNV_ERR_UNSUPPORTED, "normalizes the batch axis or an axis the input lacks%s", "");
        const int d = xs.ndim == 4 ? nhwc_to_nchw[k] : k;
        if (axes & 1 << d) return layer_fail(b, l, CNV_ERR_FORMAT, "names an axis twice%s", "");
        axes |= 1 << d;
        want[i] = bcast[k] = keras_dims[k];
    }
    layer_weights w = {0};
    if (l->scale || l->center) CNV_TRY(read_weights(b, l, l->scale + l->center, &w));
    cnv_status st = CNV_OK;
    for (int k = 0; k < w.n && st == CNV_OK; k++)
        st = check_dims(b, l, &w, k, k < l->scale ? "gamma" : "beta", l->rank, want);
    /* (H', W', C') to (C', H', W'); a 2-D input's (F) as it is. */
    const int hh = bcast[1], ww = bcast[2], cc = bcast[3];
    const cnv_shape ps = xs.ndim == 4 ? (cnv_shape){3, {cc, hh, ww}} : (cnv_shape){1, {bcast[1]}};
    const size_t count = cnv_shape_numel(&ps);
    float *param = st == CNV_OK ? malloc(count * sizeof *param) : NULL;
    if (st == CNV_OK && !param) st = cnv_fail(CNV_ERR_NOMEM, "%s: out of memory converting layer '%s'", b->path, l->name);
    char what[600];
    snprintf(what, sizeof what, "layer '%s' (%s)", l->name, l->class_name);
    const compose c = {b->g, b->path, what, l->name, l->name, NULL, NULL};
    int gb[2] = {-1, -1}; /* gamma, beta */
    for (int k = 0; k < w.n && st == CNV_OK; k++) {
        if (xs.ndim == 4)
            for (size_t i = 0; i < count; i++) {
                const size_t ch = i / ((size_t)hh * ww), p = i % ((size_t)hh * ww);
                param[i] = w.data[k][p * cc + ch];
            }
        else memcpy(param, w.data[k], count * sizeof *param);
        st = compose_weight(&c, k < l->scale ? "gamma" : "beta", &ps, param, 0.0f, &gb[k < l->scale ? 0 : 1]);
    }
    free(param);
    free_weights(&w);
    if (st != CNV_OK) return st;
    int sd;
    return compose_normalize(&c, x, axes, l->epsilon, gb[0], gb[1], NULL, l->name, out, &sd);
}

static cnv_status build_pool(builder *b, const keras_layer *l, int x, int *out) {
    const cnv_shape xs = b->g->values[x].shape;
    CNV_TRY(need_4d(b, l, &xs));
    cnv_op_type op = l->kind == KL_MAXPOOL ? CNV_OP_MAXPOOL : CNV_OP_AVGPOOL;
    cnv_attrs a;
    cnv_attrs_default(op, &a);
    spatial_attrs(l, &xs, &a); /* AveragePool leaves the padding out of the mean, as TF does */
    return emit(b, l->name, op, &a, 1, &x, out);
}

static cnv_status build_global_pool(builder *b, const keras_layer *l, int x, int *out) {
    const cnv_shape xs = b->g->values[x].shape;
    CNV_TRY(need_4d(b, l, &xs));
    /* GlobalMaxPooling2D is a MaxPool whose window is the whole map (no GlobalMaxPool op yet). */
    const cnv_op_type op = l->kind == KL_GLOBALMAXPOOL ? CNV_OP_MAXPOOL : CNV_OP_GLOBALAVGPOOL;
    cnv_attrs a;
    cnv_attrs_default(op, &a);
    if (op == CNV_OP_MAXPOOL) {
        a.kernel[0] = a.stride[0] = xs.d[2];
        a.kernel[1] = a.stride[1] = xs.d[3];
    }
    if (l->keepdims) return emit(b, l->name, op, &a, 1, &x, out);
    /* Keras drops the 1x1 spatial dims. */
    char name[512];
    snprintf(name, sizeof name, "%s/pool", l->name);
    int pooled;
    CNV_TRY(emit(b, name, op, &a, 1, &x, &pooled));
    cnv_attrs_default(CNV_OP_FLATTEN, &a);
    return emit(b, l->name, CNV_OP_FLATTEN, &a, 1, &pooled, out);
}

static cnv_status build_zero_pad(builder *b, const keras_layer *l, int x, int *out) {
    const cnv_shape xs = b->g->values[x].shape;
    CNV_TRY(need_4d(b, l, &xs));
    cnv_attrs a;
    cnv_attrs_default(CNV_OP_PAD, &a);
    a.pad_mode = CNV_PAD_CONSTANT;
    a.pad_full[2] = l->pads[0];                /* top */
    a.pad_full[CNV_MAX_DIMS + 2] = l->pads[1]; /* bottom */
    a.pad_full[3] = l->pads[2];                /* left */
    a.pad_full[CNV_MAX_DIMS + 3] = l->pads[3]; /* right */
    return emit(b, l->name, CNV_OP_PAD, &a, 1, &x, out);
}

static cnv_status build_concat(builder *b, const keras_layer *l, const int *in, int *out) {
    int rank = b->g->values[in[0]].shape.ndim;
    int axis = l->axis < 0 ? l->axis + rank : l->axis;
    /* Keras (N, H, W, C) axes in NCHW: 1 -> 2, 2 -> 3, 3 -> 1. */
    static const int nhwc_to_nchw[4] = {0, 2, 3, 1};
    if (axis <= 0 || axis >= rank) return layer_fail(b, l, CNV_ERR_UNSUPPORTED, "concatenates along the batch axis%s", "");
    cnv_attrs a;
    cnv_attrs_default(CNV_OP_CONCAT, &a);
    a.axis = rank == 4 ? nhwc_to_nchw[axis] : axis;
    return emit(b, l->name, CNV_OP_CONCAT, &a, l->n_in, in, out);
}

/* Add, Subtract, Multiply, Maximum, Minimum, Average of n inputs as a chain of two-input
 * nodes (Average: the sum times 1/n); the last node carries the layer's name. */
static cnv_status build_merge(builder *b, const keras_layer *l, const int *in, int *out) {
    if (l->n_in < 2) return layer_fail(b, l, CNV_ERR_FORMAT, "merges fewer than two inputs%s", "");
    if (l->merge_op == CNV_OP_SUB && l->n_in != 2) return layer_fail(b, l, CNV_ERR_FORMAT, "subtracts other than two inputs%s", "");
    cnv_attrs a;
    cnv_attrs_default(l->merge_op, &a);
    int acc = in[0];
    for (int k = 1; k < l->n_in; k++) {
        char name[512];
        snprintf(name, sizeof name, "%s/%s%d", l->name, cnv_op_name(l->merge_op), k);
        int pair[2] = {acc, in[k]};
        CNV_TRY(emit(b, k == l->n_in - 1 && !l->average ? l->name : name, l->merge_op, &a, 2, pair, &acc));
    }
    if (l->average) CNV_TRY(emit_with_scalar(b, l->name, "inverse_count", CNV_OP_MUL, acc, 1.0f / (float)l->n_in, &acc));
    *out = acc;
    return CNV_OK;
}

static cnv_status emit_transpose(builder *b, const char *name, int x, const int perm[4], int *out) {
    cnv_attrs a;
    cnv_attrs_default(CNV_OP_TRANSPOSE, &a);
    memcpy(a.perm, perm, 4 * sizeof *perm);
    return emit(b, name, CNV_OP_TRANSPOSE, &a, 1, &x, out);
}

static const int to_nhwc[4] = {0, 2, 3, 1}, to_nchw[4] = {0, 3, 1, 2};

/* Reshape in Keras' (H, W, C) order: the input goes to NHWC (a flattened map first back to its
 * C, H, W), is reshaped, and a 3-D target comes back to NCHW. A 1x1 map to features, the
 * classifier heads' case, is a plain Flatten. */
static cnv_status build_reshape(builder *b, const keras_layer *l, const built *src, int *out) {
    const cnv_shape xs = b->g->values[src->value].shape;
    char name[512];
    cnv_attrs a;
    int x = src->value;
    if (xs.ndim == 4 && xs.d[2] * xs.d[3] == 1 && l->rank == 1) {
        cnv_attrs_default(CNV_OP_FLATTEN, &a);
        return emit(b, l->name, CNV_OP_FLATTEN, &a, 1, &x, out);
    }
    if (xs.ndim != 4 && xs.ndim != 2) return layer_fail(b, l, CNV_ERR_UNSUPPORTED, "reads a 3-D input%s", "");
    if (src->flat_c) {
        cnv_attrs_default(CNV_OP_RESHAPE, &a);
        a.shape_n = 4;
        a.shape[0] = 0;
        a.shape[1] = src->flat_c;
        a.shape[2] = src->flat_h;
        a.shape[3] = src->flat_w;
        snprintf(name, sizeof name, "%s/unflatten", l->name);
        CNV_TRY(emit(b, name, CNV_OP_RESHAPE, &a, 1, &x, &x));
    }
    if (b->g->values[x].shape.ndim == 4) {
        snprintf(name, sizeof name, "%s/to_nhwc", l->name);
        CNV_TRY(emit_transpose(b, name, x, to_nhwc, &x));
    }
    cnv_attrs_default(CNV_OP_RESHAPE, &a);
    a.shape_n = l->rank + 1;
    a.shape[0] = 0; /* the batch */
    for (int i = 0; i < l->rank; i++) a.shape[i + 1] = l->shape[i];
    snprintf(name, sizeof name, "%s/reshape", l->name);
    CNV_TRY(emit(b, l->rank == 3 ? name : l->name, CNV_OP_RESHAPE, &a, 1, &x, out));
    return l->rank == 3 ? emit_transpose(b, l->name, *out, to_nchw, out) : CNV_OK;
}

/* Permute of Keras' (H, W, C) axes as a Transpose of the NCHW ones. */
static cnv_status build_permute(builder *b, const keras_layer *l, int x, int *out) {
    const cnv_shape xs = b->g->values[x].shape;
    CNV_TRY(need_4d(b, l, &xs));
    if (l->rank != 3) return layer_fail(b, l, CNV_ERR_UNSUPPORTED, "permutes other than the (H, W, C) axes%s", "");
    /* Keras axis k (1 H, 2 W, 3 C) is NCHW axis to_nhwc[k]; NCHW output axes 1, 2, 3 are
     * Keras output axes 3, 1, 2. */
    int perm[4] = {0, to_nhwc[l->shape[2]], to_nhwc[l->shape[0]], to_nhwc[l->shape[1]]};
    return emit_transpose(b, l->name, x, perm, out);
}

/* Layers that act on each element alone: they pass a flattened map's order along. */
static int is_elementwise(const keras_layer *l) {
    return l->kind == KL_ACTIVATION || l->kind == KL_DROPOUT || l->kind == KL_MERGE;
}

/* The input, NCHW; a None height or width takes the size asked for (m->want_hw, 0: the default). */
static cnv_status build_input(builder *b, const keras_layer *l, built *res) {
    if (b->g->input >= 0) return layer_fail(b, l, CNV_ERR_UNSUPPORTED, "is a second input (only one is supported)%s", "");
    int hw[2];
    for (int i = 0; i < 2; i++)
        hw[i] = l->shape[i] ? l->shape[i] : b->m->want_hw[i] ? b->m->want_hw[i] : KERAS_DEFAULT_SPATIAL;
    cnv_shape s = l->rank == 3 ? cnv_shape4(1, l->shape[2], hw[0], hw[1]) : (cnv_shape){2, {1, l->shape[0]}};
    res->value = b->g->input = cnv_graph_add_value(b->g, l->name, &s, NULL);
    b->g->input_symbolic = l->symbolic;
    return res->value < 0 ? cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", b->path) : CNV_OK;
}

static cnv_status build_layer(builder *b, int index) {
    const keras_layer *l = &b->m->layers[index];
    built *res = &b->out[index];
    if (l->kind == KL_INPUT) return build_input(b, l, res);
    int in[KERAS_MAX_INPUTS];
    const built *src[KERAS_MAX_INPUTS];
    for (int k = 0; k < l->n_in; k++) {
        src[k] = &b->out[find_layer(b->m, l->inputs[k])];
        in[k] = src[k]->value;
        int same_order = src[k]->flat_c == src[0]->flat_c && src[k]->flat_h == src[0]->flat_h;
        if (src[k]->flat_c && (!(l->kind == KL_DENSE || l->kind == KL_RESHAPE || is_elementwise(l)) || !same_order))
            return layer_fail(b, l, CNV_ERR_UNSUPPORTED,
                              "reads a flattened feature map (Keras orders it H,W,C); only Dense, Reshape, Dropout, merges and "
                              "activations may%s", "");
    }
    if (l->n_in < 1) return layer_fail(b, l, CNV_ERR_FORMAT, "has no input%s", "");
    if (l->n_in > 1 && l->kind != KL_CONCAT && l->kind != KL_MERGE)
        return layer_fail(b, l, CNV_ERR_UNSUPPORTED, "has several inputs%s", "");
    int x = in[0];
    switch (l->kind) {
    case KL_CONV:
    case KL_DEPTHWISE:
    case KL_SEPCONV: CNV_TRY(build_conv(b, l, x, &res->value)); break;
    case KL_CONVT: CNV_TRY(build_convt(b, l, x, &res->value)); break;
    case KL_UPSAMPLE: CNV_TRY(build_upsample(b, l, x, &res->value)); break;
    case KL_DENSE: CNV_TRY(build_dense(b, l, src[0], &res->value)); return CNV_OK;
    case KL_MAXPOOL:
    case KL_AVGPOOL: CNV_TRY(build_pool(b, l, x, &res->value)); break;
    case KL_GLOBALAVGPOOL:
    case KL_GLOBALMAXPOOL: CNV_TRY(build_global_pool(b, l, x, &res->value)); break;
    case KL_FLATTEN: {
        const cnv_shape xs = b->g->values[x].shape;
        cnv_attrs a;
        cnv_attrs_default(CNV_OP_FLATTEN, &a);
        CNV_TRY(emit(b, l->name, CNV_OP_FLATTEN, &a, 1, &x, &res->value));
        if (xs.ndim == 4 && xs.d[1] > 1 && xs.d[2] * xs.d[3] > 1) {
            res->flat_c = xs.d[1];
            res->flat_h = xs.d[2];
            res->flat_w = xs.d[3];
        }
        return CNV_OK;
    }
    case KL_DROPOUT: {
        cnv_attrs a;
        cnv_attrs_default(CNV_OP_DROPOUT, &a);
        CNV_TRY(emit(b, l->name, CNV_OP_DROPOUT, &a, 1, &x, &res->value));
        break;
    }
    case KL_BATCHNORM: CNV_TRY(build_batchnorm(b, l, x, &res->value)); break;
    case KL_LAYERNORM: CNV_TRY(build_layernorm(b, l, x, &res->value)); break;
    case KL_ACTIVATION: CNV_TRY(emit_activation(b, l->name, &l->act, x, &res->value)); break;
    case KL_ZEROPAD: CNV_TRY(build_zero_pad(b, l, x, &res->value)); break;
    case KL_CONCAT: CNV_TRY(build_concat(b, l, in, &res->value)); break;
    case KL_MERGE: CNV_TRY(build_merge(b, l, in, &res->value)); break;
    case KL_RESHAPE: CNV_TRY(build_reshape(b, l, src[0], &res->value)); return CNV_OK;
    case KL_PERMUTE: CNV_TRY(build_permute(b, l, x, &res->value)); break;
    case KL_INPUT: break;
    }
    if (is_elementwise(l)) {
        res->flat_c = src[0]->flat_c;
        res->flat_h = src[0]->flat_h;
        res->flat_w = src[0]->flat_w;
    }
    return CNV_OK;
}

/* Index of a layer whose inputs are all built, or -1; *stuck explains when none is. */
static int next_ready(const builder *b, cnv_status *stuck) {
    *stuck = CNV_OK;
    int blocked = -1;
    for (int i = 0; i < b->m->n; i++) {
        if (b->out[i].value >= 0) continue;
        const keras_layer *l = &b->m->layers[i];
        int ready = 1;
        for (int k = 0; k < l->n_in && ready; k++) {
            int j = find_layer(b->m, l->inputs[k]);
            if (j < 0)
                *stuck = cnv_fail(CNV_ERR_FORMAT, "%s: layer '%s' reads '%s', which is not a layer of the model", b->path,
                                  l->name, l->inputs[k]);
            ready = j >= 0 && b->out[j].value >= 0;
        }
        if (*stuck != CNV_OK) return -1;
        if (ready) return i;
        if (blocked < 0) blocked = i;
    }
    if (blocked >= 0)
        *stuck = cnv_fail(CNV_ERR_FORMAT, "%s: layer '%s' is part of a cycle", b->path, b->m->layers[blocked].name);
    return -1;
}

static cnv_status build_all(builder *b) {
    for (int i = 0; i < b->m->n; i++) b->out[i] = (built){-1, 0, 0, 0};
    for (int done = 0; done < b->m->n; done++) {
        cnv_status stuck;
        int i = next_ready(b, &stuck);
        if (i < 0) return stuck;
        CNV_TRY(build_layer(b, i));
    }
    if (b->g->input < 0) return cnv_fail(CNV_ERR_FORMAT, "%s: the model has no input layer", b->path);
    int o = b->m->output ? find_layer(b->m, b->m->output) : b->m->n - 1;
    if (o < 0) return cnv_fail(CNV_ERR_FORMAT, "%s: output layer '%s' is not a layer of the model", b->path, b->m->output);
    if (b->out[o].flat_c)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: the output '%s' is a flattened feature map (Keras orders it H,W,C)",
                        b->path, b->m->layers[o].name);
    b->g->output = b->out[o].value;
    if (b->g->values[b->g->output].producer < 0)
        return cnv_fail(CNV_ERR_FORMAT, "%s: the model's output is its input", b->path);
    return CNV_OK;
}

cnv_status keras_build_graph(const char *path, const keras_model *m, hid_t weights, keras_fit *fit, cnv_graph **out) {
    *out = NULL;
    if (fit) *fit = (keras_fit){0, 0, NULL};
    builder b = {path, m, weights, fit, cnv_graph_new(path), malloc((size_t)(m->n ? m->n : 1) * sizeof(built))};
    cnv_status st = b.g && b.out ? CNV_OK : cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", path);
    if (st == CNV_OK) {
        b.g->opset = 13; /* Softmax along one axis */
        b.g->input = b.g->output = -1;
        st = build_all(&b);
    }
    free(b.out);
    if (st != CNV_OK) {
        if (b.g) cnv_graph_free(b.g);
        return st;
    }
    *out = b.g;
    return CNV_OK;
}
