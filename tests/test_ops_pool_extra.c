/* Extra cases for the pool, LRN and Softmax kernels of the backend under test (cpu, vulkan,
 * vulkan-forced), beyond tests/test_ops_conv.c and test_ops_misc.c: planes that span several
 * workgroups, ceil_mode windows that overhang, GlobalAveragePool planes and softmax rows long
 * enough for the shared-memory line reduction (several invocations per line, each taking many
 * values), LRN size 5 over 64 channels. Each against the float64 oracle and finite differences.
 * On the Vulkan backends, MaxPool switches are also compared with the CPU backend's on inputs
 * full of ties, and each backend's backward is run on the other one's switches. */
#include "opcheck.h"
#include "oracle.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOL 1e-5

static tu_opcase pool_case(const char *label, cnv_op_type op, cnv_shape in, int k, int stride, int pad,
                           int ceil_mode, int include_pad) {
    tu_opcase c = {.label = label, .op = op, .n_in = 1, .in_shape = {in}};
    cnv_attrs_default(op, &c.attrs);
    if (op != CNV_OP_GLOBALAVGPOOL) {
        c.attrs.kernel[0] = c.attrs.kernel[1] = k;
        c.attrs.stride[0] = c.attrs.stride[1] = stride;
        for (int p = 0; p < 4; p++) c.attrs.pads[p] = pad;
    }
    c.attrs.ceil_mode = ceil_mode;
    c.attrs.count_include_pad = include_pad;
    return c;
}

static tu_opcase softmax_case(const char *label, cnv_shape in, int axis, int legacy) {
    tu_opcase c = {.label = label, .op = CNV_OP_SOFTMAX, .n_in = 1, .in_shape = {in}, .lo = -4.0f, .hi = 4.0f};
    cnv_attrs_default(CNV_OP_SOFTMAX, &c.attrs);
    c.attrs.axis = axis;
    c.attrs.softmax_legacy = legacy;
    return c;
}

static tu_opcase lrn_case(const char *label, cnv_shape in, float lo, float hi, float alpha, float beta, float bias) {
    tu_opcase c = {.label = label, .op = CNV_OP_LRN, .n_in = 1, .in_shape = {in}, .lo = lo, .hi = hi};
    cnv_attrs_default(CNV_OP_LRN, &c.attrs);
    c.attrs.size = 5;
    c.attrs.alpha = alpha;
    c.attrs.beta = beta;
    c.attrs.bias = bias;
    return c;
}

/* Runs every case on the backend under test and prints one table row per case. */
#define RUN(title, cases) tu_opcheck_table(tu_backend, title, cases, sizeof(cases) / sizeof(cases[0]), 0xe87a0000u, TOL)

/* Gradients written out in float64, for the long-line checks below. y is the oracle's output. */
typedef void (*grad_ref_fn)(const tu_opcase *c, const double *y, const double *g, double *dx);

static void globalavgpool_grad(const tu_opcase *c, const double *y, const double *g, double *dx) {
    const size_t planes = (size_t)c->in_shape[0].d[0] * c->in_shape[0].d[1];
    const size_t plane = (size_t)c->in_shape[0].d[2] * c->in_shape[0].d[3];
    for (size_t p = 0; p < planes; p++)
        for (size_t i = 0; i < plane; i++) dx[p * plane + i] = g[p] / (double)plane;
}

/* dx = y (g - sum(g y)) along each line of the (outer, D, inner) view (ONNX Softmax). */
static void softmax_grad(const tu_opcase *c, const double *y, const double *g, double *dx) {
    const cnv_shape *s = &c->in_shape[0];
    size_t outer = 1, d = 1, inner = 1;
    for (int k = 0; k < s->ndim; k++) {
        if (k < c->attrs.axis) outer *= (size_t)s->d[k];
        else if (k == c->attrs.axis || c->attrs.softmax_legacy) d *= (size_t)s->d[k];
        else inner *= (size_t)s->d[k];
    }
    for (size_t o = 0; o < outer; o++)
        for (size_t q = 0; q < inner; q++) {
            const size_t base = o * d * inner + q;
            double dot = 0.0;
            for (size_t i = 0; i < d; i++) dot += g[base + i * inner] * y[base + i * inner];
            for (size_t i = 0; i < d; i++) dx[base + i * inner] = y[base + i * inner] * (g[base + i * inner] - dot);
        }
}

