/* The CPU and Vulkan backends against PyTorch on the small networks of tests/fixtures/torch
 * (make_torch_fixtures.py: VGG-like, branches) and tests/fixtures/torch_arch
 * (make_torch_arch_fixtures.py: ResNet, MobileNet and Inception blocks) and tests/fixtures/torch_norm
 * (make_torch_norm_fixtures.py: instance and layer norms, a global max pool): the output of every
 * layer, and the input gradients of a few objectives. What to compare and how closely comes from
 * each folder's manifest.json, so this file holds no expected numbers. Every comparison is
 * printed; a test fails after printing them all. The CPU runs first; the Vulkan backend
 * (llvmpipe unless CNNVIS_TEST_DEVICE says otherwise, validation on) runs the same tests, and
 * is skipped with exit 77 only when there is no Vulkan device. */
#include "test_util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnvis/cnnvis.h"
#include "core/graph.h"
#include "io/npy.h"

/* The fixture folders under tests/fixtures, each with a manifest.json. */
static const char *const manifest_dirs[] = {"torch", "torch_arch", "torch_norm"};
#define N_MANIFESTS (sizeof manifest_dirs / sizeof manifest_dirs[0])

/* The backend the running group uses: "cpu" or "vulkan", created by the group setup. */
static const char *backend_name;
static cnv_backend *backend;

/* One model of a manifest: its entry and the folder its files are relative to. */
typedef struct model_ref {
    const json_t *entry; /* borrowed from the manifest */
    const char *dir;
} model_ref;

/* One model, loaded, with an executor whose input is set. */
typedef struct fixture {
    const json_t *entry;
    const char *dir;
    const char *name;
    cnv_graph *g;
    cnv_exec *ex;
} fixture;

/* Path of a file named in a manifest (relative to the manifest's folder). */
static const char *fixture_file(const char *dir, const char *relative) {
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, relative);
    return tu_fixture_path(path);
}

static const char *manifest_string(const json_t *obj, const char *key) {
    const char *s = json_string_value(json_object_get(obj, key));
    if (!s) fail_msg("manifest.json: missing string \"%s\"", key);
    return s;
}

static int manifest_int(const json_t *obj, const char *key) {
    const json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v)) fail_msg("manifest.json: missing integer \"%s\"", key);
    return (int)json_integer_value(v);
}

static double manifest_number(const json_t *obj, const char *key) {
    const json_t *v = json_object_get(obj, key);
    if (!json_is_number(v)) fail_msg("manifest.json: missing number \"%s\"", key);
    return json_number_value(v);
}

static const json_t *manifest_array(const json_t *obj, const char *key) {
    const json_t *v = json_object_get(obj, key);
    if (!json_is_array(v)) fail_msg("manifest.json: missing array \"%s\"", key);
    return v;
}

static void check_ok(cnv_status s, const char *what) {
    if (s != CNV_OK) fail_msg("%s: %s: %s", what, cnv_status_str(s), cnv_last_error());
}

/* Reads a reference .npy named by `key` of `obj`; checks it holds `expect` floats when expect
 * is non-NULL. Returns malloc'ed data. */
static float *read_reference(const fixture *f, const json_t *obj, const char *key, const cnv_shape *expect) {
    const char *file = manifest_string(obj, key);
    float *data = NULL;
    cnv_shape shape;
    check_ok(cnv_npy_read(fixture_file(f->dir, file), &data, &shape), file);
    if (expect && !cnv_shape_equal(&shape, expect)) {
        char a[64], b[64];
        free(data);
        fail_msg("%s: reference is %s, cnnvis infers %s", file, cnv_shape_str(&shape, a, sizeof a),
                 cnv_shape_str(expect, b, sizeof b));
    }
    return data;
}

static int find_tensor(const fixture *f, const char *tensor) {
    int v = cnv_graph_find_value(f->g, tensor);
    if (v < 0) fail_msg("%s: the loaded graph has no tensor \"%s\"", f->name, tensor);
    if (f->g->values[v].producer < 0) fail_msg("%s: tensor \"%s\" is not a layer output", f->name, tensor);
    return v;
}

/* Prints one comparison; returns 1 when it is within the manifest's tolerance. */
static int compare(const fixture *f, const char *label, const json_t *ref_entry, const float *got,
                   const float *ref, size_t n) {
    double tol = manifest_number(ref_entry, "tolerance");
    double noise = manifest_number(ref_entry, "fp32_noise");
    double err = tu_rel_error(got, ref, n);
    int pass = err < tol;
    printf("  %-6s %-15s %-32s rel err %.2e  tol %.0e  (torch fp32 vs fp64 %.1e)  %s\n", backend_name, f->name, label,
           err, tol, noise, pass ? "ok" : "FAIL");
    return pass;
}

