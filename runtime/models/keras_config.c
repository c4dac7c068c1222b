/* model_config (the JSON a full Keras .h5 carries) into the layer list. Dialects read:
 * Sequential with its layers under config.layers (tf.keras 2.x, Keras 2.2) or as the config
 * itself (Keras 2.0/2.1), with an InputLayer or with batch_input_shape on the first layer;
 * functional models ("Functional", "Model") whose inbound_nodes are nested lists
 * [[["name", 0, 0, {}], ...]] (Keras 2) or {"args": [...keras_history...]} objects (Keras 3). */
#include "models/keras_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/status.h"

typedef struct parser {
    const char *path;
    keras_model *m;
} parser;

static cnv_status layer_fail(const parser *p, const keras_layer *l, cnv_status s, const char *what) {
    return cnv_fail(s, "%s: layer '%s' (%s): %s", p->path, l->name, l->class_name, what);
}

/* An int that may be given as n or [n]: the first element of a list. */
static int int_of(json_t *v, int fallback) {
    if (json_is_array(v)) v = json_array_get(v, 0);
    return json_is_integer(v) ? (int)json_integer_value(v) : fallback;
}

/* A pair given as n or [a, b] (kernel_size, strides, ...); NULL keeps the defaults. */
static cnv_status get_pair(const parser *p, const keras_layer *l, json_t *cfg, const char *key, int out[2]) {
    json_t *v = json_object_get(cfg, key);
    if (!v || json_is_null(v)) return CNV_OK;
    if (json_is_integer(v)) {
        out[0] = out[1] = (int)json_integer_value(v);
    } else if (json_is_array(v) && json_array_size(v) == 2 && json_is_integer(json_array_get(v, 0)) &&
               json_is_integer(json_array_get(v, 1))) {
        out[0] = (int)json_integer_value(json_array_get(v, 0));
        out[1] = (int)json_integer_value(json_array_get(v, 1));
    } else {
        char what[128];
        snprintf(what, sizeof what, "%s is not an int or a pair of ints", key);
        return layer_fail(p, l, CNV_ERR_FORMAT, what);
    }
    if (out[0] < 1 || out[1] < 1) {
        char what[128];
        snprintf(what, sizeof what, "%s %d,%d must be positive", key, out[0], out[1]);
        return layer_fail(p, l, CNV_ERR_FORMAT, what);
    }
    return CNV_OK;
}

static int get_bool(json_t *cfg, const char *key, int fallback) {
    json_t *v = json_object_get(cfg, key);
    return json_is_boolean(v) ? json_is_true(v) : fallback;
}

static cnv_status check_channels_last(const parser *p, const keras_layer *l, json_t *cfg) {
    const char *fmt = json_string_value(json_object_get(cfg, "data_format"));
    if (fmt && strcmp(fmt, "channels_last") != 0)
        return layer_fail(p, l, CNV_ERR_UNSUPPORTED, "data_format channels_first is not supported (only channels_last)");
    return CNV_OK;
}

static cnv_status get_padding(const parser *p, keras_layer *l, json_t *cfg) {
    const char *pad = json_string_value(json_object_get(cfg, "padding"));
    if (!pad || !strcmp(pad, "valid")) return CNV_OK;
    if (!strcmp(pad, "same")) {
        l->same = 1;
        return CNV_OK;
    }
    return layer_fail(p, l, CNV_ERR_UNSUPPORTED, "padding other than \"valid\" or \"same\"");
}

static cnv_status get_activation(const parser *p, keras_layer *l, json_t *cfg) {
    json_t *a = json_object_get(cfg, "activation");
    if (!a || json_is_null(a)) return CNV_OK;
    if (!json_is_string(a)) return layer_fail(p, l, CNV_ERR_UNSUPPORTED, "a custom (non-string) activation");
    return keras_activation_parse(p->path, l, json_string_value(a), p->m->keras3, &l->act);
}