static double *to_double(const float *x, size_t n) {
    double *d = malloc(n * sizeof(double));
    assert_non_null(d);
    for (size_t i = 0; i < n; i++) d[i] = x[i];
    return d;
}

/* Lines of a thousand values (a GlobalAveragePool plane, a softmax over 1000 classes) make each
 * input's gradient about 1/1000 of the output gradient: against tu_opcheck's randomly
 * prefilled gradient buffer, the float32 rounding of prefill + gradient alone reaches the
 * tolerance, on every backend. Here the buffer starts at zero and the backward runs twice
 * (twice the gradient: still proves it accumulates), against the float64 gradient. */
static void check_long_lines(const tu_opcase *c, grad_ref_fn grad_ref, uint64_t seed) {
    cnv_node node = {.name = (char *)c->label, .op = c->op, .attrs = c->attrs, .n_in = 1};
    cnv_shape out;
    tu_expect_ok(cnv_op_infer_shape(c->op, &node.attrs, 1, c->in_shape, &out, c->label));
    const size_t nx = cnv_shape_numel(&c->in_shape[0]), ny = cnv_shape_numel(&out);
    float *x = malloc(nx * sizeof(float)), *dx = malloc(nx * sizeof(float));
    float *y = malloc(ny * sizeof(float)), *g = malloc(ny * sizeof(float));
    double *y_ref = malloc(ny * sizeof(double)), *dx_ref = malloc(nx * sizeof(double));
    assert_true(x && dx && y && g && y_ref && dx_ref);
    cnv_rng r;
    cnv_rng_seed(&r, seed);
    const int default_range = c->lo == 0.0f && c->hi == 0.0f; /* as tu_opcheck: [-1, 1) */
    tu_fill_uniform(&r, x, nx, default_range ? -1.0f : c->lo, default_range ? 1.0f : c->hi);
    tu_fill_uniform(&r, g, ny, -1.0f, 1.0f);

    cnv_buf *bx, *by, *bg, *bdx;
    tu_expect_ok(tu_backend->vt->buf_alloc(tu_backend, nx, &bx));
    tu_expect_ok(tu_backend->vt->buf_alloc(tu_backend, ny, &by));
    tu_expect_ok(tu_backend->vt->buf_alloc(tu_backend, ny, &bg));
    tu_expect_ok(tu_backend->vt->buf_alloc(tu_backend, nx, &bdx));
    tu_expect_ok(tu_backend->vt->buf_write(tu_backend, bx, 0, x, nx));
    tu_expect_ok(tu_backend->vt->buf_write(tu_backend, bg, 0, g, ny));
    tu_expect_ok(tu_backend->vt->buf_fill(tu_backend, bdx, 0.0f, nx));
    cnv_op_io io = {.node = &node, .n_in = 1, .in = {bx}, .in_shape = {c->in_shape[0]}, .out = by, .out_shape = out,
                    .grad_out = bg, .grad_in = {bdx}};
    tu_expect_ok(tu_backend->vt->forward(tu_backend, &io));
    tu_expect_ok(tu_backend->vt->backward(tu_backend, &io));
    tu_expect_ok(tu_backend->vt->backward(tu_backend, &io));
    tu_expect_ok(tu_backend->vt->sync(tu_backend));
    tu_expect_ok(tu_backend->vt->buf_read(tu_backend, by, 0, y, ny));
    tu_expect_ok(tu_backend->vt->buf_read(tu_backend, bdx, 0, dx, nx));

    double *xd = to_double(x, nx), *gd = to_double(g, ny), *yd = to_double(y, ny), *dxd = to_double(dx, nx);
    const double *ins[1] = {xd};
    tu_oracle_forward(c->op, &c->attrs, 1, ins, c->in_shape, y_ref, &out);
    grad_ref(c, y_ref, gd, dx_ref);
    for (size_t i = 0; i < nx; i++) dx_ref[i] *= 2.0;
    const double fwd_err = tu_rel_error_d(yd, y_ref, ny), bwd_err = tu_rel_error_d(dxd, dx_ref, nx);
    printf("  %-42s %11.2e %11.2e\n", c->label, fwd_err, bwd_err);
    fflush(stdout);
    if (fwd_err >= TOL || bwd_err >= TOL) fail_msg("%s: error above %g", c->label, TOL);

    tu_backend->vt->buf_free(tu_backend, bx);
    tu_backend->vt->buf_free(tu_backend, by);
    tu_backend->vt->buf_free(tu_backend, bg);
    tu_backend->vt->buf_free(tu_backend, bdx);
    free(x), free(dx), free(y), free(g), free(y_ref), free(dx_ref);
    free(xd), free(gd), free(yd), free(dxd);
}

