/* Keras .h5 import: the real Keras models of ../shared/models (SOURCES.md sections B-F) reproduce
 * their recorded outputs (independent numpy forward passes) on the CPU and Vulkan backends;
 * weights-only VGG16/VGG19 files written by tests/fixtures/make_keras_vgg16.py match that
 * script's own numpy outputs; broken and unsupported files fail with one-line messages. */
#include "test_util.h"
#include "model_run.h"

#include "core/exec.h"
#include "core/status.h"
#include "io/npy.h"
#include "models/keras.h"
#include "models/onnx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOL 1e-4
#define FIXTURES CNNVIS_BINARY_DIR "/keras_fixtures/"

typedef struct real_model {
    const char *dir, *file;
    int kept_bn; /* BatchNormalizations left as nodes (the others fold into their convs) */
} real_model;

static const real_model real_models[] = {
    {"cifar10_keras_seq_tf215_anshaj", "cifar10_model.h5", 0},
    {"cifar10_keras_seq_tf213_aaron", "keras_cifar10_trained_model.h5", 0},
    {"cifar10_keras_bn_elu_drramji", "cifar10_trained_model.h5", 6},
    {"cifar10_keras224_sagecodes", "keras_cifar10_trained_model.h5", 0},
    {"cifar10_resnet8_mlperf_tiny", "pretrainedResnet.h5", 0},
};
enum { N_REAL = sizeof real_models / sizeof real_models[0], BATCH = 10 };

static char *model_path(const real_model *m, const char *file) {
    char rel[256];
    snprintf(rel, sizeof rel, "models/%s/%s", m->dir, file);
    const char *p = tu_shared_path(rel);
    char *d = malloc(strlen(p) + 1);
    assert_non_null(d);
    return strcpy(d, p);
}

static cnv_graph *load_ok(const char *path) {
    cnv_graph *g = NULL;
    cnv_status st = cnv_model_load(path, &g);
    if (st != CNV_OK) fail_msg("loading %s: %s: %s", path, cnv_status_str(st), cnv_last_error());
    return g;
}

static float *read_pb(const real_model *m, const char *name, cnv_shape *shape) {
    char *path = model_path(m, name);
    float *data = NULL;
    cnv_status st = cnv_onnx_read_tensor(path, &data, shape);
    if (st != CNV_OK) fail_msg("%s", cnv_last_error());
    free(path);
    return data;
}

/* [N, H, W, C] into a new [N, C, H, W] buffer. */
static float *nhwc_to_nchw(const float *x, const cnv_shape *s) {
    int n = s->d[0], h = s->d[1], w = s->d[2], c = s->d[3];
    float *y = malloc(cnv_shape_numel(s) * sizeof *y);
    assert_non_null(y);
    for (int b = 0; b < n; b++)
        for (int i = 0; i < h * w; i++)
            for (int k = 0; k < c; k++) y[((size_t)b * c + k) * h * w + i] = x[((size_t)b * h * w + i) * c + k];
    return y;
}

static float *npy_ok(const char *name, cnv_shape *shape) {
    float *data = NULL;
    cnv_status st = cnv_npy_read(name, &data, shape);
    if (st != CNV_OK) fail_msg("%s", cnv_last_error());
    return data;
}

static int count_ops(const cnv_graph *g, cnv_op_type op) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) n += g->nodes[i].op == op;
    return n;
}

/* Runs the batch through `be` up to the graph output; the result is malloc'ed. */
static float *run_on(cnv_graph *g, cnv_backend *be, const float *input, int batch, size_t *n) {
    cnv_exec *ex = NULL;
    cnv_status st = cnv_exec_create(g, be, batch, &ex);
    if (st == CNV_OK) st = cnv_exec_set_input(ex, input);
    if (st == CNV_OK) st = cnv_exec_forward(ex, g->values[g->output].producer);
    *n = st == CNV_OK ? cnv_shape_numel(&ex->shapes[g->output]) : 0;
    float *out = malloc((*n ? *n : 1) * sizeof *out);
    assert_non_null(out);
    if (st == CNV_OK) st = cnv_exec_read(ex, g->output, out);
    if (st != CNV_OK) fail_msg("%s: %s: %s", g->source, cnv_status_str(st), cnv_last_error());
    cnv_exec_free(ex);
    return out;
}

/* One real model on one backend against output_0.pb; returns the relative error. */
static double check_real(const real_model *m, cnv_backend *be) {
    char *path = model_path(m, m->file);
    cnv_graph *g = load_ok(path);
    cnv_shape in_shape, out_shape;
    float *nhwc = read_pb(m, "test_data_cifar10_10img/input_0.pb", &in_shape);
    float *expected = read_pb(m, "test_data_cifar10_10img/output_0.pb", &out_shape);
    assert_int_equal(in_shape.ndim, 4);
    assert_int_equal(in_shape.d[0], BATCH);
    cnv_shape want = cnv_shape4(1, in_shape.d[3], in_shape.d[1], in_shape.d[2]);
    assert_true(cnv_shape_equal(&g->values[g->input].shape, &want));
    float *input = nhwc_to_nchw(nhwc, &in_shape);
    size_t n;
    float *out = run_on(g, be, input, BATCH, &n);
    assert_int_equal(n, cnv_shape_numel(&out_shape));
    double err = tu_rel_error(out, expected, n);
    char argmax[64] = "";
    for (int b = 0; b < BATCH; b++) {
        size_t len = strlen(argmax);
        snprintf(argmax + len, sizeof argmax - len, "%d", tu_argmax(out + b * 10, 10));
        assert_int_equal(tu_argmax(out + b * 10, 10), tu_argmax(expected + b * 10, 10));
    }
    print_message("  %s on %s: %d nodes, rel err %.3g, argmax %s\n", m->dir, cnv_backend_name(be), g->n_nodes, err, argmax);
    assert_true(err < TOL);
    /* BN right after a conv disappears into it; BN after an activation stays a node. */
    assert_int_equal(count_ops(g, CNV_OP_BATCHNORM), m->kept_bn);
    cnv_graph_free(g);
    free(path);
    free(nhwc);
    free(input);
    free(expected);
    free(out);
    return err;
}

