/* Feature visualization end to end: the same seed gives the same images on a device; the CPU
 * and Vulkan backends agree over 32 steps of the Lucid recipe; a neuron's optimization with
 * transforms off changes no pixel outside the receptive field computed from the graph, and
 * does change pixels inside it; bad options fail with one line and exit 2. */
#include "test_util.h"

#include "core/rng.h"
#include "models/preset.h"
#include "vis/render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *cifar_net(void) { return tu_shared_path("models/cifar10_pytorch_tutorial_onnx/cifar_net.onnx"); }
static const char *squeezenet(void) {
    return tu_shared_path("models/squeezenet1.1_openvino_fp16/derived/squeezenet1.1_fp32_from_ir.onnx");
}

/* 32 Lucid steps on the CIFAR tutorial net: logits 3 (cat) and 5 (dog). */
static void render_cifar(cnv_backend *be, cnv_render_result *res) {
    cnv_graph *g = NULL;
    assert_int_equal(cnv_model_load(cifar_net(), &g), CNV_OK);
    const cnv_preset *p = cnv_preset_find("generic");
    assert_non_null(p);
    cnv_objective objs[2] = {{CNV_OBJ_UNIT, 3, 0, 0}, {CNV_OBJ_UNIT, 5, 0, 0}};
    cnv_render_opts o = {.recipe = *cnv_recipe_find("lucid"), .batch = 2, .size = {32, 32}, .seed = 7,
                         .objective_node = g->values[g->output].producer, .objectives = objs, .log_every = 1};
    o.recipe.steps = 32;
    o.recipe.pad = 4;
    o.recipe.jitter = 2;
    o.recipe.jitter2 = 1;
    assert_int_equal(cnv_render(g, p, be, &o, res), CNV_OK);
    cnv_model_free(g);
}

static void test_seed_and_backends_agree(void **state) {
    const size_t n = 2 * 3 * 32 * 32;
    cnv_render_result c1, c2, v1, v2;
    cnv_backend *cpu = tu_backend_create("cpu");
    render_cifar(cpu, &c1);
    render_cifar(cpu, &c2);
    cnv_backend_free(cpu);
    assert_memory_equal(c1.images, c2.images, n * sizeof(float));
    for (int i = 0; i < 2; i++) {
        printf("cpu item %d: objective %.3f -> %.3f\n", i, c1.start[i], c1.final[i]);
        assert_true(c1.final[i] > c1.start[i] + 1.0); /* the logit rose */
    }
    cnv_backend *gpu = tu_backend_create("vulkan");
    render_cifar(gpu, &v1);
    render_cifar(gpu, &v2);
    tu_backend_free(gpu);
    assert_memory_equal(v1.images, v2.images, n * sizeof(float));
    double err = tu_rel_error(v1.images, c1.images, n);
    printf("32 lucid steps, images vulkan vs cpu: relative error %.2e\n", err);
    assert_true(err < 1e-3);
    cnv_render_result_free(&c1);
    cnv_render_result_free(&c2);
    cnv_render_result_free(&v1);
    cnv_render_result_free(&v2);
}

/* With transforms off and a pixel parameterization every op before the model is pointwise, so
 * a unit's gradient is zero outside its receptive field and Adam never moves those pixels.
 * Eight channels' centre units render as one batch, their objective on the layer's leaky twin as
 * the neuron verb has it (units off on the start still move): none may change a pixel outside the
 * field, and every one must change pixels inside. */
