/* Resample (affine bilinear warp), Regularize (TV/L1/L2 penalty gradients) and GradNorm (step
 * normalization and clipping) on the backend under test (cpu, vulkan, vulkan-forced):
 * - Resample: forward against the float64 oracle and backward to X against finite differences
 *   (exact: the output is linear in X, and T is a constant), with random transforms from
 *   cnv_affine_compose (scale 0.8-1.2, rotations up to 30 degrees, subpixel moves), outputs
 *   bigger and smaller than the input, odd sizes, batches with a different T per item, and
 *   sheared, singular and far-away transforms; plus what cnv_affine_compose means on pixels.
 * - Regularize: backward against finite differences of sum(g * x) - penalty(x) in float64.
 * - GradNorm: its backward is not a gradient, so it is checked against a direct float64
 *   computation (tu_oracle_gradnorm_grad). */
#include "test_util.h"

#include "cpu/cpu_ops.h"
#include "opcheck.h"
#include "oracle.h"
#include "vis/transform.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOL 1e-5

#define S2(a, b) ((cnv_shape){2, {a, b}})
#define S4(a, b, c, d) ((cnv_shape){4, {a, b, c, d}})

static void expect_ok(cnv_status s, const char *what) {
    if (s != CNV_OK) fail_msg("%s failed: %s (%s)", what, cnv_status_str(s), cnv_last_error());
}

static void run_case(const tu_opcase *c, uint64_t seed) {
    tu_opcheck_result r;
    tu_opcheck(c, tu_backend, seed, TOL, &r);
    printf("  %-50s %11.2e %11.2e\n", c->label, r.fwd_err, r.bwd_data_err);
    fflush(stdout);
}

/* ---- Resample ---- */

/* A random transform of the kind visualizations draw each step. */
static void random_transform(cnv_rng *r, float T[6]) {
    const float scale = 0.8f + 0.4f * cnv_rng_uniform(r);
    const float angle = -30.0f + 60.0f * cnv_rng_uniform(r);
    const float tx = -1.5f + 3.0f * cnv_rng_uniform(r), ty = -1.5f + 3.0f * cnv_rng_uniform(r);
    cnv_affine_compose(scale, angle, tx, ty, T);
}

static tu_opcase resample_case(const char *label, cnv_shape x, int ho, int wo, const float *T) {
    tu_opcase c;
    memset(&c, 0, sizeof c);
    c.label = label;
    c.op = CNV_OP_RESAMPLE;
    cnv_attrs_default(CNV_OP_RESAMPLE, &c.attrs);
    c.attrs.out_hw[0] = ho;
    c.attrs.out_hw[1] = wo;
    c.n_in = 2;
    c.in_shape[0] = x;
    c.in_shape[1] = S2(x.d[0], 6);
    c.n_const = 1;
    c.const_data[1] = T;
    return c;
}

static void test_resample_random_transforms(void **state) {
    (void)state;
    static const struct {
        const char *label;
        int n, c, hi, wi, ho, wo;
    } shapes[] = {
        {"Resample 1x1x7x9 -> 7x9", 1, 1, 7, 9, 7, 9},
        {"Resample 2x3x7x9 -> 11x12 (bigger)", 2, 3, 7, 9, 11, 12},
        {"Resample 2x2x13x10 -> 5x6 (smaller)", 2, 2, 13, 10, 5, 6},
        {"Resample 3x1x8x8 -> 9x7", 3, 1, 8, 8, 9, 7},
        {"Resample 1x2x1x5 -> 3x4 (one input row)", 1, 2, 1, 5, 3, 4},
    };
    cnv_rng r;
    cnv_rng_seed(&r, 0x7a11u);
    printf("\n%-52s %11s %11s\n", "Resample, random transforms", "forward", "bwd data");
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        float T[3 * 6];
        for (int n = 0; n < shapes[k].n; n++) random_transform(&r, T + 6 * n);
        tu_opcase c = resample_case(shapes[k].label, S4(shapes[k].n, shapes[k].c, shapes[k].hi, shapes[k].wi),
                                    shapes[k].ho, shapes[k].wo, T);
        run_case(&c, 0x5a3e0000u + k);
    }
}

