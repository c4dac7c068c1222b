/* 8-bit images: load (PNG/JPEG/BMP via stb_image), resize, save PNG atomically. */
#ifndef CNV_IO_IMAGE_H
#define CNV_IO_IMAGE_H

#include "cnnvis/cnnvis.h"

typedef struct cnv_image {
    int w, h, c;       /* c = 1 (gray) or 3 (RGB) */
    unsigned char *px; /* row-major, interleaved, malloc'ed */
} cnv_image;

/* Loads and converts to `channels` (1 or 3; alpha dropped). */
cnv_status cnv_image_load(const char *path, int channels, cnv_image *out);
/* Bilinear resize (half-pixel centres, as OpenCV INTER_LINEAR). */
cnv_status cnv_image_resize(const cnv_image *src, int w, int h, cnv_image *out);
cnv_status cnv_image_save_png(const char *path, const cnv_image *img);
/* JPEG of quality 1..100 (pictures that come by the thousand, such as an atlas'). */
cnv_status cnv_image_save_jpg(const char *path, const cnv_image *img, int quality);
void cnv_image_free(cnv_image *img);

#endif
