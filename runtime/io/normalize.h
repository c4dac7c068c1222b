/* The picture a model actually saw: its input, preprocessed back to 8 bits (the map
 * normalization it builds on is public, cnnvis/picture.h). */
#ifndef CNV_IO_NORMALIZE_H
#define CNV_IO_NORMALIZE_H

#include <stddef.h>

#include "core/input_spec.h"
#include "core/shape.h"
#include "cnnvis/picture.h"

/* The 8-bit picture of one preprocessed input (1xCxHxW floats, C = 1 or 3, as io/preprocess.h
 * makes them for preset p): normalization undone, channel order back to RGB, clamped. */
cnv_status cnv_image_from_input(const float *data, const cnv_shape *shape, const cnv_preset *p, cnv_image *out);

/* The picture of an input file as a person should see it: an image file as loaded (at its own
 * size, with the model's channel count: input_shape is 1xCxHxW), or a .npy tensor preprocessed
 * back by cnv_image_from_input. */
cnv_status cnv_input_picture(const char *path, const cnv_preset *p, const cnv_shape *input_shape, cnv_image *out);

#endif