/* Transforms visualizations do not draw but the op must handle: strong zooms, a shear, a
 * singular map (the backward's inverse-based window must fall back to the whole plane), all
 * outputs sampling one point, and a map that lands wholly outside the input (zeros). */
static void test_resample_other_transforms(void **state) {
    (void)state;
    static const struct {
        const char *label;
        float T[12];
    } cases[] = {
        {"Resample zoom x2.5 in / x0.4 out", {0.4f, 0, 0.3f, 0, 0.4f, -0.2f, 2.5f, 0, 0.1f, 0, 2.5f, 0.6f}},
        {"Resample shear / mirror", {1.0f, 0.7f, 0.25f, -0.3f, 0.9f, 0, -1.0f, 0, 0, 0, 1.0f, 0.5f}},
        {"Resample singular (rank 1) / zero", {0.6f, 0.9f, 0.2f, 0.4f, 0.6f, -0.1f, 0, 0, 0.3f, 0, 0, -0.6f}},
        {"Resample outside the input / rotated 180", {1, 0, 40.0f, 0, 1, 0, -1, 0, 0.5f, 0, -1, 0.5f}},
    };
    printf("\n%-52s %11s %11s\n", "Resample, other transforms", "forward", "bwd data");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        tu_opcase c = resample_case(cases[k].label, S4(2, 2, 7, 6), 6, 9, cases[k].T);
        run_case(&c, 0x5a3f0000u + k);
    }
}

/* Forward on the backend under test with a given T: x is [1, 1, h, w], y [1, 1, ho, wo]. */
static void resample_forward(const float *x, int h, int w, const float T[6], float *y, int ho, int wo) {
    cnv_node node = {.name = "resample", .op = CNV_OP_RESAMPLE, .n_in = 2};
    cnv_attrs_default(CNV_OP_RESAMPLE, &node.attrs);
    node.attrs.out_hw[0] = ho;
    node.attrs.out_hw[1] = wo;
    cnv_buf *bx, *bt, *by;
    expect_ok(tu_backend->vt->buf_alloc(tu_backend, (size_t)h * w, &bx), "buf_alloc");
    expect_ok(tu_backend->vt->buf_alloc(tu_backend, 6, &bt), "buf_alloc");
    expect_ok(tu_backend->vt->buf_alloc(tu_backend, (size_t)ho * wo, &by), "buf_alloc");
    expect_ok(tu_backend->vt->buf_write(tu_backend, bx, 0, x, (size_t)h * w), "buf_write");
    expect_ok(tu_backend->vt->buf_write(tu_backend, bt, 0, T, 6), "buf_write");
    cnv_op_io io = {.node = &node, .n_in = 2, .in = {bx, bt}, .in_shape = {S4(1, 1, h, w), S2(1, 6)}, .out = by,
                    .out_shape = S4(1, 1, ho, wo)};
    expect_ok(tu_backend->vt->forward(tu_backend, &io), "forward");
    expect_ok(tu_backend->vt->sync(tu_backend), "sync");
    expect_ok(tu_backend->vt->buf_read(tu_backend, by, 0, y, (size_t)ho * wo), "buf_read");
    tu_backend->vt->buf_free(tu_backend, bx), tu_backend->vt->buf_free(tu_backend, bt);
    tu_backend->vt->buf_free(tu_backend, by);
}

/* What cnv_affine_compose means, on pixels of a 7x7 image (centre (3, 3)): a move by (+2, -1)
 * shows input pixel (row r, column q) at (r - 1, q + 2); a 90 degree turn (clockwise as
 * displayed, y down) shows centred input (x, y) at (-y, x); a zoom by 2 shows centred input
 * (x, y) at (2x, 2y). Each expected value is the input pixel that must land there, 0 when none. */
