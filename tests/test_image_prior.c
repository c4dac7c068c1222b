/* The Gaussian image prior (vis/image_prior.h): the fit recovers a known principal subspace and
 * its variances; and on the bundled Fashion-MNIST model, class images optimized within the prior
 * fitted to the training set are top-1 for their class and resemble the class (Pearson r with the
 * mean test image of that class), where the same objective in Fourier space without a prior gives
 * edge strokes that do not. Needs Debian's dataset-fashion-mnist (skipped without it). */
#include "test_util.h"

#include "core/exec.h"
#include "core/rng.h"
#include "io/dataset.h"
#include "models/preset.h"
#include "vis/image_prior.h"
#include "vis/render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"
#define BUNDLED CNNVIS_SOURCE_DIR "/models/fashion_mnist.onnx"

static double dot(const float *a, const float *b, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* Points mean + 3 a e0 + 1 b e1 + 0.01 noise in 16-D (a, b standard normal): two components with
 * standard deviations 3 and 1, along e0 and e1, orthogonal to each other. */
static void test_fit_recovers_subspace(void **state) {
    (void)state;
    enum { N = 4000, P = 16 };
    float *x = malloc((size_t)N * P * sizeof *x), e0[P] = {0}, e1[P] = {0};
    assert_non_null(x);
    for (int j = 0; j < P; j++) {
        e0[j] = (j % 2 ? 1.0f : -1.0f) / 4.0f; /* unit length over 16 values */
        e1[j] = (j < 8 ? 1.0f : -1.0f) / 4.0f;
    }
    cnv_rng rng;
    cnv_rng_seed(&rng, 7);
    for (int i = 0; i < N; i++) {
        float a = cnv_rng_normal(&rng), b = cnv_rng_normal(&rng);
        for (int j = 0; j < P; j++) x[i * P + j] = 0.5f + 3 * a * e0[j] + b * e1[j] + 0.01f * cnv_rng_normal(&rng);
    }
    cnv_image_prior pr;
    assert_int_equal(cnv_image_prior_fit(x, N, 1, 4, 4, 2, &pr), CNV_OK);
    printf("standard deviations %.3f %.3f (3 and 1 drawn)\n", pr.sd[0], pr.sd[1]);
    assert_true(fabs(pr.sd[0] - 3) < 0.15 && fabs(pr.sd[1] - 1) < 0.05);
    /* basis rows are u_k * sd_k: unit directions along e0 and e1 (up to sign), orthogonal. */
    double c0 = dot(pr.basis, e0, P) / pr.sd[0], c1 = dot(pr.basis + P, e1, P) / pr.sd[1];
    double cross = dot(pr.basis, pr.basis + P, P) / (pr.sd[0] * pr.sd[1]);
    printf("|cos| with the drawn directions %.5f %.5f, between the rows %.2g\n", fabs(c0), fabs(c1), cross);
    assert_true(fabs(c0) > 0.999 && fabs(c1) > 0.999 && fabs(cross) < 1e-4);
    for (int j = 0; j < P; j++) assert_true(fabs(pr.mean[j] - 0.5f) < 0.2f);
    cnv_image_prior_free(&pr);
    /* More components than the data can give: a clear error, not a crash. */
    assert_int_equal(cnv_image_prior_fit(x, 3, 1, 4, 4, 5, &pr), CNV_ERR_ARG);
    free(x);
}

/* The ten class images of the bundled model (256 steps of Adam 0.05 on the logits), within the
 * prior or, with prior NULL, Lucid's Fourier parameterization at 28x28. Returns the mean Pearson r
 * of each image with its class's mean test image; every image must be top-1 for its class, and
 * within the prior resemble its class more than the nine others (mean r with their means). */
static double class_images(cnv_graph *g, cnv_backend *be, const cnv_image_prior *prior, const float *class_means) {
    cnv_objective objs[10];
    for (int k = 0; k < 10; k++) objs[k] = (cnv_objective){.kind = CNV_OBJ_CHANNEL, .channel = k};
    cnv_render_opts o = {.recipe = *cnv_recipe_find("lucid"), .batch = 10, .size = {28, 28}, .seed = 1,
                         .objective_node = g->n_nodes - 1, .objectives = objs, .prior = prior};
    cnv_recipe *r = &o.recipe;
    r->steps = 256;
    r->pad = r->jitter = r->jitter2 = 0;
    r->rotate_deg = 0;
    r->scale_min = r->scale_max = 1;
    if (prior) {
        r->fourier = r->sigmoid = 0;
        r->prior_weight = 0.2f;
    }
    const cnv_preset *p = cnv_preset_find("fashion-mnist");
    cnv_render_result res;
    assert_int_equal(cnv_render(g, p, be, &o, &res), CNV_OK);
    /* Classify the images as saved (0..1, 8-bit). */
    cnv_exec *ex;
    assert_int_equal(cnv_exec_create(g, be, 10, &ex), CNV_OK);
    float x[10 * 784], logits[100];
    for (int i = 0; i < 10 * 784; i++) x[i] = roundf(fminf(fmaxf(res.images[i], 0), 1) * 255.0f) / 255.0f;
    assert_int_equal(cnv_exec_set_input(ex, x), CNV_OK);
    assert_int_equal(cnv_exec_forward(ex, g->n_nodes - 1), CNV_OK);
    assert_int_equal(cnv_exec_read(ex, g->nodes[g->n_nodes - 1].out, logits), CNV_OK);
    double mean_r = 0;
    for (int k = 0; k < 10; k++) {
        int best = 0;
        for (int j = 1; j < 10; j++)
            if (logits[k * 10 + j] > logits[k * 10 + best]) best = j;
        double rk = tu_pearson(x + k * 784, class_means + k * 784, 784), others = 0;
        for (int j = 0; j < 10; j++)
            if (j != k) others += tu_pearson(x + k * 784, class_means + j * 784, 784) / 9;
        printf("  %-11s top-1 %-11s r with the class's mean image %.2f, with the other classes' %.2f\n",
               p->builtin_labels[k], p->builtin_labels[best], rk, others);
        assert_int_equal(best, k);
        /* Within the prior every image resembles its own class more than the others. */
        if (prior) assert_true(rk > others + 0.1);
        mean_r += rk / 10;
    }
    cnv_exec_free(ex);
    cnv_render_result_free(&res);
    return mean_r;
}

/* The bundled model, where Debian's Fashion-MNIST is installed (the test is skipped otherwise). */
static cnv_graph *bundled_model_or_skip(void) {
    if (access(FASHION_DIR, R_OK) != 0) {
        printf("SKIP: %s not found (install Debian's dataset-fashion-mnist)\n", FASHION_DIR);
        skip();
    }
    cnv_graph *g;
    assert_int_equal(cnv_model_load(BUNDLED, &g), CNV_OK);
    return g;
}

static void test_class_images_within_the_prior(void **state) {
    (void)state;
    cnv_graph *g = bundled_model_or_skip();
    cnv_dataset train, test;
    assert_int_equal(cnv_dataset_load(FASHION_DIR, CNV_SPLIT_TRAIN, 1, 28, 28, 0, &train), CNV_OK);
    assert_int_equal(cnv_dataset_load(FASHION_DIR, CNV_SPLIT_TEST, 1, 28, 28, 0, &test), CNV_OK);
    cnv_image_prior prior;
    assert_int_equal(cnv_image_prior_fit(train.images, train.n, 1, 28, 28, 64, &prior), CNV_OK);
    float *means = calloc(10 * 784, sizeof *means);
    int counts[10] = {0};
    assert_non_null(means);
    for (int i = 0; i < test.n; i++) {
        counts[test.labels[i]]++;
        for (int j = 0; j < 784; j++) means[test.labels[i] * 784 + j] += test.images[(size_t)i * 784 + j];
    }
    for (int k = 0; k < 10; k++)
        for (int j = 0; j < 784; j++) means[k * 784 + j] /= (float)counts[k];
    cnv_backend *be = tu_backend_create("cpu");
    printf("within the image prior (64 components of the %d training images):\n", train.n);
    double with = class_images(g, be, &prior, means);
    printf("Fourier parameterization, no prior:\n");
    double without = class_images(g, be, NULL, means);
    printf("mean r with the class's mean image: %.2f within the prior, %.2f without\n", with, without);
    assert_true(with >= 0.6);
    assert_true(with > without + 0.2);
    tu_backend_free(be);
    free(means);
    cnv_image_prior_free(&prior);
    cnv_dataset_free(&train);
    cnv_dataset_free(&test);
    cnv_model_free(g);
}

/* The prior's head (Gemm, Reshape, Clip) on Vulkan agrees with the CPU over 16 steps. */
static void test_prior_backends_agree(void **state) {
    (void)state;
    cnv_graph *g = bundled_model_or_skip();
    cnv_dataset train;
    assert_int_equal(cnv_dataset_load(FASHION_DIR, CNV_SPLIT_TRAIN, 1, 28, 28, 2000, &train), CNV_OK);
    cnv_image_prior prior;
    assert_int_equal(cnv_image_prior_fit(train.images, train.n, 1, 28, 28, 32, &prior), CNV_OK);
    cnv_objective objs[2] = {{.kind = CNV_OBJ_CHANNEL, .channel = 1}, {.kind = CNV_OBJ_CHANNEL, .channel = 7}};
    cnv_render_opts o = {.recipe = *cnv_recipe_find("lucid"), .batch = 2, .size = {28, 28}, .seed = 3,
                         .objective_node = g->n_nodes - 1, .objectives = objs, .prior = &prior};
    o.recipe.steps = 16;
    o.recipe.fourier = o.recipe.sigmoid = 0;
    o.recipe.pad = 2;
    o.recipe.prior_weight = 0.2f;
    cnv_render_result rc, rv;
    cnv_backend *cpu = tu_backend_create("cpu");
    assert_int_equal(cnv_render(g, cnv_preset_find("fashion-mnist"), cpu, &o, &rc), CNV_OK);
    tu_backend_free(cpu);
    cnv_backend *gpu = tu_backend_create("vulkan");
    assert_int_equal(cnv_render(g, cnv_preset_find("fashion-mnist"), gpu, &o, &rv), CNV_OK);
    tu_backend_free(gpu);
    double err = tu_rel_error(rv.images, rc.images, 2 * 784);
    printf("16 steps within the prior, images vulkan vs cpu: relative error %.2e (logits %.2f, %.2f)\n", err,
           rc.final[0], rc.final[1]);
    assert_true(err < 1e-3);
    assert_true(rc.final[0] > rc.start[0] && rc.final[1] > rc.start[1]);
    cnv_render_result_free(&rc);
    cnv_render_result_free(&rv);
    cnv_image_prior_free(&prior);
    cnv_dataset_free(&train);
    cnv_model_free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_recovers_subspace),
        cmocka_unit_test(test_class_images_within_the_prior),
        cmocka_unit_test(test_prior_backends_agree),
    };
    return cmocka_run_group_tests_name("image_prior", tests, NULL, NULL);
}
