#include "oracle.h"

#include <stdlib.h>

void tu_oracle_forward(cnv_op_type op, const cnv_attrs *a, int n_in, const double *const *in,
                       const cnv_shape *in_shape, double *out, const cnv_shape *out_shape) {
    tu_oracle_fn fn = NULL;
    switch (op) {
    case CNV_OP_CONV: fn = tu_oracle_conv; break;
    case CNV_OP_MAXPOOL: fn = tu_oracle_maxpool; break;
    case CNV_OP_AVGPOOL: fn = tu_oracle_avgpool; break;
    case CNV_OP_GLOBALAVGPOOL: fn = tu_oracle_globalavgpool; break;
    case CNV_OP_GEMM:
    case CNV_OP_MATMUL: fn = tu_oracle_gemm; break;
    case CNV_OP_RELU:
    case CNV_OP_LEAKYRELU:
    case CNV_OP_CLIP:
    case CNV_OP_SIGMOID:
    case CNV_OP_TANH:
    case CNV_OP_ELU: fn = tu_oracle_activation; break;
    case CNV_OP_ADD: fn = tu_oracle_add; break;
    case CNV_OP_CONCAT: fn = tu_oracle_concat; break;
    case CNV_OP_FLATTEN:
    case CNV_OP_RESHAPE:
    case CNV_OP_DROPOUT: fn = tu_oracle_copy; break;
    case CNV_OP_PAD: fn = tu_oracle_pad; break;
    case CNV_OP_LRN: fn = tu_oracle_lrn; break;
    case CNV_OP_SOFTMAX: fn = tu_oracle_softmax; break;
    case CNV_OP_BATCHNORM: fn = tu_oracle_batchnorm; break;
    case CNV_OP_TRANSPOSE: fn = tu_oracle_transpose; break;
    case CNV_OP_FOURIER: fn = tu_oracle_fourier; break;
    case CNV_OP_BLUR: fn = tu_oracle_blur; break;
    case CNV_OP_RESAMPLE: fn = tu_oracle_resample; break;
    case CNV_OP_GRAM: fn = tu_oracle_gram; break;
    case CNV_OP_SQDIST: fn = tu_oracle_sqdist; break;
    case CNV_OP_REGULARIZE:
    case CNV_OP_GRADNORM: fn = tu_oracle_copy; break;
    case CNV_OP_COUNT: break;
    }
    if (!fn) abort(); /* a test asked for an op without an oracle: a bug in the test */
    fn(op, a, n_in, in, in_shape, out, out_shape);
}

double tu_oracle_loss_term(cnv_op_type op, const cnv_attrs *a, int n_in, const double *const *in,
                           const cnv_shape *in_shape) {
    (void)n_in;
    return op == CNV_OP_REGULARIZE ? -tu_oracle_regularize_penalty(a, in[0], &in_shape[0]) : 0.0;
}