/* The shape without the batch from batch_input_shape (Keras 2) or batch_shape (Keras 3). The
 * batch, and an image's height and width, may be None (null): the size is chosen at load
 * (keras_build.c); None channels or features are refused. */
static cnv_status get_input_shape(const parser *p, keras_layer *l, json_t *shape) {
    size_t n = json_array_size(shape);
    if (n != 2 && n != 4) return layer_fail(p, l, CNV_ERR_UNSUPPORTED, "input is not [batch, H, W, C] or [batch, features]");
    l->rank = (int)n - 1;
    if (json_is_null(json_array_get(shape, 0))) l->symbolic |= 1u;
    for (int i = 0; i < l->rank; i++) {
        json_t *d = json_array_get(shape, (size_t)i + 1);
        if (json_is_null(d) && l->rank == 3 && i < 2) {
            l->symbolic |= 1u << (i + 2); /* NHWC's H, W are NCHW dims 2, 3 */
            continue;
        }
        if (!json_is_integer(d) || json_integer_value(d) < 1 || json_integer_value(d) > 1 << 20)
            return layer_fail(p, l, CNV_ERR_UNSUPPORTED, json_is_null(d) ? "the input's channels or features are None (only "
                              "the batch, height and width may be)" : "an input dim is not a size from 1 to 2^20");
        l->shape[i] = (int)json_integer_value(d);
    }
    return CNV_OK;
}

/* LayerNormalization's axis: an int or a list of distinct ints (Keras axes, negative from the
 * end), kept for the build, which knows the rank. */
static cnv_status parse_layernorm(const parser *p, keras_layer *l, json_t *cfg) {
    json_t *eps = json_object_get(cfg, "epsilon");
    if (json_is_number(eps)) l->epsilon = (float)json_number_value(eps);
    if (!(l->epsilon >= 0.0f)) return layer_fail(p, l, CNV_ERR_FORMAT, "epsilon is negative");
    l->center = get_bool(cfg, "center", 1);
    l->scale = get_bool(cfg, "scale", 1);
    if (get_bool(cfg, "rms_scaling", 0)) return layer_fail(p, l, CNV_ERR_UNSUPPORTED, "rms_scaling (Keras 3's RMS norm)");
    json_t *axis = json_object_get(cfg, "axis");
    size_t n = json_is_array(axis) ? json_array_size(axis) : 1;
    if (n < 1 || n > 3) return layer_fail(p, l, CNV_ERR_UNSUPPORTED, "axis is not 1 to 3 axes");
    l->rank = (int)n;
    l->shape[0] = -1; /* Keras' default: the last axis */
    for (size_t i = 0; axis && i < n; i++) {
        json_t *v = json_is_array(axis) ? json_array_get(axis, i) : axis;
        if (!json_is_integer(v) || json_integer_value(v) < -4 || json_integer_value(v) > 3)
            return layer_fail(p, l, CNV_ERR_FORMAT, "axis is not an int from -4 to 3 or a list of them");
        l->shape[i] = (int)json_integer_value(v);
    }
    return CNV_OK;
}

/* ReLU(max_value, negative_slope, threshold): Clip for ReLU6, LeakyRelu for a slope, and the
 * two together as min(leaky(x), max). A threshold would need a step function: refused. */
static cnv_status parse_relu(const parser *p, keras_layer *l, json_t *cfg) {
    json_t *max = json_object_get(cfg, "max_value");
    json_t *slope = json_object_get(cfg, "negative_slope");
    json_t *threshold = json_object_get(cfg, "threshold");
    double s = json_is_number(slope) ? json_number_value(slope) : 0.0;
    if (json_is_number(threshold) && json_number_value(threshold) != 0.0)
        return layer_fail(p, l, CNV_ERR_UNSUPPORTED, "a non-zero threshold");
    if (json_is_number(max) && json_number_value(max) <= 0.0) return layer_fail(p, l, CNV_ERR_UNSUPPORTED, "max_value <= 0");
    memset(&l->act, 0, sizeof l->act);
    l->act.op = s != 0.0 ? CNV_OP_LEAKYRELU : json_is_number(max) ? CNV_OP_CLIP : CNV_OP_RELU;
    l->act.alpha = (float)s;
    if (json_is_number(max)) {
        if (s != 0.0) l->act.cap = (float)json_number_value(max);
        else l->act.max = (float)json_number_value(max);
    }
    return CNV_OK;
}

