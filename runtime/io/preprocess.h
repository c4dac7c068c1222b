/* From a file to the tensor a model takes: an image is loaded, resized (plain bilinear, no
 * crop) to the model's input size, put in the preset's channel order, scaled and normalized;
 * a .npy is taken as already preprocessed and must have exactly the model's input shape. */
#ifndef CNV_IO_PREPROCESS_H
#define CNV_IO_PREPROCESS_H

#include "core/input_spec.h"
#include "core/shape.h"
#include "cnnvis/picture.h"

/* *data (malloc'ed) receives cnv_shape_numel(input_shape) floats, NCHW. */
cnv_status cnv_preprocess_file(const char *path, const cnv_preset *p, const cnv_shape *input_shape, float **data);
/* A batch: a .npy of *n items, each the input shape (batch 1) past the first axis, or an image
 * (*n = 1). *data (malloc'ed) receives *n x cnv_shape_numel(input_shape) floats, NCHW. */
cnv_status cnv_preprocess_batch(const char *path, const cnv_preset *p, const cnv_shape *input_shape, float **data,
                                int *n);

/* An 8-bit image whose size and channels already match input_shape (1xCxHxW, C = 1 or 3),
 * converted to the model's values into dst. */
void cnv_preprocess_pixels(const cnv_image *img, const cnv_preset *p, float *dst);

/* True when the file is a .npy (by its magic bytes, or by its name when it cannot be read). */
int cnv_is_npy_path(const char *path);

#endif
