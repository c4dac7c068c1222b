/* The modified backward rules of the visualization papers on the backend under test (cpu,
 * vulkan, vulkan-forced), each against a direct computation:
 *   Relu, gradient:  dx += dy * (x > 0)
 *   Relu, deconvnet: dx += relu(dy)                  (Zeiler & Fergus: x is ignored)
 *   Relu, guided:    dx += dy * (x > 0) * (dy > 0)   (Springenberg et al.)
 *   MaxPool, fill unpooling: every input cell gets the sum of dy over the windows covering it.
 * Inputs hold exact zeros (the kinks) and dy values that are small integers, so every expected
 * value is exact and the comparisons are equalities. Ops other than Relu ignore the rule. */
#include "test_util.h"

#include "core/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Values in {-2, -1, 0, 1, 2} / 2: exact, with zeros at both kinks. */
static void fill_steps(cnv_rng *r, float *v, size_t n) {
    for (size_t i = 0; i < n; i++) v[i] = ((float)cnv_rng_below(r, 5) - 2.0f) * 0.5f;
}

#define PREFILL 0.25f /* dx starts here: the backward must add, not overwrite */

/* One forward + backward of `node` with the given rule; returns dx (PREFILL + backward). */
static float *run_backward(const cnv_node *node, cnv_shape in, cnv_shape out, const float *x, const float *dy,
                           cnv_backward_rule rule, int unpool_fill) {
    const size_t nx = cnv_shape_numel(&in), ny = cnv_shape_numel(&out);
    float *dx = malloc(nx * sizeof(float));
    assert_non_null(dx);
    cnv_buf *bx, *by, *baux = NULL, *bdy, *bdx;
    tu_expect_ok(tu_backend->vt->buf_alloc(tu_backend, nx, &bx));
    tu_expect_ok(tu_backend->vt->buf_alloc(tu_backend, ny, &by));
    if (node->op == CNV_OP_MAXPOOL) tu_expect_ok(tu_backend->vt->buf_alloc(tu_backend, ny, &baux));
    tu_expect_ok(tu_backend->vt->buf_alloc(tu_backend, ny, &bdy));
    tu_expect_ok(tu_backend->vt->buf_alloc(tu_backend, nx, &bdx));
    tu_expect_ok(tu_backend->vt->buf_write(tu_backend, bx, 0, x, nx));
    tu_expect_ok(tu_backend->vt->buf_write(tu_backend, bdy, 0, dy, ny));
    tu_expect_ok(tu_backend->vt->buf_fill(tu_backend, bdx, PREFILL, nx));
    cnv_op_io io = {.node = node, .n_in = 1, .in = {bx}, .in_shape = {in}, .out = by, .out_shape = out,
                    .aux = baux, .grad_out = bdy, .grad_in = {bdx}, .rule = rule, .unpool_fill = unpool_fill};
    tu_expect_ok(tu_backend->vt->forward(tu_backend, &io));
    tu_expect_ok(tu_backend->vt->backward(tu_backend, &io));
    tu_expect_ok(tu_backend->vt->sync(tu_backend));
    tu_expect_ok(tu_backend->vt->buf_read(tu_backend, bdx, 0, dx, nx));
    tu_backend->vt->buf_free(tu_backend, bx);
    tu_backend->vt->buf_free(tu_backend, by);
    tu_backend->vt->buf_free(tu_backend, baux);
    tu_backend->vt->buf_free(tu_backend, bdy);
    tu_backend->vt->buf_free(tu_backend, bdx);
    return dx;
}

static void assert_exact(const float *got, const float *want, size_t n, const char *what) {
    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i]) fail_msg("%s: element %zu is %g, expected %g", what, i, got[i], want[i]);
}

