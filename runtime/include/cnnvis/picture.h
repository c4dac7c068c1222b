/* cnnvis — public C API: 8-bit pictures, and what the visualizations draw them with. Loading
 * (PNG, JPEG, BMP) under a pixel limit, resizing, PNG/JPEG writing; float planes and activation
 * maps turned into pixels; colormaps; heatmap overlays; grids of captioned tiles; animated GIFs.
 * Every verb of the CLI draws its pictures with these calls, so a program can compose the same
 * figures from the arrays the other headers return.
 *
 * A cnv_image is a plain value: its pixels are malloc'ed by the call that fills it and freed by
 * cnv_image_free (the caller's; NULL pixels are accepted). Writers replace an existing file only
 * when the whole new one is written. */
#ifndef CNNVIS_PICTURE_H
#define CNNVIS_PICTURE_H

#include <stddef.h>

#include "cnnvis/cnnvis.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cnv_image {
    int w, h, c;       /* c = 1 (gray) or 3 (RGB) */
    unsigned char *px; /* row-major, interleaved, malloc'ed */
} cnv_image;

/* ---- files ---- */

/* Loads and converts to `channels` (1 or 3; alpha dropped). Only PNG, JPEG and BMP (told by
 * their magic bytes) are read, and a picture above the pixel limit is refused (CNV_ERR_LIMIT)
 * from its header, before anything is decoded. */
CNV_API cnv_status cnv_image_load(const char *path, int channels, cnv_image *out);
/* The pixel limit of cnv_image_load, of grids and of the writers, for the whole process (the
 * CLI's --max-pixels); 0 restores the default, 64 million pixels (an 8000x8000 photo; 192 MB
 * decoded as RGB). */
#define CNV_IMAGE_DEFAULT_MAX_PIXELS ((size_t)64 * 1000 * 1000)
CNV_API void cnv_image_set_max_pixels(size_t n);
CNV_API size_t cnv_image_max_pixels(void);
CNV_API cnv_status cnv_image_save_png(const char *path, const cnv_image *img);
/* JPEG of quality 1..100 (pictures that come by the thousand, such as an atlas'). */
CNV_API cnv_status cnv_image_save_jpg(const char *path, const cnv_image *img, int quality);
CNV_API void cnv_image_free(cnv_image *img);

/* ---- resizing ---- */

typedef enum {
    CNV_SCALE_NEAREST,  /* crisp blocks: one activation = one visible square (maps) */
    CNV_SCALE_BILINEAR, /* smooth: photographs, patches */
} cnv_scale_mode;

/* Bilinear resize (half-pixel centres, as OpenCV INTER_LINEAR). */
CNV_API cnv_status cnv_image_resize(const cnv_image *src, int w, int h, cnv_image *out);
/* Scales an image to w x h by nearest neighbour or bilinear (cnv_image_resize). */
CNV_API cnv_status cnv_image_scale(const cnv_image *src, int w, int h, cnv_scale_mode mode, cnv_image *out);
/* The same picture as RGB (gray replicated); a copy when already RGB. */
CNV_API cnv_status cnv_image_to_rgb(const cnv_image *src, cnv_image *out);

/* ---- floats to pixels ---- */

/* Planes [C, H, W] in 0..1 (what renders produce), clamped and rounded to 0..255. */
CNV_API cnv_status cnv_image_from_planes(const float *chw, int c, int h, int w, cnv_image *out);
/* Bilinear resampling of float planes src [c, h, w] into dst [c, h2, w2] (the caller's) showing
 * the source zoomed by `zoom` about its centre (1: a plain resize); half-pixel centres, edges
 * clamped. DeepDream's zoom frames and style transfer's sizing use it. */
CNV_API void cnv_resample_planes(const float *src, int c, int h, int w, float *dst, int h2, int w2, float zoom);

typedef enum { CNV_NORM_CHANNEL, CNV_NORM_LAYER } cnv_norm_mode;
/* "channel" or "layer"; CNV_ERR_ARG otherwise. */
CNV_API cnv_status cnv_norm_parse(const char *name, cnv_norm_mode *out);
/* Smallest and largest finite value of x (both 0 when none is finite). */
CNV_API void cnv_map_range(const float *x, size_t n, float *lo, float *hi);
/* dst[i] = round(255 * (x[i] - lo) / (hi - lo)), clamped to 0..255; 0 everywhere when hi <= lo
 * (a constant map carries no contrast); non-finite values map to 0. */
CNV_API void cnv_map_to_u8(const float *x, size_t n, float lo, float hi, unsigned char *dst);
/* c maps of h*w floats each (CHW) to bytes, each channel scaled by its own range
 * (CNV_NORM_CHANNEL) or all by the range of the whole layer (CNV_NORM_LAYER). */
CNV_API void cnv_maps_to_u8(const float *chw, int c, int h, int w, cnv_norm_mode mode, unsigned char *dst);