static void test_pools_large(void **state) {
    const tu_opcase cases[] = {
        pool_case("maxpool 3x3 s2 ceil 1x2x37x29", CNV_OP_MAXPOOL, cnv_shape4(1, 2, 37, 29), 3, 2, 0, 1, 0),
        pool_case("maxpool 3x3 s2 p1 ceil overhang 1x4x10x12", CNV_OP_MAXPOOL, cnv_shape4(1, 4, 10, 12), 3, 2, 1, 1, 0),
        pool_case("maxpool 2x2 s3 ceil overhang 1x3x20x17", CNV_OP_MAXPOOL, cnv_shape4(1, 3, 20, 17), 2, 3, 0, 1, 0),
        pool_case("avgpool 3x3 s2 p1 ceil incl 2x3x23x19", CNV_OP_AVGPOOL, cnv_shape4(2, 3, 23, 19), 3, 2, 1, 1, 1),
        pool_case("avgpool 3x3 s2 p1 ceil excl 1x4x10x12", CNV_OP_AVGPOOL, cnv_shape4(1, 4, 10, 12), 3, 2, 1, 1, 0),
        pool_case("avgpool 5x5 s3 ceil 1x2x31x26", CNV_OP_AVGPOOL, cnv_shape4(1, 2, 31, 26), 5, 3, 0, 1, 0),
        pool_case("globalavgpool 1x70x3x3 (many planes)", CNV_OP_GLOBALAVGPOOL, cnv_shape4(1, 70, 3, 3), 0, 0, 0, 0, 0),
        pool_case("globalavgpool 2x3x9x8 (72 per plane)", CNV_OP_GLOBALAVGPOOL, cnv_shape4(2, 3, 9, 8), 0, 0, 0, 0, 0),
        pool_case("globalavgpool 1x3x4x3 (short planes)", CNV_OP_GLOBALAVGPOOL, cnv_shape4(1, 3, 4, 3), 0, 0, 0, 0, 0),
    };
    RUN("Pools, larger planes", cases);
}

static void test_softmax_lines(void **state) {
    const tu_opcase cases[] = {
        softmax_case("opset13 axis 1 2x37x5x3 (strided)", cnv_shape4(2, 37, 5, 3), 1, 0),
        softmax_case("legacy axis 1 3x9x5x3 (135 per line)", cnv_shape4(3, 9, 5, 3), 1, 1),
    };
    RUN("Softmax, strided and flattened lines", cases);
}

