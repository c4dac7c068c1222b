/* The activations, Add, Concat, Flatten/Reshape/Dropout, Pad, LRN, Softmax, BatchNormalization
 * and Transpose kernels of the backend under test (cpu, vulkan, vulkan-forced) against the
 * float64 oracles (forward) and central finite differences (backward to the data and to the
 * weights), on random shapes with odd sizes, some spanning many workgroups. Inputs of ops with
 * kinks are drawn away from the kinks so that the finite differences are exact; the kink
 * conventions themselves (shared with shaders/activation.glsl) are checked directly. */
#include "test_util.h"

#include "cpu/cpu_ops.h"
#include "opcheck.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define TOL 1e-5

#define S1(a) ((cnv_shape){1, {a}})
#define S2(a, b) ((cnv_shape){2, {a, b}})
#define S3(a, b, c) ((cnv_shape){3, {a, b, c}})
#define S4(a, b, c, d) ((cnv_shape){4, {a, b, c, d}})

/* A case with default attributes for op, inputs in [lo, hi) ([-1, 1) when both are 0). */

static tu_opcase make_case(const char *label, cnv_op_type op, float lo, float hi, int n_in, const cnv_shape *shapes) {
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
#define CASE(label, op, lo, hi, ...)                                                            \
    make_case(label, op, lo, hi, (int)(sizeof((cnv_shape[]){__VA_ARGS__}) / sizeof(cnv_shape)), \
              (cnv_shape[]){__VA_ARGS__})

/* Runs every case on the backend under test and prints one table row per case. */
#define RUN(title, cases) tu_opcheck_table(tu_backend, title, cases, sizeof(cases) / sizeof(cases[0]), 0x5eed0000u, TOL)

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

/* Kinked ops run once on each side of the kink (and, for Clip, strictly inside). */
static void test_activations(void **state) {
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
    RUN("activations", cases);
}

/* Runs node (one input) forward on backend b and, when g is set, its backward into dx (which
 * starts at zero). */
static void run_single(cnv_backend *b, const cnv_node *node, cnv_shape in_shape, cnv_shape out_shape, const float *x,
                       float *y, const float *g, float *dx) {
    const size_t n_in = cnv_shape_numel(&in_shape), n_out = cnv_shape_numel(&out_shape);
    cnv_op_io io;
    memset(&io, 0, sizeof io);
    io.node = node;
    io.n_in = 1;
    io.in_shape[0] = in_shape;
    io.out_shape = out_shape;
    cnv_buf **bufs[] = {&io.in[0], &io.grad_in[0], &io.out, &io.grad_out};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        assert_int_equal(b->vt->buf_alloc(b, i < 2 ? n_in : n_out, bufs[i]), CNV_OK);
    assert_int_equal(b->vt->buf_write(b, io.in[0], 0, x, n_in), CNV_OK);
    assert_int_equal(b->vt->forward(b, &io), CNV_OK);
    if (g) {
        assert_int_equal(b->vt->buf_write(b, io.grad_out, 0, g, n_out), CNV_OK);
        assert_int_equal(b->vt->buf_fill(b, io.grad_in[0], 0.0f, n_in), CNV_OK);
        assert_int_equal(b->vt->backward(b, &io), CNV_OK);
    }
    assert_int_equal(b->vt->sync(b), CNV_OK);
    assert_int_equal(b->vt->buf_read(b, io.out, 0, y, n_out), CNV_OK);
    if (g) assert_int_equal(b->vt->buf_read(b, io.grad_in[0], 0, dx, n_in), CNV_OK);
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) b->vt->buf_free(b, *bufs[i]);
}

/* run_single on the backend under test for an op whose output has its input's shape. */
static void run_unary(const cnv_node *node, cnv_shape shape, const float *x, float *y, const float *g, float *dx) {
    run_single(tu_backend, node, shape, shape, x, y, g, dx);
}

/* The backend's backward of op on one element x with grad_out 1: f'(x). */
static float derivative_at(cnv_op_type op, float p0, float p1, float x) {
    cnv_node node;
    memset(&node, 0, sizeof node);
    node.name = "kink";
    node.op = op;
    cnv_attrs_default(op, &node.attrs);
    node.attrs.alpha = p0;
    if (op == CNV_OP_CLIP) {
        node.attrs.min = p0;
        node.attrs.max = p1;
    }
    float y = 0.0f, g = 1.0f, dx = 0.0f;
    run_unary(&node, S1(1), &x, &y, &g, &dx);
    return dx;
}

