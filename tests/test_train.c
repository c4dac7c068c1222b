/* Training: the same epoch on the CPU and Vulkan backends gives the same weights; the loss
 * falls; IDX files (plain and gzip, malformed ones refused) and image folders load; the train
 * verb learns a tiny image-folder set end to end and refuses bad input with exit 2 and one line;
 * the bundled models/fashion_mnist.onnx reaches 91% on the Fashion-MNIST test set.
 * Fashion-MNIST comes from Debian's dataset-fashion-mnist; tests that need it say so and skip
 * when it is absent. */
#include "cli_check.h"
#include "test_util.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "core/exec.h"
#include "core/graph.h"
#include "io/dataset.h"
#include "io/idx.h"
#include "cnnvis/picture.h"
#include "models/arch.h"
#include "models/preset.h"
#include "cnnvis/train.h"

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"
#define BUNDLED CNNVIS_SOURCE_DIR "/models/fashion_mnist.onnx"
#define CAP 100000
/* Images of the CPU-vs-Vulkan epoch: 10 steps of 32. lavapipe took ~7 s per step of fashion-cnn
 * on this (shared, 2-core) machine, so the 2000 images of a fuller check would take minutes. */
#define CROSS_BACKEND_IMAGES 320

static char out[CAP], err[CAP];

static int setup(void **state) { return tu_scratch_create("test_train"); }
static int teardown(void **state) { return tu_scratch_remove(); }

static int have_fashion(void) {
    struct stat st;
    if (stat(FASHION_DIR "/train-images-idx3-ubyte.gz", &st) == 0 || stat(FASHION_DIR "/train-images-idx3-ubyte", &st) == 0)
        return 1;
    printf("skipped: %s not found (install Debian's dataset-fashion-mnist)\n", FASHION_DIR);
    return 0;
}

static void path_in_scratch(char *buf, size_t size, const char *name) {
    snprintf(buf, size, "%s/%s", tu_scratch_dir(), name);
}

/* ---- IDX ---- */

static void write_bytes(const char *path, const unsigned char *b, size_t n, int gz) {
    if (gz) {
        gzFile f = gzopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(gzwrite(f, b, (unsigned)n), (int)n);
        assert_int_equal(gzclose(f), Z_OK);
        return;
    }
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

static void test_idx_plain_gzip_and_malformed(void **state) {
    /* 3 images of 2x2: header 00 00 08 03, dims 3, 2, 2. */
    unsigned char file[16 + 12] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2};
    for (int i = 0; i < 12; i++) file[16 + i] = (unsigned char)(20 * i + 1);
    char plain[512], gz[512];
    path_in_scratch(plain, sizeof plain, "a-idx3-ubyte");
    path_in_scratch(gz, sizeof gz, "a-idx3-ubyte.gz");
    write_bytes(plain, file, sizeof file, 0);
    write_bytes(gz, file, sizeof file, 1);
    for (int k = 0; k < 2; k++) {
        cnv_idx idx;
        assert_int_equal(cnv_idx_read(k ? gz : plain, 3, 0, &idx), CNV_OK);
        assert_int_equal(idx.dims[0], 3);
        assert_int_equal(idx.dims[1], 2);
        assert_memory_equal(idx.data, file + 16, 12);
        cnv_idx_free(&idx);
        assert_int_equal(cnv_idx_read(k ? gz : plain, 3, 2, &idx), CNV_OK); /* limit */
        assert_int_equal(idx.dims[0], 2);
        assert_memory_equal(idx.data, file + 16, 8);
        cnv_idx_free(&idx);
    }
    cnv_idx idx;
    write_bytes(plain, file, sizeof file - 1, 0); /* truncated data */
    assert_int_equal(cnv_idx_read(plain, 3, 0, &idx), CNV_ERR_FORMAT);
    assert_non_null(strstr(cnv_last_error(), "truncated"));
    file[2] = 0x0D; /* float values */
    write_bytes(plain, file, sizeof file, 0);
    assert_int_equal(cnv_idx_read(plain, 3, 0, &idx), CNV_ERR_UNSUPPORTED);
    file[2] = 8;
    file[0] = 1; /* bad magic */
    write_bytes(plain, file, sizeof file, 0);
    assert_int_equal(cnv_idx_read(plain, 3, 0, &idx), CNV_ERR_FORMAT);
    file[0] = 0;
    write_bytes(plain, file, sizeof file, 0);
    assert_int_equal(cnv_idx_read(plain, 1, 0, &idx), CNV_ERR_FORMAT); /* 3 dims where 1 expected */
    assert_int_equal(cnv_idx_read("/nonexistent/x-idx3-ubyte", 3, 0, &idx), CNV_ERR_IO);
}

