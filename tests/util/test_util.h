/* Helpers shared by the cmocka suites. Include after cmocka's required headers. */
#ifndef CNV_TEST_UTIL_H
#define CNV_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/rng.h"

/* ‖a−b‖/‖b‖ in double; 0 when both are zero. */
double tu_rel_error(const float *a, const float *b, size_t n);
double tu_rel_error_d(const double *a, const double *b, size_t n);

/* Path under ../shared (beside the repository). Fails the test with a clear message when the
 * shared folder is absent. Returns a static buffer valid until the next call. */
const char *tu_shared_path(const char *relative);
/* Path under tests/fixtures. */
const char *tu_fixture_path(const char *relative);

/* Fills with uniform values in [lo, hi). */
void tu_fill_uniform(cnv_rng *r, float *x, size_t n, float lo, float hi);

/* Runs the cnnvis CLI with the given argument string (shell-quoted by the caller); captures
 * stdout and stderr (each truncated to cap bytes, NUL-terminated) and returns the exit status. */
int tu_run_cli(const char *args, char *out, size_t out_cap, char *err, size_t err_cap);

#endif