/* The subgradients chosen at the kinks, as in shaders/activation.glsl. */
static void test_activation_kinks(void **state) {
    assert_true(derivative_at(CNV_OP_RELU, 0, 0, 0.0f) == 0.0f);
    assert_true(derivative_at(CNV_OP_RELU, 0, 0, 1e-30f) == 1.0f);
    assert_true(derivative_at(CNV_OP_LEAKYRELU, 0.2f, 0, 0.0f) == 1.0f);
    assert_true(derivative_at(CNV_OP_LEAKYRELU, 0.2f, 0, -1e-30f) == 0.2f);
    assert_true(derivative_at(CNV_OP_CLIP, -1.0f, 2.0f, -1.0f) == 0.0f);
    assert_true(derivative_at(CNV_OP_CLIP, -1.0f, 2.0f, 2.0f) == 0.0f);
    assert_true(derivative_at(CNV_OP_CLIP, -1.0f, 2.0f, 1.999f) == 1.0f);
    assert_true(derivative_at(CNV_OP_ELU, 0.5f, 0, 0.0f) == 1.0f);
    assert_float_equal(derivative_at(CNV_OP_ELU, 0.5f, 0, -1.0f), 0.5f * 0.36787944f, 1e-7);
}

static void test_add(void **state) {
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
    RUN("Add", cases);
}

static tu_opcase with_axis(tu_opcase c, int axis) {
    c.attrs.axis = axis;
    return c;
}

static void test_concat(void **state) {
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
    RUN("Concat", cases);
}

static tu_opcase with_shape(tu_opcase c, int n, int d0, int d1, int d2) {
    c.attrs.shape_n = n;
    c.attrs.shape[0] = d0;
    c.attrs.shape[1] = d1;
    c.attrs.shape[2] = d2;
    return c;
}

static void test_copy_ops(void **state) {
    const tu_opcase cases[] = {
        with_axis(CASE("Flatten axis 1 2x3x4x5", CNV_OP_FLATTEN, 0, 0, S4(2, 3, 4, 5)), 1),
        with_axis(CASE("Flatten axis 2 1x3x7x5", CNV_OP_FLATTEN, 0, 0, S4(1, 3, 7, 5)), 2),
        with_shape(CASE("Reshape 2x3x4x5 -> (0,-1)", CNV_OP_RESHAPE, 0, 0, S4(2, 3, 4, 5)), 2, 0, -1, 0),
        with_shape(CASE("Reshape 2x5x3x3 -> (5,-1,6)", CNV_OP_RESHAPE, 0, 0, S4(2, 5, 3, 3)), 3, 5, -1, 6),
        CASE("Dropout 1x3x7x5", CNV_OP_DROPOUT, 0, 0, S4(1, 3, 7, 5)),
        CASE("Dropout 3x7", CNV_OP_DROPOUT, 0, 0, S2(3, 7)),
        with_axis(CASE("Flatten axis 1 2x16x9x11 (many workgroups)", CNV_OP_FLATTEN, 0, 0, S4(2, 16, 9, 11)), 1),
    };
    RUN("Flatten / Reshape / Dropout", cases);
}

/* pads: begins of dims 0..3, then ends of dims 0..3 (unused dims stay 0). */
static tu_opcase with_pads(tu_opcase c, cnv_pad_mode mode, float value, const int pads[8]) {
    c.attrs.pad_mode = mode;
    c.attrs.pad_value = value;
    memcpy(c.attrs.pad_full, pads, sizeof c.attrs.pad_full);
    return c;
}
#define PADS(...) ((const int[8]){__VA_ARGS__})

static void test_pad(void **state) {
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
    RUN("Pad", cases);
}

/* Reflect pads wider than the dim minus one mirror periodically (numpy "reflect"); the float64
 * oracle stops at one reflection, so the backend under test is compared with the CPU backend
 * instead (skipped on cpu itself, where it would compare a kernel with itself). */
