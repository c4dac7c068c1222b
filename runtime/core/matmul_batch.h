/* MatMul's batch dims (numpy matmul: A [..., M, K] x B [..., K, N] -> [..., M, N], the batch dims
 * broadcast), shared by both backends. Each of `count` products z reads A and B at the offsets
 * cnv_matmul_batch_offsets gives and writes Y at z * M * N. When B has no batch (a Linear layer
 * on a 4-D tensor, as in ConvNeXt) A's batch rows are contiguous and the products fold into one
 * with M = batch * M. */
#ifndef CNV_CORE_MATMUL_BATCH_H
#define CNV_CORE_MATMUL_BATCH_H

#include "op.h"

typedef struct cnv_matmul_batch {
    int m, n, k;
    size_t count; /* products */
    int nd;       /* output batch dims */
    size_t dim[CNV_MAX_DIMS], a_step[CNV_MAX_DIMS], b_step[CNV_MAX_DIMS]; /* step 0: broadcast */
} cnv_matmul_batch;

/* Fails with CNV_ERR_SHAPE naming the node when A, B and Y do not fit. */
cnv_status cnv_matmul_batch_make(const cnv_shape *a, const cnv_shape *b, const cnv_shape *y, const char *node,
                                 cnv_matmul_batch *p);
void cnv_matmul_batch_offsets(const cnv_matmul_batch *p, size_t z, size_t *a_off, size_t *b_off);

#endif
