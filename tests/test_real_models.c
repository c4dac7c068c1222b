/* Real models from ../shared/models (see SOURCES.md there): the ONNX importer plus the CPU
 * backend reproduce outputs recorded by other frameworks (OpenCV DNN, the ONNX model zoo),
 * and malformed files fail cleanly with a message naming the file. */
#include "test_util.h"
#include "model_run.h"

#include "models/onnx.h"
#include "core/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SQUEEZENET_DIR "models/squeezenet1.1_openvino_fp16/"
#define SQUEEZENET SQUEEZENET_DIR "derived/squeezenet1.1_fp32_from_ir.onnx"
#define DIGITS_DIR "models/mnist/real_digits_t10k_first100/"

static char *dup_path(const char *p) {
    char *d = malloc(strlen(p) + 1);
    assert_non_null(d);
    return strcpy(d, p);
}

static cnv_graph *load_ok(const char *relative) {
    char *path = dup_path(tu_shared_path(relative));
    cnv_graph *g = NULL;
    cnv_status st = cnv_model_load(path, &g);
    if (st != CNV_OK) fail_msg("loading %s: %s: %s", path, cnv_status_str(st), cnv_last_error());
    free(path);
    return g;
}

static float *read_tensor_ok(const char *relative, cnv_shape *shape) {
    float *data = NULL;
    cnv_status st = cnv_onnx_read_tensor(tu_shared_path(relative), &data, shape);
    if (st != CNV_OK) fail_msg("%s", cnv_last_error());
    return data;
}

static float *forward_ok(cnv_graph *g, const float *input, int batch, int value, cnv_shape *shape) {
    float *out = NULL;
    cnv_status st = tu_model_forward(g, input, batch, value, &out, shape);
    if (st != CNV_OK) fail_msg("forward: %s: %s", cnv_status_str(st), cnv_last_error());
    return out;
}

/* Runs one input set through the model and compares a named output with a reference file. */
static void check_output(cnv_graph *g, const char *input_pb, const char *value_name, const char *expected_pb,
                         double tol, int expected_argmax) {
    cnv_shape in_shape, exp_shape, out_shape;
    float *input = read_tensor_ok(input_pb, &in_shape);
    float *expected = read_tensor_ok(expected_pb, &exp_shape);
    assert_true(cnv_shape_equal(&in_shape, &g->values[g->input].shape));
    int v = cnv_graph_find_value(g, value_name);
    assert_true(v >= 0);
    float *out = forward_ok(g, input, 1, v, &out_shape);
    size_t n = cnv_shape_numel(&exp_shape);
    assert_int_equal(cnv_shape_numel(&out_shape), n);
    double err = tu_rel_error(out, expected, n);
    print_message("  %s vs %s: rel err %.3g, argmax %d\n", value_name, expected_pb, err, tu_argmax(out, (int)n));
    assert_true(err < tol);
    if (expected_argmax >= 0) assert_int_equal(tu_argmax(out, (int)n), expected_argmax);
    free(input);
    free(expected);
    free(out);
}

static void test_squeezenet_car(void **state) {
    (void)state;
    cnv_graph *g = load_ok(SQUEEZENET);
    assert_int_equal(g->opset, 11);
    assert_int_equal(g->values[g->output].shape.d[1], 1000);
    int conv1;
    assert_int_equal(cnv_model_find_layer(g, "conv1", &conv1), CNV_OK);
    check_output(g, SQUEEZENET_DIR "test_data_car_bgr255/input_0.pb", "prob",
                 SQUEEZENET_DIR "test_data_car_bgr255/output_0.pb", 1e-4, 817);
    check_output(g, SQUEEZENET_DIR "test_data_car_bgr255/input_0.pb", "pool10",
                 SQUEEZENET_DIR "test_data_car_bgr255/output_1.pb", 1e-4, 817);
    check_output(g, SQUEEZENET_DIR "test_data_car_bgr255_minus_mean/input_0.pb", "prob",
                 SQUEEZENET_DIR "test_data_car_bgr255_minus_mean/output_0.pb", 1e-4, 817);
    cnv_graph_free(g);
}

static void check_mnist_zoo(const char *dir, int opset, int expected_argmax) {
    char model[256], in[256], out[256];
    snprintf(model, sizeof model, "models/mnist/%s/model.onnx", dir);
    snprintf(in, sizeof in, "models/mnist/%s/test_data_set_0/input_0.pb", dir);
    snprintf(out, sizeof out, "models/mnist/%s/test_data_set_0/output_0.pb", dir);
    cnv_graph *g = load_ok(model);
    assert_int_equal(g->opset, opset);
    check_output(g, in, g->values[g->output].name, out, 1e-4, expected_argmax);
    cnv_graph_free(g);
}

static void test_mnist_zoo_test_sets(void **state) {
    (void)state;
    check_mnist_zoo("mnist-7", 7, 5);
    check_mnist_zoo("mnist-12", 12, 3);
}