static void test_real_models_cpu(void **state) {
    (void)state;
    cnv_backend *be = tu_backend_create("cpu");
    for (int i = 0; i < N_REAL; i++) check_real(&real_models[i], be);
    tu_backend_free(be);
}

/* ResNet-8 has 7 BatchNormalizations, all right after convs: none may survive the import, and
 * the stride-2 "same" convs must pad at the end only (TF), which the outputs above confirm. */
static void test_resnet8_structure(void **state) {
    (void)state;
    char *path = model_path(&real_models[4], real_models[4].file);
    cnv_graph *g = load_ok(path);
    assert_int_equal(count_ops(g, CNV_OP_BATCHNORM), 0);
    assert_int_equal(count_ops(g, CNV_OP_ADD), 3);
    int node;
    assert_int_equal(cnv_model_find_layer(g, "conv2d_3", &node), CNV_OK);
    const cnv_attrs *a = &g->nodes[node].attrs;
    assert_int_equal(a->stride[0], 2);
    print_message("  conv2d_3 pads t%d l%d b%d r%d\n", a->pads[0], a->pads[1], a->pads[2], a->pads[3]);
    assert_true(a->pads[0] == 0 && a->pads[1] == 0 && a->pads[2] == 1 && a->pads[3] == 1);
    /* The Keras layer name is the layer's final output: the softmax; the logits are the Gemm. */
    assert_int_equal(cnv_model_find_layer(g, "dense", &node), CNV_OK);
    assert_int_equal(g->nodes[node].op, CNV_OP_SOFTMAX);
    assert_int_equal(cnv_model_find_layer(g, "dense/dense", &node), CNV_OK);
    assert_int_equal(g->nodes[node].op, CNV_OP_GEMM);
    cnv_graph_free(g);
    free(path);
}

/* A fixture model loaded at height x width (0: its own) through `be`: its output against
 * <tag>_out.npy for the inputs <tag>_in.npy. */
static void check_fixture_on(cnv_backend *be, const char *file, int height, int width, const char *tag) {
    char path[512];
    cnv_graph *g = NULL;
    snprintf(path, sizeof path, FIXTURES "%s", file);
    tu_expect_ok(cnv_model_load_sized(path, height, width, &g));
    cnv_shape in_shape, ref_shape;
    snprintf(path, sizeof path, FIXTURES "%s_in.npy", tag);
    float *nhwc = npy_ok(path, &in_shape), *input = nhwc_to_nchw(nhwc, &in_shape);
    snprintf(path, sizeof path, FIXTURES "%s_out.npy", tag);
    float *ref = npy_ok(path, &ref_shape);
    size_t n;
    float *out = run_on(g, be, input, in_shape.d[0], &n);
    assert_int_equal(n, cnv_shape_numel(&ref_shape));
    double err = tu_rel_error(out, ref, n);
    print_message("  %s (%s) on %s: rel err %.3g\n", file, tag, cnv_backend_name(be), err);
    assert_true(err < TOL);
    cnv_graph_free(g);
    free(nhwc);
    free(input);
    free(ref);
    free(out);
}

static void test_real_models_vulkan(void **state) {
    (void)state;
    cnv_backend *be = tu_backend_create("vulkan");
    check_real(&real_models[0], be); /* Sequential, Flatten -> Dense */
    check_real(&real_models[4], be); /* functional ResNet-8 */
    check_fixture_on(be, "layernorm.h5", 0, 0, "layernorm");
    check_fixture_on(be, "none_fcn.h5", 33, 17, "none_fcn_b");
    tu_backend_free(be);
}

/* The tf2onnx export of the tf215 model takes NHWC input, which a Transpose turns into NCHW
 * (a second Transpose puts the features back in Keras's NHWC order before the Dense). Loaded
 * as is, it is fed the NHWC tensors themselves and must give the recorded outputs and what the
 * .h5 gives on the same images in NCHW, on the CPU and on Vulkan. */
static void test_onnx_twin(void **state) {
    (void)state;
    const real_model *m = &real_models[0];
    char *onnx_path = model_path(m, "cifar10_model.onnx"), *h5_path = model_path(m, m->file);
    cnv_graph *onnx = load_ok(onnx_path), *h5 = load_ok(h5_path);
    cnv_shape in_shape, out_shape;
    float *nhwc = read_pb(m, "test_data_cifar10_10img/input_0.pb", &in_shape);
    float *expected = read_pb(m, "test_data_cifar10_10img/output_0.pb", &out_shape);
    float *nchw = nhwc_to_nchw(nhwc, &in_shape);
    /* The graph input stays NHWC and goes straight into a Transpose to NCHW. */
    cnv_shape nhwc1 = in_shape;
    nhwc1.d[0] = 1;
    assert_true(cnv_shape_equal(&onnx->values[onnx->input].shape, &nhwc1));
    assert_int_equal(onnx->nodes[0].op, CNV_OP_TRANSPOSE);
    assert_int_equal(onnx->nodes[0].in[0], onnx->input);
    assert_int_equal(count_ops(onnx, CNV_OP_TRANSPOSE), 2);
    static const char *const backends[] = {"cpu", "vulkan"};
    for (int b = 0; b < 2; b++) {
        cnv_backend *be = tu_backend_create(backends[b]);
        size_t n, n_h5;
        float *out = run_on(onnx, be, nhwc, BATCH, &n);
        float *out_h5 = run_on(h5, be, nchw, BATCH, &n_h5);
        assert_int_equal(n, cnv_shape_numel(&out_shape));
        assert_int_equal(n_h5, n);
        double err = tu_rel_error(out, expected, n), err_h5 = tu_rel_error(out, out_h5, n);
        print_message("  onnx twin on %s: rel err %.3g against output_0.pb, %.3g against the .h5\n",
                      cnv_backend_name(be), err, err_h5);
        for (int i = 0; i < BATCH; i++) assert_int_equal(tu_argmax(out + i * 10, 10), tu_argmax(expected + i * 10, 10));
        assert_true(err < TOL);
        assert_true(err_h5 < TOL);
        free(out);
        free(out_h5);
        tu_backend_free(be);
    }
    cnv_graph_free(onnx);
    cnv_graph_free(h5);
    free(onnx_path);
    free(h5_path);
    free(nhwc);
    free(nchw);
    free(expected);
}

