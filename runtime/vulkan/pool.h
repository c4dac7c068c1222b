/* The geometry the MaxPool and AveragePool kernels take as push constants (the Pool block of
 * shaders/pool.glsl, field for field). */
#ifndef CNV_VULKAN_POOL_H
#define CNV_VULKAN_POOL_H

#include "vk_backend.h"

typedef struct cnv_vk_pool_push {
    uint32_t n; /* invocations: outputs (forward) or inputs (backward) */
    int32_t h, w, oh, ow;
    int32_t kh, kw, sh, sw, ph, pw, dh, dw;
    int32_t ph_hi, pw_hi, include_pad;
} cnv_vk_pool_push;

/* Checks that io is an NCHW pool with matching N, C and fills the push constants from the
 * node's attributes; n is left 0. `what` names the op in the error. */
cnv_status cnv_vk_pool_geometry(const cnv_op_io *io, const char *what, cnv_vk_pool_push *p);

/* Number of planes (N * C) of the pool's input. */
size_t cnv_vk_pool_planes(const cnv_op_io *io);

#endif
