/* End-to-end runs of the cnnvis binary on SqueezeNet 1.1 and chelsea.png: what the verbs
 * print is checked against the model's known behaviour and against each other, and every
 * kind of bad input must end with exit 2, one line on stderr naming the culprit, nothing on
 * stdout and no output file. */
#include "cli_check.h"
#include "test_util.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/npy.h"
#include "io/preprocess.h"
#include "models/labels.h"
#include "models/preset.h"

#define SQUEEZENET "models/squeezenet1.1_openvino_fp16/derived/squeezenet1.1_fp32_from_ir.onnx"

static char model[1024], chelsea[1024];

static int setup(void **state) {
    if (tu_scratch_create("test_cli") != 0) return -1;
    snprintf(model, sizeof model, "%s", tu_shared_path(SQUEEZENET));
    snprintf(chelsea, sizeof chelsea, "%s", tu_shared_path("images/chelsea.png"));
    return 0;
}

static int teardown(void **state) { return tu_scratch_remove(); }

static double num(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    if (!json_is_number(v)) fail_msg("JSON has no number '%s'", key);
    return json_number_value(v);
}

static int integer(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v)) fail_msg("JSON has no integer '%s'", key);
    return (int)json_integer_value(v);
}

static void expect_shape(json_t *arr, cnv_shape want) {
    assert_true(json_is_array(arr));
    assert_int_equal(json_array_size(arr), want.ndim);
    for (int i = 0; i < want.ndim; i++) assert_int_equal(json_integer_value(json_array_get(arr, i)), want.d[i]);
}

static double l2(const float *x, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return sqrt(s);
}

/* chelsea.png preprocessed for SqueezeNet, as a .npy the CLI takes directly. */
static tu_path chelsea_npy(float **x) {
    tu_path path = tu_scratch_path("chelsea.npy");
    cnv_shape in = cnv_shape4(1, 3, 227, 227);
    assert_int_equal(cnv_preprocess_file(chelsea, cnv_preset_find("squeezenet"), &in, x), CNV_OK);
    assert_int_equal(cnv_npy_write(path.s, *x, &in), CNV_OK);
    return path;
}

/* ---- classify ---- */

static void classify_puts_a_cat_first(void **state) {
    /* shared/images/SOURCES.md: Egyptian cat, tiger cat, tabby (285, 282, 281) lead. */
    tu_cli_expect(0, "classify '%s' '%s' --json", model, chelsea);
    json_t *root = tu_cli_json();
    assert_true(json_is_array(root));
    assert_int_equal(json_array_size(root), 1);
    json_t *top = json_object_get(json_array_get(root, 0), "top");
    assert_int_equal(json_array_size(top), 5); /* the default K */
    int best = integer(json_array_get(top, 0), "class");
    assert_in_range(best, 281, 285);
    double sum = 0, prev = 1;
    for (size_t i = 0; i < json_array_size(top); i++) {
        double p = num(json_array_get(top, i), "probability");
        assert_true(p <= prev);
        prev = p;
        sum += p;
    }
    assert_true(sum <= 1.0 + 1e-5);
    assert_true(num(json_array_get(top, 0), "probability") > 0.3);

    /* Labels come from synset_words.txt found above the model's folder. */
    cnv_labels labels;
    assert_int_equal(cnv_labels_load(tu_shared_path("models/synset_words.txt"), &labels), CNV_OK);
    assert_string_equal(json_string_value(json_object_get(json_array_get(top, 0), "label")), labels.display[best]);
    json_decref(root);

    tu_cli_expect(0, "classify '%s' '%s' --top 2", model, chelsea);
    assert_non_null(strstr(tu_cli_out, labels.display[best]));
    assert_string_equal(tu_cli_err, "");
    cnv_labels_free(&labels);
}

static void classify_takes_several_inputs(void **state) {
    float *x;
    tu_path npy = chelsea_npy(&x);
    free(x);
    tu_cli_expect(0, "classify '%s' '%s' '%s' --top 1 --json", model, chelsea, npy.s);
    json_t *root = tu_cli_json();
    assert_int_equal(json_array_size(root), 2);
    /* The .npy holds the same tensor the image becomes: the same answer. */
    json_t *a = json_array_get(json_object_get(json_array_get(root, 0), "top"), 0);
    json_t *b = json_array_get(json_object_get(json_array_get(root, 1), "top"), 0);
    assert_int_equal(integer(a, "class"), integer(b, "class"));
    assert_true(fabs(num(a, "probability") - num(b, "probability")) < 1e-6);
    json_decref(root);
}

