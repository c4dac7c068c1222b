/* .npy files, images, preprocessing, presets and label lists. */
#include "cli_check.h"
#include "test_util.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/graph.h"
#include "core/status.h"
#include "cnnvis/picture.h"
#include "io/npy.h"
#include "io/preprocess.h"
#include "models/labels.h"
#include "models/preset.h"

/* ---- a scratch folder per run ---- */

static int make_scratch(void **state) { return tu_scratch_create("test_io"); }
static int remove_scratch(void **state) { return tu_scratch_remove(); }

static const char *in_scratch(const char *name) {
    static char path[2][512];
    static int which;
    which ^= 1;
    snprintf(path[which], sizeof path[which], "%s/%s", tu_scratch_dir(), name);
    return path[which];
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static unsigned char *read_bytes(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n ? *n : 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

/* Files in the scratch folder whose name contains `part`. */
static int count_files_containing(const char *part) {
    DIR *d = opendir(tu_scratch_dir());
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strstr(e->d_name, part)) n++;
    closedir(d);
    return n;
}

static void expect_error(cnv_status got, cnv_status want, const char *must_mention) {
    if (got != want)
        fail_msg("expected %s, got %s (%s)", cnv_status_str(want), cnv_status_str(got), cnv_last_error());
    if (!strstr(cnv_last_error(), must_mention))
        fail_msg("message '%s' does not mention '%s'", cnv_last_error(), must_mention);
    assert_null(strchr(cnv_last_error(), '\n'));
}

/* A hand-made .npy (version 1.0) with the given header dict and payload. */
static void write_npy_raw(const char *path, const char *dict, const void *payload, size_t n) {
    size_t len = strlen(dict);
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(len + 1), 0};
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(pre, 1, sizeof pre, f);
    fwrite(dict, 1, len, f);
    fputc('\n', f);
    fwrite(payload, 1, n, f);
    fclose(f);
}

/* ---- .npy ---- */

static void npy_round_trip(void **state) {
    const cnv_shape shapes[] = {{4, {2, 3, 4, 5}}, {1, {7}}, {2, {1, 1000}}};
    cnv_rng r;
    cnv_rng_seed(&r, 11);
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        size_t n = cnv_shape_numel(&shapes[k]);
        float *x = malloc(n * sizeof *x);
        assert_non_null(x);
        tu_fill_uniform(&r, x, n, -3.0f, 3.0f);
        x[0] = -0.0f; /* bit patterns survive, not only values */
        const char *path = in_scratch("round.npy");
        assert_int_equal(cnv_npy_write(path, x, &shapes[k]), CNV_OK);

        size_t size;
        unsigned char *raw = read_bytes(path, &size);
        size_t header = 10 + (size_t)(raw[8] | raw[9] << 8);
        assert_int_equal(header % 64, 0); /* numpy's alignment */
        assert_int_equal(raw[header - 1], '\n');
        assert_int_equal(size, header + 4 * n);
        free(raw);

        float *y;
        cnv_shape s;
        assert_int_equal(cnv_npy_read(path, &y, &s), CNV_OK);
        assert_true(cnv_shape_equal(&s, &shapes[k]));
        assert_memory_equal(x, y, n * sizeof *x);
        free(x);
        free(y);
    }
    assert_int_equal(count_files_containing(".tmp"), 0);
}

static void npy_reads_float64_and_numpy_style_headers(void **state) {
    /* What numpy writes for np.array([[1.5, -2.25, 1e-3]]) in float64, little-endian. */
    const double values[3] = {1.5, -2.25, 1e-3};
    unsigned char payload[24];
    for (int i = 0; i < 3; i++) {
        uint64_t u;
        memcpy(&u, &values[i], 8);
        for (int b = 0; b < 8; b++) payload[8 * i + b] = (unsigned char)(u >> (8 * b));
    }
    const char *path = in_scratch("f8.npy");
    write_npy_raw(path, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 3), }       ", payload, 24);
    float *y;
    cnv_shape s;
    assert_int_equal(cnv_npy_read(path, &y, &s), CNV_OK);
    assert_int_equal(s.ndim, 2);
    assert_int_equal(s.d[0], 1);
    assert_int_equal(s.d[1], 3);
    for (int i = 0; i < 3; i++) assert_true(y[i] == (float)values[i]);
    free(y);
}

