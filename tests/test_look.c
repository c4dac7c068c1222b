/* Looking at real images through real networks, end to end through the cnnvis binary:
 * gradcam (the heatmap lies on the cat), topk (equals a brute-force ranking, through the CLI and
 * through the public cnv_topk_files), maps (grid
 * geometry, the tensor, the pixels), channel lists (--channels with gaps for maps, topk and
 * filter), and bad inputs (one-line errors, exit 2, no output). */
#include "cli_check.h"
#include "test_util.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/exec.h"
#include "cnnvis/picture.h"
#include "io/npy.h"
#include "io/preprocess.h"
#include "models/preset.h"
#include "vis/gradcam.h"

#define SQUEEZENET "models/squeezenet1.1_openvino_fp16/derived/squeezenet1.1_fp32_from_ir.onnx"
#define MNIST "models/mnist/mnist-12/model.onnx"
#define DIGITS "models/mnist/real_digits_t10k_first100/t10k-images-first100-idx3-ubyte"
#define N_DIGITS 100

static char squeezenet[1024], mnist[1024], chelsea[1024];

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* The first 100 MNIST test digits (IDX: 16-byte header, then 28x28 bytes each) as d000.png ... */
static void write_digits(const char *dir) {
    FILE *f = fopen(tu_shared_path(DIGITS), "rb");
    assert_non_null(f);
    unsigned char header[16], px[28 * 28];
    assert_int_equal(fread(header, 1, 16, f), 16);
    assert_int_equal((header[4] << 24 | header[5] << 16 | header[6] << 8 | header[7]), N_DIGITS);
    for (int i = 0; i < N_DIGITS; i++) {
        assert_int_equal(fread(px, 1, sizeof px, f), sizeof px);
        cnv_image im = {28, 28, 1, px};
        char path[600];
        snprintf(path, sizeof path, "%s/d%03d.png", dir, i);
        assert_int_equal(cnv_image_save_png(path, &im), CNV_OK);
    }
    fclose(f);
}

static int setup(void **state) {
    if (tu_scratch_create("test_look") != 0) return -1;
    snprintf(squeezenet, sizeof squeezenet, "%s", tu_shared_path(SQUEEZENET));
    snprintf(mnist, sizeof mnist, "%s", tu_shared_path(MNIST));
    snprintf(chelsea, sizeof chelsea, "%s", tu_shared_path("images/chelsea.png"));
    tu_path digits = tu_scratch_path("digits");
    if (mkdir(digits.s, 0755) != 0) return -1;
    write_digits(digits.s);
    return 0;
}

static int teardown(void **state) { return tu_scratch_remove(); }

/* ---- gradcam ---- */

/* The cat in chelsea.png (451x300), measured by eye on the picture with a 50-pixel grid drawn
 * over it: its head and fur fill the frame from the left edge and the top to the bottom edge;
 * on the right it ends at x = 400 (the tip of the right ear is at about x = 395, the right
 * cheek at about x = 375); right of that is only the blurred background. */
enum { CAT_X0 = 0, CAT_Y0 = 0, CAT_X1 = 400, CAT_Y1 = 300, CHELSEA_W = 451, CHELSEA_H = 300 };

static void gradcam_heat_lies_on_the_cat(void **state) {
    tu_path png = tu_scratch_path("gradcam.png"), npy = tu_scratch_path("cam.npy");
    tu_cli_expect(0, "gradcam '%s' '%s' -o '%s' --save-tensor '%s' --json", squeezenet, chelsea, png.s, npy.s);
    json_t *root = tu_cli_json();
    int cls = (int)json_integer_value(json_object_get(root, "class"));
    json_t *top = json_object_get(root, "top");
    /* The default class is the top-1 prediction, a cat (SOURCES.md: 285 Egyptian cat). */
    assert_int_equal(cls, json_integer_value(json_object_get(json_array_get(top, 0), "class")));
    assert_in_range(cls, 281, 285);
    assert_string_equal(json_string_value(json_object_get(root, "layer")), "relu_conv10");
    json_decref(root);

    float *cam;
    cnv_shape s;
    assert_int_equal(cnv_npy_read(npy.s, &cam, &s), CNV_OK);
    assert_int_equal(s.ndim, 4);
    assert_int_equal(s.d[2], 14);
    assert_int_equal(s.d[3], 14);
    float *big = malloc(sizeof *big * CHELSEA_W * CHELSEA_H);
    assert_non_null(big);
    /* The model saw the whole image squeezed to 227x227 (no crop): the map covers the image. */
    cnv_map_resize(cam, 14, 14, big, CHELSEA_W, CHELSEA_H);
    double inside = 0, total = 0;
    for (int y = 0; y < CHELSEA_H; y++)
        for (int x = 0; x < CHELSEA_W; x++) {
            double v = big[y * CHELSEA_W + x] > 0 ? big[y * CHELSEA_W + x] : 0;
            total += v;
            if (x >= CAT_X0 && x < CAT_X1 && y >= CAT_Y0 && y < CAT_Y1) inside += v;
        }
    assert_true(total > 0);
    double fraction = inside / total;
    double area = (double)(CAT_X1 - CAT_X0) * (CAT_Y1 - CAT_Y0) / (CHELSEA_W * CHELSEA_H);
    /* Density inside over density outside: 1 for a map that ignores the image. */
    double concentration = (fraction / area) / ((1 - fraction) / (1 - area));
    print_message("gradcam: %.1f%% of the heat inside the cat's box (%.1f%% of the area), %.1fx denser inside\n",
                  100 * fraction, 100 * area, concentration);
    assert_true(fraction >= 0.70);
    assert_true(concentration >= 2.0);

    /* The picture: [input | overlay], each at the image's own size. */
    cnv_image pic;
    assert_int_equal(cnv_image_load(png.s, 3, &pic), CNV_OK);
    assert_int_equal(pic.w, 4 + 2 * (CHELSEA_W + 4));
    cnv_image_free(&pic);
    free(big);
    free(cam);
}

