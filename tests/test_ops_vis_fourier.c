/* Fourier (spectral parameterization) and Blur on the backend under test (cpu, vulkan,
 * vulkan-forced): small odd shapes against the float64 oracle and finite differences
 * (tu_opcheck); image sizes of real use (227x227, 512x512) against the oracle sampled at random
 * pixels and coefficients (the whole oracle is O((HW)^2)); on the Vulkan backends the same large
 * runs against the CPU backend element by element. Also: ONNX export refuses both ops. */
#include "opcheck.h"
#include "oracle.h"
#include "test_util.h"

#include "cnnvis/convert.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOL 1e-5

static tu_opcase fourier_case(const char *label, int N, int C, int H, int W, float decay) {
    tu_opcase c = {.label = label, .op = CNV_OP_FOURIER, .n_in = 1, .in_shape = {cnv_shape4(N, 2 * C, H, W / 2 + 1)}};
    cnv_attrs_default(CNV_OP_FOURIER, &c.attrs);
    c.attrs.out_hw[0] = H;
    c.attrs.out_hw[1] = W;
    c.attrs.decay = decay;
    return c;
}

static tu_opcase blur_case(const char *label, cnv_shape in, float sigma) {
    tu_opcase c = {.label = label, .op = CNV_OP_BLUR, .n_in = 1, .in_shape = {in}};
    cnv_attrs_default(CNV_OP_BLUR, &c.attrs);
    c.attrs.sigma = sigma;
    return c;
}

/* Runs every case on the backend under test and prints one table row per case. */
#define RUN(title, cases) tu_opcheck_table(tu_backend, title, cases, sizeof(cases) / sizeof(cases[0]), 0xf0b1a000u, TOL)

static void test_fourier_small(void **state) {
    (void)state;
    const tu_opcase cases[] = {
        fourier_case("fourier 1x2x7x9 decay 1", 1, 2, 7, 9, 1.0f),
        fourier_case("fourier 2x1x8x6 decay 1", 2, 1, 8, 6, 1.0f),
        fourier_case("fourier 1x3x5x5 decay 0", 1, 3, 5, 5, 0.0f),
        fourier_case("fourier 1x1x4x7 decay 1.5", 1, 1, 4, 7, 1.5f),
        fourier_case("fourier 1x1x6x1", 1, 1, 6, 1, 1.0f),
        fourier_case("fourier 1x1x1x1", 1, 1, 1, 1, 1.0f),
        /* prime factors above 16: the matrix-product DFTs, not FFTW's (CPU) */
        fourier_case("fourier 2x2x17x19 decay 1", 2, 2, 17, 19, 1.0f),
        fourier_case("fourier 1x1x4x23 decay 1", 1, 1, 4, 23, 1.0f),
        /* even sizes there (rows and columns their own mirror), and no sine terms (H <= 2) */
        fourier_case("fourier 1x1x34x4 decay 1", 1, 1, 34, 4, 1.0f),
        fourier_case("fourier 1x2x6x34 decay 1", 1, 2, 6, 34, 1.0f),
        fourier_case("fourier 1x1x2x17 decay 1", 1, 1, 2, 17, 1.0f),
        fourier_case("fourier 1x2x1x19 decay 1", 1, 2, 1, 19, 1.0f),
    };
    RUN("Fourier vs oracle", cases);
}

static void test_blur_small(void **state) {
    (void)state;
    const tu_opcase cases[] = {
        blur_case("blur 2x2x7x9 sigma 1", cnv_shape4(2, 2, 7, 9), 1.0f),
        blur_case("blur 1x3x6x5 sigma 0.6", cnv_shape4(1, 3, 6, 5), 0.6f),
        blur_case("blur 1x2x4x3 sigma 0 (identity)", cnv_shape4(1, 2, 4, 3), 0.0f),
        blur_case("blur 1x1x5x4 sigma 2 (taps past both edges)", cnv_shape4(1, 1, 5, 4), 2.0f),
        blur_case("blur 1x2x1x11 sigma 1.3", cnv_shape4(1, 2, 1, 11), 1.3f),
        blur_case("blur 1x3x17x19 sigma 0.8", cnv_shape4(1, 3, 17, 19), 0.8f),
    };
    RUN("Blur vs oracle", cases);
}

/* One op's forward and backward on a backend. dx holds the prefill on entry and the
 * accumulated gradient on return. */
