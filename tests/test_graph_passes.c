/* Shape inference (ONNX output-size rules), BatchNormalization folding and receptive fields on
 * small hand-built graphs whose answers follow from the ONNX specification's formulas. */
#include "test_util.h"

#include "core/exec.h"
#include "core/graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cnv_shape infer_ok(cnv_op_type op, cnv_attrs *a, int n_in, const cnv_shape *in) {
    cnv_shape out = {0};
    cnv_status st = cnv_op_infer_shape(op, a, n_in, in, &out, "n");
    if (st != CNV_OK) fail_msg("%s", cnv_last_error());
    return out;
}

static void assert_shape(cnv_shape s, int ndim, int d0, int d1, int d2, int d3) {
    int want[4] = {d0, d1, d2, d3};
    assert_int_equal(s.ndim, ndim);
    for (int i = 0; i < ndim; i++) assert_int_equal(s.d[i], want[i]);
}

static void test_conv_pads_strides_dilations(void **state) {
    (void)state;
    cnv_attrs a;
    cnv_attrs_default(CNV_OP_CONV, &a);
    a.stride[0] = 2; a.stride[1] = 3;
    a.dilation[0] = 2;
    a.pads[0] = 1; a.pads[2] = 2; a.pads[1] = 0; a.pads[3] = 1;
    a.group = 2;
    cnv_shape in[3] = {cnv_shape4(1, 4, 11, 10), cnv_shape4(6, 2, 3, 3), {1, {6}}};
    /* H: (11+3-2*2-1)/2+1 = 5; W: (10+1-2-1)/3+1 = 3; kernel taken from W. */
    assert_shape(infer_ok(CNV_OP_CONV, &a, 3, in), 4, 1, 6, 5, 3);
    assert_int_equal(a.kernel[0], 3);

    in[1] = cnv_shape4(6, 3, 3, 3); /* C/group mismatch */
    cnv_shape out;
    assert_int_equal(cnv_op_infer_shape(CNV_OP_CONV, &a, 3, in, &out, "conv7"), CNV_ERR_SHAPE);
    assert_non_null(strstr(cnv_last_error(), "conv7"));
}

static void test_pool_ceil_mode(void **state) {
    (void)state;
    cnv_attrs a;
    cnv_attrs_default(CNV_OP_MAXPOOL, &a);
    a.kernel[0] = a.kernel[1] = 3;
    a.stride[0] = a.stride[1] = 2;
    cnv_shape in = cnv_shape4(1, 8, 6, 6);
    assert_shape(infer_ok(CNV_OP_MAXPOOL, &a, 1, &in), 4, 1, 8, 2, 2);
    a.ceil_mode = 1; /* ceil((6-3)/2)+1 = 3, last window starts at 4 < 6 */
    assert_shape(infer_ok(CNV_OP_MAXPOOL, &a, 1, &in), 4, 1, 8, 3, 3);
    /* k=2, s=2, pad 1 on 5: ceil((5+2-2)/2)+1 = 4, but the 4th window starts at 6 >= 5+1: 3. */
    a.kernel[0] = a.kernel[1] = 2;
    for (int i = 0; i < 4; i++) a.pads[i] = 1;
    in = cnv_shape4(1, 1, 5, 5);
    assert_shape(infer_ok(CNV_OP_AVGPOOL, &a, 1, &in), 4, 1, 1, 3, 3);
}

static void test_auto_pad(void **state) {
    (void)state;
    cnv_attrs a;
    cnv_attrs_default(CNV_OP_MAXPOOL, &a);
    a.kernel[0] = a.kernel[1] = 2;
    a.stride[0] = a.stride[1] = 1;
    a.auto_pad = CNV_AUTO_PAD_SAME_UPPER;
    cnv_shape in = cnv_shape4(1, 1, 5, 5);
    assert_shape(infer_ok(CNV_OP_MAXPOOL, &a, 1, &in), 4, 1, 1, 5, 5);
    assert_int_equal(a.pads[0], 0);
    assert_int_equal(a.pads[2], 1);
    a.auto_pad = CNV_AUTO_PAD_SAME_LOWER;
    infer_ok(CNV_OP_MAXPOOL, &a, 1, &in);
    assert_int_equal(a.pads[0], 1);
    assert_int_equal(a.pads[2], 0);
    a.auto_pad = CNV_AUTO_PAD_VALID;
    a.kernel[0] = a.kernel[1] = 3;
    a.stride[0] = a.stride[1] = 2;
    assert_shape(infer_ok(CNV_OP_MAXPOOL, &a, 1, &in), 4, 1, 1, 2, 2);
    assert_int_equal(a.pads[0] + a.pads[2], 0);
}

