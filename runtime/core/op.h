/* The operators of a cnnvis graph: ONNX semantics, with attributes resolved at import so that
 * every node holds only float inputs (data first, then weights) and plain C attributes. */
#ifndef CNV_CORE_OP_H
#define CNV_CORE_OP_H

#include "shape.h"
#include "cnnvis/cnnvis.h"

#define CNV_MAX_INPUTS 8

typedef enum cnv_op_type {
    CNV_OP_CONV,        /* in: X, W [M, C/group, kH, kW], optional B [M] */
    CNV_OP_MAXPOOL,     /* switches (argmax) kept for backward and deconvnet */
    CNV_OP_AVGPOOL,
    CNV_OP_GLOBALAVGPOOL,
    CNV_OP_RELU,
    CNV_OP_LEAKYRELU,   /* alpha */
    CNV_OP_CLIP,        /* min, max (ReLU6 is Clip 0..6) */
    CNV_OP_SIGMOID,
    CNV_OP_TANH,
    CNV_OP_ELU,         /* alpha */
    CNV_OP_GEMM,        /* in: A, B, optional C; alpha, beta, trans_a, trans_b */
    CNV_OP_MATMUL,      /* in: A [M,K], B [K,N] (2-D) */
    CNV_OP_ADD,         /* two inputs, multidirectional (numpy) broadcasting */
    CNV_OP_CONCAT,      /* axis; up to CNV_MAX_INPUTS inputs */
    CNV_OP_FLATTEN,     /* axis */
    CNV_OP_RESHAPE,     /* target shape resolved at import (0 and -1 handled) */
    CNV_OP_PAD,         /* constant / reflect / edge, 4-D pads */
    CNV_OP_LRN,         /* size, alpha, beta, bias (across channels) */
    CNV_OP_SOFTMAX,     /* axis; legacy (opset < 13) coerces to 2-D at axis */
    CNV_OP_DROPOUT,     /* identity at inference */
    CNV_OP_BATCHNORM,   /* unfolded BatchNormalization: in: X, scale [C], shift [C] (y = x*scale+shift) */
    CNV_OP_TRANSPOSE,   /* perm (up to 4-D); tf2onnx models start with one to read NHWC input */
    CNV_OP_ONNX_COUNT, /* the ops above are ONNX's; those below are cnnvis's own */
    /* Image-space ops of feature visualization (never in model files; names "cnnvis.*"). */
    CNV_OP_FOURIER = CNV_OP_ONNX_COUNT,     /* spectral parameterization: in [N, 2C, H, W/2+1] (re, im per channel) -> [N, C, H, W] */
    CNV_OP_RESAMPLE,    /* affine bilinear resampling: in X [N,C,Hi,Wi], T [N,6] (constant) -> [N,C,Ho,Wo] */
    CNV_OP_REGULARIZE,  /* identity forward; backward adds -(tv, l1, l2 penalty gradients) of its input */
    CNV_OP_GRADNORM,    /* identity forward; backward normalizes (per item) or clips the gradient */
    CNV_OP_BLUR,        /* separable Gaussian blur, sigma; edges clamped */
    CNV_OP_GRAM,        /* Gram matrix of feature maps: [N,C,H,W] -> [N,1,C,C], G = F F^T / (H*W) */
    CNV_OP_SQDIST,      /* in: X, T (constant, X's shape) -> [N,1]: alpha/2 * sum over the item of (X-T)^2 */
    CNV_OP_COUNT
} cnv_op_type;

typedef enum { CNV_AUTO_PAD_NOTSET, CNV_AUTO_PAD_SAME_UPPER, CNV_AUTO_PAD_SAME_LOWER, CNV_AUTO_PAD_VALID } cnv_auto_pad;
typedef enum { CNV_PAD_CONSTANT, CNV_PAD_REFLECT, CNV_PAD_EDGE } cnv_pad_mode;

typedef struct cnv_attrs {
    /* Conv, pools: spatial (H, W) parameters. pads = {top, left, bottom, right} (ONNX order). */
    int kernel[2], stride[2], dilation[2], pads[4];
    cnv_auto_pad auto_pad; /* resolved into pads by shape inference */
    int group;
    int ceil_mode;
    int count_include_pad;
    /* LeakyRelu/Elu alpha; LRN alpha/beta/bias; Gemm alpha/beta. */
    float alpha, beta, bias;
    int size;              /* LRN window */
    float min, max;        /* Clip */
    int axis;              /* Concat, Flatten, Softmax (non-negative after import) */
    int softmax_legacy;    /* opset < 13: softmax over the flattened dims [axis, end) */
    int trans_a, trans_b;  /* Gemm */
    cnv_pad_mode pad_mode; /* Pad */
    float pad_value;
    int pad_full[8];       /* Pad: begins of dims 0..3 then ends of dims 0..3 */
    int shape_n;           /* Reshape target as given (0 = copy dim, -1 = infer) */
    int shape[CNV_MAX_DIMS];
    int perm[CNV_MAX_DIMS]; /* Transpose: output dim k is input dim perm[k] (the first ndim entries) */
    /* Image-space ops. */
    int out_hw[2];         /* Fourier: image H, W; Resample: output H, W */
    float decay;           /* Fourier: frequency amplitudes scaled by 1 / max(f, 1/max(H,W))^decay */
    float tv, tv_beta;     /* Regularize: weight of sum((dx^2 + dy^2)^(beta/2)) over neighbours */
    float l1, l2;          /* Regularize: weights of sum|x| and sum x^2 / 2 */
    float l_center;        /* Regularize: the value the L1/L2 penalties pull towards */
    int gradnorm_clip;     /* GradNorm: 0 = divide by mean|g| of each item (+eps); 1 = clip to [-clip, clip] */
    float clip, eps;
    float sigma;           /* Blur */
} cnv_attrs;

/* Default attributes (ONNX defaults: stride 1, dilation 1, group 1, alpha per op, ...). */
void cnv_attrs_default(cnv_op_type op, cnv_attrs *a);

/* ONNX op_type name ("Conv", "MaxPool", ...). */
const char *cnv_op_name(cnv_op_type op);
/* Parses an ONNX op_type; returns CNV_OP_COUNT when unknown. */
cnv_op_type cnv_op_from_name(const char *name);

/* Infers the output shape from input shapes; resolves auto_pad into attrs->pads.
 * Fails with CNV_ERR_SHAPE (message names the node) when the inputs do not fit. */
cnv_status cnv_op_infer_shape(cnv_op_type op, cnv_attrs *attrs, int n_in, const cnv_shape *in,
                              cnv_shape *out, const char *node_name);

#endif