/* ---- image folders ---- */

/* A bar across a dark 12x12 image: horizontal (class "horizontal") or vertical, at row/column
 * `at`, of brightness `level`. */
static void write_bar(const char *path, int vertical, int at, int level) {
    unsigned char px[12 * 12] = {0};
    for (int i = 0; i < 12; i++) px[vertical ? i * 12 + at : at * 12 + i] = (unsigned char)level;
    cnv_image img = {12, 12, 1, px};
    assert_int_equal(cnv_image_save_png(path, &img), CNV_OK);
}

/* dir/vertical and dir/horizontal (created in that order: the names must come out sorted),
 * each with `per_class` images. */
static void make_bars(const char *dir, int per_class) {
    const char *classes[2] = {"vertical", "horizontal"};
    assert_int_equal(mkdir(dir, 0755), 0);
    for (int k = 0; k < 2; k++) {
        char sub[600], file[700];
        const int len = snprintf(sub, sizeof sub, "%s/%s", dir, classes[k]);
        assert_true(len >= 0 && (size_t)len < sizeof sub);
        assert_int_equal(mkdir(sub, 0755), 0);
        for (int i = 0; i < per_class; i++) {
            snprintf(file, sizeof file, "%s/img%02d.png", sub, i);
            /* positions repeat every 9 images and the held-out ones every 10th: held-out bars sit
             * where training bars also do, at other brightnesses */
            write_bar(file, k == 0, 1 + i % 9, 255 - 3 * i);
        }
        snprintf(file, sizeof file, "%s/notes.txt", sub); /* not an image: ignored */
        FILE *f = fopen(file, "w");
        assert_non_null(f);
        fclose(f);
    }
}

static void test_folder_dataset_layout(void **state) {
    char dir[512];
    path_in_scratch(dir, sizeof dir, "bars_layout");
    make_bars(dir, 20);
    cnv_dataset train, test;
    assert_int_equal(cnv_dataset_load(dir, CNV_SPLIT_TRAIN, 1, 28, 28, 0, &train), CNV_OK);
    assert_int_equal(cnv_dataset_load(dir, CNV_SPLIT_TEST, 1, 28, 28, 0, &test), CNV_OK);
    assert_int_equal(train.n_classes, 2);
    assert_string_equal(train.class_names[0], "horizontal");
    assert_string_equal(train.class_names[1], "vertical");
    /* every 10th image of each class is held out */
    assert_int_equal(train.n, 36);
    assert_int_equal(test.n, 4);
    /* resized to 28x28 and scaled to 0..1: a bar is bright, the background dark */
    float lo = 1, hi = 0;
    for (size_t i = 0; i < cnv_dataset_image_numel(&train); i++) {
        lo = fminf(lo, train.images[i]);
        hi = fmaxf(hi, train.images[i]);
    }
    assert_true(lo == 0.0f && hi > 0.5f && hi <= 1.0f);
    assert_int_equal(test.labels[0] + test.labels[1] + test.labels[2] + test.labels[3], 2);
    /* a limit takes from each class in turn */
    cnv_dataset few;
    assert_int_equal(cnv_dataset_load(dir, CNV_SPLIT_TRAIN, 1, 28, 28, 4, &few), CNV_OK);
    assert_int_equal(few.n, 4);
    assert_int_equal(few.labels[0] + few.labels[1] + few.labels[2] + few.labels[3], 2);
    cnv_dataset_free(&few);
    cnv_dataset_free(&train);
    cnv_dataset_free(&test);
    /* train/ and test/ subfolders are the splits, with nothing held out */
    char split[512], sub[600];
    path_in_scratch(split, sizeof split, "bars_split");
    assert_int_equal(mkdir(split, 0755), 0);
    snprintf(sub, sizeof sub, "%s/train", split);
    make_bars(sub, 5);
    snprintf(sub, sizeof sub, "%s/test", split);
    make_bars(sub, 3);
    assert_int_equal(cnv_dataset_load(split, CNV_SPLIT_TRAIN, 1, 28, 28, 0, &train), CNV_OK);
    assert_int_equal(cnv_dataset_load(split, CNV_SPLIT_TEST, 1, 28, 28, 0, &test), CNV_OK);
    assert_int_equal(train.n, 10);
    assert_int_equal(test.n, 6);
    assert_string_equal(test.class_names[1], "vertical");
    cnv_dataset_free(&train);
    cnv_dataset_free(&test);
    /* one class folder is not a data set */
    char one[512];
    path_in_scratch(one, sizeof one, "bars_layout/vertical");
    assert_int_equal(cnv_dataset_load(one, CNV_SPLIT_TRAIN, 1, 28, 28, 0, &train), CNV_ERR_FORMAT);
}

