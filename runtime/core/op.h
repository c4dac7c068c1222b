/* The operators of a cnnvis graph: ONNX semantics, with attributes resolved at import so that
 * every node holds only float inputs (data first, then weights) and plain C attributes. */
#ifndef CNV_CORE_OP_H
#define CNV_CORE_OP_H

#include "shape.h"
#include "cnnvis/cnnvis.h"

/* Inputs of one node. DenseNet-201's last block concatenates 49 tensors; more is refused at
 * import with a one-line error naming the node, the op and the file. */
#define CNV_MAX_INPUTS 64

/* Op flags (the flags column of op_list.h). */
#define CNV_OPF_NCHW 1u        /* input 0 must be 4-D NCHW */
#define CNV_OPF_COMMUTATIVE 2u /* the importer may swap two inputs to put the computed one first */
#define CNV_OPF_IMAGE 4u       /* image-space op of cnnvis ("cnnvis.*"): no ONNX import or export */
#define CNV_OPF_VARIADIC 8u    /* the ONNX op takes any number of inputs: one is the tensor itself, more
                                  are imported as a chain of two-input nodes */

#include "op_list.h"
#include "../../shaders/resize_modes.h" /* shared with the shaders */

typedef enum cnv_op_type {
#define CNV_OP_ENUM(id, ...) CNV_OP_##id,
    CNV_OP_LIST(CNV_OP_ENUM)
#undef CNV_OP_ENUM
    CNV_OP_COUNT
} cnv_op_type;

typedef enum cnv_shape_rule {
    CNV_SHAPE_SAME,
    CNV_SHAPE_BROADCAST,
    CNV_SHAPE_BROADCAST_TO_FIRST,
    CNV_SHAPE_OWN
} cnv_shape_rule;

/* One op's description (a line of op_list.h). */
typedef struct cnv_op_desc {
    const char *name;   /* ONNX op_type, or "cnnvis.<Name>" */
    const char *keras;  /* Keras activation names, space separated ("" when none) */
    int min_in, max_in; /* graph inputs: data first, then weights */
    int onnx_in;        /* inputs an ONNX node may carry (0: not an ONNX op) */
    cnv_shape_rule shape;
    int elementwise;    /* CNV_UNARY_* / CNV_BINARY_* (shaders/elementwise_ops.h), -1 for none */
    unsigned flags;     /* CNV_OPF_* */
    const char *attrs;  /* ONNX attributes accepted, space separated */
} cnv_op_desc;

/* The description of op (NULL when op is out of range). */
const cnv_op_desc *cnv_op_desc_of(cnv_op_type op);

/* The op's number in the shared unary kernel (CNV_UNARY_*), or -1: the elementwise ops whose output
 * has their input's shape. The others with a number are binary (CNV_BINARY_*, broadcasting). */
int cnv_op_unary_number(cnv_op_type op);
int cnv_op_binary_number(cnv_op_type op);

/* Whether `word` is one of the space-separated words of `list`. */
int cnv_word_in_list(const char *list, const char *word);

typedef enum { CNV_AUTO_PAD_NOTSET, CNV_AUTO_PAD_SAME_UPPER, CNV_AUTO_PAD_SAME_LOWER, CNV_AUTO_PAD_VALID } cnv_auto_pad;
typedef enum { CNV_PAD_CONSTANT, CNV_PAD_REFLECT, CNV_PAD_EDGE } cnv_pad_mode;
/* Pad's kernels view tensors as 4-D; shape inference refuses more dims. */
#define CNV_PAD_MAX_DIMS 4

