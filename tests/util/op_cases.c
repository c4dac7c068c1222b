/* The op-suite case tables (tests/util/op_cases.h). Random shapes with odd sizes, some spanning
 * many workgroups; inputs of ops with kinks are drawn away from the kinks so that the finite
 * differences are exact (the kink conventions themselves are checked in test_ops_misc.c). */
#include "op_cases.h"

#include <stdio.h>
#include <string.h>

tu_opcase tu_make_case(const char *label, cnv_op_type op, float lo, float hi, int n_in, const cnv_shape *shapes) {
    tu_opcase c;
    memset(&c, 0, sizeof c);
    c.label = label;
    c.op = op;
    cnv_attrs_default(op, &c.attrs);
    c.n_in = n_in;
    for (int i = 0; i < n_in; i++) c.in_shape[i] = shapes[i];
    c.lo = lo;
    c.hi = hi;
    return c;
}

/* Copies a table's cases out; returns their count. */
static size_t keep(tu_opcase *out, const tu_opcase *cases, size_t n) {
    memcpy(out, cases, n * sizeof *cases);
    return n;
}

#define PADS(...) ((const int[8]){__VA_ARGS__})

/* The last n_weights inputs are weights (initializers): their gradient is checked separately. */
static tu_opcase as_weights(tu_opcase c, int n_weights) {
    c.n_weights = n_weights;
    return c;
}

static tu_opcase with_alpha(tu_opcase c, float alpha) {
    c.attrs.alpha = alpha;
    return c;
}

static tu_opcase with_clip(tu_opcase c, float min, float max) {
    c.attrs.min = min;
    c.attrs.max = max;
    return c;
}

static tu_opcase with_axis(tu_opcase c, int axis) {
    c.attrs.axis = axis;
    return c;
}

static tu_opcase with_shape(tu_opcase c, int n, int d0, int d1, int d2) {
    c.attrs.shape_n = n;
    c.attrs.shape[0] = d0;
    c.attrs.shape[1] = d1;
    c.attrs.shape[2] = d2;
    return c;
}

/* pads: begins of dims 0..3, then ends of dims 0..3 (unused dims stay 0). */
static tu_opcase with_pads(tu_opcase c, cnv_pad_mode mode, float value, const int pads[8]) {
    c.attrs.pad_mode = mode;
    c.attrs.pad_value = value;
    for (int k = 0; k < 4; k++) cnv_pad_set(&c.attrs, k, pads[k], pads[4 + k]);
    return c;
}

static tu_opcase with_lrn(tu_opcase c, int size, float alpha, float beta, float bias) {
    c.attrs.size = size;
    c.attrs.alpha = alpha;
    c.attrs.beta = beta;
    c.attrs.bias = bias;
    return c;
}

static tu_opcase with_softmax(tu_opcase c, int axis, int legacy) {
    c.attrs.axis = axis;
    c.attrs.softmax_legacy = legacy;
    return c;
}

/* Every permutation of n dims, in lexicographic order, into perms; returns their count. */
static int all_perms(int n, int perms[][CNV_MAX_DIMS]) {
    int count = 0, total = 1;
    for (int k = 0; k < n; k++) total *= n;
    for (int code = 0; code < total; code++) {
        int p[CNV_MAX_DIMS], used = 0, c = code;
        for (int k = n - 1; k >= 0; k--, c /= n) p[k] = c % n;
        for (int k = 0; k < n; k++) used |= 1 << p[k];
        if (used != (1 << n) - 1) continue;
        for (int k = 0; k < CNV_MAX_DIMS; k++) perms[count][k] = k < n ? p[k] : k;
        count++;
    }
    return count;
}

/* Kinked ops run once on each side of the kink (and, for Clip, strictly inside). */
static size_t activations_cases(tu_opcase *out) {
    const tu_opcase cases[] = {
        CASE("Relu 1x3x7x5 x>0", CNV_OP_RELU, 0.05f, 1.0f, S4(1, 3, 7, 5)),
        CASE("Relu 3x7 x<0", CNV_OP_RELU, -1.0f, -0.05f, S2(3, 7)),
        with_alpha(CASE("LeakyRelu(0.1) 2x5x3x3 x<0", CNV_OP_LEAKYRELU, -1.0f, -0.05f, S4(2, 5, 3, 3)), 0.1f),
        with_alpha(CASE("LeakyRelu(0.1) 3x7 x>0", CNV_OP_LEAKYRELU, 0.05f, 1.0f, S2(3, 7)), 0.1f),
        CASE("LeakyRelu(default) 1x3x7x5 x<0", CNV_OP_LEAKYRELU, -2.0f, -0.05f, S4(1, 3, 7, 5)),
        with_clip(CASE("Clip(-0.4,0.6) 1x3x7x5 inside", CNV_OP_CLIP, -0.35f, 0.55f, S4(1, 3, 7, 5)), -0.4f, 0.6f),
        with_clip(CASE("Clip(-0.4,0.6) 2x5x3x3 below", CNV_OP_CLIP, -1.0f, -0.45f, S4(2, 5, 3, 3)), -0.4f, 0.6f),
        with_clip(CASE("Clip(-0.4,0.6) 3x7 above", CNV_OP_CLIP, 0.65f, 1.5f, S2(3, 7)), -0.4f, 0.6f),
        with_clip(CASE("Clip(0,6) (ReLU6) 2x5x3x3 inside", CNV_OP_CLIP, 0.05f, 5.95f, S4(2, 5, 3, 3)), 0.0f, 6.0f),
        CASE("Sigmoid 1x3x7x5", CNV_OP_SIGMOID, -4.0f, 4.0f, S4(1, 3, 7, 5)),
        CASE("Sigmoid 3x7", CNV_OP_SIGMOID, -2.0f, 2.0f, S2(3, 7)),
        CASE("Tanh 2x5x3x3", CNV_OP_TANH, -2.0f, 2.0f, S4(2, 5, 3, 3)),
        CASE("Tanh 3x7", CNV_OP_TANH, -1.0f, 1.0f, S2(3, 7)),
        with_alpha(CASE("Elu(0.7) 1x3x7x5 x<0", CNV_OP_ELU, -2.0f, -0.05f, S4(1, 3, 7, 5)), 0.7f),
        with_alpha(CASE("Elu(0.7) 3x7 x>0", CNV_OP_ELU, 0.05f, 1.0f, S2(3, 7)), 0.7f),
        CASE("Elu(1) 2x5x3x3 mixed", CNV_OP_ELU, -1.0f, 1.0f, S4(2, 5, 3, 3)),
    };
    return keep(out, cases, sizeof cases / sizeof cases[0]);
}