/* The three Relu rules over an odd-sized tensor (several workgroups on the Vulkan backends). */
static void test_relu_rules(void **state) {
    const cnv_shape s = cnv_shape4(2, 3, 17, 23);
    const size_t n = cnv_shape_numel(&s);
    float *x = malloc(n * sizeof(float)), *dy = malloc(n * sizeof(float)), *want = malloc(n * sizeof(float));
    assert_true(x && dy && want);
    cnv_rng r;
    cnv_rng_seed(&r, 2013);
    fill_steps(&r, x, n);
    fill_steps(&r, dy, n);
    cnv_node node = {.name = "relu", .op = CNV_OP_RELU, .n_in = 1};
    cnv_attrs_default(CNV_OP_RELU, &node.attrs);
    const cnv_backward_rule rules[] = {CNV_RULE_GRADIENT, CNV_RULE_DECONVNET, CNV_RULE_GUIDED};
    const char *names[] = {"gradient", "deconvnet", "guided"};
    float *results[3];
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < n; i++) {
            float pass = rules[k] == CNV_RULE_GRADIENT    ? (x[i] > 0.0f ? dy[i] : 0.0f)
                         : rules[k] == CNV_RULE_DECONVNET ? (dy[i] > 0.0f ? dy[i] : 0.0f)
                                                          : (x[i] > 0.0f && dy[i] > 0.0f ? dy[i] : 0.0f);
            want[i] = PREFILL + pass;
        }
        /* unpool_fill is MaxPool's alone: setting it must not change Relu. */
        results[k] = run_backward(&node, s, s, x, dy, rules[k], k == 1);
        assert_exact(results[k], want, n, names[k]);
    }
    /* The rules really differ on this data (a kernel that ignored the rule would fail above,
     * but only if the cases disagree somewhere). */
    assert_true(memcmp(results[0], results[1], n * sizeof(float)) != 0);
    assert_true(memcmp(results[0], results[2], n * sizeof(float)) != 0);
    assert_true(memcmp(results[1], results[2], n * sizeof(float)) != 0);
    printf("  relu 2x3x17x23: gradient, deconvnet, guided exact\n");
    for (int k = 0; k < 3; k++) free(results[k]);
    free(x);
    free(dy);
    free(want);
}

/* LeakyRelu and Clip keep their true gradient under any rule. */
static void test_other_activations_ignore_rule(void **state) {
    const cnv_shape s = cnv_shape4(1, 2, 9, 11);
    const size_t n = cnv_shape_numel(&s);
    float *x = malloc(n * sizeof(float)), *dy = malloc(n * sizeof(float)), *want = malloc(n * sizeof(float));
    assert_true(x && dy && want);
    cnv_rng r;
    cnv_rng_seed(&r, 2014);
    fill_steps(&r, x, n);
    fill_steps(&r, dy, n);
    cnv_node leaky = {.name = "leaky", .op = CNV_OP_LEAKYRELU, .n_in = 1};
    cnv_attrs_default(CNV_OP_LEAKYRELU, &leaky.attrs);
    leaky.attrs.alpha = 0.5f;
    for (size_t i = 0; i < n; i++) want[i] = PREFILL + dy[i] * (x[i] >= 0.0f ? 1.0f : 0.5f);
    for (int rule = CNV_RULE_DECONVNET; rule <= CNV_RULE_GUIDED; rule++) {
        float *dx = run_backward(&leaky, s, s, x, dy, (cnv_backward_rule)rule, 0);
        assert_exact(dx, want, n, "leakyrelu under a modified rule");
        free(dx);
    }
    free(x);
    free(dy);
    free(want);
}

/* dy of every output window that contains input cell (iy, ix), summed: the window of output
 * (oy, ox) holds iy when iy = oy*stride - pad + k*dilation for some tap k < kernel. */
static int window_holds(int pos, int o, int kernel, int stride, int pad, int dilation) {
    int t = pos - (o * stride - pad);
    return t >= 0 && t % dilation == 0 && t / dilation < kernel;
}