/* On SqueezeNet (conv10 -> relu -> global average pool = logits), Grad-CAM at relu_conv10 has
 * weights 1/196 on the class's channel only: it must equal CAM (that channel) / 196. And the
 * CAM head is found with no linear layer. */
static void gradcam_equals_cam_on_squeezenet(void **state) {
    cnv_graph *g;
    cnv_backend *be;
    cnv_exec *ex;
    assert_int_equal(cnv_model_load(squeezenet, &g), CNV_OK);
    assert_int_equal(cnv_backend_cpu_create(&be), CNV_OK);
    assert_int_equal(cnv_exec_create(g, be, 1, &ex), CNV_OK);
    float *x;
    assert_int_equal(cnv_preprocess_file(chelsea, cnv_preset_find("squeezenet"), &g->values[g->input].shape, &x), CNV_OK);
    assert_int_equal(cnv_exec_set_input(ex, x), CNV_OK);
    int logits, relu10;
    assert_int_equal(cnv_model_find_layer(g, "pool10", &logits), CNV_OK);
    assert_int_equal(cnv_model_find_layer(g, "relu_conv10", &relu10), CNV_OK);
    assert_int_equal(cnv_graph_last_map_node(g, logits), relu10);
    cnv_cam_head head;
    assert_int_equal(cnv_cam_head_find(g, logits, &head), CNV_OK);
    assert_int_equal(head.layer, relu10);
    assert_null(head.weights);
    float gc[196], cam[196], a[1000 * 196];
    for (int cls = 281; cls <= 285; cls += 4) {
        assert_int_equal(cnv_gradcam(ex, relu10, logits, cls, gc), CNV_OK);
        assert_int_equal(cnv_cam(ex, &head, cls, cam), CNV_OK);
        assert_int_equal(cnv_exec_read(ex, g->nodes[relu10].out, a), CNV_OK);
        for (int i = 0; i < 196; i++) gc[i] *= 196;
        assert_true(tu_rel_error(gc, cam, 196) < 1e-5);
        assert_true(tu_rel_error(cam, a + cls * 196, 196) == 0);
    }
    /* A layer after the logits, or without positions, is refused. */
    int prob;
    assert_int_equal(cnv_model_find_layer(g, "prob", &prob), CNV_OK);
    assert_int_equal(cnv_gradcam(ex, prob, logits, 285, gc), CNV_ERR_ARG);
    free(x);
    cnv_exec_free(ex);
    cnv_backend_free(be);
    cnv_model_free(g);
}

/* The MNIST model ends MaxPool -> Reshape -> MatMul -> Add: no global pooling, so no CAM. */
static void cam_refused_without_global_pooling(void **state) {
    tu_path png = tu_scratch_path("nocam.png");
    tu_path digit = tu_scratch_path("digits/d000.png");
    tu_cli_expect(2, "gradcam '%s' '%s' --method cam -o '%s'", mnist, digit.s, png.s);
    assert_int_equal(count_lines(tu_cli_err), 1);
    assert_non_null(strstr(tu_cli_err, "GlobalAveragePool"));
    assert_false(tu_file_exists(png.s));
    /* Grad-CAM works there (default layer: the last 4-D map with positions, Pooling160 4x4). */
    tu_cli_expect(0, "gradcam '%s' '%s' -o '%s' --json", mnist, digit.s, png.s);
    json_t *root = tu_cli_json();
    assert_string_equal(json_string_value(json_object_get(root, "layer")), "Pooling160");
    json_decref(root);
}