static size_t add_cases(tu_opcase *out) {
    const tu_opcase cases[] = {
        CASE("2x3x4x5 + 2x3x4x5", CNV_OP_ADD, 0, 0, S4(2, 3, 4, 5), S4(2, 3, 4, 5)),
        CASE("2x3x4x5 + 3x1x1", CNV_OP_ADD, 0, 0, S4(2, 3, 4, 5), S3(3, 1, 1)),
        CASE("1x3x7x5 + 1x3x1x1", CNV_OP_ADD, 0, 0, S4(1, 3, 7, 5), S4(1, 3, 1, 1)),
        CASE("2x5x3x3 + 3 (last dim)", CNV_OP_ADD, 0, 0, S4(2, 5, 3, 3), S1(3)),
        CASE("2x5x3x3 + 1 (scalar-like)", CNV_OP_ADD, 0, 0, S4(2, 5, 3, 3), S1(1)),
        CASE("1 + 1x3x7x5 (left side broadcast)", CNV_OP_ADD, 0, 0, S1(1), S4(1, 3, 7, 5)),
        CASE("2x1x4x1 + 1x3x1x5 (both broadcast)", CNV_OP_ADD, 0, 0, S4(2, 1, 4, 1), S4(1, 3, 1, 5)),
        CASE("3x7 + 3x7", CNV_OP_ADD, 0, 0, S2(3, 7), S2(3, 7)),
        CASE("3x7 + 7", CNV_OP_ADD, 0, 0, S2(3, 7), S1(7)),
        CASE("3x1 + 1x7", CNV_OP_ADD, 0, 0, S2(3, 1), S2(1, 7)),
        CASE("2x16x20x21 + 16x1x1 (many workgroups)", CNV_OP_ADD, 0, 0, S4(2, 16, 20, 21), S3(16, 1, 1)),
        as_weights(CASE("2x16x9x7 + bias weight 16x1x1", CNV_OP_ADD, 0, 0, S4(2, 16, 9, 7), S3(16, 1, 1)), 1),
    };
    return keep(out, cases, sizeof cases / sizeof cases[0]);
}

static size_t concat_cases(tu_opcase *out) {
    const tu_opcase cases[] = {
        with_axis(CASE("axis 1: 1x3x4x5 | 1x2x4x5", CNV_OP_CONCAT, 0, 0, S4(1, 3, 4, 5), S4(1, 2, 4, 5)), 1),
        with_axis(CASE("axis 1: 2x1x3x3 | 2x4x3x3 | 2x2x3x3", CNV_OP_CONCAT, 0, 0, S4(2, 1, 3, 3), S4(2, 4, 3, 3),
                       S4(2, 2, 3, 3)),
                  1),
        with_axis(CASE("axis 1: four 1xCx7x5", CNV_OP_CONCAT, 0, 0, S4(1, 3, 7, 5), S4(1, 1, 7, 5), S4(1, 2, 7, 5),
                       S4(1, 3, 7, 5)),
                  1),
        with_axis(CASE("axis 0: 1x3x4x5 | 2x3x4x5", CNV_OP_CONCAT, 0, 0, S4(1, 3, 4, 5), S4(2, 3, 4, 5)), 0),
        with_axis(CASE("axis 2: 2x3x1x5 | 2x3x4x5 | 2x3x2x5", CNV_OP_CONCAT, 0, 0, S4(2, 3, 1, 5), S4(2, 3, 4, 5),
                       S4(2, 3, 2, 5)),
                  2),
        with_axis(CASE("axis 3: 2x3x3x2 | 2x3x3x5", CNV_OP_CONCAT, 0, 0, S4(2, 3, 3, 2), S4(2, 3, 3, 5)), 3),
        with_axis(CASE("axis 1: 3x2 | 3x5 | 3x1 | 3x3", CNV_OP_CONCAT, 0, 0, S2(3, 2), S2(3, 5), S2(3, 1), S2(3, 3)),
                  1),
        with_axis(CASE("axis 0: 2x7 | 3x7", CNV_OP_CONCAT, 0, 0, S2(2, 7), S2(3, 7)), 0),
        with_axis(CASE("one input 2x3x3", CNV_OP_CONCAT, 0, 0, S3(2, 3, 3)), 1),
        with_axis(CASE("axis 1: 2x{7,3,5,1}x9x11 (many workgroups)", CNV_OP_CONCAT, 0, 0, S4(2, 7, 9, 11),
                       S4(2, 3, 9, 11), S4(2, 5, 9, 11), S4(2, 1, 9, 11)),
                  1),
    };
    return keep(out, cases, sizeof cases / sizeof cases[0]);
}

static tu_opcase with_shape5(tu_opcase c, int d0, int d1, int d2, int d3, int d4) {
    const int target[5] = {d0, d1, d2, d3, d4};
    c.attrs.shape_n = 5;
    memcpy(c.attrs.shape, target, sizeof target);
    return c;
}

static size_t copy_ops_cases(tu_opcase *out) {
    const tu_opcase cases[] = {
        with_axis(CASE("Flatten axis 1 2x3x4x5", CNV_OP_FLATTEN, 0, 0, S4(2, 3, 4, 5)), 1),
        with_axis(CASE("Flatten axis 2 1x3x7x5", CNV_OP_FLATTEN, 0, 0, S4(1, 3, 7, 5)), 2),
        with_shape(CASE("Reshape 2x3x4x5 -> (0,-1)", CNV_OP_RESHAPE, 0, 0, S4(2, 3, 4, 5)), 2, 0, -1, 0),
        with_shape(CASE("Reshape 2x5x3x3 -> (5,-1,6)", CNV_OP_RESHAPE, 0, 0, S4(2, 5, 3, 3)), 3, 5, -1, 6),
        CASE("Dropout 1x3x7x5", CNV_OP_DROPOUT, 0, 0, S4(1, 3, 7, 5)),
        CASE("Dropout 3x7", CNV_OP_DROPOUT, 0, 0, S2(3, 7)),
        with_axis(CASE("Flatten axis 1 2x16x9x11 (many workgroups)", CNV_OP_FLATTEN, 0, 0, S4(2, 16, 9, 11)), 1),
        with_axis(CASE("Flatten axis 2 5-D 2x2x3x5x4", CNV_OP_FLATTEN, 0, 0, S5(2, 2, 3, 5, 4)), 2),
        with_shape5(CASE("Reshape 2x6x5x4 -> (0,2,-1,5,4) (5-D)", CNV_OP_RESHAPE, 0, 0, S4(2, 6, 5, 4)), 0, 2, -1, 5, 4),
    };
    return keep(out, cases, sizeof cases / sizeof cases[0]);
}

