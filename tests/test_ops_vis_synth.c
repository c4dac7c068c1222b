/* Gram and SquaredDistance (the objectives of style transfer, image inversion and DeepDream) on
 * the backend under test (cpu, vulkan, vulkan-forced):
 * - small odd shapes against the float64 oracle and central finite differences (tu_opcheck; both
 *   ops are quadratic, so the differences are exact up to rounding), channel counts that do not
 *   divide any tile, items of one element, SquaredDistance over 1-D, 2-D and 4-D tensors with
 *   several alphas and items long enough to tu_backend shared by a whole workgroup;
 * - a VGG-sized Gram (512 channels of 113x113) on the CPU backend against the oracle sampled at
 *   random entries of G and of dF;
 * - on the Vulkan backends, mid-size runs, long reductions (planes of 100k positions, items of
 *   millions of values) and the VGG size when CNNVIS_TEST_DEVICE names a real GPU, against the
 *   CPU backend element by element;
 * - the style loss alpha/2 |Gram(X) - T|^2 as a graph run by the executor, T an initializer. */
#include "opcheck.h"
#include "oracle.h"
#include "test_util.h"

#include "core/exec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOL 1e-5

static tu_opcase gram_case(const char *label, int N, int C, int H, int W) {
    tu_opcase c = {.label = label, .op = CNV_OP_GRAM, .n_in = 1, .in_shape = {cnv_shape4(N, C, H, W)}};
    cnv_attrs_default(CNV_OP_GRAM, &c.attrs);
    return c;
}

/* target holds the constant T (numel of x floats). */
static tu_opcase sqdist_case(const char *label, cnv_shape x, float alpha, const float *target) {
    tu_opcase c = {.label = label, .op = CNV_OP_SQDIST, .n_in = 2, .in_shape = {x, x}, .n_const = 1,
                   .const_data = {NULL, target}};
    cnv_attrs_default(CNV_OP_SQDIST, &c.attrs);
    c.attrs.alpha = alpha;
    return c;
}

/* Runs every case on the backend under test and prints one table row per case. */
#define RUN(title, cases) tu_opcheck_table(tu_backend, title, cases, sizeof(cases) / sizeof(cases[0]), 0x5ca1ab1eu, TOL)

static void test_gram_small(void **state) {
    (void)state;
    const tu_opcase cases[] = {
        gram_case("gram 1x1x1x1", 1, 1, 1, 1),
        gram_case("gram 2x3x5x7", 2, 3, 5, 7),
        gram_case("gram 3x5x4x3", 3, 5, 4, 3),
        gram_case("gram 1x17x6x5 (C divides no tile)", 1, 17, 6, 5),
        gram_case("gram 2x8x1x1 (one position)", 2, 8, 1, 1),
        gram_case("gram 1x2x13x11 (long rows)", 1, 2, 13, 11),
        gram_case("gram 2x37x9x11 (several tiles)", 2, 37, 9, 11),
    };
    RUN("Gram vs oracle", cases);
}

static void test_sqdist_small(void **state) {
    (void)state;
    /* Targets drawn like the inputs, so X - T takes both signs and sizes. */
    static float t[3][2 * 3 * 40 * 40];
    cnv_rng r;
    cnv_rng_seed(&r, 0x7a59e7u);
    for (int k = 0; k < 3; k++) tu_fill_uniform(&r, t[k], sizeof t[k] / sizeof(float), -1.0f, 1.0f);
    const tu_opcase cases[] = {
        sqdist_case("sqdist [1,1]", (cnv_shape){2, {1, 1}}, 1.0f, t[0]),
        sqdist_case("sqdist [5] (1-D: items of one value)", (cnv_shape){1, {5}}, 1.0f, t[1]),
        sqdist_case("sqdist [3,4] alpha 2", (cnv_shape){2, {3, 4}}, 2.0f, t[2]),
        sqdist_case("sqdist 2x3x5x7", cnv_shape4(2, 3, 5, 7), 1.0f, t[0]),
        sqdist_case("sqdist 2x3x5x7 alpha 0.25", cnv_shape4(2, 3, 5, 7), 0.25f, t[1]),
        sqdist_case("sqdist 4x1x1x1 alpha -3 (a negative weight)", cnv_shape4(4, 1, 1, 1), -3.0f, t[2]),
        sqdist_case("sqdist 3x2x9x11", cnv_shape4(3, 2, 9, 11), 1.0f, t[0]),
        sqdist_case("sqdist 2x3x40x40 (workgroup-wide lines)", cnv_shape4(2, 3, 40, 40), 0.5f, t[1]),
    };
    RUN("SquaredDistance vs oracle (target constant)", cases);
}

