/* Limits shared by C and GLSL (plain #defines): runtime/core/shape.h includes this file, and so do
 * the shaders that index every dim of a tensor (binary.glsl, transpose_fwd.comp). */
#ifndef CNV_LIMITS_H
#define CNV_LIMITS_H

/* The most dims a tensor has: 6 covers ShuffleNet's channel shuffle (5-D) with one to spare. */
#define CNV_MAX_DIMS 6

#endif
