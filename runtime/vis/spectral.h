/* Helpers for the Fourier (spectral) image parameterization, CNV_OP_FOURIER (runtime/core/op.h):
 * an image of C channels, H x W pixels is held as coefficients [C*2, H, W/2+1] (for each channel
 * a plane of real parts, then a plane of imaginary parts), turned into pixels by the Fourier op. */
#ifndef CNV_VIS_SPECTRAL_H
#define CNV_VIS_SPECTRAL_H

#include "core/rng.h"

#include <stddef.h>

/* Floats of the coefficients of one C x H x W image: 2 C H (W/2 + 1). */
size_t cnv_spectral_numel(int C, int H, int W);

/* Fills the cnv_spectral_numel(C, H, W) coefficients with independent normal noise of standard
 * deviation sd (Lucid starts from sd 0.01; the Fourier op's frequency scaling then gives the
 * image 1/f noise, most of its energy at low frequencies). */
void cnv_spectral_random_init(cnv_rng *rng, int C, int H, int W, float sd, float *coeffs);

#endif
