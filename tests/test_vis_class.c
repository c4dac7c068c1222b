/* Class visualizations that hold up: on SqueezeNet, the Lucid recipe's espresso image is
 * top-1 for cnnvis (probability >= 0.9) and for OpenCV DNN on the saved PNG, and stays top-1
 * after a 2x downscale and upscale and after a 10 degree rotation; the plain recipe's
 * adversarial noise passes the first check and fails the second. On the CIFAR-10 ResNet-8,
 * each of the ten class images is top-1 for its class. */
#include "test_util.h"

#include "io/preprocess.h"
#include "models/preset.h"
#include "vis/render.h"
#include "core/exec.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ESPRESSO 967

static char squeezenet[1200];

/* cnnvis classify --json on a PNG: top-1 class and probability. */
static void cnnvis_top1(const char *png, int *cls, double *prob) {
    static char out[1 << 16], err[4096];
    char args[2600];
    snprintf(args, sizeof args, "classify %s %s --top 1 --json --device cpu", squeezenet, png);
    assert_int_equal(tu_run_cli(args, out, sizeof out, err, sizeof err), 0);
    json_error_t e;
    json_t *root = json_loads(out, 0, &e);
    assert_non_null(root);
    json_t *top = json_array_get(json_object_get(json_array_get(root, 0), "top"), 0);
    *cls = (int)json_integer_value(json_object_get(top, "class"));
    *prob = json_real_value(json_object_get(top, "probability"));
    json_decref(root);
}

typedef struct cv_views {
    int top1[3]; /* saved, down_up_2x, rotate_10 */
    double prob[3];
} cv_views;

/* OpenCV DNN on the same ONNX and PNG (tests/check_class_image.py); 0 when cv2 is missing. */
static int opencv_views(const char *png, cv_views *v) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/check_class_image.py %s %s --size 227 --bgr --mean 104,117,123",
             CNNVIS_SOURCE_DIR, squeezenet, png);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[512];
    int n = 0;
    while (n < 3 && fgets(line, sizeof line, p)) {
        json_error_t e;
        json_t *j = json_loads(line, 0, &e);
        assert_non_null(j);
        v->top1[n] = (int)json_integer_value(json_object_get(j, "top1"));
        v->prob[n] = json_real_value(json_object_get(j, "prob"));
        json_decref(j);
        n++;
    }
    int rc = pclose(p);
    if (WEXITSTATUS(rc) == 3) return 0;
    assert_int_equal(rc, 0);
    assert_int_equal(n, 3);
    printf("  opencv: saved %d (%.4f), 2x down-up %d (%.4f), rotated 10 deg %d (%.4f)\n", v->top1[0], v->prob[0],
           v->top1[1], v->prob[1], v->top1[2], v->prob[2]);
    return 1;
}

static void render_espresso(const char *recipe_args, const char *png) {
    static char out[8192], err[8192];
    char args[3000];
    snprintf(args, sizeof args, "class %s --class %d %s --device cpu -o %s", squeezenet, ESPRESSO, recipe_args, png);
    int rc = tu_run_cli(args, out, sizeof out, err, sizeof err);
    if (rc) printf("%s\n%s", out, err);
    assert_int_equal(rc, 0);
}

static void test_lucid_espresso_is_robust(void **state) {
    char png[1024];
    snprintf(png, sizeof png, "%s/vis_espresso_lucid.png", CNNVIS_BINARY_DIR);
    render_espresso("--steps 64", png);
    int cls;
    double prob;
    cnnvis_top1(png, &cls, &prob);
    printf("lucid espresso: cnnvis top-1 %d (%.4f)\n", cls, prob);
    assert_int_equal(cls, ESPRESSO);
    assert_true(prob >= 0.9);
    cv_views v;
    if (!opencv_views(png, &v)) skip();
    for (int i = 0; i < 3; i++) assert_int_equal(v.top1[i], ESPRESSO);
    assert_true(v.prob[0] >= 0.9);
}

static void test_plain_noise_is_not_robust(void **state) {
    char png[1024];
    snprintf(png, sizeof png, "%s/vis_espresso_plain.png", CNNVIS_BINARY_DIR);
    render_espresso("--recipe plain --softmax --steps 64", png);
    int cls;
    double prob;
    cnnvis_top1(png, &cls, &prob);
    printf("plain espresso: cnnvis top-1 %d (%.4f)\n", cls, prob);
    assert_int_equal(cls, ESPRESSO);
    assert_true(prob >= 0.9);
    cv_views v;
    if (!opencv_views(png, &v)) skip();
    assert_int_equal(v.top1[0], ESPRESSO);
    /* Adversarial high-frequency noise does not survive a resize or a small rotation. */
    assert_true(v.top1[1] != ESPRESSO || v.top1[2] != ESPRESSO);
}

/* The ten CIFAR-10 classes on the Keras ResNet-8, rendered as one batch; each image, quantized
 * to 8 bits as its PNG would be, is classified by the same model. */
