/* Seeded, platform-independent random numbers (xoshiro256** seeded through splitmix64), so a
 * run is reproducible bit for bit from its seed on every machine. */
#ifndef CNV_CORE_RNG_H
#define CNV_CORE_RNG_H

#include <stdint.h>

typedef struct cnv_rng {
    uint64_t s[4];
} cnv_rng;

void cnv_rng_seed(cnv_rng *r, uint64_t seed);
uint64_t cnv_rng_next(cnv_rng *r);
/* Uniform in [0, 1) with 24 random bits (exactly representable as float). */
float cnv_rng_uniform(cnv_rng *r);
/* Standard normal (Box-Muller, computed in double). */
float cnv_rng_normal(cnv_rng *r);
/* Uniform integer in [0, n). */
uint32_t cnv_rng_below(cnv_rng *r, uint32_t n);

#endif