/* T = X gives exactly zero and leaves the gradient as it was (X - T = 0 everywhere). */
static void test_sqdist_zero_at_target(void **state) {
    (void)state;
    enum { N = 3, PER = 2 * 7 * 5 };
    float x[N * PER], y[N], dy[N] = {1.0f, -2.0f, 0.5f}, dx[N * PER];
    cnv_rng r;
    cnv_rng_seed(&r, 0x2e40u);
    tu_fill_uniform(&r, x, N * PER, -3.0f, 3.0f);
    for (int i = 0; i < N * PER; i++) dx[i] = (float)i;
    cnv_node node = {.name = "sqdist", .op = CNV_OP_SQDIST, .n_in = 2};
    cnv_attrs_default(CNV_OP_SQDIST, &node.attrs);
    const cnv_shape s = cnv_shape4(N, 2, 7, 5);
    cnv_buf *bx, *bt, *by, *bdy, *bdx;
    tu_expect_ok(tu_backend->vt->buf_alloc(tu_backend, N * PER, &bx));
    tu_expect_ok(tu_backend->vt->buf_alloc(tu_backend, N * PER, &bt));
    tu_expect_ok(tu_backend->vt->buf_alloc(tu_backend, N, &by));
    tu_expect_ok(tu_backend->vt->buf_alloc(tu_backend, N, &bdy));
    tu_expect_ok(tu_backend->vt->buf_alloc(tu_backend, N * PER, &bdx));
    tu_expect_ok(tu_backend->vt->buf_write(tu_backend, bx, 0, x, N * PER));
    tu_expect_ok(tu_backend->vt->buf_write(tu_backend, bt, 0, x, N * PER));
    tu_expect_ok(tu_backend->vt->buf_write(tu_backend, bdy, 0, dy, N));
    tu_expect_ok(tu_backend->vt->buf_write(tu_backend, bdx, 0, dx, N * PER));
    cnv_op_io io = {.node = &node, .n_in = 2, .in = {bx, bt}, .in_shape = {s, s}, .out = by,
                    .out_shape = (cnv_shape){2, {N, 1}}, .grad_out = bdy, .grad_in = {bdx, NULL}};
    tu_expect_ok(tu_backend->vt->forward(tu_backend, &io));
    tu_expect_ok(tu_backend->vt->backward(tu_backend, &io));
    tu_expect_ok(tu_backend->vt->sync(tu_backend));
    tu_expect_ok(tu_backend->vt->buf_read(tu_backend, by, 0, y, N));
    tu_expect_ok(tu_backend->vt->buf_read(tu_backend, bdx, 0, dx, N * PER));
    for (int n = 0; n < N; n++) assert_float_equal(y[n], 0.0f, 0.0f);
    for (int i = 0; i < N * PER; i++) assert_float_equal(dx[i], (float)i, 0.0f);
    tu_backend->vt->buf_free(tu_backend, bx), tu_backend->vt->buf_free(tu_backend, bt);
    tu_backend->vt->buf_free(tu_backend, by);
    tu_backend->vt->buf_free(tu_backend, bdy), tu_backend->vt->buf_free(tu_backend, bdx);
}

/* One op's forward, then its backward from dx = 0, on a backend; x holds every input in order
 * (X, then T for SquaredDistance). */
typedef struct big_run {
    cnv_node node;
    cnv_shape in_shape, out_shape;
    size_t nx, ny;
    float *x, *t, *dy, *y, *dx;
} big_run;

static void big_run_make(big_run *r, cnv_op_type op, cnv_shape in_shape, uint64_t seed) {
    memset(r, 0, sizeof *r);
    r->node = (cnv_node){.name = "big", .op = op, .n_in = op == CNV_OP_SQDIST ? 2 : 1};
    cnv_attrs_default(op, &r->node.attrs);
    r->in_shape = in_shape;
    const cnv_shape ins[2] = {in_shape, in_shape};
    tu_expect_ok(cnv_op_infer_shape(op, &r->node.attrs, r->node.n_in, ins, &r->out_shape, "big"));
    r->nx = cnv_shape_numel(&in_shape);
    r->ny = cnv_shape_numel(&r->out_shape);
    r->x = tu_calloc(r->nx, sizeof(float));
    r->t = tu_calloc(r->nx, sizeof(float));
    r->dy = tu_calloc(r->ny, sizeof(float));
    r->y = tu_calloc(r->ny, sizeof(float));
    r->dx = tu_calloc(r->nx, sizeof(float));
    cnv_rng g;
    cnv_rng_seed(&g, seed);
    /* Non-negative features, as after a Relu: the Gram entries do not cancel out. */
    tu_fill_uniform(&g, r->x, r->nx, op == CNV_OP_GRAM ? 0.0f : -1.0f, 1.0f);
    tu_fill_uniform(&g, r->t, r->nx, -1.0f, 1.0f);
    tu_fill_uniform(&g, r->dy, r->ny, -1.0f, 1.0f);
}