static size_t pad_cases(tu_opcase *out) {
    const tu_opcase cases[] = {
        with_pads(CASE("constant 1x3x7x5 HW asym", CNV_OP_PAD, 0, 0, S4(1, 3, 7, 5)), CNV_PAD_CONSTANT, 0.0f,
                  PADS(0, 0, 2, 1, 0, 0, 1, 3)),
        with_pads(CASE("constant 0.25 2x5x3x3 all dims", CNV_OP_PAD, 0, 0, S4(2, 5, 3, 3)), CNV_PAD_CONSTANT, 0.25f,
                  PADS(1, 0, 2, 1, 0, 2, 0, 3)),
        with_pads(CASE("constant crop 2x3x6x7 (negative pads)", CNV_OP_PAD, 0, 0, S4(2, 3, 6, 7)), CNV_PAD_CONSTANT,
                  0.5f, PADS(0, -1, -2, 2, 0, 1, 1, -3)),
        with_pads(CASE("reflect 2x3x5x6 HW asym", CNV_OP_PAD, 0, 0, S4(2, 3, 5, 6)), CNV_PAD_REFLECT, 0.0f,
                  PADS(0, 0, 2, 1, 0, 0, 4, 5)),
        with_pads(CASE("reflect 1x4x3x7 C and W", CNV_OP_PAD, 0, 0, S4(1, 4, 3, 7)), CNV_PAD_REFLECT, 0.0f,
                  PADS(0, 3, 0, 1, 0, 1, 0, 6)),
        with_pads(CASE("edge 1x2x4x5 all dims", CNV_OP_PAD, 0, 0, S4(1, 2, 4, 5)), CNV_PAD_EDGE, 0.0f,
                  PADS(0, 1, 3, 0, 1, 0, 1, 4)),
        with_pads(CASE("edge 2x3x1x3 (unit H)", CNV_OP_PAD, 0, 0, S4(2, 3, 1, 3)), CNV_PAD_EDGE, 0.0f,
                  PADS(0, 0, 2, 3, 0, 0, 1, 1)),
        with_pads(CASE("reflect 3x7 (2-D)", CNV_OP_PAD, 0, 0, S2(3, 7)), CNV_PAD_REFLECT, 0.0f,
                  PADS(1, 2, 0, 0, 2, 0, 0, 0)),
        with_pads(CASE("edge crop 3x7 (2-D)", CNV_OP_PAD, 0, 0, S2(3, 7)), CNV_PAD_EDGE, 0.0f,
                  PADS(-1, 2, 0, 0, 2, -3, 0, 0)),
        with_pads(CASE("reflect 1x3x17x13 (many workgroups)", CNV_OP_PAD, 0, 0, S4(1, 3, 17, 13)), CNV_PAD_REFLECT,
                  0.0f, PADS(0, 1, 4, 12, 0, 2, 16, 3)),
        with_pads(CASE("edge 1x3x17x13 crop and wide pads", CNV_OP_PAD, 0, 0, S4(1, 3, 17, 13)), CNV_PAD_EDGE, 0.0f,
                  PADS(0, 0, -3, 9, 0, 0, 20, -2)),
        with_pads(CASE("constant -1 1x3x17x13", CNV_OP_PAD, 0, 0, S4(1, 3, 17, 13)), CNV_PAD_CONSTANT, -1.0f,
                  PADS(0, 0, 5, 1, 0, 1, 2, 7)),
    };
    return keep(out, cases, sizeof cases / sizeof cases[0]);
}

/* Large alpha so that the normalization term matters at these input magnitudes. */
static size_t lrn_cases(tu_opcase *out) {
    const tu_opcase cases[] = {
        with_lrn(CASE("size 3 1x5x4x3", CNV_OP_LRN, -2.0f, 2.0f, S4(1, 5, 4, 3)), 3, 0.5f, 0.75f, 1.0f),
        with_lrn(CASE("size 5 2x7x3x3", CNV_OP_LRN, -2.0f, 2.0f, S4(2, 7, 3, 3)), 5, 1.0f, 0.75f, 2.0f),
        with_lrn(CASE("size 2 1x3x7x5", CNV_OP_LRN, -2.0f, 2.0f, S4(1, 3, 7, 5)), 2, 0.8f, 0.5f, 1.0f),
        with_lrn(CASE("size 4 2x6x2x3", CNV_OP_LRN, -2.0f, 2.0f, S4(2, 6, 2, 3)), 4, 0.9f, 1.2f, 1.5f),
        with_lrn(CASE("size 5 > C 1x3x3x2", CNV_OP_LRN, -2.0f, 2.0f, S4(1, 3, 3, 2)), 5, 1.0f, 0.75f, 1.0f),
        with_lrn(CASE("size 5 AlexNet attrs 1x8x3x3", CNV_OP_LRN, -20.0f, 20.0f, S4(1, 8, 3, 3)), 5, 1e-4f, 0.75f,
                 1.0f),
    };
    return keep(out, cases, sizeof cases / sizeof cases[0]);
}

static size_t softmax_cases(tu_opcase *out) {
    const tu_opcase cases[] = {
        with_softmax(CASE("opset13 axis 1 3x7", CNV_OP_SOFTMAX, -3.0f, 3.0f, S2(3, 7)), 1, 0),
        with_softmax(CASE("opset13 axis 0 3x7", CNV_OP_SOFTMAX, -3.0f, 3.0f, S2(3, 7)), 0, 0),
        with_softmax(CASE("opset13 axis 1 2x5x3x3", CNV_OP_SOFTMAX, -3.0f, 3.0f, S4(2, 5, 3, 3)), 1, 0),
        with_softmax(CASE("opset13 axis 2 1x3x7x5", CNV_OP_SOFTMAX, -3.0f, 3.0f, S4(1, 3, 7, 5)), 2, 0),
        with_softmax(CASE("opset13 axis 3 1x3x7x5", CNV_OP_SOFTMAX, -3.0f, 3.0f, S4(1, 3, 7, 5)), 3, 0),
        with_softmax(CASE("legacy axis 1 3x7", CNV_OP_SOFTMAX, -3.0f, 3.0f, S2(3, 7)), 1, 1),
        with_softmax(CASE("legacy axis 1 2x5x3x3", CNV_OP_SOFTMAX, -3.0f, 3.0f, S4(2, 5, 3, 3)), 1, 1),
        with_softmax(CASE("legacy axis 2 1x3x7x5", CNV_OP_SOFTMAX, -3.0f, 3.0f, S4(1, 3, 7, 5)), 2, 1),
        with_softmax(CASE("legacy axis 0 2x3x4", CNV_OP_SOFTMAX, -3.0f, 3.0f, S3(2, 3, 4)), 0, 1),
    };
    return keep(out, cases, sizeof cases / sizeof cases[0]);
}