#define NEURONS 8
static void check_neuron_field(cnv_backend *be, cnv_graph *g, const char *layer) {
    int node;
    assert_int_equal(cnv_model_find_layer(g, layer, &node), CNV_OK);
    const cnv_shape *s = &g->values[g->nodes[node].out].shape;
    int y = s->d[2] / 2, x = s->d[3] / 2, box[4];
    assert_int_equal(cnv_graph_unit_field(g, node, y, x, box), CNV_OK);
    cnv_objective objs[NEURONS];
    for (int i = 0; i < NEURONS; i++) objs[i] = (cnv_objective){CNV_OBJ_NEURON, i, y, x};
    int twin = cnv_graph_leaky_twin(g, node, CNV_LEAKY_TWIN_SLOPE);
    assert_true(twin >= 0);
    cnv_render_opts o = {.recipe = *cnv_recipe_find("plain"), .batch = NEURONS, .size = {227, 227}, .seed = 3,
                         .objective_node = twin, .objectives = objs};
    o.recipe.steps = 3;
    o.recipe.l2 = 0;
    o.recipe.lr = 0.05f;
    o.recipe.init_sd = 0.25f;
    cnv_render_result res;
    assert_int_equal(cnv_render(g, cnv_preset_find("squeezenet"), be, &o, &res), CNV_OK);
    int active = 0;
    const size_t plane = 227 * 227, item = 3 * plane;
    for (int n = 0; n < NEURONS; n++) {
        int changed_in = 0, changed_out = 0;
        for (size_t k = 0; k < item; k++) {
            int i = (int)((k % plane) / 227), j = (int)(k % 227);
            int inside = i >= box[0] && i <= box[2] && j >= box[1] && j <= box[3];
            int changed = res.images[n * item + k] != res.start_images[n * item + k];
            if (inside) changed_in += changed;
            else changed_out += changed;
        }
        printf("neuron %s channel %d (%d,%d): field rows %d-%d cols %d-%d: %d values changed inside, %d outside\n", layer,
               n, y, x, box[0], box[2], box[1], box[3], changed_in, changed_out);
        assert_int_equal(changed_out, 0);
        active += changed_in > 0;
    }
    /* Through the leak every unit has a gradient, also those off on the start image. */
    assert_int_equal(active, NEURONS);
    cnv_render_result_free(&res);
}

static void test_neuron_stays_in_field(void **state) {
    cnv_graph *g = NULL;
    assert_int_equal(cnv_model_load(squeezenet(), &g), CNV_OK);
    cnv_backend *be = tu_backend_create("cpu");
    const char *layers[] = {"conv1", "fire3/concat", "fire6/concat", "fire9/concat"};
    for (int i = 0; i < 4; i++) check_neuron_field(be, g, layers[i]);
    cnv_backend_free(be);
    cnv_model_free(g);
}

/* The leaky twin of a Concat of ReLUs (fire2): slope 0 is the layer, slope 1 the values before
 * the ReLUs, in between a node appended once whose output is the pre-ReLU value where positive and
 * slope times it elsewhere; the layer is the twin's positive part. */
static void test_leaky_twin(void **state) {
    cnv_graph *g = NULL;
    assert_int_equal(cnv_model_load(squeezenet(), &g), CNV_OK);
    int node;
    assert_int_equal(cnv_model_find_layer(g, "fire2/concat", &node), CNV_OK);
    assert_int_equal(cnv_graph_leaky_twin(g, node, 0.0f), node);
    int pre = cnv_graph_leaky_twin(g, node, 1.0f);
    assert_int_equal(pre, cnv_graph_pre_relu(g, node));
    assert_true(pre != node);
    int twin = cnv_graph_leaky_twin(g, node, 0.25f);
    assert_true(twin >= 0 && twin != pre && twin != node);
    const int nodes = g->n_nodes;
    assert_int_equal(cnv_graph_leaky_twin(g, node, 0.25f), twin);
    assert_int_equal(g->n_nodes, nodes);
    cnv_backend *be = tu_backend_create("cpu");
    cnv_exec *ex;
    assert_int_equal(cnv_exec_create(g, be, 1, &ex), CNV_OK);
    const size_t in_n = 3 * 227 * 227;
    float *in = malloc(in_n * sizeof *in);
    assert_non_null(in);
    cnv_rng rng;
    cnv_rng_seed(&rng, 7);
    tu_fill_uniform(&rng, in, in_n, -2.0f, 2.0f);
    assert_int_equal(cnv_exec_set_input(ex, in), CNV_OK);
    /* A forward pass runs the nodes its target needs: the layer and the twin are on two branches. */
    assert_int_equal(cnv_exec_forward(ex, node), CNV_OK);
    assert_int_equal(cnv_exec_forward(ex, twin), CNV_OK);
    size_t n = cnv_shape_numel(&g->values[g->nodes[node].out].shape);
    float *layer = malloc(n * sizeof *layer), *x = malloc(n * sizeof *x), *t = malloc(n * sizeof *t);
    assert_true(layer && x && t);
    assert_int_equal(cnv_exec_read(ex, g->nodes[node].out, layer), CNV_OK);
    assert_int_equal(cnv_exec_read(ex, g->nodes[pre].out, x), CNV_OK);
    assert_int_equal(cnv_exec_read(ex, g->nodes[twin].out, t), CNV_OK);
    size_t negative = 0;
    for (size_t i = 0; i < n; i++) {
        negative += x[i] < 0;
        assert_float_equal(t[i], x[i] > 0 ? x[i] : 0.25f * x[i], 1e-6);
        assert_float_equal(layer[i], t[i] > 0 ? t[i] : 0.0f, 1e-6);
    }
    printf("fire2 leaky twin: %zu of %zu values negative before the ReLU\n", negative, n);
    assert_true(negative > n / 10 && negative < n - n / 10);
    free(in), free(layer), free(x), free(t);
    cnv_exec_free(ex);
    cnv_backend_free(be);
    cnv_model_free(g);
}