static json_t *parse_json(const char *text) {
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j) fail_msg("not JSON (%s): %.300s", e.text, text);
    return j;
}

/* The verb learns the bars end to end: the loss falls and the held-out images come out right. */
static void test_cli_trains_image_folder(void **state) {
    char dir[512], model[512], log[512], args[2048];
    path_in_scratch(dir, sizeof dir, "bars_cli");
    path_in_scratch(model, sizeof model, "bars.onnx");
    path_in_scratch(log, sizeof log, "bars_log.json");
    make_bars(dir, 30);
    snprintf(args, sizeof args, "train --data '%s' --arch smallnet -o '%s' --epochs 6 --batch 8 --device cpu --log '%s' --json",
             dir, model, log);
    int rc = tu_run_cli(args, out, sizeof out, err, sizeof err);
    if (rc != 0) fail_msg("cnnvis %s: exit %d: %s", args, rc, err);
    json_t *j = parse_json(out), *epochs = json_object_get(j, "epochs");
    assert_int_equal(json_array_size(epochs), 6);
    double first = json_number_value(json_object_get(json_array_get(epochs, 0), "loss"));
    double last = json_number_value(json_object_get(json_array_get(epochs, 5), "loss"));
    double acc = json_number_value(json_object_get(json_array_get(epochs, 5), "test_accuracy"));
    printf("bars: loss %.4f -> %.4f, held-out accuracy %.2f\n", first, last, acc);
    assert_true(last < 0.5 * first);
    assert_true(acc == 1.0);
    assert_non_null(strstr(json_string_value(json_object_get(j, "command")), "--arch smallnet"));
    json_decref(j);
    /* the log file holds the same record, and the model evaluates the same way */
    FILE *f = fopen(log, "r");
    assert_non_null(f);
    json_error_t e;
    json_t *l = json_loadf(f, 0, &e);
    fclose(f);
    assert_non_null(l);
    assert_int_equal(json_array_size(json_object_get(l, "epochs")), 6);
    json_decref(l);
    snprintf(args, sizeof args, "train --evaluate --model '%s' --data '%s' --device cpu --json", model, dir);
    rc = tu_run_cli(args, out, sizeof out, err, sizeof err);
    if (rc != 0) fail_msg("cnnvis %s: exit %d: %s", args, rc, err);
    j = parse_json(out);
    assert_true(json_number_value(json_object_get(j, "accuracy")) == 1.0);
    json_decref(j);
}

static void expect_usage_error(const char *args, const char *needle) {
    int rc = tu_run_cli(args, out, sizeof out, err, sizeof err);
    if (rc != 2) fail_msg("cnnvis %s: exit %d, expected 2; stderr: %s", args, rc, err);
    if (!strstr(err, needle)) fail_msg("cnnvis %s: stderr lacks '%s': %s", args, needle, err);
    char *nl = strchr(err, '\n');
    if (!nl || nl[1] != '\0') fail_msg("cnnvis %s: not one line: %s", args, err);
    assert_string_equal(out, "");
}

static void test_cli_bad_input(void **state) {
    char args[2048], dir[512], model[512];
    path_in_scratch(dir, sizeof dir, "bars_bad");
    path_in_scratch(model, sizeof model, "never.onnx");
    make_bars(dir, 10);
    snprintf(args, sizeof args, "train --data /nonexistent --arch smallnet -o '%s' --device cpu", model);
    expect_usage_error(args, "/nonexistent");
    snprintf(args, sizeof args, "train --data '%s/vertical' --arch smallnet -o '%s' --device cpu", dir, model);
    expect_usage_error(args, "not a data set");
    snprintf(args, sizeof args, "train --data '%s' --arch nosuchnet -o '%s' --device cpu", dir, model);
    expect_usage_error(args, "nosuchnet");
    snprintf(args, sizeof args, "train --data '%s' --arch smallnet -o '%s' --epochs 0", dir, model);
    expect_usage_error(args, "--epochs");
    snprintf(args, sizeof args, "train --data '%s' --arch smallnet -o '%s' --optimizer rmsprop", dir, model);
    expect_usage_error(args, "rmsprop");
    snprintf(args, sizeof args, "train --data '%s' --arch smallnet -o '%s' --lr -1", dir, model);
    expect_usage_error(args, "--lr");
    snprintf(args, sizeof args, "train --data '%s' --arch smallnet", dir);
    expect_usage_error(args, "-o");
    snprintf(args, sizeof args, "train --data '%s' --arch smallnet --model x.onnx -o '%s'", dir, model);
    expect_usage_error(args, "either");
    snprintf(args, sizeof args, "train --data '%s' --arch smallnet -o '%s' --batch 500 --device cpu", dir, model);
    expect_usage_error(args, "fewer than one batch");
    struct stat st;
    assert_int_not_equal(stat(model, &st), 0); /* no model written by any of them */
}