static void test_affine_compose_on_pixels(void **state) {
    (void)state;
    enum { N = 7, C0 = 3 };
    float x[N * N], y[N * N], T[6];
    for (int i = 0; i < N * N; i++) x[i] = (float)(i + 1);

    cnv_affine_compose(1.0f, 0.0f, 2.0f, -1.0f, T);
    resample_forward(x, N, N, T, y, N, N);
    for (int r = 0; r < N; r++)
        for (int q = 0; q < N; q++) {
            const int sr = r + 1, sq = q - 2; /* the input pixel shown at (r, q) */
            const float want = sr < N && sq >= 0 ? x[sr * N + sq] : 0.0f;
            assert_float_equal(y[r * N + q], want, 1e-5f);
        }

    cnv_affine_compose(1.0f, 90.0f, 0.0f, 0.0f, T);
    resample_forward(x, N, N, T, y, N, N);
    for (int r = 0; r < N; r++)
        for (int q = 0; q < N; q++) {
            const int ox = q - C0, oy = r - C0;    /* output centred; input centred (oy, -ox) */
            assert_float_equal(y[r * N + q], x[(C0 - ox) * N + (C0 + oy)], 1e-4f);
        }

    cnv_affine_compose(2.0f, 0.0f, 0.0f, 0.0f, T);
    resample_forward(x, N, N, T, y, N, N);
    for (int oy = -2; oy <= 2; oy += 2)
        for (int ox = -2; ox <= 2; ox += 2)
            assert_float_equal(y[(C0 + oy) * N + C0 + ox], x[(C0 + oy / 2) * N + C0 + ox / 2], 1e-5f);
    /* Between two input pixels a zoom by 2 interpolates halfway. */
    assert_float_equal(y[C0 * N + C0 + 1], 0.5f * (x[C0 * N + C0] + x[C0 * N + C0 + 1]), 1e-5f);
}

/* cnv_affine_compose is the inverse of p -> scale * R(angle) p + t, for random parameters. */
static void test_affine_compose_inverts_the_motion(void **state) {
    (void)state;
    cnv_rng r;
    cnv_rng_seed(&r, 0xaff1u);
    for (int k = 0; k < 50; k++) {
        const float s = 0.5f + 1.5f * cnv_rng_uniform(&r), deg = -180.0f + 360.0f * cnv_rng_uniform(&r);
        const float tx = -10.0f + 20.0f * cnv_rng_uniform(&r), ty = -10.0f + 20.0f * cnv_rng_uniform(&r);
        const float px = -5.0f + 10.0f * cnv_rng_uniform(&r), py = -5.0f + 10.0f * cnv_rng_uniform(&r);
        float T[6];
        cnv_affine_compose(s, deg, tx, ty, T);
        const double a = deg * acos(-1.0) / 180.0;
        const double ox = s * (cos(a) * px - sin(a) * py) + tx, oy = s * (sin(a) * px + cos(a) * py) + ty;
        assert_float_equal(T[0] * ox + T[1] * oy + T[2], px, 1e-4);
        assert_float_equal(T[3] * ox + T[4] * oy + T[5], py, 1e-4);
    }
}

/* ---- Regularize ---- */

static tu_opcase regularize_case(const char *label, cnv_shape x, float tv, float beta, float l1, float l2,
                                 float center) {
    tu_opcase c;
    memset(&c, 0, sizeof c);
    c.label = label;
    c.op = CNV_OP_REGULARIZE;
    cnv_attrs_default(CNV_OP_REGULARIZE, &c.attrs);
    c.attrs.tv = tv;
    if (beta > 0.0f) c.attrs.tv_beta = beta;
    c.attrs.l1 = l1;
    c.attrs.l2 = l2;
    c.attrs.l_center = center;
    c.n_in = 1;
    c.in_shape[0] = x;
    return c;
}

