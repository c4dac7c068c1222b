/* deconv and saliency against PyTorch (tests/fixtures/look/, made by make_look_fixtures.py):
 * - the Zeiler & Fergus projection of a pool1 channel (switches and fill unpooling) and of a
 *   pool2 channel, written out in torch as max_unpool2d -> relu -> conv_transpose2d;
 * - the vanilla gradient, guided backprop (a custom torch ReLU backward), gradient x input, and
 *   SmoothGrad over the noise samples the script drew (handed to cnnvis's averaging);
 * through the library on the CPU backend, and the same numbers through the CLI's --save-tensor.
 * Also: the default SmoothGrad noise (seeded cnv_rng) has the requested spread and reproduces
 * from its seed, the SqueezeNet pictures are made, malformed requests exit 2 with one line, and
 * the public pieces the verbs draw with give the pictures their values call for. */
#include "test_util.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/exec.h"
#include "core/status.h"
#include "io/npy.h"
#include "vis/deconv.h"
#include "vis/saliency.h"

#define TOL 1e-4

static json_t *manifest;
static cnv_graph *net;
static cnv_backend *cpu;
static float *input;
static char tmpdir[] = "/tmp/cnnvis_look_XXXXXX";

static char *fixture(const char *name) {
    char *p = strdup(tu_fixture_path(name));
    assert_non_null(p);
    return p;
}

static const char *field(const json_t *obj, const char *key) {
    const char *s = json_string_value(json_object_get(obj, key));
    if (!s) fail_msg("look/manifest.json: missing string \"%s\"", key);
    return s;
}

/* A reference array from the fixture folder; *n gets its element count. */
static float *reference(const char *file, size_t *n) {
    char rel[256];
    snprintf(rel, sizeof rel, "look/%s", file);
    float *data;
    cnv_shape s;
    tu_expect_ok(cnv_npy_read(tu_fixture_path(rel), &data, &s));
    *n = cnv_shape_numel(&s);
    return data;
}

static size_t input_numel(void) { return cnv_shape_numel(&net->values[net->input].shape); }

static void check_close(const char *what, const float *got, const float *want, size_t n) {
    double err = tu_rel_error(got, want, n);
    printf("  %-40s rel err %.2e\n", what, err);
    if (!(err < TOL)) fail_msg("%s: relative error %.3e vs PyTorch (tolerance %.0e)", what, err, TOL);
}

static void test_deconv_matches_torch(void **state) {
    cnv_exec *ex;
    tu_expect_ok(cnv_exec_create(net, cpu, 1, &ex));
    const json_t *cases = json_object_get(manifest, "deconv"), *c;
    size_t i;
    assert_true(json_array_size(cases) >= 3);
    float *got = malloc(input_numel() * sizeof *got);
    assert_non_null(got);
    json_array_foreach(cases, i, c) {
        int node;
        tu_expect_ok(cnv_model_find_layer(net, field(c, "layer"), &node));
        const int channel = (int)json_integer_value(json_object_get(c, "channel"));
        cnv_deconvnet_params o = {.unpool_fill = strcmp(field(c, "unpool"), "fill") == 0};
        tu_expect_ok(cnv_exec_set_input(ex, input));
        tu_expect_ok(cnv_exec_forward(ex, node));
        float peak;
        tu_expect_ok(cnv_deconv_project(ex, node, channel, &o, got, &peak));
        assert_true(peak > 0);
        size_t n;
        float *want = reference(field(c, "expected"), &n);
        assert_int_equal(n, input_numel());
        char what[96];
        snprintf(what, sizeof what, "deconv %s ch %d %s", field(c, "layer"), channel, field(c, "unpool"));
        check_close(what, got, want, n);
        free(want);
    }
    /* The executor is back on true gradients afterwards. */
    assert_int_equal(ex->rule, CNV_RULE_GRADIENT);
    assert_int_equal(ex->unpool_fill, 0);
    free(got);
    cnv_exec_free(ex);
}

/* SmoothGrad's noise from the fixture: row i of smoothgrad_noise.npy. */
typedef struct given_noise {
    const float *rows;
    int n_rows;
} given_noise;

static cnv_status given_noise_draw(void *state, int sample, float *noise, size_t numel) {
    const given_noise *g = state;
    if (sample >= g->n_rows) return cnv_fail(CNV_ERR_ARG, "only %d noise samples", g->n_rows);
    memcpy(noise, g->rows + (size_t)sample * numel, numel * sizeof *noise);
    return CNV_OK;
}