/* Reshape's target_shape or Permute's dims (without the batch) into rank/shape. */
static cnv_status parse_dims(const parser *p, keras_layer *l, json_t *cfg, const char *key, int permutation) {
    json_t *v = json_object_get(cfg, key);
    size_t n = json_array_size(v);
    if (n != 1 && n != 3) return layer_fail(p, l, CNV_ERR_UNSUPPORTED, "a shape other than (features) or (H, W, C)");
    l->rank = (int)n;
    int seen = 0;
    for (int i = 0; i < l->rank; i++) {
        json_t *d = json_array_get(v, (size_t)i);
        l->shape[i] = json_is_integer(d) ? (int)json_integer_value(d) : 0;
        int ok = permutation ? l->shape[i] >= 1 && l->shape[i] <= 3 && !(seen & 1 << l->shape[i])
                             : l->shape[i] == -1 || (l->shape[i] >= 1 && l->shape[i] <= 1 << 24);
        if (!ok) return layer_fail(p, l, CNV_ERR_FORMAT, permutation ? "dims is not a permutation of 1, 2, 3" : "target_shape has a bad size");
        if (permutation) seen |= 1 << l->shape[i];
    }
    return CNV_OK;
}

static cnv_status parse_zero_padding(const parser *p, keras_layer *l, json_t *cfg) {
    json_t *v = json_object_get(cfg, "padding");
    if (json_is_integer(v)) {
        for (int i = 0; i < 4; i++) l->pads[i] = (int)json_integer_value(v);
        return CNV_OK;
    }
    if (json_is_array(v) && json_array_size(v) == 2) {
        for (int axis = 0; axis < 2; axis++) {
            json_t *a = json_array_get(v, (size_t)axis);
            if (json_is_integer(a)) {
                l->pads[2 * axis] = l->pads[2 * axis + 1] = (int)json_integer_value(a);
            } else if (json_is_array(a) && json_array_size(a) == 2) {
                l->pads[2 * axis] = int_of(json_array_get(a, 0), -1);
                l->pads[2 * axis + 1] = int_of(json_array_get(a, 1), -1);
            } else {
                l->pads[2 * axis] = -1;
            }
        }
        int ok = 1;
        for (int i = 0; i < 4; i++) ok &= l->pads[i] >= 0;
        if (ok) return CNV_OK;
    }
    return layer_fail(p, l, CNV_ERR_FORMAT, "padding is not n, [a, b] or [[top, bottom], [left, right]]");
}

