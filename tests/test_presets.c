/* The preset table: every preset is complete and consistent; the ImageNet VGG presets carry
 * their frameworks' preprocessing; detection recognizes Keras VGG16/VGG19 by Keras's layer names
 * and torchvision's VGG16 by the names torch 1.13's exporter really writes (a real export of its
 * module layout: tests/fixtures/torch_arch/vgg16_tv_names.onnx); every default and logits layer
 * exists in such a model. */
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph.h"
#include "models/preset.h"

#define TORCH_VGG16 "torch_arch/vgg16_tv_names.onnx"

/* Calls fn on every preset cnv_preset_list names; returns how many there were. */
static int for_each_preset(void (*fn)(const cnv_preset *)) {
    char list[1024], *save = NULL;
    cnv_preset_list(list, sizeof list);
    int n = 0;
    for (char *name = strtok_r(list, ", ", &save); name; name = strtok_r(NULL, ", ", &save)) {
        const cnv_preset *p = cnv_preset_find(name);
        if (!p) fail_msg("preset '%s' is listed but not found", name);
        fn(p);
        n++;
    }
    return n;
}

static void assert_complete(const cnv_preset *p) {
    assert_non_null(p->description);
    /* Raw pixels, 0..1, or -1..1 (Keras "tf" mode: x / 127.5 - 1). */
    assert_true(p->scale == 1.0f || p->scale == 1.0f / 255.0f || (p->scale == 1.0f / 127.5f && p->mean[0] == 1.0f));
    for (int c = 0; c < 3; c++) assert_true(p->std[c] > 0.0f);
    /* Any model's pixels (0..1 RGB; raw BGR as cv2.imread gives them): the model's own size and names. */
    if (strcmp(p->name, "generic") == 0 || strcmp(p->name, "bgr255") == 0) return;
    if (p->height == 0) { /* a family of any input size: no fixed size or layer names */
        assert_true(p->channels == 0 && p->width == 0);
        if (!p->labels_file) fail_msg("%s: no labels", p->name);
        return;
    }
    if (p->channels != 1 && p->channels != 3) fail_msg("%s: %d channels", p->name, p->channels);
    assert_int_equal(p->order == CNV_ORDER_GRAY, p->channels == 1);
    assert_true(p->height > 0 && p->width > 0);
    if (!p->labels_file && !p->builtin_labels) fail_msg("%s: no labels", p->name);
    if (!p->default_layers || !*p->default_layers) fail_msg("%s: no default layers", p->name);
}

static void every_preset_is_complete(void **state) {
    (void)state;
    assert_true(for_each_preset(assert_complete) >= 6);
}

static void imagenet_vgg_preprocessing(void **state) {
    (void)state;
    static const char *const keras[] = {"vgg16-keras", "vgg19-keras"};
    for (int i = 0; i < 2; i++) {
        const cnv_preset *p = cnv_preset_find(keras[i]);
        assert_non_null(p);
        assert_int_equal(p->order, CNV_ORDER_BGR);
        assert_float_equal(p->scale, 1.0f, 0.0f);
        assert_float_equal(p->mean[0], 103.939f, 1e-4f); /* blue first, in the model's order */
        assert_float_equal(p->mean[1], 116.779f, 1e-4f);
        assert_float_equal(p->mean[2], 123.68f, 1e-4f);
        assert_int_equal(p->height, 224);
        assert_string_equal(p->logits_layer, "predictions/dense");
        assert_string_equal(p->labels_file, "synset_words.txt");
    }
    const cnv_preset *tv = cnv_preset_find("vgg16-torchvision");
    assert_non_null(tv);
    assert_int_equal(tv->order, CNV_ORDER_RGB);
    assert_float_equal(tv->scale, 1.0f / 255.0f, 0.0f);
    assert_float_equal(tv->mean[0], 0.485f, 0.0f); /* red first */
    assert_float_equal(tv->std[2], 0.225f, 0.0f);
    assert_int_equal(tv->width, 224);
    assert_string_equal(tv->labels_file, "synset_words.txt");
}

typedef struct named_node {
    char name[32 + sizeof "/dense"]; /* a layer's name (< 32 chars), with its product's suffix */
    cnv_op_type op;
} named_node;

/* Appends a Keras layer as the Keras importer writes it: a Conv2D or Dense layer becomes its
 * product "<layer>/conv" or "<layer>/dense" then its activation, named after the layer. */
static void keras_layer(named_node *nodes, int *n, const char *name, cnv_op_type op, cnv_op_type activation) {
    if (op == CNV_OP_CONV || op == CNV_OP_GEMM) {
        snprintf(nodes[*n].name, sizeof nodes[0].name, "%s/%s", name, op == CNV_OP_CONV ? "conv" : "dense");
        nodes[(*n)++].op = op;
        op = activation;
    }
    snprintf(nodes[*n].name, sizeof nodes[0].name, "%s", name);
    nodes[(*n)++].op = op;
}

/* A graph with keras.applications VGG's layers in order, as the Keras importer names them
 * (shapes do not matter for detection, only the input and output): convs per block 2,2,3,3,3
 * (VGG16) or 2,2,4,4,4 (VGG19). */
