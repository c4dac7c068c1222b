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
#define CNV_UNARY_COUNT 6

/* Binary, with numpy broadcasting: y = f(a, b). */
#define CNV_BINARY_ADD 0
#define CNV_BINARY_COUNT 1

#endif