static const struct {
    const char *class_name;
    keras_kind kind;
} layer_classes[] = {
    {"InputLayer", KL_INPUT},
    {"Conv2D", KL_CONV},
    {"Convolution2D", KL_CONV},
    {"Dense", KL_DENSE},
    {"MaxPooling2D", KL_MAXPOOL},
    {"MaxPool2D", KL_MAXPOOL},
    {"AveragePooling2D", KL_AVGPOOL},
    {"AvgPool2D", KL_AVGPOOL},
    {"GlobalAveragePooling2D", KL_GLOBALAVGPOOL},
    {"GlobalAvgPool2D", KL_GLOBALAVGPOOL},
    {"Flatten", KL_FLATTEN},
    {"Dropout", KL_DROPOUT},
    {"SpatialDropout2D", KL_DROPOUT},
    {"BatchNormalization", KL_BATCHNORM},
    {"Activation", KL_ACTIVATION},
    {"ReLU", KL_ACTIVATION},
    {"LeakyReLU", KL_ACTIVATION},
    {"ELU", KL_ACTIVATION},
    {"Softmax", KL_ACTIVATION},
    {"ZeroPadding2D", KL_ZEROPAD},
    {"Concatenate", KL_CONCAT},
    {"Add", KL_MERGE},
    {"Subtract", KL_MERGE},
    {"Multiply", KL_MERGE},
    {"Average", KL_MERGE},
    {"Maximum", KL_MERGE},
    {"Minimum", KL_MERGE},
    {"DepthwiseConv2D", KL_DEPTHWISE},
    {"SeparableConv2D", KL_SEPCONV},
    {"SeparableConvolution2D", KL_SEPCONV},
    {"GlobalMaxPooling2D", KL_GLOBALMAXPOOL},
    {"GlobalMaxPool2D", KL_GLOBALMAXPOOL},
    {"Reshape", KL_RESHAPE},
    {"Permute", KL_PERMUTE},
    {"Conv2DTranspose", KL_CONVT},
    {"Convolution2DTranspose", KL_CONVT},
    {"UpSampling2D", KL_UPSAMPLE},
    {"LayerNormalization", KL_LAYERNORM},
};