static void test_saliency_matches_torch(void **state) {
    const json_t *sal = json_object_get(manifest, "saliency");
    const int cls = (int)json_integer_value(json_object_get(sal, "class"));
    int logits;
    tu_expect_ok(cnv_model_find_layer(net, "fc", &logits));
    cnv_exec *ex;
    tu_expect_ok(cnv_exec_create(net, cpu, 1, &ex));
    const size_t n_in = input_numel();
    float *got = malloc(n_in * sizeof *got);
    assert_non_null(got);
    const struct {
        cnv_saliency_method m;
        const char *key;
    } methods[] = {{CNV_SALIENCY_GRAD, "grad"}, {CNV_SALIENCY_GUIDED, "guided"}, {CNV_SALIENCY_GRADXINPUT, "gradxinput"}};
    float *refs[3];
    for (int k = 0; k < 3; k++) {
        cnv_saliency_params o;
        cnv_saliency_params_default(&o);
        o.method = methods[k].m;
        tu_expect_ok(cnv_saliency_compute(ex, logits, cls, input, &o, got));
        size_t n;
        refs[k] = reference(field(sal, methods[k].key), &n);
        assert_int_equal(n, n_in);
        check_close(methods[k].key, got, refs[k], n);
    }
    /* Guided backprop really differs from the gradient here (else the check above proves little). */
    assert_true(tu_rel_error(refs[1], refs[0], n_in) > 0.1);

    size_t n_noise, n;
    float *noise = reference(field(sal, "smoothgrad_noise"), &n_noise);
    float *want = reference(field(sal, "smoothgrad"), &n);
    given_noise gn = {noise, (int)(n_noise / n_in)};
    assert_true(gn.n_rows >= 2);
    tu_expect_ok(cnv_saliency_smoothgrad(ex, logits, cls, input, gn.n_rows, given_noise_draw, &gn, got));
    check_close("smoothgrad (torch's noise samples)", got, want, n);
    assert_true(tu_rel_error(want, refs[0], n_in) > 0.01); /* the noise changed the gradient */
    for (int k = 0; k < 3; k++) free(refs[k]);
    free(noise);
    free(want);
    free(got);
    cnv_exec_free(ex);
}

/* The default noise: sd as asked, mean 0, and the same numbers from the same seed. */
static void test_gaussian_noise(void **state) {
    const size_t n = 200000;
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    assert_true(a && b);
    cnv_gaussian_noise g1 = {.sd = 0.3f}, g2 = {.sd = 0.3f};
    cnv_rng_seed(&g1.rng, 5);
    cnv_rng_seed(&g2.rng, 5);
    tu_expect_ok(cnv_gaussian_noise_draw(&g1, 0, a, n));
    tu_expect_ok(cnv_gaussian_noise_draw(&g2, 0, b, n));
    assert_memory_equal(a, b, n * sizeof *a);
    double sum = 0, sq = 0;
    for (size_t i = 0; i < n; i++) sum += a[i], sq += (double)a[i] * a[i];
    double mean = sum / n, sd = sqrt(sq / n - mean * mean);
    assert_true(fabs(mean) < 0.005);
    assert_true(fabs(sd - 0.3) < 0.005);
    float x[4] = {-1.0f, 3.0f, 0.5f, 2.0f};
    assert_float_equal(cnv_saliency_noise_sd(x, 4, 0.15f), 0.6f, 1e-6);
    free(a);
    free(b);
}

/* ---- the CLI ---- */

static char *tmp_path(const char *name) {
    char *p = malloc(strlen(tmpdir) + strlen(name) + 2);
    assert_non_null(p);
    sprintf(p, "%s/%s", tmpdir, name);
    return p;
}

static float *load_npy(const char *path, cnv_shape *s) {
    float *d;
    tu_expect_ok(cnv_npy_read(path, &d, s));
    return d;
}

static void run_ok(const char *args) {
    static char out[8192], err[8192];
    int rc = tu_run_cli(args, out, sizeof out, err, sizeof err);
    if (rc != 0) fail_msg("cnnvis %s: exit %d: %s", args, rc, err);
}

