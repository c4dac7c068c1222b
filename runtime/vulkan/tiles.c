/* Tile sizes for the tiled matrix products, from the capability table.
 *
 * The candidates run from large to small. A big tile reuses each loaded element more (a
 * 128 x 128 tile with 8 x 8 register blocks does 64 multiply-adds per 4 128-bit shared reads)
 * but needs more invocations, shared memory and registers, and wastes work when the product is
 * smaller than the tile. The first candidate that
 *   - fits maxComputeWorkGroupInvocations, maxComputeWorkGroupSize and
 *     maxComputeSharedMemorySize (so the forced small-device table gets smaller tiles),
 *   - has no more invocations than the driver's preferred workgroup size (caps workarounds:
 *     256 by default, 64 on llvmpipe where big workgroups and barriers are slow),
 *   - and whose half tile does not already cover the product in either dimension
 * wins; the smallest fitting candidate is taken when every larger one is too big for the
 * product. Shapes need not divide the tile: the kernel pads with zeros.
 *
 * On devices whose shared memory is slow (caps workarounds: llvmpipe) the kernels skip the
 * slabs and read their operands directly (gemm_tile.glsl DIRECT), from their own ladder.
 *
 * CNNVIS_VK_TILES=TMxTNxTK/RMxRN[/direct|/shared] (e.g. 64x32x16/4x4) overrides the choice, for
 * tuning with `cnnvis bench gemm` and for tests that run every tile shape on one device; without
 * the walk the device's is kept. It must fit the device's hard limits (the driver's preference
 * is not one). */
#include "tiles.h"

#include "core/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cnv_vk_tiles candidates[] = {
    /* 256 invocations, 16.9 KiB shared (128-bit slab words, two of each); TK 8 so that it fits
     * the 32 KiB of Apple's GPUs (TK 16 would take 33.8 KiB). */
    {128, 128, 8, 8, 8, 0, 1},
    {64, 64, 16, 4, 4, 0, 1},   /* 256 invocations, 17 KiB */
    {64, 32, 16, 4, 4, 0, 1},   /* 128 invocations, 13 KiB */
    {32, 32, 16, 4, 4, 0, 1},   /* 64 invocations, 9 KiB */
    {16, 16, 16, 2, 2, 0, 1},   /* 64 invocations, 4.3 KiB (32-bit slab words) */
    {8, 8, 8, 1, 1, 0, 1},      /* 64 invocations, 0.6 KiB */
};

/* Devices with slow shared memory (caps workarounds) read operands directly; the register
 * block is then all the reuse there is. The tiles are one row of invocations (TM = RM), so all
 * of a workgroup's invocations read the same A elements: on llvmpipe a load of one address
 * across the SIMD lanes stays in the L1 cache, where the B loads (distinct columns) are real
 * gathers, so a tall block (RM = 8) costs 8 gathers per 64 multiply-adds. Measured with
 * `cnnvis bench gemm` (1024^3) on llvmpipe with texel reads, 2 cores: 8x64/8x8 13.9 GFLOP/s,
 * 4x64/4x8 9.1, 32x32/4x4 (8 x 8 invocations) 7.2; 64 accumulators spill, and still win. */
static const cnv_vk_tiles direct_candidates[] = {
    {8, 64, 1, 8, 8, 1, 1}, /* 8 invocations each */
    {8, 32, 1, 8, 4, 1, 1}, /* narrower products (a backward to the weights: Cin*kH*kW + 1 columns) */
    {8, 16, 1, 8, 2, 1, 1},
    {8, 8, 1, 8, 1, 1, 1},
    {4, 64, 1, 4, 8, 1, 1}, /* fewer rows (a backward to the data of an RGB input: 3) */
    {2, 32, 1, 2, 4, 1, 1},
    {1, 8, 1, 1, 1, 1, 1},
};

uint32_t cnv_vk_tiles_shared_bytes(const cnv_vk_tiles *t) {
    /* gemm_tile.glsl declares a float and a vec4 slab of each operand, two of each (double
     * buffered), the ones a walk does not use one word long; slab rows are padded by one word of
     * their kind (SA, SN, SA4, SN4). */
    const uint32_t f = (uint32_t)sizeof(float), v = 4 * f;
    if (t->direct) return 2 * f + 2 * v;
    if (t->rm % 4 == 0 && t->rn % 4 == 0) return 2 * t->tk * ((t->tm / 4 + 1) + (t->tn / 4 + 1)) * v + 2 * f; /* VEC4 */
    return 2 * t->tk * ((t->tm + 1) + (t->tn + 1)) * f + 2 * v;
}

static int fits_device(const cnv_vk_caps *caps, const cnv_vk_tiles *t, int honour_preference) {
    const uint32_t wx = t->tn / t->rn, wy = t->tm / t->rm;
    uint32_t max_inv = caps->max_workgroup_invocations;
    const uint32_t preferred = caps->workarounds.preferred_workgroup_size;
    if (honour_preference && preferred && preferred < max_inv) max_inv = preferred;
    return wx * wy <= max_inv && wx <= caps->max_workgroup_size[0] && wy <= caps->max_workgroup_size[1] &&
           cnv_vk_tiles_shared_bytes(t) <= caps->max_shared_memory;
}

static int too_big_for(const cnv_vk_tiles *t, uint64_t m, uint64_t n) {
    return t->tm / 2 >= m || t->tn / 2 >= n;
}