static int setup_fixture(void **state) {
    const model_ref *ref = *state;
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->entry = ref->entry;
    f->dir = ref->dir;
    f->name = manifest_string(f->entry, "name");
    *state = f;
    check_ok(cnv_model_load(fixture_file(f->dir, manifest_string(f->entry, "model")), &f->g), f->name);
    check_ok(cnv_exec_create(f->g, backend, 1, &f->ex), f->name);
    float *input = read_reference(f, f->entry, "input", &f->g->values[f->g->input].shape);
    cnv_status s = cnv_exec_set_input(f->ex, input);
    free(input);
    check_ok(s, f->name);
    return 0;
}

static int teardown_fixture(void **state) {
    fixture *f = *state;
    if (f) {
        if (f->ex) cnv_exec_free(f->ex);
        if (f->g) cnv_model_free(f->g);
        free(f);
    }
    return 0;
}

/* A conv output the manifest marks "folded_into": a BatchNormalization that reads only it.
 * cnnvis folds that BN into the conv at load, so the conv itself must now compute the BN's
 * output (whose values the BN's own manifest entry checks). Returns 1 when it does. */
static int check_folded(const fixture *f, const char *tensor, const char *bn_tensor) {
    int v = find_tensor(f, bn_tensor);
    cnv_op_type op = f->g->nodes[f->g->values[v].producer].op;
    int pass = op == CNV_OP_CONV && cnv_graph_find_value(f->g, tensor) < 0;
    printf("  %-6s %-15s %-32s BatchNormalization folded into it: %s\n", backend_name, f->name, tensor,
           pass ? "ok" : "FAIL");
    return pass;
}

/* Every recorded layer output, each after a forward run to its own node. */
static void test_activations(void **state) {
    fixture *f = *state;
    const json_t *acts = manifest_array(f->entry, "activations");
    size_t i, failures = 0;
    const json_t *a;
    json_array_foreach(acts, i, a) {
        const char *tensor = manifest_string(a, "tensor");
        if (json_object_get(a, "folded_into")) {
            failures += !check_folded(f, tensor, manifest_string(a, "folded_into"));
            continue;
        }
        int v = find_tensor(f, tensor);
        const cnv_shape *shape = &f->g->values[v].shape;
        size_t n = cnv_shape_numel(shape);
        float *ref = read_reference(f, a, "file", shape);
        float *got = malloc(n * sizeof *got);
        assert_non_null(got);
        check_ok(cnv_exec_forward(f->ex, f->g->values[v].producer), tensor);
        check_ok(cnv_exec_read(f->ex, v, got), tensor);
        failures += !compare(f, tensor, a, got, ref, n);
        free(got);
        free(ref);
    }
    assert_true(json_array_size(acts) > 0);
    assert_int_equal(failures, 0);
}

/* The seed of an objective: d(objective)/d(tensor). "unit": element [0, index] of a 2-D tensor;
 * "channel_mean": the mean over H x W of channel `channel` of a 4-D tensor (batch 1). */
static float *objective_seed(const fixture *f, const json_t *obj, const cnv_shape *shape) {
    const char *kind = manifest_string(obj, "kind");
    float *seed = calloc(cnv_shape_numel(shape), sizeof *seed);
    assert_non_null(seed);
    if (strcmp(kind, "unit") == 0) {
        int index = manifest_int(obj, "index");
        if (shape->ndim != 2 || index < 0 || index >= shape->d[1])
            fail_msg("%s: unit %d does not fit its tensor", f->name, index);
        seed[index] = 1.0f;
    } else if (strcmp(kind, "channel_mean") == 0) {
        int channel = manifest_int(obj, "channel");
        if (shape->ndim != 4 || channel < 0 || channel >= shape->d[1])
            fail_msg("%s: channel %d does not fit its tensor", f->name, channel);
        size_t hw = (size_t)shape->d[2] * (size_t)shape->d[3];
        for (size_t i = 0; i < hw; i++) seed[(size_t)channel * hw + i] = 1.0f / (float)hw;
    } else {
        fail_msg("manifest.json: unknown objective kind \"%s\"", kind);
    }
    return seed;
}

/* Every recorded input gradient, one after the other on the same executor: a backward must
 * start from zero gradients, not add onto the previous objective's. */
