/* Which Vulkan kernels serve which op (the Vulkan twin of the CPU backend's table). */
#include "vk_backend.h"

static const cnv_vk_op op_table[] = {
    [CNV_OP_CONV] = {cnv_vk_conv_forward, cnv_vk_conv_backward},
    [CNV_OP_MAXPOOL] = {cnv_vk_maxpool_forward, cnv_vk_maxpool_backward},
    [CNV_OP_AVGPOOL] = {cnv_vk_avgpool_forward, cnv_vk_avgpool_backward},
    [CNV_OP_GLOBALAVGPOOL] = {cnv_vk_avgpool_forward, cnv_vk_avgpool_backward},
    [CNV_OP_RELU] = {cnv_vk_unary_forward, cnv_vk_unary_backward},
    [CNV_OP_LEAKYRELU] = {cnv_vk_unary_forward, cnv_vk_unary_backward},
    [CNV_OP_CLIP] = {cnv_vk_unary_forward, cnv_vk_unary_backward},
    [CNV_OP_SIGMOID] = {cnv_vk_unary_forward, cnv_vk_unary_backward},
    [CNV_OP_TANH] = {cnv_vk_unary_forward, cnv_vk_unary_backward},
    [CNV_OP_ELU] = {cnv_vk_unary_forward, cnv_vk_unary_backward},
    [CNV_OP_GEMM] = {cnv_vk_gemm_forward, cnv_vk_gemm_backward},
    [CNV_OP_MATMUL] = {cnv_vk_gemm_forward, cnv_vk_gemm_backward},
    [CNV_OP_ADD] = {cnv_vk_add_forward, cnv_vk_add_backward},
    [CNV_OP_CONCAT] = {cnv_vk_concat_forward, cnv_vk_concat_backward},
    [CNV_OP_FLATTEN] = {cnv_vk_copy_forward, cnv_vk_copy_backward},
    [CNV_OP_RESHAPE] = {cnv_vk_copy_forward, cnv_vk_copy_backward},
    [CNV_OP_DROPOUT] = {cnv_vk_copy_forward, cnv_vk_copy_backward},
    [CNV_OP_PAD] = {cnv_vk_pad_forward, cnv_vk_pad_backward},
    [CNV_OP_LRN] = {cnv_vk_lrn_forward, cnv_vk_lrn_backward},
    [CNV_OP_SOFTMAX] = {cnv_vk_softmax_forward, cnv_vk_softmax_backward},
    [CNV_OP_BATCHNORM] = {cnv_vk_batchnorm_forward, cnv_vk_batchnorm_backward},
    [CNV_OP_TRANSPOSE] = {cnv_vk_transpose_forward, cnv_vk_transpose_backward},
    [CNV_OP_RESAMPLE] = {cnv_vk_resample_forward, cnv_vk_resample_backward},
    [CNV_OP_REGULARIZE] = {cnv_vk_copy_forward, cnv_vk_regularize_backward},
    [CNV_OP_GRADNORM] = {cnv_vk_copy_forward, cnv_vk_gradnorm_backward},
    [CNV_OP_FOURIER] = {cnv_vk_fourier_forward, cnv_vk_fourier_backward},
    [CNV_OP_BLUR] = {cnv_vk_blur_forward, cnv_vk_blur_backward},
    [CNV_OP_GRAM] = {cnv_vk_gram_forward, cnv_vk_gram_backward},
    [CNV_OP_SQDIST] = {cnv_vk_sqdist_forward, cnv_vk_sqdist_backward},
};
/* ggml-style: a table shorter than the op list fails to compile (a gap inside it fails
 * tests/test_op_coverage.c). */
_Static_assert(sizeof op_table / sizeof op_table[0] == CNV_OP_COUNT, "every op needs an entry");

const cnv_vk_op *cnv_vk_op_get(cnv_op_type op) {
    if ((int)op < 0 || op >= CNV_OP_COUNT || !op_table[op].forward) return NULL;
    return &op_table[op];
}
