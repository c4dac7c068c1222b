#include "io/preprocess.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/status.h"
#include "io/npy.h"

int cnv_is_npy_path(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f) {
        char magic[6];
        int is_npy = fread(magic, 1, sizeof magic, f) == sizeof magic && memcmp(magic, "\x93NUMPY", 6) == 0;
        fclose(f);
        if (is_npy) return 1;
    }
    size_t n = strlen(path);
    return n >= 4 && strcasecmp(path + n - 4, ".npy") == 0;
}

void cnv_preprocess_pixels(const cnv_image *img, const cnv_preset *p, float *dst) {
    size_t plane = (size_t)img->w * img->h;
    for (int ch = 0; ch < img->c; ch++) {
        /* Model channel ch reads image channel src_ch: BGR models take blue first. */
        int src_ch = (img->c == 3 && p->order == CNV_ORDER_BGR) ? 2 - ch : ch;
        float mean = p->mean[ch], inv_std = 1.0f / p->std[ch];
        for (size_t i = 0; i < plane; i++)
            dst[ch * plane + i] = ((float)img->px[i * img->c + src_ch] * p->scale - mean) * inv_std;
    }
}

/* A .npy of the model's input shape or, with batch, of any count of items of that shape past its
 * first axis (the model's batch axis, 1); *n gets the count of items. */
static cnv_status preprocess_npy(const char *path, const cnv_shape *input_shape, int batch, float **data, int *n) {
    cnv_shape shape;
    CNV_TRY(cnv_npy_read(path, data, &shape));
    cnv_shape item = shape;
    if (batch && item.ndim == input_shape->ndim && item.ndim > 0 && input_shape->d[0] == 1 && item.d[0] > 0)
        item.d[0] = 1;
    if (!cnv_shape_equal(&item, input_shape)) {
        char have[64], want[64];
        free(*data);
        *data = NULL;
        return cnv_fail(CNV_ERR_SHAPE, "%s: tensor shape %s does not match the model input %s%s", path,
                        cnv_shape_str(&shape, have, sizeof have), cnv_shape_str(input_shape, want, sizeof want),
                        batch && input_shape->d[0] == 1 ? " (any count of items along the first axis)" : "");
    }
    *n = shape.ndim > 0 ? shape.d[0] : 1;
    /* A NaN or infinity would reach every output silently. */
    size_t count = cnv_shape_numel(&shape);
    for (size_t i = 0; i < count; i++)
        if (!isfinite((*data)[i])) {
            cnv_status st = cnv_fail(CNV_ERR_FORMAT, "%s: element %zu of %zu is %s: an input must hold finite numbers",
                                     path, i, count, isnan((*data)[i]) ? "NaN" : "an infinity");
            free(*data);
            *data = NULL;
            return st;
        }
    return CNV_OK;
}

static cnv_status preprocess_image(const char *path, const cnv_preset *p, const cnv_shape *input_shape,
                                   float **data) {
    const cnv_shape *s = input_shape;
    char want[64];
    /* Channels last (tf2onnx models, whose first node is a Transpose to NCHW): the image tools
     * draw and optimize NCHW inputs only, so such a model runs on tensors, not images. */
    if (s->ndim == 4 && s->d[0] == 1 && (s->d[3] == 1 || s->d[3] == 3) && s->d[1] != 1 && s->d[1] != 3)
        return cnv_fail(CNV_ERR_UNSUPPORTED,
                        "%s: the model takes NHWC (channels-last) input %s; images are only fed to NCHW models: "
                        "give a .npy of that shape",
                        path, cnv_shape_str(s, want, sizeof want));
    if (s->ndim != 4 || s->d[0] != 1 || (s->d[1] != 1 && s->d[1] != 3)) {
        return cnv_fail(CNV_ERR_SHAPE, "%s: the model input %s is not an image; give a .npy of that shape", path,
                        cnv_shape_str(s, want, sizeof want));
    }
    cnv_image loaded, sized;
    CNV_TRY(cnv_image_load(path, s->d[1], &loaded));
    cnv_status st = cnv_image_resize(&loaded, s->d[3], s->d[2], &sized);
    cnv_image_free(&loaded);
    if (st != CNV_OK) return st;
    *data = malloc(cnv_shape_numel(s) * sizeof **data);
    if (!*data) {
        cnv_image_free(&sized);
        return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", path);
    }
    cnv_preprocess_pixels(&sized, p, *data);
    cnv_image_free(&sized);
    return CNV_OK;
}

cnv_status cnv_preprocess_file(const char *path, const cnv_preset *p, const cnv_shape *input_shape, float **data) {
    *data = NULL;
    int n;
    if (cnv_is_npy_path(path)) return preprocess_npy(path, input_shape, 0, data, &n);
    return preprocess_image(path, p, input_shape, data);
}

cnv_status cnv_preprocess_batch(const char *path, const cnv_preset *p, const cnv_shape *input_shape, float **data,
                                int *n) {
    *data = NULL;
    *n = 1;
    if (cnv_is_npy_path(path)) return preprocess_npy(path, input_shape, 1, data, n);
    return preprocess_image(path, p, input_shape, data);
}