static void test_pad_wide_reflect_matches_cpu(void **state) {
    if (strcmp(tu_backend_name, "cpu") == 0) skip();
    cnv_node node;
    memset(&node, 0, sizeof node);
    node.name = "wide reflect";
    node.op = CNV_OP_PAD;
    cnv_attrs_default(CNV_OP_PAD, &node.attrs);
    node.attrs.pad_mode = CNV_PAD_REFLECT;
    memcpy(node.attrs.pad_full, PADS(0, 0, 7, -1, 0, 2, 4, 11), sizeof node.attrs.pad_full);
    const cnv_shape in_shape = S4(1, 2, 3, 4), out_shape = S4(1, 4, 14, 14);
    enum { N_IN = 1 * 2 * 3 * 4, N_OUT = 1 * 4 * 14 * 14 };
    float x[N_IN], g[N_OUT], y[N_OUT], y_cpu[N_OUT], dx[N_IN], dx_cpu[N_IN];
    cnv_rng r;
    cnv_rng_seed(&r, 0x9ad);
    tu_fill_uniform(&r, x, N_IN, -1.0f, 1.0f);
    tu_fill_uniform(&r, g, N_OUT, -1.0f, 1.0f);
    cnv_backend *cpu = tu_backend_create("cpu");
    run_single(cpu, &node, in_shape, out_shape, x, y_cpu, g, dx_cpu);
    tu_backend_free(cpu);
    run_single(tu_backend, &node, in_shape, out_shape, x, y, g, dx);
    const double fwd = tu_rel_error(y, y_cpu, N_OUT), bwd = tu_rel_error(dx, dx_cpu, N_IN);
    printf("  wide reflect 1x2x3x4 -> 1x4x14x14 vs cpu: forward %.2e, bwd data %.2e\n", fwd, bwd);
    assert_true(fwd < TOL);
    assert_true(bwd < TOL);
}

static tu_opcase with_lrn(tu_opcase c, int size, float alpha, float beta, float bias) {
    c.attrs.size = size;
    c.attrs.alpha = alpha;
    c.attrs.beta = beta;
    c.attrs.bias = bias;
    return c;
}

/* Large alpha so that the normalization term matters at these input magnitudes. */
static void test_lrn(void **state) {
    const tu_opcase cases[] = {
        with_lrn(CASE("size 3 1x5x4x3", CNV_OP_LRN, -2.0f, 2.0f, S4(1, 5, 4, 3)), 3, 0.5f, 0.75f, 1.0f),
        with_lrn(CASE("size 5 2x7x3x3", CNV_OP_LRN, -2.0f, 2.0f, S4(2, 7, 3, 3)), 5, 1.0f, 0.75f, 2.0f),
        with_lrn(CASE("size 2 1x3x7x5", CNV_OP_LRN, -2.0f, 2.0f, S4(1, 3, 7, 5)), 2, 0.8f, 0.5f, 1.0f),
        with_lrn(CASE("size 4 2x6x2x3", CNV_OP_LRN, -2.0f, 2.0f, S4(2, 6, 2, 3)), 4, 0.9f, 1.2f, 1.5f),
        with_lrn(CASE("size 5 > C 1x3x3x2", CNV_OP_LRN, -2.0f, 2.0f, S4(1, 3, 3, 2)), 5, 1.0f, 0.75f, 1.0f),
        with_lrn(CASE("size 5 AlexNet attrs 1x8x3x3", CNV_OP_LRN, -20.0f, 20.0f, S4(1, 8, 3, 3)), 5, 1e-4f, 0.75f,
                 1.0f),
    };
    RUN("LRN", cases);
}

static tu_opcase with_softmax(tu_opcase c, int axis, int legacy) {
    c.attrs.axis = axis;
    c.attrs.softmax_legacy = legacy;
    return c;
}

static void test_softmax(void **state) {
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
    RUN("Softmax", cases);
}

/* Runs the backend's softmax forward on a 1x2x3 tensor at axis 1 (legacy: over all 6 values;
 * opset 13: over pairs) and its backward into grad. */
static void softmax_1x2x3(int legacy, const float *x, float *y, const float *grad_out, float *grad) {
    cnv_node node;
    memset(&node, 0, sizeof node);
    node.name = "softmax";
    node.op = CNV_OP_SOFTMAX;
    cnv_attrs_default(CNV_OP_SOFTMAX, &node.attrs);
    node.attrs.axis = 1;
    node.attrs.softmax_legacy = legacy;
    run_unary(&node, S3(1, 2, 3), x, y, grad_out, grad);
}

/* Softmax is shift invariant; logits of +-1000 overflow (or underflow) exp even in double
 * unless the maximum is subtracted first. Both modes must give what the unshifted logits give. */
