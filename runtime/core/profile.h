/* Time per kernel, summed over a backend's life, for --profile. */
#ifndef CNV_CORE_PROFILE_H
#define CNV_CORE_PROFILE_H

#include <stdint.h>
#include <stdio.h>

#include "cnnvis/tools.h" /* cnv_profile_entry */

typedef struct cnv_profile {
    cnv_profile_entry *entries;
    int n, cap;
} cnv_profile;

/* Adds one call of `name` that took ms milliseconds (silently dropped when out of memory:
 * profiling must never fail a run). */
void cnv_profile_add(cnv_profile *p, const char *name, double ms);
/* A table sorted by total time: kernel, calls, total ms, ms per call, share. */
void cnv_profile_print(const cnv_profile *p, const char *title, FILE *f);
void cnv_profile_free(cnv_profile *p);

/* Monotonic milliseconds, for CPU timings. */
double cnv_now_ms(void);

#endif