static void fill_unpool_reference(const cnv_attrs *a, cnv_shape in, cnv_shape out, const float *dy, float *want) {
    const int planes = in.d[0] * in.d[1], h = in.d[2], w = in.d[3], oh = out.d[2], ow = out.d[3];
    for (int p = 0; p < planes; p++)
        for (int iy = 0; iy < h; iy++)
            for (int ix = 0; ix < w; ix++) {
                float sum = PREFILL;
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                        if (window_holds(iy, oy, a->kernel[0], a->stride[0], a->pads[0], a->dilation[0]) &&
                            window_holds(ix, ox, a->kernel[1], a->stride[1], a->pads[1], a->dilation[1]))
                            sum += dy[(size_t)p * oh * ow + (size_t)oy * ow + ox];
                want[(size_t)p * h * w + (size_t)iy * w + ix] = sum;
            }
}

static void check_fill(const char *label, cnv_attrs attrs, cnv_shape in) {
    cnv_node node = {.name = (char *)label, .op = CNV_OP_MAXPOOL, .n_in = 1, .attrs = attrs};
    cnv_shape out;
    tu_expect_ok(cnv_op_infer_shape(CNV_OP_MAXPOOL, &node.attrs, 1, &in, &out, label));
    const size_t nx = cnv_shape_numel(&in), ny = cnv_shape_numel(&out);
    float *x = malloc(nx * sizeof(float)), *dy = malloc(ny * sizeof(float)), *want = malloc(nx * sizeof(float));
    assert_true(x && dy && want);
    cnv_rng r;
    cnv_rng_seed(&r, 2015);
    fill_steps(&r, x, nx);
    for (size_t i = 0; i < ny; i++) dy[i] = (float)cnv_rng_below(&r, 9) - 4.0f; /* exact sums */
    fill_unpool_reference(&node.attrs, in, out, dy, want);
    /* The fill ignores the switches and the Relu rule alike. */
    for (int rule = CNV_RULE_GRADIENT; rule <= CNV_RULE_GUIDED; rule++) {
        float *dx = run_backward(&node, in, out, x, dy, (cnv_backward_rule)rule, 1);
        assert_exact(dx, want, nx, label);
        free(dx);
    }
    /* Without fill the same call routes through the switches: fewer cells receive anything. */
    float *sw = run_backward(&node, in, out, x, dy, CNV_RULE_DECONVNET, 0);
    assert_true(memcmp(sw, want, nx * sizeof(float)) != 0);
    double total_sw = 0, total_dy = 0;
    for (size_t i = 0; i < nx; i++) total_sw += sw[i] - PREFILL;
    for (size_t i = 0; i < ny; i++) total_dy += dy[i];
    assert_float_equal(total_sw, total_dy, 1e-9); /* each output's dy lands exactly once */
    printf("  maxpool fill %-36s exact\n", label);
    free(sw);
    free(x);
    free(dy);
    free(want);
}

static cnv_attrs pool_attrs(int kh, int kw, int stride, int pad, int dilation, int ceil_mode) {
    cnv_attrs a;
    cnv_attrs_default(CNV_OP_MAXPOOL, &a);
    a.kernel[0] = kh;
    a.kernel[1] = kw;
    a.stride[0] = a.stride[1] = stride;
    for (int p = 0; p < 4; p++) a.pads[p] = pad;
    a.dilation[0] = a.dilation[1] = dilation;
    a.ceil_mode = ceil_mode;
    return a;
}

static void test_maxpool_fill(void **state) {
    check_fill("2x2 s2 (the classic unpooling) 1x2x8x8", pool_attrs(2, 2, 2, 0, 1, 0), cnv_shape4(1, 2, 8, 8));
    check_fill("3x3 s2 overlapping ceil 2x3x13x11", pool_attrs(3, 3, 2, 0, 1, 1), cnv_shape4(2, 3, 13, 11));
    check_fill("3x2 s2 pad 1 dilation 2 1x2x15x12", pool_attrs(3, 2, 2, 1, 2, 1), cnv_shape4(1, 2, 15, 12));
}

int main(int argc, char **argv) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relu_rules),
        cmocka_unit_test(test_other_activations_ignore_rule),
        cmocka_unit_test(test_maxpool_fill),
    };
    return TU_RUN_BACKEND_SUITE(argc, argv, tests);
}
