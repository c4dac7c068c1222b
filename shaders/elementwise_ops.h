/* The numbering of the elementwise kernels, shared by C and GLSL: plain #defines, included by
 * runtime/core/op_list.h (each op's descriptor names its number), by the CPU kernels
 * runtime/cpu/unary.c and binary.c, and by shaders/unary.glsl and binary.glsl (through
 * glslangValidator's -I shaders), which receive the number as a specialization constant. A new
 * elementwise op takes the next number here; nothing else keeps a copy of these values. */
#ifndef CNV_ELEMENTWISE_OPS_H
#define CNV_ELEMENTWISE_OPS_H

/* Unary: y = f(x; p0, p1), the parameters from the node's attributes (runtime/core/op.c
 * cnv_op_unary_params). */
#define CNV_UNARY_RELU 0
#define CNV_UNARY_LEAKYRELU 1   /* p0 = alpha */
#define CNV_UNARY_CLIP 2        /* p0 = min, p1 = max */
#define CNV_UNARY_SIGMOID 3
#define CNV_UNARY_TANH 4
#define CNV_UNARY_ELU 5         /* p0 = alpha */
#define CNV_UNARY_IDENTITY 6
#define CNV_UNARY_NEG 7
#define CNV_UNARY_ABS 8
#define CNV_UNARY_SQRT 9
#define CNV_UNARY_EXP 10
#define CNV_UNARY_LOG 11
#define CNV_UNARY_RECIPROCAL 12
#define CNV_UNARY_ERF 13
#define CNV_UNARY_SOFTPLUS 14
#define CNV_UNARY_HARDSIGMOID 15 /* p0 = alpha, p1 = beta */
#define CNV_UNARY_HARDSWISH 16
#define CNV_UNARY_GELU 17        /* p0 = 0: the erf form, 1: the tanh approximation */
#define CNV_UNARY_COUNT 18

/* Binary, with numpy broadcasting: y = f(a, b). */
#define CNV_BINARY_ADD 0
#define CNV_BINARY_SUB 1
#define CNV_BINARY_MUL 2
#define CNV_BINARY_DIV 3
#define CNV_BINARY_POW 4
#define CNV_BINARY_MAX 5
#define CNV_BINARY_MIN 6
#define CNV_BINARY_PRELU 7      /* a: x, b: the slope, broadcast onto x */
#define CNV_BINARY_COUNT 8

#endif