static void test_dense_and_layout_ops(void **state) {
    (void)state;
    cnv_attrs a;
    cnv_attrs_default(CNV_OP_GEMM, &a);
    a.trans_b = 1;
    cnv_shape g[3] = {{2, {1, 20}}, {2, {10, 20}}, {1, {10}}};
    assert_shape(infer_ok(CNV_OP_GEMM, &a, 3, g), 2, 1, 10, 0, 0);
    a.trans_b = 0;
    cnv_shape out;
    assert_int_equal(cnv_op_infer_shape(CNV_OP_GEMM, &a, 3, g, &out, "fc"), CNV_ERR_SHAPE);

    cnv_attrs_default(CNV_OP_ADD, &a);
    cnv_shape b[2] = {cnv_shape4(1, 3, 4, 5), {2, {4, 1}}};
    assert_shape(infer_ok(CNV_OP_ADD, &a, 2, b), 4, 1, 3, 4, 5);
    b[1] = (cnv_shape){2, {3, 5}};
    assert_int_equal(cnv_op_infer_shape(CNV_OP_ADD, &a, 2, b, &out, "add"), CNV_ERR_SHAPE);

    cnv_attrs_default(CNV_OP_CONCAT, &a);
    a.axis = -3;
    cnv_shape c[3] = {cnv_shape4(1, 2, 4, 4), cnv_shape4(1, 5, 4, 4), cnv_shape4(1, 1, 4, 4)};
    assert_shape(infer_ok(CNV_OP_CONCAT, &a, 3, c), 4, 1, 8, 4, 4);
    assert_int_equal(a.axis, 1);

    cnv_attrs_default(CNV_OP_FLATTEN, &a);
    a.axis = 2;
    cnv_shape f = cnv_shape4(2, 3, 4, 5);
    assert_shape(infer_ok(CNV_OP_FLATTEN, &a, 1, &f), 2, 6, 20, 0, 0);
    a.axis = 0;
    assert_shape(infer_ok(CNV_OP_FLATTEN, &a, 1, &f), 2, 1, 120, 0, 0);

    cnv_attrs_default(CNV_OP_RESHAPE, &a);
    a.shape_n = 3;
    a.shape[0] = 0; a.shape[1] = -1; a.shape[2] = 4;
    assert_shape(infer_ok(CNV_OP_RESHAPE, &a, 1, &f), 3, 2, 15, 4, 0);
    a.shape[2] = 7;
    assert_int_equal(cnv_op_infer_shape(CNV_OP_RESHAPE, &a, 1, &f, &out, "r"), CNV_ERR_SHAPE);

    cnv_attrs_default(CNV_OP_PAD, &a);
    cnv_pad_set(&a, 2, 1, 3);
    cnv_pad_set(&a, 3, 2, 4);
    assert_shape(infer_ok(CNV_OP_PAD, &a, 1, &f), 4, 2, 3, 8, 11);
    const cnv_shape f5 = {5, {2, 3, 4, 5, 1}}; /* Pad's kernels are 4-D: more dims are refused */
    assert_int_equal(cnv_op_infer_shape(CNV_OP_PAD, &a, 1, &f5, &out, "p"), CNV_ERR_SHAPE);

    cnv_attrs_default(CNV_OP_GLOBALAVGPOOL, &a);
    assert_shape(infer_ok(CNV_OP_GLOBALAVGPOOL, &a, 1, &f), 4, 2, 3, 1, 1);
}