static void test_long_lines(void **state) {
    printf("\n%-44s %11s %11s\n", "Long lines (zero-prefilled, backward twice)", "forward", "bwd data");
    const tu_opcase pools[] = {
        pool_case("globalavgpool 2x4x33x31", CNV_OP_GLOBALAVGPOOL, cnv_shape4(2, 4, 33, 31), 0, 0, 0, 0, 0),
        pool_case("globalavgpool 1x70x13x13", CNV_OP_GLOBALAVGPOOL, cnv_shape4(1, 70, 13, 13), 0, 0, 0, 0, 0),
    };
    const tu_opcase softmaxes[] = {
        softmax_case("softmax opset13 1000 classes 3x1000", (cnv_shape){2, {3, 1000}}, 1, 0),
        softmax_case("softmax legacy 1000 classes 1x1000x1x1", cnv_shape4(1, 1000, 1, 1), 1, 1),
        softmax_case("softmax opset13 axis 1 1x1000x2x3", cnv_shape4(1, 1000, 2, 3), 1, 0),
    };
    for (size_t i = 0; i < sizeof pools / sizeof pools[0]; i++) check_long_lines(&pools[i], globalavgpool_grad, 40 + i);
    for (size_t i = 0; i < sizeof softmaxes / sizeof softmaxes[0]; i++)
        check_long_lines(&softmaxes[i], softmax_grad, 50 + i);
}

static void test_lrn_64(void **state) {
    const tu_opcase cases[] = {
        lrn_case("size 5 over 64 channels 1x64x3x2", cnv_shape4(1, 64, 3, 2), -2.0f, 2.0f, 1.0f, 0.75f, 1.0f),
        lrn_case("size 5 AlexNet attrs 2x64x2x3", cnv_shape4(2, 64, 2, 3), -20.0f, 20.0f, 1e-4f, 0.75f, 2.0f),
    };
    RUN("LRN, 64 channels", cases);
}

/* One MaxPool forward + backward on `on`, with the switches either computed there or (when
 * switches_in is given) uploaded into its aux buffer after the forward. Returns y, the switches
 * as computed, and dx = prefill + backward. */
typedef struct maxpool_run {
    float *y, *dx;
    int32_t *sw;
} maxpool_run;

static maxpool_run run_maxpool(cnv_backend *on, const cnv_node *node, cnv_shape in, cnv_shape out, const float *x,
                               const float *dy, const int32_t *switches_in) {
    const size_t nx = cnv_shape_numel(&in), ny = cnv_shape_numel(&out);
    maxpool_run r = {calloc(ny, sizeof(float)), calloc(nx, sizeof(float)), calloc(ny, sizeof(int32_t))};
    assert_true(r.y && r.dx && r.sw);
    cnv_buf *bx, *by, *baux, *bdy, *bdx;
    tu_expect_ok(on->vt->buf_alloc(on, nx, &bx));
    tu_expect_ok(on->vt->buf_alloc(on, ny, &by));
    tu_expect_ok(on->vt->buf_alloc(on, ny, &baux));
    tu_expect_ok(on->vt->buf_alloc(on, ny, &bdy));
    tu_expect_ok(on->vt->buf_alloc(on, nx, &bdx));
    tu_expect_ok(on->vt->buf_write(on, bx, 0, x, nx));
    tu_expect_ok(on->vt->buf_write(on, bdy, 0, dy, ny));
    tu_expect_ok(on->vt->buf_fill(on, bdx, 0.5f, nx));
    cnv_op_io io = {.node = node, .n_in = 1, .in = {bx}, .in_shape = {in}, .out = by, .out_shape = out,
                    .aux = baux, .grad_out = bdy, .grad_in = {bdx}};
    tu_expect_ok(on->vt->forward(on, &io));
    tu_expect_ok(on->vt->sync(on));
    tu_expect_ok(on->vt->buf_read(on, by, 0, r.y, ny));
    tu_expect_ok(on->vt->buf_read(on, baux, 0, (float *)r.sw, ny));
    if (switches_in) tu_expect_ok(on->vt->buf_write(on, baux, 0, (const float *)switches_in, ny));
    tu_expect_ok(on->vt->backward(on, &io));
    tu_expect_ok(on->vt->sync(on));
    tu_expect_ok(on->vt->buf_read(on, bdx, 0, r.dx, nx));
    on->vt->buf_free(on, bx);
    on->vt->buf_free(on, by);
    on->vt->buf_free(on, baux);
    on->vt->buf_free(on, bdy);
    on->vt->buf_free(on, bdx);
    return r;
}

