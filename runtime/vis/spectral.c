/* Spectral parameterization helpers (spectral.h). */
#include "spectral.h"

size_t cnv_spectral_numel(int C, int H, int W) { return (size_t)2 * C * H * (W / 2 + 1); }

void cnv_spectral_random_init(cnv_rng *rng, int C, int H, int W, float sd, float *coeffs) {
    const size_t n = cnv_spectral_numel(C, H, W);
    for (size_t i = 0; i < n; i++) coeffs[i] = sd * cnv_rng_normal(rng);
}
