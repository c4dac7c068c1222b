/* The kinds of the reduction kernels (ReduceSum, ReduceMean, ReduceMax), shared by C and GLSL:
 * runtime/cpu/reduce.c and runtime/vulkan/reduce.c map an op to its kind, and
 * shaders/reduce_fwd.comp / reduce_bwd_data.comp receive it as specialization constant 3. */
#ifndef CNV_REDUCE_OPS_H
#define CNV_REDUCE_OPS_H

#define CNV_REDUCE_SUM 0
#define CNV_REDUCE_MEAN 1
#define CNV_REDUCE_MAX 2

#endif
