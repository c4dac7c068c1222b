/* Resize's taps (core/op.h): where each output index of an axis reads its input, for every
 * coordinate transform and nearest rounding of ONNX (shaders/resize_modes.h). */
#include "op.h"

#include <math.h>

/* The input coordinate of output index o. */
static float source_coord(int coord, int o, float scale, int in, int out) {
    switch (coord) {
    case CNV_COORD_PYTORCH_HALF_PIXEL: return out > 1 ? ((float)o + 0.5f) / scale - 0.5f : 0.0f;
    /* The resized length is in * scale, not rounded (ONNX's own test data: 4 x 0.6 reads 2.4). */
    case CNV_COORD_ALIGN_CORNERS: return out > 1 ? (float)o * (float)(in - 1) / ((float)in * scale - 1.0f) : 0.0f;
    case CNV_COORD_ASYMMETRIC: return (float)o / scale;
    case CNV_COORD_TF_HALF_PIXEL_FOR_NN: return ((float)o + 0.5f) / scale;
    default: return ((float)o + 0.5f) / scale - 0.5f;
    }
}

static int nearest_index(int rounding, float x) {
    switch (rounding) {
    case CNV_NEAREST_ROUND_PREFER_CEIL: return (int)floorf(x + 0.5f);
    case CNV_NEAREST_FLOOR: return (int)floorf(x);
    case CNV_NEAREST_CEIL: return (int)ceilf(x);
    default: return (int)ceilf(x - 0.5f);
    }
}

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

cnv_resize_tap cnv_resize_tap_of(const cnv_attrs *a, int axis, int o, int in, int out) {
    float x = source_coord(a->resize_coord, o, cnv_resize_scale(a, axis, in, out), in, out);
    if (a->resize_mode == CNV_RESIZE_NEAREST) {
        int i = clampi(nearest_index(a->resize_nearest, x), 0, in - 1);
        return (cnv_resize_tap){i, i, 0.0f};
    }
    x = fminf(fmaxf(x, 0.0f), (float)(in - 1)); /* the edge value outside, as ONNX and PyTorch */
    int lo = (int)floorf(x);
    return (cnv_resize_tap){lo, lo + 1 < in ? lo + 1 : lo, x - (float)lo};
}
