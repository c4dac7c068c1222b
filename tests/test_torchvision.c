/* torchvision's classification CNNs against PyTorch, on the CPU backend: every model the sweep of
 * tests/fixtures/make_torchvision_sweep.py exported into the build folder (the torchvision_export
 * test runs it first and keeps its output), with a batch of 2 non-square images. For each model:
 * - it loads at the exported size, or it is refused for one of the reasons listed in `refusals`
 *   below (printed in full); a listed model that loads, or an unlisted one that is refused,
 *   fails the test, so the list has to follow the importer;
 * - its logits are within 1e-4 (relative) of PyTorch's float64 logits, every model's (the sweep
 *   seeds each so that PyTorch's own float32 is within 6e-6: EfficientNet's residual branches
 *   are damped there, as trained ones are, which keeps its activations O(1));
 * - the input gradient of sum_n logits[n, classes[n]] is within max(3 x PyTorch float32's own
 *   error against float64, the kink error, 1e-3) of PyTorch's float64 gradient. The kink error
 *   (make_torchvision_sweep.py) is how far float64's gradient moves when all the decisions
 *   within 1e-4 (of the tensor's RMS) of a ReLU's 0, a ReLU6's bounds or a max-pool tie are taken the other way
 *   (float32's values are within about 1e-6 of float64's, so it can flip only some of them):
 *   float32 takes some of them either way (vgg16_bn's 4e-3 of issue 13 was two max-pool windows
 *   whose two largest values were 9e-7 and 8e-7 apart, tests/fixtures/check_vgg_kinks.py), and
 *   whether PyTorch's own float32 happens to take them as float64 does is luck: its error is
 *   1e-6 on one input and 1e-2 on the next;
 * - exported with a symbolic height and width, it is loaded again at the transposed size
 *   (cnv_model_load_sized) and checked there the same way; exported at a fixed size (AlexNet,
 *   VGG), it refuses the transposed size with one line naming the size it expects.
 * - cnnvis detects the imagenet-torchvision preset for it (RGB, 0..1, ImageNet mean/std);
 * - the models of `on_vulkan` are checked the same way on the Vulkan backend (lavapipe here);
 * - the verbs run on it (test_verbs): class and filter a few plain steps at --size (the exported
 *   size for a fixed model), gradcam and maps on the exported batch of 2; each exits 0, and the
 *   objective rises unless the render reports that its gradient vanished (then the warning is on
 *   stderr and the item in the sidecar's no_gradient).
 * The last line counts the models that load and match and those refused, with the reasons.
 * CNNVIS_TORCHVISION_DIR names another sweep's folder (the --all sweep, which CI does not export). */
#include "cli_check.h"
#include "test_util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cnnvis/cnnvis.h"
#include "core/exec.h"
#include "core/graph.h"
#include "io/npy.h"
#include "models/preset.h"

#define LOGITS_TOLERANCE 1e-4
#define GRAD_TOLERANCE_FLOOR 1e-3
#define GRAD_NOISE_FACTOR 3.0

/* The models cnnvis refuses today, by the start of their names (a family: the sweep's --all
 * exports every member), with a piece of the message it gives. As ops land, entries leave this
 * list: the test fails on any model listed here that loads, and on any other that does not. */
static const struct refusal {
    const char *prefix, *reason;
} refusals[] = {
    /* None left: every model of the sweep loads. The list ends at the NULL entry. */
    {NULL, NULL},
};

/* Models also run on Vulkan (lavapipe here) against PyTorch, one for each op that the CPU-only
 * sweep would leave untested on the GPU path, by name. */
static const char *const on_vulkan[] = {
    "efficientnet_b0",    /* Mul of two computed tensors: SiLU, squeeze-and-excite */
    "mobilenet_v3_small", /* HardSwish, HardSigmoid */
    "densenet121",        /* Concat of up to 25 inputs */
    "mnasnet0_5",         /* ReduceMean (its global pool) */
};
#define N_ON_VULKAN (sizeof on_vulkan / sizeof on_vulkan[0])

static int runs_on_vulkan(const char *model) {
    for (size_t i = 0; i < N_ON_VULKAN; i++)
        if (!strcmp(on_vulkan[i], model)) return 1;
    return 0;
}

