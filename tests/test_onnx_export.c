/* ONNX export: every graph written and read back (cnv_model_load) keeps its nodes, names and
 * weights, and computes bit for bit the same tensors on the CPU backend; the files pass
 * onnx.checker (full check, with shape inference) and OpenCV DNN ranks SqueezeNet's classes as
 * cnnvis does. Also the named architectures and the `convert` verb. */
#include "model_run.h"
#include "test_util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "core/graph.h"
#include "io/npy.h"
#include "models/arch.h"
#include "models/onnx.h"
#include "cnnvis/convert.h"

#define PYTHON "/usr/bin/python3"
#define OUT_DIR CNNVIS_BINARY_DIR "/test_onnx_export"
#define SQUEEZENET "models/squeezenet1.1_openvino_fp16/derived/squeezenet1.1_fp32_from_ir.onnx"
#define SQUEEZENET_CAR "models/squeezenet1.1_openvino_fp16/test_data_car_bgr255/input_0.pb"
#define MNIST12 "models/mnist/mnist-12/model.onnx"

static const char *out_path(const char *file) {
    static char buf[4096];
    if (mkdir(OUT_DIR, 0755) != 0 && errno != EEXIST) fail_msg("cannot create %s: %s", OUT_DIR, strerror(errno));
    const int len = snprintf(buf, sizeof buf, "%s/%s", OUT_DIR, file);
    if (len < 0 || (size_t)len >= sizeof buf) fail_msg("path too long: %s/%s", OUT_DIR, file);
    return buf;
}

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static void check_ok(cnv_status st) {
    if (st != CNV_OK) fail_msg("%s: %s", cnv_status_str(st), cnv_last_error());
}

static cnv_graph *load(const char *path) {
    cnv_graph *g = NULL;
    check_ok(cnv_model_load(path, &g));
    return g;
}

/* ---- the python checks (skipped with a printed reason when the modules are missing) ---- */

static int python_has(const char *module) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, PYTHON " -c 'import %s' >/dev/null 2>&1", module);
    if (system(cmd) == 0) return 1;
    printf("[  SKIPPED ] %s with %s is not importable here: that sub-check is skipped\n", PYTHON, module);
    return 0;
}

/* onnx.checker with full_check (runs ONNX shape inference too), plus the header fields we
 * promise: IR version, opset and the graph input's batch dim ("N" or "1"). */
static void onnx_checker(const char *path, const char *batch_dim) {
    if (!python_has("onnx")) return;
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             PYTHON " -c 'import onnx, sys\n"
                    "m = onnx.load(sys.argv[1])\n"
                    "onnx.checker.check_model(m, full_check=True)\n"
                    "d = m.graph.input[0].type.tensor_type.shape.dim[0]\n"
                    "got = (m.ir_version, [(o.domain, o.version) for o in m.opset_import], d.dim_param or str(d.dim_value))\n"
                    "want = (%d, [(\"\", %d)], sys.argv[2])\n"
                    "sys.exit(0 if got == want else print(\"got\", got, \"want\", want) or 1)' '%s' '%s'",
             CNV_ONNX_EXPORT_IR_VERSION, CNV_ONNX_EXPORT_OPSET, path, batch_dim);
    int rc = system(cmd);
    if (rc != 0) fail_msg("onnx.checker rejects %s (status %d)", path, rc);
}

/* ---- round trip ---- */

/* Node by node, every weight input holds the same shape, bits and name. BatchNormalization is
 * the exception for names: the importer turns (scale, B, mean, var) into a per-channel scale
 * and shift it names itself; their bits must still match. */
static void assert_same_weights(const cnv_graph *a, const cnv_graph *b) {
    assert_int_equal(a->n_nodes, b->n_nodes);
    for (int i = 0; i < a->n_nodes; i++) {
        const cnv_node *na = &a->nodes[i], *nb = &b->nodes[i];
        assert_int_equal(na->n_in, nb->n_in);
        for (int j = 0; j < na->n_in; j++) {
            const cnv_value *va = &a->values[na->in[j]], *vb = &b->values[nb->in[j]];
            if (!va->init) continue;
            if (!vb->init) fail_msg("node '%s' input %d ('%s') is no weight after the round trip", na->name, j, va->name);
            if (na->op != CNV_OP_BATCHNORM) assert_string_equal(va->name, vb->name);
            assert_true(cnv_shape_equal(&va->shape, &vb->shape));
            assert_memory_equal(va->init, vb->init, cnv_shape_numel(&va->shape) * sizeof(float));
        }
    }
}