static void npy_rejects_other_dtypes(void **state) {
    const int32_t ints[4] = {1, 2, 3, 4};
    const char *path = in_scratch("ints.npy");
    write_npy_raw(path, "{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", ints, sizeof ints);
    float *y = (float *)1;
    cnv_shape s;
    expect_error(cnv_npy_read(path, &y, &s), CNV_ERR_UNSUPPORTED, path);
    assert_non_null(strstr(cnv_last_error(), "<i4"));
    assert_null(y);

    write_npy_raw(path, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", ints, sizeof ints);
    expect_error(cnv_npy_read(path, &y, &s), CNV_ERR_UNSUPPORTED, path);

    /* More dims than CNV_MAX_DIMS (6). */
    write_npy_raw(path, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 4), }", ints,
                  sizeof ints);
    expect_error(cnv_npy_read(path, &y, &s), CNV_ERR_UNSUPPORTED, path);
}

static void npy_rejects_truncated_and_corrupted_files(void **state) {
    const cnv_shape shape = {2, {3, 5}};
    float x[15] = {0};
    const char *good = in_scratch("good.npy");
    assert_int_equal(cnv_npy_write(good, x, &shape), CNV_OK);
    size_t size;
    unsigned char *raw = read_bytes(good, &size);
    const char *bad = in_scratch("bad.npy");
    float *y;
    cnv_shape s;

    write_bytes(bad, raw, size - 1); /* one byte of data missing */
    expect_error(cnv_npy_read(bad, &y, &s), CNV_ERR_FORMAT, bad);
    write_bytes(bad, raw, 40); /* cut inside the header */
    expect_error(cnv_npy_read(bad, &y, &s), CNV_ERR_FORMAT, bad);
    write_bytes(bad, raw, 5); /* not even the magic */
    expect_error(cnv_npy_read(bad, &y, &s), CNV_ERR_FORMAT, bad);
    raw[1] = 'X'; /* bad magic */
    write_bytes(bad, raw, size);
    expect_error(cnv_npy_read(bad, &y, &s), CNV_ERR_FORMAT, bad);
    free(raw);

    write_npy_raw(bad, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, x), }", x, sizeof x);
    expect_error(cnv_npy_read(bad, &y, &s), CNV_ERR_FORMAT, bad);
    write_npy_raw(bad, "{'fortran_order': False, 'shape': (15,), }", x, sizeof x);
    expect_error(cnv_npy_read(bad, &y, &s), CNV_ERR_FORMAT, bad);

    expect_error(cnv_npy_read(in_scratch("missing.npy"), &y, &s), CNV_ERR_IO, "missing.npy");
}

static void npy_write_failure_leaves_no_file(void **state) {
    const cnv_shape shape = {1, {3}};
    const float x[3] = {1, 2, 3};
    const char *path = in_scratch("no_such_folder/out.npy");
    expect_error(cnv_npy_write(path, x, &shape), CNV_ERR_IO, "out.npy");
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0);
}

/* ---- images ---- */

