#include "cnnvis/picture.h"

#include <math.h>
#include <stdlib.h>

#include "core/status.h"

cnv_status cnv_image_from_planes(const float *chw, int c, int h, int w, cnv_image *img) {
    img->w = w;
    img->h = h;
    img->c = c;
    img->px = malloc((size_t)w * h * c);
    if (!img->px) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                float f = chw[((size_t)k * h + y) * w + x];
                f = f < 0 ? 0 : f > 1 ? 1 : f;
                img->px[((size_t)y * w + x) * c + k] = (unsigned char)lrintf(f * 255.0f);
            }
    return CNV_OK;
}