static const char *manifest_dir = CNNVIS_BINARY_DIR "/torchvision";
static json_t *manifest;

/* Counts for the closing line, and the refusal messages seen. */
static int n_matched, n_refused;
static char refusal_log[8192];

static const char *expected_refusal(const char *model) {
    for (size_t i = 0; refusals[i].prefix; i++)
        if (!strncmp(refusals[i].prefix, model, strlen(refusals[i].prefix))) return refusals[i].reason;
    return NULL;
}

static const char *entry_string(const json_t *obj, const char *key) {
    const char *s = json_string_value(json_object_get(obj, key));
    if (!s) fail_msg("manifest.json: missing string \"%s\"", key);
    return s;
}

static double entry_number(const json_t *obj, const char *key) {
    const json_t *v = json_object_get(obj, key);
    if (!json_is_number(v)) fail_msg("manifest.json: missing number \"%s\"", key);
    return json_number_value(v);
}

static const char *manifest_file(const char *relative) {
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", manifest_dir, relative);
    return path;
}

static float *read_npy(const char *relative, cnv_shape *shape) {
    float *data = NULL;
    cnv_status s = cnv_npy_read(manifest_file(relative), &data, shape);
    if (s != CNV_OK) fail_msg("%s: %s", relative, cnv_last_error());
    return data;
}

/* Loads `model` at the run's size and checks logits and input gradient against the run's
 * references; prints one line. Returns 1 when both are within tolerance. */
static int check_run(const json_t *entry, const json_t *run, cnv_backend *be, const char *what) {
    const char *name = entry_string(entry, "name");
    const json_t *classes = json_object_get(run, "classes");
    cnv_shape in_shape, ref_shape;
    float *input = read_npy(entry_string(run, "input"), &in_shape);
    float *ref_logits = read_npy(entry_string(run, "logits"), &ref_shape);
    float *ref_grad = read_npy(entry_string(run, "grad"), &in_shape);
    cnv_graph *g = NULL;
    cnv_exec *ex = NULL;
    tu_expect_ok(cnv_model_load_sized(manifest_file(entry_string(entry, "model")), in_shape.d[2], in_shape.d[3], &g));
    tu_expect_ok(cnv_exec_create(g, be, in_shape.d[0], &ex));
    tu_expect_ok(cnv_exec_set_input(ex, input));
    tu_expect_ok(cnv_exec_forward(ex, g->values[g->output].producer));
    const cnv_shape *out_shape = &ex->shapes[g->output];
    if (!cnv_shape_equal(out_shape, &ref_shape)) {
        char a[64], b[64];
        fail_msg("%s: logits are %s, PyTorch's %s", name, cnv_shape_str(out_shape, a, sizeof a),
                 cnv_shape_str(&ref_shape, b, sizeof b));
    }
    size_t n_logits = cnv_shape_numel(&ref_shape), n_in = cnv_shape_numel(&in_shape);
    float *logits = tu_calloc(n_logits, sizeof *logits);
    float *seed = tu_calloc(n_logits, sizeof *seed);
    float *grad = tu_calloc(n_in, sizeof *grad);
    tu_expect_ok(cnv_exec_read(ex, g->output, logits));
    /* The objective is sum over n of logits[n, classes[n]]. */
    if (ref_shape.ndim != 2 || json_array_size(classes) != (size_t)ref_shape.d[0])
        fail_msg("%s: manifest.json: \"classes\" does not give one class per item", name);
    for (int n = 0; n < ref_shape.d[0]; n++) {
        json_int_t c = json_integer_value(json_array_get(classes, (size_t)n));
        if (c < 0 || c >= ref_shape.d[1]) fail_msg("%s: class %d out of range", name, (int)c);
        seed[(size_t)n * (size_t)ref_shape.d[1] + (size_t)c] = 1.0f;
    }
    tu_expect_ok(cnv_exec_backward(ex, g->output, seed, 0));
    tu_expect_ok(cnv_exec_read_grad(ex, g->input, grad));
    double logits_err = tu_rel_error(logits, ref_logits, n_logits);
    double grad_err = tu_rel_error(grad, ref_grad, n_in);
    double grad_noise = entry_number(run, "grad_fp32_error"), kinks = entry_number(run, "grad_kink_error");
    /* The kink error flips every near decision at once, more than float32 ever does: no factor. */
    double grad_tol = GRAD_NOISE_FACTOR * grad_noise > kinks ? GRAD_NOISE_FACTOR * grad_noise : kinks;
    if (grad_tol < GRAD_TOLERANCE_FLOOR) grad_tol = GRAD_TOLERANCE_FLOOR;
    int pass = logits_err < LOGITS_TOLERANCE && grad_err < grad_tol;
    printf("  %-20s %-9s %dx%dx%dx%d  logits %.1e (tol %.1e, torch fp32 %.1e)  grad %.1e (tol %.1e; torch fp32 "
           "%.1e, kinks %.1e)  %s\n",
           name, what, in_shape.d[0], in_shape.d[1], in_shape.d[2], in_shape.d[3], logits_err, LOGITS_TOLERANCE,
           entry_number(run, "logits_fp32_error"), grad_err, grad_tol, grad_noise, kinks, pass ? "ok" : "FAIL");
    free(grad);
    free(seed);
    free(logits);
    cnv_exec_free(ex);
    cnv_model_free(g);
    free(ref_grad);
    free(ref_logits);
    free(input);
    return pass;
}