static void run_op(cnv_backend *b, const cnv_node *node, const cnv_shape *in_shape, const float *x,
                   const cnv_shape *out_shape, float *y, const float *dy, float *dx) {
    const size_t nx = cnv_shape_numel(in_shape), ny = cnv_shape_numel(out_shape);
    cnv_buf *bx, *by, *bdy, *bdx;
    tu_expect_ok(b->vt->buf_alloc(b, nx, &bx));
    tu_expect_ok(b->vt->buf_alloc(b, ny, &by));
    tu_expect_ok(b->vt->buf_alloc(b, ny, &bdy));
    tu_expect_ok(b->vt->buf_alloc(b, nx, &bdx));
    tu_expect_ok(b->vt->buf_write(b, bx, 0, x, nx));
    tu_expect_ok(b->vt->buf_write(b, bdy, 0, dy, ny));
    tu_expect_ok(b->vt->buf_write(b, bdx, 0, dx, nx));
    cnv_op_io io = {.node = node, .n_in = 1, .in = {bx}, .in_shape = {*in_shape}, .out = by, .out_shape = *out_shape,
                    .grad_out = bdy, .grad_in = {bdx}};
    tu_expect_ok(b->vt->forward(b, &io));
    tu_expect_ok(b->vt->backward(b, &io));
    tu_expect_ok(b->vt->sync(b));
    tu_expect_ok(b->vt->buf_read(b, by, 0, y, ny));
    tu_expect_ok(b->vt->buf_read(b, bdx, 0, dx, nx));
    b->vt->buf_free(b, bx), b->vt->buf_free(b, by), b->vt->buf_free(b, bdy), b->vt->buf_free(b, bdx);
}

/* Inputs of a large case, and its results on the backend under test. */
typedef struct large_run {
    cnv_node node;
    cnv_shape in_shape, out_shape;
    size_t nx, ny;
    float *x, *dy, *prefill, *y, *dx;
} large_run;

static void large_run_make(large_run *r, cnv_op_type op, const cnv_attrs *attrs, cnv_shape in_shape, uint64_t seed) {
    memset(r, 0, sizeof *r);
    r->node = (cnv_node){.name = "large", .op = op, .attrs = *attrs, .n_in = 1};
    r->in_shape = in_shape;
    tu_expect_ok(cnv_op_infer_shape(op, &r->node.attrs, 1, &in_shape, &r->out_shape, "large"));
    r->nx = cnv_shape_numel(&in_shape);
    r->ny = cnv_shape_numel(&r->out_shape);
    r->x = tu_calloc(r->nx, sizeof(float));
    r->prefill = tu_calloc(r->nx, sizeof(float));
    r->dx = tu_calloc(r->nx, sizeof(float));
    r->dy = tu_calloc(r->ny, sizeof(float)), r->y = tu_calloc(r->ny, sizeof(float));
    cnv_rng rng;
    cnv_rng_seed(&rng, seed);
    tu_fill_uniform(&rng, r->x, r->nx, -1.0f, 1.0f);
    tu_fill_uniform(&rng, r->dy, r->ny, -1.0f, 1.0f);
    tu_fill_uniform(&rng, r->prefill, r->nx, -1.0f, 1.0f);
}

/* Runs on b; the gradient returned in r->dx excludes the prefill. */
static void large_run_on(large_run *r, cnv_backend *b) {
    memcpy(r->dx, r->prefill, r->nx * sizeof(float));
    run_op(b, &r->node, &r->in_shape, r->x, &r->out_shape, r->y, r->dy, r->dx);
    for (size_t i = 0; i < r->nx; i++) r->dx[i] = (float)((double)r->dx[i] - r->prefill[i]);
}

static void large_run_free(large_run *r) {
    free(r->x), free(r->dy), free(r->prefill), free(r->y), free(r->dx);
}

static double *to_double(const float *x, size_t n) {
    double *d = tu_calloc(n, sizeof(double));
    for (size_t i = 0; i < n; i++) d[i] = x[i];
    return d;
}

/* Fourier at an image size of real use: the forward at random pixels and the backward at
 * random coefficients, against the oracle's formula at just those points. */