static size_t batchnorm_cases(tu_opcase *out) {
    const tu_opcase cases[] = {
        as_weights(CASE("1x3x7x5", CNV_OP_BATCHNORM, 0, 0, S4(1, 3, 7, 5), S1(3), S1(3)), 2),
        as_weights(CASE("2x5x3x3", CNV_OP_BATCHNORM, 0, 0, S4(2, 5, 3, 3), S1(5), S1(5)), 2),
        as_weights(CASE("3x7 ([N, C])", CNV_OP_BATCHNORM, 0, 0, S2(3, 7), S1(7), S1(7)), 2),
        as_weights(CASE("2x5x17x13 (several workgroups a channel)", CNV_OP_BATCHNORM, 0, 0, S4(2, 5, 17, 13), S1(5),
                        S1(5)),
                   2),
        as_weights(CASE("1x40x3x3 (many channels)", CNV_OP_BATCHNORM, 0, 0, S4(1, 40, 3, 3), S1(40), S1(40)), 2),
    };
    return keep(out, cases, sizeof cases / sizeof cases[0]);
}

/* Every permutation of a 4-D, 3-D and 2-D tensor whose dims all differ (a wrong dim order
 * cannot go unnoticed), NCHW <-> NHWC on tensors spanning several workgroups, ShuffleNet's 5-D
 * channel shuffle and a 6-D permutation. */
static size_t transpose_cases(tu_opcase *out) {
    enum { MAX_CASES = 24 + 6 + 2 + 4 };
    static tu_opcase cases[MAX_CASES];
    static char labels[MAX_CASES][64];
    static const cnv_shape shapes[] = {S2(5, 7), S3(3, 5, 7), S4(2, 3, 5, 7)};
    int n = 0;
    for (int s = 0; s < 3; s++) {
        const cnv_shape *x = &shapes[s];
        int perms[24][CNV_MAX_DIMS];
        const int count = all_perms(x->ndim, perms);
        for (int i = 0; i < count; i++, n++) {
            char *l = labels[n];
            int len = snprintf(l, sizeof labels[n], "%d-D %s perm ", x->ndim, cnv_shape_str(x, (char[32]){0}, 32));
            for (int k = 0; k < x->ndim; k++)
                len += snprintf(l + len, sizeof labels[n] - (size_t)len, "%d", perms[i][k]);
            cases[n] = CASE(l, CNV_OP_TRANSPOSE, 0, 0, *x);
            memcpy(cases[n].attrs.perm, perms[i], sizeof cases[n].attrs.perm);
        }
    }
    static const struct {
        const char *label;
        cnv_shape x;
        int perm[CNV_MAX_DIMS];
    } wide[] = {
        {"NHWC 2x9x11x7 -> NCHW (many workgroups)", S4(2, 9, 11, 7), {0, 3, 1, 2}},
        {"NCHW 2x7x9x11 -> NHWC (many workgroups)", S4(2, 7, 9, 11), {0, 2, 3, 1}},
        {"channel shuffle 2x2x3x5x4 perm 02134", S5(2, 2, 3, 5, 4), {0, 2, 1, 3, 4}},
        {"6-D 2x3x1x4x5x2 perm 503142", S6(2, 3, 1, 4, 5, 2), {5, 0, 3, 1, 4, 2}},
    };
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++, n++) {
        cases[n] = CASE(wide[i].label, CNV_OP_TRANSPOSE, 0, 0, wide[i].x);
        memcpy(cases[n].attrs.perm, wide[i].perm, sizeof cases[n].attrs.perm);
    }
    return keep(out, cases, (size_t)n);
}

/* Slice windows: positive and negative steps, negative starts, ends past the dim (clamped),
 * ShuffleNet's channel split, 5-D and 6-D inputs, and windows spanning several workgroups. */
static size_t slice_cases(tu_opcase *out) {
    static const struct {
        const char *label;
        cnv_shape x;
        int start[CNV_MAX_DIMS], end[CNV_MAX_DIMS], step[CNV_MAX_DIMS];
    } w[] = {
        {"channel half 2x6x5x4 (ShuffleNet's split)", S4(2, 6, 5, 4), {0, 3, 0, 0}, {9, 6, 9, 9}, {1, 1, 1, 1}},
        {"steps 2, 3 on 2x7x9x11", S4(2, 7, 9, 11), {0, 1, 0, 2}, {9, 7, 9, 11}, {1, 2, 3, 1}},
        {"negative steps 3x7x5", S3(3, 7, 5), {2, -1, 4}, {-9, -9, 0}, {-1, -2, -1}},
        {"negative starts, ends past the dim 4x9", S2(4, 9), {-3, -7}, {99, 1000}, {1, 2}},
        {"ends clamped below 2x5x8", S3(2, 5, 8), {0, 4, -100}, {9, -100, 5}, {1, -3, 1}},
        {"5-D 2x3x4x5x3", S5(2, 3, 4, 5, 3), {1, 0, 1, -2, 0}, {2, 3, 4, -9, 3}, {1, 2, 2, -1, 1}},
        {"6-D 2x3x1x4x5x2", S6(2, 3, 1, 4, 5, 2), {0, 2, 0, 1, 4, 1}, {2, 0, 1, 4, 0, 2}, {1, -1, 1, 2, -2, 1}},
        {"wide 2x9x33x41 (many workgroups)", S4(2, 9, 33, 41), {0, 1, 2, 0}, {2, 8, 31, 41}, {1, 1, 1, 1}},
    };
    static tu_opcase cases[sizeof w / sizeof w[0]];
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        cases[i] = CASE(w[i].label, CNV_OP_SLICE, 0, 0, w[i].x);
        for (int k = 0; k < w[i].x.ndim; k++) {
            cases[i].attrs.slice_start[k] = w[i].start[k];
            cases[i].attrs.slice_end[k] = w[i].end[k];
            cases[i].attrs.slice_step[k] = w[i].step[k];
        }
    }
    return keep(out, cases, sizeof cases / sizeof cases[0]);
}

static tu_opcase with_alpha_beta(tu_opcase c, float alpha, float beta) {
    c.attrs.alpha = alpha;
    c.attrs.beta = beta;
    return c;
}

static tu_opcase with_approximate(tu_opcase c, int approximate) {
    c.attrs.approximate = approximate;
    return c;
}

