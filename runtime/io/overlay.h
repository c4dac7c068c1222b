/* Heatmaps over images (Grad-CAM, saliency): a float map resized to the image, normalized,
 * coloured and blended with the image. */
#ifndef CNV_IO_OVERLAY_H
#define CNV_IO_OVERLAY_H

#include "io/colormap.h"

/* Bilinear resize of a float map (src_w x src_h, row-major) to dst (dst_w x dst_h), with
 * half-pixel centres and clamped borders (the same sampling as cnv_image_resize). */
void cnv_map_resize(const float *src, int src_w, int src_h, float *dst, int dst_w, int dst_h);

/* out = round((1 - alpha) * image + alpha * colormap(heat)) per pixel and channel; heat holds
 * img->w * img->h values 0..255; alpha in [0, 1]. The image may be gray or RGB; out is RGB. */
cnv_status cnv_overlay_heatmap(const cnv_image *img, const unsigned char *heat, cnv_colormap c, float alpha,
                               cnv_image *out);

/* The whole chain for a float map of any size: resize to the image, min-max to 0..255, colour,
 * blend. */
cnv_status cnv_overlay_map(const cnv_image *img, const float *map, int map_w, int map_h, cnv_colormap c,
                           float alpha, cnv_image *out);

#endif
