/* The Vulkan backend: graph ops recorded as compute dispatches. In immediate use, dispatches
 * collect in one command buffer until sync (or a host read/write) submits them; inside a
 * program they are recorded once and replayed with one submit per run.
 * Op families live in one file each (runtime/vulkan/<op>.c) with one shader per kernel
 * (shaders/<op>_<fwd|bwd_data|bwd_weights>.comp). */
#ifndef CNV_VULKAN_VK_BACKEND_H
#define CNV_VULKAN_VK_BACKEND_H

#include "command.h"
#include "core/backend.h"

struct cnv_buf {
    cnv_vk_buffer *vb;
    size_t n; /* floats */
};

typedef struct cnv_vk_backend cnv_vk_backend;

const cnv_vk_caps *cnv_vkb_caps(const cnv_vk_backend *vb);

/* Workgroup size for 1-D kernels on this device (fits its limits and driver preferences). */
uint32_t cnv_vkb_local_1d(const cnv_vk_backend *vb);

/* The pipeline for a kernel with the given workgroup size and specialization constants
 * (ids 3, 4, ...), created on first use and kept for the backend's life. */
cnv_status cnv_vkb_kernel(cnv_vk_backend *vb, const cnv_vk_kernel_desc *desc, const cnv_vk_pipeline **out);

/* Records a dispatch of `groups` workgroups. bufs holds one buffer per binding; a NULL entry
 * binds a small placeholder (an absent optional input, e.g. a conv without bias). */
cnv_status cnv_vkb_dispatch(cnv_vk_backend *vb, const cnv_vk_pipeline *pipe, cnv_buf *const *bufs, const void *push,
                            const uint32_t groups[3]);

/* The buffer behind b, or the placeholder when b is NULL. */
const cnv_vk_buffer *cnv_vkb_buffer_of(const cnv_vk_backend *vb, const cnv_buf *b);

/* A device buffer of at least `bytes` for a kernel's own intermediate results (split-K's
 * partial blocks), shared by every dispatch that asks: the hazard tracking orders their uses.
 * It lives as long as the backend, since a recorded program may still bind it when a larger
 * one is made. */
cnv_status cnv_vkb_scratch(cnv_vk_backend *vb, VkDeviceSize bytes, const cnv_vk_buffer **out);

/* cnv_vkb_dispatch with explicit descriptor ranges (offset, size; size 0: to the end), for
 * kernels that split a tensor larger than maxStorageBufferRange into pieces (gemm.c). Each
 * range must fit the device's range and offset alignment. */
cnv_status cnv_vkb_dispatch_ranges(cnv_vk_backend *vb, const cnv_vk_pipeline *pipe, const cnv_vk_binding *bind,
                                   const void *push, const uint32_t groups[3]);

/* Records a 1-D dispatch covering n invocations of a pipeline whose workgroup is
 * cnv_vkb_local_1d wide: the grid folds into y when n needs more groups than the device
 * allows in x; shaders index with cnv_global_index() (shaders/common.glsl). */
cnv_status cnv_vkb_dispatch_1d(cnv_vk_backend *vb, const cnv_vk_pipeline *pipe, cnv_buf *const *bufs,
                               const void *push, size_t n);

/* Every op's forward and backward (same contract as core/backend.h), one file per family. */
typedef cnv_status (*cnv_vk_op_fn)(cnv_vk_backend *vb, const cnv_op_io *io);
typedef struct cnv_vk_op {
    cnv_vk_op_fn forward, backward;
    /* The backward writes the gradients cnv_op_io's grad_assign marks instead of adding to them
     * (its kernels' ASSIGN constants); for the other ops the backend zeroes them first. */
    int assigns;
} cnv_vk_op;
/* NULL when the op has no Vulkan kernels. */
const cnv_vk_op *cnv_vk_op_get(cnv_op_type op);

#define CNV_VK_DECLARE(name)                                                                    \
    cnv_status cnv_vk_##name##_forward(cnv_vk_backend *vb, const cnv_op_io *io);                \
    cnv_status cnv_vk_##name##_backward(cnv_vk_backend *vb, const cnv_op_io *io)

CNV_VK_DECLARE(conv);
CNV_VK_DECLARE(maxpool);
CNV_VK_DECLARE(avgpool); /* AveragePool and GlobalAveragePool */
CNV_VK_DECLARE(unary);  /* every op with a CNV_UNARY_* number */
CNV_VK_DECLARE(gemm); /* Gemm and MatMul */
CNV_VK_DECLARE(binary); /* every op with a CNV_BINARY_* number */
CNV_VK_DECLARE(concat);
CNV_VK_DECLARE(copy); /* Flatten, Reshape, Dropout */
CNV_VK_DECLARE(pad);
CNV_VK_DECLARE(lrn);
CNV_VK_DECLARE(softmax);
CNV_VK_DECLARE(batchnorm);
CNV_VK_DECLARE(transpose);
CNV_VK_DECLARE(reduce); /* ReduceMean, ReduceSum, ReduceMax */
CNV_VK_DECLARE(slice); /* Slice (Split imports as Slices) */
CNV_VK_DECLARE(resample);
CNV_VK_DECLARE(resize);
CNV_VK_DECLARE(convtranspose); /* on the Conv kernels */
/* Regularize and GradNorm: forward is cnv_vk_copy_forward (identity); runtime/vulkan/regularize.c */
cnv_status cnv_vk_regularize_backward(cnv_vk_backend *vb, const cnv_op_io *io);
cnv_status cnv_vk_gradnorm_backward(cnv_vk_backend *vb, const cnv_op_io *io);
CNV_VK_DECLARE(fourier); /* spectral image parameterization */
CNV_VK_DECLARE(blur);
CNV_VK_DECLARE(gram);   /* Gram matrix of feature maps (style) */
CNV_VK_DECLARE(sqdist); /* SquaredDistance to a constant target */

/* Optimizer step (runtime/vulkan/optimizer.c). */
cnv_status cnv_vk_optim_step(cnv_vk_backend *vb, const cnv_optim_io *io);

/* Fill and copy kernels of the backend itself (buf_fill, and writes inside programs). */
cnv_status cnv_vkb_fill(cnv_vk_backend *vb, cnv_buf *b, float value, size_t n);

#endif
