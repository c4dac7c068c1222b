/* Which Vulkan kernels serve which op (the Vulkan twin of the CPU backend's table). */
#include "vk_backend.h"

/* The elementwise ops (a CNV_UNARY_* or CNV_BINARY_* number in their descriptor) all share one
 * kernel of each kind; every other op has its entry here. */
static const cnv_vk_op unary_op = {cnv_vk_unary_forward, cnv_vk_unary_backward, .assigns = 1};
static const cnv_vk_op binary_op = {cnv_vk_binary_forward, cnv_vk_binary_backward, .assigns = 1};

static const cnv_vk_op op_table[CNV_OP_COUNT] = {
    [CNV_OP_CONV] = {cnv_vk_conv_forward, cnv_vk_conv_backward, .assigns = 1},
    [CNV_OP_MAXPOOL] = {cnv_vk_maxpool_forward, cnv_vk_maxpool_backward, .assigns = 1},
    [CNV_OP_AVGPOOL] = {cnv_vk_avgpool_forward, cnv_vk_avgpool_backward, .assigns = 1},
    [CNV_OP_GLOBALAVGPOOL] = {cnv_vk_avgpool_forward, cnv_vk_avgpool_backward, .assigns = 1},
    [CNV_OP_GEMM] = {cnv_vk_gemm_forward, cnv_vk_gemm_backward},
    [CNV_OP_MATMUL] = {cnv_vk_gemm_forward, cnv_vk_gemm_backward},
    [CNV_OP_CONCAT] = {cnv_vk_concat_forward, cnv_vk_concat_backward, .assigns = 1},
    [CNV_OP_FLATTEN] = {cnv_vk_copy_forward, cnv_vk_copy_backward, .assigns = 1},
    [CNV_OP_RESHAPE] = {cnv_vk_copy_forward, cnv_vk_copy_backward, .assigns = 1},
    [CNV_OP_DROPOUT] = {cnv_vk_copy_forward, cnv_vk_copy_backward, .assigns = 1},
    [CNV_OP_PAD] = {cnv_vk_pad_forward, cnv_vk_pad_backward},
    [CNV_OP_LRN] = {cnv_vk_lrn_forward, cnv_vk_lrn_backward},
    [CNV_OP_SOFTMAX] = {cnv_vk_softmax_forward, cnv_vk_softmax_backward},
    [CNV_OP_BATCHNORM] = {cnv_vk_batchnorm_forward, cnv_vk_batchnorm_backward},
    [CNV_OP_TRANSPOSE] = {cnv_vk_transpose_forward, cnv_vk_transpose_backward},
    [CNV_OP_REDUCEMEAN] = {cnv_vk_reduce_forward, cnv_vk_reduce_backward},
    [CNV_OP_REDUCESUM] = {cnv_vk_reduce_forward, cnv_vk_reduce_backward},
    [CNV_OP_REDUCEMAX] = {cnv_vk_reduce_forward, cnv_vk_reduce_backward},
    [CNV_OP_SLICE] = {cnv_vk_slice_forward, cnv_vk_slice_backward},
    [CNV_OP_RESAMPLE] = {cnv_vk_resample_forward, cnv_vk_resample_backward},
    [CNV_OP_RESIZE] = {cnv_vk_resize_forward, cnv_vk_resize_backward},
    [CNV_OP_CONVTRANSPOSE] = {cnv_vk_convtranspose_forward, cnv_vk_convtranspose_backward},
    [CNV_OP_REGULARIZE] = {cnv_vk_copy_forward, cnv_vk_regularize_backward},
    [CNV_OP_GRADNORM] = {cnv_vk_copy_forward, cnv_vk_gradnorm_backward},
    [CNV_OP_FOURIER] = {cnv_vk_fourier_forward, cnv_vk_fourier_backward},
    [CNV_OP_BLUR] = {cnv_vk_blur_forward, cnv_vk_blur_backward},
    [CNV_OP_GRAM] = {cnv_vk_gram_forward, cnv_vk_gram_backward},
    [CNV_OP_SQDIST] = {cnv_vk_sqdist_forward, cnv_vk_sqdist_backward},
};

const cnv_vk_op *cnv_vk_op_get(cnv_op_type op) {
    if (cnv_op_unary_number(op) >= 0) return &unary_op;
    if (cnv_op_binary_number(op) >= 0) return &binary_op;
    if ((int)op < 0 || op >= CNV_OP_COUNT || !op_table[op].forward) return NULL;
    return &op_table[op];
}
