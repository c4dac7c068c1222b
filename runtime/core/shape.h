/* Tensor shapes: float32, NCHW for images, up to CNV_MAX_DIMS (6) dims. */
#ifndef CNV_CORE_SHAPE_H
#define CNV_CORE_SHAPE_H

#include <stddef.h>

#include "../../shaders/limits.h" /* CNV_MAX_DIMS, shared with the shaders */

typedef struct cnv_shape {
    int ndim;
    int d[CNV_MAX_DIMS];
} cnv_shape;

static inline size_t cnv_shape_numel(const cnv_shape *s) {
    size_t n = 1;
    for (int i = 0; i < s->ndim; i++) n *= (size_t)s->d[i];
    return n;
}

static inline int cnv_shape_equal(const cnv_shape *a, const cnv_shape *b) {
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->d[i] != b->d[i]) return 0;
    return 1;
}

static inline cnv_shape cnv_shape4(int n, int c, int h, int w) {
    cnv_shape s = {4, {n, c, h, w}};
    return s;
}

/* A batch of feature maps with more than one position (NxCxHxW, H*W > 1). */
static inline int cnv_shape_is_map(const cnv_shape *s) { return s->ndim == 4 && s->d[2] * s->d[3] > 1; }

/* "1x3x227x227" into buf; returns buf. */
char *cnv_shape_str(const cnv_shape *s, char *buf, size_t size);

#endif
