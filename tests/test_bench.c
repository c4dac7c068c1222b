/* `cnnvis bench` and the built-in ImageNet architectures it measures: every workload runs on the
 * CPU backend at a small size and a tiny repeat count, its JSON holds the timings, memory and
 * kernel breakdown of what it ran, a bad workload name is one line and exit 2; the architectures
 * have torchvision's parameter counts and take other input sizes as the bench needs. */
#include "cli_check.h"
#include "test_util.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/arch.h"
#include "cnnvis/tools.h"

static int setup(void **state) { return tu_scratch_create("test_bench"); }
static int teardown(void **state) { return tu_scratch_remove(); }

static double num(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    if (!json_is_number(v)) fail_msg("JSON has no number '%s'", key);
    return json_number_value(v);
}

static size_t params(const cnv_graph *g) {
    size_t n = 0;
    for (int i = 0; i < g->n_nodes; i++) n += cnv_node_param_count(g, i);
    return n;
}

/* torchvision's own counts: vgg16 138,357,544; squeezenet1_1 1,235,496; resnet50 25,557,032 less its
 * 53,120 BatchNorm scales and shifts, plus the 26,560 conv biases they fold into. */
static void test_arch_parameter_counts(void **state) {
    static const struct {
        const char *name;
        size_t params;
    } want[] = {{"vgg16", 138357544}, {"squeezenet1.1", 1235496}, {"resnet50", 25557032 - 53120 + 26560}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        cnv_graph *g;
        tu_expect_ok(cnv_arch_build(want[i].name, 1, &g));
        assert_int_equal(params(g), want[i].params);
        cnv_model_free(g);
    }
}

/* At 128 VGG16's first Linear takes the 512x4x4 map itself; the logits stay 1000. */
static void test_arch_sizes(void **state) {
    cnv_graph *g;
    tu_expect_ok(cnv_arch_build_sized("vgg16", 1, 128, &g));
    int fc6 = cnv_graph_find_value(g, "/classifier/classifier.0/Gemm.weight");
    assert_true(fc6 >= 0);
    assert_int_equal(g->values[fc6].shape.d[0], 4096);
    assert_int_equal(g->values[fc6].shape.d[1], 512 * 4 * 4);
    assert_int_equal(g->values[g->output].shape.d[1], 1000);
    cnv_model_free(g);
    tu_expect_ok(cnv_arch_build_sized("resnet50", 1, 64, &g));
    assert_int_equal(g->values[g->output].shape.d[1], 1000);
    cnv_model_free(g);
    assert_int_equal(cnv_arch_build_sized("vgg16", 1, 16, &g), CNV_ERR_ARG);
    assert_int_equal(cnv_arch_build_sized("fashion-cnn", 1, 64, &g), CNV_ERR_ARG);
    assert_int_equal(cnv_arch_build_sized("vgg17", 1, 0, &g), CNV_ERR_NOT_FOUND);
}

static json_t *find_result(json_t *results, const char *name) {
    size_t i;
    json_t *r;
    json_array_foreach(results, i, r) if (strcmp(json_string_value(json_object_get(r, "workload")), name) == 0) return r;
    fail_msg("no result for workload %s", name);
    return NULL;
}

static int has_kernel(json_t *r, const char *needle) {
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(r, "kernels"), i, k) if (strstr(json_string_value(json_object_get(k, "name")),
                                                                        needle)) return 1;
    return 0;
}

/* Every workload at --size 32, 2 repeats: timings ordered, memory counted, and the kernels are
 * those of what the workload runs (a forward has no backward kernels; a step has both). */
