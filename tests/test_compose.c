/* The image-composition library: grid geometry and captions, colormap tables, the caption font,
 * heatmap overlay arithmetic, map resize and normalization, and the input picture round trip. */
#include "test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnnvis/picture.h"
#include "io/font.h"
#include "io/normalize.h"
#include "io/preprocess.h"
#include "models/preset.h"

static cnv_image solid(int w, int h, unsigned char r, unsigned char g, unsigned char b) {
    cnv_image im = {w, h, 3, malloc((size_t)w * h * 3)};
    assert_non_null(im.px);
    for (int i = 0; i < w * h; i++) im.px[3 * i] = r, im.px[3 * i + 1] = g, im.px[3 * i + 2] = b;
    return im;
}

static const unsigned char *pixel(const cnv_image *im, int x, int y) { return im->px + ((size_t)y * im->w + x) * im->c; }

static int same_rgb(const unsigned char *p, const unsigned char *q) { return p[0] == q[0] && p[1] == q[1] && p[2] == q[2]; }

/* Pixels of colour rgb inside the rectangle [x0, x1) x [y0, y1). */
static int count_colour(const cnv_image *im, int x0, int y0, int x1, int y1, const unsigned char rgb[3]) {
    int n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) n += same_rgb(pixel(im, x, y), rgb);
    return n;
}

static void test_grid_layout_and_captions(void **state) {
    cnv_grid_layout l;
    cnv_grid_layout_default(&l);
    l.tile_w = 20, l.tile_h = 12, l.cols = 3, l.gap = 3, l.font_scale = 1;
    l.background[0] = 10, l.background[1] = 20, l.background[2] = 30;
    cnv_image tiles[5];
    for (int i = 0; i < 5; i++) tiles[i] = solid(5, 3, (unsigned char)(50 * i), 100, 200); /* scaled up to 20x12 */
    const char *captions[5] = {"0", "12", NULL, "c7", "input"};
    cnv_image g;
    assert_int_equal(cnv_grid_compose(tiles, captions, 5, &l, &g), CNV_OK);
    /* 3 columns, 2 rows; each row: tile 12 + caption (7 + gap 3) + gap 3. */
    assert_int_equal(g.w, 3 + 3 * (20 + 3));
    assert_int_equal(g.h, 3 + 2 * (12 + 10 + 3));
    assert_int_equal(g.c, 3);
    int cols, rows, w, h;
    cnv_grid_size(&l, 5, &cols, &rows, &w, &h);
    assert_int_equal(cols, 3), assert_int_equal(rows, 2), assert_int_equal(w, g.w), assert_int_equal(h, g.h);
    for (int i = 0; i < 5; i++) {
        int x, y;
        cnv_grid_tile_origin(&l, 5, i, &x, &y);
        assert_int_equal(x, 3 + (i % 3) * 23);
        assert_int_equal(y, 3 + (i / 3) * 25);
        /* The whole tile carries its colour; the pixel before it is background. */
        assert_int_equal(count_colour(&g, x, y, x + 20, y + 12, tiles[i].px), 20 * 12);
        assert_true(same_rgb(pixel(&g, x - 1, y), l.background));
        /* Caption strip: white text pixels exactly where a caption was given. */
        int text = count_colour(&g, x, y + 12, x + 20, y + 12 + 10, l.text);
        if (captions[i])
            assert_true(text > 0);
        else
            assert_int_equal(text, 0);
    }
    /* A wider caption shows more ink than a narrower one ("12" vs "0"). */
    int x0, y0, x1, y1;
    cnv_grid_tile_origin(&l, 5, 0, &x0, &y0);
    cnv_grid_tile_origin(&l, 5, 1, &x1, &y1);
    assert_true(count_colour(&g, x1, y1 + 12, x1 + 20, y1 + 22, l.text) >
                count_colour(&g, x0, y0 + 12, x0 + 20, y0 + 22, l.text));
    /* The empty sixth slot stays background. */
    int x5 = 3 + 2 * 23, y5 = 3 + 25;
    assert_int_equal(count_colour(&g, x5, y5, x5 + 20, y5 + 12, l.background), 20 * 12);
    for (int i = 0; i < 5; i++) cnv_image_free(&tiles[i]);
    cnv_image_free(&g);

    /* No captions: no caption strip. */
    l.font_scale = 0;
    cnv_image one = solid(4, 4, 1, 2, 3);
    assert_int_equal(cnv_grid_compose(&one, NULL, 1, &l, &g), CNV_OK);
    assert_int_equal(g.h, 3 + 12 + 3);
    cnv_image_free(&g);
    cnv_image_free(&one);
    assert_int_not_equal(cnv_grid_compose(NULL, NULL, 0, &l, &g), CNV_OK);
}

