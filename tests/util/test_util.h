/* Helpers shared by the cmocka suites. Include after cmocka's required headers. */
#ifndef CNV_TEST_UTIL_H
#define CNV_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/rng.h"
#include "cnnvis/cnnvis.h"

/* ‖a−b‖/‖b‖ in double; 0 when both are zero. */
double tu_rel_error(const float *a, const float *b, size_t n);
double tu_rel_error_d(const double *a, const double *b, size_t n);
/* Pearson correlation of two arrays (pixels of two images, for example). */
double tu_pearson(const float *a, const float *b, size_t n);

/* Path under ../shared (beside the repository). Fails the test with a clear message when the
 * shared folder is absent. Returns a static buffer valid until the next call. */
const char *tu_shared_path(const char *relative);
/* Path under tests/fixtures. */
const char *tu_fixture_path(const char *relative);

/* Fails the test with the status and the last error message unless s is CNV_OK. */
void tu_expect_ok(cnv_status s);
/* calloc of n (at least one) elements that fails the test when memory runs out. */
void *tu_calloc(size_t n, size_t size);

/* Fills with uniform values in [lo, hi). */
void tu_fill_uniform(cnv_rng *r, float *x, size_t n, float lo, float hi);

/* Runs the cnnvis CLI with the given argument string (shell-quoted by the caller); captures
 * stdout and stderr (each truncated to cap bytes, NUL-terminated) and returns the exit status. */
int tu_run_cli(const char *args, char *out, size_t out_cap, char *err, size_t err_cap);

/* Backend-parametric suites: ctest runs each tests/test_ops_*.c once per backend, passing its
 * name as the first argument: "cpu" (default), "vulkan" (the device CNNVIS_TEST_DEVICE names,
 * llvmpipe when unset, with validation on) or "vulkan-forced" (the same with a small device's
 * limits). */
#define TU_SKIP_EXIT 77 /* exit status ctest reads as "skipped" (no Vulkan device) */
const char *tu_backend_arg(int argc, char **argv);
/* Creates the named backend; on a machine without Vulkan prints why and exits TU_SKIP_EXIT. */
cnv_backend *tu_backend_create(const char *which);
/* Asserts no validation message was printed over the backend's life, then frees it. */
void tu_backend_free(cnv_backend *be);

/* One backend for a whole suite: tu_run_backend_suite names it from argv (tu_backend_arg),
 * creates it before the first test (also handing it to every test as its state) and frees it
 * after the last, with the validation check; the group is named after the backend. */
extern const char *tu_backend_name;
extern cnv_backend *tu_backend;
int tu_run_backend_suite(int argc, char **argv, const struct CMUnitTest *tests, size_t n_tests);
#define TU_RUN_BACKEND_SUITE(argc, argv, tests) \
    tu_run_backend_suite(argc, argv, tests, sizeof(tests) / sizeof((tests)[0]))

#endif