/* Reads the fields of one layer's config. */
static cnv_status parse_fields(const parser *p, keras_layer *l, json_t *cfg) {
    switch (l->kind) {
    case KL_INPUT: {
        json_t *shape = json_object_get(cfg, "batch_input_shape");
        if (!shape) shape = json_object_get(cfg, "batch_shape");
        if (!json_is_array(shape)) return layer_fail(p, l, CNV_ERR_FORMAT, "no batch_input_shape");
        return get_input_shape(p, l, shape);
    }
    case KL_CONV:
    case KL_DEPTHWISE:
    case KL_SEPCONV:
        CNV_TRY(check_channels_last(p, l, cfg));
        l->units = l->kind == KL_DEPTHWISE ? 1 : int_of(json_object_get(cfg, "filters"), 0);
        l->groups = int_of(json_object_get(cfg, "groups"), 1);
        l->depth_multiplier = int_of(json_object_get(cfg, "depth_multiplier"), 1);
        if (l->units < 1 || l->groups < 1 || l->units % l->groups || l->depth_multiplier < 1)
            return layer_fail(p, l, CNV_ERR_FORMAT, "filters/groups/depth_multiplier missing or inconsistent");
        CNV_TRY(get_pair(p, l, cfg, "kernel_size", l->kernel));
        CNV_TRY(get_pair(p, l, cfg, "strides", l->strides));
        CNV_TRY(get_pair(p, l, cfg, "dilation_rate", l->dilation));
        CNV_TRY(get_padding(p, l, cfg));
        l->use_bias = get_bool(cfg, "use_bias", 1);
        return get_activation(p, l, cfg);
    case KL_CONVT: {
        CNV_TRY(check_channels_last(p, l, cfg));
        l->units = int_of(json_object_get(cfg, "filters"), 0);
        l->groups = 1;
        if (l->units < 1) return layer_fail(p, l, CNV_ERR_FORMAT, "filters missing");
        CNV_TRY(get_pair(p, l, cfg, "kernel_size", l->kernel));
        CNV_TRY(get_pair(p, l, cfg, "strides", l->strides));
        CNV_TRY(get_pair(p, l, cfg, "dilation_rate", l->dilation));
        CNV_TRY(get_padding(p, l, cfg));
        json_t *op = json_object_get(cfg, "output_padding");
        l->output_padding[0] = l->output_padding[1] = -1;
        if (op && !json_is_null(op)) {
            for (int i = 0; i < 2; i++) {
                json_t *v = json_is_array(op) ? json_array_get(op, (size_t)i) : op;
                l->output_padding[i] = json_is_integer(v) ? (int)json_integer_value(v) : -2;
                if (l->output_padding[i] < 0 || l->output_padding[i] >= l->strides[i])
                    return layer_fail(p, l, CNV_ERR_FORMAT, "output_padding is not n or [a, b] below the strides");
            }
        }
        l->use_bias = get_bool(cfg, "use_bias", 1);
        return get_activation(p, l, cfg);
    }
    case KL_UPSAMPLE: {
        CNV_TRY(check_channels_last(p, l, cfg));
        l->kernel[0] = l->kernel[1] = 2;
        CNV_TRY(get_pair(p, l, cfg, "size", l->kernel));
        const char *interp = json_string_value(json_object_get(cfg, "interpolation"));
        l->bilinear = interp && !strcmp(interp, "bilinear");
        if (interp && !l->bilinear && strcmp(interp, "nearest") != 0)
            return layer_fail(p, l, CNV_ERR_UNSUPPORTED, "interpolation other than \"nearest\" or \"bilinear\"");
        return CNV_OK;
    }
    case KL_DENSE:
        l->units = int_of(json_object_get(cfg, "units"), 0);
        if (l->units < 1) return layer_fail(p, l, CNV_ERR_FORMAT, "units missing");
        l->use_bias = get_bool(cfg, "use_bias", 1);
        return get_activation(p, l, cfg);
    case KL_MAXPOOL:
    case KL_AVGPOOL:
        CNV_TRY(check_channels_last(p, l, cfg));
        l->kernel[0] = l->kernel[1] = 2;
        CNV_TRY(get_pair(p, l, cfg, "pool_size", l->kernel));
        l->strides[0] = l->kernel[0]; /* strides None means the pool size */
        l->strides[1] = l->kernel[1];
        CNV_TRY(get_pair(p, l, cfg, "strides", l->strides));
        return get_padding(p, l, cfg);
    case KL_GLOBALAVGPOOL:
    case KL_GLOBALMAXPOOL:
        l->keepdims = get_bool(cfg, "keepdims", 0);
        return check_channels_last(p, l, cfg);
    case KL_FLATTEN: return check_channels_last(p, l, cfg);
    case KL_DROPOUT: return CNV_OK;
    case KL_BATCHNORM: {
        json_t *eps = json_object_get(cfg, "epsilon");
        if (json_is_number(eps)) l->epsilon = (float)json_number_value(eps);
        l->center = get_bool(cfg, "center", 1);
        l->scale = get_bool(cfg, "scale", 1);
        json_t *axis = json_object_get(cfg, "axis");
        if (json_is_array(axis) && json_array_size(axis) != 1)
            return layer_fail(p, l, CNV_ERR_UNSUPPORTED, "normalization over several axes");
        l->axis = int_of(axis, -1);
        return CNV_OK;
    }
    case KL_ACTIVATION:
        if (!strcmp(l->class_name, "Activation")) return get_activation(p, l, cfg);
        if (!strcmp(l->class_name, "ReLU")) return parse_relu(p, l, cfg);
        if (!strcmp(l->class_name, "Softmax")) {
            if (int_of(json_object_get(cfg, "axis"), -1) != -1)
                return layer_fail(p, l, CNV_ERR_UNSUPPORTED, "softmax over an axis other than the channels");
            l->act.op = CNV_OP_SOFTMAX;
            return CNV_OK;
        }
        {
            /* LeakyReLU (alpha, Keras 3: negative_slope) and ELU (alpha). */
            int leaky = !strcmp(l->class_name, "LeakyReLU");
            json_t *alpha = json_object_get(cfg, "alpha");
            if (!alpha) alpha = json_object_get(cfg, "negative_slope");
            l->act.op = leaky ? CNV_OP_LEAKYRELU : CNV_OP_ELU;
            l->act.alpha = json_is_number(alpha) ? (float)json_number_value(alpha) : leaky ? 0.3f : 1.0f;
            return CNV_OK;
        }
    case KL_ZEROPAD:
        CNV_TRY(check_channels_last(p, l, cfg));
        return parse_zero_padding(p, l, cfg);
    case KL_CONCAT: l->axis = int_of(json_object_get(cfg, "axis"), -1); return CNV_OK;
    case KL_MERGE:
        l->merge_op = !strcmp(l->class_name, "Subtract")  ? CNV_OP_SUB
                      : !strcmp(l->class_name, "Multiply") ? CNV_OP_MUL
                      : !strcmp(l->class_name, "Maximum")  ? CNV_OP_MAX
                      : !strcmp(l->class_name, "Minimum")  ? CNV_OP_MIN
                                                           : CNV_OP_ADD;
        l->average = !strcmp(l->class_name, "Average");
        return CNV_OK;
    case KL_LAYERNORM: return parse_layernorm(p, l, cfg);
    case KL_RESHAPE: return parse_dims(p, l, cfg, "target_shape", 0);
    case KL_PERMUTE: return parse_dims(p, l, cfg, "dims", 1);
    }
    return CNV_OK;
}