/* ResNet-8 with its model_config rewritten by the fixture script in the Keras 3 dialect
 * (inbound_nodes as call args with keras_history, batch_shape) gives the same outputs. */
static void test_keras3_dialect(void **state) {
    (void)state;
    real_model m = real_models[4];
    char *path = model_path(&m, m.file);
    cnv_graph *g2 = NULL, *g = load_ok(path);
    assert_int_equal(cnv_model_load(FIXTURES "resnet8_keras3_config.h5", &g2), CNV_OK);
    assert_int_equal(g2->n_nodes, g->n_nodes);
    cnv_shape in_shape;
    float *nhwc = read_pb(&m, "test_data_cifar10_10img/input_0.pb", &in_shape);
    float *input = nhwc_to_nchw(nhwc, &in_shape);
    cnv_backend *be = tu_backend_create("cpu");
    size_t n, n2;
    float *out = run_on(g, be, input, BATCH, &n), *out2 = run_on(g2, be, input, BATCH, &n2);
    assert_int_equal(n, n2);
    assert_memory_equal(out, out2, n * sizeof *out);
    tu_backend_free(be);
    cnv_graph_free(g);
    cnv_graph_free(g2);
    free(path);
    free(nhwc);
    free(input);
    free(out);
    free(out2);
}

/* ---- weights-only VGG ---- */

/* Runs the fixture script once per test run. */
static int setup_fixtures(void **state) {
    (void)state;
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s' '%s'", tu_fixture_path("make_keras_vgg16.py"), FIXTURES,
             CNNVIS_SHARED_DIR);
    int rc = system(cmd);
    if (rc == 0) {
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s' '%s'", tu_fixture_path("keras_numpy_forward.py"), FIXTURES,
                 CNNVIS_SHARED_DIR);
        rc = system(cmd);
    }
    if (rc == 0) {
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s'", tu_fixture_path("make_keras_models.py"), FIXTURES);
        rc = system(cmd);
    }
    if (rc != 0) {
        fprintf(stderr, "test_keras: `%s` failed (%d): it needs /usr/bin/python3 with numpy and h5py "
                        "(Debian python3-h5py, python3-opencv)\n", cmd, rc);
        return -1;
    }
    return 0;
}

/* Runs a VGG fixture and compares a value (by name) with the script's NHWC reference. */
static void check_vgg(cnv_graph *g, const char *tag, const char *value, const char *ref_suffix) {
    char path[512];
    cnv_shape in_shape, ref_shape, out_shape;
    snprintf(path, sizeof path, FIXTURES "%s_in.npy", tag);
    float *nhwc = npy_ok(path, &in_shape);
    snprintf(path, sizeof path, FIXTURES "%s_%s.npy", tag, ref_suffix);
    float *ref = npy_ok(path, &ref_shape);
    float *input = nhwc_to_nchw(nhwc, &in_shape);
    float *expected = ref_shape.ndim == 4 ? nhwc_to_nchw(ref, &ref_shape) : ref;
    int v = cnv_graph_find_value(g, value);
    assert_true(v >= 0);
    float *out;
    cnv_status st = tu_model_forward(g, input, in_shape.d[0], v, &out, &out_shape);
    if (st != CNV_OK) fail_msg("%s", cnv_last_error());
    assert_int_equal(cnv_shape_numel(&out_shape), cnv_shape_numel(&ref_shape));
    double err = tu_rel_error(out, expected, cnv_shape_numel(&ref_shape));
    print_message("  %s %s vs %s_%s.npy: rel err %.3g\n", tag, value, tag, ref_suffix, err);
    assert_true(err < TOL);
    if (expected != ref) free(expected);
    free(ref);
    free(nhwc);
    free(input);
    free(out);
}

static void test_vgg16_notop(void **state) {
    (void)state;
    cnv_graph *g = NULL;
    cnv_status st = cnv_keras_load_arch(FIXTURES "vgg16_notop.h5", "vgg16", 64, &g);
    if (st != CNV_OK) fail_msg("%s", cnv_last_error());
    assert_int_equal(count_ops(g, CNV_OP_CONV), 13);
    assert_int_equal(count_ops(g, CNV_OP_MAXPOOL), 5);
    assert_int_equal(count_ops(g, CNV_OP_GEMM), 0);
    cnv_shape out = cnv_shape4(1, 512, 2, 2);
    assert_true(cnv_shape_equal(&g->values[g->output].shape, &out));
    check_vgg(g, "vgg16_notop", "block5_pool", "out");
    cnv_graph_free(g);
    /* Without the top the public loader takes the keras.applications default, 224x224. */
    assert_int_equal(cnv_model_load_arch(FIXTURES "vgg16_notop.h5", "vgg16", &g), CNV_OK);
    assert_int_equal(g->values[g->input].shape.d[2], 224);
    cnv_graph_free(g);
}

static void test_vgg19_top(void **state) {
    (void)state;
    cnv_graph *g = NULL;
    /* The input size follows from fc1's 2048 rows (a 2x2x512 map): 64x64. */
    cnv_status st = cnv_model_load_arch(FIXTURES "vgg19_top.h5", "vgg19", &g);
    if (st != CNV_OK) fail_msg("%s", cnv_last_error());
    assert_int_equal(count_ops(g, CNV_OP_CONV), 16);
    assert_int_equal(g->values[g->input].shape.d[2], 64);
    check_vgg(g, "vgg19_top", "predictions/dense", "logits");
    check_vgg(g, "vgg19_top", "predictions", "out");
    cnv_graph_free(g);
}

/* ---- failures ---- */

static void expect_failure(const char *path, const char *arch, cnv_status expected, const char *must_say);

/* ---- Keras application layers (SOURCES.md H-M) ---- */