static void test_cli_matches_torch(void **state) {
    char *model = fixture("look/look_net.onnx"), *in = fixture("look/input.npy");
    char *png = tmp_path("d.png"), *npy = tmp_path("d.npy"), args[2048];
    const json_t *c = json_array_get(json_object_get(manifest, "deconv"), 0);
    snprintf(args, sizeof args, "deconv '%s' '%s' --layer %s --channel %d --unpool %s -o '%s' --save-tensor '%s'", model,
             in, field(c, "layer"), (int)json_integer_value(json_object_get(c, "channel")), field(c, "unpool"), png,
             npy);
    run_ok(args);
    cnv_shape s;
    size_t n;
    float *got = load_npy(npy, &s), *want = reference(field(c, "expected"), &n);
    assert_int_equal(cnv_shape_numel(&s), n);
    check_close("cli deconv", got, want, n);
    assert_int_equal(access(png, R_OK), 0);
    free(got);
    free(want);

    /* --top 3 of pool1: three projections, the strongest channel first (the manifest's pool1
     * channel is not necessarily it, so compare with the library's ranking). */
    snprintf(args, sizeof args, "deconv '%s' '%s' --layer pool1 --top 3 -o '%s' --save-tensor '%s'", model, in, png, npy);
    run_ok(args);
    got = load_npy(npy, &s);
    assert_int_equal(s.d[0], 3);
    cnv_exec *ex;
    int node, top[3];
    tu_expect_ok(cnv_exec_create(net, cpu, 1, &ex));
    tu_expect_ok(cnv_model_find_layer(net, "pool1", &node));
    tu_expect_ok(cnv_exec_set_input(ex, input));
    tu_expect_ok(cnv_exec_forward(ex, node));
    cnv_shape as = ex->shapes[net->nodes[node].out];
    float *act = malloc(cnv_shape_numel(&as) * sizeof *act), *one = malloc(input_numel() * sizeof *one);
    assert_true(act && one);
    tu_expect_ok(cnv_exec_read(ex, net->nodes[node].out, act));
    tu_expect_ok(cnv_deconv_strongest_channels(act, &as, 3, top, NULL));
    for (int i = 0; i < 3; i++) {
        tu_expect_ok(cnv_deconv_project(ex, node, top[i], NULL, one, NULL));
        check_close("cli deconv --top 3, one tile", got + (size_t)i * input_numel(), one, input_numel());
    }
    free(act);
    free(one);
    free(got);
    cnv_exec_free(ex);

    const json_t *sal = json_object_get(manifest, "saliency");
    snprintf(args, sizeof args, "saliency '%s' '%s' --method guided -o '%s' --save-tensor '%s'", model, in, png, npy);
    run_ok(args);
    got = load_npy(npy, &s);
    want = reference(field(sal, "guided"), &n);
    check_close("cli saliency guided", got, want, n);
    free(got);
    free(want);

    /* SmoothGrad from a seed: the same seed gives the same result, another seed another one. */
    char *npy2 = tmp_path("s2.npy");
    snprintf(args, sizeof args, "saliency '%s' '%s' --method smoothgrad --samples 5 --seed 3 -o '%s' --save-tensor '%s'",
             model, in, png, npy);
    run_ok(args);
    run_ok(args);
    float *first = load_npy(npy, &s);
    snprintf(args, sizeof args, "saliency '%s' '%s' --method smoothgrad --samples 5 --seed 3 -o '%s' --save-tensor '%s'",
             model, in, png, npy2);
    run_ok(args);
    float *again = load_npy(npy2, &s);
    assert_memory_equal(first, again, cnv_shape_numel(&s) * sizeof *first);
    free(again);
    snprintf(args, sizeof args, "saliency '%s' '%s' --method smoothgrad --samples 5 --seed 4 -o '%s' --save-tensor '%s'",
             model, in, png, npy2);
    run_ok(args);
    again = load_npy(npy2, &s);
    assert_true(tu_rel_error(again, first, cnv_shape_numel(&s)) > 1e-3);
    free(again);
    free(first);
    free(npy2);
    free(model);
    free(in);
    free(png);
    free(npy);
}

/* On SqueezeNet and the cat picture: the commands run, and the projection of a pool5 channel's
 * strongest activation stays near that activation's place (it is zero far from the receptive
 * field, which the test checks through the tensor). */
static void test_squeezenet_pictures(void **state) {
    char *model = strdup(tu_shared_path("models/squeezenet1.1_openvino_fp16/derived/squeezenet1.1_fp32_from_ir.onnx"));
    char *img = strdup(tu_shared_path("images/chelsea.png"));
    char *png = tmp_path("sq.png"), *npy = tmp_path("sq.npy"), args[2048];
    assert_true(model && img);
    snprintf(args, sizeof args, "deconv '%s' '%s' --layer pool5 --channel 3 -o '%s' --save-tensor '%s'", model, img, png,
             npy);
    run_ok(args);
    cnv_shape s;
    float *p = load_npy(npy, &s);
    /* pool5's receptive field is 79 pixels: fewer than half the pixels may be touched. */
    size_t plane = (size_t)s.d[2] * s.d[3], touched = 0;
    for (size_t i = 0; i < plane; i++)
        touched += p[i] != 0.0f || p[plane + i] != 0.0f || p[2 * plane + i] != 0.0f;
    printf("  squeezenet pool5 ch 3 projection touches %zu of %zu pixels\n", touched, plane);
    assert_true(touched > 100 && touched < plane / 2);
    free(p);
    snprintf(args, sizeof args, "saliency '%s' '%s' --method smoothgrad --samples 2 -o '%s'", model, img, png);
    run_ok(args);
    assert_int_equal(access(png, R_OK), 0);
    free(model);
    free(img);
    free(png);
    free(npy);
}

