/* From floats to pixels: min-max normalization of maps to 0..255 (per channel or over a whole
 * layer), and the picture a model actually saw (its input, preprocessed back to 8 bits). */
#ifndef CNV_IO_NORMALIZE_H
#define CNV_IO_NORMALIZE_H

#include <stddef.h>

#include "core/input_spec.h"
#include "core/shape.h"
#include "io/image.h"

typedef enum { CNV_NORM_CHANNEL, CNV_NORM_LAYER } cnv_norm_mode;

/* "channel" or "layer"; CNV_ERR_ARG otherwise. */
cnv_status cnv_norm_parse(const char *name, cnv_norm_mode *out);

/* Smallest and largest finite value of x (both 0 when none is finite). */
void cnv_map_range(const float *x, size_t n, float *lo, float *hi);
/* dst[i] = round(255 * (x[i] - lo) / (hi - lo)), clamped to 0..255; 0 everywhere when hi <= lo
 * (a constant map carries no contrast); non-finite values map to 0. */
void cnv_map_to_u8(const float *x, size_t n, float lo, float hi, unsigned char *dst);

/* c maps of h*w floats each (CHW) to bytes, each channel scaled by its own range
 * (CNV_NORM_CHANNEL) or all by the range of the whole layer (CNV_NORM_LAYER). */
void cnv_maps_to_u8(const float *chw, int c, int h, int w, cnv_norm_mode mode, unsigned char *dst);

/* The 8-bit picture of one preprocessed input (1xCxHxW floats, C = 1 or 3, as io/preprocess.h
 * makes them for preset p): normalization undone, channel order back to RGB, clamped. */
cnv_status cnv_image_from_input(const float *data, const cnv_shape *shape, const cnv_preset *p, cnv_image *out);

/* The picture of an input file as a person should see it: an image file as loaded (at its own
 * size, with the model's channel count: input_shape is 1xCxHxW), or a .npy tensor preprocessed
 * back by cnv_image_from_input. */
cnv_status cnv_input_picture(const char *path, const cnv_preset *p, const cnv_shape *input_shape, cnv_image *out);

#endif
