/* The two real Keras U-Nets of ../shared/models (SOURCES.md L and M) do, through cnnvis, what
 * their repositories say they do (test_keras checks the same files against a float64 numpy
 * forward), and the verbs that fit a segmentation net with one sigmoid mask, [N,1,H,W], run on
 * them:
 * - the lane U-Net (M), fed as its training read frames (cv2.imread: BGR, raw 0..255, which the
 *   bgr255 preset gives), finds the lane of label1.jpg in res1.jpg once the solid blue lane its
 *   repository painted over the road is replaced by the median road colour (SOURCES.md: 24.7% of
 *   the image, IoU 0.945);
 * - the MNIST U-Net (L) restores digits broken by three white bars painted as its notebook does
 *   (SOURCES.md: mean |output - clean| 0.022 against 0.109 for the broken input);
 * - saliency, gradcam, grad, class (a class of a mask is the mean of its logits), maps, filter and
 *   neuron exit 0 on both and write their pictures; the optimizations raise their objective; CAM,
 *   classify and a class past the mask's channels are refused in one line. */
#include "cli_check.h"
#include "test_util.h"
#include "model_run.h"

#include "cnnvis/files.h"
#include "cnnvis/picture.h"
#include "io/npy.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LANE_DIR "models/lane_unet_upsampling_abdallah/"
#define MNIST_UNET "models/mnist_unet_convtranspose_hiwony/unet.h5"
#define DIGITS "models/mnist/real_digits_t10k_first100/t10k-images-first100-idx3-ubyte"
#define OUT CNNVIS_BINARY_DIR "/unet_fixtures/"
#define ROAD_PNG OUT "lane_road.png"
#define ROAD_NPY OUT "lane_road_bgr.npy"
#define DIGIT_PNG OUT "digit0.png"

enum { SIDE = 128, PLANE = SIDE * SIDE, DIGIT = 28, N_DIGITS = 10, BAR = 5 };

static char lane_model[512], mnist_model[512];

static int setup(void **state) {
    (void)state;
    mkdir(OUT, 0755);
    snprintf(lane_model, sizeof lane_model, "%s", tu_shared_path(LANE_DIR "unet.h5"));
    snprintf(mnist_model, sizeof mnist_model, "%s", tu_shared_path(MNIST_UNET));
    return 0;
}

/* Runs the CLI, which must exit 0; its stdout stays in the static buffer returned. */
static const char *cli_ok(const char *args) {
    static char out[1 << 16], err[8192];
    int rc = tu_run_cli(args, out, sizeof out, err, sizeof err);
    if (rc != 0) fail_msg("cnnvis %s: exit %d: %s", args, rc, err);
    return out;
}

static float *npy_ok(const char *path, cnv_shape *shape) {
    float *data = NULL;
    if (cnv_npy_read(path, &data, shape) != CNV_OK) fail_msg("%s", cnv_last_error());
    return data;
}

/* The lane U-Net's mask (1x1x128x128) of `input` through `cnnvis forward` with extra options. */
static float *lane_forward(const char *input, const char *options, const char *saved) {
    char args[4096];
    snprintf(args, sizeof args, "forward '%s' '%s' %s --device cpu --save-tensor '%s'", lane_model, input, options,
             saved);
    const char *out = cli_ok(args);
    if (*options && !strstr(out, "(preset bgr255)")) fail_msg("forward did not say it used bgr255:\n%s", out);
    cnv_shape s;
    float *mask = npy_ok(saved, &s);
    cnv_shape want = cnv_shape4(1, 1, SIDE, SIDE);
    assert_true(cnv_shape_equal(&s, &want));
    return mask;
}

/* res1.jpg with its solid-blue lane (pure blue before JPEG: blue above both green and red by more
 * than 100 after it) replaced by the median road colour, B 122 G 102 R 95 (SOURCES.md M); written
 * as a PNG (lossless, so the CLI reads these very pixels) and as the tensor the model was trained
 * on, NCHW BGR 0..255, converted here without cnnvis' preprocessing. */