static cnv_graph *keras_vgg_names(const int convs[5], int with_top, int classes) {
    named_node nodes[64];
    int n = 0;
    char name[32];
    for (int b = 1; b <= 5; b++) {
        for (int k = 1; k <= convs[b - 1]; k++) {
            snprintf(name, sizeof name, "block%d_conv%d", b, k);
            keras_layer(nodes, &n, name, CNV_OP_CONV, CNV_OP_RELU);
        }
        snprintf(name, sizeof name, "block%d_pool", b);
        keras_layer(nodes, &n, name, CNV_OP_MAXPOOL, CNV_OP_MAXPOOL);
    }
    if (with_top) {
        keras_layer(nodes, &n, "flatten", CNV_OP_FLATTEN, CNV_OP_FLATTEN);
        keras_layer(nodes, &n, "fc1", CNV_OP_GEMM, CNV_OP_RELU);
        keras_layer(nodes, &n, "fc2", CNV_OP_GEMM, CNV_OP_RELU);
        keras_layer(nodes, &n, "predictions", CNV_OP_GEMM, CNV_OP_SOFTMAX);
    }
    cnv_graph *g = cnv_graph_new("keras-vgg.h5");
    assert_non_null(g);
    cnv_shape in = cnv_shape4(1, 3, 224, 224), out = {2, {1, classes}};
    int x = g->input = cnv_graph_add_value(g, "input_1", &in, NULL);
    for (int i = 0; i < n; i++) {
        cnv_attrs a;
        cnv_attrs_default(nodes[i].op, &a);
        int y = cnv_graph_add_value(g, nodes[i].name, i == n - 1 ? &out : &in, NULL);
        assert_true(y >= 0);
        assert_true(cnv_graph_add_node(g, nodes[i].name, nodes[i].op, &a, 1, &x, y) >= 0);
        x = y;
    }
    g->output = x;
    return g;
}

/* Every default layer and the logits layer of p are layers of g; the logits are a dense layer's
 * product, the graph output or the input of a final softmax. */
static void assert_layers_exist(const cnv_preset *p, const cnv_graph *g) {
    char layers[1024], *save = NULL;
    snprintf(layers, sizeof layers, "%s", p->default_layers);
    int node, n = 0;
    for (char *l = strtok_r(layers, ",", &save); l; l = strtok_r(NULL, ",", &save), n++)
        if (cnv_model_find_layer(g, l, &node) != CNV_OK) fail_msg("%s: %s", p->name, cnv_last_error());
    assert_int_equal(n, 5);
    if (cnv_model_find_layer(g, p->logits_layer, &node) != CNV_OK) fail_msg("%s: %s", p->name, cnv_last_error());
    assert_int_equal(g->nodes[node].op, CNV_OP_GEMM);
    int last = g->values[g->output].producer;
    if (g->nodes[last].op == CNV_OP_SOFTMAX) last = g->values[g->nodes[last].in[0]].producer;
    assert_int_equal(node, last);
}

static void detects_keras_vgg(void **state) {
    (void)state;
    static const int vgg16[5] = {2, 2, 3, 3, 3}, vgg19[5] = {2, 2, 4, 4, 4};
    cnv_graph *g = keras_vgg_names(vgg16, 1, 1000);
    const cnv_preset *p = cnv_preset_detect(g);
    assert_ptr_equal(p, cnv_preset_find("vgg16-keras"));
    assert_layers_exist(p, g);
    cnv_graph_free(g);

    g = keras_vgg_names(vgg19, 1, 1000);
    p = cnv_preset_detect(g);
    assert_ptr_equal(p, cnv_preset_find("vgg19-keras"));
    assert_layers_exist(p, g);
    cnv_graph_free(g);

    g = keras_vgg_names(vgg16, 0, 1000); /* include_top=False: no logits, no ImageNet classes */
    assert_null(cnv_preset_detect(g));
    cnv_graph_free(g);
    g = keras_vgg_names(vgg16, 1, 10); /* fine-tuned on 10 classes: not ImageNet's labels */
    assert_null(cnv_preset_detect(g));
    cnv_graph_free(g);
}

static void detects_torchvision_vgg16_export(void **state) {
    (void)state;
    cnv_graph *g = NULL;
    if (cnv_model_load(tu_fixture_path(TORCH_VGG16), &g) != CNV_OK) fail_msg("%s", cnv_last_error());
    const cnv_preset *p = cnv_preset_detect(g);
    assert_ptr_equal(p, cnv_preset_find("vgg16-torchvision"));
    assert_layers_exist(p, g);
    cnv_shape want = cnv_shape4(1, p->channels, p->height, p->width);
    assert_true(cnv_shape_equal(&g->values[g->input].shape, &want));
    int node;
    assert_int_equal(cnv_model_find_layer(g, "/features/features.28/Conv", &node), CNV_OK);
    assert_int_equal(g->nodes[node].op, CNV_OP_CONV);
    cnv_model_free(g);
}

