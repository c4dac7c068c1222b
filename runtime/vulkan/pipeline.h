/* Compute pipelines from the embedded SPIR-V (shaders.h). Every kernel takes its storage
 * buffers at bindings 0..n-1 of set 0, its scalars as push constants, its workgroup size as
 * specialization constants 0..2 and kernel-specific choices as constants 3, 4, ...
 * A kernel whose read-only operands are declared with CNV_INPUT (shaders/common.glsl) names
 * them in `texel`; where the capability table sets texel_reads the pipeline is built from its
 * <name>_texel SPIR-V and those bindings are uniform texel buffers (R32_SFLOAT views).
 * Pipelines go through one VkPipelineCache per context, kept on disk under
 * $XDG_CACHE_HOME/cnnvis (or ~/.cache/cnnvis), one file per device and driver version, so a
 * second start compiles nothing. */
#ifndef CNV_VULKAN_PIPELINE_H
#define CNV_VULKAN_PIPELINE_H

#include "context.h"

#define CNV_VK_MAX_BINDINGS 8
#define CNV_VK_MAX_SPEC 18 /* kernel-specific constants, ids 3 .. 3 + CNV_VK_MAX_SPEC - 1 */

typedef struct cnv_vk_kernel_desc {
    const char *shader;     /* kernel name: shaders/<name>.comp */
    uint32_t bindings;      /* storage buffers at bindings 0 .. bindings-1 */
    uint32_t written;       /* bit i set: the kernel writes binding i (barriers depend on it) */
    uint32_t texel;         /* bit i set: binding i is a CNV_INPUT operand (read only) */
    uint32_t push_size;     /* bytes of push constants, a multiple of 4 */
    uint32_t local_size[3]; /* workgroup size; 0 counts as 1 */
    const uint32_t *spec;   /* bit patterns of constants 3, 4, ... (int, uint or float) */
    uint32_t spec_count;
} cnv_vk_kernel_desc;

typedef struct cnv_vk_pipeline {
    char name[64];
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout layout;
    VkPipeline pipeline;
    uint32_t bindings, written, push_size;
    uint32_t texel; /* bindings bound as uniform texel buffers: desc->texel, or 0 on the storage build */
    uint32_t local_size[3];
    int cache_hit; /* 1 or 0 as the driver reports it through creation feedback; -1: unknown */
} cnv_vk_pipeline;

/* CNV_ERR_NOT_FOUND for an unknown kernel, CNV_ERR_UNSUPPORTED when the workgroup or push
 * constants exceed the device's (possibly forced) limits. */
cnv_status cnv_vk_pipeline_create(cnv_vk_context *ctx, const cnv_vk_kernel_desc *desc, cnv_vk_pipeline **out);
void cnv_vk_pipeline_free(cnv_vk_context *ctx, cnv_vk_pipeline *p);

/* Creates ctx->pipeline_cache, seeded from the cache file when one matches the device (a file
 * that is missing, short or for another device is ignored). Called by the context. */
cnv_status cnv_vk_pipeline_cache_open(cnv_vk_context *ctx);
/* Writes the cache file (to a temporary name, then renamed). Called by the context at exit. */
cnv_status cnv_vk_pipeline_cache_save(cnv_vk_context *ctx);

#endif