static void maxpool_run_free(maxpool_run *r) {
    free(r->y);
    free(r->dx);
    free(r->sw);
}

/* Inputs drawn from three values make most windows hold ties; padded, overhanging, dilated
 * windows make the row-major "first maximum" rule and the padding rule matter. The Vulkan
 * switches must equal the CPU backend's exactly, and each backward must accept the other's
 * switches (the aux layout is shared: the deconvnet may unpool on either backend). */
static void test_maxpool_switches_match_cpu(void **state) {
    if (strcmp(tu_backend_name, "cpu") == 0) skip(); /* compares the backend with the CPU one */
    cnv_backend *cpu;
    tu_expect_ok(cnv_backend_cpu_create(&cpu));
    cnv_node node = {.name = "ties", .op = CNV_OP_MAXPOOL, .n_in = 1};
    cnv_attrs_default(CNV_OP_MAXPOOL, &node.attrs);
    node.attrs.kernel[0] = 3;
    node.attrs.kernel[1] = 2;
    node.attrs.stride[0] = node.attrs.stride[1] = 2;
    node.attrs.dilation[1] = 2;
    node.attrs.pads[0] = node.attrs.pads[3] = 1;
    node.attrs.ceil_mode = 1;
    cnv_shape in = cnv_shape4(2, 3, 19, 14), out;
    tu_expect_ok(cnv_op_infer_shape(CNV_OP_MAXPOOL, &node.attrs, 1, &in, &out, "ties"));
    const size_t nx = cnv_shape_numel(&in), ny = cnv_shape_numel(&out);
    float *x = malloc(nx * sizeof(float)), *dy = malloc(ny * sizeof(float));
    assert_true(x && dy);
    cnv_rng r;
    cnv_rng_seed(&r, 77);
    for (size_t i = 0; i < nx; i++) x[i] = (float)cnv_rng_below(&r, 3) - 1.0f;
    for (size_t i = 0; i < ny; i++) dy[i] = (float)cnv_rng_below(&r, 9) - 4.0f; /* exact sums */

    maxpool_run ref = run_maxpool(cpu, &node, in, out, x, dy, NULL);
    maxpool_run got = run_maxpool(tu_backend, &node, in, out, x, dy, NULL);
    for (size_t i = 0; i < ny; i++) {
        assert_int_equal(got.sw[i], ref.sw[i]);
        assert_float_equal(got.y[i], ref.y[i], 0.0f);
    }
    for (size_t i = 0; i < nx; i++) assert_float_equal(got.dx[i], ref.dx[i], 0.0f);

    /* Each backward on switches the CPU forward found for other inputs: valid switches that
     * differ from those of x, so a backward that ignored the uploaded ones would show. */
    float *x2 = malloc(nx * sizeof(float));
    assert_non_null(x2);
    for (size_t i = 0; i < nx; i++) x2[i] = (float)cnv_rng_below(&r, 3) - 1.0f;
    maxpool_run other = run_maxpool(cpu, &node, in, out, x2, dy, NULL);
    maxpool_run cross_be = run_maxpool(tu_backend, &node, in, out, x, dy, other.sw);
    maxpool_run cross_cpu = run_maxpool(cpu, &node, in, out, x, dy, other.sw);
    for (size_t i = 0; i < nx; i++) assert_float_equal(cross_be.dx[i], cross_cpu.dx[i], 0.0f);
    assert_true(memcmp(cross_be.dx, got.dx, nx * sizeof(float)) != 0);

    maxpool_run_free(&ref);
    maxpool_run_free(&got);
    maxpool_run_free(&cross_be);
    maxpool_run_free(&cross_cpu);
    maxpool_run_free(&other);
    free(x2);
    free(x);
    free(dy);
    cnv_backend_free(cpu);
}

int main(int argc, char **argv) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pools_large),
        cmocka_unit_test(test_softmax_lines),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_lrn_64),
        cmocka_unit_test(test_maxpool_switches_match_cpu),
    };
    return TU_RUN_BACKEND_SUITE(argc, argv, tests);
}