static cnv_status add_input_name(const parser *p, keras_layer *l, const char *name) {
    if (l->n_in == KERAS_MAX_INPUTS) return layer_fail(p, l, CNV_ERR_UNSUPPORTED, "more than 8 inputs");
    if (!(l->inputs[l->n_in] = cnv_strdup(name))) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", p->path);
    l->n_in++;
    return CNV_OK;
}

/* One inbound tensor reference [name, node_index, tensor_index, ...]. */
static cnv_status add_history(const parser *p, keras_layer *l, json_t *ref) {
    const char *name = json_string_value(json_array_get(ref, 0));
    if (!name) return layer_fail(p, l, CNV_ERR_FORMAT, "malformed inbound_nodes");
    if (int_of(json_array_get(ref, 1), 0) != 0 || int_of(json_array_get(ref, 2), 0) != 0)
        return layer_fail(p, l, CNV_ERR_UNSUPPORTED, "reads a shared layer's second call or a second output");
    return add_input_name(p, l, name);
}

/* Keras 3 call arguments: every keras_history found, in order. */
static cnv_status add_keras3_args(const parser *p, keras_layer *l, json_t *v) {
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) CNV_TRY(add_keras3_args(p, l, json_array_get(v, i)));
    } else if (json_is_object(v)) {
        json_t *history = json_object_get(json_object_get(v, "config"), "keras_history");
        if (json_is_array(history)) return add_history(p, l, history);
    }
    return CNV_OK;
}

static cnv_status parse_inbound(const parser *p, keras_layer *l, json_t *inbound) {
    size_t calls = json_array_size(inbound);
    if (calls == 0) return CNV_OK;
    if (calls > 1) return layer_fail(p, l, CNV_ERR_UNSUPPORTED, "is called several times (shared layers)");
    json_t *node = json_array_get(inbound, 0);
    if (json_is_object(node)) return add_keras3_args(p, l, json_object_get(node, "args"));
    if (!json_is_array(node)) return layer_fail(p, l, CNV_ERR_FORMAT, "malformed inbound_nodes");
    for (size_t i = 0; i < json_array_size(node); i++) CNV_TRY(add_history(p, l, json_array_get(node, i)));
    return CNV_OK;
}

static keras_kind kind_of(const char *class_name, int *known) {
    for (size_t i = 0; i < sizeof layer_classes / sizeof layer_classes[0]; i++)
        if (!strcmp(class_name, layer_classes[i].class_name)) {
            *known = 1;
            return layer_classes[i].kind;
        }
    *known = 0;
    return KL_INPUT;
}