#define MOBILENET_V1 "models/imagenet_mobilenet_v1_025_224_st/mobilenet_v1_0.25_224.h5"
#define CAR_PNG "models/squeezenet1.1_openvino_fp16/car.png"
#define EMOTIONS_DIR "models/emotions_sepconv_keras38_openmv/"
#define EMOTIONS EMOTIONS_DIR "mobilenet.h5"

typedef struct numpy_checked {
    const char *tag, *file, *output, *cli_input; /* cli_input: an image, else <tag>_in0_nchw.npy */
    const char *layer;                           /* for maps and filter */
} numpy_checked;

static const numpy_checked numpy_checked_models[] = {
    {"mobilenet_v1", MOBILENET_V1, "predictions", CAR_PNG, "conv_pw_5_relu"},
    {"flowers_v2", "models/flowers_mobilenet_v2_035_128_st/mobilenet_v2_0.35_128.h5", "dense", NULL, "re_lu_10"},
    {"esc10_rn2", "models/esc10_miniresnetv2_1stack_st/miniresnetv2_1stacks_64x50.h5", "new_head", NULL,
     "conv2_block1_out"},
    {"emotions", EMOTIONS, "dense_35", EMOTIONS_DIR "test_images/surprised/im1.png", "re_lu_70"},
};
enum { N_NUMPY_CHECKED = sizeof numpy_checked_models / sizeof numpy_checked_models[0] };

/* DepthwiseConv2D, SeparableConv2D, ReLU6, ZeroPadding2D, pre-activation BN, GAP, Reshape: the
 * logits and the softmax against the fixture's float64 numpy pass from the h5 weights. */
static void test_application_layers_vs_numpy(void **state) {
    (void)state;
    for (int i = 0; i < N_NUMPY_CHECKED; i++) {
        const numpy_checked *m = &numpy_checked_models[i];
        char path[512];
        snprintf(path, sizeof path, "%s", tu_shared_path(m->file));
        cnv_graph *g = load_ok(path);
        /* The logits: the output Dense's Gemm, or the node before MobileNet's softmax layer. */
        int out_node = g->values[g->output].producer;
        snprintf(path, sizeof path, "%s/dense", m->output);
        if (cnv_graph_find_value(g, path) < 0) snprintf(path, sizeof path, "%s", g->values[g->nodes[out_node].in[0]].name);
        check_vgg(g, m->tag, path, "logits");
        check_vgg(g, m->tag, m->output, "out");
        cnv_graph_free(g);
    }
}

/* The emotion net (Keras 3.8, SeparableConv2D) on its six staged test pictures: the argmax and
 * probability SOURCES.md K records for each (its numpy pass), two of six right. */
static void test_emotions_pictures(void **state) {
    (void)state;
    static const int argmax[6] = {5, 2, 2, 0, 0, 5};
    static const float prob[6] = {0.387f, 0.394f, 0.328f, 0.358f, 0.406f, 0.851f};
    cnv_graph *g = load_ok(tu_shared_path(EMOTIONS));
    cnv_shape shape;
    float *nhwc = npy_ok(FIXTURES "emotions_in.npy", &shape);
    float *input = nhwc_to_nchw(nhwc, &shape);
    cnv_backend *be = tu_backend_create("cpu");
    size_t n;
    float *out = run_on(g, be, input, 6, &n);
    assert_int_equal(n, 36);
    for (int k = 0; k < 6; k++) {
        int top = tu_argmax(out + 6 * k, 6);
        print_message("  picture %d: class %d p %.3f (SOURCES.md: %d, %.3f)\n", k, top, out[6 * k + top], argmax[k], prob[k]);
        assert_int_equal(top, argmax[k]);
        assert_true(fabsf(out[6 * k + top] - prob[k]) < 1e-3f);
    }
    tu_backend_free(be);
    cnv_graph_free(g);
    free(nhwc);
    free(input);
    free(out);
}

/* SOURCES.md H: car.png, RGB, 224, x/127.5 - 1 is "sports car" at 0.854 in numpy; the CLI picks
 * the mobilenet-keras preset by itself (its resize need not be cv2's bilinear: +-0.01). */
static void test_mobilenet_v1_car(void **state) {
    (void)state;
    static char out[1 << 16], err[4096], args[2048], model[512];
    snprintf(model, sizeof model, "%s", tu_shared_path(MOBILENET_V1)); /* tu_shared_path's buffer is reused */
    snprintf(args, sizeof args, "classify '%s' '%s' --device cpu", model, tu_shared_path(CAR_PNG));
    int rc = tu_run_cli(args, out, sizeof out, err, sizeof err);
    print_message("  classify: exit %d\n%s%s", rc, out, err);
    assert_int_equal(rc, 0);
    const char *top = strstr(out, "1.  817  sports car");
    assert_non_null(top);
    float p = 0.0f;
    assert_int_equal(sscanf(top + strlen("1.  817  sports car"), "%f", &p), 1);
    assert_true(fabsf(p - 0.854f) < 0.01f);
    snprintf(args, sizeof args, "info '%s'", tu_shared_path(MOBILENET_V1));
    assert_int_equal(tu_run_cli(args, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "preset: mobilenet-keras (detected"));
}

static void run_verb(const char *verb, const char *model, const char *rest) {
    static char out[1 << 16], err[8192], args[4096];
    snprintf(args, sizeof args, "%s '%s' %s --device cpu", verb, model, rest);
    int rc = tu_run_cli(args, out, sizeof out, err, sizeof err);
    print_message("  %s %s: exit %d\n", verb, model, rc);
    if (rc != 0) fail_msg("%s: %s", args, err);
}

