/* Every cnnvis op, described once. Each line is one op:
 *
 *   X(ID, name, keras, min_in, max_in, onnx_in, shape, elementwise, flags, attrs)
 *
 * ID           the enum suffix: CNV_OP_<ID>
 * name         the ONNX op_type ("cnnvis.<Name>" for the image-space ops of feature visualization)
 * keras        Keras activation names that mean this op, space separated ("" when none)
 * min_in, max_in  graph inputs after import: data first, then weights (initializers)
 * onnx_in      inputs the ONNX node may carry (the extra ones are constants the importer turns
 *              into attributes: Clip's min/max, Pad's pads, Reshape's shape, BN's statistics);
 *              0 for the image-space ops, which ONNX files never hold
 * shape        the shape rule: SAME (the output has input 0's shape), BROADCAST (numpy
 *              multidirectional), BROADCAST_TO_FIRST (unidirectional onto input 0), OWN (a rule of
 *              its own in runtime/core/shape_infer.c)
 * elementwise  the op's number in the shared elementwise kernels (shaders/elementwise_ops.h),
 *              -1 for the others
 * flags        CNV_OPF_* (op.h): NCHW input, commutative, image-space, variadic
 * attrs        the ONNX attributes the importer accepts, space separated; every other attribute
 *              is refused by name (opsets 7..20; the opset < 7 attributes that keep the meaning
 *              are read by legacy_attr in runtime/models/onnx_attrs.c)
 *
 * The op's kernels are runtime/cpu/<file>.c and runtime/vulkan/<file>.c (their tables:
 * cpu/backend.c, vulkan/op_table.c); tests/test_op_coverage.c fails when an op lacks a kernel,
 * an oracle, op-suite cases, or (unless image-space) ONNX import and export. */
#ifndef CNV_CORE_OP_LIST_H
#define CNV_CORE_OP_LIST_H

#include "../../shaders/elementwise_ops.h" /* shared with the shaders */

