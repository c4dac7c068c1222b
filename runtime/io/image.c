/* 8-bit images through stb_image / stb_image_write (Debian's libstb, linked as a library). */
#include "io/image.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

#include "core/status.h"
#include "io/atomic_file.h"

cnv_status cnv_image_load(const char *path, int channels, cnv_image *out) {
    memset(out, 0, sizeof *out);
    if (channels != 1 && channels != 3)
        return cnv_fail(CNV_ERR_ARG, "%s: images load as 1 or 3 channels, not %d", path, channels);
    /* Opening the file ourselves tells a missing file (IO) from a bad one (FORMAT). */
    FILE *f = fopen(path, "rb");
    if (!f) return cnv_fail(CNV_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    int w, h, file_channels;
    unsigned char *px = stbi_load_from_file(f, &w, &h, &file_channels, channels);
    fclose(f);
    if (!px) return cnv_fail(CNV_ERR_FORMAT, "%s: cannot decode as an image: truncated, corrupt or not an image (stb_image: %s)", path, stbi_failure_reason());
    out->w = w;
    out->h = h;
    out->c = channels;
    out->px = px;
    return CNV_OK;
}

/* Source coordinate of destination index d with half-pixel centres, clamped at the borders as
 * OpenCV's INTER_LINEAR does: i0 is the left/top neighbour, t the weight of the other one. */
static void source_coord(int d, double scale, int src_size, int *i0, int *i1, float *t) {
    double s = (d + 0.5) * scale - 0.5;
    int i = (int)floor(s);
    double frac = s - i;
    if (i < 0) {
        i = 0;
        frac = 0;
    }
    if (i >= src_size - 1) {
        i = src_size - 1;
        frac = 0;
    }
    *i0 = i;
    *i1 = i + 1 < src_size ? i + 1 : i;
    *t = (float)frac;
}

cnv_status cnv_image_resize(const cnv_image *src, int w, int h, cnv_image *out) {
    memset(out, 0, sizeof *out);
    if (w <= 0 || h <= 0 || src->w <= 0 || src->h <= 0)
        return cnv_fail(CNV_ERR_ARG, "image resize: bad size %dx%d -> %dx%d", src->w, src->h, w, h);
    int c = src->c;
    unsigned char *px = malloc((size_t)w * h * c);
    int *x0 = malloc(sizeof(int) * (size_t)w), *x1 = malloc(sizeof(int) * (size_t)w);
    float *tx = malloc(sizeof(float) * (size_t)w);
    if (!px || !x0 || !x1 || !tx) {
        free(px), free(x0), free(x1), free(tx);
        return cnv_fail(CNV_ERR_NOMEM, "image resize: out of memory for %dx%d", w, h);
    }
    double sx = (double)src->w / w, sy = (double)src->h / h;
    for (int x = 0; x < w; x++) source_coord(x, sx, src->w, &x0[x], &x1[x], &tx[x]);
    for (int y = 0; y < h; y++) {
        int y0, y1;
        float ty;
        source_coord(y, sy, src->h, &y0, &y1, &ty);
        const unsigned char *r0 = src->px + (size_t)y0 * src->w * c;
        const unsigned char *r1 = src->px + (size_t)y1 * src->w * c;
        unsigned char *dst = px + (size_t)y * w * c;
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                float top = r0[x0[x] * c + k] + tx[x] * (r0[x1[x] * c + k] - r0[x0[x] * c + k]);
                float bottom = r1[x0[x] * c + k] + tx[x] * (r1[x1[x] * c + k] - r1[x0[x] * c + k]);
                float v = top + ty * (bottom - top);
                dst[x * c + k] = (unsigned char)lrintf(v < 0 ? 0 : v > 255 ? 255 : v);
            }
    }
    free(x0), free(x1), free(tx);
    out->w = w;
    out->h = h;
    out->c = c;
    out->px = px;
    return CNV_OK;
}

static void write_to_file(void *context, void *data, int size) { fwrite(data, 1, (size_t)size, (FILE *)context); }

cnv_status cnv_image_save_png(const char *path, const cnv_image *img) {
    if (img->c != 1 && img->c != 3)
        return cnv_fail(CNV_ERR_ARG, "%s: cannot save an image of %d channels", path, img->c);
    cnv_atomic_file af;
    CNV_TRY(cnv_atomic_open(path, &af));
    if (!stbi_write_png_to_func(write_to_file, af.f, img->w, img->h, img->c, img->px, img->w * img->c)) {
        cnv_atomic_abort(&af);
        return cnv_fail(CNV_ERR_IO, "%s: PNG encoding failed", path);
    }
    return cnv_atomic_commit(&af);
}

cnv_status cnv_image_save_jpg(const char *path, const cnv_image *img, int quality) {
    if (img->c != 1 && img->c != 3)
        return cnv_fail(CNV_ERR_ARG, "%s: cannot save an image of %d channels", path, img->c);
    cnv_atomic_file af;
    CNV_TRY(cnv_atomic_open(path, &af));
    if (!stbi_write_jpg_to_func(write_to_file, af.f, img->w, img->h, img->c, img->px, quality)) {
        cnv_atomic_abort(&af);
        return cnv_fail(CNV_ERR_IO, "%s: JPEG encoding failed", path);
    }
    return cnv_atomic_commit(&af);
}

void cnv_image_free(cnv_image *img) {
    /* Loaded images come from stb's allocator, which is malloc in Debian's build. */
    free(img->px);
    img->px = NULL;
    img->w = img->h = img->c = 0;
}