typedef struct cnv_attrs {
    /* Conv, pools: spatial (H, W) parameters. pads = {top, left, bottom, right} (ONNX order). */
    int kernel[2], stride[2], dilation[2], pads[4];
    cnv_auto_pad auto_pad; /* resolved into pads by shape inference */
    int group;
    int output_padding[2]; /* ConvTranspose: extra rows, columns at the end (its out_hw: output_shape, 0 = none) */
    int ceil_mode;
    int count_include_pad;
    /* LeakyRelu/Elu alpha; LRN alpha/beta/bias; Gemm alpha/beta; HardSigmoid alpha/beta. */
    float alpha, beta, bias;
    int size;              /* LRN window */
    int approximate;       /* Gelu: 0 the erf form ("none"), 1 the tanh approximation */
    float min, max;        /* Clip */
    int axis;              /* Concat, Flatten, Softmax (non-negative after import) */
    int softmax_legacy;    /* opset < 13: softmax over the flattened dims [axis, end) */
    int trans_a, trans_b;  /* Gemm */
    cnv_pad_mode pad_mode; /* Pad */
    float pad_value;
    int pad_full[2 * CNV_MAX_DIMS]; /* Pad: begins of dims 0..CNV_MAX_DIMS-1, then their ends */
    int shape_n;           /* Reshape target as given (0 = copy dim, -1 = infer) */
    int shape[CNV_MAX_DIMS];
    int perm[CNV_MAX_DIMS]; /* Transpose: output dim k is input dim perm[k] (the first ndim entries) */
    int reduce_axes;       /* ReduceMean/Sum/Max: bit k set = dim k is reduced (0: none, an identity) */
    int keepdims;          /* ReduceMean/Sum/Max: reduced dims stay as 1 */
    /* Slice: per dim, ONNX's start, end (clamped to +-INT32_MAX at import) and step (non-zero);
     * cnv_slice_resolve clamps them against the input. */
    int slice_start[CNV_MAX_DIMS], slice_end[CNV_MAX_DIMS], slice_step[CNV_MAX_DIMS];
    /* Image-space ops. */
    int out_hw[2];         /* Fourier: image H, W; Resample: output H, W */
    float decay;           /* Fourier: frequency amplitudes scaled by 1 / max(f, 1/max(H,W))^decay */
    float tv, tv_beta;     /* Regularize: weight of sum((dx^2 + dy^2)^(beta/2)) over neighbours */
    float l1, l2;          /* Regularize: weights of sum|x| and sum x^2 / 2 */
    float l_center;        /* Regularize: the value the L1/L2 penalties pull towards */
    int gradnorm_clip;     /* GradNorm: 0 = divide by mean|g| of each item (+eps); 1 = clip to [-clip, clip] */
    float clip, eps;
    float sigma;           /* Blur */
    /* Resize (and Upsample): CNV_RESIZE_*, CNV_COORD_*, CNV_NEAREST_* (shaders/resize_modes.h);
     * resize_scale: the H, W scales of the coordinate transform, 0 where the output size was
     * given (the scale is then output / input); out_hw: the output H, W, 0 where scales were
     * given (the size is then floor(input * scale)). */
    int resize_mode, resize_coord, resize_nearest;
    float resize_scale[2];
} cnv_attrs;

/* Pad's begin and end pads along one dim (pad_full's layout). */
static inline void cnv_pad_set(cnv_attrs *a, int dim, int begin, int end) {
    a->pad_full[dim] = begin;
    a->pad_full[CNV_MAX_DIMS + dim] = end;
}

/* Default attributes (ONNX defaults: stride 1, dilation 1, group 1, alpha per op, ...). */
void cnv_attrs_default(cnv_op_type op, cnv_attrs *a);

/* The two parameters p0, p1 a unary elementwise op passes to its function (shaders/unary.glsl,
 * runtime/cpu/unary.c): LeakyRelu/Elu alpha; Clip min, max; HardSigmoid alpha, beta; Gelu's
 * approximation. Zero where unused. */
void cnv_unary_params(cnv_op_type op, const cnv_attrs *a, float p[2]);

/* Resize: the scale of the coordinate transform along H (axis 0) or W (axis 1) for an input
 * of size in resized to out. */
float cnv_resize_scale(const cnv_attrs *a, int axis, int in, int out);

/* Resize along one axis: output index o of out reads the input taps lo and hi (of in) with
 * weights 1 - w and w (nearest: lo == hi, w == 0). One definition for the CPU kernel's forward
 * and backward and for receptive fields; shaders/resize.glsl computes the same. */
typedef struct cnv_resize_tap {
    int lo, hi;
    float w;
} cnv_resize_tap;
cnv_resize_tap cnv_resize_tap_of(const cnv_attrs *a, int axis, int o, int in, int out);

/* ONNX op_type name ("Conv", "MaxPool", ...). */
const char *cnv_op_name(cnv_op_type op);
/* Parses an ONNX op_type; returns CNV_OP_COUNT when unknown (and for the image-space ops). */
cnv_op_type cnv_op_from_name(const char *name);
/* The op a Keras activation name means; CNV_OP_COUNT when none. */
cnv_op_type cnv_op_from_keras(const char *name);

/* Slice's window on input x: per dim the first index, the count and the step (ONNX's clamping
 * rules). Fails with CNV_ERR_SHAPE naming the node when a step is 0 or a dim would be empty. */
cnv_status cnv_slice_resolve(const cnv_attrs *a, const cnv_shape *x, int first[CNV_MAX_DIMS],
                             int count[CNV_MAX_DIMS], int step[CNV_MAX_DIMS], const char *node_name);

/* Infers the output shape from input shapes; resolves auto_pad into attrs->pads.
 * Fails with CNV_ERR_SHAPE (message names the node) when the inputs do not fit. */
cnv_status cnv_op_infer_shape(cnv_op_type op, cnv_attrs *attrs, int n_in, const cnv_shape *in,
                              cnv_shape *out, const char *node_name);

#endif
