/* Round trips of the PyTorch fixture models (and of the real Keras .h5 models of ../shared): every .onnx file in the tests/fixtures/torch* folders, written
 * again by `cnnvis convert` and read back, has the same layers (names, ops, in order) and computes bit for
 * bit the same value at every layer on the CPU backend; the written file passes onnx.checker.
 * These files are PyTorch's own exports (Constant nodes, BatchNormalization, Clip with min/max
 * inputs, Pad before AveragePool, LRN), unlike the graphs test_onnx_export.c builds. The list of
 * models is read from the folders, so a new fixture is covered without a change here. */
#include "model_run.h"
#include "test_util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/graph.h"

#define PYTHON "/usr/bin/python3"
#define OUT_DIR CNNVIS_BINARY_DIR "/test_roundtrip"
#define MAX_MODELS 64

typedef struct model_file {
    char path[1024];   /* the fixture */
    char output[1024]; /* what convert writes */
    char name[256];    /* folder/file, for messages and the test name */
} model_file;

static model_file models[MAX_MODELS];

static void check_ok(cnv_status st, const char *what) {
    if (st != CNV_OK) fail_msg("%s: %s: %s", what, cnv_status_str(st), cnv_last_error());
}

static int has_suffix(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const model_file *)a)->name, ((const model_file *)b)->name);
}

/* Every .onnx file in the fixture folders whose name starts with "torch"; sorted; -1 on error. */
static int find_models(void) {
    const char *root = CNNVIS_FIXTURE_DIR;
    DIR *top = opendir(root);
    if (!top) {
        fprintf(stderr, "%s: %s\n", root, strerror(errno));
        return -1;
    }
    int n = 0;
    for (struct dirent *d; (d = readdir(top));) {
        if (strncmp(d->d_name, "torch", 5) != 0) continue;
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", root, d->d_name);
        DIR *sub = opendir(dir);
        if (!sub) continue; /* a file, not a folder */
        for (struct dirent *e; (e = readdir(sub));) {
            if (!has_suffix(e->d_name, ".onnx")) continue;
            if (n == MAX_MODELS) {
                fprintf(stderr, "more than %d fixture models: raise MAX_MODELS\n", MAX_MODELS);
                closedir(sub);
                closedir(top);
                return -1;
            }
            model_file *m = &models[n++];
            snprintf(m->name, sizeof m->name, "%.120s/%.120s", d->d_name, e->d_name);
            snprintf(m->path, sizeof m->path, "%.700s/%.250s", dir, e->d_name);
            snprintf(m->output, sizeof m->output, "%s/%.120s_%.120s", OUT_DIR, d->d_name, e->d_name);
        }
        closedir(sub);
    }
    closedir(top);
    qsort(models, (size_t)n, sizeof models[0], by_name);
    return n;
}

static void onnx_checker(const char *path) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, PYTHON " -c 'import onnx' >/dev/null 2>&1");
    if (system(cmd) != 0) {
        printf("[  SKIPPED ] onnx is not importable by " PYTHON ": onnx.checker is skipped\n");
        return;
    }
    snprintf(cmd, sizeof cmd, PYTHON " -c 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)' '%s'",
             path);
    int rc = system(cmd);
    if (rc != 0) fail_msg("onnx.checker rejects %s (status %d)", path, rc);
}

static void convert_and_compare(void **state) {
    const model_file *m = *state;
    if (mkdir(OUT_DIR, 0755) != 0 && errno != EEXIST) fail_msg("cannot create %s: %s", OUT_DIR, strerror(errno));
    remove(m->output);
    char args[4096], out[4096], err[4096];
    snprintf(args, sizeof args, "convert '%s' -o '%s'", m->path, m->output);
    int rc = tu_run_cli(args, out, sizeof out, err, sizeof err);
    if (rc != 0) fail_msg("%s: convert exited %d: %s", m->name, rc, err);
    onnx_checker(m->output);

    cnv_graph *a = NULL, *b = NULL;
    check_ok(cnv_model_load(m->path, &a), m->name);
    check_ok(cnv_model_load(m->output, &b), m->output);
    assert_int_equal(a->n_nodes, b->n_nodes);
    for (int i = 0; i < a->n_nodes; i++) {
        assert_string_equal(a->nodes[i].name, b->nodes[i].name);
        assert_string_equal(cnv_op_name(a->nodes[i].op), cnv_op_name(b->nodes[i].op));
    }
    assert_true(cnv_shape_equal(&a->values[a->input].shape, &b->values[b->input].shape));

    size_t n_in = cnv_shape_numel(&a->values[a->input].shape);
    float *input = malloc(n_in * sizeof *input);
    assert_non_null(input);
    cnv_rng rng;
    cnv_rng_seed(&rng, 2024);
    tu_fill_uniform(&rng, input, n_in, -1.0f, 1.0f);
    float **va, **vb;
    check_ok(tu_model_forward_all(a, input, &va), a->source);
    check_ok(tu_model_forward_all(b, input, &vb), b->source);
    for (int i = 0; i < a->n_nodes; i++) {
        int v = a->nodes[i].out, w = b->nodes[i].out;
        assert_true(cnv_shape_equal(&a->values[v].shape, &b->values[w].shape));
        size_t n = cnv_shape_numel(&a->values[v].shape);
        if (memcmp(va[v], vb[w], n * sizeof(float)) != 0)
            fail_msg("%s: layer '%s' differs after the round trip (relative error %g)", m->name, a->nodes[i].name,
                     tu_rel_error(vb[w], va[v], n));
    }
    printf("  %-36s %3d layers, every output bit-identical after convert\n", m->name, a->n_nodes);
    tu_model_values_free(va, a->n_values);
    tu_model_values_free(vb, b->n_values);
    free(input);
    cnv_model_free(a);
    cnv_model_free(b);
}

/* The real Keras models of ../shared: converted from .h5 (channels-last, folded and unfolded
 * BatchNormalization, TF "same" padding) to ONNX and back. */
static int add_keras_models(int n) {
    static const char *const files[] = {
        "models/cifar10_keras_seq_tf215_anshaj/cifar10_model.h5",
        "models/cifar10_keras_seq_tf213_aaron/keras_cifar10_trained_model.h5",
        "models/cifar10_keras_bn_elu_drramji/cifar10_trained_model.h5",
        "models/cifar10_keras224_sagecodes/keras_cifar10_trained_model.h5",
        "models/cifar10_resnet8_mlperf_tiny/pretrainedResnet.h5",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0] && n < MAX_MODELS; i++, n++) {
        model_file *m = &models[n];
        const char *slash = strchr(files[i] + 7, '/');
        snprintf(m->name, sizeof m->name, "keras/%.*s", (int)(slash - files[i] - 7), files[i] + 7);
        snprintf(m->path, sizeof m->path, "%s", tu_shared_path(files[i]));
        snprintf(m->output, sizeof m->output, "%s/keras_%zu.onnx", OUT_DIR, i);
    }
    return n;
}

int main(void) {
    int n = find_models();
    if (n <= 0) {
        fprintf(stderr, "%s: no torch*/*.onnx fixtures found\n", CNNVIS_FIXTURE_DIR);
        return 1;
    }
    n = add_keras_models(n);
    struct CMUnitTest tests[MAX_MODELS];
    for (int i = 0; i < n; i++)
        tests[i] = (struct CMUnitTest){models[i].name, convert_and_compare, NULL, NULL, &models[i]};
    return _cmocka_run_group_tests("roundtrip", tests, (size_t)n, NULL, NULL);
}