static void check_fourier_sampled(const char *label, int N, int C, int H, int W, int samples) {
    tu_opcase c = fourier_case(label, N, C, H, W, 1.0f);
    large_run r;
    large_run_make(&r, CNV_OP_FOURIER, &c.attrs, c.in_shape[0], 0xfa11u + (uint64_t)H);
    large_run_on(&r, tu_backend);
    double *xd = to_double(r.x, r.nx), *dyd = to_double(r.dy, r.ny);
    double *got = tu_calloc(2 * (size_t)samples, sizeof(double));
    double *want = tu_calloc(2 * (size_t)samples, sizeof(double));
    cnv_rng rng;
    cnv_rng_seed(&rng, 0x5a3u + (uint64_t)W);
    for (int s = 0; s < samples; s++) {
        const int n = (int)cnv_rng_below(&rng, (uint32_t)N), ch = (int)cnv_rng_below(&rng, (uint32_t)C);
        const int h = (int)cnv_rng_below(&rng, (uint32_t)H), w = (int)cnv_rng_below(&rng, (uint32_t)W);
        got[s] = r.y[(((size_t)n * C + ch) * H + h) * W + w];
        want[s] = tu_oracle_fourier_at(&c.attrs, xd, &r.in_shape, n, ch, h, w);
        const int plane = (int)cnv_rng_below(&rng, (uint32_t)(2 * C));
        const int u = (int)cnv_rng_below(&rng, (uint32_t)H), v = (int)cnv_rng_below(&rng, (uint32_t)(W / 2 + 1));
        got[samples + s] = r.dx[(((size_t)n * 2 * C + plane) * H + u) * (W / 2 + 1) + v];
        want[samples + s] = tu_oracle_fourier_adjoint_at(&c.attrs, dyd, &r.out_shape, n, plane, u, v);
    }
    const double fwd = tu_rel_error_d(got, want, (size_t)samples);
    const double bwd = tu_rel_error_d(got + samples, want + samples, (size_t)samples);
    printf("  %-42s %11.2e %11.2e\n", label, fwd, bwd);
    fflush(stdout);
    if (!(fwd < TOL) || !(bwd < TOL)) fail_msg("%s: sampled forward %.3g, backward %.3g >= %.3g", label, fwd, bwd, TOL);
    free(xd), free(dyd), free(got), free(want);
    large_run_free(&r);
}

static void test_fourier_large(void **state) {
    (void)state;
    printf("\n%-44s %11s %11s\n", "Fourier vs oracle at sampled points", "forward", "bwd data");
    check_fourier_sampled("fourier 1x3x227x227 (64 points)", 1, 3, 227, 227, 64);
    check_fourier_sampled("fourier 2x2x33x50 (64 points)", 2, 2, 33, 50, 64);
    /* lavapipe is slow at this size: the Vulkan backends check it against the CPU backend
     * element by element instead (test_matches_cpu). */
    if (strcmp(tu_backend_name, "cpu") == 0)
        check_fourier_sampled("fourier 1x1x512x512 (24 points)", 1, 1, 512, 512, 24);
}

/* Blur's adjoint in scatter form, an independent formulation of what the kernels gather: every
 * output pixel hands g(i) g(j) dy to the (clamped) pixel each of its taps read. */
static void blur_adjoint_scatter(const cnv_shape *s, float sigma, const float *dy, double *dx) {
    const int H = s->d[2], W = s->d[3], r = sigma > 0.0f ? (int)ceil(3.0 * sigma) : 0;
    const size_t planes = (size_t)s->d[0] * s->d[1];
    double *g = tu_calloc((size_t)(2 * r + 1), sizeof(double)), total = 0.0;
    for (int k = -r; k <= r; k++) total += g[k + r] = r ? exp(-(double)k * k / (2.0 * sigma * sigma)) : 1.0;
    memset(dx, 0, planes * H * W * sizeof(double));
    for (size_t p = 0; p < planes; p++)
        for (int h = 0; h < H; h++)
            for (int w = 0; w < W; w++)
                for (int i = -r; i <= r; i++)
                    for (int j = -r; j <= r; j++) {
                        const int hh = h + i < 0 ? 0 : h + i >= H ? H - 1 : h + i;
                        const int ww = w + j < 0 ? 0 : w + j >= W ? W - 1 : w + j;
                        dx[(p * H + hh) * W + ww] += g[i + r] * g[j + r] / (total * total) * dy[(p * H + h) * W + w];
                    }
    free(g);
}

static void test_blur_large(void **state) {
    (void)state;
    const struct {
        const char *label;
        cnv_shape shape;
        float sigma;
    } cases[] = {
        {"blur 2x3x40x37 sigma 2.5", cnv_shape4(2, 3, 40, 37), 2.5f},
        {"blur 1x3x64x64 sigma 1", cnv_shape4(1, 3, 64, 64), 1.0f},
    };
    printf("\n%-44s %11s %11s\n", "Blur vs oracle (backward: scatter adjoint)", "forward", "bwd data");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        tu_opcase c = blur_case(cases[k].label, cases[k].shape, cases[k].sigma);
        large_run r;
        large_run_make(&r, CNV_OP_BLUR, &c.attrs, cases[k].shape, 0xb1u + k);
        large_run_on(&r, tu_backend);
        double *xd = to_double(r.x, r.nx), *want_y = tu_calloc(r.ny, sizeof(double));
        double *want_dx = tu_calloc(r.nx, sizeof(double));
        const double *in[1] = {xd};
        tu_oracle_forward(CNV_OP_BLUR, &c.attrs, 1, in, &r.in_shape, want_y, &r.out_shape);
        blur_adjoint_scatter(&r.in_shape, cases[k].sigma, r.dy, want_dx);
        double *got_y = to_double(r.y, r.ny), *got_dx = to_double(r.dx, r.nx);
        const double fwd = tu_rel_error_d(got_y, want_y, r.ny), bwd = tu_rel_error_d(got_dx, want_dx, r.nx);
        printf("  %-42s %11.2e %11.2e\n", cases[k].label, fwd, bwd);
        if (!(fwd < TOL) || !(bwd < TOL))
            fail_msg("%s: forward %.3g, backward %.3g >= %.3g", cases[k].label, fwd, bwd, TOL);
        free(xd), free(want_y), free(want_dx), free(got_y), free(got_dx);
        large_run_free(&r);
    }
    fflush(stdout);
}