static void image_load_chelsea(void **state) {
    cnv_image rgb, gray;
    const char *path = tu_shared_path("images/chelsea.png");
    assert_int_equal(cnv_image_load(path, 3, &rgb), CNV_OK);
    /* shared/images/SOURCES.md: 451x300 RGB. */
    assert_int_equal(rgb.w, 451);
    assert_int_equal(rgb.h, 300);
    assert_int_equal(rgb.c, 3);
    assert_int_equal(cnv_image_load(path, 1, &gray), CNV_OK);
    assert_int_equal(gray.c, 1);
    assert_int_equal(gray.w, 451);
    /* Gray is the luminance of the same pixels (stb's integer Rec.601 weights: within 1). */
    double max_diff = 0, spread = 0;
    for (int i = 0; i < rgb.w * rgb.h; i++) {
        const unsigned char *p = rgb.px + 3 * i;
        double luma = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
        max_diff = fmax(max_diff, fabs(luma - gray.px[i]));
        spread = fmax(spread, fabs((double)p[0] - p[2]));
    }
    assert_true(max_diff <= 1.5);
    assert_true(spread > 20); /* a real colour photo, not a gray one */
    cnv_image_free(&rgb);
    cnv_image_free(&gray);
}

static void image_load_rejects_bad_files(void **state) {
    cnv_image img;
    const char *text = in_scratch("text.png");
    write_bytes(text, "this is not a picture\n", 22);
    expect_error(cnv_image_load(text, 3, &img), CNV_ERR_FORMAT, text);

    size_t size;
    unsigned char *png = read_bytes(tu_shared_path("images/chelsea.png"), &size);
    const char *cut = in_scratch("cut.png");
    write_bytes(cut, png, size / 2);
    expect_error(cnv_image_load(cut, 3, &img), CNV_ERR_FORMAT, cut);
    free(png);

    expect_error(cnv_image_load(in_scratch("absent.png"), 3, &img), CNV_ERR_IO, "absent.png");
}

static void image_resize_matches_hand_computed_bilinear(void **state) {
    /* 2x2 -> 4x4: half-pixel centres map destination 0..3 to source -0.25, 0.25, 0.75, 1.25;
     * the ends clamp to the border pixel. Rows: y=0 is source row 0; y=1 blends rows 0 and 1
     * with weight 0.25, y=2 with 0.75; y=3 is row 1. Row 0 across: 0, 0.75*0+0.25*100,
     * 0.25*0+0.75*100, 100. Row 1 across: 200, 213.75, 241.25, 255. */
    unsigned char px[4] = {0, 100, 200, 255};
    cnv_image src = {2, 2, 1, px}, dst;
    assert_int_equal(cnv_image_resize(&src, 4, 4, &dst), CNV_OK);
    const unsigned char want[16] = {
        0,   25,  75,  100, /* row 0 */
        50,  72,  117, 139, /* 0.75*row0 + 0.25*row1: 50, 72.19, 116.56, 138.75 */
        150, 167, 200, 216, /* 0.25*row0 + 0.75*row1: 150, 166.56, 199.69, 216.25 */
        200, 214, 241, 255, /* row 1 */
    };
    assert_memory_equal(dst.px, want, 16);
    cnv_image_free(&dst);

    /* Downscaling 4 -> 2: centres land at 0.5 and 2.5, halfway between pixel pairs. Three
     * channels stay separate. */
    unsigned char row[12] = {10, 0, 255, 20, 0, 255, 30, 100, 0, 40, 100, 0};
    cnv_image wide = {4, 1, 3, row};
    assert_int_equal(cnv_image_resize(&wide, 2, 1, &dst), CNV_OK);
    const unsigned char want2[6] = {15, 0, 255, 35, 100, 0};
    assert_memory_equal(dst.px, want2, 6);
    cnv_image_free(&dst);

    /* Same size: every pixel unchanged. */
    assert_int_equal(cnv_image_resize(&src, 2, 2, &dst), CNV_OK);
    assert_memory_equal(dst.px, px, 4);
    cnv_image_free(&dst);
}

static void image_save_png_round_trip(void **state) {
    unsigned char px[5 * 3 * 3];
    for (int i = 0; i < (int)sizeof px; i++) px[i] = (unsigned char)(i * 17);
    cnv_image img = {5, 3, 3, px}, back;
    const char *path = in_scratch("saved.png");
    assert_int_equal(cnv_image_save_png(path, &img), CNV_OK);
    assert_int_equal(cnv_image_load(path, 3, &back), CNV_OK);
    assert_int_equal(back.w, 5);
    assert_int_equal(back.h, 3);
    assert_memory_equal(back.px, px, sizeof px);
    cnv_image_free(&back);
    assert_int_equal(count_files_containing(".tmp"), 0);
}