/* Every node output of a exists in b (by name) and holds the same bits. */
static void assert_same_tensors(cnv_graph *a, cnv_graph *b, const float *input) {
    float **va, **vb;
    check_ok(tu_model_forward_all(a, input, &va));
    check_ok(tu_model_forward_all(b, input, &vb));
    for (int i = 0; i < a->n_nodes; i++) {
        int v = a->nodes[i].out, w = cnv_graph_find_value(b, a->values[v].name);
        if (w < 0 || !vb[w]) fail_msg("value '%s' is missing after the round trip", a->values[v].name);
        assert_true(cnv_shape_equal(&a->values[v].shape, &b->values[w].shape));
        size_t n = cnv_shape_numel(&a->values[v].shape);
        if (memcmp(va[v], vb[w], n * sizeof(float)) != 0)
            fail_msg("'%s' differs after the round trip (relative error %g)", a->values[v].name,
                     tu_rel_error(vb[w], va[v], n));
    }
    tu_model_values_free(va, a->n_values);
    tu_model_values_free(vb, b->n_values);
}

static void assert_same_nodes(const cnv_graph *a, const cnv_graph *b) {
    assert_int_equal(a->n_nodes, b->n_nodes);
    for (int i = 0; i < a->n_nodes; i++) {
        assert_string_equal(cnv_op_name(a->nodes[i].op), cnv_op_name(b->nodes[i].op));
        assert_string_equal(a->nodes[i].name, b->nodes[i].name);
        assert_string_equal(a->values[a->nodes[i].out].name, b->values[b->nodes[i].out].name);
    }
    assert_string_equal(a->values[a->input].name, b->values[b->input].name);
    assert_string_equal(a->values[a->output].name, b->values[b->output].name);
}

/* Exports g, reloads it, and checks nodes, weights and every tensor on a random input.
 * Returns the reloaded graph; the file is left at out_path(file). */
static cnv_graph *round_trip(cnv_graph *g, const char *file, const char *batch_dim, uint64_t seed) {
    const char *path = out_path(file);
    remove(path);
    check_ok(cnv_onnx_save(g, path));
    onnx_checker(path, batch_dim);
    cnv_graph *back = load(path);
    assert_same_nodes(g, back);
    assert_same_weights(g, back);
    size_t n = cnv_shape_numel(&g->values[g->input].shape);
    float *input = malloc(n * sizeof *input);
    assert_non_null(input);
    cnv_rng rng;
    cnv_rng_seed(&rng, seed);
    tu_fill_uniform(&rng, input, n, -1.0f, 1.0f);
    assert_same_tensors(g, back, input);
    free(input);
    return back;
}

static void test_smallnet_round_trip(void **state) {
    (void)state;
    cnv_graph *g = NULL;
    check_ok(cnv_arch_build("smallnet", 7, &g));
    cnv_model_free(round_trip(g, "smallnet.onnx", "N", 1));
    cnv_model_free(g);
}

static void test_vgg_small_round_trip(void **state) {
    (void)state;
    cnv_graph *g = NULL;
    check_ok(cnv_arch_build("vgg-small", 7, &g));
    cnv_model_free(round_trip(g, "vgg-small.onnx", "N", 2));
    cnv_model_free(g);
}

static void test_mnist12_round_trip(void **state) {
    (void)state;
    cnv_graph *g = load(tu_shared_path(MNIST12));
    /* Its flattening Reshape says [1, 256]; the importer reads a leading literal 1 as "copy the
     * batch" (the same at batch 1), so the exported graph takes any batch. */
    cnv_model_free(round_trip(g, "mnist-12.onnx", "N", 3));
    cnv_model_free(g);
}

/* Top-5 indices of x, best first (ties: lower index first, as numpy's stable argsort). */
static void top5(const float *x, int n, int *best) {
    for (int k = 0; k < 5; k++) {
        best[k] = -1;
        for (int i = 0; i < n; i++) {
            int taken = 0;
            for (int j = 0; j < k; j++) taken |= best[j] == i;
            if (!taken && (best[k] < 0 || x[i] > x[best[k]])) best[k] = i;
        }
    }
}