static void big_run_on(big_run *r, cnv_backend *b) {
    const int two = r->node.n_in == 2;
    cnv_buf *bx, *bt = NULL, *by, *bdy, *bdx;
    tu_expect_ok(b->vt->buf_alloc(b, r->nx, &bx));
    if (two) tu_expect_ok(b->vt->buf_alloc(b, r->nx, &bt));
    tu_expect_ok(b->vt->buf_alloc(b, r->ny, &by));
    tu_expect_ok(b->vt->buf_alloc(b, r->ny, &bdy));
    tu_expect_ok(b->vt->buf_alloc(b, r->nx, &bdx));
    tu_expect_ok(b->vt->buf_write(b, bx, 0, r->x, r->nx));
    if (two) tu_expect_ok(b->vt->buf_write(b, bt, 0, r->t, r->nx));
    tu_expect_ok(b->vt->buf_write(b, bdy, 0, r->dy, r->ny));
    tu_expect_ok(b->vt->buf_fill(b, bdx, 0.0f, r->nx));
    cnv_op_io io = {.node = &r->node, .n_in = r->node.n_in, .in = {bx, bt}, .in_shape = {r->in_shape, r->in_shape},
                    .out = by, .out_shape = r->out_shape, .grad_out = bdy, .grad_in = {bdx, NULL}};
    tu_expect_ok(b->vt->forward(b, &io));
    tu_expect_ok(b->vt->backward(b, &io));
    tu_expect_ok(b->vt->sync(b));
    tu_expect_ok(b->vt->buf_read(b, by, 0, r->y, r->ny));
    tu_expect_ok(b->vt->buf_read(b, bdx, 0, r->dx, r->nx));
    b->vt->buf_free(b, bx), b->vt->buf_free(b, by), b->vt->buf_free(b, bdy), b->vt->buf_free(b, bdx);
    if (two) b->vt->buf_free(b, bt);
}

static void big_run_free(big_run *r) { free(r->x), free(r->t), free(r->dy), free(r->y), free(r->dx); }

/* Max over sampled entries of |got - want| / (max |want| over them): entries of G and dF vary in
 * size, so each is judged against the largest. */
static double sampled_error(const double *got, const double *want, int n) {
    double diff = 0.0, scale = 0.0;
    for (int k = 0; k < n; k++) diff = fmax(diff, fabs(got[k] - want[k])), scale = fmax(scale, fabs(want[k]));
    return scale > 0.0 ? diff / scale : diff;
}

/* Gram at VGG sizes on the CPU backend (the Vulkan backends compare with it in
 * test_matches_cpu): 64 random entries of G and of dF against direct float64 sums. */
static void test_gram_vgg_size_sampled(void **state) {
    (void)state;
    if (strcmp(tu_backend_name, "cpu") != 0) skip();
    enum { SAMPLES = 64 };
    const int C = 512, H = 113, W = 113;
    const size_t P = (size_t)H * W;
    big_run r;
    big_run_make(&r, CNV_OP_GRAM, cnv_shape4(1, C, H, W), 0x6a11u);
    big_run_on(&r, tu_backend);
    double got_g[SAMPLES], want_g[SAMPLES], got_dx[SAMPLES], want_dx[SAMPLES];
    cnv_rng g;
    cnv_rng_seed(&g, 0x5a3u);
    for (int k = 0; k < SAMPLES; k++) {
        const int i = (int)cnv_rng_below(&g, (uint32_t)C), j = (int)cnv_rng_below(&g, (uint32_t)C);
        double sum = 0.0;
        for (size_t p = 0; p < P; p++) sum += (double)r.x[i * P + p] * r.x[j * P + p];
        got_g[k] = r.y[(size_t)i * C + j];
        want_g[k] = sum / (double)P;
        /* dF[i, p] = (1/P) sum_j (dG[i, j] + dG[j, i]) F[j, p] */
        const size_t p = cnv_rng_below(&g, (uint32_t)P);
        sum = 0.0;
        for (int m = 0; m < C; m++)
            sum += ((double)r.dy[(size_t)i * C + m] + r.dy[(size_t)m * C + i]) * r.x[m * P + p];
        got_dx[k] = r.dx[i * P + p];
        want_dx[k] = sum / (double)P;
    }
    const double fwd = sampled_error(got_g, want_g, SAMPLES), bwd = sampled_error(got_dx, want_dx, SAMPLES);
    printf("\n  %-48s %11.2e %11.2e\n", "gram 1x512x113x113, 64 sampled entries", fwd, bwd);
    if (!(fwd < TOL) || !(bwd < TOL)) fail_msg("gram 1x512x113x113: forward %.3g, backward %.3g >= %.3g", fwd, bwd, TOL);
    big_run_free(&r);
}

