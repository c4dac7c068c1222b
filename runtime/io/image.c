/* 8-bit images through stb_image / stb_image_write (Debian's libstb, linked as a library).
 * stb_image is not safe on hostile files (the fuzzer found an out-of-bounds write in its JPEG
 * Huffman tables, stbi__build_huffman, within seconds), so every picture is decoded in a child
 * process (image_sandbox.c); this file holds what runs in there and what runs in the parent. */
#include "cnnvis/picture.h"
#include "io/image_decode.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

#include "core/status.h"
#include "io/atomic_file.h"

static size_t max_pixels = CNV_IMAGE_DEFAULT_MAX_PIXELS;

void cnv_image_set_max_pixels(size_t n) { max_pixels = n ? n : CNV_IMAGE_DEFAULT_MAX_PIXELS; }
size_t cnv_image_max_pixels(void) { return max_pixels; }

/* stb's reason for its last failure; some paths fail without setting one (libFuzzer: a PNG
 * whose only IDAT chunk is empty), and a NULL must not reach printf. */
static const char *stb_reason(void) {
    const char *r = stbi_failure_reason();
    return r && r[0] ? r : "no reason given";
}

/* The formats the README names, by their magic bytes: stb_image would also take GIF, PSD, PIC,
 * PNM, HDR and TGA (which has no magic at all, so any bytes may decode as one). */
static const char *format_of(const unsigned char *b, size_t n) {
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    if (n >= 8 && memcmp(b, png, 8) == 0) return "PNG";
    if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff) return "JPEG";
    if (n >= 2 && b[0] == 'B' && b[1] == 'M') return "BMP";
    return NULL;
}

/* Every PNG chunk must fit in the file: stb_image grows its buffer to the length a chunk claims
 * before reading it (libFuzzer: a 107-byte file asked for 1.8 GB). 1 when they fit. */
static int png_chunks_fit(FILE *f) {
    if (fseek(f, 0, SEEK_END) != 0) return 0;
    long size = ftell(f);
    long at = 8;
    while (size >= 0 && at < size) {
        unsigned char head[8];
        if (size - at < 12 || fseek(f, at, SEEK_SET) != 0 || fread(head, 1, 8, f) != 8) return 0;
        unsigned long len = (unsigned long)head[0] << 24 | (unsigned long)head[1] << 16 | (unsigned long)head[2] << 8 | head[3];
        if (len > (unsigned long)(size - at - 12)) return 0;
        at += 12 + (long)len;
        if (memcmp(head + 4, "IEND", 4) == 0) break;
    }
    return 1;
}

/* Every JPEG Huffman table must hold at most 256 codes: stb_image writes one size byte per code
 * into an array of 257 without checking (libFuzzer: an out-of-bounds write in
 * stbi__build_huffman from a 300-byte file). Walks the markers, skipping the entropy-coded data
 * after each start of scan, as stb does; 1 when every DHT segment is well formed. The decode
 * runs in a child process anyway (image_sandbox.c); this keeps the known hole closed there too. */
static int jpeg_tables_fit(FILE *f) {
    if (fseek(f, 2, SEEK_SET) != 0) return 0;
    int c;
    for (;;) {
        c = fgetc(f);
        if (c == EOF) return 1; /* truncated: stb reports it */
        if (c != 0xff) continue; /* entropy-coded bytes or fill */
        int m;
        while ((m = fgetc(f)) == 0xff) {
        }
        if (m == EOF) return 1;
        if (m == 0x00 || (m >= 0xd0 && m <= 0xd7) || m == 0x01) continue; /* stuffed byte, RSTn, TEM */
        if (m == 0xd9) return 1;                                            /* end of image */
        int hi = fgetc(f), lo = fgetc(f);
        if (hi == EOF || lo == EOF) return 1;
        long len = (long)(hi << 8 | lo) - 2;
        if (len < 0) return 0;
        if (m == 0xc4) {
            while (len > 0) {
                unsigned char counts[17];
                if (len < 17 || fread(counts, 1, 17, f) != 17) return 0;
                long codes = 0;
                for (int k = 1; k <= 16; k++) codes += counts[k];
                if (codes > 256 || 17 + codes > len) return 0;
                if (fseek(f, codes, SEEK_CUR) != 0) return 0;
                len -= 17 + codes;
            }
        } else if (fseek(f, len, SEEK_CUR) != 0) {
            return 0;
        }
    }
}

cnv_status cnv_image_decode_direct(const char *path, int channels, cnv_image *out) {
    memset(out, 0, sizeof *out);
    if (channels != 1 && channels != 3)
        return cnv_fail(CNV_ERR_ARG, "%s: images load as 1 or 3 channels, not %d", path, channels);
    /* Opening the file ourselves tells a missing file (IO) from a bad one (FORMAT). */
    FILE *f = fopen(path, "rb");
    if (!f) return cnv_fail(CNV_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char magic[8];
    size_t got = fread(magic, 1, sizeof magic, f);
    const char *format = format_of(magic, got);
    int w = 0, h = 0, file_channels;
    cnv_status st = CNV_OK;
    if (!format)
        st = cnv_fail(CNV_ERR_FORMAT, "%s: not a PNG, JPEG or BMP image (the formats cnnvis reads)", path);
    else if (!strcmp(format, "PNG") && !png_chunks_fit(f))
        st = cnv_fail(CNV_ERR_FORMAT, "%s: truncated or corrupt PNG: a chunk is longer than the file", path);
    else if (!strcmp(format, "JPEG") && !jpeg_tables_fit(f))
        st = cnv_fail(CNV_ERR_FORMAT, "%s: corrupt JPEG: a Huffman table is malformed or holds more than 256 codes",
                      path);
    /* Then stb's reading of the header alone: the size is checked before anything is decoded. */
    else if (fseek(f, 0, SEEK_SET) != 0 || !stbi_info_from_file(f, &w, &h, &file_channels) || w <= 0 || h <= 0)
        st = cnv_fail(CNV_ERR_FORMAT, "%s: cannot read the %s header: truncated or corrupt (stb_image: %s)", path, format,
                      stb_reason());
    else if ((size_t)w * (size_t)h > max_pixels)
        st = cnv_fail(CNV_ERR_LIMIT, "%s: %dx%d pixels is above the limit of %zu pixels (raise it with --max-pixels)",
                      path, w, h, max_pixels);
    unsigned char *px = st == CNV_OK && fseek(f, 0, SEEK_SET) == 0 ? stbi_load_from_file(f, &w, &h, &file_channels, channels) : NULL;
    fclose(f);
    if (st != CNV_OK) return st;
    if (!px) return cnv_fail(CNV_ERR_FORMAT, "%s: cannot decode the %s image: truncated or corrupt (stb_image: %s)", path, format, stb_reason());
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
    /* stb_image_write counts bytes in int: keep every row and the whole picture well inside it. */
    if (img->w < 1 || img->h < 1 || (double)img->w * img->h > (double)cnv_image_max_pixels())
        return cnv_fail(CNV_ERR_LIMIT, "%s: a %dx%d picture is above the limit of %zu pixels (raise it with --max-pixels)",
                        path, img->w, img->h, cnv_image_max_pixels());
    if ((double)img->w * img->h * img->c > (double)(INT_MAX / 2))
        return cnv_fail(CNV_ERR_LIMIT, "%s: a %dx%d picture is beyond what the PNG writer can encode (1 GiB)", path,
                        img->w, img->h);
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