/* ---- preprocessing ---- */

static void preprocess_squeezenet_known_pixel(void **state) {
    /* A 227x227 image (no resize happens) with one distinct pixel at x=5, y=7: the tensor
     * holds B, G, R planes minus the Caffe mean. */
    const int W = 227, H = 227;
    unsigned char *px = calloc((size_t)W * H * 3, 1);
    assert_non_null(px);
    unsigned char *p = px + (7 * W + 5) * 3;
    p[0] = 200, p[1] = 100, p[2] = 50; /* R, G, B */
    cnv_image img = {W, H, 3, px};
    const char *path = in_scratch("pixel.png");
    assert_int_equal(cnv_image_save_png(path, &img), CNV_OK);
    free(px);

    const cnv_preset *sq = cnv_preset_find("squeezenet");
    assert_non_null(sq);
    cnv_shape in = cnv_shape4(1, 3, H, W);
    float *t;
    assert_int_equal(cnv_preprocess_file(path, sq, &in, &t), CNV_OK);
    size_t plane = (size_t)W * H, at = 7 * (size_t)W + 5;
    assert_float_equal(t[0 * plane + at], 50 - 104, 0);  /* B */
    assert_float_equal(t[1 * plane + at], 100 - 117, 0); /* G */
    assert_float_equal(t[2 * plane + at], 200 - 123, 0); /* R */
    assert_float_equal(t[0], -104, 0);                   /* a black pixel */
    assert_float_equal(t[2 * plane + plane - 1], -123, 0);
    free(t);
}

static void preprocess_resizes_chelsea_like_the_image_functions(void **state) {
    /* The tensor equals load + resize + per-pixel transform: checks the plane layout at a
     * pixel that differs between channels. */
    const char *path = tu_shared_path("images/chelsea.png");
    const cnv_preset *sq = cnv_preset_find("squeezenet");
    cnv_shape in = cnv_shape4(1, 3, 227, 227);
    float *t;
    assert_int_equal(cnv_preprocess_file(path, sq, &in, &t), CNV_OK);
    cnv_image img, sized;
    assert_int_equal(cnv_image_load(path, 3, &img), CNV_OK);
    assert_int_equal(cnv_image_resize(&img, 227, 227, &sized), CNV_OK);
    size_t plane = 227 * 227;
    for (size_t i = 0; i < plane; i += 997) {
        const unsigned char *p = sized.px + 3 * i;
        assert_float_equal(t[i], p[2] - 104.0f, 0);
        assert_float_equal(t[plane + i], p[1] - 117.0f, 0);
        assert_float_equal(t[2 * plane + i], p[0] - 123.0f, 0);
    }
    cnv_image_free(&img);
    cnv_image_free(&sized);
    free(t);
}

static void preprocess_generic_gray_scales_to_unit_range(void **state) {
    unsigned char px[4] = {0, 51, 204, 255};
    cnv_image img = {2, 2, 1, px};
    const char *path = in_scratch("gray.png");
    assert_int_equal(cnv_image_save_png(path, &img), CNV_OK);
    cnv_shape in = cnv_shape4(1, 1, 2, 2);
    float *t;
    assert_int_equal(cnv_preprocess_file(path, cnv_preset_find("generic"), &in, &t), CNV_OK);
    for (int i = 0; i < 4; i++) assert_float_equal(t[i], px[i] / 255.0f, 1e-7);
    free(t);
}

