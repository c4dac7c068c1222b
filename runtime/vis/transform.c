/* Affine transforms for Resample (see transform.h for the exact convention) and the bilinear
 * resampling of images on the host. */
#include "transform.h"

#include <math.h>
#include <stddef.h>

void cnv_affine_compose(float scale, float angle_deg, float tx, float ty, float T[6]) {
    const double a = (double)angle_deg * acos(-1.0) / 180.0;
    const double c = cos(a) / scale, s = sin(a) / scale;
    /* The inverse of p -> scale * R p + t is o -> R^T (o - t) / scale. */
    T[0] = (float)c;
    T[1] = (float)s;
    T[3] = (float)-s;
    T[4] = (float)c;
    T[2] = (float)(-(c * tx + s * ty));
    T[5] = (float)(s * tx - c * ty);
}

void cnv_resample_planes(const float *src, int c, int h, int w, float *dst, int h2, int w2, float zoom) {
    /* Destination pixel centre -> source coordinates, both about the centres. */
    float sy = (float)h / ((float)h2 * zoom), sx = (float)w / ((float)w2 * zoom);
    for (int y = 0; y < h2; y++) {
        float fy = ((float)y + 0.5f - 0.5f * (float)h2) * sy + 0.5f * (float)h - 0.5f;
        fy = fy < 0 ? 0 : fy > (float)(h - 1) ? (float)(h - 1) : fy;
        int y0 = (int)fy, y1 = y0 + 1 < h ? y0 + 1 : y0;
        float ay = fy - (float)y0;
        for (int x = 0; x < w2; x++) {
            float fx = ((float)x + 0.5f - 0.5f * (float)w2) * sx + 0.5f * (float)w - 0.5f;
            fx = fx < 0 ? 0 : fx > (float)(w - 1) ? (float)(w - 1) : fx;
            int x0 = (int)fx, x1 = x0 + 1 < w ? x0 + 1 : x0;
            float ax = fx - (float)x0;
            for (int k = 0; k < c; k++) {
                const float *p = src + (size_t)k * h * w;
                float top = p[y0 * w + x0] * (1 - ax) + p[y0 * w + x1] * ax;
                float bot = p[y1 * w + x0] * (1 - ax) + p[y1 * w + x1] * ax;
                dst[((size_t)k * h2 + y) * w2 + x] = top * (1 - ay) + bot * ay;
            }
        }
    }
}
