/* Dispatching a tiled product (shaders/gemm_tile.glsl) of a kernel that has a partials binding
 * (GEMM_PARTIALS_BINDING, after its own bindings): one dispatch, or with a split reduction
 * (t->split > 1, tiles.c) two: the slices write their partial blocks into the backend's
 * scratch, then the same kernel with REDUCE sums them and stores through its own store. */
#include "tiled.h"

#include "core/status.h"

#include <string.h>

cnv_status cnv_vk_tiled_dispatch(cnv_vk_backend *vb, const cnv_vk_kernel_desc *desc, uint32_t *spec,
                                 const cnv_vk_tiles *t, int a_column_major, int b_column_major,
                                 const cnv_vk_binding *bind, const void *push, uint64_t rows, uint64_t cols,
                                 uint64_t products) {
    const cnv_vk_caps *caps = cnv_vkb_caps(vb);
    if (desc->bindings >= CNV_VK_MAX_BINDINGS)
        return cnv_fail(CNV_ERR_INTERNAL, "%s: no room for the partials binding", desc->shader);
    cnv_vk_kernel_desc d = *desc;
    const uint32_t partials = d.bindings;
    d.bindings++;
    d.written |= 1u << partials; /* slices write it, the sum reads it: both order against its other uses */
    cnv_vk_binding b[CNV_VK_MAX_BINDINGS];
    memcpy(b, bind, partials * sizeof *b);
    const uint32_t split = t->split;
    b[partials] = (cnv_vk_binding){cnv_vkb_buffer_of(vb, NULL), 0, 0};
    if (split > 1)
        CNV_TRY(cnv_vkb_scratch(vb, (VkDeviceSize)split * products * rows * cols * sizeof(float), &b[partials].buf));
    for (int pass = 0; pass < (split > 1 ? 2 : 1); pass++) {
        cnv_vk_tiles_kernel(t, a_column_major, b_column_major, pass == 1, spec, &d);
        const cnv_vk_pipeline *pipe;
        CNV_TRY(cnv_vkb_kernel(vb, &d, &pipe));
        uint32_t grid[3];
        CNV_TRY(cnv_vk_tiles_grid(caps, t, rows, cols, pass == 0 ? products * split : products, grid));
        CNV_TRY(cnv_vkb_dispatch_ranges(vb, pipe, b, push, grid));
    }
    return CNV_OK;
}