/* A model exported at a fixed size must refuse another one with a line naming its own size. */
static int check_fixed_refuses(const json_t *entry, const json_t *run) {
    const json_t *shape = json_object_get(run, "input_shape");
    int h = (int)json_integer_value(json_array_get(shape, 2)), w = (int)json_integer_value(json_array_get(shape, 3));
    char expected[64];
    snprintf(expected, sizeof expected, "fixed at 1x3x%dx%d", h, w);
    cnv_graph *g = NULL;
    cnv_status s = cnv_model_load_sized(manifest_file(entry_string(entry, "model")), w, h, &g);
    int pass = s == CNV_ERR_SHAPE && strstr(cnv_last_error(), expected) && !strchr(cnv_last_error(), '\n');
    printf("  %-20s %-9s %dx%d refused: %s  %s\n", entry_string(entry, "name"), "resized", w, h,
           s == CNV_OK ? "(it loaded)" : cnv_last_error(), pass ? "ok" : "FAIL");
    cnv_model_free(g);
    return pass;
}

static void test_model(void **state) {
    const json_t *entry = *state;
    const char *name = entry_string(entry, "name");
    const char *listed = expected_refusal(name);
    const json_t *runs = json_object_get(entry, "runs");
    const json_t *first = json_array_get(runs, 0);
    cnv_graph *g = NULL;
    const json_t *shape = json_object_get(first, "input_shape");
    cnv_status s = cnv_model_load_sized(manifest_file(entry_string(entry, "model")),
                                        (int)json_integer_value(json_array_get(shape, 2)),
                                        (int)json_integer_value(json_array_get(shape, 3)), &g);
    /* Every torchvision export gets torchvision's ImageNet input by itself (models/preset.c). */
    char why[320];
    const cnv_preset *preset = s == CNV_OK ? cnv_preset_detect_why(g, why, sizeof why) : NULL;
    cnv_model_free(g);
    if (s != CNV_OK) {
        const char *msg = cnv_last_error();
        int as_listed = listed && strstr(msg, listed);
        printf("  %-20s refused: %s  %s\n", name, msg, as_listed ? "(listed)" : "FAIL: not listed as refused");
        size_t used = strlen(refusal_log);
        snprintf(refusal_log + used, sizeof refusal_log - used, "  %s: %s\n", name, msg);
        n_refused++;
        if (!as_listed) fail_msg("%s: refused, and not for the listed reason \"%s\"", name, listed ? listed : "(none)");
        return;
    }
    printf("  %-20s preset %s (%s)\n", name, preset ? preset->name : "none", why);
    if (!preset || (strcmp(preset->name, "imagenet-torchvision") && strcmp(preset->name, "vgg16-torchvision")))
        fail_msg("%s: the torchvision preset is not detected", name);
    cnv_backend *be = NULL;
    tu_expect_ok(cnv_backend_cpu_create(&be));
    int pass = check_run(entry, first, be, "exported");
    const json_t *resized = json_array_get(runs, 1);
    pass &= resized ? check_run(entry, resized, be, "resized") : check_fixed_refuses(entry, first);
    cnv_backend_free(be);
    if (runs_on_vulkan(name)) {
        be = tu_backend_create("vulkan");
        pass &= check_run(entry, first, be, "vulkan");
        tu_backend_free(be);
    }
    if (listed) fail_msg("%s: loads now; remove it from the refusals of tests/test_torchvision.c", name);
    if (!pass) fail_msg("%s: does not match PyTorch", name);
    n_matched++;
}

