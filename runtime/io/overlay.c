#include "cnnvis/picture.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "io/normalize.h"

/* Source index pair and weight for destination index d (half-pixel centres, clamped borders). */
static void sample(int d, double scale, int n, int *i0, int *i1, float *t) {
    double s = (d + 0.5) * scale - 0.5;
    if (s < 0) s = 0;
    if (s > n - 1) s = n - 1;
    *i0 = (int)s;
    *i1 = *i0 + 1 < n ? *i0 + 1 : *i0;
    *t = (float)(s - *i0);
}

void cnv_map_resize(const float *src, int src_w, int src_h, float *dst, int dst_w, int dst_h) {
    double sx = (double)src_w / dst_w, sy = (double)src_h / dst_h;
    for (int y = 0; y < dst_h; y++) {
        int y0, y1;
        float ty;
        sample(y, sy, src_h, &y0, &y1, &ty);
        for (int x = 0; x < dst_w; x++) {
            int x0, x1;
            float tx;
            sample(x, sx, src_w, &x0, &x1, &tx);
            float top = src[y0 * src_w + x0] + tx * (src[y0 * src_w + x1] - src[y0 * src_w + x0]);
            float bottom = src[y1 * src_w + x0] + tx * (src[y1 * src_w + x1] - src[y1 * src_w + x0]);
            dst[(size_t)y * dst_w + x] = top + ty * (bottom - top);
        }
    }
}

cnv_status cnv_overlay_heatmap(const cnv_image *img, const unsigned char *heat, cnv_colormap c, float alpha,
                               cnv_image *out) {
    memset(out, 0, sizeof *out);
    if (!(alpha >= 0 && alpha <= 1)) return cnv_fail(CNV_ERR_ARG, "overlay: alpha %g is not in [0, 1]", alpha);
    size_t n = (size_t)img->w * img->h;
    out->px = malloc(n * 3);
    if (!out->px) return cnv_fail(CNV_ERR_NOMEM, "overlay: out of memory for %dx%d", img->w, img->h);
    out->w = img->w;
    out->h = img->h;
    out->c = 3;
    for (size_t i = 0; i < n; i++) {
        unsigned char rgb[3];
        cnv_colormap_rgb(c, heat[i], rgb);
        for (int k = 0; k < 3; k++) {
            float base = img->px[i * img->c + (img->c == 3 ? k : 0)];
            out->px[3 * i + k] = (unsigned char)lrintf((1 - alpha) * base + alpha * rgb[k]);
        }
    }
    return CNV_OK;
}

cnv_status cnv_overlay_map(const cnv_image *img, const float *map, int map_w, int map_h, cnv_colormap c,
                           float alpha, cnv_image *out) {
    memset(out, 0, sizeof *out);
    if (map_w < 1 || map_h < 1) return cnv_fail(CNV_ERR_ARG, "overlay: bad map size %dx%d", map_w, map_h);
    size_t n = (size_t)img->w * img->h;
    float *big = malloc(n * sizeof *big);
    unsigned char *heat = malloc(n);
    if (!big || !heat) {
        free(big), free(heat);
        return cnv_fail(CNV_ERR_NOMEM, "overlay: out of memory for %dx%d", img->w, img->h);
    }
    cnv_map_resize(map, map_w, map_h, big, img->w, img->h);
    float lo, hi;
    cnv_map_range(big, n, &lo, &hi);
    cnv_map_to_u8(big, n, lo, hi, heat);
    cnv_status s = cnv_overlay_heatmap(img, heat, c, alpha, out);
    free(big);
    free(heat);
    return s;
}