static void test_softmax_large_logits(void **state) {
    const float logits[6] = {0.5f, -1.0f, 2.0f, 0.0f, 1.5f, -2.5f}, g[6] = {1, -2, 0.5f, 3, -1, 0.25f};
    for (int legacy = 0; legacy < 2; legacy++)
        for (int sign = -1; sign <= 1; sign += 2) {
            float big[6], y_ref[6], y[6], dx_ref[6] = {0}, dx[6] = {0};
            for (int i = 0; i < 6; i++) big[i] = logits[i] + (float)sign * 1000.0f;
            softmax_1x2x3(legacy, logits, y_ref, g, dx_ref);
            softmax_1x2x3(legacy, big, y, g, dx);
            for (int i = 0; i < 6; i++) {
                assert_true(isfinite(y[i]) && isfinite(dx[i]));
                /* 1000 + x rounds x to float spacing 6e-5 near 1000: compare loosely */
                assert_float_equal(y[i], y_ref[i], 1e-3);
                assert_float_equal(dx[i], dx_ref[i], 1e-3);
            }
        }
}

static void test_batchnorm(void **state) {
    const tu_opcase cases[] = {
        as_weights(CASE("1x3x7x5", CNV_OP_BATCHNORM, 0, 0, S4(1, 3, 7, 5), S1(3), S1(3)), 2),
        as_weights(CASE("2x5x3x3", CNV_OP_BATCHNORM, 0, 0, S4(2, 5, 3, 3), S1(5), S1(5)), 2),
        as_weights(CASE("3x7 ([N, C])", CNV_OP_BATCHNORM, 0, 0, S2(3, 7), S1(7), S1(7)), 2),
        as_weights(CASE("2x5x17x13 (several workgroups a channel)", CNV_OP_BATCHNORM, 0, 0, S4(2, 5, 17, 13), S1(5),
                        S1(5)),
                   2),
        as_weights(CASE("1x40x3x3 (many channels)", CNV_OP_BATCHNORM, 0, 0, S4(1, 40, 3, 3), S1(40), S1(40)), 2),
    };
    RUN("BatchNormalization", cases);
}

/* The executor may want only one of scale and shift, the other slot NULL (on Vulkan a separate
 * kernel variant, since the absent one binds a 16-byte placeholder). Each gradient alone is
 * checked against its sum over batch and positions, computed here in double. */
static void test_batchnorm_one_weight(void **state) {
    enum { N = 2, C = 7, INNER = 5, NX = N * C * INNER };
    cnv_node node;
    memset(&node, 0, sizeof node);
    node.name = "bn";
    node.op = CNV_OP_BATCHNORM;
    cnv_attrs_default(CNV_OP_BATCHNORM, &node.attrs);
    float x[NX], g[NX], w[C];
    cnv_rng r;
    cnv_rng_seed(&r, 0xb7);
    tu_fill_uniform(&r, x, NX, -1.0f, 1.0f);
    tu_fill_uniform(&r, g, NX, -1.0f, 1.0f);
    tu_fill_uniform(&r, w, C, -1.0f, 1.0f);
    cnv_op_io io;
    memset(&io, 0, sizeof io);
    io.node = &node;
    io.n_in = 3;
    io.in_shape[0] = io.out_shape = S3(N, C, INNER);
    io.in_shape[1] = io.in_shape[2] = S1(C);
    cnv_buf *dw = NULL;
    cnv_buf **bufs[] = {&io.in[0], &io.in[1], &io.in[2], &io.out, &io.grad_out, &dw};
    const size_t sizes[] = {NX, C, C, NX, NX, C};
    for (int i = 0; i < 6; i++) assert_int_equal(tu_backend->vt->buf_alloc(tu_backend, sizes[i], bufs[i]), CNV_OK);
    assert_int_equal(tu_backend->vt->buf_write(tu_backend, io.in[0], 0, x, NX), CNV_OK);
    assert_int_equal(tu_backend->vt->buf_write(tu_backend, io.in[1], 0, w, C), CNV_OK);
    assert_int_equal(tu_backend->vt->buf_write(tu_backend, io.in[2], 0, w, C), CNV_OK);
    assert_int_equal(tu_backend->vt->buf_write(tu_backend, io.grad_out, 0, g, NX), CNV_OK);
    assert_int_equal(tu_backend->vt->forward(tu_backend, &io), CNV_OK);
    for (int slot = 1; slot <= 2; slot++) { /* scale, then shift */
        io.grad_in[1] = io.grad_in[2] = NULL;
        io.grad_in[slot] = dw;
        assert_int_equal(tu_backend->vt->buf_fill(tu_backend, dw, 0.0f, C), CNV_OK);
        assert_int_equal(tu_backend->vt->backward(tu_backend, &io), CNV_OK);
        assert_int_equal(tu_backend->vt->sync(tu_backend), CNV_OK);
        float got[C];
        assert_int_equal(tu_backend->vt->buf_read(tu_backend, dw, 0, got, C), CNV_OK);
        double want[C] = {0};
        for (int i = 0; i < NX; i++) want[(i / INNER) % C] += (double)g[i] * (slot == 1 ? x[i] : 1.0f);
        for (int c = 0; c < C; c++) assert_float_equal(got[c], want[c], 1e-5 * (1.0 + fabs(want[c])));
    }
    for (int i = 0; i < 6; i++) tu_backend->vt->buf_free(tu_backend, *bufs[i]);
}