static void make_road(void) {
    cnv_image img;
    tu_expect_ok(cnv_image_load(tu_shared_path(LANE_DIR "samples/res1.jpg"), 3, &img));
    assert_true(img.w == SIDE && img.h == SIDE && img.c == 3);
    int painted = 0;
    static float bgr[3 * PLANE];
    for (int i = 0; i < PLANE; i++) {
        unsigned char *p = img.px + 3 * i; /* R, G, B */
        if (p[2] - (p[0] > p[1] ? p[0] : p[1]) > 100) {
            p[0] = 95, p[1] = 102, p[2] = 122;
            painted++;
        }
        for (int c = 0; c < 3; c++) bgr[c * PLANE + i] = p[2 - c];
    }
    print_message("  res1.jpg: %d blue pixels (%.1f%%) replaced by the road colour\n", painted,
                  100.0 * painted / PLANE);
    assert_true(painted > PLANE / 5 && painted < PLANE / 3);
    tu_expect_ok(cnv_image_save_png(ROAD_PNG, &img));
    cnv_shape s = cnv_shape4(1, 3, SIDE, SIDE);
    tu_expect_ok(cnv_npy_write(ROAD_NPY, bgr, &s));
    cnv_image_free(&img);
}

/* label1.jpg, the training mask of the frame, thresholded at half of 255. */
static void load_label(unsigned char *label) {
    cnv_image img;
    tu_expect_ok(cnv_image_load(tu_shared_path(LANE_DIR "samples/label1.jpg"), 1, &img));
    assert_true(img.w == SIDE && img.h == SIDE);
    for (int i = 0; i < PLANE; i++) label[i] = img.px[i] > 127.5;
    cnv_image_free(&img);
}

/* The share of the image where mask > 0.5, and that region's IoU with the label. */
static double lane_iou(const float *mask, const unsigned char *label, double *coverage) {
    int both = 0, either = 0, found = 0;
    for (int i = 0; i < PLANE; i++) {
        int m = mask[i] > 0.5f;
        found += m;
        both += m && label[i];
        either += m || label[i];
    }
    *coverage = (double)found / PLANE;
    return either ? (double)both / either : 0.0;
}

static void test_lane_mask(void **state) {
    (void)state;
    make_road();
    static unsigned char label[PLANE];
    load_label(label);
    float *from_png = lane_forward(ROAD_PNG, "--preset bgr255", OUT "lane_png_mask.npy");
    /* The preset's pixels are exactly the model's training input: the same mask as the tensor. */
    float *from_npy = lane_forward(ROAD_NPY, "", OUT "lane_npy_mask.npy");
    assert_memory_equal(from_png, from_npy, PLANE * sizeof *from_png);
    double coverage, iou = lane_iou(from_png, label, &coverage);
    print_message("  lane U-Net, --preset bgr255: mask > 0.5 on %.1f%% of the image, IoU %.3f with label1.jpg "
                  "(SOURCES.md: 24.7%%, 0.945)\n", 100 * coverage, iou);
    assert_true(iou > 0.9);
    assert_true(fabs(coverage - 0.247) < 0.02);
    /* Read as the generic preset does (RGB / 255) the frame shows no lane: the preset matters. */
    float *generic = lane_forward(ROAD_PNG, "", OUT "lane_generic_mask.npy");
    double generic_cov, generic_iou = lane_iou(generic, label, &generic_cov);
    print_message("  the same picture with the generic preset (RGB 0..1): %.1f%%, IoU %.3f\n", 100 * generic_cov,
                  generic_iou);
    assert_true(generic_iou < 0.5);
    /* Grad-CAM of the mask (its default layer, the last upsampling, at full size) puts the
     * evidence for the lane on the lane. */
    char args[4096];
    snprintf(args, sizeof args, "gradcam '%s' '" ROAD_PNG "' --preset bgr255 --device cpu -o '" OUT "lane_cam.png' "
             "--save-tensor '" OUT "lane_cam.npy'", lane_model);
    cli_ok(args);
    cnv_shape s;
    float *cam = npy_ok(OUT "lane_cam.npy", &s);
    assert_int_equal(cnv_shape_numel(&s), PLANE);
    double in = 0, out = 0;
    int n_in = 0;
    for (int i = 0; i < PLANE; i++) {
        n_in += label[i];
        *(label[i] ? &in : &out) += cam[i];
    }
    in /= n_in;
    out /= PLANE - n_in;
    print_message("  Grad-CAM of the mask: mean %.3g on the labelled lane, %.3g off it\n", in, out);
    assert_true(in > 3 * out);
    free(cam);
    free(from_png);
    free(from_npy);
    free(generic);
}

