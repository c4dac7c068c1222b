// Resize, shared by resize_fwd.comp and resize_bwd_data.comp: the same taps as
// runtime/cpu/resize.c. Output index o along an axis reads input taps lo, hi with weights
// 1 - w, w (nearest: lo == hi, w == 0). Mode, coordinate transform and rounding are
// specialization constants 3..5 (shaders/resize_modes.h).
#include "resize_modes.h"

layout(constant_id = 3) const int MODE = CNV_RESIZE_NEAREST;
layout(constant_id = 4) const int COORD = CNV_COORD_HALF_PIXEL;
layout(constant_id = 5) const int ROUNDING = CNV_NEAREST_ROUND_PREFER_FLOOR;

layout(push_constant) uniform P {
    uint n;              // elements this dispatch covers: output (forward) or input (backward)
    int h, w, oh, ow;    // input and output plane
    float scale_h, scale_w;
} pc;

struct tap {
    int lo, hi;
    float w;
};

float source_coord(int o, float scale, int in_n, int out_n) {
    if (COORD == CNV_COORD_PYTORCH_HALF_PIXEL) return out_n > 1 ? (float(o) + 0.5) / scale - 0.5 : 0.0;
    if (COORD == CNV_COORD_ALIGN_CORNERS) return out_n > 1 ? float(o) * float(in_n - 1) / (float(in_n) * scale - 1.0) : 0.0;
    if (COORD == CNV_COORD_ASYMMETRIC) return float(o) / scale;
    if (COORD == CNV_COORD_TF_HALF_PIXEL_FOR_NN) return (float(o) + 0.5) / scale;
    return (float(o) + 0.5) / scale - 0.5;
}

int nearest_index(float x) {
    if (ROUNDING == CNV_NEAREST_ROUND_PREFER_CEIL) return int(floor(x + 0.5));
    if (ROUNDING == CNV_NEAREST_FLOOR) return int(floor(x));
    if (ROUNDING == CNV_NEAREST_CEIL) return int(ceil(x));
    return int(ceil(x - 0.5));
}

tap tap_of(int o, float scale, int in_n, int out_n) {
    float x = source_coord(o, scale, in_n, out_n);
    tap t;
    if (MODE == CNV_RESIZE_NEAREST) {
        t.lo = t.hi = clamp(nearest_index(x), 0, in_n - 1);
        t.w = 0.0;
        return t;
    }
    x = clamp(x, 0.0, float(in_n - 1));
    t.lo = int(floor(x));
    t.hi = min(t.lo + 1, in_n - 1);
    t.w = x - float(t.lo);
    return t;
}