/* ---- topk ---- */

typedef struct ranked {
    float score;
    int index;
} ranked;

static int by_score(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->index - y->index;
}

static void topk_equals_brute_force(void **state) {
    enum { K = 9, FIRST = 0, LAST = 5 };
    tu_path dir = tu_scratch_path("digits"), png = tu_scratch_path("topk.png");
    /* Batch 16 does not divide 100: the last batch is partial. */
    tu_cli_expect(0, "topk '%s' --images '%s' --layer ReLU114 --channels %d-%d --k %d --batch 16 -o '%s' --json", mnist,
               dir.s, FIRST, LAST, K, png.s);
    json_t *root = tu_cli_json();
    assert_int_equal(json_integer_value(json_object_get(root, "ranked")), N_DIGITS);
    assert_int_equal(json_integer_value(json_object_get(root, "skipped")), 0);

    /* Brute force: one forward per image through the library, max over positions, sort. */
    cnv_graph *g;
    cnv_backend *be;
    cnv_exec *ex;
    assert_int_equal(cnv_model_load(mnist, &g), CNV_OK);
    assert_int_equal(cnv_backend_cpu_create(&be), CNV_OK);
    assert_int_equal(cnv_exec_create(g, be, 1, &ex), CNV_OK);
    const cnv_preset *p = cnv_preset_detect(g);
    assert_non_null(p);
    int node;
    assert_int_equal(cnv_model_find_layer(g, "ReLU114", &node), CNV_OK);
    static ranked all[LAST - FIRST + 1][N_DIGITS];
    float y[16 * 14 * 14];
    for (int i = 0; i < N_DIGITS; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/d%03d.png", dir.s, i);
        float *x;
        assert_int_equal(cnv_preprocess_file(path, p, &g->values[g->input].shape, &x), CNV_OK);
        assert_int_equal(cnv_exec_set_input(ex, x), CNV_OK);
        assert_int_equal(cnv_exec_forward(ex, node), CNV_OK);
        assert_int_equal(cnv_exec_read(ex, g->nodes[node].out, y), CNV_OK);
        free(x);
        for (int c = FIRST; c <= LAST; c++) {
            float m = -INFINITY;
            for (int j = 0; j < 196; j++) m = fmaxf(m, y[c * 196 + j]);
            all[c - FIRST][i] = (ranked){m, i};
        }
    }
    json_t *channels = json_object_get(root, "channels");
    assert_int_equal(json_array_size(channels), LAST - FIRST + 1);
    for (int c = FIRST; c <= LAST; c++) {
        qsort(all[c - FIRST], N_DIGITS, sizeof(ranked), by_score);
        json_t *ch = json_array_get(channels, c - FIRST);
        assert_int_equal(json_integer_value(json_object_get(ch, "channel")), c);
        json_t *top = json_object_get(ch, "top");
        assert_int_equal(json_array_size(top), K);
        for (int r = 0; r < K; r++) {
            json_t *e = json_array_get(top, r);
            const ranked *want = &all[c - FIRST][r];
            char name[16];
            snprintf(name, sizeof name, "d%03d.png", want->index);
            const char *file = json_string_value(json_object_get(e, "file"));
            assert_non_null(strstr(file, name));
            double score = json_number_value(json_object_get(e, "score"));
            assert_true(fabs(score - want->score) <= 1e-5 * fabs(want->score));
            /* ReLU114's field: 14 pixels, stride 2, window of position 0 starting at -6
             * (conv 5x5 pad 2, pool 2x2 stride 2, conv 5x5 pad 2): clamp to 28x28. */
            json_t *pos = json_object_get(e, "position"), *box = json_object_get(e, "box");
            int py = (int)json_integer_value(json_array_get(pos, 0)), px = (int)json_integer_value(json_array_get(pos, 1));
            int want_box[4] = {2 * py - 6, 2 * px - 6, 2 * py + 8, 2 * px + 8};
            for (int k = 0; k < 4; k++) {
                int v = want_box[k] < 0 ? 0 : want_box[k] > 28 ? 28 : want_box[k];
                assert_int_equal(json_integer_value(json_array_get(box, k)), v);
            }
        }
    }
    /* The picture: one row per channel, K patches each. */
    cnv_image pic;
    assert_int_equal(cnv_image_load(png.s, 3, &pic), CNV_OK);
    int tile = 14 * 5; /* 14-pixel fields scaled by 5 to reach 64 */
    assert_int_equal(pic.w, 4 + K * (tile + 4));
    assert_int_equal(pic.h, 4 + (LAST - FIRST + 1) * (tile + 11 + 4));
    /* A patch whose box reaches past the picture's top or left (position row or column below 3:
     * the box starts at 2 * p - 6 < 0) shows the grid's background there. */
    cnv_grid_layout l;
    cnv_grid_layout_default(&l);
    l.tile_w = l.tile_h = tile;
    l.cols = K;
    int outside = 0;
    for (int c = FIRST; c <= LAST; c++)
        for (int r = 0; r < K; r++) {
            json_t *top = json_object_get(json_array_get(channels, c - FIRST), "top");
            json_t *pos = json_object_get(json_array_get(top, r), "position");
            int py = (int)json_integer_value(json_array_get(pos, 0));
            int px = (int)json_integer_value(json_array_get(pos, 1));
            if (py >= 3 && px >= 3) continue;
            int x, y, n = (LAST - FIRST + 1) * K;
            cnv_grid_tile_origin(&l, n, (c - FIRST) * K + r, &x, &y);
            if (py < 3) y += 2, x += tile / 2;
            else x += 2, y += tile / 2;
            assert_memory_equal(pic.px + ((size_t)y * pic.w + x) * 3, l.background, 3);
            outside++;
        }
    assert_true(outside > 0);
    cnv_image_free(&pic);
    json_decref(root);
    cnv_exec_free(ex);
    cnv_backend_free(be);
    cnv_model_free(g);
}