static void test_cifar10_resnet8_classes(void **state) {
    cnv_graph *g = NULL;
    assert_int_equal(cnv_model_load(tu_shared_path("models/cifar10_resnet8_mlperf_tiny/pretrainedResnet.h5"), &g), CNV_OK);
    const cnv_preset *p = cnv_preset_find("cifar10-raw");
    assert_non_null(p);
    int logits;
    assert_int_equal(cnv_model_find_layer(g, "dense/dense", &logits), CNV_OK);
    cnv_objective objs[10];
    for (int k = 0; k < 10; k++) objs[k] = (cnv_objective){CNV_OBJ_UNIT, k, 0, 0};
    cnv_render_opts o = {.recipe = *cnv_recipe_find("lucid"), .batch = 10, .size = {32, 32}, .seed = 1,
                         .objective_node = logits, .objectives = objs};
    o.recipe.steps = 128;
    o.recipe.pad = 2;
    o.recipe.jitter = 2;
    o.recipe.jitter2 = 1;
    cnv_backend *be = tu_backend_create("cpu");
    cnv_render_result res;
    assert_int_equal(cnv_render(g, p, be, &o, &res), CNV_OK);
    cnv_exec *ex;
    assert_int_equal(cnv_exec_create(g, be, 1, &ex), CNV_OK);
    for (int k = 0; k < 10; k++) {
        cnv_image img = {.w = 32, .h = 32, .c = 3, .px = malloc(32 * 32 * 3)};
        assert_non_null(img.px);
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 32 * 32; i++) {
                float f = res.images[((size_t)k * 3 + c) * 1024 + i];
                img.px[i * 3 + c] = (unsigned char)lrintf((f < 0 ? 0 : f > 1 ? 1 : f) * 255);
            }
        float in[3 * 32 * 32], out[10];
        cnv_preprocess_pixels(&img, p, in);
        free(img.px);
        assert_int_equal(cnv_exec_set_input(ex, in), CNV_OK);
        assert_int_equal(cnv_exec_forward(ex, g->n_nodes - 1), CNV_OK);
        assert_int_equal(cnv_exec_read(ex, g->output, out), CNV_OK);
        int best = 0;
        for (int j = 1; j < 10; j++)
            if (out[j] > out[best]) best = j;
        printf("cifar10 class %d (%s): top-1 %d, p %.3f\n", k, p->builtin_labels[k], best, out[best]);
        assert_int_equal(best, k);
    }
    cnv_exec_free(ex);
    cnv_render_result_free(&res);
    cnv_backend_free(be);
    cnv_model_free(g);
}

/* Filters of fire modules (the gallery renders 16 channels of every module; docs/gallery keeps
 * their sidecars), the objective on the leaky twin of the ReLUs as the filter verb has it: each
 * channel's mean at least 20x its value on the starting noise; fire2's channels 2 and 7 are off
 * (0) on the start image, where a gradient after the ReLU could never reach them. */
static void test_filter_objective_rises(void **state) {
    cnv_graph *g = NULL;
    assert_int_equal(cnv_model_load(squeezenet, &g), CNV_OK);
    cnv_backend *be = tu_backend_create("cpu");
    const struct {
        const char *layer;
        int channels[2];
    } cases[] = {{"fire2/concat", {2, 7}}, {"fire3/concat", {0, 1}}, {"fire8/concat", {0, 1}}};
    for (int l = 0; l < 3; l++) {
        int node;
        assert_int_equal(cnv_model_find_layer(g, cases[l].layer, &node), CNV_OK);
        cnv_objective objs[2];
        for (int i = 0; i < 2; i++) objs[i] = (cnv_objective){CNV_OBJ_CHANNEL, cases[l].channels[i], 0, 0};
        cnv_render_opts o = {.recipe = *cnv_recipe_find("lucid"), .batch = 2, .size = {227, 227}, .seed = 1,
                             .objective_node = cnv_graph_leaky_twin(g, node, CNV_LEAKY_TWIN_SLOPE), .objectives = objs, .has_report = 1,
                             .report_node = node};
        o.recipe.steps = 32;
        cnv_render_result res;
        assert_int_equal(cnv_render(g, cnv_preset_find("squeezenet"), be, &o, &res), CNV_OK);
        for (int i = 0; i < 2; i++) {
            double a = res.report_start[i], b = res.report_final[i];
            printf("%s channel %d: %.4g -> %.4g (leaky twin %.4g -> %.4g)\n", cases[l].layer,
                   cases[l].channels[i], a, b, res.start[i], res.final[i]);
            assert_true(b > 10);
            assert_true(b >= 20 * a);
            if (l == 0) assert_true(a == 0); /* off on the start image */
        }
        cnv_render_result_free(&res);
    }
    cnv_backend_free(be);
    cnv_model_free(g);
}

int main(void) {
    snprintf(squeezenet, sizeof squeezenet, "%s",
             tu_shared_path("models/squeezenet1.1_openvino_fp16/derived/squeezenet1.1_fp32_from_ir.onnx"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cifar10_resnet8_classes),
        cmocka_unit_test(test_lucid_espresso_is_robust),
        cmocka_unit_test(test_plain_noise_is_not_robust),
        cmocka_unit_test(test_filter_objective_rises),
    };
    return cmocka_run_group_tests_name("vis_class", tests, NULL, NULL);
}