/* classify, maps, gradcam and filter (a few steps) exit 0 on each of these models. */
static void test_application_verbs(void **state) {
    (void)state;
    char model[512], input[512], rest[2048];
    for (int i = 0; i < N_NUMPY_CHECKED; i++) {
        const numpy_checked *m = &numpy_checked_models[i];
        snprintf(model, sizeof model, "%s", tu_shared_path(m->file));
        if (!m->cli_input) snprintf(input, sizeof input, FIXTURES "%s_in0_nchw.npy", m->tag);
        else snprintf(input, sizeof input, "%s", tu_shared_path(m->cli_input));
        const char *layer = m->layer, *tag = m->tag;
        snprintf(rest, sizeof rest, "'%s'", input);
        run_verb("classify", model, rest);
        snprintf(rest, sizeof rest, "'%s' --layer %s -o " FIXTURES "%s_maps.png", input, layer, tag);
        run_verb("maps", model, rest);
        snprintf(rest, sizeof rest, "'%s' -o " FIXTURES "%s_cam.png", input, tag);
        run_verb("gradcam", model, rest);
        snprintf(rest, sizeof rest, "--layer %s --channels 0-1 --steps 4 -o " FIXTURES "%s_filter.png", layer, tag);
        run_verb("filter", model, rest);
    }
}

/* The two U-Nets (SOURCES.md L: Conv2DTranspose and Concatenate; M: UpSampling2D nearest and
 * Concatenate, BGR 0..255) against the fixture's float64 numpy pass from the h5 weights; then
 * maps of the upsampling layer and a few filter steps on it through the CLI. */
static const numpy_checked unets[] = {
    {"unet_mnist", "models/mnist_unet_convtranspose_hiwony/unet.h5", "conv2d_11", NULL, "conv2d_transpose_1"},
    {"unet_lane", "models/lane_unet_upsampling_abdallah/unet.h5", "conv2d_9", NULL, "up_sampling2d_1"},
};

static void test_unets_vs_numpy(void **state) {
    (void)state;
    char model[512], input[512], rest[2048];
    for (size_t i = 0; i < sizeof unets / sizeof unets[0]; i++) {
        const numpy_checked *m = &unets[i];
        snprintf(model, sizeof model, "%s", tu_shared_path(m->file));
        cnv_graph *g = load_ok(model);
        check_vgg(g, m->tag, m->output, "out");
        cnv_graph_free(g);
        snprintf(input, sizeof input, FIXTURES "%s_in0_nchw.npy", m->tag);
        snprintf(rest, sizeof rest, "'%s' --layer %s -o " FIXTURES "%s_maps.png", input, m->layer, m->tag);
        run_verb("maps", model, rest);
        snprintf(rest, sizeof rest, "--layer %s --channels 0-1 --steps 4 -o " FIXTURES "%s_filter.png", m->layer, m->tag);
        run_verb("filter", model, rest);
    }
}

static void expect_failure(const char *path, const char *arch, cnv_status expected, const char *must_say) {
    cnv_graph *g = (cnv_graph *)&g; /* must be reset to NULL */
    cnv_status st = arch ? cnv_model_load_arch(path, arch, &g) : cnv_model_load(path, &g);
    print_message("  %s -> %s: %s\n", path, cnv_status_str(st), cnv_last_error());
    assert_int_equal(st, expected);
    assert_null(g);
    assert_non_null(strstr(cnv_last_error(), path));
    assert_null(strchr(cnv_last_error(), '\n'));
    if (must_say && !strstr(cnv_last_error(), must_say)) fail_msg("message lacks \"%s\"", must_say);
}

static void write_file(const char *path, const void *bytes, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

static void test_corrupted_files(void **state) {
    (void)state;
    char *real = model_path(&real_models[4], real_models[4].file);
    FILE *f = fopen(real, "rb");
    assert_non_null(f);
    size_t cap = 2 << 20;
    unsigned char *bytes = malloc(cap);
    assert_non_null(bytes);
    size_t n = fread(bytes, 1, cap, f);
    fclose(f);
    assert_true(n > 1000000 && n < cap);

    const char *cut = FIXTURES "truncated.h5";
    size_t cuts[] = {n / 2, n - 1, 4096, 8};
    for (size_t k = 0; k < sizeof cuts / sizeof *cuts; k++) {
        write_file(cut, bytes, cuts[k]);
        expect_failure(cut, NULL, CNV_ERR_FORMAT, "not a valid HDF5 file");
    }
    cnv_rng rng;
    cnv_rng_seed(&rng, 11);
    for (size_t i = 0; i < 65536; i++) bytes[i] = (unsigned char)(cnv_rng_next(&rng) >> 24);
    write_file(FIXTURES "random.h5", bytes, 65536);
    expect_failure(FIXTURES "random.h5", NULL, CNV_ERR_FORMAT, "not a valid HDF5 file");
    expect_failure(FIXTURES "random.h5", "vgg16", CNV_ERR_FORMAT, "not a valid HDF5 file");
    expect_failure("/nonexistent/dir/model.h5", NULL, CNV_ERR_IO, NULL);
    free(bytes);
    free(real);
}

/* h5py writes a Python str as a variable-length UTF-8 string: such a model_config (with a
 * non-ASCII model name) gives the same graph as the bytes Keras writes. */
static void test_utf8_model_config(void **state) {
    (void)state;
    char *real = model_path(&real_models[1], real_models[1].file), cmd[2048];
    const char *utf8 = FIXTURES "utf8_config.h5";
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s' '%s'", tu_fixture_path("make_keras_utf8.py"), real, utf8);
    assert_int_equal(system(cmd), 0);
    cnv_graph *a = load_ok(real), *b = load_ok(utf8);
    assert_int_equal(a->n_nodes, b->n_nodes);
    assert_int_equal(a->n_values, b->n_values);
    for (int i = 0; i < a->n_nodes; i++) {
        assert_string_equal(a->nodes[i].name, b->nodes[i].name);
        assert_int_equal(a->nodes[i].op, b->nodes[i].op);
    }
    int weights = 0;
    for (int i = 0; i < a->n_values; i++) {
        assert_true(cnv_shape_equal(&a->values[i].shape, &b->values[i].shape));
        assert_int_equal(!a->values[i].init, !b->values[i].init);
        if (!a->values[i].init) continue;
        assert_memory_equal(a->values[i].init, b->values[i].init, cnv_shape_numel(&a->values[i].shape) * sizeof(float));
        weights++;
    }
    assert_true(weights >= 8); /* 2 convs + 2 dense, kernel and bias each */
    cnv_model_free(a);
    cnv_model_free(b);
    free(real);
}

static void test_unsupported_and_mismatched(void **state) {
    (void)state;
    expect_failure(FIXTURES "keras_unsupported.h5", NULL, CNV_ERR_UNSUPPORTED, "'max_pooling2d' (UpSampling2D): interpolation other than");
    expect_failure(FIXTURES "keras_channels_first.h5", NULL, CNV_ERR_UNSUPPORTED, "channels_first");
    expect_failure(FIXTURES "vgg16_badshape.h5", "vgg16", CNV_ERR_SHAPE, "'block3_conv2' (Conv2D): kernel has shape "
                                                                       "3x3x256x128 in the file, expected 3x3x256x256");
    /* VGG16 weights are not VGG19's: block3_conv4 is missing. */
    expect_failure(FIXTURES "vgg16_notop.h5", "vgg19", CNV_ERR_FORMAT, "block3_conv4");
    expect_failure(FIXTURES "vgg16_notop.h5", NULL, CNV_ERR_ARG, "--arch");
    expect_failure(FIXTURES "vgg16_notop.h5", "resnet50", CNV_ERR_ARG, "vgg16, vgg19");
}

/* The CLI passes --arch to the loader; without it a weights-only file is a usage error (exit 2)
 * whose one-line message says what to pass. */
static void test_cli_arch(void **state) {
    (void)state;
    static char out[1 << 16], err[4096];
    int rc = tu_run_cli("info --arch vgg16 '" FIXTURES "vgg16_notop.h5'", out, sizeof out, err, sizeof err);
    print_message("  info --arch vgg16: exit %d\n", rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "block5_conv3"));
    assert_non_null(strstr(out, "1x512x7x7"));
    rc = tu_run_cli("info '" FIXTURES "vgg16_notop.h5'", out, sizeof out, err, sizeof err);
    print_message("  info without --arch: exit %d: %s", rc, err);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(err, "--arch vgg16"));
    assert_int_equal(strchr(err, '\n') - err, (long)strlen(err) - 1);
}