/* The notebook's broken digits (SOURCES.md L; 1.Unet_MNIST.ipynb, rn = 5): three bars of 1.0,
 * rows 10-19 x columns ix..ix+4, rows iz..iz+4 x columns 5-13, and the square ic..ic+4 on both
 * axes, ix, iz, ic uniform in 0..22 (here from a seeded cnv_rng). */
static void break_digit(float *x, cnv_rng *rng) {
    int ix = (int)cnv_rng_below(rng, DIGIT - BAR), iz = (int)cnv_rng_below(rng, DIGIT - BAR),
        ic = (int)cnv_rng_below(rng, DIGIT - BAR);
    for (int y = 0; y < DIGIT; y++)
        for (int c = 0; c < DIGIT; c++) {
            int bar = (y >= 10 && y < 20 && c >= ix && c < ix + BAR) || (y >= iz && y < iz + BAR && c >= 5 && c < 14) ||
                      (y >= ic && y < ic + BAR && c >= ic && c < ic + BAR);
            if (bar) x[y * DIGIT + c] = 1.0f;
        }
}

static double mean_abs_diff(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += fabs((double)a[i] - b[i]);
    return s / (double)n;
}

static void test_mnist_restores_digits(void **state) {
    (void)state;
    cnv_idx idx;
    tu_expect_ok(cnv_idx_read(tu_shared_path(DIGITS), 3, N_DIGITS, &idx));
    assert_true(idx.dims[0] == N_DIGITS && idx.dims[1] == DIGIT && idx.dims[2] == DIGIT);
    enum { N = N_DIGITS * DIGIT * DIGIT };
    static float clean[N], broken[N];
    for (int i = 0; i < N; i++) clean[i] = broken[i] = idx.data[i] / 255.0f; /* white on black, x / 255 */
    cnv_rng rng;
    cnv_rng_seed(&rng, 13);
    for (int k = 0; k < N_DIGITS; k++) break_digit(broken + k * DIGIT * DIGIT, &rng);
    cnv_graph *g = NULL;
    tu_expect_ok(cnv_model_load(mnist_model, &g));
    float *restored, *kept;
    cnv_shape s;
    tu_expect_ok(tu_model_forward(g, broken, N_DIGITS, g->output, &restored, &s));
    assert_int_equal(cnv_shape_numel(&s), N);
    tu_expect_ok(tu_model_forward(g, clean, N_DIGITS, g->output, &kept, &s));
    double broken_err = mean_abs_diff(broken, clean, N), restored_err = mean_abs_diff(restored, clean, N),
           clean_err = mean_abs_diff(kept, clean, N);
    print_message("  MNIST U-Net, 10 test digits: mean |output - clean| %.3f for the broken input, whose own error is "
                  "%.3f (SOURCES.md: 0.022 vs 0.109); on the clean input %.4f (0.008)\n",
                  restored_err, broken_err, clean_err);
    assert_true(restored_err < 0.5 * broken_err);
    assert_true(clean_err < 0.03);
    /* The first clean digit as a picture, for the verbs below. */
    cnv_image digit = {.w = DIGIT, .h = DIGIT, .c = 1, .px = idx.data};
    tu_expect_ok(cnv_image_save_png(DIGIT_PNG, &digit));
    free(restored);
    free(kept);
    cnv_graph_free(g);
    cnv_idx_free(&idx);
}

/* A picture the CLI wrote: it loads, at least min_w wide. */
static void assert_picture(const char *path, int min_w) {
    cnv_image img;
    if (cnv_image_load(path, 3, &img) != CNV_OK) fail_msg("%s: %s", path, cnv_last_error());
    assert_true(img.w >= min_w);
    cnv_image_free(&img);
}

/* An optimization's sidecar (OUT.json beside OUT.png): the objective rose. */
static void assert_objective_rose(const char *png, const char *what) {
    json_t *root;
    const json_t *run = tu_sidecar_run(png, &root);
    double start = tu_run_value(run, "start"), final = tu_run_value(run, "final");
    print_message("    %s: objective %.4g -> %.4g\n", what, start, final);
    if (!(final > start)) fail_msg("%s: the objective did not rise (%g -> %g)", what, start, final);
    json_decref(root);
}