/* input -> conv(3x3, s1) -> BN -> relu -> maxpool(2, s2) -> gap. */
static cnv_graph *build_conv_bn_graph(int with_bias) {
    cnv_graph *g = cnv_graph_new("test.onnx");
    cnv_shape xs = cnv_shape4(1, 2, 8, 8), ws = cnv_shape4(3, 2, 3, 3), cs = {1, {3}};
    float w[54], bias[3] = {0.5f, -1.0f, 2.0f}, scale[3] = {2.0f, -0.5f, 3.0f}, shift[3] = {1.0f, 0.0f, -2.0f};
    for (int i = 0; i < 54; i++) w[i] = (float)(i % 7) - 3.0f;
    g->input = cnv_graph_add_value(g, "x", &xs, NULL);
    int wv = cnv_graph_add_value(g, "w", &ws, w);
    int bv = with_bias ? cnv_graph_add_value(g, "b", &cs, bias) : -1;
    int sv = cnv_graph_add_value(g, "scale", &cs, scale), hv = cnv_graph_add_value(g, "shift", &cs, shift);
    int c = cnv_graph_add_value(g, "c", NULL, NULL), bn = cnv_graph_add_value(g, "bn", NULL, NULL);
    int r = cnv_graph_add_value(g, "r", NULL, NULL), p = cnv_graph_add_value(g, "p", NULL, NULL);
    int gap = cnv_graph_add_value(g, "gap", NULL, NULL);
    cnv_attrs a;
    cnv_attrs_default(CNV_OP_CONV, &a);
    a.kernel[0] = a.kernel[1] = 3;
    int conv_in[3] = {g->input, wv, bv};
    cnv_graph_add_node(g, "conv", CNV_OP_CONV, &a, with_bias ? 3 : 2, conv_in, c);
    int bn_in[3] = {c, sv, hv};
    cnv_graph_add_node(g, "bn", CNV_OP_BATCHNORM, NULL, 3, bn_in, bn);
    cnv_graph_add_node(g, "relu", CNV_OP_RELU, NULL, 1, &bn, r);
    cnv_attrs_default(CNV_OP_MAXPOOL, &a);
    a.kernel[0] = a.kernel[1] = 2;
    a.stride[0] = a.stride[1] = 2;
    cnv_graph_add_node(g, "pool", CNV_OP_MAXPOOL, &a, 1, &r, p);
    cnv_graph_add_node(g, "gap", CNV_OP_GLOBALAVGPOOL, NULL, 1, &p, gap);
    g->output = gap;
    return g;
}

static void test_graph_infer_shapes(void **state) {
    (void)state;
    cnv_graph *g = build_conv_bn_graph(1);
    cnv_shape shapes[16];
    cnv_shape in = cnv_shape4(5, 2, 8, 8);
    assert_int_equal(cnv_graph_infer_shapes(g, &in, shapes), CNV_OK);
    assert_shape(shapes[cnv_graph_find_value(g, "c")], 4, 5, 3, 6, 6);
    assert_shape(shapes[cnv_graph_find_value(g, "p")], 4, 5, 3, 3, 3);
    assert_shape(shapes[cnv_graph_find_value(g, "gap")], 4, 5, 3, 1, 1);
    assert_shape(shapes[cnv_graph_find_value(g, "w")], 4, 3, 2, 3, 3);
    in = cnv_shape4(1, 4, 8, 8);
    assert_int_equal(cnv_graph_infer_shapes(g, &in, shapes), CNV_ERR_SHAPE);
    assert_non_null(strstr(cnv_last_error(), "test.onnx"));
    assert_non_null(strstr(cnv_last_error(), "'conv'"));
    cnv_graph_free(g);
}

static void check_fold(int with_bias) {
    cnv_graph *g = build_conv_bn_graph(with_bias);
    float w0[54], b0[3] = {0};
    memcpy(w0, g->values[cnv_graph_find_value(g, "w")].init, sizeof w0);
    if (with_bias) memcpy(b0, g->values[cnv_graph_find_value(g, "b")].init, sizeof b0);
    const float scale[3] = {2.0f, -0.5f, 3.0f}, shift[3] = {1.0f, 0.0f, -2.0f};
    assert_int_equal(cnv_graph_fold_batchnorm(g), CNV_OK);
    assert_int_equal(g->n_nodes, 4);
    const cnv_node *conv = &g->nodes[0];
    assert_int_equal(conv->op, CNV_OP_CONV);
    assert_int_equal(conv->n_in, 3);
    assert_string_equal(g->values[conv->out].name, "bn");
    assert_int_equal(g->values[conv->out].producer, 0);
    assert_int_equal(g->nodes[1].in[0], conv->out);
    assert_int_equal(cnv_graph_find_value(g, "c"), -1);
    assert_int_equal(cnv_graph_find_value(g, "scale"), -1);
    assert_string_equal(g->values[g->output].name, "gap");
    assert_int_equal(g->values[g->output].producer, 3);
    const float *w = g->values[conv->in[1]].init, *b = g->values[conv->in[2]].init;
    for (int m = 0; m < 3; m++) {
        assert_float_equal(b[m], b0[m] * scale[m] + shift[m], 1e-6);
        for (int k = 0; k < 18; k++) assert_float_equal(w[m * 18 + k], w0[m * 18 + k] * scale[m], 1e-6);
    }
    cnv_shape shapes[16];
    assert_int_equal(cnv_graph_infer_shapes(g, &g->values[g->input].shape, shapes), CNV_OK);
    cnv_graph_free(g);
}