static void test_input_gradients(void **state) {
    fixture *f = *state;
    const json_t *grads = manifest_array(f->entry, "gradients");
    const cnv_shape *in_shape = &f->g->values[f->g->input].shape;
    size_t n = cnv_shape_numel(in_shape), i, failures = 0;
    const json_t *obj;
    json_array_foreach(grads, i, obj) {
        const char *tensor = manifest_string(obj, "tensor");
        int v = find_tensor(f, tensor);
        float *seed = objective_seed(f, obj, &f->g->values[v].shape);
        float *ref = read_reference(f, obj, "file", in_shape);
        float *got = malloc(n * sizeof *got);
        assert_non_null(got);
        check_ok(cnv_exec_forward(f->ex, f->g->values[v].producer), tensor);
        check_ok(cnv_exec_backward(f->ex, v, seed, 0), tensor);
        check_ok(cnv_exec_read_grad(f->ex, f->g->input, got), tensor);
        const char *kind = manifest_string(obj, "kind");
        char label[96];
        snprintf(label, sizeof label, "d %s %s[%d] / d input", kind, tensor,
                 manifest_int(obj, strcmp(kind, "unit") == 0 ? "index" : "channel"));
        failures += !compare(f, label, obj, got, ref, n);
        free(got);
        free(ref);
        free(seed);
    }
    assert_true(json_array_size(grads) > 0);
    assert_int_equal(failures, 0);
}

static int setup_backend(void **state) {
    (void)state;
    backend = tu_backend_create(backend_name);
    return 0;
}

static int teardown_backend(void **state) {
    (void)state;
    tu_backend_free(backend);
    backend = NULL;
    return 0;
}

/* Reads every manifest; fills *models (borrowing the entries) and returns how many, or -1. */
static int load_manifests(json_t **manifests, model_ref **models) {
    size_t total = 0;
    for (size_t m = 0; m < N_MANIFESTS; m++) {
        char file[256];
        json_error_t jerr;
        snprintf(file, sizeof file, "%s/manifest.json", manifest_dirs[m]);
        const char *path = tu_fixture_path(file);
        manifests[m] = json_load_file(path, 0, &jerr);
        size_t n = json_array_size(json_object_get(manifests[m], "models"));
        if (!manifests[m] || n == 0) {
            fprintf(stderr, "%s:%d: %s (regenerate with tests/fixtures/make_%s_fixtures.py)\n", path, jerr.line,
                    manifests[m] ? "no models" : jerr.text, manifest_dirs[m]);
            return -1;
        }
        total += n;
    }
    *models = calloc(total, sizeof **models);
    if (!*models) return -1;
    size_t k = 0;
    for (size_t m = 0; m < N_MANIFESTS; m++) {
        const json_t *list = json_object_get(manifests[m], "models");
        for (size_t i = 0; i < json_array_size(list); i++)
            (*models)[k++] = (model_ref){json_array_get(list, i), manifest_dirs[m]};
    }
    return (int)total;
}

/* Two tests per model, named after the backend and the model; the list comes from the
 * manifests. Returns the number of failed tests. */
static int run_on_backend(const char *which, const model_ref *models, int n_models) {
    backend_name = which;
    struct CMUnitTest *tests = calloc(2 * (size_t)n_models, sizeof *tests);
    char (*names)[160] = calloc(2 * (size_t)n_models, sizeof *names);
    if (!tests || !names) {
        free(tests);
        free(names);
        return 1;
    }
    for (int i = 0; i < n_models; i++) {
        const char *name = json_string_value(json_object_get(models[i].entry, "name"));
        snprintf(names[2 * i], sizeof names[0], "%s: %s: activations", which, name ? name : "?");
        snprintf(names[2 * i + 1], sizeof names[0], "%s: %s: input gradients", which, name ? name : "?");
        /* cmocka hands initial_state to the setup as *state; it is never written through. */
        void *ref = (void *)&models[i];
        tests[2 * i] = (struct CMUnitTest){names[2 * i], test_activations, setup_fixture, teardown_fixture, ref};
        tests[2 * i + 1] =
            (struct CMUnitTest){names[2 * i + 1], test_input_gradients, setup_fixture, teardown_fixture, ref};
    }
    char group[64];
    snprintf(group, sizeof group, "torch_fixtures_%s", which);
    int failed = _cmocka_run_group_tests(group, tests, 2 * (size_t)n_models, setup_backend, teardown_backend);
    free(names);
    free(tests);
    return failed;
}

int main(void) {
    json_t *manifests[N_MANIFESTS] = {NULL};
    model_ref *models = NULL;
    int n_models = load_manifests(manifests, &models);
    /* The CPU is the reference: when it fails, the Vulkan run would only repeat the story. */
    int failed = n_models < 0 ? 1 : run_on_backend("cpu", models, n_models);
    if (!failed) failed = run_on_backend("vulkan", models, n_models);
    free(models);
    for (size_t m = 0; m < N_MANIFESTS; m++) json_decref(manifests[m]);
    return failed;
}
