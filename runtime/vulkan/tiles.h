/* Tile sizes of the tiled matrix-product kernels (shaders/gemm_tile.glsl: Gemm, MatMul and the
 * three Conv kernels), chosen in one place from the device's capability table. */
#ifndef CNV_VULKAN_TILES_H
#define CNV_VULKAN_TILES_H

#include "pipeline.h"

/* A workgroup of (tn/rn) x (tm/rm) invocations computes a tm x tn tile of the product,
 * stepping through the reduction tk at a time; each invocation keeps an rm x rn block. */
typedef struct cnv_vk_tiles {
    uint32_t tm, tn, tk, rm, rn;
    int direct; /* no shared memory: each invocation reads its own operands (gemm_tile.glsl DIRECT) */
} cnv_vk_tiles;

/* The largest tile that fits the device (workgroup invocations and sizes, shared memory, the
 * driver's preferred workgroup size) and is not mostly padding for an m x n product, unless
 * the environment variable CNNVIS_VK_TILES=TMxTNxTK/RMxRN[/direct|/shared] names one (tuning,
 * tests): then that one, or CNV_ERR_ARG / CNV_ERR_UNSUPPORTED when it is malformed or exceeds
 * the device. */
cnv_status cnv_vk_tiles_choose(const cnv_vk_caps *caps, uint64_t m, uint64_t n, cnv_vk_tiles *out);

/* Shared memory one workgroup of these tiles uses, as gemm_tile.glsl declares it. */
uint32_t cnv_vk_tiles_shared_bytes(const cnv_vk_tiles *t);

/* Fills a kernel description's workgroup size and its constants 3..8 (register block, tile
 * depth, the memory order of the A and B operands, DIRECT: see gemm_tile.glsl); `spec` must
 * hold CNV_VK_TILE_SPECS entries, and kernel-specific constants follow from id 9. */
#define CNV_VK_TILE_SPECS 6
void cnv_vk_tiles_kernel(const cnv_vk_tiles *t, int a_column_major, int b_column_major, uint32_t *spec,
                         cnv_vk_kernel_desc *desc);

/* The dispatch grid for an m x n product repeated `batch` times (z), clamped to the device's
 * workgroup counts (the kernel strides over the tiles a smaller grid leaves). */
cnv_status cnv_vk_tiles_grid(const cnv_vk_caps *caps, const cnv_vk_tiles *t, uint64_t m, uint64_t n,
                             uint64_t batch, uint32_t groups[3]);

#endif
