/* Affine transforms of feature visualization (jitter, scale, rotate), in the form the Resample
 * op consumes: T = {T0..T5} maps an OUTPUT pixel to the INPUT point it samples,
 *     sx = T0*x + T1*y + T2 + (Wi-1)/2,   sy = T3*x + T4*y + T5 + (Hi-1)/2,
 * where x = j - (Wo-1)/2, y = i - (Ho-1)/2 are the output pixel's coordinates relative to the
 * output's centre (x to the right, y down, in pixels). */
#ifndef CNV_VIS_TRANSFORM_H
#define CNV_VIS_TRANSFORM_H

/* cnv_resample_planes (zoomed resampling of planes) is public, in picture.h. */
#include "cnnvis/picture.h"

/* T for the image motion "zoom by `scale` and rotate by `angle_deg` about the centre, then move
 * by (tx, ty) pixels": the content at centred input position p appears at the output position
 *     o = scale * R * p + (tx, ty),   R = [cos a, -sin a; sin a, cos a],  a = angle_deg in radians,
 * i.e. with y pointing down, a positive angle turns the picture clockwise as displayed, and
 * scale > 1 enlarges it. Resample needs the inverse map (output to input), so
 *     [T0 T1; T3 T4] = R^T / scale,   (T2, T5) = -[T0 T1; T3 T4] (tx, ty).
 * scale must be non-zero. (1, 0, 0, 0) is the identity {1, 0, 0, 0, 1, 0}. */
void cnv_affine_compose(float scale, float angle_deg, float tx, float ty, float T[6]);


#endif