static void topk_skips_unreadable_files(void **state) {
    tu_path dir = tu_scratch_path("mixed"), png = tu_scratch_path("mixed.png");
    assert_int_equal(mkdir(dir.s, 0755), 0);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cp '%s'/digits/d00[0-2].png '%s'", tu_scratch_dir(), dir.s);
    assert_int_equal(system(cmd), 0);
    tu_path text = tu_scratch_path("mixed/notes.png"), cut = tu_scratch_path("mixed/cut.png");
    write_bytes(text.s, "not a picture\n", 14);
    write_bytes(cut.s, "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
    tu_cli_expect(0, "topk '%s' --images '%s' --layer ReLU32 --k 2 -o '%s' --json", mnist, dir.s, png.s);
    assert_int_equal(count_lines(tu_cli_err), 2); /* one warning per bad file */
    assert_non_null(strstr(tu_cli_err, "notes.png"));
    assert_non_null(strstr(tu_cli_err, "cut.png"));
    json_t *root = tu_cli_json();
    assert_int_equal(json_integer_value(json_object_get(root, "ranked")), 3);
    assert_int_equal(json_integer_value(json_object_get(root, "skipped")), 2);
    json_decref(root);
    assert_true(tu_file_exists(png.s));
}

/* The public ranking (cnv_topk_files, what the verb runs) on a list of files: entries indexed
 * into the list (an unreadable file skipped through the callback, its index left out), the
 * channels in the order given, each list equal to a brute force through cnv_forward; the
 * patch of an entry at the border keeps the box's size, the outside in the given colour;
 * arguments that do not fit are refused with a message. */
typedef struct skips {
    int n;
    char last[600];
} skips;

static void count_skip(void *user, const char *path, const char *message) {
    skips *s = user;
    s->n++;
    snprintf(s->last, sizeof s->last, "%s", path);
    assert_non_null(strstr(message, path));
}

static void topk_files_through_the_api(void **state) {
    enum { N = 21, K = 3, BAD = 6 };
    static char names[N][600];
    const char *paths[N];
    for (int i = 0; i < N; i++) {
        if (i == BAD) snprintf(names[i], sizeof names[i], "%s/topk_api_notes.png", tu_scratch_dir());
        else snprintf(names[i], sizeof names[i], "%s/digits/d%03d.png", tu_scratch_dir(), i);
        paths[i] = names[i];
    }
    write_bytes(names[BAD], "not a picture\n", 14);
    cnv_graph *g;
    cnv_backend *be;
    assert_int_equal(cnv_model_load(mnist, &g), CNV_OK);
    assert_int_equal(cnv_backend_cpu_create(&be), CNV_OK);
    int layer;
    assert_int_equal(cnv_model_find_layer(g, "ReLU114", &layer), CNV_OK);
    const int channels[2] = {5, 0};
    cnv_topk_entry best[2 * K];
    int count[2], n_ranked;
    skips sk = {0};
    assert_int_equal(cnv_topk_files(g, be, NULL, paths, N, layer, channels, 2, K, 7, count_skip, &sk, best, count,
                                    &n_ranked),
                     CNV_OK);
    assert_int_equal(n_ranked, N - 1);
    assert_int_equal(sk.n, 1);
    assert_string_equal(sk.last, names[BAD]);

    /* Brute force: each readable file alone, max over positions, ties to the earlier file. */
    static ranked all[2][N];
    float x[28 * 28], y[16 * 14 * 14];
    int n_all = 0;
    for (int i = 0; i < N; i++) {
        if (i == BAD) continue;
        assert_int_equal(cnv_model_load_input(g, paths[i], x), CNV_OK);
        assert_int_equal(cnv_forward(g, be, 1, x, layer, y, 16 * 14 * 14), CNV_OK);
        for (int c = 0; c < 2; c++) {
            float m = -INFINITY;
            for (int j = 0; j < 196; j++) m = fmaxf(m, y[channels[c] * 196 + j]);
            all[c][n_all] = (ranked){m, i};
        }
        n_all++;
    }
    for (int c = 0; c < 2; c++) {
        qsort(all[c], (size_t)n_all, sizeof(ranked), by_score);
        assert_int_equal(count[c], K);
        for (int r = 0; r < K; r++) {
            const cnv_topk_entry *e = &best[c * K + r];
            assert_int_equal(e->item, all[c][r].index);
            assert_true(e->score == all[c][r].score);
            assert_true(e->y >= 0 && e->y < 14 && e->x >= 0 && e->x < 14);
        }
    }

    /* Position (0, 0) of ReLU114 sees rows and columns -6..7: a 14x14 patch, its first 6 rows
     * and columns outside the picture. */
    const unsigned char bg[3] = {1, 2, 3};
    cnv_image patch, digit;
    assert_int_equal(cnv_receptive_patch(g, NULL, paths[0], layer, 0, 0, bg, &patch), CNV_OK);
    assert_int_equal(cnv_image_load(paths[0], 1, &digit), CNV_OK);
    assert_int_equal(patch.w, 14);
    assert_int_equal(patch.h, 14);
    assert_int_equal(patch.c, 3);
    assert_memory_equal(patch.px, bg, 3);
    assert_memory_equal(patch.px + (5 * 14 + 13) * 3, bg, 3);
    for (int yy = 6; yy < 14; yy++)
        for (int xx = 6; xx < 14; xx++)
            for (int k = 0; k < 3; k++)
                assert_int_equal(patch.px[(yy * 14 + xx) * 3 + k], digit.px[(yy - 6) * 28 + (xx - 6)]);
    cnv_image_free(&patch);
    cnv_image_free(&digit);

    /* Arguments that do not fit: a channel past the layer's 16, a layer without positions. */
    const int too_far[1] = {16};
    assert_int_equal(cnv_topk_files(g, be, NULL, paths, N, layer, too_far, 1, K, 7, NULL, NULL, best, count,
                                    &n_ranked),
                     CNV_ERR_ARG);
    assert_non_null(strstr(cnv_last_error(), "ReLU114 has 16 channels"));
    int flat;
    assert_int_equal(cnv_model_find_layer(g, "Times212_reshape0", &flat), CNV_OK);
    assert_int_equal(cnv_topk_files(g, be, NULL, paths, N, flat, channels, 1, K, 7, NULL, NULL, best, count,
                                    &n_ranked),
                     CNV_ERR_SHAPE);
    assert_int_equal(cnv_receptive_patch(g, NULL, paths[0], -1, 0, 0, bg, &patch), CNV_ERR_ARG);
    cnv_backend_free(be);
    cnv_model_free(g);
}

/* ---- maps ---- */

static void maps_grid_tensor_and_pixels(void **state) {
    tu_path png = tu_scratch_path("maps.png"), npy = tu_scratch_path("maps.npy"), ref = tu_scratch_path("forward.npy");
    tu_cli_expect(0, "maps '%s' '%s' --layer fire2/squeeze1x1 -o '%s' --save-tensor '%s' --json", squeezenet, chelsea,
                  png.s, npy.s);
    json_t *root = tu_cli_json();
    json_decref(root);
    tu_cli_expect(0, "forward '%s' '%s' --layer fire2/squeeze1x1 --save-tensor '%s'", squeezenet, chelsea, ref.s);
    float *a, *b;
    cnv_shape sa, sb;
    assert_int_equal(cnv_npy_read(npy.s, &a, &sa), CNV_OK);
    assert_int_equal(cnv_npy_read(ref.s, &b, &sb), CNV_OK);
    assert_true(cnv_shape_equal(&sa, &sb));
    assert_int_equal(sa.d[1], 16);
    assert_int_equal(sa.d[2], 56);
    assert_true(tu_rel_error(a, b, cnv_shape_numel(&sa)) == 0);

    /* 16 channels + the input = 17 tiles: 5 columns, 4 rows of 112x112 (56 x 2) tiles, gap 4,
     * 11-pixel captions. */
    cnv_image pic;
    assert_int_equal(cnv_image_load(png.s, 3, &pic), CNV_OK);
    assert_int_equal(pic.w, 4 + 5 * (112 + 4));
    assert_int_equal(pic.h, 4 + 4 * (112 + 11 + 4));
    /* Per-channel normalization: each channel's maximum is drawn in magma's top colour, its
     * minimum in the bottom one (checked at the centre of the 2x2 block). */
    unsigned char hi[3], lo[3];
    cnv_colormap_rgb(CNV_CMAP_MAGMA, 255, hi);
    cnv_colormap_rgb(CNV_CMAP_MAGMA, 0, lo);
    for (int c = 0; c < 16; c++) {
        const float *m = a + c * 56 * 56;
        int amax = 0, amin = 0;
        for (int i = 1; i < 56 * 56; i++) {
            if (m[i] > m[amax]) amax = i;
            if (m[i] < m[amin]) amin = i;
        }
        if (!(m[amax] > m[amin])) continue; /* a constant map is all black */
        int t = c + 1, ox = 4 + (t % 5) * 116, oy = 4 + (t / 5) * 127;
        const unsigned char *p = pic.px + ((size_t)(oy + (amax / 56) * 2 + 1) * pic.w + ox + (amax % 56) * 2 + 1) * 3;
        assert_memory_equal(p, hi, 3);
        p = pic.px + ((size_t)(oy + (amin / 56) * 2 + 1) * pic.w + ox + (amin % 56) * 2 + 1) * 3;
        assert_memory_equal(p, lo, 3);
    }
    cnv_image_free(&pic);
    free(a);
    free(b);
}

static void maps_all_layers_one_file_each(void **state) {
    tu_path prefix = tu_scratch_path("all.png");
    tu_path digit = tu_scratch_path("digits/d007.png");
    tu_cli_expect(0, "maps '%s' '%s' --layers all -o '%s' --json", mnist, digit.s, prefix.s);
    json_t *root = tu_cli_json();
    json_t *layers = json_object_get(root, "layers");
    /* MNIST: 8 nodes with an NxCxHxW output with positions (up to Pooling160). */
    assert_int_equal(json_array_size(layers), 8);
    for (size_t i = 0; i < json_array_size(layers); i++)
        assert_true(tu_file_exists(json_string_value(json_object_get(json_array_get(layers, i), "output"))));
    assert_true(tu_file_exists(tu_scratch_path("all_6_ReLU114.png").s));
    json_decref(root);
}

/* ---- channel lists ---- */

/* A list with a gap, out of order: each verb takes the channels in the order given. */
#define LIST "9-10,2,4-5"
static const int list_channels[] = {9, 10, 2, 4, 5};
enum { LIST_N = sizeof list_channels / sizeof list_channels[0] };

static void assert_channel_array(json_t *array) {
    assert_int_equal(json_array_size(array), LIST_N);
    for (int i = 0; i < LIST_N; i++) assert_int_equal(json_integer_value(json_array_get(array, i)), list_channels[i]);
}

/* The tile at grid position t: tile_w x tile_h pixels, gap 4, 11-pixel captions under the tiles. */
static const unsigned char *tile_pixel(const cnv_image *grid, int cols, int tile_w, int tile_h, int t, int y, int x) {
    int ox = 4 + (t % cols) * (tile_w + 4), oy = 4 + (t / cols) * (tile_h + 11 + 4);
    return grid->px + ((size_t)(oy + y) * grid->w + ox + x) * 3;
}

static void maps_channel_list(void **state) {
    tu_path digit = tu_scratch_path("digits/d003.png"), full = tu_scratch_path("maps_full.png"),
            part = tu_scratch_path("maps_list.png");
    tu_cli_expect(0, "maps '%s' '%s' --layer ReLU114 -o '%s'", mnist, digit.s, full.s);
    tu_cli_expect(0, "maps '%s' '%s' --layer ReLU114 --channels " LIST " -o '%s' --json", mnist, digit.s, part.s);
    json_t *root = tu_cli_json(), *layer = json_array_get(json_object_get(root, "layers"), 0);
    assert_channel_array(json_object_get(layer, "channels"));
    int cols = (int)json_integer_value(json_object_get(layer, "cols"));
    json_decref(root);
    /* Per-channel scaling: a channel's tile is the same picture in both grids (the full grid has
     * channel c at position c + 1, after the input). */
    cnv_image a, b;
    assert_int_equal(cnv_image_load(full.s, 3, &a), CNV_OK);
    assert_int_equal(cnv_image_load(part.s, 3, &b), CNV_OK);
    enum { TILE = 70, FULL_COLS = 5 }; /* 14x14 maps scaled by 5; 17 tiles in the full grid */
    for (int i = 0; i < LIST_N; i++)
        for (int y = 0; y < TILE; y++)
            assert_memory_equal(tile_pixel(&b, cols, TILE, TILE, i + 1, y, 0),
                                tile_pixel(&a, FULL_COLS, TILE, TILE, list_channels[i] + 1, y, 0), 3 * TILE);
    cnv_image_free(&a);
    cnv_image_free(&b);
}

static void topk_channel_list(void **state) {
    enum { K = 3 };
    tu_path dir = tu_scratch_path("digits"), png = tu_scratch_path("topk_list.png");
    tu_cli_expect(0, "topk '%s' --images '%s' --layer ReLU114 --k %d -o '%s' --json", mnist, dir.s, K, png.s);
    json_t *all = tu_cli_json();
    tu_cli_expect(0, "topk '%s' --images '%s' --layer ReLU114 --channels " LIST " --k %d -o '%s' --json", mnist, dir.s,
                  K, png.s);
    json_t *some = tu_cli_json(), *rows = json_object_get(some, "channels");
    assert_int_equal(json_array_size(rows), LIST_N);
    for (int i = 0; i < LIST_N; i++) {
        json_t *row = json_array_get(rows, i);
        assert_int_equal(json_integer_value(json_object_get(row, "channel")), list_channels[i]);
        /* The same ranking as the run over every channel. */
        json_t *want = json_array_get(json_object_get(all, "channels"), list_channels[i]);
        assert_true(json_equal(json_object_get(row, "top"), json_object_get(want, "top")));
    }
    json_decref(all);
    json_decref(some);
    cnv_image pic;
    assert_int_equal(cnv_image_load(png.s, 3, &pic), CNV_OK);
    assert_int_equal(pic.h, 4 + LIST_N * (14 * 5 + 11 + 4)); /* a row per listed channel */
    cnv_image_free(&pic);
}

static void filter_channel_list(void **state) {
    tu_path png = tu_scratch_path("filter_list.png"), sidecar = tu_scratch_path("filter_list.json");
    tu_cli_expect(0, "filter '%s' --layer ReLU114 --channels " LIST " --steps 2 -o '%s'", mnist, png.s);
    json_error_t error;
    json_t *root = json_load_file(sidecar.s, 0, &error);
    assert_non_null(root);
    json_t *objectives = json_object_get(root, "objectives");
    assert_int_equal(json_array_size(objectives), LIST_N);
    for (int i = 0; i < LIST_N; i++) {
        json_t *o = json_array_get(objectives, i);
        char caption[16];
        snprintf(caption, sizeof caption, "%d", list_channels[i]);
        assert_int_equal(json_integer_value(json_object_get(o, "channel")), list_channels[i]);
        assert_string_equal(json_string_value(json_object_get(o, "caption")), caption);
    }
    json_decref(root);
    /* --channel C still renders the one channel. */
    tu_cli_expect(0, "filter '%s' --layer ReLU114 --channel 7 --steps 2 -o '%s'", mnist, png.s);
    root = json_load_file(sidecar.s, 0, &error);
    assert_non_null(root);
    objectives = json_object_get(root, "objectives");
    assert_int_equal(json_array_size(objectives), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(objectives, 0), "caption")), "7");
    json_decref(root);
}