/* OpenCV DNN runs the exported SqueezeNet on the car image and ranks the classes as we do. */
static void opencv_agrees(cnv_graph *g, const char *model_path) {
    if (!python_has("cv2")) return;
    char model[4096];
    snprintf(model, sizeof model, "%s", model_path); /* out_path below reuses its buffer */
    float *x = NULL;
    cnv_shape xs;
    check_ok(cnv_onnx_read_tensor(tu_shared_path(SQUEEZENET_CAR), &x, &xs));
    assert_true(cnv_shape_equal(&xs, &g->values[g->input].shape));
    const char *npy = out_path("squeezenet_car.npy");
    check_ok(cnv_npy_write(npy, x, &xs));

    float **vals;
    check_ok(tu_model_forward_all(g, x, &vals));
    int ours[5];
    top5(vals[g->output], (int)cnv_shape_numel(&g->values[g->output].shape), ours);
    tu_model_values_free(vals, g->n_values);
    free(x);

    char cmd[8192], line[256] = "";
    snprintf(cmd, sizeof cmd, PYTHON " '%s/tests/check_opencv_onnx.py' '%s' '%s'", CNNVIS_SOURCE_DIR, model, npy);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    if (!fgets(line, sizeof line, p)) line[0] = '\0';
    int rc = pclose(p);
    if (WIFEXITED(rc) && WEXITSTATUS(rc) == 3) {
        printf("[  SKIPPED ] OpenCV DNN check: the script found no cv2/numpy\n");
        return;
    }
    if (rc != 0) fail_msg("check_opencv_onnx.py failed on %s (status %d)", model, rc);
    int theirs[5];
    if (sscanf(line, "%d %d %d %d %d", &theirs[0], &theirs[1], &theirs[2], &theirs[3], &theirs[4]) != 5)
        fail_msg("check_opencv_onnx.py printed '%s'", line);
    for (int k = 0; k < 5; k++)
        if (ours[k] != theirs[k])
            fail_msg("top-5 differ at rank %d: cnnvis %d %d %d %d %d, OpenCV %s", k + 1, ours[0], ours[1], ours[2],
                     ours[3], ours[4], line);
}

static void test_squeezenet_round_trip_and_opencv(void **state) {
    (void)state;
    cnv_graph *g = load(tu_shared_path(SQUEEZENET));
    cnv_graph *back = round_trip(g, "squeezenet1.1.onnx", "N", 4);
    opencv_agrees(back, out_path("squeezenet1.1.onnx"));
    cnv_model_free(back);
    cnv_model_free(g);
}

/* ---- one graph chaining the first-wave ops with the attributes the models above leave out (each
 * op on its own, every op included, is round-tripped by tests/test_op_coverage.c) ---- */

typedef struct builder {
    cnv_graph *g;
    cnv_rng rng;
} builder;

static int param(builder *b, const char *name, cnv_shape s) {
    size_t n = cnv_shape_numel(&s);
    float *w = malloc(n * sizeof *w);
    assert_non_null(w);
    tu_fill_uniform(&b->rng, w, n, -0.5f, 0.5f);
    int v = cnv_graph_add_value(b->g, name, &s, w);
    free(w);
    assert_true(v >= 0);
    return v;
}

/* Adds node `name` (its output value has the same name) and returns the output value. */
static int node(builder *b, const char *name, cnv_op_type op, const cnv_attrs *a, int n_in, const int *in) {
    cnv_attrs attrs = *a;
    cnv_shape shapes[CNV_MAX_INPUTS], out;
    for (int i = 0; i < n_in; i++) shapes[i] = b->g->values[in[i]].shape;
    check_ok(cnv_op_infer_shape(op, &attrs, n_in, shapes, &out, name));
    int v = cnv_graph_add_value(b->g, name, &out, NULL);
    assert_true(v >= 0);
    assert_true(cnv_graph_add_node(b->g, name, op, &attrs, n_in, in, v) >= 0);
    return v;
}

static cnv_attrs defaults(cnv_op_type op) {
    cnv_attrs a;
    cnv_attrs_default(op, &a);
    return a;
}