/* The unary ops beyond the activations, each on ranges clear of its kinks and poles. */
static size_t unary_cases(tu_opcase *out) {
    const tu_opcase cases[] = {
        CASE("Identity 1x3x7x5", CNV_OP_IDENTITY, 0, 0, S4(1, 3, 7, 5)),
        CASE("Neg 3x7", CNV_OP_NEG, 0, 0, S2(3, 7)),
        CASE("Abs 2x5x3x3 x<0", CNV_OP_ABS, -1.0f, -0.05f, S4(2, 5, 3, 3)),
        CASE("Abs 3x7 x>0", CNV_OP_ABS, 0.05f, 1.0f, S2(3, 7)),
        CASE("Sqrt 1x3x7x5", CNV_OP_SQRT, 0.1f, 2.0f, S4(1, 3, 7, 5)),
        CASE("Exp 2x5x3x3", CNV_OP_EXP, -2.0f, 2.0f, S4(2, 5, 3, 3)),
        CASE("Log 1x3x7x5", CNV_OP_LOG, 0.1f, 3.0f, S4(1, 3, 7, 5)),
        CASE("Reciprocal 3x7 x>0", CNV_OP_RECIPROCAL, 0.5f, 2.0f, S2(3, 7)),
        CASE("Reciprocal 2x5x3x3 x<0", CNV_OP_RECIPROCAL, -2.0f, -0.5f, S4(2, 5, 3, 3)),
        CASE("Erf 1x3x7x5", CNV_OP_ERF, -2.5f, 2.5f, S4(1, 3, 7, 5)),
        CASE("Erf 3x7 small x", CNV_OP_ERF, -0.3f, 0.3f, S2(3, 7)),
        CASE("Softplus 2x5x3x3", CNV_OP_SOFTPLUS, -4.0f, 4.0f, S4(2, 5, 3, 3)),
        CASE("HardSigmoid(default) 1x3x7x5 inside", CNV_OP_HARDSIGMOID, -2.4f, 2.4f, S4(1, 3, 7, 5)),
        with_alpha_beta(CASE("HardSigmoid(0.5,0.3) 3x7 above", CNV_OP_HARDSIGMOID, 1.5f, 3.0f, S2(3, 7)), 0.5f, 0.3f),
        with_alpha_beta(CASE("HardSigmoid(0.5,0.3) 2x5x3x3 below", CNV_OP_HARDSIGMOID, -3.0f, -0.7f, S4(2, 5, 3, 3)),
                        0.5f, 0.3f),
        CASE("HardSwish 1x3x7x5 inside", CNV_OP_HARDSWISH, -2.9f, 2.9f, S4(1, 3, 7, 5)),
        CASE("HardSwish 3x7 above", CNV_OP_HARDSWISH, 3.1f, 5.0f, S2(3, 7)),
        CASE("HardSwish 2x5x3x3 below", CNV_OP_HARDSWISH, -5.0f, -3.1f, S4(2, 5, 3, 3)),
        CASE("Gelu(none) 1x3x7x5", CNV_OP_GELU, -3.0f, 3.0f, S4(1, 3, 7, 5)),
        with_approximate(CASE("Gelu(tanh) 2x5x3x3", CNV_OP_GELU, -3.0f, 3.0f, S4(2, 5, 3, 3)), 1),
        CASE("Gelu(none) 2x16x9x11 (many workgroups)", CNV_OP_GELU, -3.0f, 3.0f, S4(2, 16, 9, 11)),
        CASE("Sigmoid 6-D 1x2x3x2x3x2", CNV_OP_SIGMOID, -2.0f, 2.0f, S6(1, 2, 3, 2, 3, 2)),
    };
    return keep(out, cases, sizeof cases / sizeof cases[0]);
}

/* A constant input (never differentiated): the last one of the case. */
static tu_opcase with_const(tu_opcase c, const float *values) {
    c.n_const = 1;
    c.const_data[c.n_in - 1] = values;
    return c;
}

/* The broadcasting binary ops beyond Add: both sides broadcast, weights, constants. Div and Pow
 * stay clear of zero; PRelu runs on each side of its kink. */
static size_t binary_cases(tu_opcase *out) {
    static const float two[1] = {2.0f}, three[1] = {3.0f};
    const tu_opcase cases[] = {
        CASE("Sub 2x3x4x5 - 3x1x1", CNV_OP_SUB, 0, 0, S4(2, 3, 4, 5), S3(3, 1, 1)),
        CASE("Sub 3x1 - 1x7", CNV_OP_SUB, 0, 0, S2(3, 1), S2(1, 7)),
        CASE("Mul 2x3x4x5 * 2x3x1x1 (squeeze-excite)", CNV_OP_MUL, 0, 0, S4(2, 3, 4, 5), S4(2, 3, 1, 1)),
        CASE("Mul 2x1x4x1 * 1x3x1x5 (both broadcast)", CNV_OP_MUL, 0, 0, S4(2, 1, 4, 1), S4(1, 3, 1, 5)),
        as_weights(CASE("Mul 2x16x9x7 * weight 16x1x1", CNV_OP_MUL, 0, 0, S4(2, 16, 9, 7), S3(16, 1, 1)), 1),
        CASE("Div 2x3x4x5 / 3x1x1", CNV_OP_DIV, 0.5f, 2.0f, S4(2, 3, 4, 5), S3(3, 1, 1)),
        CASE("Div 1 / 1x3x7x5 (left side broadcast)", CNV_OP_DIV, 0.5f, 2.0f, S1(1), S4(1, 3, 7, 5)),
        CASE("Pow 3x7 ^ 3x7", CNV_OP_POW, 0.5f, 2.0f, S2(3, 7), S2(3, 7)),
        as_weights(CASE("Pow 2x3x4x5 ^ weight 5", CNV_OP_POW, 0.5f, 2.0f, S4(2, 3, 4, 5), S1(5)), 1),
        with_const(CASE("Pow 2x5x3x3 ^ 2 (constant), both signs", CNV_OP_POW, 0, 0, S4(2, 5, 3, 3), S1(1)), two),
        with_const(CASE("Pow 3x7 ^ 3 (constant), both signs", CNV_OP_POW, 0, 0, S2(3, 7), S1(1)), three),
        CASE("Max 2x3x4x5, 1x3x1x5", CNV_OP_MAX, 0, 0, S4(2, 3, 4, 5), S4(1, 3, 1, 5)),
        CASE("Max 3x7, 3x7", CNV_OP_MAX, 0, 0, S2(3, 7), S2(3, 7)),
        CASE("Min 3x7, 7", CNV_OP_MIN, 0, 0, S2(3, 7), S1(7)),
        CASE("Min 2x1x4x1, 1x3x1x5", CNV_OP_MIN, 0, 0, S4(2, 1, 4, 1), S4(1, 3, 1, 5)),
        as_weights(CASE("PRelu 2x3x4x5 slope 3x1x1 x<0", CNV_OP_PRELU, -1.0f, -0.05f, S4(2, 3, 4, 5), S3(3, 1, 1)), 1),
        as_weights(CASE("PRelu 2x3x4x5 slope 3x1x1 x>0", CNV_OP_PRELU, 0.05f, 1.0f, S4(2, 3, 4, 5), S3(3, 1, 1)), 1),
        as_weights(CASE("PRelu 3x7 slope 1", CNV_OP_PRELU, -1.0f, -0.05f, S2(3, 7), S1(1)), 1),
        CASE("Mul 2x16x20x21 * 2x16x1x1 (many workgroups)", CNV_OP_MUL, 0, 0, S4(2, 16, 20, 21), S4(2, 16, 1, 1)),
        CASE("Sub 5-D 2x3x1x4x5 - 3x1x5", CNV_OP_SUB, 0, 0, S5(2, 3, 1, 4, 5), S3(3, 1, 5)),
        /* a channels-last LayerNorm: rows of C broadcasting one element each */
        CASE("Sub 2x6x5x8 - 2x6x5x1 (LayerNorm's mean)", CNV_OP_SUB, 0, 0, S4(2, 6, 5, 8), S4(2, 6, 5, 1)),
        CASE("Div 2x6x5x8 / 2x6x5x1 (LayerNorm's deviation)", CNV_OP_DIV, 0.5f, 2.0f, S4(2, 6, 5, 8), S4(2, 6, 5, 1)),
        CASE("Max 6-D 2x1x3x1x2x3, 1x2x1x2x1x3", CNV_OP_MAX, 0, 0, S6(2, 1, 3, 1, 2, 3), S6(1, 2, 1, 2, 1, 3)),
    };
    return keep(out, cases, sizeof cases / sizeof cases[0]);
}