/* Every bad list: exit 2, one line naming the option, the spec and the layer's channels, no output. */
static void bad_channel_lists_exit_2(void **state) {
    static const char *bad[] = {"0-3,,5", "0-3,", ",1", "-1", "5-3", "3x", "0-16", "16", "2,0-3", "4,4", "all,1"};
    tu_path o = tu_scratch_path("bad_list.png"), sidecar = tu_scratch_path("bad_list.json"),
            digit = tu_scratch_path("digits/d000.png"), dir = tu_scratch_path("digits");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int verb = 0; verb < 3; verb++) {
            if (verb == 0)
                tu_cli_expect(2, "maps '%s' '%s' --layer ReLU114 --channels '%s' -o '%s'", mnist, digit.s, bad[i], o.s);
            else if (verb == 1)
                tu_cli_expect(2, "topk '%s' --images '%s' --layer ReLU114 --channels '%s' -o '%s'", mnist, dir.s,
                              bad[i], o.s);
            else
                tu_cli_expect(2, "filter '%s' --layer ReLU114 --channels '%s' --steps 2 -o '%s'", mnist, bad[i], o.s);
            assert_int_equal(count_lines(tu_cli_err), 1);
            char quoted[32];
            snprintf(quoted, sizeof quoted, "'%s'", bad[i]);
            assert_non_null(strstr(tu_cli_err, "--channels"));
            assert_non_null(strstr(tu_cli_err, quoted));
            assert_non_null(strstr(tu_cli_err, "0..15"));
            assert_false(tu_file_exists(o.s));
            assert_false(tu_file_exists(sidecar.s));
        }
    }
}

