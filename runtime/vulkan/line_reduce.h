/* Kernels that reduce along independent lines (shaders/line_reduce.glsl: softmax rows,
 * GlobalAveragePool planes), with a device- and shape-fitted number of invocations per line. */
#ifndef CNV_VULKAN_LINE_REDUCE_H
#define CNV_VULKAN_LINE_REDUCE_H

#include "vk_backend.h"

typedef struct cnv_vk_line_kernel {
    const cnv_vk_pipeline *pipe;
    uint32_t threads; /* invocations per line (LINE_THREADS) */
} cnv_vk_line_kernel;

/* The pipeline of `shader` for lines of `len` values. */
cnv_status cnv_vk_line_kernel_get(cnv_vk_backend *vb, const char *shader, uint32_t bindings, uint32_t written,
                                  uint32_t push_size, size_t len, cnv_vk_line_kernel *out);

/* Dispatches it over `lines` lines. */
cnv_status cnv_vk_line_dispatch(cnv_vk_backend *vb, const cnv_vk_line_kernel *k, cnv_buf *const *bufs,
                                const void *push, size_t lines);

#endif