/* ---- info ---- */

static void info_lists_layers_with_receptive_fields(void **state) {
    tu_cli_expect(0, "info '%s' --json", model);
    json_t *root = tu_cli_json();
    json_t *layers = json_object_get(root, "layers");
    int n = integer(root, "n_layers");
    assert_int_equal(json_array_size(layers), n);
    assert_in_range(n, 60, 70);
    assert_string_equal(json_string_value(json_object_get(json_object_get(root, "preset"), "name")), "squeezenet");
    expect_shape(json_object_get(json_object_get(root, "input"), "shape"), cnv_shape4(1, 3, 227, 227));

    json_t *conv1 = json_array_get(layers, 0);
    assert_string_equal(json_string_value(json_object_get(conv1, "name")), "conv1");
    expect_shape(json_object_get(conv1, "receptive_field"), (cnv_shape){2, {3, 3}});
    expect_shape(json_object_get(conv1, "stride"), (cnv_shape){2, {2, 2}});
    assert_int_equal(integer(conv1, "params"), 64 * 3 * 3 * 3 + 64);
    expect_shape(json_object_get(conv1, "shape"), cnv_shape4(1, 64, 113, 113));

    /* pool1 (3x3, stride 2) after conv1: 3 + 2*2 = 7 pixels, stride 4. */
    json_t *pool1 = json_array_get(layers, 2);
    assert_string_equal(json_string_value(json_object_get(pool1, "name")), "pool1");
    expect_shape(json_object_get(pool1, "receptive_field"), (cnv_shape){2, {7, 7}});
    expect_shape(json_object_get(pool1, "stride"), (cnv_shape){2, {4, 4}});

    long total = 0;
    for (int i = 0; i < n; i++) {
        json_t *l = json_array_get(layers, (size_t)i);
        assert_int_equal(integer(l, "index"), i);
        total += integer(l, "params");
    }
    assert_int_equal(json_integer_value(json_object_get(root, "total_params")), total);
    json_decref(root);

    tu_cli_expect(0, "info '%s'", model);
    assert_non_null(strstr(tu_cli_out, "conv1"));
    assert_non_null(strstr(tu_cli_out, "fire9/concat"));
    assert_non_null(strstr(tu_cli_out, "parameters"));
}

/* ---- forward ---- */

static void forward_saves_the_tensor_it_summarizes(void **state) {
    tu_path saved = tu_scratch_path("conv1.npy");
    tu_cli_expect(0, "forward '%s' '%s' --layer conv1 --save-tensor '%s' --json", model, chelsea, saved.s);
    json_t *root = tu_cli_json();
    expect_shape(json_object_get(root, "shape"), cnv_shape4(1, 64, 113, 113));
    float *y;
    cnv_shape s;
    assert_int_equal(cnv_npy_read(saved.s, &y, &s), CNV_OK);
    cnv_shape want = cnv_shape4(1, 64, 113, 113);
    assert_true(cnv_shape_equal(&s, &want));
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    size_t n = cnv_shape_numel(&s);
    for (size_t i = 0; i < n; i++) {
        lo = fmin(lo, y[i]);
        hi = fmax(hi, y[i]);
        sum += y[i];
    }
    assert_true(hi > lo);
    assert_float_equal(num(root, "min"), lo, 1e-5 * fabs(lo));
    assert_float_equal(num(root, "max"), hi, 1e-5 * fabs(hi));
    assert_float_equal(num(root, "mean"), sum / n, 1e-4 * fabs(sum / n) + 1e-6);
    free(y);
    json_decref(root);

    /* The layer by index names the same node. */
    tu_cli_expect(0, "forward '%s' '%s' --layer 0 --json", model, chelsea);
    root = tu_cli_json();
    assert_string_equal(json_string_value(json_object_get(json_object_get(root, "layer"), "name")), "conv1");
    json_decref(root);
}

static void forward_top_matches_classify(void **state) {
    tu_cli_expect(0, "forward '%s' '%s' --top 3 --json", model, chelsea);
    json_t *f = tu_cli_json();
    tu_cli_expect(0, "classify '%s' '%s' --top 3 --json", model, chelsea);
    json_t *c = tu_cli_json();
    json_t *ft = json_object_get(f, "top"), *ct = json_object_get(json_array_get(c, 0), "top");
    assert_int_equal(json_array_size(ft), 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(integer(json_array_get(ft, i), "class"), integer(json_array_get(ct, i), "class"));
        /* The graph ends in Softmax, so classify must not apply a second one. */
        assert_float_equal(num(json_array_get(ft, i), "value"), num(json_array_get(ct, i), "probability"), 1e-6);
    }
    json_decref(f);
    json_decref(c);
}