/* One-line errors with exit 2 and no output file. */
static void expect_usage_error(const char *args, const char *needle) {
    char out[4096], err[4096], cmd[2048];
    snprintf(cmd, sizeof cmd, "%s -o %s/vis_bad.png --device cpu", args, CNNVIS_BINARY_DIR);
    int rc = tu_run_cli(cmd, out, sizeof out, err, sizeof err);
    printf("%s -> %d: %s", args, rc, err);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(err, needle));
    assert_null(strchr(err, '\n') == err + strlen(err) - 1 ? NULL : strchr(err, '\n'));
    char path[1024];
    snprintf(path, sizeof path, "%s/vis_bad.png", CNNVIS_BINARY_DIR);
    assert_null(fopen(path, "r"));
}

static void test_bad_options(void **state) {
    char m[1200];
    snprintf(m, sizeof m, "%s", squeezenet());
    char args[1600];
    snprintf(args, sizeof args, "filter %s --layer nosuch --channel 0", m);
    expect_usage_error(args, "nosuch");
    snprintf(args, sizeof args, "filter %s --layer conv1 --channel 64", m);
    expect_usage_error(args, "64");
    snprintf(args, sizeof args, "class %s --class 1000", m);
    expect_usage_error(args, "1000");
    snprintf(args, sizeof args, "class %s --class nosuchclass", m);
    expect_usage_error(args, "nosuchclass");
    snprintf(args, sizeof args, "class %s --class 1 --size 100", m);
    expect_usage_error(args, "the model's input is fixed at 1x3x227x227; it cannot run at 100x100");
    snprintf(args, sizeof args, "class %s --class 1 --steps 0", m);
    expect_usage_error(args, "steps");
    snprintf(args, sizeof args, "class %s --class 1 --steps -3", m);
    expect_usage_error(args, "steps");
    snprintf(args, sizeof args, "neuron %s --layer conv1 --channel 0 --position 500,1", m);
    expect_usage_error(args, "position");
    snprintf(args, sizeof args, "filter %s --layer conv1 --channel 0 --octaves 3", m);
    expect_usage_error(args, "octaves need the pixel parameterization");
    snprintf(args, sizeof args, "filter %s --layer conv1 --channel 0 --fourier off --octaves 3 --octave-scale 0.5", m);
    expect_usage_error(args, "--octave-scale");
    snprintf(args, sizeof args, "filter %s --layer conv1 --channel 0 --lr-decay sometimes", m);
    expect_usage_error(args, "--lr-decay");
    snprintf(args, sizeof args, "class %s --class 1 --image-prior /nonexistent --fourier off --sigmoid off", m);
    expect_usage_error(args, "/nonexistent");
    snprintf(args, sizeof args, "class %s --class 1 --image-prior /nonexistent", m);
    expect_usage_error(args, "--fourier off --sigmoid off");
    snprintf(args, sizeof args, "filter %s --layer conv1 --channel 0 --relu-slope 2", m);
    expect_usage_error(args, "--relu-slope");
    snprintf(args, sizeof args, "filter %s --layer conv1 --channel 0 --relu-slope steep", m);
    expect_usage_error(args, "--relu-slope");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_leaky_twin),
        cmocka_unit_test(test_neuron_stays_in_field),
        cmocka_unit_test(test_seed_and_backends_agree),
    };
    return cmocka_run_group_tests_name("vis", tests, NULL, NULL);
}