static void test_grid_nearest_scaling_is_blocky(void **state) {
    /* A 2x1 gray tile (0, 255) at 8x4 nearest: left half black, right half white. */
    unsigned char px[2] = {0, 255};
    cnv_image t = {2, 1, 1, px}, g;
    cnv_grid_layout l;
    cnv_grid_layout_default(&l);
    l.tile_w = 8, l.tile_h = 4, l.gap = 0, l.font_scale = 0;
    assert_int_equal(cnv_grid_compose(&t, NULL, 1, &l, &g), CNV_OK);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 8; x++) assert_int_equal(pixel(&g, x, y)[1], x < 4 ? 0 : 255);
    cnv_image_free(&g);
}

static double luminance(const unsigned char c[3]) { return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]; }

static void test_colormap_endpoints_and_luminance(void **state) {
    /* Published end colours: magma #000004 .. #fcfdbf, viridis #440154 .. #fde725. */
    const struct {
        cnv_colormap c;
        unsigned char lo[3], hi[3];
    } ends[] = {{CNV_CMAP_MAGMA, {0x00, 0x00, 0x04}, {0xfc, 0xfd, 0xbf}},
                {CNV_CMAP_VIRIDIS, {0x44, 0x01, 0x54}, {0xfd, 0xe7, 0x25}},
                {CNV_CMAP_GRAY, {0, 0, 0}, {255, 255, 255}}};
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
        unsigned char rgb[3], prev[3];
        cnv_colormap_rgb(ends[i].c, 0, rgb);
        assert_memory_equal(rgb, ends[i].lo, 3);
        cnv_colormap_rgb(ends[i].c, 255, rgb);
        assert_memory_equal(rgb, ends[i].hi, 3);
        /* Luminance rises with the value (within rounding of one step) and spans most of the range. */
        cnv_colormap_rgb(ends[i].c, 0, prev);
        for (int v = 1; v < 256; v++) {
            cnv_colormap_rgb(ends[i].c, (unsigned char)v, rgb);
            assert_true(luminance(rgb) >= luminance(prev) - 0.5);
            memcpy(prev, rgb, 3);
        }
        unsigned char a[3], b[3], m[3];
        cnv_colormap_rgb(ends[i].c, 0, a);
        cnv_colormap_rgb(ends[i].c, 128, m);
        cnv_colormap_rgb(ends[i].c, 255, b);
        assert_true(luminance(b) - luminance(a) > 150);
        assert_true(luminance(m) > luminance(a) + 40 && luminance(m) < luminance(b) - 40);
    }
    /* viridis' middle is its teal (about #21918c). */
    unsigned char mid[3];
    cnv_colormap_rgb(CNV_CMAP_VIRIDIS, 128, mid);
    assert_true(abs(mid[0] - 0x21) < 12 && abs(mid[1] - 0x91) < 12 && abs(mid[2] - 0x8c) < 12);

    cnv_colormap c;
    assert_int_equal(cnv_colormap_parse("viridis", &c), CNV_OK);
    assert_int_equal(c, CNV_CMAP_VIRIDIS);
    assert_int_equal(cnv_colormap_parse("jet", &c), CNV_ERR_ARG);
    assert_non_null(strstr(cnv_last_error(), "magma"));

    unsigned char values[4] = {0, 255, 128, 0};
    cnv_image im;
    assert_int_equal(cnv_colormap_apply(CNV_CMAP_MAGMA, values, 2, 2, &im), CNV_OK);
    for (int i = 0; i < 4; i++) {
        unsigned char want[3];
        cnv_colormap_rgb(CNV_CMAP_MAGMA, values[i], want);
        assert_memory_equal(im.px + 3 * i, want, 3);
    }
    cnv_image_free(&im);
}