#define CNV_OP_LIST(X)                                                                                         \
    X(CONV, "Conv", "", 2, 3, 3, OWN, -1, CNV_OPF_NCHW, "kernel_shape strides dilations pads auto_pad group")  \
    /* storage_order only changes the Indices output, which cnnvis never exposes. */                          \
    X(MAXPOOL, "MaxPool", "", 1, 1, 1, OWN, -1, CNV_OPF_NCHW,                                                   \
      "kernel_shape strides dilations pads auto_pad ceil_mode storage_order")                                  \
    X(AVGPOOL, "AveragePool", "", 1, 1, 1, OWN, -1, CNV_OPF_NCHW,                                               \
      "kernel_shape strides pads auto_pad ceil_mode count_include_pad")                                        \
    X(GLOBALAVGPOOL, "GlobalAveragePool", "", 1, 1, 1, OWN, -1, CNV_OPF_NCHW, "")                               \
    X(RELU, "Relu", "relu", 1, 1, 1, SAME, CNV_UNARY_RELU, 0, "")                                              \
    X(LEAKYRELU, "LeakyRelu", "", 1, 1, 1, SAME, CNV_UNARY_LEAKYRELU, 0, "alpha")                              \
    /* Clip 0..6 is ReLU6; opsets >= 11 give min and max as inputs. */                                         \
    X(CLIP, "Clip", "relu6", 1, 1, 3, SAME, CNV_UNARY_CLIP, 0, "min max")                                      \
    X(SIGMOID, "Sigmoid", "sigmoid", 1, 1, 1, SAME, CNV_UNARY_SIGMOID, 0, "")                                  \
    X(TANH, "Tanh", "tanh", 1, 1, 1, SAME, CNV_UNARY_TANH, 0, "")                                              \
    X(ELU, "Elu", "elu", 1, 1, 1, SAME, CNV_UNARY_ELU, 0, "alpha")                                             \
    X(GEMM, "Gemm", "", 2, 3, 3, OWN, -1, 0, "alpha beta transA transB")                                       \
    X(MATMUL, "MatMul", "", 2, 2, 2, OWN, -1, 0, "")                                                           \
    /* Reductions over a set of axes (attrs.reduce_axes), keepdims; the axes are an input from opset 18       \
     * (ReduceSum: 13). ReduceMax's gradient goes to the first maximum in row-major order. */                 \
    X(REDUCEMEAN, "ReduceMean", "", 1, 1, 2, OWN, -1, 0, "axes keepdims noop_with_empty_axes")                 \
    X(REDUCESUM, "ReduceSum", "", 1, 1, 2, OWN, -1, 0, "axes keepdims noop_with_empty_axes")                   \
    X(REDUCEMAX, "ReduceMax", "", 1, 1, 2, OWN, -1, 0, "axes keepdims noop_with_empty_axes")                   \
    X(ADD, "Add", "", 2, 2, 2, BROADCAST, CNV_BINARY_ADD, CNV_OPF_COMMUTATIVE, "")                             \
    X(CONCAT, "Concat", "", 1, CNV_MAX_INPUTS, CNV_MAX_INPUTS, OWN, -1, 0, "axis")                             \
    X(FLATTEN, "Flatten", "", 1, 1, 1, OWN, -1, 0, "axis")                                                     \
    X(RESHAPE, "Reshape", "", 1, 1, 2, OWN, -1, 0, "allowzero")                                                \
    X(PAD, "Pad", "", 1, 1, 4, OWN, -1, 0, "mode pads value")                                                  \
    X(LRN, "LRN", "", 1, 1, 1, SAME, -1, CNV_OPF_NCHW, "alpha beta bias size")                                 \
    /* Legacy Softmax (opset < 13) coerces the input to 2-D at axis. */                                        \
    X(SOFTMAX, "Softmax", "softmax", 1, 1, 1, OWN, -1, 0, "axis")                                              \
    /* Identity at inference ("linear" in Keras); ratio/seed only matter in training; is_test is the          \
     * opset < 7 spelling of inference. */                                                                     \
    X(DROPOUT, "Dropout", "linear", 1, 1, 3, SAME, -1, 0, "ratio seed is_test")                                \
    /* Unfolded BatchNormalization: X, scale [C], shift [C] (y = x*scale+shift), made by the importer          \
     * from the statistics; epsilon is read there. */                                                          \
    X(BATCHNORM, "BatchNormalization", "", 3, 3, 5, OWN, -1, 0, "epsilon momentum spatial training_mode")      \
    /* tf2onnx models start with one to read NHWC input. */                                                    \
    X(TRANSPOSE, "Transpose", "", 1, 1, 1, OWN, -1, 0, "perm")                                                 \
    /* Shape ops (Split, Squeeze and Unsqueeze are imported as Slice and Reshape nodes). Slice: per   \
     * dim start, end and step (ONNX's, clamped to the input by shape inference); opsets < 10 give     \
     * starts/ends/axes as attributes, later ones as inputs with steps. */                             \
    X(SLICE, "Slice", "", 1, 1, 5, OWN, -1, 0, "starts ends axes")                                     \
    /* Elementwise binary ops with numpy broadcasting (PRelu: the slope broadcasts onto X). Max and Min       \
     * (and Sum, imported as Add) of more inputs become a chain of two-input nodes. */                         \
    X(SUB, "Sub", "", 2, 2, 2, BROADCAST, CNV_BINARY_SUB, 0, "")                                               \
    X(MUL, "Mul", "", 2, 2, 2, BROADCAST, CNV_BINARY_MUL, CNV_OPF_COMMUTATIVE, "")                             \
    X(DIV, "Div", "", 2, 2, 2, BROADCAST, CNV_BINARY_DIV, 0, "")                                               \
    X(POW, "Pow", "", 2, 2, 2, BROADCAST, CNV_BINARY_POW, 0, "")                                               \
    X(MAX, "Max", "", 2, 2, 2, BROADCAST, CNV_BINARY_MAX, CNV_OPF_COMMUTATIVE | CNV_OPF_VARIADIC, "")          \
    X(MIN, "Min", "", 2, 2, 2, BROADCAST, CNV_BINARY_MIN, CNV_OPF_COMMUTATIVE | CNV_OPF_VARIADIC, "")          \
    X(PRELU, "PRelu", "", 2, 2, 2, BROADCAST_TO_FIRST, CNV_BINARY_PRELU, 0, "")                                \
    /* Elementwise unary ops. */                                                                               \
    X(IDENTITY, "Identity", "", 1, 1, 1, SAME, CNV_UNARY_IDENTITY, 0, "")                                      \
    X(NEG, "Neg", "", 1, 1, 1, SAME, CNV_UNARY_NEG, 0, "")                                                     \
    X(ABS, "Abs", "", 1, 1, 1, SAME, CNV_UNARY_ABS, 0, "")                                                     \
    X(SQRT, "Sqrt", "", 1, 1, 1, SAME, CNV_UNARY_SQRT, 0, "")                                                  \
    X(EXP, "Exp", "exponential", 1, 1, 1, SAME, CNV_UNARY_EXP, 0, "")                                          \
    X(LOG, "Log", "", 1, 1, 1, SAME, CNV_UNARY_LOG, 0, "")                                                     \
    X(RECIPROCAL, "Reciprocal", "", 1, 1, 1, SAME, CNV_UNARY_RECIPROCAL, 0, "")                                \
    X(ERF, "Erf", "", 1, 1, 1, SAME, CNV_UNARY_ERF, 0, "")                                                     \
    X(SOFTPLUS, "Softplus", "softplus", 1, 1, 1, SAME, CNV_UNARY_SOFTPLUS, 0, "")                              \
    X(HARDSIGMOID, "HardSigmoid", "", 1, 1, 1, SAME, CNV_UNARY_HARDSIGMOID, 0, "alpha beta")                   \
    X(HARDSWISH, "HardSwish", "hard_swish hard_silu", 1, 1, 1, SAME, CNV_UNARY_HARDSWISH, 0, "")               \
    /* Opset 20; PyTorch 1.13 writes the erf form as Div, Erf, Add, Mul. */                                    \
    X(GELU, "Gelu", "gelu", 1, 1, 1, SAME, CNV_UNARY_GELU, 0, "approximate")                                   \
    /* X [N, C, H, W], W [C, M/group, kH, kW] -> [N, M, OH, OW]: the adjoint of Conv (its backward to the    \
     * data), run on the Conv kernels. The importer splits an ONNX bias off into an Add. */                   \
    X(CONVTRANSPOSE, "ConvTranspose", "", 2, 2, 3, OWN, -1, CNV_OPF_NCHW,                                       \
      "kernel_shape strides dilations pads auto_pad group output_padding output_shape")                       \
    /* Resize of H, W (nearest, bilinear); Upsample (opsets 7-9) is imported as Resize. roi, scales and   \
     * sizes are constants read as attributes; cubic, antialias, exclude_outside, tf_crop_and_resize and   \
     * axes other than H, W are refused by name. */                                                        \
    X(RESIZE, "Resize", "", 1, 1, 4, OWN, -1, CNV_OPF_NCHW,                                                     \
      "mode coordinate_transformation_mode nearest_mode cubic_coeff_a exclude_outside extrapolation_value "   \
      "antialias keep_aspect_ratio_policy axes scales")                                                        \
    /* Image-space ops of feature visualization: never in model files. */                                      \
    /* Spectral parameterization: [N, 2C, H, W/2+1] (re, im per channel) -> [N, C, H, W]. */                   \
    X(FOURIER, "cnnvis.Fourier", "", 1, 1, 0, OWN, -1, CNV_OPF_NCHW | CNV_OPF_IMAGE, "")                       \
    /* Affine bilinear resampling: X [N,C,Hi,Wi], T [N,6] (a constant) -> [N,C,Ho,Wo]. */                       \
    X(RESAMPLE, "cnnvis.Resample", "", 2, 2, 0, OWN, -1, CNV_OPF_NCHW | CNV_OPF_IMAGE, "")                     \
    /* Identity forward; backward adds -(tv, l1, l2 penalty gradients) of its input. */                        \
    X(REGULARIZE, "cnnvis.Regularize", "", 1, 1, 0, SAME, -1, CNV_OPF_NCHW | CNV_OPF_IMAGE, "")                \
    /* Identity forward; backward normalizes (per item) or clips the gradient. */                              \
    X(GRADNORM, "cnnvis.GradNorm", "", 1, 1, 0, SAME, -1, CNV_OPF_IMAGE, "")                                   \
    /* Separable Gaussian blur, sigma; edges clamped. */                                                       \
    X(BLUR, "cnnvis.Blur", "", 1, 1, 0, SAME, -1, CNV_OPF_NCHW | CNV_OPF_IMAGE, "")                            \
    /* Gram matrix of feature maps: [N,C,H,W] -> [N,1,C,C], G = F F^T / (H*W). */                              \
    X(GRAM, "cnnvis.Gram", "", 1, 1, 0, OWN, -1, CNV_OPF_NCHW | CNV_OPF_IMAGE, "")                             \
    /* X, T (a constant of X's shape) -> [N,1]: alpha/2 * sum over the item of (X-T)^2. */                     \
    X(SQDIST, "cnnvis.SquaredDistance", "", 2, 2, 0, OWN, -1, CNV_OPF_IMAGE, "")

#endif
