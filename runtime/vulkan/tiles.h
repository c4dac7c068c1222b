/* Tile sizes of the tiled matrix-product kernels (shaders/gemm_tile.glsl: Gemm, MatMul and the
 * three Conv kernels), chosen in one place from the device's capability table. */
#ifndef CNV_VULKAN_TILES_H
#define CNV_VULKAN_TILES_H

#include "pipeline.h"

/* A workgroup of (tn/rn) x (tm/rm) invocations computes a tm x tn tile of the product,
 * stepping through the reduction tk at a time; each invocation keeps an rm x rn block. */
typedef struct cnv_vk_tiles {
    uint32_t tm, tn, tk, rm, rn;
    int direct;     /* no shared memory: each invocation reads its own operands (gemm_tile.glsl DIRECT) */
    uint32_t split; /* slices of the reduction (gemm_tile.glsl SPLIT; 1: none): cnv_vk_tiles_split */
} cnv_vk_tiles;

/* The largest tile that fits the device (workgroup invocations and sizes, shared memory, the
 * driver's preferred workgroup size) and is not mostly padding for an m x n product, unless
 * the environment variable CNNVIS_VK_TILES=TMxTNxTK/RMxRN[/direct|/shared] names one (tuning,
 * tests): then that one, or CNV_ERR_ARG / CNV_ERR_UNSUPPORTED when it is malformed or exceeds
 * the device. */
cnv_status cnv_vk_tiles_choose(const cnv_vk_caps *caps, uint64_t m, uint64_t n, cnv_vk_tiles *out);

/* Shared memory one workgroup of these tiles uses, as gemm_tile.glsl declares it. */
uint32_t cnv_vk_tiles_shared_bytes(const cnv_vk_tiles *t);

/* Fills a kernel description's workgroup size and its constants 3..10 (register block, tile
 * depth, the memory order of the A and B operands, DIRECT, SPLIT, REDUCE: see gemm_tile.glsl);
 * `spec` must hold CNV_VK_TILE_SPECS entries, and kernel-specific constants follow from id 11. */
#define CNV_VK_TILE_SPECS 8
void cnv_vk_tiles_kernel(const cnv_vk_tiles *t, int a_column_major, int b_column_major, int reduce, uint32_t *spec,
                         cnv_vk_kernel_desc *desc);

/* How many slices the reduction of `batch` m x n x k products is split into (t->split): 1
 * unless the device's compute units are known (caps) and the tiles are fewer than twice as
 * many, then enough slices to make up the difference, each at least SPLIT_MIN_DEPTH deep, their
 * partial blocks within one storage range. CNNVIS_VK_SPLITK=S forces S slices (tests; tuning),
 * as far as the depth allows. */
uint32_t cnv_vk_tiles_split(const cnv_vk_caps *caps, const cnv_vk_tiles *t, uint64_t m, uint64_t n, uint64_t k,
                            uint64_t batch);

/* The dispatch grid for an m x n product repeated `batch` times (z), clamped to the device's
 * workgroup counts (the kernel strides over the tiles a smaller grid leaves). */
cnv_status cnv_vk_tiles_grid(const cnv_vk_caps *caps, const cnv_vk_tiles *t, uint64_t m, uint64_t n,
                             uint64_t batch, uint32_t groups[3]);

#endif