/* On the Vulkan backends: every element of large runs against the CPU backend. */
static void test_matches_cpu(void **state) {
    (void)state;
    if (strcmp(tu_backend_name, "cpu") == 0) skip();
    cnv_backend *cpu = tu_backend_create("cpu");
    tu_opcase cases[] = {
        fourier_case("fourier 1x3x227x227", 1, 3, 227, 227, 1.0f),
        fourier_case("fourier 1x1x512x512", 1, 1, 512, 512, 1.0f),
        blur_case("blur 1x3x227x227 sigma 1", cnv_shape4(1, 3, 227, 227), 1.0f),
        blur_case("blur 1x1x100x130 sigma 3", cnv_shape4(1, 1, 100, 130), 3.0f),
    };
    printf("\n%-44s %11s %11s\n", "GPU vs CPU backend, every element", "forward", "bwd data");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        large_run gpu, ref;
        large_run_make(&gpu, cases[k].op, &cases[k].attrs, cases[k].in_shape[0], 0xc0u + k);
        large_run_make(&ref, cases[k].op, &cases[k].attrs, cases[k].in_shape[0], 0xc0u + k);
        large_run_on(&gpu, tu_backend);
        large_run_on(&ref, cpu);
        const double fwd = tu_rel_error(gpu.y, ref.y, gpu.ny), bwd = tu_rel_error(gpu.dx, ref.dx, gpu.nx);
        printf("  %-42s %11.2e %11.2e\n", cases[k].label, fwd, bwd);
        fflush(stdout);
        if (!(fwd < TOL) || !(bwd < TOL))
            fail_msg("%s: forward %.3g, backward %.3g >= %.3g", cases[k].label, fwd, bwd, TOL);
        large_run_free(&gpu);
        large_run_free(&ref);
    }
    tu_backend_free(cpu);
}

/* ONNX has neither op: export refuses the graph, naming the node, and writes no file. */
static void test_onnx_export_refuses(void **state) {
    (void)state;
    const cnv_op_type ops[] = {CNV_OP_FOURIER, CNV_OP_BLUR};
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        cnv_graph *g = cnv_graph_new("vis graph");
        assert_non_null(g);
        cnv_attrs a;
        cnv_attrs_default(ops[k], &a);
        a.out_hw[0] = a.out_hw[1] = 4;
        const cnv_shape in_shape = ops[k] == CNV_OP_FOURIER ? cnv_shape4(1, 6, 4, 3) : cnv_shape4(1, 3, 4, 4);
        const cnv_shape out_shape = cnv_shape4(1, 3, 4, 4);
        const int in = cnv_graph_add_value(g, "param", &in_shape, NULL);
        const int out = cnv_graph_add_value(g, "image", &out_shape, NULL);
        assert_true(in >= 0 && out >= 0);
        assert_true(cnv_graph_add_node(g, "spectrum_or_blur", ops[k], &a, 1, &in, out) >= 0);
        g->input = in;
        g->output = out;
        char path[64];
        snprintf(path, sizeof path, "/tmp/cnnvis_visop_%d_%zu.onnx", (int)getpid(), k);
        assert_int_equal(cnv_onnx_save(g, path), CNV_ERR_UNSUPPORTED);
        assert_non_null(strstr(cnv_last_error(), "spectrum_or_blur"));
        assert_int_equal(access(path, F_OK), -1);
        cnv_graph_free(g);
    }
}

int main(int argc, char **argv) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fourier_small),       cmocka_unit_test(test_blur_small),
        cmocka_unit_test(test_fourier_large),       cmocka_unit_test(test_blur_large),
        cmocka_unit_test(test_matches_cpu),         cmocka_unit_test(test_onnx_export_refuses),
    };
    return TU_RUN_BACKEND_SUITE(argc, argv, tests);
}