/* On the Vulkan backends: every element of larger runs against the CPU backend. The VGG-sized
 * Gram runs only on a device named by CNNVIS_TEST_DEVICE (llvmpipe would take minutes). */
static void test_matches_cpu(void **state) {
    (void)state;
    if (strcmp(tu_backend_name, "cpu") == 0) skip();
    const int real_device = getenv("CNNVIS_TEST_DEVICE") != NULL;
    cnv_backend *cpu = tu_backend_create("cpu");
    const struct {
        const char *label;
        cnv_op_type op;
        cnv_shape shape;
        int needs_real_device;
    } cases[] = {
        {"gram 2x96x29x31", CNV_OP_GRAM, cnv_shape4(2, 96, 29, 31), 0},
        {"gram 1x130x17x19", CNV_OP_GRAM, cnv_shape4(1, 130, 17, 19), 0},
        {"sqdist 2x64x56x56", CNV_OP_SQDIST, cnv_shape4(2, 64, 56, 56), 0},
        {"sqdist 1x3x227x227", CNV_OP_SQDIST, cnv_shape4(1, 3, 227, 227), 0},
        /* Long reductions: several position chunks of the Gram forward, and an item of 4.8M values
         * (each past llvmpipe's cap of 65535 loop iterations per shader for a plain loop). */
        {"gram 1x6x400x260 (7 position chunks)", CNV_OP_GRAM, cnv_shape4(1, 6, 400, 260), 0},
        {"sqdist 1x4x1100x1100 (4.8M values per item)", CNV_OP_SQDIST, cnv_shape4(1, 4, 1100, 1100), 0},
        {"gram 2x512x113x113", CNV_OP_GRAM, cnv_shape4(2, 512, 113, 113), 1},
        {"sqdist 2x512x113x113", CNV_OP_SQDIST, cnv_shape4(2, 512, 113, 113), 1},
    };
    printf("\n%-50s %11s %11s\n", "GPU vs CPU backend, every element", "forward", "bwd data");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        if (cases[k].needs_real_device && !real_device) {
            printf("  %-48s (only with CNNVIS_TEST_DEVICE)\n", cases[k].label);
            continue;
        }
        big_run gpu, ref;
        big_run_make(&gpu, cases[k].op, cases[k].shape, 0xc0u + k);
        big_run_make(&ref, cases[k].op, cases[k].shape, 0xc0u + k);
        big_run_on(&gpu, tu_backend);
        big_run_on(&ref, cpu);
        const double fwd = tu_rel_error(gpu.y, ref.y, gpu.ny), bwd = tu_rel_error(gpu.dx, ref.dx, gpu.nx);
        printf("  %-48s %11.2e %11.2e\n", cases[k].label, fwd, bwd);
        fflush(stdout);
        if (!(fwd < TOL) || !(bwd < TOL))
            fail_msg("%s: forward %.3g, backward %.3g >= %.3g", cases[k].label, fwd, bwd, TOL);
        big_run_free(&gpu);
        big_run_free(&ref);
    }
    tu_backend_free(cpu);
}

/* The style loss as a graph run by the executor: L = alpha/2 * |Gram(X) - T|^2 with T an
 * initializer. Forward against the composed float64 oracles, dL/dX against their central finite
 * differences (L is quartic in X: the step's O(h^2) error is far below the tolerance). With
 * want_weights the executor hands SquaredDistance a gradient slot for T, which stays untouched. */