/* Runs the CLI with args; fails the test unless it exits 0. */
static void run_cli_ok(const char *args, char *err, size_t err_cap) {
    static char out[65536];
    int rc = tu_run_cli(args, out, sizeof out, err, err_cap);
    if (rc != 0) fail_msg("cnnvis %s: exit %d: %s", args, rc, err);
}

/* A class or filter render of item 0 written to png (sidecar beside it): the objective rose,
 * or the render said it could not (a warning on stderr, the item in no_gradient). */
static void check_render(const char *name, const char *verb, const char *png, const char *err) {
    json_t *root;
    const json_t *run = tu_sidecar_run(png, &root);
    double start = tu_run_value(run, "start"), final = tu_run_value(run, "final");
    double grad = tu_run_value(run, "grad_max_abs");
    const json_t *stalled = json_object_get(run, "no_gradient");
    if (!json_is_array(stalled)) fail_msg("%s: no \"no_gradient\" list in its sidecar", png);
    int warned = strstr(err, "warning: item 0") != NULL, vanished = json_array_size(stalled) > 0;
    printf("  %-20s %-7s objective %.4g -> %.4g, first |grad| max %.2g%s\n", name, verb, start, final, grad,
           vanished ? ": the gradient vanished (warned)" : "");
    if (warned != vanished) fail_msg("%s %s: warning on stderr %d, no_gradient in the sidecar %d", name, verb, warned, vanished);
    if (!vanished && !(final > start)) fail_msg("%s %s: the objective did not rise (%g -> %g)", name, verb, start, final);
    json_decref(root);
}

/* Each of the pictures item_0 and item_1 of a batch output exists. */
static void check_items_written(const char *path) {
    for (int i = 0; i < 2; i++) {
        char item[4096];
        snprintf(item, sizeof item, "%.*s_item%d.png", (int)(strlen(path) - 4), path, i);
        FILE *f = fopen(item, "rb");
        if (!f) fail_msg("%s was not written", item);
        fclose(f);
    }
}

/* Steps of the class and filter renders: enough for plain gradient ascent to move the objective. */
#define VERB_STEPS 3