/* ---- bad inputs ---- */

static void bad_inputs_exit_2_without_output(void **state) {
    /* A PNG cut after 1000 bytes, and a text file named .png. */
    FILE *f = fopen(chelsea, "rb");
    assert_non_null(f);
    unsigned char head[1000];
    assert_int_equal(fread(head, 1, sizeof head, f), sizeof head);
    fclose(f);
    tu_path cut = tu_scratch_path("truncated.png"), text = tu_scratch_path("text.png"),
            o = tu_scratch_path("bad_out.png");
    write_bytes(cut.s, head, sizeof head);
    write_bytes(text.s, "hello\n", 6);
    const char *bad[2] = {cut.s, text.s};
    for (int i = 0; i < 2; i++) {
        tu_cli_expect(2, "gradcam '%s' '%s' -o '%s'", squeezenet, bad[i], o.s);
        assert_int_equal(count_lines(tu_cli_err), 1);
        assert_non_null(strstr(tu_cli_err, bad[i]));
        assert_false(tu_file_exists(o.s));
        tu_cli_expect(2, "maps '%s' '%s' --layer conv1 -o '%s'", squeezenet, bad[i], o.s);
        assert_int_equal(count_lines(tu_cli_err), 1);
        assert_false(tu_file_exists(o.s));
    }
    /* An empty folder, and a folder of nothing readable. */
    tu_path empty = tu_scratch_path("empty"), junk = tu_scratch_path("junk");
    assert_int_equal(mkdir(empty.s, 0755), 0);
    assert_int_equal(mkdir(junk.s, 0755), 0);
    write_bytes(tu_scratch_path("junk/a.png").s, "x", 1);
    tu_cli_expect(2, "topk '%s' --images '%s' --layer ReLU32 -o '%s'", mnist, empty.s, o.s);
    assert_int_equal(count_lines(tu_cli_err), 1);
    assert_false(tu_file_exists(o.s));
    tu_cli_expect(2, "topk '%s' --images '%s' --layer ReLU32 -o '%s'", mnist, junk.s, o.s);
    assert_int_equal(count_lines(tu_cli_err), 2); /* the warning, then the error */
    assert_non_null(strstr(tu_cli_err, "no readable image"));
    assert_false(tu_file_exists(o.s));
    /* Bad options. */
    tu_cli_expect(2, "maps '%s' '%s' --layer conv1 --cmap jet -o '%s'", squeezenet, chelsea, o.s);
    assert_int_equal(count_lines(tu_cli_err), 1);
    tu_cli_expect(2, "maps '%s' '%s' --layer conv1 --channels 60-70 -o '%s'", squeezenet, chelsea, o.s);
    assert_int_equal(count_lines(tu_cli_err), 1);
    tu_cli_expect(2, "gradcam '%s' '%s' --layer prob -o '%s'", squeezenet, chelsea, o.s);
    assert_int_equal(count_lines(tu_cli_err), 1);
    assert_false(tu_file_exists(o.s));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gradcam_heat_lies_on_the_cat),
        cmocka_unit_test(gradcam_equals_cam_on_squeezenet),
        cmocka_unit_test(cam_refused_without_global_pooling),
        cmocka_unit_test(topk_equals_brute_force),
        cmocka_unit_test(topk_skips_unreadable_files),
        cmocka_unit_test(topk_files_through_the_api),
        cmocka_unit_test(maps_grid_tensor_and_pixels),
        cmocka_unit_test(maps_all_layers_one_file_each),
        cmocka_unit_test(maps_channel_list),
        cmocka_unit_test(topk_channel_list),
        cmocka_unit_test(filter_channel_list),
        cmocka_unit_test(bad_channel_lists_exit_2),
        cmocka_unit_test(bad_inputs_exit_2_without_output),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
