/* 8-bit images: load (PNG/JPEG/BMP via stb_image), resize, save PNG atomically. */
#ifndef CNV_IO_IMAGE_H
#define CNV_IO_IMAGE_H

#include "cnnvis/cnnvis.h"

typedef struct cnv_image {
    int w, h, c;       /* c = 1 (gray) or 3 (RGB) */
    unsigned char *px; /* row-major, interleaved, malloc'ed */
} cnv_image;

/* Loads and converts to `channels` (1 or 3; alpha dropped). Only PNG, JPEG and BMP (told by
 * their magic bytes) are read, and a picture above the pixel limit is refused (CNV_ERR_LIMIT)
 * from its header, before anything is decoded. */
cnv_status cnv_image_load(const char *path, int channels, cnv_image *out);
/* The pixel limit of cnv_image_load for the whole process (the CLI's --max-pixels); 0 restores
 * the default, 64 million pixels (an 8000x8000 photo; 192 MB decoded as RGB). */
#define CNV_IMAGE_DEFAULT_MAX_PIXELS ((size_t)64 * 1000 * 1000)
void cnv_image_set_max_pixels(size_t n);
size_t cnv_image_max_pixels(void);
/* Bilinear resize (half-pixel centres, as OpenCV INTER_LINEAR). */
cnv_status cnv_image_resize(const cnv_image *src, int w, int h, cnv_image *out);
cnv_status cnv_image_save_png(const char *path, const cnv_image *img);
/* JPEG of quality 1..100 (pictures that come by the thousand, such as an atlas'). */
cnv_status cnv_image_save_jpg(const char *path, const cnv_image *img, int quality);
void cnv_image_free(cnv_image *img);

#endif