static void test_verbs(void **state) {
    const json_t *entry = *state;
    const char *name = entry_string(entry, "name");
    const json_t *runs = json_object_get(entry, "runs");
    if (expected_refusal(name)) skip();
    const json_t *run = json_array_get(runs, 0), *shape = json_object_get(run, "input_shape");
    int h = (int)json_integer_value(json_array_get(shape, 2)), w = (int)json_integer_value(json_array_get(shape, 3));
    /* A model with a free size renders squares of its smaller side; a fixed one at its own size. */
    int side = h < w ? h : w, dynamic = json_array_size(runs) > 1;
    char model[4096], input[4096], dir[4096], out[4400], size[32] = "", args[16384], err[8192];
    snprintf(model, sizeof model, "%s", manifest_file(entry_string(entry, "model")));
    snprintf(input, sizeof input, "%s", manifest_file(entry_string(run, "input")));
    if (dynamic) snprintf(size, sizeof size, "--size %d", side);
    cnv_graph *g = NULL;
    tu_expect_ok(cnv_model_load_sized(model, dynamic ? side : 0, dynamic ? side : 0, &g));
    /* The filter: channel 0 of the last map layer in the first half of the graph. */
    int layer = cnv_graph_last_map_node(g, g->n_nodes / 2);
    if (layer < 0) fail_msg("%s: no map layer in the first half", name);
    char layer_name[256];
    snprintf(layer_name, sizeof layer_name, "%s", g->nodes[layer].name);
    cnv_model_free(g);
    int cls = (int)json_integer_value(json_array_get(json_object_get(run, "classes"), 0));

    snprintf(dir, sizeof dir, "%s", manifest_file("verbs"));
    if (mkdir(dir, 0777) && errno != EEXIST) fail_msg("%s: %s", dir, strerror(errno));
    snprintf(out, sizeof out, "%.4095s/%.200s_class.png", dir, name);
    snprintf(args, sizeof args, "class '%s' --class %d --recipe plain --steps %d %s --device cpu -o '%s'", model, cls,
             VERB_STEPS, size, out);
    run_cli_ok(args, err, sizeof err);
    check_render(name, "class", out, err);
    snprintf(out, sizeof out, "%.4095s/%.200s_filter.png", dir, name);
    snprintf(args, sizeof args, "filter '%s' --layer '%s' --channel 0 --recipe plain --steps %d %s --device cpu -o '%s'",
             model, layer_name, VERB_STEPS, size, out);
    run_cli_ok(args, err, sizeof err);
    check_render(name, "filter", out, err);
    snprintf(out, sizeof out, "%.4095s/%.200s_gradcam.png", dir, name);
    snprintf(args, sizeof args, "gradcam '%s' '%s' --device cpu -o '%s'", model, input, out);
    run_cli_ok(args, err, sizeof err);
    check_items_written(out);
    snprintf(out, sizeof out, "%.4095s/%.200s_maps.png", dir, name);
    snprintf(args, sizeof args, "maps '%s' '%s' --layer '%s' --channels 0-3 --device cpu -o '%s'", model, input,
             layer_name, out);
    run_cli_ok(args, err, sizeof err);
    check_items_written(out);
    printf("  %-20s gradcam and maps: 2 pictures each from the %dx%d batch\n", name, h, w);
}

/* The first model of the manifest that is not refused and has (dynamic) or lacks (fixed) a
 * second run, or NULL. */
static const json_t *first_loaded(int dynamic) {
    const json_t *models = json_object_get(manifest, "models"), *e;
    size_t i;
    json_array_foreach(models, i, e) {
        const json_t *runs = json_object_get(e, "runs");
        const char *name = json_string_value(json_object_get(e, "name"));
        if (runs && name && !expected_refusal(name) && (json_array_size(runs) > 1) == dynamic) return e;
    }
    return NULL;
}

/* The CLI: `info` names the preset and why, and says the size is free; `forward` on a .npy of
 * another size loads a dynamic model at that size and gives PyTorch's logits; a fixed model
 * refuses that .npy with one line naming its size. */
