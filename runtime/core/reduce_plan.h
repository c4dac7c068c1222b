/* The index walk of ReduceMean, ReduceSum and ReduceMax, shared by both backends: the input's
 * dims split into the kept ones (one output element per combination, in row-major order) and
 * the reduced ones (the elements an output combines), each with its step in the input. An output
 * element's inputs are base(i) + at(r) for r < count. */
#ifndef CNV_CORE_REDUCE_PLAN_H
#define CNV_CORE_REDUCE_PLAN_H

#include "op.h"

#include <stddef.h>

typedef struct cnv_reduce_plan {
    int n_kept, n_red;
    size_t kept_dim[CNV_MAX_DIMS], kept_step[CNV_MAX_DIMS];
    size_t red_dim[CNV_MAX_DIMS], red_step[CNV_MAX_DIMS];
    size_t n_out, count; /* output elements; inputs per output */
} cnv_reduce_plan;

/* The plan for input x reduced over the bits of axes (past x's rank ignored); fails with
 * CNV_ERR_SHAPE naming the node when out does not have the numel it implies. */
cnv_status cnv_reduce_plan_make(const cnv_shape *x, int axes, const cnv_shape *out, const char *node,
                                cnv_reduce_plan *p);

/* Offset in x of output element i's first input, and of input r of an output from its first. */
size_t cnv_reduce_base(const cnv_reduce_plan *p, size_t i);
size_t cnv_reduce_at(const cnv_reduce_plan *p, size_t r);

#endif