/* Reads an IDX file (big-endian header) of `count` items of `item` bytes each. */
static unsigned char *read_idx(const char *relative, int magic, int count, int item) {
    FILE *f = fopen(tu_shared_path(relative), "rb");
    assert_non_null(f);
    int header = magic == 2051 ? 16 : 8;
    unsigned char h[16];
    assert_int_equal(fread(h, 1, (size_t)header, f), (size_t)header);
    assert_int_equal((h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3]), magic);
    assert_int_equal((h[4] << 24 | h[5] << 16 | h[6] << 8 | h[7]), count);
    unsigned char *data = malloc((size_t)count * (size_t)item);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)count * (size_t)item, f), (size_t)count * (size_t)item);
    fclose(f);
    return data;
}

/* All 100 digits in one batch: this also checks that the importer keeps the model batch-generic
 * (its Reshape names a literal batch of 1). */
static void check_real_digits(const char *model) {
    enum { N = 100, PIX = 28 * 28 };
    unsigned char *images = read_idx(DIGITS_DIR "t10k-images-first100-idx3-ubyte", 2051, N, PIX);
    unsigned char *labels = read_idx(DIGITS_DIR "t10k-labels-first100-idx1-ubyte", 2049, N, 1);
    float *input = malloc(sizeof(float) * N * PIX);
    assert_non_null(input);
    for (int i = 0; i < N * PIX; i++) input[i] = (float)images[i];
    cnv_graph *g = load_ok(model);
    cnv_shape out_shape, exp_shape;
    float *logits = forward_ok(g, input, N, g->output, &out_shape);
    float *expected = read_tensor_ok(DIGITS_DIR "expected_logits_opencv.pb", &exp_shape);
    assert_int_equal(out_shape.d[0], N);
    assert_int_equal(cnv_shape_numel(&out_shape), cnv_shape_numel(&exp_shape));
    int correct = 0;
    for (int i = 0; i < N; i++) correct += tu_argmax(logits + i * 10, 10) == labels[i];
    double err = tu_rel_error(logits, expected, (size_t)N * 10);
    print_message("  %s: %d/100 correct, logits rel err %.3g\n", model, correct, err);
    assert_true(correct >= 99);
    assert_true(err < 1e-4);
    cnv_graph_free(g);
    free(logits);
    free(expected);
    free(input);
    free(images);
    free(labels);
}

static void test_mnist_real_digits(void **state) {
    (void)state;
    check_real_digits("models/mnist/mnist-7/model.onnx");
    check_real_digits("models/mnist/mnist-12/model.onnx");
}

/* Writes bytes to a fresh temporary .onnx file; returns its path (malloc'ed). */
static char *write_temp_model(const void *bytes, size_t n) {
    char tmpl[] = "/tmp/cnnvis_bad_modelXXXXXX.onnx";
    int fd = mkstemps(tmpl, 5);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, n), (ssize_t)n);
    close(fd);
    return dup_path(tmpl);
}

static void expect_failure(const char *path, cnv_status expected) {
    cnv_graph *g = (cnv_graph *)&g; /* must be reset to NULL */
    cnv_status st = cnv_model_load(path, &g);
    print_message("  %s -> %s: %s\n", path, cnv_status_str(st), cnv_last_error());
    assert_int_equal(st, expected);
    assert_null(g);
    assert_non_null(strstr(cnv_last_error(), path));
    assert_null(strchr(cnv_last_error(), '\n'));
}

static void test_malformed_models(void **state) {
    (void)state;
    FILE *f = fopen(tu_shared_path(SQUEEZENET), "rb");
    assert_non_null(f);
    size_t cap = 6 << 20;
    unsigned char *bytes = malloc(cap);
    assert_non_null(bytes);
    size_t n = fread(bytes, 1, cap, f);
    fclose(f);
    assert_true(n > 1000000);

    size_t cuts[] = {n / 2, n - 1, 100};
    for (size_t k = 0; k < sizeof cuts / sizeof *cuts; k++) {
        char *path = write_temp_model(bytes, cuts[k]);
        expect_failure(path, CNV_ERR_FORMAT);
        unlink(path);
        free(path);
    }
    cnv_rng rng;
    cnv_rng_seed(&rng, 7);
    for (size_t i = 0; i < 4096; i++) bytes[i] = (unsigned char)(cnv_rng_next(&rng) >> 24);
    char *path = write_temp_model(bytes, 4096);
    expect_failure(path, CNV_ERR_FORMAT);
    unlink(path);
    free(path);
    free(bytes);

    expect_failure("/nonexistent/dir/model.onnx", CNV_ERR_IO);
    expect_failure("/nonexistent/dir/model.h5", CNV_ERR_IO);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_models),
        cmocka_unit_test(test_mnist_zoo_test_sets),
        cmocka_unit_test(test_mnist_real_digits),
        cmocka_unit_test(test_squeezenet_car),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