/* Runs the CLI, which must exit 0, and reads the .npy it saved. */
static float *cli_tensor(const char *args, const char *npy, cnv_shape *shape) {
    static char out[1 << 16], err[8192];
    int rc = tu_run_cli(args, out, sizeof out, err, sizeof err);
    if (rc != 0) fail_msg("cnnvis %s: exit %d: %s", args, rc, err);
    float *data = NULL;
    if (cnv_npy_read(npy, &data, shape) != CNV_OK) fail_msg("%s", cnv_last_error());
    return data;
}

/* Through the CLI: `forward` of the batch of 10 test images (one NCHW .npy) gives each CIFAR
 * model's recorded outputs; the VGG16 trunk without its classifier runs at 64x64 from a .npy
 * of that size and renders at --size 64, and VGG19 with its classifier refuses a smaller size. */
static void test_cli_batches(void **state) {
    (void)state;
    char args[16384], npy[4096], saved[4096];
    snprintf(saved, sizeof saved, "%s", FIXTURES "cli_saved.npy");
    for (int i = 0; i < N_REAL; i++) {
        const real_model *m = &real_models[i];
        char *path = model_path(m, m->file);
        cnv_shape in_shape, out_shape, got_shape;
        float *nhwc = read_pb(m, "test_data_cifar10_10img/input_0.pb", &in_shape);
        float *expected = read_pb(m, "test_data_cifar10_10img/output_0.pb", &out_shape);
        float *nchw = nhwc_to_nchw(nhwc, &in_shape);
        cnv_shape s = cnv_shape4(in_shape.d[0], in_shape.d[3], in_shape.d[1], in_shape.d[2]);
        snprintf(npy, sizeof npy, FIXTURES "cli_%s_batch.npy", m->dir);
        tu_expect_ok(cnv_npy_write(npy, nchw, &s));
        snprintf(args, sizeof args, "forward '%s' '%s' --device cpu --save-tensor '%s'", path, npy, saved);
        float *got = cli_tensor(args, saved, &got_shape);
        assert_true(cnv_shape_equal(&got_shape, &out_shape));
        double err = tu_rel_error(got, expected, cnv_shape_numel(&out_shape));
        print_message("  cli forward %s: batch of %d, rel err %.3g\n", m->dir, got_shape.d[0], err);
        assert_true(err < TOL);
        free(got);
        free(nchw);
        free(expected);
        free(nhwc);
        free(path);
    }
    /* vgg16_notop_in.npy is NHWC [2, 64, 64, 3]; the reference block5_pool NHWC [2, 2, 2, 512]. */
    cnv_shape in_shape, ref_shape, got_shape;
    float *nhwc = NULL, *ref_nhwc = NULL;
    tu_expect_ok(cnv_npy_read(FIXTURES "vgg16_notop_in.npy", &nhwc, &in_shape));
    tu_expect_ok(cnv_npy_read(FIXTURES "vgg16_notop_out.npy", &ref_nhwc, &ref_shape));
    float *nchw = nhwc_to_nchw(nhwc, &in_shape), *ref = nhwc_to_nchw(ref_nhwc, &ref_shape);
    cnv_shape s = cnv_shape4(in_shape.d[0], in_shape.d[3], in_shape.d[1], in_shape.d[2]);
    snprintf(npy, sizeof npy, "%s", FIXTURES "cli_vgg16_notop_in.npy");
    tu_expect_ok(cnv_npy_write(npy, nchw, &s));
    snprintf(args, sizeof args, "forward --arch vgg16 '%s' '%s' --device cpu --save-tensor '%s'",
             FIXTURES "vgg16_notop.h5", npy, saved);
    float *got = cli_tensor(args, saved, &got_shape);
    cnv_shape want = cnv_shape4(2, 512, 2, 2);
    assert_true(cnv_shape_equal(&got_shape, &want));
    double err = tu_rel_error(got, ref, cnv_shape_numel(&want));
    print_message("  cli forward --arch vgg16 (no top) at 64x64: batch of 2, rel err %.3g\n", err);
    assert_true(err < TOL);
    static char out[1 << 16], msg[8192];
    int rc = tu_run_cli("filter --arch vgg16 '" FIXTURES "vgg16_notop.h5' --layer block3_conv1 --channel 0 --size 64 "
                        "--steps 2 --device cpu --save-tensor '" FIXTURES "cli_vgg16_filter.npy' -o '" FIXTURES
                        "cli_vgg16_filter.png'", out, sizeof out, msg, sizeof msg);
    if (rc != 0) fail_msg("filter --size 64: exit %d: %s", rc, msg);
    free(got);
    cnv_shape picture;
    tu_expect_ok(cnv_npy_read(FIXTURES "cli_vgg16_filter.npy", &got, &picture));
    want = cnv_shape4(1, 3, 64, 64);
    assert_true(cnv_shape_equal(&picture, &want));
    rc = tu_run_cli("filter --arch vgg19 '" FIXTURES "vgg19_top.h5' --layer block3_conv1 --channel 0 --size 48 --steps 2 "
                    "--device cpu -o '" FIXTURES "cli_vgg19_refused.png'", out, sizeof out, msg, sizeof msg);
    print_message("  filter --arch vgg19 (top) --size 48: exit %d: %s", rc, msg);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(msg, "fixed at 1x3x64x64"));
    assert_int_equal(strchr(msg, '\n') - msg, (long)strlen(msg) - 1);
    free(got);
    free(nchw);
    free(ref);
    free(nhwc);
    free(ref_nhwc);
}