/* ---- Fashion-MNIST ---- */

typedef struct losses {
    double first_batches, last_batches; /* the epoch's running mean loss after 3 batches, after all */
    int n_batches;
} losses;

static void record_epoch(void *user, const cnv_epoch_result *r) { *(cnv_epoch_result *)user = *r; }

/* Trains fashion-cnn for one epoch on the first `n` training images (testing on 64); returns its weights (all
 * initializers, concatenated) and fills the loss record. */
static float *train_one_epoch(const char *backend, cnv_optim_kind kind, int n, size_t *n_weights,
                              cnv_epoch_result *result) {
    cnv_dataset train, test;
    assert_int_equal(cnv_dataset_load(FASHION_DIR, CNV_SPLIT_TRAIN, 1, 28, 28, n, &train), CNV_OK);
    assert_int_equal(cnv_dataset_load(FASHION_DIR, CNV_SPLIT_TEST, 1, 28, 28, 64, &test), CNV_OK);
    cnv_graph *g;
    assert_int_equal(cnv_arch_build("fashion-cnn", 7, &g), CNV_OK);
    cnv_backend *be = tu_backend_create(backend);
    cnv_train_options opt = {.epochs = 1, .batch = 32, .optimizer = kind, .lr = kind == CNV_OPTIM_SGD ? 0.02f : 0.001f,
                             .momentum = 0.9f, .weight_decay = 1e-4f, .seed = 3};
    opt.on_epoch = record_epoch;
    opt.user = result;
    cnv_status s = cnv_train(g, be, &train, &test, &opt);
    if (s != CNV_OK) fail_msg("%s: %s", backend, cnv_last_error());
    tu_backend_free(be);
    size_t total = 0;
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].init) total += cnv_shape_numel(&g->values[v].shape);
    float *w = malloc(total * sizeof *w);
    assert_non_null(w);
    *n_weights = 0;
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].init) {
            size_t k = cnv_shape_numel(&g->values[v].shape);
            memcpy(w + *n_weights, g->values[v].init, k * sizeof *w);
            *n_weights += k;
        }
    cnv_graph_free(g);
    cnv_dataset_free(&train);
    cnv_dataset_free(&test);
    return w;
}

static void test_cpu_and_vulkan_agree(void **state) {
    if (!have_fashion()) return;
    cnv_graph *g0;
    assert_int_equal(cnv_arch_build("fashion-cnn", 7, &g0), CNV_OK);
    for (int k = 0; k < 2; k++) {
        cnv_optim_kind kind = k ? CNV_OPTIM_ADAM : CNV_OPTIM_SGD;
        cnv_epoch_result rc, rv;
        size_t nc, nv, n0 = 0;
        float *wc = train_one_epoch("cpu", kind, CROSS_BACKEND_IMAGES, &nc, &rc);
        float *wv = train_one_epoch("vulkan", kind, CROSS_BACKEND_IMAGES, &nv, &rv);
        assert_int_equal(nc, nv);
        double err = tu_rel_error(wv, wc, nc);
        /* The weights moved away from the initial ones far more than the backends differ. */
        float *w0 = malloc(nc * sizeof *w0);
        assert_non_null(w0);
        for (int v = 0; v < g0->n_values; v++)
            if (g0->values[v].init) {
                size_t n = cnv_shape_numel(&g0->values[v].shape);
                memcpy(w0 + n0, g0->values[v].init, n * sizeof *w0);
                n0 += n;
            }
        double moved = tu_rel_error(w0, wc, nc);
        printf("%s, %d images: weights cpu vs vulkan rel error %.2e (moved %.2e from init); loss %.4f / %.4f, test "
               "accuracy %.3f / %.3f; %.1f s / %.1f s\n",
               k ? "adam" : "sgd", CROSS_BACKEND_IMAGES, err, moved, rc.loss, rv.loss, rc.test_accuracy, rv.test_accuracy,
               rc.train_seconds, rv.train_seconds);
        assert_true(err < 1e-3);
        assert_true(moved > 100 * err);
        assert_true(fabs(rc.loss - rv.loss) < 1e-3 * rc.loss);
        free(wc);
        free(wv);
        free(w0);
    }
    cnv_graph_free(g0);
}

