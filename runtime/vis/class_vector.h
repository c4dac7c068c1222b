/* Class vectors: recognizing one, its softmax and its top classes (classify, forward --top,
 * Grad-CAM's predictions). */
#ifndef CNV_VIS_CLASS_VECTOR_H
#define CNV_VIS_CLASS_VECTOR_H

#include "core/shape.h"

/* Number of classes if the shape is a class vector ([N], or [1, N] with any trailing axes of 1),
 * else 0. */
int cnv_class_count(const cnv_shape *s);
/* In place, stable for large logits (shifted by the max). */
void cnv_softmax(float *x, int n);
/* The indices of the k largest of v[0..n-1] into idx, largest first (ties: the lower index). */
void cnv_top_k(const float *v, int n, int k, int *idx);

#endif