static cnv_graph *every_op_graph(void) {
    builder b = {cnv_graph_new("every-op"), {{0}}};
    assert_non_null(b.g);
    cnv_rng_seed(&b.rng, 11);
    b.g->opset = 13;
    cnv_shape in_shape = cnv_shape4(1, 3, 9, 9);
    int x = b.g->input = cnv_graph_add_value(b.g, "image", &in_shape, NULL);

    cnv_attrs a = defaults(CNV_OP_CONV);
    a.pads[0] = 1; a.pads[1] = 0; a.pads[2] = 1; a.pads[3] = 2;
    a.stride[1] = 2;
    int c1 = node(&b, "conv_asym", CNV_OP_CONV, &a, 3,
                  (int[]){x, param(&b, "conv_asym.w", cnv_shape4(4, 3, 3, 3)), param(&b, "conv_asym.b", (cnv_shape){1, {4}})});
    a = defaults(CNV_OP_LEAKYRELU);
    a.alpha = 0.2f;
    int lr = node(&b, "leaky", CNV_OP_LEAKYRELU, &a, 1, &c1);
    a = defaults(CNV_OP_PAD);
    a.pad_mode = CNV_PAD_REFLECT;
    cnv_pad_set(&a, 2, 1, 2); cnv_pad_set(&a, 3, 0, 1);
    int pr = node(&b, "pad_reflect", CNV_OP_PAD, &a, 1, &lr);
    a = defaults(CNV_OP_MAXPOOL);
    a.kernel[0] = a.kernel[1] = 3; a.stride[0] = a.stride[1] = 2; a.ceil_mode = 1;
    a.pads[0] = a.pads[1] = 1;
    int mp = node(&b, "maxpool_ceil", CNV_OP_MAXPOOL, &a, 1, &pr);
    a = defaults(CNV_OP_AVGPOOL);
    a.kernel[0] = a.kernel[1] = 2; a.count_include_pad = 1;
    a.pads[2] = a.pads[3] = 1;
    int ap = node(&b, "avgpool_incl", CNV_OP_AVGPOOL, &a, 1, &mp);
    a = defaults(CNV_OP_LRN);
    a.size = 3; a.alpha = 0.01f; a.beta = 0.6f; a.bias = 2.0f;
    int lrn = node(&b, "lrn", CNV_OP_LRN, &a, 1, &ap);
    a = defaults(CNV_OP_CLIP);
    a.min = -0.05f; a.max = 0.07f;
    int cl = node(&b, "clip", CNV_OP_CLIP, &a, 1, &lrn);
    a = defaults(CNV_OP_SIGMOID);
    int sg = node(&b, "sigmoid", CNV_OP_SIGMOID, &a, 1, &cl);
    a = defaults(CNV_OP_TANH);
    int th = node(&b, "tanh", CNV_OP_TANH, &a, 1, &lrn);
    a = defaults(CNV_OP_CONCAT);
    int cc = node(&b, "concat", CNV_OP_CONCAT, &a, 2, (int[]){sg, th});
    a = defaults(CNV_OP_ELU);
    a.alpha = 0.7f;
    int el = node(&b, "elu", CNV_OP_ELU, &a, 1, &cc);
    a = defaults(CNV_OP_ADD);
    int ad = node(&b, "add_bias", CNV_OP_ADD, &a, 2, (int[]){el, param(&b, "add_bias.b", (cnv_shape){3, {8, 1, 1}})});
    a = defaults(CNV_OP_BATCHNORM);
    int bn = node(&b, "bn", CNV_OP_BATCHNORM, &a, 3,
                  (int[]){ad, param(&b, "bn.scale", (cnv_shape){1, {8}}), param(&b, "bn.shift", (cnv_shape){1, {8}})});
    a = defaults(CNV_OP_TRANSPOSE);
    a.perm[2] = 3; a.perm[3] = 2; /* 1x8x6x3 -> 1x8x3x6 */
    int tr = node(&b, "transpose_hw", CNV_OP_TRANSPOSE, &a, 1, &bn);
    a = defaults(CNV_OP_CONV);
    a.group = 2; a.dilation[0] = a.dilation[1] = 2; a.auto_pad = CNV_AUTO_PAD_SAME_UPPER;
    int c2 = node(&b, "conv_group_dil", CNV_OP_CONV, &a, 2, (int[]){tr, param(&b, "conv_group_dil.w", cnv_shape4(6, 4, 2, 2))});
    a = defaults(CNV_OP_PAD);
    a.pad_value = 0.5f;
    cnv_pad_set(&a, 2, 0, 1); cnv_pad_set(&a, 3, 1, 0);
    int pc = node(&b, "pad_const", CNV_OP_PAD, &a, 1, &c2);
    a = defaults(CNV_OP_GLOBALAVGPOOL);
    int gp = node(&b, "gap", CNV_OP_GLOBALAVGPOOL, &a, 1, &pc);
    a = defaults(CNV_OP_FLATTEN);
    a = defaults(CNV_OP_RELU);
    int rl = node(&b, "relu", CNV_OP_RELU, &a, 1, &gp);
    a = defaults(CNV_OP_FLATTEN);
    int fl = node(&b, "flatten", CNV_OP_FLATTEN, &a, 1, &rl);
    a = defaults(CNV_OP_GEMM);
    a.alpha = 0.5f; a.beta = 2.0f; a.trans_b = 1;
    int gm = node(&b, "gemm", CNV_OP_GEMM, &a, 3,
                  (int[]){fl, param(&b, "gemm.w", (cnv_shape){2, {6, 6}}), param(&b, "gemm.b", (cnv_shape){1, {6}})});
    a = defaults(CNV_OP_RESHAPE);
    a.shape_n = 3; a.shape[0] = 0; a.shape[1] = 2; a.shape[2] = -1;
    int rs = node(&b, "reshape", CNV_OP_RESHAPE, &a, 1, &gm);
    a = defaults(CNV_OP_TRANSPOSE);
    a.perm[1] = 2; a.perm[2] = 1; /* 1x2x3 -> 1x3x2 */
    int t3 = node(&b, "transpose_3d", CNV_OP_TRANSPOSE, &a, 1, &rs);
    a = defaults(CNV_OP_FLATTEN);
    int f2 = node(&b, "flatten2", CNV_OP_FLATTEN, &a, 1, &t3);
    a = defaults(CNV_OP_MATMUL);
    int mm = node(&b, "matmul", CNV_OP_MATMUL, &a, 2, (int[]){f2, param(&b, "matmul.w", (cnv_shape){2, {6, 5}})});
    a = defaults(CNV_OP_DROPOUT);
    int dr = node(&b, "dropout", CNV_OP_DROPOUT, &a, 1, &mm);
    a = defaults(CNV_OP_SOFTMAX);
    a.axis = 1;
    b.g->output = node(&b, "softmax", CNV_OP_SOFTMAX, &a, 1, &dr);
    return b.g;
}

