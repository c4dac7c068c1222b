#include "op.h"

#include <string.h>

static const char *const op_names[CNV_OP_COUNT] = {
    [CNV_OP_CONV] = "Conv",
    [CNV_OP_MAXPOOL] = "MaxPool",
    [CNV_OP_AVGPOOL] = "AveragePool",
    [CNV_OP_GLOBALAVGPOOL] = "GlobalAveragePool",
    [CNV_OP_RELU] = "Relu",
    [CNV_OP_LEAKYRELU] = "LeakyRelu",
    [CNV_OP_CLIP] = "Clip",
    [CNV_OP_SIGMOID] = "Sigmoid",
    [CNV_OP_TANH] = "Tanh",
    [CNV_OP_ELU] = "Elu",
    [CNV_OP_GEMM] = "Gemm",
    [CNV_OP_MATMUL] = "MatMul",
    [CNV_OP_ADD] = "Add",
    [CNV_OP_CONCAT] = "Concat",
    [CNV_OP_FLATTEN] = "Flatten",
    [CNV_OP_RESHAPE] = "Reshape",
    [CNV_OP_PAD] = "Pad",
    [CNV_OP_LRN] = "LRN",
    [CNV_OP_SOFTMAX] = "Softmax",
    [CNV_OP_DROPOUT] = "Dropout",
    [CNV_OP_BATCHNORM] = "BatchNormalization",
    [CNV_OP_TRANSPOSE] = "Transpose",
    [CNV_OP_FOURIER] = "cnnvis.Fourier",
    [CNV_OP_RESAMPLE] = "cnnvis.Resample",
    [CNV_OP_REGULARIZE] = "cnnvis.Regularize",
    [CNV_OP_GRADNORM] = "cnnvis.GradNorm",
    [CNV_OP_BLUR] = "cnnvis.Blur",
    [CNV_OP_GRAM] = "cnnvis.Gram",
    [CNV_OP_SQDIST] = "cnnvis.SquaredDistance",
};

const char *cnv_op_name(cnv_op_type op) {
    if ((int)op < 0 || op >= CNV_OP_COUNT) return "?";
    return op_names[op];
}

cnv_op_type cnv_op_from_name(const char *name) {
    /* Only ONNX ops: the image-space ops are not part of model files. */
    for (int i = 0; i < CNV_OP_ONNX_COUNT; i++)
        if (strcmp(op_names[i], name) == 0) return (cnv_op_type)i;
    return CNV_OP_COUNT;
}

void cnv_attrs_default(cnv_op_type op, cnv_attrs *a) {
    memset(a, 0, sizeof *a);
    a->stride[0] = a->stride[1] = 1;
    a->dilation[0] = a->dilation[1] = 1;
    a->group = 1;
    a->axis = 1;
    a->min = -3.4028234663852886e38f;
    a->max = 3.4028234663852886e38f;
    /* Transpose: identity until set. ONNX's default (reversed dims) depends on the input's rank
     * and is filled in by the importer. */
    for (int k = 0; k < CNV_MAX_DIMS; k++) a->perm[k] = k;
    switch (op) {
    case CNV_OP_LEAKYRELU: a->alpha = 0.01f; break;
    case CNV_OP_ELU: a->alpha = 1.0f; break;
    case CNV_OP_GEMM: a->alpha = 1.0f; a->beta = 1.0f; break;
    case CNV_OP_LRN: a->alpha = 1e-4f; a->beta = 0.75f; a->bias = 1.0f; break;
    case CNV_OP_SOFTMAX: a->axis = -1; break;
    case CNV_OP_FOURIER: a->decay = 1.0f; break;
    case CNV_OP_REGULARIZE: a->tv_beta = 2.0f; break;
    case CNV_OP_GRADNORM: a->eps = 1e-8f; break;
    case CNV_OP_BLUR: a->sigma = 1.0f; break;
    case CNV_OP_SQDIST: a->alpha = 1.0f; break;
    default: break;
    }
}
