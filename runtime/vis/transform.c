/* Affine transforms for Resample (see transform.h for the exact convention). */
#include "transform.h"

#include <math.h>

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