static tu_opcase with_reduce(tu_opcase c, int axes, int keepdims) {
    c.attrs.reduce_axes = axes;
    c.attrs.keepdims = keepdims;
    return c;
}

/* Reductions over single axes, pairs that are not neighbours, every axis, and the layouts of
 * the CNNs (MNASNet's mean over H, W; ConvNeXt's LayerNorm over the last dim); with and without
 * keepdims. ReduceMax's random inputs are distinct, so the maximum is clear of ties. */
static size_t reduce_cases(tu_opcase *out) {
    const tu_opcase cases[] = {
        with_reduce(CASE("ReduceMean 2x3x5x4 over H,W", CNV_OP_REDUCEMEAN, 0, 0, S4(2, 3, 5, 4)), 0xC, 0),
        with_reduce(CASE("ReduceMean 2x3x5x4 over H,W keepdims", CNV_OP_REDUCEMEAN, 0, 0, S4(2, 3, 5, 4)), 0xC, 1),
        with_reduce(CASE("ReduceMean 2x4x3x7 over the last dim", CNV_OP_REDUCEMEAN, 0, 0, S4(2, 4, 3, 7)), 0x8, 1),
        with_reduce(CASE("ReduceMean 3x5x7 over 0 and 2", CNV_OP_REDUCEMEAN, 0, 0, S3(3, 5, 7)), 0x5, 0),
        CASE("ReduceMean 3x5x7 every axis (default)", CNV_OP_REDUCEMEAN, 0, 0, S3(3, 5, 7)),
        with_reduce(CASE("ReduceSum 2x3x5x4 over C", CNV_OP_REDUCESUM, 0, 0, S4(2, 3, 5, 4)), 0x2, 1),
        with_reduce(CASE("ReduceSum 5-D 2x3x2x4x3 over 1 and 3", CNV_OP_REDUCESUM, 0, 0, S5(2, 3, 2, 4, 3)), 0xA, 0),
        with_reduce(CASE("ReduceSum 4x6 none (identity)", CNV_OP_REDUCESUM, 0, 0, S2(4, 6)), 0x0, 1),
        with_reduce(CASE("ReduceMax 2x3x5x4 over H,W", CNV_OP_REDUCEMAX, 0, 0, S4(2, 3, 5, 4)), 0xC, 1),
        with_reduce(CASE("ReduceMax 3x5x7 over 0", CNV_OP_REDUCEMAX, 0, 0, S3(3, 5, 7)), 0x1, 0),
        CASE("ReduceMax 4x6 every axis", CNV_OP_REDUCEMAX, 0, 0, S2(4, 6)),
        with_reduce(CASE("ReduceMean 2x40x9x11 over C (many workgroups)", CNV_OP_REDUCEMEAN, 0, 0, S4(2, 40, 9, 11)),
                    0x2, 1),
    };
    return keep(out, cases, sizeof cases / sizeof cases[0]);
}

/* MatMul with batch dims: a Linear layer on a 4-D tensor (ConvNeXt: B a weight, the products
 * folded into one), both sides batched, each side broadcast, and ranks that differ. */
static size_t matmul_cases(tu_opcase *out) {
    const tu_opcase cases[] = {
        as_weights(CASE("MatMul 2x3x4x6 * weight 6x5 (Linear)", CNV_OP_MATMUL, 0, 0, S4(2, 3, 4, 6), S2(6, 5)), 1),
        CASE("MatMul 3x4x6 * 3x6x5", CNV_OP_MATMUL, 0, 0, S3(3, 4, 6), S3(3, 6, 5)),
        CASE("MatMul 2x1x4x6 * 3x6x5 (both broadcast)", CNV_OP_MATMUL, 0, 0, S4(2, 1, 4, 6), S3(3, 6, 5)),
        CASE("MatMul 4x6 * 2x3x6x5 (A broadcast)", CNV_OP_MATMUL, 0, 0, S2(4, 6), S4(2, 3, 6, 5)),
        as_weights(CASE("MatMul 2x3x4x6 * weight 3x6x5", CNV_OP_MATMUL, 0, 0, S4(2, 3, 4, 6), S3(3, 6, 5)), 1),
        CASE("MatMul 5-D 2x1x2x3x4 * 3x1x4x2", CNV_OP_MATMUL, 0, 0, S5(2, 1, 2, 3, 4), S4(3, 1, 4, 2)),
        CASE("MatMul 2x40x33 * 2x33x37 (many tiles)", CNV_OP_MATMUL, 0, 0, S3(2, 40, 33), S3(2, 33, 37)),
    };
    return keep(out, cases, sizeof cases / sizeof cases[0]);
}