static void test_fold_batchnorm(void **state) {
    (void)state;
    check_fold(1);
    check_fold(0);
}

static void test_fold_keeps_bn_when_conv_output_is_shared(void **state) {
    (void)state;
    cnv_graph *g = build_conv_bn_graph(1);
    /* Make the relu read the conv output too: folding would change what it sees. */
    g->nodes[2].in[0] = cnv_graph_find_value(g, "c");
    assert_int_equal(cnv_graph_fold_batchnorm(g), CNV_OK);
    assert_int_equal(g->n_nodes, 5);
    assert_int_equal(g->nodes[1].op, CNV_OP_BATCHNORM);
    cnv_graph_free(g);
}

/* The kernels the CPU backend ran so far, as its profile table prints them. */
static char *profile_text(cnv_backend *be) {
    FILE *f = tmpfile();
    assert_non_null(f);
    cnv_backend_profile_report(be, f);
    const long n = ftell(f);
    char *text = tu_calloc((size_t)n + 1, 1);
    rewind(f);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return text;
}

/* The forward of `g` to its Relu on the CPU backend (a batch of 3), the Relu's output checked against max(x,
 * 0) of the Relu's input exactly; the profile says whether the Relu ran as a kernel of its own. */
static int relu_runs_alone(cnv_graph *g) {
    cnv_backend *be;
    cnv_exec *ex;
    tu_expect_ok(cnv_backend_cpu_create(&be));
    tu_expect_ok(cnv_exec_create(g, be, 3, &ex));
    const int r = cnv_graph_find_value(g, "r"), relu = g->values[r].producer, in = g->nodes[relu].in[0];
    const size_t n = cnv_shape_numel(&ex->shapes[r]), nx = cnv_shape_numel(&ex->shapes[g->input]);
    float *x = tu_calloc(nx, sizeof(float)), *before = tu_calloc(n, sizeof(float)), *after = tu_calloc(n, sizeof(float));
    cnv_rng rng;
    cnv_rng_seed(&rng, 7);
    tu_fill_uniform(&rng, x, nx, -1.0f, 1.0f);
    tu_expect_ok(cnv_exec_set_input(ex, x));
    tu_expect_ok(cnv_exec_forward(ex, relu));
    tu_expect_ok(cnv_exec_read(ex, in, before));
    tu_expect_ok(cnv_exec_read(ex, r, after));
    size_t positive = 0;
    for (size_t i = 0; i < n; i++) {
        if (after[i] != (before[i] > 0.0f ? before[i] : 0.0f))
            fail_msg("relu element %zu is %g, its input %g", i, after[i], before[i]);
        positive += before[i] > 0.0f;
    }
    assert_true(positive > 0 && positive < n);
    char *text = profile_text(be);
    const int alone = strstr(text, "Relu forward") != NULL;
    assert_non_null(strstr(text, "Conv forward"));
    free(text), free(x), free(before), free(after);
    cnv_exec_free(ex);
    cnv_backend_free(be);
    return alone;
}

/* A Relu of a Conv's output is computed by the conv's forward (exec.c), even when another node
 * reads the conv's output too; a Relu after anything else runs as its own kernel. */
static void test_conv_relu_fused(void **state) {
    (void)state;
    cnv_graph *g = build_conv_bn_graph(1);
    assert_int_equal(relu_runs_alone(g), 1); /* conv -> BN -> relu */
    assert_int_equal(cnv_graph_fold_batchnorm(g), CNV_OK);
    assert_int_equal(relu_runs_alone(g), 0); /* conv -> relu */
    g->nodes[2].in[0] = cnv_graph_find_value(g, "bn"); /* the pool reads the conv's output too */
    assert_int_equal(relu_runs_alone(g), 0);
    cnv_graph_free(g);
}

/* Forward to the output and backward to the input of g on the CPU (batch 2): Relu "r"'s output
 * and the input's gradient into r_out and dx; with drop, cnv_exec_drop_pre_activations. Returns
 * the status of reading the Relu's input afterwards. */