static void test_every_op_round_trip(void **state) {
    (void)state;
    cnv_graph *g = every_op_graph();
    cnv_model_free(round_trip(g, "every-op.onnx", "N", 5));
    cnv_model_free(g);
}

/* A legacy softmax (opset < 13) over [axis, end) of a 4-D tensor cannot be one opset-13 Softmax:
 * it is written as Flatten -> Softmax -> Reshape and computes the same values. */
static void test_legacy_softmax(void **state) {
    (void)state;
    builder b = {cnv_graph_new("legacy-softmax"), {{0}}};
    assert_non_null(b.g);
    b.g->opset = 11;
    cnv_shape in_shape = cnv_shape4(1, 2, 3, 4);
    int x = b.g->input = cnv_graph_add_value(b.g, "x", &in_shape, NULL);
    cnv_attrs a = defaults(CNV_OP_SOFTMAX);
    a.axis = 1;
    a.softmax_legacy = 1;
    b.g->output = node(&b, "prob", CNV_OP_SOFTMAX, &a, 1, &x);

    const char *path = out_path("legacy-softmax.onnx");
    check_ok(cnv_onnx_save(b.g, path));
    onnx_checker(path, "N");
    cnv_graph *back = load(path);
    assert_int_equal(back->n_nodes, 3);
    assert_int_equal(back->nodes[0].op, CNV_OP_FLATTEN);
    assert_int_equal(back->nodes[1].op, CNV_OP_SOFTMAX);
    assert_int_equal(back->nodes[2].op, CNV_OP_RESHAPE);
    float input[24];
    cnv_rng_seed(&b.rng, 6);
    tu_fill_uniform(&b.rng, input, 24, -3.0f, 3.0f);
    float **va, **vb;
    check_ok(tu_model_forward_all(b.g, input, &va));
    check_ok(tu_model_forward_all(back, input, &vb));
    float *pa = va[b.g->output], *pb = vb[back->output];
    /* Legacy semantics: the 24 values of the (only) batch item sum to 1 together. */
    double sum = 0.0;
    for (int i = 0; i < 24; i++) sum += pb[i];
    assert_true(fabs(sum - 1.0) < 1e-5);
    assert_true(tu_rel_error(pb, pa, 24) < 1e-6);
    tu_model_values_free(va, b.g->n_values);
    tu_model_values_free(vb, back->n_values);
    cnv_model_free(back);
    cnv_model_free(b.g);
}

/* A Transpose without perm reverses the dims (ONNX's default): the model is written by the
 * onnx package, read, run on 0..23 and written back with the perm spelled out. */