/* The public pieces the verbs draw with, on values whose pictures are known: the map picture
 * (0 black, the 99th percentile white and above it clipped; an all-zero map black), the signal
 * picture under the generic preset (zero at 128, the largest magnitude at 1 and 255), the
 * strongest channels and their k range, the method names, and indices out of range refused. */
static void test_public_pieces(void **state) {
    float map[100];
    for (int i = 0; i < 100; i++) map[i] = (float)i;
    cnv_image pic;
    tu_expect_ok(cnv_saliency_map_picture(map, 10, 10, &pic));
    assert_int_equal(pic.w * pic.h, 100);
    assert_int_equal(pic.px[0], 0);
    assert_int_equal(pic.px[98 * pic.c], 255); /* sorted[(size_t)(0.99 * 99)] = 98 */
    assert_int_equal(pic.px[99 * pic.c], 255);
    assert_true(pic.px[49 * pic.c] > 120 && pic.px[49 * pic.c] < 135);
    cnv_image_free(&pic);
    memset(map, 0, sizeof map);
    tu_expect_ok(cnv_saliency_map_picture(map, 10, 10, &pic));
    for (int i = 0; i < 100 * pic.c; i++) assert_int_equal(pic.px[i], 0);
    cnv_image_free(&pic);
    assert_int_equal(cnv_saliency_map_picture(map, 0, 10, &pic), CNV_ERR_ARG);

    const float signal[3] = {1.0f, -1.0f, 0.0f};
    cnv_shape s3 = cnv_shape4(1, 1, 1, 3);
    tu_expect_ok(cnv_signal_picture(signal, &s3, NULL, &pic));
    assert_int_equal(pic.c, 1);
    assert_int_equal(pic.px[0], 255);
    assert_int_equal(pic.px[1], 1);
    assert_int_equal(pic.px[2], 128);
    cnv_image_free(&pic);

    const float act[6] = {0.5f, 0.1f, /* channel 0 */ 2.0f, -1.0f, /* 1 */ 0.0f, 0.7f /* 2 */};
    cnv_shape as = cnv_shape4(1, 3, 1, 2);
    int top[3];
    float peaks[3];
    tu_expect_ok(cnv_deconv_strongest_channels(act, &as, 3, top, peaks));
    assert_int_equal(top[0], 1);
    assert_int_equal(top[1], 2);
    assert_int_equal(top[2], 0);
    assert_true(peaks[0] == 2.0f && peaks[1] == 0.7f && peaks[2] == 0.5f);
    assert_int_equal(cnv_deconv_strongest_channels(act, &as, 4, top, NULL), CNV_ERR_ARG);
    assert_int_equal(cnv_deconv_strongest_channels(act, &as, 0, top, NULL), CNV_ERR_ARG);

    cnv_saliency_method m;
    tu_expect_ok(cnv_saliency_parse("gradxinput", &m));
    assert_int_equal(m, CNV_SALIENCY_GRADXINPUT);
    assert_string_equal(cnv_saliency_name(CNV_SALIENCY_GUIDED), "guided");
    assert_string_equal(cnv_saliency_name(CNV_SALIENCY_COUNT), "?");
    assert_int_equal(cnv_saliency_parse("gradcam", &m), CNV_ERR_ARG);
    assert_non_null(strstr(cnv_last_error(), cnv_saliency_names()));

    const int n = cnv_model_layer_count(net);
    assert_int_equal(cnv_graph_last_map_node(net, 1 << 20), cnv_graph_last_map_node(net, n));
    assert_int_equal(cnv_graph_last_map_node(net, 0), -1);
    cnv_exec *ex;
    tu_expect_ok(cnv_exec_create(net, cpu, 1, &ex));
    tu_expect_ok(cnv_exec_set_input(ex, input));
    float cam[1];
    assert_int_equal(cnv_gradcam(ex, -1, n - 1, 0, cam), CNV_ERR_ARG);
    assert_int_equal(cnv_gradcam(ex, 0, n, 0, cam), CNV_ERR_ARG);
    cnv_cam_head head;
    assert_int_equal(cnv_cam_head_find(net, n, &head), CNV_ERR_ARG);
    cnv_exec_free(ex);
}