/* Malformed shapes reach the kernels only through a bug, but must fail cleanly. */
static void test_bad_shapes_fail(void **state) {
    if (strcmp(tu_backend_name, "cpu") != 0) skip(); /* calls the CPU kernels directly */
    cnv_node node;
    memset(&node, 0, sizeof node);
    node.name = "bad";
    float buf[64] = {0};
    cnv_cpu_args a;
    memset(&a, 0, sizeof a);
    a.node = &node;
    a.a = &node.attrs;
    a.n_in = 2;
    a.in[0] = a.in[1] = buf;
    a.out = buf;

    node.op = CNV_OP_ADD;
    a.in_shape[0] = S2(3, 4);
    a.in_shape[1] = S2(2, 4);
    a.out_shape = S2(3, 4);
    assert_int_equal(cnv_cpu_add_forward(&a), CNV_ERR_SHAPE);

    node.op = CNV_OP_CONCAT;
    node.attrs.axis = 1;
    a.in_shape[1] = S2(2, 5);
    a.out_shape = S2(3, 9);
    assert_int_equal(cnv_cpu_concat_forward(&a), CNV_ERR_SHAPE);

    node.op = CNV_OP_PAD;
    node.attrs.pad_full[3] = 1; /* W grows by 1, the output claims 2 */
    a.n_in = 1;
    a.in_shape[0] = S4(1, 1, 2, 3);
    a.out_shape = S4(1, 1, 2, 5);
    assert_int_equal(cnv_cpu_pad_forward(&a), CNV_ERR_SHAPE);

    node.op = CNV_OP_SOFTMAX;
    node.attrs.axis = 4;
    a.out_shape = a.in_shape[0];
    assert_int_equal(cnv_cpu_softmax_forward(&a), CNV_ERR_SHAPE);

    /* A perm that repeats a dim is refused by shape inference and by the kernel. */
    node.op = CNV_OP_TRANSPOSE;
    memcpy(node.attrs.perm, (int[CNV_MAX_DIMS]){1, 1, 2, 3}, sizeof node.attrs.perm);
    a.in_shape[0] = a.out_shape = S2(3, 3);
    cnv_shape inferred;
    assert_int_equal(cnv_op_infer_shape(CNV_OP_TRANSPOSE, &node.attrs, 1, a.in_shape, &inferred, "bad"), CNV_ERR_SHAPE);
    assert_int_equal(cnv_cpu_transpose_forward(&a), CNV_ERR_SHAPE);
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

/* Every permutation of a 4-D, 3-D and 2-D tensor whose dims all differ (a wrong dim order
 * cannot go unnoticed), then NCHW <-> NHWC on tensors spanning several workgroups. */
static void test_transpose(void **state) {
    enum { MAX_CASES = 24 + 6 + 2 + 2 };
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
    };
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++, n++) {
        cases[n] = CASE(wide[i].label, CNV_OP_TRANSPOSE, 0, 0, wide[i].x);
        memcpy(cases[n].attrs.perm, wide[i].perm, sizeof cases[n].attrs.perm);
    }
    assert_int_equal(n, MAX_CASES);
    tu_opcheck_table(tu_backend, "Transpose", cases, (size_t)n, 0x5eed0000u, TOL);
}

int main(int argc, char **argv) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_activations),
        cmocka_unit_test(test_activation_kinks),
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_concat),
        cmocka_unit_test(test_copy_ops),
        cmocka_unit_test(test_pad),
        cmocka_unit_test(test_pad_wide_reflect_matches_cpu),
        cmocka_unit_test(test_lrn),
        cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_softmax_large_logits),
        cmocka_unit_test(test_batchnorm),
        cmocka_unit_test(test_batchnorm_one_weight),
        cmocka_unit_test(test_transpose),
        cmocka_unit_test(test_bad_shapes_fail),
    };
    return TU_RUN_BACKEND_SUITE(argc, argv, tests);
}
