/* Overflow-checked size arithmetic for sizes that come from input (file headers, options, shape
 * inference): each returns 1 and writes the result, or 0 (result untouched) when it would not fit
 * or an operand is negative. Callers turn a 0 into a one-line refusal before allocating. */
#ifndef CNV_CORE_CHECKED_H
#define CNV_CORE_CHECKED_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "core/shape.h"

static inline int cnv_size_mul(size_t a, size_t b, size_t *out) {
    if (b && a > SIZE_MAX / b) return 0;
    *out = a * b;
    return 1;
}

static inline int cnv_size_add(size_t a, size_t b, size_t *out) {
    if (a > SIZE_MAX - b) return 0;
    *out = a + b;
    return 1;
}

/* Non-negative int products and sums (image sides, channel counts, flattened dims). */
static inline int cnv_int_mul(int a, int b, int *out) {
    if (a < 0 || b < 0 || (b && a > INT_MAX / b)) return 0;
    *out = a * b;
    return 1;
}

static inline int cnv_int_add(int a, int b, int *out) {
    if (a < 0 || b < 0 || a > INT_MAX - b) return 0;
    *out = a + b;
    return 1;
}

/* The element count of a shape with every dim >= 0, or 0 when a dim is negative or the count
 * does not fit in size_t. */
static inline int cnv_shape_numel_checked(const cnv_shape *s, size_t *out) {
    if (s->ndim < 0 || s->ndim > CNV_MAX_DIMS) return 0;
    size_t n = 1;
    for (int i = 0; i < s->ndim; i++)
        if (s->d[i] < 0 || !cnv_size_mul(n, (size_t)s->d[i], &n)) return 0;
    *out = n;
    return 1;
}

/* The byte count of a float32 tensor of that shape (0 on overflow, as above). */
static inline int cnv_shape_bytes_checked(const cnv_shape *s, size_t *out) {
    size_t n;
    return cnv_shape_numel_checked(s, &n) && cnv_size_mul(n, sizeof(float), out);
}

#endif
