/* The op descriptors (op_list.h) as a table, op names both ways, and default attributes. */
#include "op.h"

#include <stdint.h>
#include <string.h>

static const cnv_op_desc op_descs[CNV_OP_COUNT] = {
#define CNV_OP_DESC(id, name, keras, min_in, max_in, onnx_in, shape, elementwise, flags, attrs) \
    [CNV_OP_##id] = {name, keras, min_in, max_in, onnx_in, CNV_SHAPE_##shape, elementwise, flags, attrs},
    CNV_OP_LIST(CNV_OP_DESC)
#undef CNV_OP_DESC
};

/* Each elementwise op's number lies in its kernel's range (shaders/elementwise_ops.h): unary ops
 * are those whose output has their input's shape, binary ones those that broadcast. */
#define CNV_OP_CHECK_NUMBER(id, name, keras, min_in, max_in, onnx_in, shape, elementwise, flags, attrs)         \
    _Static_assert(CNV_SHAPE_##shape != CNV_SHAPE_SAME || (elementwise) < CNV_UNARY_COUNT,                       \
                   #id ": unary number out of range");                                                         \
    _Static_assert(CNV_SHAPE_##shape == CNV_SHAPE_SAME || (elementwise) < CNV_BINARY_COUNT,                      \
                   #id ": binary number out of range");                                                        \
    _Static_assert((min_in) >= 1 && (min_in) <= (max_in) && (max_in) <= CNV_MAX_INPUTS, #id ": arity");
CNV_OP_LIST(CNV_OP_CHECK_NUMBER)
#undef CNV_OP_CHECK_NUMBER
_Static_assert(CNV_MAX_INPUTS >= 49, "DenseNet-201's last dense block concatenates 49 tensors");

const cnv_op_desc *cnv_op_desc_of(cnv_op_type op) {
    if ((int)op < 0 || op >= CNV_OP_COUNT) return NULL;
    return &op_descs[op];
}

int cnv_op_unary_number(cnv_op_type op) {
    const cnv_op_desc *d = cnv_op_desc_of(op);
    return d && d->elementwise >= 0 && d->shape == CNV_SHAPE_SAME ? d->elementwise : -1;
}

int cnv_op_binary_number(cnv_op_type op) {
    const cnv_op_desc *d = cnv_op_desc_of(op);
    return d && d->elementwise >= 0 && d->shape != CNV_SHAPE_SAME ? d->elementwise : -1;
}

int cnv_word_in_list(const char *list, const char *word) {
    const size_t len = strlen(word);
    while (list && *list) {
        const char *end = strchr(list, ' ');
        const size_t n = end ? (size_t)(end - list) : strlen(list);
        if (n == len && strncmp(list, word, n) == 0) return 1;
        list = end ? end + 1 : NULL;
    }
    return 0;
}

const char *cnv_op_name(cnv_op_type op) {
    if ((int)op < 0 || op >= CNV_OP_COUNT) return "?";
    return op_descs[op].name;
}

cnv_op_type cnv_op_from_name(const char *name) {
    /* Only ONNX ops: the image-space ops are not part of model files. */
    for (int i = 0; i < CNV_OP_COUNT; i++)
        if (!(op_descs[i].flags & CNV_OPF_IMAGE) && strcmp(op_descs[i].name, name) == 0) return (cnv_op_type)i;
    /* Upsample (opsets 7-9) is Resize with legacy defaults (models/onnx_attrs.c). */
    if (strcmp(name, "Upsample") == 0) return CNV_OP_RESIZE;
    return CNV_OP_COUNT;
}

cnv_op_type cnv_op_from_keras(const char *name) {
    for (int i = 0; i < CNV_OP_COUNT; i++)
        if (cnv_word_in_list(op_descs[i].keras, name)) return (cnv_op_type)i;
    return CNV_OP_COUNT;
}

void cnv_unary_params(cnv_op_type op, const cnv_attrs *a, float p[2]) {
    p[0] = p[1] = 0.0f;
    switch (op) {
    case CNV_OP_LEAKYRELU:
    case CNV_OP_ELU: p[0] = a->alpha; break;
    case CNV_OP_CLIP: p[0] = a->min; p[1] = a->max; break;
    case CNV_OP_HARDSIGMOID: p[0] = a->alpha; p[1] = a->beta; break;
    case CNV_OP_GELU: p[0] = (float)a->approximate; break;
    default: break;
    }
}

float cnv_resize_scale(const cnv_attrs *a, int axis, int in, int out) {
    return a->resize_scale[axis] > 0.0f ? a->resize_scale[axis] : (float)out / (float)in;
}

void cnv_attrs_default(cnv_op_type op, cnv_attrs *a) {
    memset(a, 0, sizeof *a);
    a->stride[0] = a->stride[1] = 1;
    a->dilation[0] = a->dilation[1] = 1;
    a->group = 1;
    a->axis = 1;
    a->min = -3.4028234663852886e38f;
    a->max = 3.4028234663852886e38f;
    /* Transpose: identity until set. ONNX's default (reversed dims) depends on the input's rank
     * and is filled in by the importer. */
    for (int k = 0; k < CNV_MAX_DIMS; k++) {
        a->perm[k] = k;
        a->slice_end[k] = INT32_MAX; /* Slice: every dim whole until set */
        a->slice_step[k] = 1;
    }
    switch (op) {
    case CNV_OP_LEAKYRELU: a->alpha = 0.01f; break;
    case CNV_OP_ELU: a->alpha = 1.0f; break;
    case CNV_OP_HARDSIGMOID: a->alpha = 0.2f; a->beta = 0.5f; break;
    case CNV_OP_GEMM: a->alpha = 1.0f; a->beta = 1.0f; break;
    case CNV_OP_LRN: a->alpha = 1e-4f; a->beta = 0.75f; a->bias = 1.0f; break;
    case CNV_OP_SOFTMAX: a->axis = -1; break;
    /* ONNX without axes: every dim (the bits past the input's rank are ignored). */
    case CNV_OP_REDUCEMEAN:
    case CNV_OP_REDUCESUM:
    case CNV_OP_REDUCEMAX: a->reduce_axes = (1 << CNV_MAX_DIMS) - 1; a->keepdims = 1; break;
    case CNV_OP_FOURIER: a->decay = 1.0f; break;
    case CNV_OP_REGULARIZE: a->tv_beta = 2.0f; break;
    case CNV_OP_GRADNORM: a->eps = 1e-8f; break;
    case CNV_OP_BLUR: a->sigma = 1.0f; break;
    case CNV_OP_SQDIST: a->alpha = 1.0f; break;
    default: break;
    }
}