static cnv_status tiles_from_env(const cnv_vk_caps *caps, const char *v, cnv_vk_tiles *t) {
    char mode[8] = "", extra;
    const int got = sscanf(v, "%ux%ux%u/%ux%u/%7[a-z]%c", &t->tm, &t->tn, &t->tk, &t->rm, &t->rn, mode, &extra);
    t->direct = caps->workarounds.slow_shared_memory;
    t->split = 1;
    if (got == 6 && strcmp(mode, "direct") == 0) t->direct = 1;
    else if (got == 6 && strcmp(mode, "shared") == 0) t->direct = 0;
    else if (got != 5 || strchr(v, '/') != strrchr(v, '/')) t->tm = 0; /* malformed: refused below */
    if (!t->tm || !t->tn || !t->tk || !t->rm || !t->rn || t->tm % t->rm || t->tn % t->rn)
        return cnv_fail(CNV_ERR_ARG,
                        "CNNVIS_VK_TILES=%s: want TMxTNxTK/RMxRN[/direct|/shared] with RM dividing TM and RN "
                        "dividing TN",
                        v);
    if (!fits_device(caps, t, 0))
        return cnv_fail(CNV_ERR_UNSUPPORTED, "CNNVIS_VK_TILES=%s: exceeds the workgroup or shared-memory limits of %s", v,
                        caps->device_name);
    return CNV_OK;
}

cnv_status cnv_vk_tiles_choose(const cnv_vk_caps *caps, uint64_t m, uint64_t n, cnv_vk_tiles *out) {
    const char *forced = getenv("CNNVIS_VK_TILES");
    if (forced && *forced) return tiles_from_env(caps, forced, out);
    const int direct = caps->workarounds.slow_shared_memory;
    const cnv_vk_tiles *list = direct ? direct_candidates : candidates;
    const size_t count = direct ? sizeof direct_candidates / sizeof direct_candidates[0]
                                : sizeof candidates / sizeof candidates[0];
    const cnv_vk_tiles *chosen = NULL;
    for (size_t i = 0; i < count; i++) {
        if (!fits_device(caps, &list[i], 1)) continue;
        chosen = &list[i];
        if (!too_big_for(chosen, m, n)) break;
    }
    if (!chosen)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "vulkan: %s: workgroup limits below Vulkan's minimum for tiled kernels",
                        caps->device_name);
    *out = *chosen;
    return CNV_OK;
}

/* A slice reduces at least this deep: shallower, the partial blocks' traffic outweighs the
 * parallelism won. */
#define SPLIT_MIN_DEPTH 256
#define SPLIT_MAX 32

uint32_t cnv_vk_tiles_split(const cnv_vk_caps *caps, const cnv_vk_tiles *t, uint64_t m, uint64_t n, uint64_t k,
                            uint64_t batch) {
    const uint64_t tiles = ((m + t->tm - 1) / t->tm) * ((n + t->tn - 1) / t->tn) * batch;
    const char *forced = getenv("CNNVIS_VK_SPLITK");
    uint64_t want = 1;
    if (forced && *forced) want = strtoull(forced, NULL, 10);
    else if (caps->compute_units && tiles < 2ull * caps->compute_units)
        want = (2ull * caps->compute_units + tiles - 1) / tiles;
    if (want > SPLIT_MAX) want = SPLIT_MAX;
    const uint64_t deepest = forced && *forced ? k : k / SPLIT_MIN_DEPTH; /* forced: one step a slice */
    if (want > deepest) want = deepest;
    /* The partial blocks of every slice must fit one descriptor range, and z the grid. */
    while (want > 1 && (want * batch * m * n * sizeof(float) > caps->max_storage_buffer_range ||
                        want * batch > caps->max_workgroup_count[2]))
        want--;
    return want > 1 ? (uint32_t)want : 1u;
}

void cnv_vk_tiles_kernel(const cnv_vk_tiles *t, int a_column_major, int b_column_major, int reduce, uint32_t *spec,
                         cnv_vk_kernel_desc *desc) {
    spec[0] = t->rm;
    spec[1] = t->rn;
    spec[2] = t->tk;
    spec[3] = a_column_major ? 1u : 0u; /* bool constants are VkBool32: 0 or 1 */
    spec[4] = b_column_major ? 1u : 0u;
    spec[5] = t->direct ? 1u : 0u;
    spec[6] = t->split;
    spec[7] = reduce ? 1u : 0u;
    desc->local_size[0] = t->tn / t->rn;
    desc->local_size[1] = t->tm / t->rm;
    desc->local_size[2] = 1;
}

static uint32_t clamp_count(uint64_t want, uint32_t limit) { return (uint32_t)(want < limit ? want : limit); }

cnv_status cnv_vk_tiles_grid(const cnv_vk_caps *caps, const cnv_vk_tiles *t, uint64_t m, uint64_t n,
                             uint64_t batch, uint32_t groups[3]) {
    if (batch > caps->max_workgroup_count[2])
        return cnv_fail(CNV_ERR_UNSUPPORTED, "vulkan: %llu independent products exceed the device's %u workgroups in z",
                        (unsigned long long)batch, caps->max_workgroup_count[2]);
    groups[0] = clamp_count((n + t->tn - 1) / t->tn, caps->max_workgroup_count[0]);
    groups[1] = clamp_count((m + t->tm - 1) / t->tm, caps->max_workgroup_count[1]);
    groups[2] = (uint32_t)batch;
    return CNV_OK;
}