static void test_transpose_default_perm(void **state) {
    (void)state;
    if (!python_has("onnx")) skip();
    char path[4096], cmd[8192];
    snprintf(path, sizeof path, "%s", out_path("transpose-default.onnx"));
    snprintf(cmd, sizeof cmd,
             PYTHON " -c 'import onnx, sys\n"
                    "from onnx import helper as h, TensorProto as T\n"
                    "g = h.make_graph([h.make_node(\"Transpose\", [\"x\"], [\"y\"])], \"g\",\n"
                    "    [h.make_tensor_value_info(\"x\", T.FLOAT, [1, 2, 3, 4])],\n"
                    "    [h.make_tensor_value_info(\"y\", T.FLOAT, [4, 3, 2, 1])])\n"
                    "onnx.save(h.make_model(g, opset_imports=[h.make_opsetid(\"\", 13)]), sys.argv[1])' '%s'",
             path);
    if (system(cmd) != 0) fail_msg("could not write %s", path);
    cnv_graph *g = load(path);
    assert_int_equal(g->nodes[0].op, CNV_OP_TRANSPOSE);
    cnv_shape want = {4, {4, 3, 2, 1}};
    assert_true(cnv_shape_equal(&g->values[g->output].shape, &want));
    float x[24];
    for (int i = 0; i < 24; i++) x[i] = (float)i;
    float **vals;
    check_ok(tu_model_forward_all(g, x, &vals));
    /* y[d][c][b][a] = x[a][b][c][d] */
    for (int d = 0; d < 4; d++)
        for (int c = 0; c < 3; c++)
            for (int b = 0; b < 2; b++)
                assert_true(vals[g->output][(d * 3 + c) * 2 + b] == (float)(b * 12 + c * 4 + d));
    tu_model_values_free(vals, g->n_values);
    cnv_model_free(round_trip(g, "transpose-default-back.onnx", "1", 8));
    cnv_model_free(g);
}

/* DenseNet-201's last dense block concatenates 49 tensors: such a Concat round-trips. One with
 * more inputs than CNV_MAX_INPUTS (written by onnx's Python helper) is refused in one line that
 * names the file, the node, the op and the count. */
static void test_wide_concat(void **state) {
    (void)state;
    builder b = {cnv_graph_new("wide-concat"), {{0}}};
    assert_non_null(b.g);
    cnv_rng_seed(&b.rng, 49);
    b.g->opset = 13;
    cnv_shape in_shape = cnv_shape4(1, 2, 3, 3);
    int in[49];
    in[0] = b.g->input = cnv_graph_add_value(b.g, "x", &in_shape, NULL);
    cnv_attrs a = defaults(CNV_OP_CONV);
    for (int k = 1; k < 49; k++) {
        char name[32], weight[40];
        snprintf(name, sizeof name, "branch%d", k);
        snprintf(weight, sizeof weight, "%s.w", name);
        in[k] = node(&b, name, CNV_OP_CONV, &a, 2, (int[]){in[k - 1], param(&b, weight, cnv_shape4(2, 2, 1, 1))});
    }
    a = defaults(CNV_OP_CONCAT);
    b.g->output = node(&b, "concat49", CNV_OP_CONCAT, &a, 49, in);
    assert_int_equal(b.g->values[b.g->output].shape.d[1], 98);
    cnv_model_free(round_trip(b.g, "wide-concat.onnx", "N", 3));
    cnv_model_free(b.g);

    if (!python_has("onnx")) return;
    const char *path = out_path("concat65.onnx");
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             PYTHON " -c 'import onnx, sys\n"
                    "from onnx import helper as h, TensorProto as T\n"
                    "n = h.make_node(\"Concat\", [\"x\"] * 65, [\"y\"], name=\"cat65\", axis=1)\n"
                    "g = h.make_graph([n], \"g\", [h.make_tensor_value_info(\"x\", T.FLOAT, [1, 2, 3, 3])],\n"
                    "                 [h.make_tensor_value_info(\"y\", T.FLOAT, [1, 130, 3, 3])])\n"
                    "onnx.save(h.make_model(g, opset_imports=[h.make_opsetid(\"\", 13)]), sys.argv[1])' '%s'",
             path);
    assert_int_equal(system(cmd), 0);
    cnv_graph *g = NULL;
    assert_int_equal(cnv_model_load(path, &g), CNV_ERR_UNSUPPORTED);
    const char *msg = cnv_last_error();
    printf("  65-input Concat: %s\n", msg);
    assert_non_null(strstr(msg, path));
    assert_non_null(strstr(msg, "'cat65' (Concat): 65 inputs"));
    assert_null(strchr(msg, '\n'));
}