static void test_regularize(void **state) {
    (void)state;
    const tu_opcase cases[] = {
        regularize_case("Regularize TV beta 2 (default) 1x2x5x7", S4(1, 2, 5, 7), 0.7f, 0.0f, 0, 0, 0),
        regularize_case("Regularize TV beta 1 2x1x6x5", S4(2, 1, 6, 5), 0.5f, 1.0f, 0, 0, 0),
        regularize_case("Regularize TV beta 3 1x1x4x9", S4(1, 1, 4, 9), 1.3f, 3.0f, 0, 0, 0),
        regularize_case("Regularize L1 about 0.2 1x3x3x5", S4(1, 3, 3, 5), 0, 0.0f, 0.8f, 0, 0.2f),
        regularize_case("Regularize L2 about -0.3 2x2x3x3", S4(2, 2, 3, 3), 0, 0.0f, 0, 1.7f, -0.3f),
        regularize_case("Regularize all, beta 1.5, 2x3x7x6", S4(2, 3, 7, 6), 0.4f, 1.5f, 0.3f, 0.6f, 0.1f),
        regularize_case("Regularize TV one row 1x2x1x8", S4(1, 2, 1, 8), 0.9f, 1.0f, 0, 0, 0),
        regularize_case("Regularize TV one column 1x1x9x1", S4(1, 1, 9, 1), 0.9f, 2.0f, 0.1f, 0, 0),
        regularize_case("Regularize 1x1x37x41 (many workgroups)", S4(1, 1, 37, 41), 0.2f, 1.0f, 0.05f, 0.1f, 0),
    };
    printf("\n%-52s %11s %11s\n", "Regularize (FD of sum(g*x) - penalty)", "forward", "bwd data");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) run_case(&cases[k], 0x7e600000u + k);
}

/* Runs a one-input op forward and backward on the backend under test; dx is prefilled with
 * `prefill` and holds the accumulated result. */
static void run_passthrough(const cnv_node *node, cnv_shape shape, const float *x, const float *dy,
                            const float *prefill, float *y, float *dx) {
    const size_t n = cnv_shape_numel(&shape);
    cnv_buf *b[4];
    for (int i = 0; i < 4; i++) expect_ok(tu_backend->vt->buf_alloc(tu_backend, n, &b[i]), "buf_alloc");
    expect_ok(tu_backend->vt->buf_write(tu_backend, b[0], 0, x, n), "buf_write");
    expect_ok(tu_backend->vt->buf_write(tu_backend, b[2], 0, dy, n), "buf_write");
    expect_ok(tu_backend->vt->buf_write(tu_backend, b[3], 0, prefill, n), "buf_write");
    cnv_op_io io = {.node = node, .n_in = 1, .in = {b[0]}, .in_shape = {shape}, .out = b[1], .out_shape = shape,
                    .grad_out = b[2], .grad_in = {b[3]}};
    expect_ok(tu_backend->vt->forward(tu_backend, &io), "forward");
    expect_ok(tu_backend->vt->backward(tu_backend, &io), "backward");
    expect_ok(tu_backend->vt->sync(tu_backend), "sync");
    expect_ok(tu_backend->vt->buf_read(tu_backend, b[1], 0, y, n), "buf_read");
    expect_ok(tu_backend->vt->buf_read(tu_backend, b[3], 0, dx, n), "buf_read");
    for (int i = 0; i < 4; i++) tu_backend->vt->buf_free(tu_backend, b[i]);
}

/* sign(0) = 0: pixels exactly at l_center pass dY through unchanged by the L1 term. */
static void test_regularize_sign_at_center(void **state) {
    (void)state;
    enum { N = 12 };
    const float c = 0.25f;
    float x[N], dy[N], prefill[N], y[N], dx[N];
    cnv_rng r;
    cnv_rng_seed(&r, 0x5166u);
    tu_fill_uniform(&r, x, N, -1.0f, 1.0f);
    tu_fill_uniform(&r, dy, N, -1.0f, 1.0f);
    tu_fill_uniform(&r, prefill, N, -1.0f, 1.0f);
    for (int i = 0; i < N; i += 3) x[i] = c;
    cnv_node node = {.name = "reg", .op = CNV_OP_REGULARIZE, .n_in = 1};
    cnv_attrs_default(CNV_OP_REGULARIZE, &node.attrs);
    node.attrs.l1 = 0.5f;
    node.attrs.l_center = c;
    run_passthrough(&node, S4(1, 1, 3, 4), x, dy, prefill, y, dx);
    for (int i = 0; i < N; i++) {
        const float sign = x[i] > c ? 1.0f : x[i] < c ? -1.0f : 0.0f;
        assert_float_equal(y[i], x[i], 0.0f);
        assert_float_equal(dx[i], prefill[i] + dy[i] - 0.5f * sign, 1e-6f);
    }
}