/* ---- grad ---- */

static void grad_of_a_logit_is_a_true_derivative(void **state) {
    float *x;
    tu_path npy = chelsea_npy(&x), gpath = tu_scratch_path("g.npy");
    tu_cli_expect(0, "grad '%s' '%s' --class 281 --save-tensor '%s' --json", model, npy.s, gpath.s);
    json_t *root = tu_cli_json();
    double value = num(root, "value");
    float *g;
    cnv_shape s;
    assert_int_equal(cnv_npy_read(gpath.s, &g, &s), CNV_OK);
    cnv_shape want = cnv_shape4(1, 3, 227, 227);
    assert_true(cnv_shape_equal(&s, &want));
    size_t n = cnv_shape_numel(&s);
    double norm = l2(g, n);
    assert_true(norm > 0);
    assert_float_equal(num(root, "grad_norm"), norm, 1e-4 * norm);
    json_decref(root);

    /* A small step along the gradient raises the logit by about step * |g|. */
    const double step = 5.0;
    for (size_t i = 0; i < n; i++) x[i] += (float)(step * g[i] / norm);
    tu_path moved = tu_scratch_path("moved.npy");
    assert_int_equal(cnv_npy_write(moved.s, x, &s), CNV_OK);
    tu_cli_expect(0, "grad '%s' '%s' --class 281 --json", model, moved.s);
    root = tu_cli_json();
    double rise = num(root, "value") - value, predicted = step * norm;
    if (fabs(rise - predicted) > 0.1 * predicted)
        fail_msg("logit rose by %g, the gradient predicts %g", rise, predicted);
    json_decref(root);
    free(g);
    free(x);

    /* The class by label name is the same objective. */
    tu_cli_expect(0, "grad '%s' '%s' --class tabby --json", model, npy.s);
    root = tu_cli_json();
    assert_float_equal(num(root, "value"), value, 1e-6 * fabs(value));
    json_decref(root);
}

static void grad_of_a_channel_mean(void **state) {
    tu_path act = tu_scratch_path("fire9.npy"), gpath = tu_scratch_path("gc.npy");
    tu_cli_expect(0, "forward '%s' '%s' --layer fire9/concat --save-tensor '%s'", model, chelsea, act.s);
    tu_cli_expect(0, "grad '%s' '%s' --layer fire9/concat --channel 7 --save-tensor '%s' --json", model, chelsea,
                  gpath.s);
    json_t *root = tu_cli_json();
    float *y, *g;
    cnv_shape s, gs;
    assert_int_equal(cnv_npy_read(act.s, &y, &s), CNV_OK);
    size_t plane = (size_t)s.d[2] * s.d[3];
    double mean = 0;
    for (size_t i = 0; i < plane; i++) mean += y[7 * plane + i];
    mean /= (double)plane;
    assert_float_equal(num(root, "value"), mean, 1e-5 * fabs(mean) + 1e-7);
    assert_int_equal(cnv_npy_read(gpath.s, &g, &gs), CNV_OK);
    assert_true(l2(g, cnv_shape_numel(&gs)) > 0);
    free(y);
    free(g);
    json_decref(root);
}

/* ---- bad input ---- */

/* Exit 2, nothing on stdout, exactly one line "cnnvis <verb>: ..." on stderr mentioning `names`. */
static void expect_one_line_error(const char *verb, const char *names) {
    char prefix[64];
    snprintf(prefix, sizeof prefix, "cnnvis %s: ", verb);
    assert_string_equal(tu_cli_out, "");
    size_t len = strlen(tu_cli_err);
    if (len == 0 || tu_cli_err[len - 1] != '\n' || strchr(tu_cli_err, '\n') != tu_cli_err + len - 1)
        fail_msg("stderr is not exactly one line: '%s'", tu_cli_err);
    if (strncmp(tu_cli_err, prefix, strlen(prefix)) != 0)
        fail_msg("stderr does not start with '%s': %s", prefix, tu_cli_err);
    if (!strstr(tu_cli_err, names)) fail_msg("stderr does not name '%s': %s", names, tu_cli_err);
}

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static unsigned char *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    unsigned char *b = malloc(*n);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