/* One small case for each op whose full suite lives elsewhere (test_ops_conv.c,
 * test_ops_pool_extra.c, test_ops_vis_*.c), so that this registry covers every op. */
static size_t other_cases(tu_opcase *out) {
    static float resample_t[2 * 6] = {0.9f, 0.15f, 0.4f, -0.1f, 1.1f, -0.3f, 1.2f, 0.0f, -0.5f, 0.05f, 0.8f, 0.6f};
    static float target[2 * 3 * 4 * 5];
    for (size_t i = 0; i < sizeof target / sizeof target[0]; i++) target[i] = (float)((i * 37) % 23) / 11.0f - 1.0f;
    tu_opcase c[] = {
        as_weights(CASE("Conv 3x3 s2 p1 2x3x7x6", CNV_OP_CONV, 0, 0, S4(2, 3, 7, 6), S4(4, 3, 3, 3), S1(4)), 2),
        CASE("MaxPool 3x3 s2 1x2x7x6", CNV_OP_MAXPOOL, 0, 0, S4(1, 2, 7, 6)),
        CASE("AveragePool 2x3 s1x2 p1 2x2x5x7", CNV_OP_AVGPOOL, 0, 0, S4(2, 2, 5, 7)),
        CASE("GlobalAveragePool 2x3x5x4", CNV_OP_GLOBALAVGPOOL, 0, 0, S4(2, 3, 5, 4)),
        as_weights(CASE("Gemm 4x6 * 6x5 + 5", CNV_OP_GEMM, 0, 0, S2(4, 6), S2(6, 5), S1(5)), 2),
        as_weights(CASE("MatMul 3x7 * 7x4", CNV_OP_MATMUL, 0, 0, S2(3, 7), S2(7, 4)), 1),
        CASE("cnnvis.Fourier 1x4x6x4 -> 1x2x6x7", CNV_OP_FOURIER, 0, 0, S4(1, 4, 6, 4)),
        CASE("cnnvis.Resample 2x2x5x6 -> 4x7", CNV_OP_RESAMPLE, 0, 0, S4(2, 2, 5, 6), S2(2, 6)),
        CASE("cnnvis.Regularize tv l1 l2 1x2x5x6", CNV_OP_REGULARIZE, 0, 0, S4(1, 2, 5, 6)),
        CASE("cnnvis.GradNorm 2x3x4x5", CNV_OP_GRADNORM, 0, 0, S4(2, 3, 4, 5)),
        CASE("cnnvis.Blur sigma 1 1x2x6x5", CNV_OP_BLUR, 0, 0, S4(1, 2, 6, 5)),
        CASE("cnnvis.Gram 2x3x4x5", CNV_OP_GRAM, 0, 0, S4(2, 3, 4, 5)),
        CASE("cnnvis.SquaredDistance 2x3x4x5", CNV_OP_SQDIST, 0, 0, S4(2, 3, 4, 5), S4(2, 3, 4, 5)),
    };
    c[0].attrs.stride[0] = c[0].attrs.stride[1] = 2;
    for (int k = 0; k < 4; k++) c[0].attrs.pads[k] = 1;
    c[1].attrs.kernel[0] = c[1].attrs.kernel[1] = 3;
    c[1].attrs.stride[0] = c[1].attrs.stride[1] = 2;
    c[2].attrs.kernel[0] = 2, c[2].attrs.kernel[1] = 3, c[2].attrs.stride[1] = 2;
    for (int k = 0; k < 4; k++) c[2].attrs.pads[k] = 1;
    c[6].attrs.out_hw[0] = 6, c[6].attrs.out_hw[1] = 7;
    c[7].attrs.out_hw[0] = 4, c[7].attrs.out_hw[1] = 7;
    c[7].n_const = 1, c[7].const_data[1] = resample_t;
    c[8].attrs.tv = 0.5f, c[8].attrs.l1 = 0.1f, c[8].attrs.l2 = 0.2f;
    c[12].n_const = 1, c[12].const_data[1] = target;
    return keep(out, c, sizeof c / sizeof c[0]);
}

/* Resize: sizes (oh, ow > 0) or scales (sh, sw); scales whose sampling points fall on no
 * rounding tie, so that float and double agree on every nearest index. */
static tu_opcase with_resize(tu_opcase c, int mode, int coord, int rounding, float sh, float sw, int oh, int ow) {
    c.attrs.resize_mode = mode;
    c.attrs.resize_coord = coord;
    c.attrs.resize_nearest = rounding;
    c.attrs.resize_scale[0] = sh, c.attrs.resize_scale[1] = sw;
    c.attrs.out_hw[0] = oh, c.attrs.out_hw[1] = ow;
    return c;
}

static size_t resize_cases(tu_opcase out[TU_MAX_TABLE_CASES]) {
    const int N = CNV_RESIZE_NEAREST, L = CNV_RESIZE_LINEAR, RF = CNV_NEAREST_ROUND_PREFER_FLOOR;
    tu_opcase c[] = {
        with_resize(CASE("nearest half_pixel sizes 1x2x5x4 -> 7x9", CNV_OP_RESIZE, 0, 0, S4(1, 2, 5, 4)), N,
                    CNV_COORD_HALF_PIXEL, RF, 0, 0, 7, 9),
        with_resize(CASE("nearest asymmetric floor x2 2x3x4x5 (Upsample)", CNV_OP_RESIZE, 0, 0, S4(2, 3, 4, 5)), N,
                    CNV_COORD_ASYMMETRIC, CNV_NEAREST_FLOOR, 2, 2, 0, 0),
        with_resize(CASE("nearest asymmetric prefer_ceil x1.5 x0.5 1x2x4x6", CNV_OP_RESIZE, 0, 0, S4(1, 2, 4, 6)), N,
                    CNV_COORD_ASYMMETRIC, CNV_NEAREST_ROUND_PREFER_CEIL, 1.5f, 0.5f, 0, 0),
        with_resize(CASE("nearest align_corners ceil 1x3x5x7 -> 3x11", CNV_OP_RESIZE, 0, 0, S4(1, 3, 5, 7)), N,
                    CNV_COORD_ALIGN_CORNERS, CNV_NEAREST_CEIL, 0, 0, 3, 11),
        with_resize(CASE("nearest tf_half_pixel_for_nn x3 1x2x3x4", CNV_OP_RESIZE, 0, 0, S4(1, 2, 3, 4)), N,
                    CNV_COORD_TF_HALF_PIXEL_FOR_NN, RF, 3, 3, 0, 0),
        with_resize(CASE("linear half_pixel x2 2x2x5x6", CNV_OP_RESIZE, 0, 0, S4(2, 2, 5, 6)), L, CNV_COORD_HALF_PIXEL,
                    RF, 2, 2, 0, 0),
        with_resize(CASE("linear pytorch_half_pixel 1x2x7x5 -> 3x1", CNV_OP_RESIZE, 0, 0, S4(1, 2, 7, 5)), L,
                    CNV_COORD_PYTORCH_HALF_PIXEL, RF, 0, 0, 3, 1),
        with_resize(CASE("linear align_corners 1x3x4x5 -> 7x9", CNV_OP_RESIZE, 0, 0, S4(1, 3, 4, 5)), L,
                    CNV_COORD_ALIGN_CORNERS, RF, 0, 0, 7, 9),
        with_resize(CASE("linear asymmetric x1.5 x0.75 1x2x6x8", CNV_OP_RESIZE, 0, 0, S4(1, 2, 6, 8)), L,
                    CNV_COORD_ASYMMETRIC, RF, 1.5f, 0.75f, 0, 0),
        with_resize(CASE("linear align_corners x0.6 x1.7 1x2x5x4 (unrounded length)", CNV_OP_RESIZE, 0, 0,
                         S4(1, 2, 5, 4)), L, CNV_COORD_ALIGN_CORNERS, RF, 0.6f, 1.7f, 0, 0),
        with_resize(CASE("linear half_pixel 1x3x17x13 -> 40x29 (many workgroups)", CNV_OP_RESIZE, 0, 0,
                         S4(1, 3, 17, 13)), L, CNV_COORD_HALF_PIXEL, RF, 0, 0, 40, 29),
    };
    return keep(out, c, sizeof c / sizeof c[0]);
}