static cnv_status run_dropping(cnv_graph *g, int drop, float *r_out, float *dx) {
    cnv_backend *be;
    cnv_exec *ex;
    tu_expect_ok(cnv_backend_cpu_create(&be));
    tu_expect_ok(cnv_exec_create(g, be, 2, &ex));
    if (drop) cnv_exec_drop_pre_activations(ex);
    const int r = cnv_graph_find_value(g, "r"), in = g->nodes[g->values[r].producer].in[0];
    const size_t nx = cnv_shape_numel(&ex->shapes[g->input]), ny = cnv_shape_numel(&ex->shapes[g->output]);
    float *x = tu_calloc(nx, sizeof(float)), *seed = tu_calloc(ny, sizeof(float));
    float *pre = tu_calloc(cnv_shape_numel(&ex->shapes[in]), sizeof(float));
    cnv_rng rng;
    cnv_rng_seed(&rng, 11);
    tu_fill_uniform(&rng, x, nx, -1.0f, 1.0f);
    tu_fill_uniform(&rng, seed, ny, -1.0f, 1.0f);
    tu_expect_ok(cnv_exec_set_input(ex, x));
    tu_expect_ok(cnv_exec_forward(ex, g->values[g->output].producer));
    tu_expect_ok(cnv_exec_read(ex, r, r_out));
    tu_expect_ok(cnv_exec_backward(ex, g->output, seed, 0));
    tu_expect_ok(cnv_exec_read_grad(ex, g->input, dx));
    const cnv_status s = cnv_exec_read(ex, in, pre);
    free(x), free(seed), free(pre);
    cnv_exec_free(ex);
    cnv_backend_free(be);
    return s;
}

/* A Conv whose output only its fused Relu reads writes the Relu's output alone where the caller
 * asks (render and training loops): the Relu's output and the backward are bit for bit those of
 * the executor that keeps it, and reading the pre-activation fails instead of giving stale
 * values. Where another node reads the conv's output it is kept. */
static void test_pre_activation_dropped(void **state) {
    (void)state;
    cnv_graph *g = build_conv_bn_graph(1);
    assert_int_equal(cnv_graph_fold_batchnorm(g), CNV_OK); /* conv -> relu -> pool -> gap */
    enum { R = 2 * 3 * 6 * 6, X = 2 * 2 * 8 * 8 };
    float r_keep[R], r_drop[R], dx_keep[X], dx_drop[X];
    assert_int_equal(run_dropping(g, 0, r_keep, dx_keep), CNV_OK);
    assert_int_equal(run_dropping(g, 1, r_drop, dx_drop), CNV_ERR_ARG);
    assert_memory_equal(r_keep, r_drop, sizeof r_keep);
    assert_memory_equal(dx_keep, dx_drop, sizeof dx_keep);
    g->nodes[2].in[0] = cnv_graph_find_value(g, "bn"); /* the pool reads the conv's output too */
    assert_int_equal(run_dropping(g, 1, r_drop, dx_drop), CNV_OK);
    cnv_graph_free(g);
}

static void test_receptive_fields(void **state) {
    (void)state;
    cnv_graph *g = build_conv_bn_graph(1);
    g->nodes[0].attrs.dilation[1] = 2; /* W: 1 + 2*2 = 5 */
    cnv_receptive_field rf[5];
    cnv_graph_receptive_fields(g, rf);
    assert_int_equal(rf[0].size[0], 3);
    assert_int_equal(rf[0].size[1], 5);
    assert_int_equal(rf[0].stride[0], 1);
    assert_int_equal(rf[2].size[0], 3);  /* relu keeps it */
    assert_int_equal(rf[3].size[0], 4);  /* pool 2 at jump 1 */
    assert_int_equal(rf[3].stride[0], 2);
    assert_int_equal(rf[4].size[0], 8);  /* global pool: the whole 8x8 input */
    assert_int_equal(rf[4].size[1], 8);
    cnv_graph_free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_pads_strides_dilations),
        cmocka_unit_test(test_pool_ceil_mode),
        cmocka_unit_test(test_auto_pad),
        cmocka_unit_test(test_dense_and_layout_ops),
        cmocka_unit_test(test_graph_infer_shapes),
        cmocka_unit_test(test_fold_batchnorm),
        cmocka_unit_test(test_fold_keeps_bn_when_conv_output_is_shared),
        cmocka_unit_test(test_receptive_fields),
        cmocka_unit_test(test_conv_relu_fused),
        cmocka_unit_test(test_pre_activation_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