static double style_loss_oracle(const double *x, const cnv_shape *xs, const double *t, const cnv_shape *gs,
                                const cnv_attrs *sq) {
    const size_t ng = cnv_shape_numel(gs);
    double *g = tu_calloc(ng, sizeof(double)), loss;
    const double *gram_in[1] = {x}, *sq_in[2] = {g, t};
    const cnv_shape sq_shapes[2] = {*gs, *gs}, one = {2, {1, 1}};
    tu_oracle_forward(CNV_OP_GRAM, sq, 1, gram_in, xs, g, gs);
    tu_oracle_forward(CNV_OP_SQDIST, sq, 2, sq_in, sq_shapes, &loss, &one);
    free(g);
    return loss;
}

static void test_style_loss_through_executor(void **state) {
    (void)state;
    enum { C = 4, H = 5, W = 3, NX = C * H * W, NG = C * C };
    const cnv_shape xs = cnv_shape4(1, C, H, W), gs = cnv_shape4(1, 1, C, C), ls = {2, {1, 1}};
    float x[NX], t[NG];
    cnv_rng r;
    cnv_rng_seed(&r, 0x57e1u);
    tu_fill_uniform(&r, x, NX, 0.0f, 1.0f);
    tu_fill_uniform(&r, t, NG, 0.0f, 0.5f);
    cnv_graph *g = cnv_graph_new("style loss");
    assert_non_null(g);
    const int vx = cnv_graph_add_value(g, "features", &xs, NULL), vg = cnv_graph_add_value(g, "gram", &gs, NULL);
    const int vt = cnv_graph_add_value(g, "target_gram", &gs, t), vl = cnv_graph_add_value(g, "loss", &ls, NULL);
    assert_true(vx >= 0 && vg >= 0 && vt >= 0 && vl >= 0);
    cnv_attrs ga, sa;
    cnv_attrs_default(CNV_OP_GRAM, &ga);
    cnv_attrs_default(CNV_OP_SQDIST, &sa);
    sa.alpha = 3.0f;
    const int sq_in[2] = {vg, vt};
    assert_true(cnv_graph_add_node(g, "gram", CNV_OP_GRAM, &ga, 1, &vx, vg) >= 0);
    assert_true(cnv_graph_add_node(g, "style", CNV_OP_SQDIST, &sa, 2, sq_in, vl) >= 0);
    g->input = vx;
    g->output = vl;

    cnv_exec *ex;
    tu_expect_ok(cnv_exec_create(g, tu_backend, 1, &ex));
    tu_expect_ok(cnv_exec_set_input(ex, x));
    tu_expect_ok(cnv_exec_forward(ex, 1));
    float loss, dx[NX], dt[NG];
    const float seed = 1.0f;
    tu_expect_ok(cnv_exec_read(ex, vl, &loss));
    tu_expect_ok(cnv_exec_backward(ex, vl, &seed, 1));
    tu_expect_ok(cnv_exec_read_grad(ex, vx, dx));
    tu_expect_ok(cnv_exec_read_grad(ex, vt, dt));

    double xd[NX], td[NG], got[NX], want[NX];
    for (int i = 0; i < NX; i++) xd[i] = x[i], got[i] = dx[i];
    for (int i = 0; i < NG; i++) td[i] = t[i];
    const double want_loss = style_loss_oracle(xd, &xs, td, &gs, &sa), h = 1e-4;
    for (int i = 0; i < NX; i++) {
        const double x0 = xd[i];
        xd[i] = x0 + h;
        const double up = style_loss_oracle(xd, &xs, td, &gs, &sa);
        xd[i] = x0 - h;
        const double down = style_loss_oracle(xd, &xs, td, &gs, &sa);
        xd[i] = x0;
        want[i] = (up - down) / (2.0 * h);
    }
    const double fwd = fabs(loss - want_loss) / fabs(want_loss), bwd = tu_rel_error_d(got, want, NX);
    printf("\n  %-48s %11.2e %11.2e\n", "style loss graph (executor)", fwd, bwd);
    if (!(fwd < TOL) || !(bwd < TOL)) fail_msg("style loss graph: forward %.3g, backward %.3g >= %.3g", fwd, bwd, TOL);
    for (int i = 0; i < NG; i++) assert_float_equal(dt[i], 0.0f, 0.0f);
    cnv_exec_free(ex);
    cnv_graph_free(g);
}

int main(int argc, char **argv) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gram_small),
        cmocka_unit_test(test_sqdist_small),
        cmocka_unit_test(test_sqdist_zero_at_target),
        cmocka_unit_test(test_gram_vgg_size_sampled),
        cmocka_unit_test(test_matches_cpu),
        cmocka_unit_test(test_style_loss_through_executor),
    };
    return TU_RUN_BACKEND_SUITE(argc, argv, tests);
}