static void test_save_failure_names_the_file(void **state) {
    (void)state;
    cnv_graph *g = NULL;
    check_ok(cnv_arch_build("smallnet", 1, &g));
    const char *path = OUT_DIR "/no-such-folder/model.onnx";
    assert_int_equal(cnv_onnx_save(g, path), CNV_ERR_IO);
    assert_non_null(strstr(cnv_last_error(), path));
    assert_false(file_exists(path));
    cnv_model_free(g);
}

/* ---- architectures ---- */

static size_t param_total(const cnv_graph *g) {
    size_t n = 0;
    for (int i = 0; i < g->n_nodes; i++) n += cnv_node_param_count(g, i);
    return n;
}

static void test_arch_shapes_and_names(void **state) {
    (void)state;
    cnv_graph *g = NULL;
    check_ok(cnv_arch_build("smallnet", 1, &g));
    static const char *const names[] = {"conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "logits"};
    assert_int_equal(g->n_nodes, 8);
    for (int i = 0; i < 8; i++) assert_string_equal(g->nodes[i].name, names[i]);
    cnv_shape in = cnv_shape4(1, 1, 28, 28), logits = {2, {1, 10}};
    assert_true(cnv_shape_equal(&g->values[g->input].shape, &in));
    assert_true(cnv_shape_equal(&g->values[g->output].shape, &logits));
    /* conv 5x5 1->32, conv 5x5 32->64, dense 64*7*7 -> 10, each with a bias. */
    assert_int_equal(param_total(g), (1 * 25 + 1) * 32 + (32 * 25 + 1) * 64 + (64 * 7 * 7 + 1) * 10);
    cnv_model_free(g);

    check_ok(cnv_arch_build("vgg-small", 1, &g));
    assert_int_equal(g->nodes[g->n_nodes - 1].op, CNV_OP_GEMM);
    assert_string_equal(g->nodes[g->n_nodes - 1].name, "logits");
    assert_true(cnv_shape_equal(&g->values[g->output].shape, &logits));
    int dropouts = 0, convs = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        dropouts += g->nodes[i].op == CNV_OP_DROPOUT;
        convs += g->nodes[i].op == CNV_OP_CONV;
    }
    assert_int_equal(dropouts, 1);
    assert_int_equal(convs, 4);
    assert_int_equal(param_total(g), (9 + 1) * 32 + (32 * 9 + 1) * 32 + (32 * 9 + 1) * 64 + (64 * 9 + 1) * 64 +
                                         (64 * 7 * 7 + 1) * 128 + (128 + 1) * 10);
    cnv_model_free(g);

    assert_int_equal(cnv_arch_build("resnet-9000", 1, &g), CNV_ERR_NOT_FOUND);
    assert_null(g);
    assert_non_null(strstr(cnv_last_error(), "smallnet"));
}

/* He-uniform: every weight within sqrt(6 / fan_in), spread over the whole range, zero mean;
 * biases zero; the same seed gives the same bits and another seed other weights. */
static void test_arch_seeded_he_uniform(void **state) {
    (void)state;
    cnv_graph *a = NULL, *b = NULL, *c = NULL;
    check_ok(cnv_arch_build("vgg-small", 42, &a));
    check_ok(cnv_arch_build("vgg-small", 42, &b));
    check_ok(cnv_arch_build("vgg-small", 43, &c));
    assert_same_weights(a, b);
    for (int i = 0; i < a->n_nodes; i++) {
        const cnv_node *n = &a->nodes[i];
        if (n->op != CNV_OP_CONV && n->op != CNV_OP_GEMM) continue;
        const cnv_value *w = &a->values[n->in[1]], *bias = &a->values[n->in[2]];
        size_t count = cnv_shape_numel(&w->shape);
        int fan_in = (int)(count / (size_t)w->shape.d[0]);
        double bound = sqrt(6.0 / fan_in), sum = 0.0, max_abs = 0.0;
        for (size_t k = 0; k < count; k++) {
            sum += w->init[k];
            max_abs = fmax(max_abs, fabs(w->init[k]));
        }
        assert_true(max_abs <= bound);
        assert_true(max_abs > 0.9 * bound);
        /* The mean of U(-b, b) has standard deviation b / sqrt(3 count): allow 5 of them. */
        assert_true(fabs(sum / (double)count) < 5.0 * bound / sqrt(3.0 * (double)count));
        for (int k = 0; k < bias->shape.d[0]; k++) assert_true(bias->init[k] == 0.0f);
        const cnv_value *wc = &c->values[c->nodes[i].in[1]];
        assert_memory_not_equal(w->init, wc->init, count * sizeof(float));
    }
    cnv_model_free(a);
    cnv_model_free(b);
    cnv_model_free(c);
}

