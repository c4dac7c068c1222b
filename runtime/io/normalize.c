#include "io/normalize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "io/preprocess.h"

cnv_status cnv_norm_parse(const char *name, cnv_norm_mode *out) {
    if (name && strcmp(name, "channel") == 0) {
        *out = CNV_NORM_CHANNEL;
        return CNV_OK;
    }
    if (name && strcmp(name, "layer") == 0) {
        *out = CNV_NORM_LAYER;
        return CNV_OK;
    }
    return cnv_fail(CNV_ERR_ARG, "unknown normalization '%s' (known: channel, layer)", name ? name : "");
}

void cnv_map_range(const float *x, size_t n, float *lo, float *hi) {
    int any = 0;
    *lo = *hi = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) continue;
        if (!any || x[i] < *lo) *lo = x[i];
        if (!any || x[i] > *hi) *hi = x[i];
        any = 1;
    }
}

void cnv_map_to_u8(const float *x, size_t n, float lo, float hi, unsigned char *dst) {
    if (!(hi > lo)) {
        memset(dst, 0, n);
        return;
    }
    double k = 255.0 / ((double)hi - lo);
    for (size_t i = 0; i < n; i++) {
        double v = isfinite(x[i]) ? (x[i] - (double)lo) * k : 0;
        dst[i] = (unsigned char)lround(v < 0 ? 0 : v > 255 ? 255 : v);
    }
}

void cnv_maps_to_u8(const float *chw, int c, int h, int w, cnv_norm_mode mode, unsigned char *dst) {
    size_t plane = (size_t)h * w;
    float lo = 0, hi = 0; /* the layer's range, or each channel's in turn */
    if (mode == CNV_NORM_LAYER) cnv_map_range(chw, plane * c, &lo, &hi);
    for (int ch = 0; ch < c; ch++) {
        if (mode == CNV_NORM_CHANNEL) cnv_map_range(chw + ch * plane, plane, &lo, &hi);
        cnv_map_to_u8(chw + ch * plane, plane, lo, hi, dst + ch * plane);
    }
}

cnv_status cnv_image_from_input(const float *data, const cnv_shape *shape, const cnv_preset *p, cnv_image *out) {
    memset(out, 0, sizeof *out);
    if (shape->ndim != 4 || shape->d[0] < 1 || (shape->d[1] != 1 && shape->d[1] != 3)) {
        char buf[64];
        return cnv_fail(CNV_ERR_SHAPE, "input %s is not an image (1 or 3 channels)", cnv_shape_str(shape, buf, sizeof buf));
    }
    int c = shape->d[1], h = shape->d[2], w = shape->d[3];
    size_t plane = (size_t)h * w;
    out->px = malloc(plane * c);
    if (!out->px) return cnv_fail(CNV_ERR_NOMEM, "input image: out of memory for %dx%d", w, h);
    out->w = w;
    out->h = h;
    out->c = c;
    for (int ch = 0; ch < c; ch++) {
        /* Undo cnv_preprocess_pixels: model channel ch came from image channel dst_ch. */
        int dst_ch = (c == 3 && p->order == CNV_ORDER_BGR) ? 2 - ch : ch;
        for (size_t i = 0; i < plane; i++) {
            double v = ((double)data[ch * plane + i] * p->std[ch] + p->mean[ch]) / p->scale;
            if (!isfinite(v)) v = 0;
            out->px[i * c + dst_ch] = (unsigned char)lrint(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    return CNV_OK;
}

cnv_status cnv_input_picture(const char *path, const cnv_preset *p, const cnv_shape *input_shape, cnv_image *out) {
    memset(out, 0, sizeof *out);
    if (input_shape->ndim != 4 || (input_shape->d[1] != 1 && input_shape->d[1] != 3)) {
        char buf[64];
        return cnv_fail(CNV_ERR_SHAPE, "%s: the model input %s is not an image", path,
                        cnv_shape_str(input_shape, buf, sizeof buf));
    }
    if (!cnv_is_npy_path(path)) return cnv_image_load(path, input_shape->d[1], out);
    float *data;
    CNV_TRY(cnv_preprocess_file(path, p, input_shape, &data));
    cnv_status s = cnv_image_from_input(data, input_shape, p, out);
    free(data);
    return s;
}