static void expect_usage_error(const char *args, const char *needle) {
    char out[4096], err[4096];
    int rc = tu_run_cli(args, out, sizeof out, err, sizeof err);
    if (rc != 2) fail_msg("cnnvis %s: exit %d, expected 2 (%s)", args, rc, err);
    const char *nl = strchr(err, '\n');
    if (!nl || nl[1] != '\0') fail_msg("cnnvis %s: not one line: %s", args, err);
    if (!strstr(err, needle)) fail_msg("cnnvis %s: '%s' lacks '%s'", args, err, needle);
}

static void test_bad_inputs(void **state) {
    char *model = fixture("look/look_net.onnx"), *in = fixture("look/input.npy"), *png = tmp_path("bad.png");
    char *truncated = tmp_path("truncated.png"), args[2048];
    /* The first 100 bytes of a real PNG. */
    FILE *src = fopen(tu_shared_path("images/chelsea.png"), "rb"), *dst = fopen(truncated, "wb");
    assert_true(src && dst);
    char head[100];
    assert_int_equal(fread(head, 1, sizeof head, src), sizeof head);
    fwrite(head, 1, sizeof head, dst);
    fclose(src);
    fclose(dst);

    snprintf(args, sizeof args, "deconv '%s' '%s' --layer nosuch --channel 0 -o '%s'", model, in, png);
    expect_usage_error(args, "nosuch");
    snprintf(args, sizeof args, "deconv '%s' '%s' --layer pool1 --channel 4 -o '%s'", model, in, png);
    expect_usage_error(args, "channel 4 out of range");
    snprintf(args, sizeof args, "deconv '%s' '%s' --layer pool1 --channel 0 --unpool sideways -o '%s'", model, in, png);
    expect_usage_error(args, "sideways");
    snprintf(args, sizeof args, "deconv '%s' '%s' --layer pool1 -o '%s'", model, in, png);
    expect_usage_error(args, "--channel");
    snprintf(args, sizeof args, "saliency '%s' '%s' --method sideways -o '%s'", model, in, png);
    expect_usage_error(args, "sideways");
    snprintf(args, sizeof args, "saliency '%s' '%s' --class 9 -o '%s'", model, in, png);
    expect_usage_error(args, "9");
    char *sq = strdup(tu_shared_path("models/squeezenet1.1_openvino_fp16/derived/squeezenet1.1_fp32_from_ir.onnx"));
    assert_non_null(sq);
    snprintf(args, sizeof args, "saliency '%s' '%s' -o '%s'", sq, truncated, png);
    expect_usage_error(args, "truncated.png");
    snprintf(args, sizeof args, "deconv '%s' '%s' --layer conv1 --channel 0 -o '%s'", sq, truncated, png);
    expect_usage_error(args, "truncated.png");
    assert_int_not_equal(access(png, F_OK), 0); /* no output after a failure */
    free(sq);
    free(model);
    free(in);
    free(png);
    free(truncated);
}

static int setup(void **state) {
    if (!mkdtemp(tmpdir)) return -1;
    json_error_t e;
    manifest = json_load_file(tu_fixture_path("look/manifest.json"), 0, &e);
    if (!manifest) {
        fprintf(stderr, "look/manifest.json: %s\n", e.text);
        return -1;
    }
    char rel[256];
    snprintf(rel, sizeof rel, "look/%s", json_string_value(json_object_get(manifest, "model")));
    if (cnv_model_load(tu_fixture_path(rel), &net) != CNV_OK || cnv_backend_cpu_create(&cpu) != CNV_OK) {
        fprintf(stderr, "%s\n", cnv_last_error());
        return -1;
    }
    snprintf(rel, sizeof rel, "look/%s", json_string_value(json_object_get(manifest, "input")));
    cnv_shape s;
    if (cnv_npy_read(tu_fixture_path(rel), &input, &s) != CNV_OK || cnv_shape_numel(&s) != input_numel()) {
        fprintf(stderr, "%s: unreadable or not the network's input shape\n", rel);
        return -1;
    }
    return 0;
}

static int teardown(void **state) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    free(input);
    cnv_backend_free(cpu);
    cnv_model_free(net);
    json_decref(manifest);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deconv_matches_torch),  cmocka_unit_test(test_saliency_matches_torch),
        cmocka_unit_test(test_gaussian_noise),        cmocka_unit_test(test_cli_matches_torch),
        cmocka_unit_test(test_squeezenet_pictures),   cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_public_pieces),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