/* ---- GradNorm ---- */

/* GradNorm on the backend against tu_oracle_gradnorm_grad; items are scaled differently so that
 * a normalization over the whole batch instead of per item would fail. */
static void check_gradnorm(const char *label, cnv_shape shape, int clip_mode, float clip, int zero_item) {
    const size_t n = cnv_shape_numel(&shape), per_item = n / (size_t)shape.d[0];
    float *x = malloc(n * sizeof(float)), *dy = malloc(n * sizeof(float)), *prefill = malloc(n * sizeof(float));
    float *y = malloc(n * sizeof(float)), *dx = malloc(n * sizeof(float));
    double *dyd = malloc(n * sizeof(double)), *want = malloc(n * sizeof(double)), *got = malloc(n * sizeof(double));
    assert_true(x && dy && prefill && y && dx && dyd && want && got);
    cnv_rng r;
    cnv_rng_seed(&r, 0x96a0u + n);
    tu_fill_uniform(&r, x, n, -1.0f, 1.0f);
    tu_fill_uniform(&r, dy, n, -1.0f, 1.0f);
    tu_fill_uniform(&r, prefill, n, -1.0f, 1.0f);
    for (size_t i = 0; i < n; i++) {
        const size_t item = i / per_item;
        dy[i] *= item == (size_t)zero_item ? 0.0f : powf(10.0f, (float)item - 1.0f);
        dyd[i] = dy[i];
    }
    cnv_node node = {.name = "gradnorm", .op = CNV_OP_GRADNORM, .n_in = 1};
    cnv_attrs_default(CNV_OP_GRADNORM, &node.attrs);
    node.attrs.gradnorm_clip = clip_mode;
    node.attrs.clip = clip;
    run_passthrough(&node, shape, x, dy, prefill, y, dx);
    tu_oracle_gradnorm_grad(&node.attrs, &shape, dyd, want);
    for (size_t i = 0; i < n; i++) {
        assert_float_equal(y[i], x[i], 0.0f);
        got[i] = (double)dx[i] - (double)prefill[i];
    }
    const double err = tu_rel_error_d(got, want, n);
    printf("  %-50s %11.2e\n", label, err);
    if (!(err < TOL)) fail_msg("%s: error %.3g >= %.3g", label, err, TOL);
    if (zero_item >= 0) /* 0 / (0 + eps) adds nothing */
        for (size_t i = (size_t)zero_item * per_item; i < (size_t)(zero_item + 1) * per_item; i++)
            assert_float_equal(dx[i], prefill[i], 0.0f);
    free(x), free(dy), free(prefill), free(y), free(dx), free(dyd), free(want), free(got);
}

static void test_gradnorm(void **state) {
    (void)state;
    printf("\n%-52s %11s\n", "GradNorm (direct float64)", "bwd data");
    check_gradnorm("GradNorm mean|g| 3x2x5x7", S4(3, 2, 5, 7), 0, 0.0f, -1);
    check_gradnorm("GradNorm mean|g| 2x3x17x19, item 1 zero", S4(2, 3, 17, 19), 0, 0.0f, 1);
    check_gradnorm("GradNorm mean|g| 1x1x1x3", S4(1, 1, 1, 3), 0, 0.0f, -1);
    check_gradnorm("GradNorm clip 0.3 3x2x5x7", S4(3, 2, 5, 7), 1, 0.3f, -1);
    check_gradnorm("GradNorm clip 2.0 2x3x17x19", S4(2, 3, 17, 19), 1, 2.0f, -1);
}

int main(int argc, char **argv) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resample_random_transforms),
        cmocka_unit_test(test_resample_other_transforms),
        cmocka_unit_test(test_affine_compose_on_pixels),
        cmocka_unit_test(test_affine_compose_inverts_the_motion),
        cmocka_unit_test(test_regularize),
        cmocka_unit_test(test_regularize_sign_at_center),
        cmocka_unit_test(test_gradnorm),
    };
    return TU_RUN_BACKEND_SUITE(argc, argv, tests);
}