typedef struct unet_case {
    const char *tag, *model, *input, *options; /* options: the preset its pixels need */
    const char *maps_layer, *filter_layer, *mask_layer; /* mask_layer: the Sigmoid giving the mask */
} unet_case;

/* Each verb that fits a segmentation output exits 0 and writes a picture that loads; the
 * attribution verbs say their class is the mask's mean logit, the optimizations' objective rises. */
static void run_verbs(const unet_case *u) {
    char args[4096], png[1024];
    static const char *const attribution[] = {"saliency", "gradcam", "maps"};
    for (int v = 0; v < 3; v++) {
        snprintf(png, sizeof png, OUT "%s_%s.png", u->tag, attribution[v]);
        snprintf(args, sizeof args, "%s '%s' '%s' %s --device cpu -o '%s'%s%s", attribution[v], u->model, u->input,
                 u->options, png, v == 2 ? " --layer " : "", v == 2 ? u->maps_layer : "");
        const char *out = cli_ok(args);
        print_message("  %s %s: exit 0, %s\n", u->tag, attribution[v], png);
        if (v < 2 && !strstr(out, "mean logit"))
            fail_msg("%s does not say its class is the mask's mean logit:\n%s", attribution[v], out);
        assert_picture(png, 2 * DIGIT);
    }
    /* A few steps each: the mask's mean logit, two channels, the centre unit of the mask. */
    char objectives[3][128];
    snprintf(objectives[0], sizeof objectives[0], "class --class 0");
    snprintf(objectives[1], sizeof objectives[1], "filter --layer %s --channels 0-1", u->filter_layer);
    snprintf(objectives[2], sizeof objectives[2], "neuron --layer %s --channel 0", u->mask_layer);
    for (int v = 0; v < 3; v++) {
        snprintf(png, sizeof png, OUT "%s_render%d.png", u->tag, v);
        char verb[16];
        sscanf(objectives[v], "%15s", verb);
        snprintf(args, sizeof args, "%s '%s' %s %s --steps 10 --seed 1 --device cpu -o '%s'", verb, u->model,
                 objectives[v] + strlen(verb), u->options, png);
        cli_ok(args);
        print_message("  %s %s: exit 0, %s\n", u->tag, objectives[v], png);
        assert_picture(png, DIGIT);
        assert_objective_rose(png, objectives[v]);
    }
}

static void test_segmentation_verbs(void **state) {
    (void)state;
    const unet_case lane = {"lane", lane_model, ROAD_PNG, "--preset bgr255", "up_sampling2d_1", "conv2d_5", "conv2d_9"};
    const unet_case mnist = {"mnist", mnist_model, DIGIT_PNG, "", "conv2d_transpose_1", "conv2d_6", "conv2d_11"};
    run_verbs(&lane);
    run_verbs(&mnist);
}

/* What does not fit a mask is refused in one line (exit 2) saying why. */
static void test_segmentation_refusals(void **state) {
    (void)state;
    static const char *const cases[][2] = {
        {"gradcam '%s' '" ROAD_PNG "' --method cam -o '" OUT "refused.png'",
         "CAM needs a model ending in GlobalAveragePool"},
        {"class '%s' --class 1 -o '" OUT "refused.png'", "class 1 out of range"},
        {"saliency '%s' '" ROAD_PNG "' --class 1 -o '" OUT "refused.png'", "has 1 classes (0..0)"},
        {"classify '%s' '" ROAD_PNG "'", "the output 1x1x128x128 is not a class vector"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[4096], verb[3072];
        static char out[1 << 16], err[8192];
        snprintf(verb, sizeof verb, cases[i][0], lane_model);
        snprintf(args, sizeof args, "%s --preset bgr255 --device cpu", verb);
        int rc = tu_run_cli(args, out, sizeof out, err, sizeof err);
        print_message("  exit %d: %s", rc, err);
        assert_int_equal(rc, 2);
        if (!strstr(err, cases[i][1])) fail_msg("the message lacks \"%s\"", cases[i][1]);
        assert_int_equal(strchr(err, '\n') - err, (long)strlen(err) - 1);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lane_mask),
        cmocka_unit_test(test_mnist_restores_digits),
        cmocka_unit_test(test_segmentation_verbs),
        cmocka_unit_test(test_segmentation_refusals),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
