/* Every registered op-suite case table (tests/util/op_cases.c: every op, elementwise, data
 * movement, normalization, and one small case each of the ops whose full suites are elsewhere) on
 * the backend under test (cpu, vulkan, vulkan-forced) against the float64 oracles (forward) and
 * central finite differences (backward to the data and to the weights); then what a table cannot
 * say: the subgradients at the kinks (shared with shaders/unary.glsl), wide reflect pads,
 * softmax's shift invariance, one BatchNormalization weight at a time, bad shapes, broadcast rows
 * split among the CPU's threads. */
#include "test_util.h"

#include "cpu/cpu_ops.h"
#include "op_cases.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define TOL 1e-5

/* Every table of the registry, each case with its own seed. */
static void test_registered_cases(void **state) {
    (void)state;
    size_t n_tables;
    const tu_case_table *tables = tu_case_tables(&n_tables);
    static tu_opcase cases[TU_MAX_TABLE_CASES];
    for (size_t t = 0; t < n_tables; t++) {
        const size_t n = tables[t].build(cases);
        tu_opcheck_table(tu_backend, tables[t].title, cases, n, 0x5eed0000u, TOL);
    }
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

/* The subgradients chosen at the kinks, as in shaders/unary.glsl. */
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
    assert_true(derivative_at(CNV_OP_ABS, 0, 0, 0.0f) == 0.0f);
    assert_true(derivative_at(CNV_OP_HARDSIGMOID, 0.2f, 0, 2.5f) == 0.0f);  /* alpha x + beta = 1 */
    assert_true(derivative_at(CNV_OP_HARDSIGMOID, 0.2f, 0, -2.5f) == 0.0f); /* = 0 */
    assert_true(derivative_at(CNV_OP_HARDSWISH, 0, 0, -3.0f) == -0.5f);     /* x/3 + 1/2 on [-3, 3] */
    assert_true(derivative_at(CNV_OP_HARDSWISH, 0, 0, 3.0f) == 1.5f);
    assert_true(derivative_at(CNV_OP_HARDSWISH, 0, 0, 3.001f) == 1.0f);
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
    const int pads[8] = {0, 0, 7, -1, 0, 2, 4, 11}; /* begins of dims 0..3, then their ends */
    for (int k = 0; k < 4; k++) cnv_pad_set(&node.attrs, k, pads[k], pads[4 + k]);
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
    assert_int_equal(cnv_cpu_binary_forward(&a), CNV_ERR_SHAPE);

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


/* Broadcast binary ops large enough that the CPU splits their rows among its threads (the op
 * tables' cases are too small for that, and finite differences over this many inputs would take
 * minutes): the forward and both gradients against the same sums done directly, in the same
 * order. A LayerNorm's Sub of its mean (rows of 16, one mean each) and a squeeze-excite's Mul by
 * [N, C, 1, 1] (rows of 1,640, one scale each). */
static void check_rows_split(cnv_op_type op, cnv_shape xs, cnv_shape ys, size_t row) {
    const size_t nx = cnv_shape_numel(&xs), ny = cnv_shape_numel(&ys);
    float *x = tu_calloc(nx, sizeof *x), *y = tu_calloc(ny, sizeof *y), *g = tu_calloc(nx, sizeof *g);
    float *out = tu_calloc(nx, sizeof *out), *dx = tu_calloc(nx, sizeof *dx), *dy = tu_calloc(ny, sizeof *dy);
    float *want = tu_calloc(nx, sizeof *want), *want_dx = tu_calloc(nx, sizeof *want_dx);
    float *want_dy = tu_calloc(ny, sizeof *want_dy);
    for (size_t i = 0; i < nx; i++) x[i] = sinf(0.37f * (float)i), g[i] = cosf(0.11f * (float)i);
    for (size_t i = 0; i < ny; i++) y[i] = 0.5f + 0.25f * sinf(1.3f * (float)i);
    const int mul = op == CNV_OP_MUL;
    for (size_t i = 0; i < nx; i++) {
        const float b = y[i / row];
        want[i] = mul ? x[i] * b : x[i] - b;
        want_dx[i] = mul ? g[i] * b : g[i];
        want_dy[i / row] += mul ? g[i] * x[i] : g[i] * -1.0f;
    }
    cnv_node node = {.name = "rows", .op = op, .n_in = 2};
    cnv_cpu_args a = {.node = &node, .a = &node.attrs, .n_in = 2, .in = {x, y}, .in_shape = {xs, ys}, .out = out,
                      .out_shape = xs, .grad_out = g, .grad_in = {dx, dy}};
    assert_int_equal(cnv_cpu_binary_forward(&a), CNV_OK);
    assert_int_equal(cnv_cpu_binary_backward(&a), CNV_OK); /* adds onto the zeroed gradients */
    const double e = tu_rel_error(out, want, nx), ex = tu_rel_error(dx, want_dx, nx), ey = tu_rel_error(dy, want_dy, ny);
    printf("  %-40s %11.2e %11.2e %11.2e\n", cnv_op_name(op), e, ex, ey);
    if (!(e < TOL) || !(ex < TOL) || !(ey < TOL))
        fail_msg("%s rows split: forward %.3g, gradients %.3g and %.3g", cnv_op_name(op), e, ex, ey);
    free(x), free(y), free(g), free(out), free(dx), free(dy), free(want), free(want_dx), free(want_dy);
}

static void test_binary_rows_split(void **state) {
    (void)state;
    if (strcmp(tu_backend_name, "cpu") != 0) skip();
    printf("\n%-42s %11s %11s %11s\n", "Broadcast rows split among threads", "forward", "dx", "dy");
    check_rows_split(CNV_OP_SUB, S4(2, 48, 48, 16), S4(2, 48, 48, 1), 16);
    check_rows_split(CNV_OP_MUL, S4(2, 32, 40, 41), S4(2, 32, 1, 1), 40 * 41);
}

int main(int argc, char **argv) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registered_cases),
        cmocka_unit_test(test_activation_kinks),
        cmocka_unit_test(test_pad_wide_reflect_matches_cpu),
        cmocka_unit_test(test_softmax_large_logits),
        cmocka_unit_test(test_batchnorm_one_weight),
        cmocka_unit_test(test_bad_shapes_fail),
        cmocka_unit_test(test_binary_rows_split),
    };
    return TU_RUN_BACKEND_SUITE(argc, argv, tests);
}
