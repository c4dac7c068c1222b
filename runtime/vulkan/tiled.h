/* One tiled product's dispatches, split-K included (tiled.c). */
#ifndef CNV_VULKAN_TILED_H
#define CNV_VULKAN_TILED_H

#include "tiles.h"
#include "vk_backend.h"

/* Dispatches `products` rows x cols products of the kernel `desc` describes (its own bindings
 * in bind, desc->bindings of them; the partials binding is added after them) with tiles t:
 * spec holds CNV_VK_TILE_SPECS entries for the tile's constants, then the kernel's own, which
 * desc->spec_count counts. */
cnv_status cnv_vk_tiled_dispatch(cnv_vk_backend *vb, const cnv_vk_kernel_desc *desc, uint32_t *spec,
                                 const cnv_vk_tiles *t, int a_column_major, int b_column_major,
                                 const cnv_vk_binding *bind, const void *push, uint64_t rows, uint64_t cols,
                                 uint64_t products);

#endif
