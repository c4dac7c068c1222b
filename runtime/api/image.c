/* The public PNG writer (visualize.h) for the float images the render calls return. */
#include "cnnvis/visualize.h"
#include "core/status.h"
#include "cnnvis/picture.h"

cnv_status cnv_save_png(const char *path, const float *image, int c, int h, int w) {
    cnv_image img;
    CNV_TRY(cnv_image_from_planes(image, c, h, w, &img));
    cnv_status s = cnv_image_save_png(path, &img);
    cnv_image_free(&img);
    return s;
}
