/* CPU backend: one file per op (conv.c, maxpool.c, ...), each exporting a forward and a
 * backward over plain float arrays. backward accumulates (+=) into every non-NULL grad_in. */
#ifndef CNV_CPU_OPS_H
#define CNV_CPU_OPS_H

#include "core/backend.h"
#include "core/graph.h"
#include "core/optim.h"
#include "core/penalty.h"

#include <stdint.h>

typedef struct cnv_cpu_args {
    const cnv_node *node;
    const cnv_attrs *a;
    int n_in;
    const float *in[CNV_MAX_INPUTS];
    cnv_shape in_shape[CNV_MAX_INPUTS];
    float *out;
    cnv_shape out_shape;
    int32_t *aux;          /* MaxPool: flat index into the input plane of each output's argmax */
    const float *grad_out; /* backward only */
    float *grad_in[CNV_MAX_INPUTS];
    cnv_backward_rule rule; /* backward only: see core/backend.h */
    int unpool_fill;        /* backward only: MaxPool fill unpooling */
} cnv_cpu_args;

typedef cnv_status (*cnv_cpu_fn)(const cnv_cpu_args *a);

typedef struct cnv_cpu_op {
    cnv_cpu_fn forward;
    cnv_cpu_fn backward;
} cnv_cpu_op;

/* The op table, indexed by cnv_op_type. */
const cnv_cpu_op *cnv_cpu_op_get(cnv_op_type op);

#define CNV_CPU_DECLARE(name)                                                                   \
    cnv_status cnv_cpu_##name##_forward(const cnv_cpu_args *a);                                 \
    cnv_status cnv_cpu_##name##_backward(const cnv_cpu_args *a)

CNV_CPU_DECLARE(conv);
CNV_CPU_DECLARE(maxpool);
CNV_CPU_DECLARE(avgpool);
CNV_CPU_DECLARE(globalavgpool);
CNV_CPU_DECLARE(unary);      /* every op with a CNV_UNARY_* number: one elementwise file */
CNV_CPU_DECLARE(gemm);       /* Gemm and MatMul */
CNV_CPU_DECLARE(binary);     /* every op with a CNV_BINARY_* number: one broadcasting file */
CNV_CPU_DECLARE(concat);
CNV_CPU_DECLARE(copy);       /* Flatten, Reshape, Dropout: same data, new shape */
CNV_CPU_DECLARE(pad);
CNV_CPU_DECLARE(lrn);
CNV_CPU_DECLARE(softmax);
CNV_CPU_DECLARE(batchnorm);
CNV_CPU_DECLARE(transpose);
CNV_CPU_DECLARE(slice);     /* Slice (Split imports as Slices) */
CNV_CPU_DECLARE(fourier); /* spectral image parameterization */
CNV_CPU_DECLARE(blur);
CNV_CPU_DECLARE(resample);
CNV_CPU_DECLARE(regularize); /* Regularize and GradNorm: runtime/cpu/regularize.c */
CNV_CPU_DECLARE(gradnorm);
CNV_CPU_DECLARE(gram);   /* Gram matrix of feature maps (style) */
CNV_CPU_DECLARE(sqdist); /* SquaredDistance to a constant target */

/* Regularize's CNV_TV_EPS is in core/penalty.h: the Vulkan kernel receives the same value. */

/* One optimizer step over n floats (runtime/cpu/optimizer.c). */
void cnv_cpu_optim_step(cnv_optim_kind kind, float *x, const float *g, float *m, float *v, const float *hyper,
                        size_t n);

#endif
