/* Naive float64 reference implementations of every op's forward pass: the oracle the CPU and
 * GPU backends are checked against, and (by central finite differences) their backwards.
 * Written for clarity, not speed: direct loops straight from the ONNX definitions. */
#ifndef CNV_TEST_ORACLE_H
#define CNV_TEST_ORACLE_H

#include "core/op.h"

typedef void (*tu_oracle_fn)(cnv_op_type op, const cnv_attrs *a, int n_in, const double *const *in,
                             const cnv_shape *in_shape, double *out, const cnv_shape *out_shape);

/* The oracle of op, NULL when it has none. */
tu_oracle_fn tu_oracle_of(cnv_op_type op);
/* Dispatches to the functions below. */
void tu_oracle_forward(cnv_op_type op, const cnv_attrs *a, int n_in, const double *const *in,
                       const cnv_shape *in_shape, double *out, const cnv_shape *out_shape);

#define TU_ORACLE_DECLARE(name)                                                                 \
    void tu_oracle_##name(cnv_op_type op, const cnv_attrs *a, int n_in, const double *const *in, \
                          const cnv_shape *in_shape, double *out, const cnv_shape *out_shape)

/* tests/util/oracle_conv.c: Conv, MaxPool, AveragePool, GlobalAveragePool, Gemm, MatMul */
TU_ORACLE_DECLARE(conv);
TU_ORACLE_DECLARE(convtranspose);
TU_ORACLE_DECLARE(maxpool);
TU_ORACLE_DECLARE(avgpool);
TU_ORACLE_DECLARE(globalavgpool);
TU_ORACLE_DECLARE(gemm); /* Gemm and MatMul */
/* tests/util/oracle_misc.c: the rest */
TU_ORACLE_DECLARE(unary); /* every op with a CNV_UNARY_* number */
TU_ORACLE_DECLARE(binary); /* every op with a CNV_BINARY_* number */
TU_ORACLE_DECLARE(concat);
TU_ORACLE_DECLARE(copy);
TU_ORACLE_DECLARE(pad);
TU_ORACLE_DECLARE(resize); /* Resize (and imported Upsample) */
TU_ORACLE_DECLARE(lrn);
TU_ORACLE_DECLARE(softmax);
TU_ORACLE_DECLARE(batchnorm);
TU_ORACLE_DECLARE(transpose);
TU_ORACLE_DECLARE(reduce); /* ReduceMean, ReduceSum, ReduceMax */
TU_ORACLE_DECLARE(slice);
/* tests/util/oracle_vis.c: image-space ops of feature visualization */
TU_ORACLE_DECLARE(fourier);
/* Fourier at one pixel (n, c, h, w) of the image, from coefficients [N, 2C, H, W/2+1] in
 * coef_shape (image size in a->out_hw): for images too large for the whole oracle. */
double tu_oracle_fourier_at(const cnv_attrs *a, const double *coef, const cnv_shape *coef_shape, int n, int c, int h,
                            int w);
/* The transpose map at one coefficient (n, plane, u, v) (plane 2c: real, 2c+1: imaginary part of
 * channel c), applied to an image gradient dimg of shape img_shape: the gradient Fourier's
 * backward must give there. */
double tu_oracle_fourier_adjoint_at(const cnv_attrs *a, const double *dimg, const cnv_shape *img_shape, int n,
                                    int plane, int u, int v);
TU_ORACLE_DECLARE(blur);
TU_ORACLE_DECLARE(resample); /* T (input 1) is a constant: only X is differentiated */
TU_ORACLE_DECLARE(gram);
TU_ORACLE_DECLARE(sqdist); /* the target (input 1) is a constant: only X is differentiated */
/* Regularize and GradNorm are identities forward (their oracle is copy); what they do is in
 * the backward, checked with the two functions below. */

/* Regularize's penalty (runtime/cpu/regularize.c): tv * TV(x) + l1 * sum|x - c| + l2 * sum (x - c)^2 / 2. */
double tu_oracle_regularize_penalty(const cnv_attrs *a, const double *x, const cnv_shape *shape);
/* GradNorm's backward dx = f(dy) (not the gradient of any function): per item dy / (mean|dy| + eps),
 * or clamp(dy, -clip, clip) with gradnorm_clip. */
void tu_oracle_gradnorm_grad(const cnv_attrs *a, const cnv_shape *shape, const double *dy, double *dx);

/* The scalar term S(x) that an op's backward adds to the function it differentiates: the
 * backward of op computes the gradient of L(x) = sum(g * forward(x)) + S(x). 0 for every op
 * but Regularize, where S = -penalty (visualizations maximize objective - penalty). */
double tu_oracle_loss_term(cnv_op_type op, const cnv_attrs *a, int n_in, const double *const *in,
                           const cnv_shape *in_shape);

#endif