static void test_font(void **state) {
    for (const char *c = "0123456789abcxyzABCXYZ-_.:#/%()"; *c; c++) assert_true(cnv_font_has_glyph(*c));
    assert_false(cnv_font_has_glyph('@'));
    assert_int_equal(cnv_font_text_width("", 2), 0);
    assert_int_equal(cnv_font_text_width("12", 1), 11);
    assert_int_equal(cnv_font_text_width("12", 3), 33);
    assert_int_equal(cnv_font_text_height(2), 14);
    /* Glyphs differ, ink stays inside the text box, and scale 2 draws four times the pixels. */
    const unsigned char white[3] = {255, 255, 255};
    int ink[2][2];
    const char *texts[2] = {"1", "8"};
    for (int t = 0; t < 2; t++)
        for (int s = 1; s <= 2; s++) {
            cnv_image im = solid(30, 30, 0, 0, 0);
            cnv_font_draw(&im, 3, 4, texts[t], s, white);
            ink[t][s - 1] = count_colour(&im, 0, 0, 30, 30, white);
            assert_int_equal(count_colour(&im, 3, 4, 3 + 5 * s, 4 + 7 * s, white), ink[t][s - 1]);
            cnv_image_free(&im);
        }
    assert_true(ink[1][0] > ink[0][0]);
    assert_int_equal(ink[0][1], 4 * ink[0][0]);
    assert_int_equal(ink[1][1], 4 * ink[1][0]);
    /* Drawing past the border clips instead of writing outside. */
    cnv_image im = solid(4, 4, 0, 0, 0);
    cnv_font_draw(&im, 2, 2, "888", 3, white);
    cnv_image_free(&im);
}

static void test_overlay_alpha(void **state) {
    unsigned char gray[4] = {100, 0, 200, 255};
    cnv_image img = {2, 2, 1, gray}, out;
    unsigned char heat[4] = {255, 0, 128, 64};
    for (int a = 0; a <= 4; a++) {
        float alpha = a / 4.0f;
        assert_int_equal(cnv_overlay_heatmap(&img, heat, CNV_CMAP_VIRIDIS, alpha, &out), CNV_OK);
        assert_int_equal(out.c, 3);
        for (int i = 0; i < 4; i++) {
            unsigned char cm[3];
            cnv_colormap_rgb(CNV_CMAP_VIRIDIS, heat[i], cm);
            for (int k = 0; k < 3; k++)
                assert_true(fabs(out.px[3 * i + k] - ((1 - alpha) * gray[i] + alpha * cm[k])) <= 0.5001);
        }
        cnv_image_free(&out);
    }
    /* Worked example: 0.75 * 100 + 0.25 * 255 = 138.75 -> 139 with the gray map. */
    assert_int_equal(cnv_overlay_heatmap(&img, heat, CNV_CMAP_GRAY, 0.25f, &out), CNV_OK);
    assert_int_equal(out.px[0], 139);
    cnv_image_free(&out);
    assert_int_equal(cnv_overlay_heatmap(&img, heat, CNV_CMAP_GRAY, 1.5f, &out), CNV_ERR_ARG);
}