static void bad_inputs_fail_with_one_line(void **state) {
    size_t model_size, png_size;
    unsigned char *onnx = read_file(model, &model_size);
    unsigned char *png = read_file(chelsea, &png_size);
    tu_path trunc_onnx = tu_scratch_path("trunc.onnx"), corrupt_onnx = tu_scratch_path("corrupt.onnx");
    write_file(trunc_onnx.s, onnx, model_size / 3);
    memset(onnx, 0xff, 64); /* an invalid protobuf tag right at the start */
    write_file(corrupt_onnx.s, onnx, model_size);
    tu_path text_png = tu_scratch_path("text.png"), trunc_png = tu_scratch_path("trunc.png");
    write_file(text_png.s, "just some text\n", 15);
    write_file(trunc_png.s, png, png_size / 2);
    free(onnx);
    free(png);
    tu_path wrong_npy = tu_scratch_path("wrong.npy");
    float zeros[3 * 32 * 32] = {0};
    cnv_shape small = cnv_shape4(1, 3, 32, 32);
    assert_int_equal(cnv_npy_write(wrong_npy.s, zeros, &small), CNV_OK);
    tu_path missing = tu_scratch_path("missing.png"), absent = tu_scratch_path("absent.onnx"),
            result = tu_scratch_path("result.npy");

    struct {
        const char *verb, *model, *input, *extra, *names;
    } cases[] = {
        {"forward", model, chelsea, "--layer no_such_layer", "no_such_layer"},
        {"grad", model, chelsea, "--layer conv1 --channel 64", "64"},
        {"grad", model, chelsea, "--class 1000", "1000"},
        {"grad", model, chelsea, "--class no-such-animal", "no-such-animal"},
        {"forward", model, missing.s, "", "missing.png"},
        {"forward", trunc_onnx.s, chelsea, "", "trunc.onnx"},
        {"grad", corrupt_onnx.s, chelsea, "--class 1", "corrupt.onnx"},
        {"forward", model, wrong_npy.s, "", "wrong.npy"},
        {"grad", model, text_png.s, "--class 1", "text.png"},
        {"forward", model, trunc_png.s, "", "trunc.png"},
        {"classify", model, trunc_png.s, "", "trunc.png"},
        {"classify", model, text_png.s, "", "text.png"},
        {"classify", model, wrong_npy.s, "", "wrong.npy"},
        {"info", trunc_onnx.s, NULL, "", "trunc.onnx"},
        {"info", absent.s, NULL, "", "absent.onnx"},
        {"forward", model, chelsea, "--device gpu0", "gpu0"},
        {"forward", model, chelsea, "--no-such-option", "--no-such-option"},
        {"grad", model, chelsea, "", "--class"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char save[600] = "";
        if (strcmp(cases[i].verb, "forward") == 0 || strcmp(cases[i].verb, "grad") == 0)
            snprintf(save, sizeof save, "--save-tensor '%s'", result.s);
        tu_cli_expect(2, "%s '%s' %s%s%s %s %s", cases[i].verb, cases[i].model, cases[i].input ? "'" : "",
                   cases[i].input ? cases[i].input : "", cases[i].input ? "'" : "", cases[i].extra, save);
        expect_one_line_error(cases[i].verb, cases[i].names);
        assert_false(tu_file_exists(result.s));
    }
}

static void help_lists_every_option_with_defaults(void **state) {
    const char *verbs[] = {"info", "forward", "grad", "classify"};
    for (int i = 0; i < 4; i++) {
        tu_cli_expect(0, "%s --help", verbs[i]);
        assert_non_null(strstr(tu_cli_out, "--model"));
        assert_non_null(strstr(tu_cli_out, "--preset"));
        assert_non_null(strstr(tu_cli_out, "--json"));
        assert_non_null(strstr(tu_cli_out, "default"));
    }
    tu_cli_expect(0, "grad --help");
    assert_non_null(strstr(tu_cli_out, "--class"));
    assert_non_null(strstr(tu_cli_out, "--channel"));
    assert_non_null(strstr(tu_cli_out, "--save-tensor"));
    tu_cli_expect(0, "classify --help");
    assert_non_null(strstr(tu_cli_out, "default: 5"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(classify_puts_a_cat_first),
        cmocka_unit_test(classify_takes_several_inputs),
        cmocka_unit_test(info_lists_layers_with_receptive_fields),
        cmocka_unit_test(forward_saves_the_tensor_it_summarizes),
        cmocka_unit_test(forward_top_matches_classify),
        cmocka_unit_test(grad_of_a_logit_is_a_true_derivative),
        cmocka_unit_test(grad_of_a_channel_mean),
        cmocka_unit_test(bad_inputs_fail_with_one_line),
        cmocka_unit_test(help_lists_every_option_with_defaults),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