static void test_cli_sizes(void **state) {
    (void)state;
    const json_t *dyn = first_loaded(1), *fixed = first_loaded(0);
    if (!dyn || !fixed) skip();
    const json_t *run = json_array_get(json_object_get(dyn, "runs"), 1);
    cnv_shape shape, ref_shape;
    float *input = read_npy(entry_string(run, "input"), &shape);
    float *ref = read_npy(entry_string(run, "logits"), &ref_shape);
    shape.d[0] = 1; /* item 0 */
    char item[4096], out_npy[4096], args[16384], out[65536], err[8192];
    snprintf(item, sizeof item, "%s", manifest_file("cli_item.npy"));
    snprintf(out_npy, sizeof out_npy, "%s", manifest_file("cli_logits.npy"));
    tu_expect_ok(cnv_npy_write(item, input, &shape));

    char model[4096];
    snprintf(model, sizeof model, "%s", manifest_file(entry_string(dyn, "model")));
    snprintf(args, sizeof args, "info '%s'", model);
    int rc = tu_run_cli(args, out, sizeof out, err, sizeof err);
    if (rc != 0) fail_msg("info exited %d: %s", rc, err);
    assert_non_null(strstr(out, "preset: imagenet-torchvision (detected: node names as torch.onnx.export writes them"));
    assert_non_null(strstr(out, "(height and width symbolic in the file"));

    snprintf(args, sizeof args, "forward '%s' '%s' --device cpu --save-tensor '%s'", model, item, out_npy);
    rc = tu_run_cli(args, out, sizeof out, err, sizeof err);
    if (rc != 0) fail_msg("forward exited %d: %s", rc, err);
    float *got = read_npy("cli_logits.npy", &shape);
    double e = tu_rel_error(got, ref, (size_t)ref_shape.d[1]);
    const json_t *hw = json_object_get(run, "input_shape");
    printf("  cli: forward %s at %dx%d: logits of item 0 within %.1e of PyTorch\n", entry_string(dyn, "name"),
           (int)json_integer_value(json_array_get(hw, 2)), (int)json_integer_value(json_array_get(hw, 3)), e);
    assert_true(e < LOGITS_TOLERANCE);
    free(got);

    /* The whole batch of 2 at once: both items' logits. */
    char batch[4096];
    snprintf(batch, sizeof batch, "%s", manifest_file(entry_string(run, "input")));
    snprintf(args, sizeof args, "forward '%s' '%s' --device cpu --save-tensor '%s'", model, batch, out_npy);
    rc = tu_run_cli(args, out, sizeof out, err, sizeof err);
    if (rc != 0) fail_msg("forward exited %d: %s", rc, err);
    got = read_npy("cli_logits.npy", &shape);
    assert_true(cnv_shape_equal(&shape, &ref_shape));
    e = tu_rel_error(got, ref, cnv_shape_numel(&ref_shape));
    printf("  cli: forward %s on the batch of %d: logits within %.1e of PyTorch\n", entry_string(dyn, "name"),
           ref_shape.d[0], e);
    assert_true(e < LOGITS_TOLERANCE);

    snprintf(args, sizeof args, "forward '%s' '%s' --device cpu", manifest_file(entry_string(fixed, "model")), item);
    rc = tu_run_cli(args, out, sizeof out, err, sizeof err);
    printf("  cli: forward %s: exit %d: %s", entry_string(fixed, "name"), rc, err);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(err, "the model's input is fixed at 1x3x"));
    assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1); /* one line */
    free(got);
    free(ref);
    free(input);
}

int main(void) {
    json_error_t jerr;
    /* Another sweep's folder (make_torchvision_sweep.py OUT --all, which the build does not run). */
    const char *other = getenv("CNNVIS_TORCHVISION_DIR");
    if (other && *other) manifest_dir = other;
    const char *path = manifest_file("manifest.json");
    manifest = json_load_file(path, 0, &jerr);
    const json_t *models = json_object_get(manifest, "models");
    if (!manifest || !json_array_size(models)) {
        fprintf(stderr, "%s: %s (the torchvision_export test writes it: ctest -R torchvision)\n", path,
                manifest ? "no models" : jerr.text);
        json_decref(manifest);
        return TU_SKIP_EXIT;
    }
    size_t n = json_array_size(models);
    struct CMUnitTest *tests = calloc(2 * n + 1, sizeof *tests);
    char (*verb_names)[96] = calloc(n, sizeof *verb_names);
    if (!tests || !verb_names) return 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *entry = json_array_get(models, i);
        const char *name = json_string_value(json_object_get(entry, "name"));
        snprintf(verb_names[i], sizeof verb_names[i], "verbs: %s", name ? name : "?");
        /* cmocka hands initial_state to the test as *state; it is never written through. */
        tests[i] = (struct CMUnitTest){name ? name : "?", test_model, NULL, NULL, (void *)entry};
        tests[n + 1 + i] = (struct CMUnitTest){verb_names[i], test_verbs, NULL, NULL, (void *)entry};
    }
    tests[n] = (struct CMUnitTest){"cli: sizes", test_cli_sizes, NULL, NULL, NULL};
    int failed = _cmocka_run_group_tests("torchvision", tests, 2 * n + 1, NULL, NULL);
    free(verb_names);
    printf("%d load and match, %d refused:\n%s", n_matched, n_refused, refusal_log);
    free(tests);
    json_decref(manifest);
    return failed;
}