/* ---- LayerNormalization and None input sizes (tests/fixtures/make_keras_models.py) ---- */

static cnv_graph *load_sized_ok(const char *path, int height, int width) {
    cnv_graph *g = NULL;
    cnv_status st = cnv_model_load_sized(path, height, width, &g);
    if (st != CNV_OK) fail_msg("loading %s at %dx%d: %s: %s", path, height, width, cnv_status_str(st), cnv_last_error());
    return g;
}

/* LayerNormalization after a conv (the channels: NCHW axis 1), over [3, 1] (channels and
 * height, gamma 5x8 in the listed order), after a Dense (center off, then scale off), against
 * the fixture's float64 numpy pass: the mixed-axes norm's own output and the model's. */
static void test_layernorm_vs_numpy(void **state) {
    (void)state;
    cnv_graph *g = load_ok(FIXTURES "layernorm.h5");
    assert_int_equal(count_ops(g, CNV_OP_REDUCEMEAN), 8);
    int node;
    assert_int_equal(cnv_model_find_layer(g, "ln_mixed/mean", &node), CNV_OK);
    cnv_shape mean = cnv_shape4(1, 1, 1, 6); /* reduced over C and H, W kept */
    assert_true(cnv_shape_equal(&g->values[g->nodes[node].out].shape, &mean));
    check_vgg(g, "layernorm", "dense_1/dense", "logits");
    check_vgg(g, "layernorm", "dense_1", "out");
    cnv_graph_free(g);
    g = load_ok(FIXTURES "layernorm_cut.h5");
    check_vgg(g, "layernorm", "ln_mixed", "ln2");
    cnv_graph_free(g);
}

/* The input gradient of logit 0 through the four norms (`cnnvis grad`, CPU) against float64
 * central differences of the numpy pass. */
static void test_layernorm_input_gradient(void **state) {
    (void)state;
    cnv_shape s, ref_shape, got_shape;
    float *nhwc = npy_ok(FIXTURES "layernorm_in.npy", &s);
    s.d[0] = 1; /* the first input */
    float *nchw = nhwc_to_nchw(nhwc, &s);
    cnv_shape t = cnv_shape4(1, s.d[3], s.d[1], s.d[2]);
    tu_expect_ok(cnv_npy_write(FIXTURES "cli_layernorm_in0.npy", nchw, &t));
    float *ref_nhwc = npy_ok(FIXTURES "layernorm_grad.npy", &ref_shape);
    float *ref = nhwc_to_nchw(ref_nhwc, &ref_shape);
    float *got = cli_tensor("grad '" FIXTURES "layernorm.h5' '" FIXTURES "cli_layernorm_in0.npy' --class 0 --device cpu "
                            "--save-tensor '" FIXTURES "cli_layernorm_grad.npy'", FIXTURES "cli_layernorm_grad.npy",
                            &got_shape);
    assert_true(cnv_shape_equal(&got_shape, &t));
    double err = tu_rel_error(got, ref, cnv_shape_numel(&t));
    print_message("  layernorm.h5 input gradient of logit 0 vs central differences: rel err %.3g\n", err);
    assert_true(err < 1e-4);
    free(nhwc);
    free(nchw);
    free(ref_nhwc);
    free(ref);
    free(got);
}

/* The axis LayerNormalization may not take, and an input whose channels are None. */
static void test_layernorm_and_none_refusals(void **state) {
    (void)state;
    expect_failure(FIXTURES "layernorm_batch.h5", NULL, CNV_ERR_UNSUPPORTED, "layer 'ln' (LayerNormalization): normalizes "
                                                                             "the batch axis");
    expect_failure(FIXTURES "none_channels.h5", NULL, CNV_ERR_UNSUPPORTED, "channels or features are None");
}

/* Runs the CLI and returns its exit status; out and err hold what it printed. */
static int cli(const char *args, char *err, size_t err_size) {
    static char out[1 << 16];
    int rc = tu_run_cli(args, out, sizeof out, err, err_size);
    print_message("  cnnvis %s: exit %d%s%s", args, rc, rc ? ": " : "\n", rc ? err : "");
    return rc;
}

/* An NHWC fixture input written as the NCHW .npy the CLI reads. */
static void write_nchw(const char *tag, const char *npy) {
    char path[512];
    cnv_shape s;
    snprintf(path, sizeof path, FIXTURES "%s_in.npy", tag);
    float *nhwc = npy_ok(path, &s), *nchw = nhwc_to_nchw(nhwc, &s);
    cnv_shape t = cnv_shape4(s.d[0], s.d[3], s.d[1], s.d[2]);
    tu_expect_ok(cnv_npy_write(npy, nchw, &t));
    free(nhwc);
    free(nchw);
}

/* A fully convolutional model saved with None batch, height and width runs at each size asked
 * (20x28, a batch of 2, and 33x17) against numpy, through the library and the CLI's forward of
 * a .npy; without a size it loads at 224x224, as an ONNX model with symbolic dims does. */
