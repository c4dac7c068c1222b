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
    assert_true(p->scale == 1.0f || p->scale == 1.0f / 255.0f);
    for (int c = 0; c < 3; c++) assert_true(p->std[c] > 0.0f);
    if (strcmp(p->name, "generic") == 0) return; /* takes the model's own size and names */
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
        assert_string_equal(p->logits_layer, "predictions");
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

/* A graph with keras.applications VGG's layer names in order (shapes do not matter for
 * detection, only the input and output): convs per block 2,2,3,3,3 (VGG16) or 2,2,4,4,4. */
static cnv_graph *keras_vgg_names(const int convs[5], int with_top, int classes) {
    cnv_graph *g = cnv_graph_new("keras-vgg.h5");
    assert_non_null(g);
    cnv_shape in = cnv_shape4(1, 3, 224, 224), out = {2, {1, classes}};
    int x = g->input = cnv_graph_add_value(g, "input_1", &in, NULL);
    char names[32][32];
    int n = 0;
    for (int b = 1; b <= 5; b++) {
        for (int k = 1; k <= convs[b - 1]; k++) snprintf(names[n++], sizeof names[0], "block%d_conv%d", b, k);
        snprintf(names[n++], sizeof names[0], "block%d_pool", b);
    }
    if (with_top) {
        static const char *const top[] = {"flatten", "fc1", "fc2", "predictions", "predictions_softmax"};
        for (int i = 0; i < 5; i++) snprintf(names[n++], sizeof names[0], "%s", top[i]);
    }
    cnv_attrs a;
    cnv_attrs_default(CNV_OP_RELU, &a);
    for (int i = 0; i < n; i++) {
        int y = cnv_graph_add_value(g, names[i], i == n - 1 ? &out : &in, NULL);
        assert_true(y >= 0);
        assert_true(cnv_graph_add_node(g, names[i], CNV_OP_RELU, &a, 1, &x, y) >= 0);
        x = y;
    }
    g->output = x;
    return g;
}

/* Every default layer and the logits layer of p are layers of g. */
static void assert_layers_exist(const cnv_preset *p, const cnv_graph *g) {
    char layers[1024], *save = NULL;
    snprintf(layers, sizeof layers, "%s", p->default_layers);
    int node, n = 0;
    for (char *l = strtok_r(layers, ",", &save); l; l = strtok_r(NULL, ",", &save), n++)
        if (cnv_model_find_layer(g, l, &node) != CNV_OK) fail_msg("%s: %s", p->name, cnv_last_error());
    assert_int_equal(n, 5);
    if (cnv_model_find_layer(g, p->logits_layer, &node) != CNV_OK) fail_msg("%s: %s", p->name, cnv_last_error());
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
    /* The logits layer is the last Gemm and computes the graph output; default layers are convs. */
    int node;
    assert_int_equal(cnv_model_find_layer(g, p->logits_layer, &node), CNV_OK);
    assert_int_equal(g->nodes[node].op, CNV_OP_GEMM);
    assert_int_equal(g->nodes[node].out, g->output);
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
    assert_non_null(strstr(out, "preset: vgg16-torchvision (detected)"));
    assert_non_null(strstr(out, "/features/features.28/Conv"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_preset_is_complete),
        cmocka_unit_test(imagenet_vgg_preprocessing),
        cmocka_unit_test(detects_keras_vgg),
        cmocka_unit_test(detects_torchvision_vgg16_export),
        cmocka_unit_test(info_prints_detected_preset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