/* ---- the convert verb ---- */

static char cli_out[8192], cli_err[8192];

static int cli(const char *fmt, const char *arg1, const char *arg2) {
    char args[16384];
    snprintf(args, sizeof args, fmt, arg1, arg2);
    return tu_run_cli(args, cli_out, sizeof cli_out, cli_err, sizeof cli_err);
}

static void test_convert_arch(void **state) {
    (void)state;
    const char *path = out_path("cli-smallnet-seed3.onnx");
    remove(path);
    int rc = cli("convert --arch smallnet --seed 3 -o '%s'%s", path, "");
    if (rc != 0) fail_msg("convert exited %d: %s", rc, cli_err);
    assert_non_null(strstr(cli_out, path));
    cnv_graph *written = load(path), *fresh = NULL;
    check_ok(cnv_arch_build("smallnet", 3, &fresh));
    assert_same_nodes(fresh, written);
    assert_same_weights(fresh, written);
    cnv_model_free(written);
    cnv_model_free(fresh);
}

static void test_convert_model(void **state) {
    (void)state;
    const char *model = tu_shared_path(MNIST12);
    char model_copy[4096];
    snprintf(model_copy, sizeof model_copy, "%s", model);
    const char *path = out_path("cli-mnist-12.onnx");
    remove(path);
    int rc = cli("convert '%s' -o '%s'", model_copy, path);
    if (rc != 0) fail_msg("convert exited %d: %s", rc, cli_err);
    cnv_graph *orig = load(model_copy), *written = load(path);
    assert_same_nodes(orig, written);
    assert_same_weights(orig, written);
    cnv_model_free(orig);
    cnv_model_free(written);
}

static void test_convert_usage_errors(void **state) {
    (void)state;
    const char *path = out_path("cli-should-not-exist.onnx");
    remove(path);
    assert_int_equal(cli("convert --arch smallnet%s%s", "", ""), 2); /* no -o */
    assert_int_equal(cli("convert -o '%s'%s", path, ""), 2);         /* neither model nor arch */
    assert_int_equal(cli("convert --arch nonesuch -o '%s'%s", path, ""), 2);
    assert_non_null(strstr(cli_err, "nonesuch"));
    assert_int_equal(cli("convert --arch smallnet --seed -4 -o '%s'%s", path, ""), 2);
    assert_int_equal(cli("convert '%s/missing.onnx' -o '%s'", OUT_DIR, path), 2);
    assert_non_null(strstr(cli_err, "missing.onnx"));
    assert_false(file_exists(path));
    assert_int_equal(cli("convert --help%s%s", "", ""), 0);
    assert_non_null(strstr(cli_out, "default 1"));
    assert_non_null(strstr(cli_out, "vgg-small"));
}

/* The build writes build/models/smallnet.onnx (the README's first command reads it): it must be
 * smallnet with seed 1, readable and valid. */
static void test_build_generated_model(void **state) {
    (void)state;
    const char *path = CNNVIS_BINARY_DIR "/models/smallnet.onnx";
    if (!file_exists(path)) fail_msg("%s is missing: the default build target should generate it", path);
    cnv_graph *built = load(path), *fresh = NULL;
    check_ok(cnv_arch_build("smallnet", 1, &fresh));
    assert_same_nodes(fresh, built);
    assert_same_weights(fresh, built);
    onnx_checker(path, "N");
    cnv_model_free(built);
    cnv_model_free(fresh);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smallnet_round_trip),
        cmocka_unit_test(test_vgg_small_round_trip),
        cmocka_unit_test(test_mnist12_round_trip),
        cmocka_unit_test(test_squeezenet_round_trip_and_opencv),
        cmocka_unit_test(test_every_op_round_trip),
        cmocka_unit_test(test_wide_concat),
        cmocka_unit_test(test_legacy_softmax),
        cmocka_unit_test(test_transpose_default_perm),
        cmocka_unit_test(test_save_failure_names_the_file),
        cmocka_unit_test(test_arch_shapes_and_names),
        cmocka_unit_test(test_arch_seeded_he_uniform),
        cmocka_unit_test(test_convert_arch),
        cmocka_unit_test(test_convert_model),
        cmocka_unit_test(test_convert_usage_errors),
        cmocka_unit_test(test_build_generated_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