/* `cnnvis info` shows the detected preset and its layers for the torch export. */
static void info_prints_detected_preset(void **state) {
    (void)state;
    char out[65536], err[4096], args[4096];
    snprintf(args, sizeof args, "info '%s'", tu_fixture_path(TORCH_VGG16));
    int rc = tu_run_cli(args, out, sizeof out, err, sizeof err);
    if (rc != 0) fail_msg("info exited %d: %s", rc, err);
    assert_non_null(strstr(out, "preset: vgg16-torchvision (detected: torchvision VGG16 node names"));
    assert_non_null(strstr(out, "/features/features.28/Conv"));
}

/* A graph with the given input, node names (each a Relu, chained) and number of outputs. */
static cnv_graph *named_graph(int c, int h, int w, const char *const *names, int n, int classes) {
    cnv_graph *g = cnv_graph_new("named");
    assert_non_null(g);
    cnv_shape in = cnv_shape4(1, c, h, w), out = {2, {1, classes}};
    int x = g->input = cnv_graph_add_value(g, "input", &in, NULL);
    for (int i = 0; i < n; i++) {
        cnv_attrs a;
        cnv_attrs_default(CNV_OP_RELU, &a);
        int y = cnv_graph_add_value(g, names[i], i == n - 1 ? &out : &in, NULL);
        assert_true(y >= 0 && cnv_graph_add_node(g, names[i], CNV_OP_RELU, &a, 1, &x, y) >= 0);
        x = y;
    }
    g->output = x;
    return g;
}

/* What detection says for a graph of these names: the preset's name, or "none". */
static const char *detected(int c, int h, int w, const char *const *names, int n, int classes, char *why,
                            size_t size) {
    cnv_graph *g = named_graph(c, h, w, names, n, classes);
    const cnv_preset *p = cnv_preset_detect_why(g, why, size);
    cnv_graph_free(g);
    return p ? p->name : "none";
}

/* torchvision exports of any architecture and size get torchvision's ImageNet input; Keras
 * MobileNets the -1..1 of their preprocess_input; each says why. */
static void detects_imagenet_families(void **state) {
    (void)state;
    char why[320];
    static const char *const torch[] = {"/conv1/Conv", "/layer1/layer1.0/relu/Relu", "/fc/Gemm"};
    assert_string_equal(detected(3, 64, 96, torch, 3, 1000, why, sizeof why), "imagenet-torchvision");
    assert_non_null(strstr(why, "detected: node names as torch.onnx.export writes them ('/conv1/Conv')"));
    assert_string_equal(detected(3, 227, 227, torch, 3, 1000, why, sizeof why), "imagenet-torchvision");
    assert_string_equal(detected(3, 64, 96, torch, 3, 10, why, sizeof why), "none"); /* not ImageNet's classes */
    assert_string_equal(why, "");
    assert_string_equal(detected(1, 64, 96, torch, 3, 1000, why, sizeof why), "none");
    static const char *const mixed[] = {"/conv1/Conv", "conv2", "/fc/Gemm"};
    assert_string_equal(detected(3, 64, 96, mixed, 3, 1000, why, sizeof why), "none");

    static const char *const v1[] = {"conv1", "conv_dw_1/depthwise", "conv_dw_1", "conv_pw_1/conv", "conv_pw_1",
                                     "conv_preds"};
    assert_string_equal(detected(3, 224, 224, v1, 6, 1000, why, sizeof why), "mobilenet-keras");
    assert_non_null(strstr(why, "Keras MobileNet layer names"));
    static const char *const v2[] = {"Conv1", "block_1_expand", "block_1_depthwise", "predictions"};
    assert_string_equal(detected(3, 128, 128, v2, 4, 1000, why, sizeof why), "mobilenet-keras");
    assert_non_null(strstr(why, "MobileNetV2"));
    static const char *const near[] = {"conv_dw_10", "conv_pw_1x"}; /* names must match whole */
    assert_string_equal(detected(3, 224, 224, near, 2, 1000, why, sizeof why), "none");

    const cnv_preset *tv = cnv_preset_find("imagenet-torchvision"), *mn = cnv_preset_find("mobilenet-keras");
    assert_int_equal(tv->order, CNV_ORDER_RGB);
    assert_float_equal(tv->scale, 1.0f / 255.0f, 0.0f);
    assert_float_equal(tv->mean[0], 0.485f, 0.0f);
    assert_float_equal(tv->std[2], 0.225f, 0.0f);
    assert_int_equal(mn->order, CNV_ORDER_RGB);
    /* Pixel 0 -> -1, 255 -> 1. */
    assert_float_equal((0.0f * mn->scale - mn->mean[0]) / mn->std[0], -1.0f, 1e-6f);
    assert_float_equal((255.0f * mn->scale - mn->mean[1]) / mn->std[1], 1.0f, 1e-6f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_preset_is_complete),
        cmocka_unit_test(imagenet_vgg_preprocessing),
        cmocka_unit_test(detects_keras_vgg),
        cmocka_unit_test(detects_torchvision_vgg16_export),
        cmocka_unit_test(info_prints_detected_preset),
        cmocka_unit_test(detects_imagenet_families),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