static void test_every_workload_json(void **state) {
    tu_cli_expect(0, "bench --device cpu --repeat 2 --size 32 --json");
    json_t *root = tu_cli_json();
    json_t *results = json_object_get(root, "results");
    assert_int_equal(json_array_size(results), cnv_bench_count());
    assert_true(json_is_array(json_object_get(root, "load_average")));
    for (int i = 0; i < cnv_bench_count(); i++) {
        json_t *r = find_result(results, cnv_bench_name(i));
        assert_string_equal(json_string_value(json_object_get(r, "backend")), "cpu");
        assert_int_equal(json_array_size(json_object_get(r, "seconds")), 2);
        double lo = num(r, "min_s"), mid = num(r, "median_s"), hi = num(r, "max_s");
        assert_true(lo > 0 && lo <= mid && mid <= hi);
        assert_true(num(r, "peak_rss_mb") > 1);
        if (strcmp(cnv_bench_name(i), "gemm") == 0) {
            assert_true(num(r, "gflops") > 0.1);
            continue;
        }
        assert_true(json_array_size(json_object_get(r, "kernels")) > 0);
        double share = 0;
        size_t k;
        json_t *e;
        json_array_foreach(json_object_get(r, "kernels"), k, e) share += num(e, "share");
        assert_true(fabs(share - 1) < 1e-6);
        assert_true(num(r, "kernel_ms_per_repeat") <= 1000 * hi);
        assert_true(has_kernel(r, "Conv forward"));
        int forward_only = strcmp(cnv_bench_name(i), "vgg16-forward-224") == 0;
        assert_int_equal(has_kernel(r, "backward"), !forward_only);
    }
    /* The whole-VGG16 step holds the 138M weights' 32x32 cousin (37.7M): far above the gemm's. */
    assert_true(num(find_result(results, "vgg16-class-224"), "peak_rss_mb") >
                num(find_result(results, "gemm"), "peak_rss_mb") + 100);
    assert_int_equal(json_integer_value(json_object_get(find_result(results, "squeezenet-lucid-b8"), "batch")), 8);
    /* VGG16's 13 convs at 32x32: 2 x sum(Cout x H x W x Cin x 9) = 626,393,088 (30.69 GFLOP at 224),
     * whether the step ends at the logits or at conv5_3; their rate comes from the conv kernel. */
    static const char *const vgg[3] = {"vgg16-class-224", "vgg16-conv5_3-224", "vgg16-forward-224"};
    for (int i = 0; i < 3; i++) {
        json_t *r = find_result(results, vgg[i]);
        assert_true(fabs(num(r, "conv_forward_gflop") - 0.626393088) < 1e-7); /* JSON keeps 8 digits */
        assert_true(num(r, "conv_forward_gflops") > 0);
    }
    assert_true(json_is_null(json_object_get(find_result(results, "gemm"), "conv_forward_gflop")));
    assert_true(has_kernel(find_result(results, "squeezenet-lucid-b1"), "Fourier"));
    json_decref(root);
}

static void expect_one_line_usage_error(void) {
    assert_string_equal(tu_cli_out, "");
    char *nl = strchr(tu_cli_err, '\n');
    assert_non_null(nl);
    assert_string_equal(nl + 1, "");
}

static void test_bad_arguments(void **state) {
    tu_cli_expect(2, "bench vgg16-class-224 nope --device cpu");
    expect_one_line_usage_error();
    assert_non_null(strstr(tu_cli_err, "unknown workload 'nope'"));
    assert_non_null(strstr(tu_cli_err, "squeezenet-lucid-b8"));
    tu_cli_expect(2, "bench gemm --repeat 0");
    expect_one_line_usage_error();
    tu_cli_expect(2, "bench gemm --size 8");
    expect_one_line_usage_error();
    tu_cli_expect(2, "bench gemm --device no-such-device-anywhere");
    expect_one_line_usage_error();
}

/* In process: the result carries no memory figure; the text table names the workload. */
static void test_in_process_and_text(void **state) {
    cnv_bench_opts opt = {.device = "cpu", .repeat = 3, .size = 32};
    cnv_bench_result *r = tu_calloc(1, sizeof *r);
    tu_expect_ok(cnv_bench_run(cnv_bench_find("vgg16-forward-224"), &opt, r));
    assert_int_equal(r->n, 3);
    assert_int_equal(r->size, 32);
    assert_true(r->peak_rss_kb == -1);
    assert_true(r->min > 0 && r->min <= r->median && r->median <= r->max);
    free(r);
    tu_cli_expect(0, "bench gemm fashion-train-b32 --device cpu --repeat 1 --profile");
    assert_non_null(strstr(tu_cli_out, "fashion-train-b32"));
    assert_non_null(strstr(tu_cli_out, "Conv backward"));
    assert_non_null(strstr(tu_cli_out, "load average"));
}

/* A built-in architecture stands in for MODEL: its preset is detected from its names. */
static void test_builtin_arch_as_model(void **state) {
    tu_cli_expect(0, "info --arch squeezenet1.1");
    assert_non_null(strstr(tu_cli_out, "preset: squeezenet (detected"));
    assert_non_null(strstr(tu_cli_out, "fire9/concat"));
    tu_cli_expect(2, "info --arch no-such-arch");
    expect_one_line_usage_error();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arch_parameter_counts), cmocka_unit_test(test_arch_sizes),
        cmocka_unit_test(test_every_workload_json),   cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_in_process_and_text),   cmocka_unit_test(test_builtin_arch_as_model),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