/* ConvTranspose: X, W (a weight); strides, dilations, pads {top, left, bottom, right},
 * output_padding, group, output_shape (0: none), auto_pad. */
typedef struct convt_geom {
    int sh, sw, dh, dw, pads[4], oph, opw, group, out_h, out_w;
    cnv_auto_pad auto_pad;
} convt_geom;

static tu_opcase with_convt(tu_opcase c, convt_geom g) {
    c.attrs.stride[0] = g.sh, c.attrs.stride[1] = g.sw;
    c.attrs.dilation[0] = g.dh ? g.dh : 1, c.attrs.dilation[1] = g.dw ? g.dw : 1;
    for (int k = 0; k < 4; k++) c.attrs.pads[k] = g.pads[k];
    c.attrs.output_padding[0] = g.oph, c.attrs.output_padding[1] = g.opw;
    c.attrs.group = g.group ? g.group : 1;
    c.attrs.out_hw[0] = g.out_h, c.attrs.out_hw[1] = g.out_w;
    c.attrs.auto_pad = g.auto_pad;
    return as_weights(c, 1);
}

static size_t convtranspose_cases(tu_opcase out[TU_MAX_TABLE_CASES]) {
    const cnv_op_type T = CNV_OP_CONVTRANSPOSE;
    tu_opcase c[] = {
        with_convt(CASE("3x3 s1 2x3x5x4 -> 4 ch", T, 0, 0, S4(2, 3, 5, 4), S4(3, 4, 3, 3)),
                   (convt_geom){.sh = 1, .sw = 1}),
        with_convt(CASE("3x3 s2 p1 output_padding 1 1x4x4x5 -> 3 ch", T, 0, 0, S4(1, 4, 4, 5), S4(4, 3, 3, 3)),
                   (convt_geom){.sh = 2, .sw = 2, .pads = {1, 1, 1, 1}, .oph = 1, .opw = 1}),
        with_convt(CASE("2x2 s2 (U-Net up) 2x3x3x4", T, 0, 0, S4(2, 3, 3, 4), S4(3, 2, 2, 2)),
                   (convt_geom){.sh = 2, .sw = 2}),
        with_convt(CASE("3x2 s2x1 asym pads groups 2 1x4x4x3", T, 0, 0, S4(1, 4, 4, 3), S4(4, 3, 3, 2)),
                   (convt_geom){.sh = 2, .sw = 1, .pads = {0, 1, 2, 0}, .group = 2}),
        with_convt(CASE("3x3 dilation 2 s1 p2 1x2x5x5", T, 0, 0, S4(1, 2, 5, 5), S4(2, 3, 3, 3)),
                   (convt_geom){.sh = 1, .sw = 1, .dh = 2, .dw = 2, .pads = {2, 2, 2, 2}}),
        with_convt(CASE("3x3 s3 output_shape 10x8 1x1x3x3", T, 0, 0, S4(1, 1, 3, 3), S4(1, 2, 3, 3)),
                   (convt_geom){.sh = 3, .sw = 3, .out_h = 10, .out_w = 8}),
        with_convt(CASE("3x3 s2 SAME_UPPER 1x2x4x3", T, 0, 0, S4(1, 2, 4, 3), S4(2, 2, 3, 3)),
                   (convt_geom){.sh = 2, .sw = 2, .auto_pad = CNV_AUTO_PAD_SAME_UPPER}),
        with_convt(CASE("1x1 s1 1x6x7x5 (identity geometry)", T, 0, 0, S4(1, 6, 7, 5), S4(6, 4, 1, 1)),
                   (convt_geom){.sh = 1, .sw = 1}),
        with_convt(CASE("4x4 s2 p1 1x8x9x11 (many workgroups)", T, 0, 0, S4(1, 8, 9, 11), S4(8, 6, 4, 4)),
                   (convt_geom){.sh = 2, .sw = 2, .pads = {1, 1, 1, 1}}),
    };
    return keep(out, c, sizeof c / sizeof c[0]);
}

static const tu_case_table tables[] = {
    {"activations", activations_cases},
    {"Unary elementwise ops", unary_cases},
    {"Add", add_cases},
    {"Binary elementwise ops", binary_cases},
    {"Concat", concat_cases},
    {"Flatten / Reshape / Dropout", copy_ops_cases},
    {"Pad", pad_cases},
    {"LRN", lrn_cases},
    {"Softmax", softmax_cases},
    {"BatchNormalization", batchnorm_cases},
    {"Transpose", transpose_cases},
    {"ReduceMean / ReduceSum / ReduceMax", reduce_cases},
    {"MatMul with batch dims", matmul_cases},
    {"Resize", resize_cases},
    {"ConvTranspose", convtranspose_cases},
    {"Slice", slice_cases},
    {"Every other op, one small case each", other_cases},
};

const tu_case_table *tu_case_tables(size_t *n) {
    *n = sizeof tables / sizeof tables[0];
    return tables;
}
