/* Grids of equal tiles: every tile is scaled to tile_w x tile_h, tiles are laid out in rows
 * with `gap` pixels between them and around the border, and an optional one-line caption is
 * written centred under each tile. The result is always RGB. */
#ifndef CNV_IO_GRID_H
#define CNV_IO_GRID_H

#include "io/image.h"

typedef enum {
    CNV_SCALE_NEAREST,  /* crisp blocks: one activation = one visible square (maps) */
    CNV_SCALE_BILINEAR, /* smooth: photographs, patches */
} cnv_scale_mode;

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
void cnv_grid_layout_default(cnv_grid_layout *l);

/* The geometry of a grid of n tiles: columns, rows, and the image size. */
void cnv_grid_size(const cnv_grid_layout *l, int n, int *cols, int *rows, int *w, int *h);
/* Whether a grid of n tiles can be made: positive tiles, and the picture within the pixel limit
 * (cnv_image_max_pixels; CNV_ERR_LIMIT naming --max-pixels). Verbs call it before their run. */
cnv_status cnv_grid_check(const cnv_grid_layout *l, int n);
/* Top-left corner of tile i in the composed image; the caption (if any) starts at
 * y + tile_h + gap/2 and is centred on the tile. */
void cnv_grid_tile_origin(const cnv_grid_layout *l, int n, int i, int *x, int *y);
/* Height of the caption strip under each tile (0 without captions). */
int cnv_grid_caption_height(const cnv_grid_layout *l);

/* Composes n >= 1 tiles (any size, 1 or 3 channels; NULL px = left empty) with captions
 * (NULL, or n strings of which any may be NULL) into out (RGB, malloc'ed). */
cnv_status cnv_grid_compose(const cnv_image *tiles, const char *const *captions, int n, const cnv_grid_layout *l,
                            cnv_image *out);

/* Scales an image to w x h by nearest neighbour or bilinear (io/image.h's resize). */
cnv_status cnv_image_scale(const cnv_image *src, int w, int h, cnv_scale_mode mode, cnv_image *out);
/* The same picture as RGB (gray replicated); a copy when already RGB. */
cnv_status cnv_image_to_rgb(const cnv_image *src, cnv_image *out);

#endif