static void on_batch_losses(void *user, int epoch, int batch, int n_batches, double mean_loss) {
    losses *l = user;
    l->n_batches = n_batches;
    /* the running mean after the first 3 batches vs. after all of them */
    if (epoch == 1 && batch == 3) l->first_batches = mean_loss;
    if (batch == n_batches) l->last_batches = mean_loss; /* the last epoch's overwrites the first's */
}

static void test_loss_falls_and_accuracy_rises(void **state) {
    if (!have_fashion()) return;
    cnv_dataset train, test;
    assert_int_equal(cnv_dataset_load(FASHION_DIR, CNV_SPLIT_TRAIN, 1, 28, 28, 1500, &train), CNV_OK);
    assert_int_equal(cnv_dataset_load(FASHION_DIR, CNV_SPLIT_TEST, 1, 28, 28, 1000, &test), CNV_OK);
    assert_int_equal(train.n_classes, 10);
    cnv_graph *g;
    assert_int_equal(cnv_arch_build("fashion-cnn", 5, &g), CNV_OK);
    cnv_backend *be = tu_backend_create("cpu");
    double before;
    assert_int_equal(cnv_evaluate(g, be, &test, 100, &before), CNV_OK);
    losses l = {0};
    cnv_train_options opt = {.epochs = 2, .batch = 50, .optimizer = CNV_OPTIM_ADAM, .lr = 0.001f, .seed = 9,
                             .on_batch = on_batch_losses, .user = &l};
    assert_int_equal(cnv_train(g, be, &train, &test, &opt), CNV_OK);
    double after;
    assert_int_equal(cnv_evaluate(g, be, &test, 64, &after), CNV_OK); /* a batch that leaves a remainder */
    printf("1500 images x 2 epochs: running loss %.4f -> %.4f; test accuracy %.3f -> %.3f\n", l.first_batches,
           l.last_batches, before, after);
    assert_int_equal(l.n_batches, 30);
    assert_true(l.last_batches < 0.7 * l.first_batches);
    assert_true(before < 0.3);
    assert_true(after > 0.7);
    tu_backend_free(be);
    cnv_graph_free(g);
    cnv_dataset_free(&train);
    cnv_dataset_free(&test);
}

static void test_bundled_model_accuracy(void **state) {
    if (!have_fashion()) return;
    cnv_graph *g;
    assert_int_equal(cnv_model_load(BUNDLED, &g), CNV_OK);
    const cnv_preset *p = cnv_preset_detect(g);
    assert_non_null(p);
    assert_string_equal(p->name, "fashion-mnist");
    cnv_dataset test;
    assert_int_equal(cnv_dataset_load(FASHION_DIR, CNV_SPLIT_TEST, 1, 28, 28, 0, &test), CNV_OK);
    assert_int_equal(test.n, 10000);
    cnv_backend *be = tu_backend_create("cpu");
    double acc;
    assert_int_equal(cnv_evaluate(g, be, &test, 250, &acc), CNV_OK);
    printf("%s: test accuracy %.2f%% on %d images\n", BUNDLED, 100 * acc, test.n);
    assert_true(acc >= 0.91);
    tu_backend_free(be);
    cnv_graph_free(g);
    cnv_dataset_free(&test);
}

/* An optional argument runs only the tests whose names match it (cmocka pattern: * and ?). */
int main(int argc, char **argv) {
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx_plain_gzip_and_malformed),
        cmocka_unit_test(test_folder_dataset_layout),
        cmocka_unit_test(test_cli_bad_input),
        cmocka_unit_test(test_cli_trains_image_folder),
        cmocka_unit_test(test_loss_falls_and_accuracy_rises),
        cmocka_unit_test(test_cpu_and_vulkan_agree),
        cmocka_unit_test(test_bundled_model_accuracy),
    };
    return cmocka_run_group_tests_name("train", tests, setup, teardown);
}
