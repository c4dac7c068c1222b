/* Colormaps for activation maps and heatmaps: 256-entry RGB tables (magma, viridis: perceptually
 * uniform, luminance rising with the value; gray). Tables are built once from a few published
 * anchor colours by linear interpolation in RGB. */
#ifndef CNV_IO_COLORMAP_H
#define CNV_IO_COLORMAP_H

#include "io/image.h"

typedef enum { CNV_CMAP_MAGMA, CNV_CMAP_VIRIDIS, CNV_CMAP_GRAY, CNV_CMAP_COUNT } cnv_colormap;

/* "magma", "viridis" or "gray"; CNV_ERR_ARG naming the known ones otherwise. */
cnv_status cnv_colormap_parse(const char *name, cnv_colormap *out);
const char *cnv_colormap_name(cnv_colormap c);
/* Comma-separated names of every colormap ("magma, viridis, gray"), for --help. */
const char *cnv_colormap_names(void);

/* The colour of value v (0 = low end, 255 = high end). */
void cnv_colormap_rgb(cnv_colormap c, unsigned char v, unsigned char rgb[3]);

/* An RGB image (w x h) of `values` (w*h bytes, row-major) through the colormap. */
cnv_status cnv_colormap_apply(cnv_colormap c, const unsigned char *values, int w, int h, cnv_image *out);

#endif
