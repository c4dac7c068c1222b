/* Images as float planes [C, H, W] in 0..1 (what renders produce) to 8-bit interleaved pixels. */
#ifndef CNV_IO_PLANES_H
#define CNV_IO_PLANES_H

#include "io/image.h"

/* Clamps to 0..1 and rounds to 0..255; out->px is malloc'ed (cnv_image_free). */
cnv_status cnv_image_from_planes(const float *chw, int c, int h, int w, cnv_image *out);

#endif