static void preprocess_npy_must_have_the_input_shape(void **state) {
    cnv_shape in = cnv_shape4(1, 3, 4, 4), other = cnv_shape4(1, 3, 4, 5);
    float x[60];
    for (int i = 0; i < 60; i++) x[i] = (float)i;
    const char *good = in_scratch("input.npy"), *wrong = in_scratch("wrong.npy");
    assert_int_equal(cnv_npy_write(good, x, &in), CNV_OK);
    assert_int_equal(cnv_npy_write(wrong, x, &other), CNV_OK);
    float *t;
    const cnv_preset *sq = cnv_preset_find("squeezenet");
    assert_int_equal(cnv_preprocess_file(good, sq, &in, &t), CNV_OK);
    assert_memory_equal(t, x, 48 * sizeof(float)); /* taken as is: no mean, no reorder */
    free(t);
    expect_error(cnv_preprocess_file(wrong, sq, &in, &t), CNV_ERR_SHAPE, wrong);
    assert_non_null(strstr(cnv_last_error(), "1x3x4x5"));
    assert_non_null(strstr(cnv_last_error(), "1x3x4x4"));
}

/* A model whose input size is fixed in the file loads at that size and refuses any other with
 * one line naming the size it takes (the symbolic case: tests/test_torchvision.c). */
static void load_sized_fixed_model(void **state) {
    (void)state;
    const char *path = tu_fixture_path("torch_arch/resnet_block.onnx");
    cnv_graph *g = NULL;
    assert_int_equal(cnv_model_load_sized(path, 16, 16, &g), CNV_OK);
    assert_int_equal(g->input_symbolic, 0u); /* exported at 1x3x16x16: nothing symbolic */
    cnv_model_free(g);
    assert_int_equal(cnv_model_load_sized(path, 0, 0, &g), CNV_OK);
    cnv_model_free(g);
    expect_error(cnv_model_load_sized(path, 16, 24, &g), CNV_ERR_SHAPE, path);
    assert_non_null(strstr(cnv_last_error(), "the model's input is fixed at 1x3x16x16; it cannot run at 16x24"));
    assert_null(strchr(cnv_last_error(), '\n'));
    assert_null(g);
    expect_error(cnv_model_load_sized(path, -1, 16, &g), CNV_ERR_ARG, path);
}

/* ---- presets and labels ---- */

static cnv_graph *graph_with_io(const char *input_name, cnv_shape in, cnv_shape out) {
    cnv_graph *g = cnv_graph_new("test.onnx");
    assert_non_null(g);
    g->input = cnv_graph_add_value(g, input_name, &in, NULL);
    g->output = cnv_graph_add_value(g, "out", &out, NULL);
    assert_true(g->input >= 0 && g->output >= 0);
    return g;
}

static void presets_are_found_and_detected(void **state) {
    const cnv_preset *sq = cnv_preset_find("squeezenet");
    assert_non_null(sq);
    assert_int_equal(sq->order, CNV_ORDER_BGR);
    assert_float_equal(sq->mean[0], 104, 0); /* blue first, in the model's order */
    assert_float_equal(sq->mean[2], 123, 0);
    assert_null(cnv_preset_find("vgg99"));

    cnv_shape vec1000 = {2, {1, 1000}}, vec10 = {2, {1, 10}};
    cnv_graph *g = graph_with_io("data", cnv_shape4(1, 3, 227, 227), vec1000);
    assert_ptr_equal(cnv_preset_detect(g), sq);
    cnv_graph_free(g);
    g = graph_with_io("data", cnv_shape4(1, 3, 227, 227), vec10); /* not 1000 classes */
    assert_null(cnv_preset_detect(g));
    cnv_graph_free(g);
    g = graph_with_io("Input3", cnv_shape4(1, 1, 28, 28), vec10);
    assert_ptr_equal(cnv_preset_detect(g), cnv_preset_find("mnist-zoo"));
    cnv_graph_free(g);
    g = graph_with_io("x", cnv_shape4(1, 1, 28, 28), vec10); /* some other MNIST net */
    assert_null(cnv_preset_detect(g));
    cnv_graph_free(g);

    char list[256];
    cnv_preset_list(list, sizeof list);
    assert_non_null(strstr(list, "squeezenet"));
    assert_non_null(strstr(list, "mnist-zoo"));
}