static void test_map_resize_and_overlay_map(void **state) {
    /* 2x2 -> 4x4 with half-pixel centres: rows/cols sample at -0.25 (clamped), 0.25, 0.75, 1.25. */
    const float src[4] = {0, 4, 8, 12};
    float dst[16];
    cnv_map_resize(src, 2, 2, dst, 4, 4);
    const float axis[4] = {0, 0.25f, 0.75f, 1};
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) assert_float_equal(dst[y * 4 + x], 8 * axis[y] + 4 * axis[x], 1e-5);
    /* The peak of a map lands where it should on a larger image after overlay. */
    float map[9] = {0};
    map[2 * 3 + 0] = 1; /* bottom-left */
    cnv_image img = solid(30, 30, 0, 0, 0), out;
    assert_int_equal(cnv_overlay_map(&img, map, 3, 3, CNV_CMAP_GRAY, 1.0f, &out), CNV_OK);
    assert_int_equal(pixel(&out, 2, 28)[0], 255); /* within the clamped corner: exactly the peak */
    assert_int_equal(pixel(&out, 25, 5)[0], 0);
    cnv_image_free(&out);
    cnv_image_free(&img);
}

static void test_normalization(void **state) {
    /* Two channels of 2 values: channel 0 in [0, 1], channel 1 in [10, 30]. */
    const float chw[4] = {0, 1, 10, 30};
    unsigned char b[4];
    cnv_maps_to_u8(chw, 2, 1, 2, CNV_NORM_CHANNEL, b);
    assert_int_equal(b[0], 0), assert_int_equal(b[1], 255), assert_int_equal(b[2], 0), assert_int_equal(b[3], 255);
    cnv_maps_to_u8(chw, 2, 1, 2, CNV_NORM_LAYER, b);
    assert_int_equal(b[0], 0), assert_int_equal(b[1], 9), assert_int_equal(b[2], 85), assert_int_equal(b[3], 255);
    /* A constant map has no contrast: all 0. Non-finite values are ignored for the range. */
    const float flat[3] = {5, 5, 5}, odd[3] = {NAN, 2, 4};
    cnv_map_to_u8(flat, 3, 5, 5, b);
    assert_int_equal(b[0] | b[1] | b[2], 0);
    float lo, hi;
    cnv_map_range(odd, 3, &lo, &hi);
    assert_float_equal(lo, 2, 0), assert_float_equal(hi, 4, 0);
    cnv_norm_mode m;
    assert_int_equal(cnv_norm_parse("layer", &m), CNV_OK);
    assert_int_equal(m, CNV_NORM_LAYER);
    assert_int_equal(cnv_norm_parse("global", &m), CNV_ERR_ARG);
}

static void test_input_picture_round_trip(void **state) {
    /* Preprocessing then cnv_image_from_input gives the pixels back, for a BGR mean/std preset
     * and for a raw gray one. */
    const char *presets[] = {"squeezenet", "mnist-zoo"};
    cnv_rng r;
    cnv_rng_seed(&r, 7);
    for (int p = 0; p < 2; p++) {
        const cnv_preset *pr = cnv_preset_find(presets[p]);
        assert_non_null(pr);
        int c = pr->channels ? pr->channels : 3;
        cnv_image img = {5, 4, c, malloc((size_t)5 * 4 * c)};
        for (int i = 0; i < 5 * 4 * c; i++) img.px[i] = (unsigned char)cnv_rng_below(&r, 256);
        float data[5 * 4 * 3];
        cnv_preprocess_pixels(&img, pr, data);
        cnv_shape s = cnv_shape4(1, c, 4, 5);
        cnv_image back;
        assert_int_equal(cnv_image_from_input(data, &s, pr, &back), CNV_OK);
        assert_int_equal(back.c, c);
        for (int i = 0; i < 5 * 4 * c; i++) assert_true(abs(back.px[i] - img.px[i]) <= 1);
        cnv_image_free(&back);
        cnv_image_free(&img);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_layout_and_captions),
        cmocka_unit_test(test_grid_nearest_scaling_is_blocky),
        cmocka_unit_test(test_colormap_endpoints_and_luminance),
        cmocka_unit_test(test_font),
        cmocka_unit_test(test_overlay_alpha),
        cmocka_unit_test(test_map_resize_and_overlay_map),
        cmocka_unit_test(test_normalization),
        cmocka_unit_test(test_input_picture_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
