/* Naive float64 reference implementations of every op's forward pass: the oracle the CPU and
 * GPU backends are checked against, and (by central finite differences) their backwards.
 * Written for clarity, not speed: direct loops straight from the ONNX definitions. */
#ifndef CNV_TEST_ORACLE_H
#define CNV_TEST_ORACLE_H

#include "core/op.h"

typedef void (*tu_oracle_fn)(cnv_op_type op, const cnv_attrs *a, int n_in, const double *const *in,
                             const cnv_shape *in_shape, double *out, const cnv_shape *out_shape);

/* Dispatches to the functions below. */
void tu_oracle_forward(cnv_op_type op, const cnv_attrs *a, int n_in, const double *const *in,
                       const cnv_shape *in_shape, double *out, const cnv_shape *out_shape);

#define TU_ORACLE_DECLARE(name)                                                                 \
    void tu_oracle_##name(cnv_op_type op, const cnv_attrs *a, int n_in, const double *const *in, \
                          const cnv_shape *in_shape, double *out, const cnv_shape *out_shape)

/* tests/util/oracle_conv.c: Conv, MaxPool, AveragePool, GlobalAveragePool, Gemm, MatMul */
TU_ORACLE_DECLARE(conv);
TU_ORACLE_DECLARE(maxpool);
TU_ORACLE_DECLARE(avgpool);
TU_ORACLE_DECLARE(globalavgpool);
TU_ORACLE_DECLARE(gemm); /* Gemm and MatMul */
/* tests/util/oracle_misc.c: the rest */
TU_ORACLE_DECLARE(activation);
TU_ORACLE_DECLARE(add);
TU_ORACLE_DECLARE(concat);
TU_ORACLE_DECLARE(copy);
TU_ORACLE_DECLARE(pad);
TU_ORACLE_DECLARE(lrn);
TU_ORACLE_DECLARE(softmax);
TU_ORACLE_DECLARE(batchnorm);
/* tests/util/oracle_vis.c: image-space ops of feature visualization */
TU_ORACLE_DECLARE(fourier);
TU_ORACLE_DECLARE(blur);

#endif
