#include "cnnvis/picture.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "io/font.h"

void cnv_grid_layout_default(cnv_grid_layout *l) {
    memset(l, 0, sizeof *l);
    l->tile_w = l->tile_h = 64;
    l->gap = 4;
    l->font_scale = 1;
    l->scale = CNV_SCALE_NEAREST;
    memset(l->background, 32, 3);
    memset(l->text, 255, 3);
}

int cnv_grid_caption_height(const cnv_grid_layout *l) {
    return l->font_scale > 0 ? cnv_font_text_height(l->font_scale) + l->gap : 0;
}

static int columns(const cnv_grid_layout *l, int n) {
    if (l->cols > 0) return l->cols < n ? l->cols : n;
    int c = (int)ceil(sqrt((double)n));
    return c < 1 ? 1 : c;
}

/* The grid's width and height in 64 bits, so that a huge tile count cannot wrap them. */
static void grid_extent(const cnv_grid_layout *l, int n, long long *w, long long *h) {
    int c = columns(l, n), r = (n + c - 1) / c;
    *w = l->gap + (long long)c * (l->tile_w + l->gap);
    *h = l->gap + (long long)r * (l->tile_h + cnv_grid_caption_height(l) + l->gap);
}

void cnv_grid_size(const cnv_grid_layout *l, int n, int *cols, int *rows, int *w, int *h) {
    int c = columns(l, n), r = (n + c - 1) / c;
    long long lw, lh;
    grid_extent(l, n, &lw, &lh);
    if (cols) *cols = c;
    if (rows) *rows = r;
    if (w) *w = lw > INT_MAX ? INT_MAX : (int)lw;
    if (h) *h = lh > INT_MAX ? INT_MAX : (int)lh;
}

cnv_status cnv_grid_check(const cnv_grid_layout *l, int n) {
    if (n < 1 || l->tile_w < 1 || l->tile_h < 1 || l->gap < 0)
        return cnv_fail(CNV_ERR_ARG, "grid: needs at least one tile of positive size (got %d tiles of %dx%d)", n,
                        l->tile_w, l->tile_h);
    long long w, h;
    grid_extent(l, n, &w, &h);
    size_t limit = cnv_image_max_pixels();
    if (w > INT_MAX || h > INT_MAX || (double)w * (double)h > (double)limit)
        return cnv_fail(CNV_ERR_LIMIT, "a grid of %d tiles of %dx%d would be %lldx%lld pixels, above the limit of %zu "
                        "pixels (raise it with --max-pixels, or ask for fewer tiles)", n, l->tile_w, l->tile_h, w, h, limit);
    return CNV_OK;
}

void cnv_grid_tile_origin(const cnv_grid_layout *l, int n, int i, int *x, int *y) {
    int c = columns(l, n);
    *x = l->gap + (i % c) * (l->tile_w + l->gap);
    *y = l->gap + (i / c) * (l->tile_h + cnv_grid_caption_height(l) + l->gap);
}

cnv_status cnv_image_to_rgb(const cnv_image *src, cnv_image *out) {
    memset(out, 0, sizeof *out);
    size_t n = (size_t)src->w * src->h;
    out->px = malloc(n * 3);
    if (!out->px) return cnv_fail(CNV_ERR_NOMEM, "image: out of memory for %dx%d", src->w, src->h);
    out->w = src->w;
    out->h = src->h;
    out->c = 3;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 3; k++) out->px[3 * i + k] = src->px[i * src->c + (src->c == 3 ? k : 0)];
    return CNV_OK;
}

static cnv_status scale_nearest(const cnv_image *src, int w, int h, cnv_image *out) {
    out->px = malloc((size_t)w * h * src->c);
    if (!out->px) return cnv_fail(CNV_ERR_NOMEM, "image: out of memory for %dx%d", w, h);
    out->w = w;
    out->h = h;
    out->c = src->c;
    for (int y = 0; y < h; y++) {
        int sy = (int)((long long)y * src->h / h);
        for (int x = 0; x < w; x++) {
            int sx = (int)((long long)x * src->w / w);
            memcpy(out->px + ((size_t)y * w + x) * src->c, src->px + ((size_t)sy * src->w + sx) * src->c,
                   (size_t)src->c);
        }
    }
    return CNV_OK;
}

cnv_status cnv_image_scale(const cnv_image *src, int w, int h, cnv_scale_mode mode, cnv_image *out) {
    memset(out, 0, sizeof *out);
    if (w <= 0 || h <= 0 || src->w <= 0 || src->h <= 0 || !src->px)
        return cnv_fail(CNV_ERR_ARG, "image scale: bad size %dx%d -> %dx%d", src->w, src->h, w, h);
    if (mode == CNV_SCALE_BILINEAR) return cnv_image_resize(src, w, h, out);
    return scale_nearest(src, w, h, out);
}

/* Copies an image of exactly the tile size (any channel count) into the RGB canvas at (x, y). */
static void blit(cnv_image *canvas, const cnv_image *tile, int x, int y) {
    for (int ty = 0; ty < tile->h; ty++)
        for (int tx = 0; tx < tile->w; tx++) {
            const unsigned char *s = tile->px + ((size_t)ty * tile->w + tx) * tile->c;
            unsigned char *d = canvas->px + ((size_t)(y + ty) * canvas->w + (x + tx)) * 3;
            for (int k = 0; k < 3; k++) d[k] = s[tile->c == 3 ? k : 0];
        }
}

cnv_status cnv_grid_compose(const cnv_image *tiles, const char *const *captions, int n, const cnv_grid_layout *l,
                            cnv_image *out) {
    memset(out, 0, sizeof *out);
    CNV_TRY(cnv_grid_check(l, n));
    int w, h;
    cnv_grid_size(l, n, NULL, NULL, &w, &h);
    out->px = malloc((size_t)w * h * 3);
    if (!out->px) return cnv_fail(CNV_ERR_NOMEM, "grid: out of memory for %dx%d", w, h);
    out->w = w;
    out->h = h;
    out->c = 3;
    for (size_t i = 0; i < (size_t)w * h; i++) memcpy(out->px + 3 * i, l->background, 3);

    for (int i = 0; i < n; i++) {
        int x, y;
        cnv_grid_tile_origin(l, n, i, &x, &y);
        if (tiles[i].px) {
            cnv_image scaled;
            cnv_status s = cnv_image_scale(&tiles[i], l->tile_w, l->tile_h, l->scale, &scaled);
            if (s != CNV_OK) {
                cnv_image_free(out);
                return s;
            }
            blit(out, &scaled, x, y);
            cnv_image_free(&scaled);
        }
        if (l->font_scale > 0 && captions && captions[i]) {
            int tw = cnv_font_text_width(captions[i], l->font_scale);
            int cx = tw < l->tile_w ? x + (l->tile_w - tw) / 2 : x;
            cnv_font_draw_fit(out, cx, y + l->tile_h + l->gap / 2, captions[i], l->font_scale,
                              l->tile_w + l->gap / 2, l->text);
        }
    }
    return CNV_OK;
}
