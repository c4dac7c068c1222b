/* NumPy .npy files: float32 tensors of up to 4 dims, C order. */
#ifndef CNV_IO_NPY_H
#define CNV_IO_NPY_H

#include "core/shape.h"
#include "cnnvis/cnnvis.h"

/* Reads '<f4' (and '<f8', converted) C-order arrays. *data is malloc'ed. */
cnv_status cnv_npy_read(const char *path, float **data, cnv_shape *shape);
/* Writes '<f4' atomically (temporary file, then rename): never a partial file. */
cnv_status cnv_npy_write(const char *path, const float *data, const cnv_shape *shape);

#endif