static void test_none_dims_fully_convolutional(void **state) {
    (void)state;
    static const struct {
        const char *tag;
        int h, w, n;
    } sizes[] = {{"none_fcn_a", 20, 28, 2}, {"none_fcn_b", 33, 17, 1}};
    char args[4096], npy[512], err[4096];
    for (int i = 0; i < 2; i++) {
        cnv_graph *g = load_sized_ok(FIXTURES "none_fcn.h5", sizes[i].h, sizes[i].w);
        cnv_shape in = cnv_shape4(1, 3, sizes[i].h, sizes[i].w);
        assert_true(cnv_shape_equal(&g->values[g->input].shape, &in));
        assert_int_equal(g->input_symbolic, 1u | 4u | 8u); /* N, H, W None; C fixed */
        check_vgg(g, sizes[i].tag, "dense/dense", "logits");
        check_vgg(g, sizes[i].tag, "dense", "out");
        cnv_graph_free(g);
        snprintf(npy, sizeof npy, FIXTURES "cli_%s_in.npy", sizes[i].tag);
        write_nchw(sizes[i].tag, npy);
        snprintf(args, sizeof args, "forward '" FIXTURES "none_fcn.h5' '%s' --device cpu --save-tensor '" FIXTURES
                 "cli_none_fcn_out.npy'", npy);
        cnv_shape got_shape, ref_shape;
        float *got = cli_tensor(args, FIXTURES "cli_none_fcn_out.npy", &got_shape);
        snprintf(npy, sizeof npy, FIXTURES "%s_out.npy", sizes[i].tag);
        float *ref = npy_ok(npy, &ref_shape);
        assert_true(cnv_shape_equal(&got_shape, &ref_shape));
        double e = tu_rel_error(got, ref, cnv_shape_numel(&ref_shape));
        print_message("  cli forward none_fcn.h5 at %dx%d, batch %d: rel err %.3g\n", sizes[i].h, sizes[i].w,
                      got_shape.d[0], e);
        assert_true(e < TOL);
        free(got);
        free(ref);
    }
    cnv_graph *g = load_ok(FIXTURES "none_fcn.h5");
    cnv_shape in = cnv_shape4(1, 3, 224, 224);
    assert_true(cnv_shape_equal(&g->values[g->input].shape, &in));
    cnv_graph_free(g);
    snprintf(args, sizeof args, "info '" FIXTURES "none_fcn.h5'");
    static char out[1 << 16];
    assert_int_equal(tu_run_cli(args, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "1x3x224x224 (height and width symbolic in the file"));
}

/* None height and width before a Flatten and a Dense of 75 features (a 5x5x3 map): the model
 * runs at 12x12 only. Without a size that is the one loaded (and not called free); asked for it,
 * it loads; another size, from the library or a .npy given to the CLI, is refused in one line
 * naming the shape it expects. */
static void test_none_dims_fixed_by_dense(void **state) {
    (void)state;
    const char *path = FIXTURES "none_flatten.h5";
    cnv_graph *g = load_ok(path);
    cnv_shape in = cnv_shape4(1, 2, 12, 12);
    assert_true(cnv_shape_equal(&g->values[g->input].shape, &in));
    assert_int_equal(g->input_symbolic, 1u);
    check_vgg(g, "none_flatten", "dense", "out");
    cnv_graph_free(g);
    g = load_sized_ok(path, 12, 12);
    cnv_graph_free(g);
    g = (cnv_graph *)&g;
    cnv_status st = cnv_model_load_sized(path, 16, 16, &g);
    print_message("  %s at 16x16 -> %s: %s\n", path, cnv_status_str(st), cnv_last_error());
    assert_int_equal(st, CNV_ERR_SHAPE);
    assert_null(g);
    assert_non_null(strstr(cnv_last_error(), path));
    assert_non_null(strstr(cnv_last_error(), "fixed at 1x2x12x12"));
    assert_non_null(strstr(cnv_last_error(), "cannot run at 16x16"));
    assert_null(strchr(cnv_last_error(), '\n'));
    /* The CLI: a 16x16 .npy is a usage error (exit 2), one line. */
    float zeros[2 * 16 * 16] = {0};
    cnv_shape s = cnv_shape4(1, 2, 16, 16);
    tu_expect_ok(cnv_npy_write(FIXTURES "cli_none_flatten_16.npy", zeros, &s));
    char err[4096];
    int rc = cli("forward '" FIXTURES "none_flatten.h5' '" FIXTURES "cli_none_flatten_16.npy' --device cpu", err,
                 sizeof err);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(err, "fixed at 1x2x12x12"));
    assert_int_equal(strchr(err, '\n') - err, (long)strlen(err) - 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_models_cpu),
        cmocka_unit_test(test_resnet8_structure),
        cmocka_unit_test(test_onnx_twin),
        cmocka_unit_test(test_keras3_dialect),
        cmocka_unit_test(test_vgg16_notop),
        cmocka_unit_test(test_vgg19_top),
        cmocka_unit_test(test_corrupted_files),
        cmocka_unit_test(test_utf8_model_config),
        cmocka_unit_test(test_unsupported_and_mismatched),
        cmocka_unit_test(test_cli_arch),
        cmocka_unit_test(test_cli_batches),
        cmocka_unit_test(test_application_layers_vs_numpy),
        cmocka_unit_test(test_emotions_pictures),
        cmocka_unit_test(test_mobilenet_v1_car),
        cmocka_unit_test(test_application_verbs),
        cmocka_unit_test(test_unets_vs_numpy),
        cmocka_unit_test(test_layernorm_vs_numpy),
        cmocka_unit_test(test_layernorm_input_gradient),
        cmocka_unit_test(test_layernorm_and_none_refusals),
        cmocka_unit_test(test_none_dims_fully_convolutional),
        cmocka_unit_test(test_none_dims_fixed_by_dense),
        cmocka_unit_test(test_real_models_vulkan),
    };
    return cmocka_run_group_tests(tests, setup_fixtures, NULL);
}