/* ---- colormaps ---- */

/* 256-entry RGB tables: magma and viridis (perceptually uniform, luminance rising with the
 * value), gray. Built once from a few published anchor colours, interpolated in RGB. */
typedef enum { CNV_CMAP_MAGMA, CNV_CMAP_VIRIDIS, CNV_CMAP_GRAY, CNV_CMAP_COUNT } cnv_colormap;

/* "magma", "viridis" or "gray"; CNV_ERR_ARG naming the known ones otherwise. */
CNV_API cnv_status cnv_colormap_parse(const char *name, cnv_colormap *out);
CNV_API const char *cnv_colormap_name(cnv_colormap c);
/* Comma-separated names of every colormap ("magma, viridis, gray"), for --help. */
CNV_API const char *cnv_colormap_names(void);
/* The colour of value v (0 = low end, 255 = high end). */
CNV_API void cnv_colormap_rgb(cnv_colormap c, unsigned char v, unsigned char rgb[3]);
/* An RGB image (w x h) of `values` (w*h bytes, row-major) through the colormap. */
CNV_API cnv_status cnv_colormap_apply(cnv_colormap c, const unsigned char *values, int w, int h, cnv_image *out);

/* ---- heatmap overlays (Grad-CAM, saliency) ---- */

/* Bilinear resize of a float map (src_w x src_h, row-major) to dst (dst_w x dst_h), with
 * half-pixel centres and clamped borders (the same sampling as cnv_image_resize). */
CNV_API void cnv_map_resize(const float *src, int src_w, int src_h, float *dst, int dst_w, int dst_h);
/* out = round((1 - alpha) * image + alpha * colormap(heat)) per pixel and channel; heat holds
 * img->w * img->h values 0..255; alpha in [0, 1]. The image may be gray or RGB; out is RGB. */
CNV_API cnv_status cnv_overlay_heatmap(const cnv_image *img, const unsigned char *heat, cnv_colormap c, float alpha,
                                       cnv_image *out);
/* The whole chain for a float map of any size: resize to the image, min-max to 0..255, colour,
 * blend. */
CNV_API cnv_status cnv_overlay_map(const cnv_image *img, const float *map, int map_w, int map_h, cnv_colormap c,
                                   float alpha, cnv_image *out);

/* ---- grids of tiles ---- */

/* Every tile is scaled to tile_w x tile_h, tiles are laid out in rows with `gap` pixels between
 * them and around the border, and an optional one-line caption is written centred under each
 * tile. The result is always RGB. */
typedef struct cnv_grid_layout {
    int tile_w, tile_h;
    int cols;       /* tiles per row; 0 = about square (ceil(sqrt(n))) */
    int gap;        /* pixels between tiles and around the border */
    int font_scale; /* caption pixel size (7*font_scale high, plus one gap); 0 = no captions */
    cnv_scale_mode scale;
    unsigned char background[3];
    unsigned char text[3];
} cnv_grid_layout;

/* 64x64 tiles, about square, gap 4, captions at scale 1, nearest, dark gray background,
 * white text. */
CNV_API void cnv_grid_layout_default(cnv_grid_layout *l);
/* The geometry of a grid of n tiles: columns, rows, and the image size. */
CNV_API void cnv_grid_size(const cnv_grid_layout *l, int n, int *cols, int *rows, int *w, int *h);
/* Whether a grid of n tiles can be made: positive tiles, and the picture within the pixel limit
 * (cnv_image_max_pixels; CNV_ERR_LIMIT naming --max-pixels). Call it before a long run. */
CNV_API cnv_status cnv_grid_check(const cnv_grid_layout *l, int n);
/* Top-left corner of tile i in the composed image; the caption (if any) starts at
 * y + tile_h + gap/2 and is centred on the tile. */
CNV_API void cnv_grid_tile_origin(const cnv_grid_layout *l, int n, int i, int *x, int *y);
/* Height of the caption strip under each tile (0 without captions). */
CNV_API int cnv_grid_caption_height(const cnv_grid_layout *l);
/* Composes n >= 1 tiles (any size, 1 or 3 channels; NULL px = left empty) with captions
 * (NULL, or n strings of which any may be NULL) into out (RGB, malloc'ed). */
CNV_API cnv_status cnv_grid_compose(const cnv_image *tiles, const char *const *captions, int n,
                                    const cnv_grid_layout *l, cnv_image *out);

/* ---- animations ---- */

/* An animated GIF (giflib) of n frames of one size (RGB or gray), quantized to a fixed
 * 256-colour palette, looping; delay in 1/100 s per frame. Written atomically. */
CNV_API cnv_status cnv_gif_write(const char *path, const cnv_image *frames, int n, int delay_cs);

#ifdef __cplusplus
}
#endif
#endif