static void labels_synset_lines_display_first_name(void **state) {
    const char *path = in_scratch("synset_words.txt");
    const char *text = "n01440764 tench, Tinca tinca\r\n"
                       "n01443537 goldfish, Carassius auratus\n"
                       "plain label\n"
                       "\n";
    write_bytes(path, text, strlen(text));
    cnv_labels l;
    assert_int_equal(cnv_labels_load(path, &l), CNV_OK);
    assert_int_equal(l.n, 3);
    char buf[16];
    assert_string_equal(cnv_labels_name(&l, 0, buf, sizeof buf), "tench");
    assert_string_equal(cnv_labels_name(&l, 1, buf, sizeof buf), "goldfish");
    assert_string_equal(cnv_labels_name(&l, 2, buf, sizeof buf), "plain label");
    assert_string_equal(cnv_labels_name(&l, 7, buf, sizeof buf), "7");
    assert_int_equal(cnv_labels_find(&l, "Tinca tinca"), 0);
    assert_int_equal(cnv_labels_find(&l, "GOLDFISH"), 1);
    assert_int_equal(cnv_labels_find(&l, "n01443537"), 1);
    assert_int_equal(cnv_labels_find(&l, "gold"), -1);
    cnv_labels_free(&l);

    /* The shared ImageNet list: 1000 classes, 281 is the tabby cat. */
    assert_int_equal(cnv_labels_load(tu_shared_path("models/synset_words.txt"), &l), CNV_OK);
    assert_int_equal(l.n, 1000);
    assert_string_equal(l.display[281], "tabby");
    assert_int_equal(cnv_labels_find(&l, "tiger cat"), 282);
    cnv_labels_free(&l);

    expect_error(cnv_labels_load(in_scratch("none.txt"), &l), CNV_ERR_IO, "none.txt");
}

static void labels_are_located_in_parent_folders(void **state) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/a/b/c/d", tu_scratch_dir());
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    write_bytes(in_scratch("a/names.txt"), "x\n", 2);
    char model[600], found[1024];
    snprintf(model, sizeof model, "%s/a/b/c/model.onnx", tu_scratch_dir());
    assert_int_equal(cnv_labels_locate(model, "names.txt", 3, found, sizeof found), CNV_OK);
    struct stat st;
    assert_int_equal(stat(found, &st), 0);
    /* Four levels up is too far for max_up 3. */
    snprintf(model, sizeof model, "%s/a/b/c/d/e/model.onnx", tu_scratch_dir());
    expect_error(cnv_labels_locate(model, "names.txt", 3, found, sizeof found), CNV_ERR_NOT_FOUND, "names.txt");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(npy_round_trip),
        cmocka_unit_test(npy_reads_float64_and_numpy_style_headers),
        cmocka_unit_test(npy_rejects_other_dtypes),
        cmocka_unit_test(npy_rejects_truncated_and_corrupted_files),
        cmocka_unit_test(npy_write_failure_leaves_no_file),
        cmocka_unit_test(image_load_chelsea),
        cmocka_unit_test(image_load_rejects_bad_files),
        cmocka_unit_test(image_resize_matches_hand_computed_bilinear),
        cmocka_unit_test(image_save_png_round_trip),
        cmocka_unit_test(preprocess_squeezenet_known_pixel),
        cmocka_unit_test(preprocess_resizes_chelsea_like_the_image_functions),
        cmocka_unit_test(preprocess_generic_gray_scales_to_unit_range),
        cmocka_unit_test(preprocess_npy_must_have_the_input_shape),
        cmocka_unit_test(load_sized_fixed_model),
        cmocka_unit_test(presets_are_found_and_detected),
        cmocka_unit_test(labels_synset_lines_display_first_name),
        cmocka_unit_test(labels_are_located_in_parent_folders),
    };
    return cmocka_run_group_tests(tests, make_scratch, remove_scratch);
}