/* One entry of config.layers. */
static cnv_status parse_layer(const parser *p, json_t *entry, int functional) {
    const char *class_name = json_string_value(json_object_get(entry, "class_name"));
    json_t *cfg = json_object_get(entry, "config");
    const char *name = json_string_value(json_object_get(cfg, "name"));
    if (!name) name = json_string_value(json_object_get(entry, "name"));
    if (!class_name || !json_is_object(cfg) || !name)
        return cnv_fail(CNV_ERR_FORMAT, "%s: model_config has a layer without class_name, config or name", p->path);
    int known;
    keras_kind kind = kind_of(class_name, &known);
    if (!known) return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: layer '%s' (%s) is not supported", p->path, name, class_name);

    /* Sequential without an InputLayer: the first layer's batch_input_shape makes one, named
     * the way Keras names it. */
    json_t *shape = json_object_get(cfg, "batch_input_shape");
    if (!functional && p->m->n == 0 && kind != KL_INPUT) {
        if (!json_is_array(shape))
            return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: the Sequential model has no input shape (no InputLayer, no batch_input_shape)", p->path);
        char input_name[512];
        snprintf(input_name, sizeof input_name, "%s_input", name);
        keras_layer *in = keras_model_add(p->m, input_name, "InputLayer", KL_INPUT);
        if (!in) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", p->path);
        CNV_TRY(get_input_shape(p, in, shape));
    }
    keras_layer *l = keras_model_add(p->m, name, class_name, kind);
    if (!l) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", p->path);
    CNV_TRY(parse_fields(p, l, cfg));
    if (functional) return parse_inbound(p, l, json_object_get(entry, "inbound_nodes"));
    if (kind == KL_INPUT) {
        if (p->m->n > 1) return layer_fail(p, l, CNV_ERR_FORMAT, "InputLayer in the middle of a Sequential model");
        return CNV_OK;
    }
    return add_input_name(p, l, p->m->layers[p->m->n - 2].name);
}

/* input_layers/output_layers: [["name", 0, 0], ...] or, for one tensor in Keras 3, ["name", 0, 0]. */
static cnv_status single_endpoint(const parser *p, json_t *list, const char *what, const char **name) {
    if (json_is_string(json_array_get(list, 0))) list = json_pack("[O]", list);
    else json_incref(list);
    size_t n = json_array_size(list);
    *name = json_string_value(json_array_get(json_array_get(list, 0), 0));
    json_decref(list); /* the name still belongs to the document */
    if (!*name) return cnv_fail(CNV_ERR_FORMAT, "%s: model_config has malformed %s", p->path, what);
    if (n != 1) return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: models with %zu %s are not supported (only one)", p->path, n, what);
    return CNV_OK;
}

static cnv_status parse_root(const parser *p, json_t *root) {
    const char *cls = json_string_value(json_object_get(root, "class_name"));
    json_t *cfg = json_object_get(root, "config");
    if (!cls || !cfg) return cnv_fail(CNV_ERR_FORMAT, "%s: model_config has no class_name/config", p->path);
    int functional = !strcmp(cls, "Functional") || !strcmp(cls, "Model");
    if (!functional && strcmp(cls, "Sequential") != 0)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: model class '%s' is not supported (Sequential, Functional or Model)", p->path, cls);
    json_t *layers = json_is_array(cfg) ? cfg : json_object_get(cfg, "layers");
    if (!json_is_array(layers) || json_array_size(layers) == 0)
        return cnv_fail(CNV_ERR_FORMAT, "%s: model_config has no layers", p->path);
    for (size_t i = 0; i < json_array_size(layers); i++) CNV_TRY(parse_layer(p, json_array_get(layers, i), functional));
    if (!functional) return CNV_OK;
    const char *in_name, *out_name;
    CNV_TRY(single_endpoint(p, json_object_get(cfg, "input_layers"), "inputs", &in_name));
    CNV_TRY(single_endpoint(p, json_object_get(cfg, "output_layers"), "outputs", &out_name));
    if (!(p->m->output = cnv_strdup(out_name))) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", p->path);
    return CNV_OK;
}

cnv_status keras_config_parse(const char *path, const char *json_text, keras_model *m) {
    json_error_t err;
    json_t *root = json_loads(json_text, 0, &err);
    if (!root) return cnv_fail(CNV_ERR_FORMAT, "%s: model_config is not valid JSON (line %d: %s)", path, err.line, err.text);
    parser p = {path, m};
    cnv_status st = parse_root(&p, root);
    json_decref(root);
    return st;
}
