#include "pipeline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/status.h"
#include "shaders.h"

/* ---- the on-disk pipeline cache ---- */

/* Creates every missing folder of an absolute path. */
static int make_dirs(char *path) {
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char saved = *p;
        *p = '\0';
        int ok = mkdir(path, 0755) == 0 || errno == EEXIST;
        *p = saved;
        if (!ok) return 0;
        if (saved == '\0') return 1;
    }
}

/* "<cache folder>/cnnvis", or "" when neither XDG_CACHE_HOME nor HOME is set. */
static void cache_folder(char *dir, size_t cap) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/') snprintf(dir, cap, "%s/cnnvis", xdg);
    else if (home && home[0] == '/') snprintf(dir, cap, "%s/.cache/cnnvis", home);
    else dir[0] = '\0';
}

/* The file name carries everything that makes cache data incompatible: the driver's pipeline
 * cache UUID, its version, and the device. */
static void cache_path(const cnv_vk_caps *caps, const char *dir, char *path, size_t cap) {
    char uuid[2 * VK_UUID_SIZE + 1];
    for (unsigned i = 0; i < VK_UUID_SIZE; i++) snprintf(uuid + 2 * i, 3, "%02x", caps->pipeline_cache_uuid[i]);
    snprintf(path, cap, "%s/pipelines-%04x-%04x-%08x-%s.bin", dir, caps->vendor_id, caps->device_id,
             caps->driver_version, uuid);
}

/* Reads the whole file; NULL when absent or unreadable. */
static void *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    void *data = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n > 0 && fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)n)) && fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *size = data ? (size_t)n : 0;
    return data;
}

/* The header every driver writes (VkPipelineCacheHeaderVersionOne): reject another device's data. */
static int header_matches(const cnv_vk_caps *caps, const unsigned char *data, size_t size) {
    uint32_t words[4];
    if (size < sizeof words + VK_UUID_SIZE) return 0;
    memcpy(words, data, sizeof words);
    return words[1] == VK_PIPELINE_CACHE_HEADER_VERSION_ONE && words[2] == caps->vendor_id &&
           words[3] == caps->device_id && memcmp(data + sizeof words, caps->pipeline_cache_uuid, VK_UUID_SIZE) == 0;
}

cnv_status cnv_vk_pipeline_cache_open(cnv_vk_context *ctx) {
    char dir[900];
    cache_folder(dir, sizeof dir);
    if (dir[0]) cache_path(&ctx->caps, dir, ctx->pipeline_cache_path, sizeof ctx->pipeline_cache_path);
    size_t size = 0;
    void *data = dir[0] ? read_file(ctx->pipeline_cache_path, &size) : NULL;
    if (data && !header_matches(&ctx->caps, data, size)) {
        cnv_debug("%s: pipeline cache for another device or driver; ignored", ctx->pipeline_cache_path);
        free(data);
        data = NULL;
        size = 0;
    }
    VkPipelineCacheCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO, .initialDataSize = size, .pInitialData = data};
    VkResult r = ctx->vk.vkCreatePipelineCache(ctx->device, &info, NULL, &ctx->pipeline_cache);
    free(data);
    if (r != VK_SUCCESS) return cnv_vk_fail(r, "vkCreatePipelineCache");
    ctx->pipeline_cache_loaded = size;
    if (size) cnv_debug("pipeline cache: %zu bytes from %s", size, ctx->pipeline_cache_path);
    return CNV_OK;
}

cnv_status cnv_vk_pipeline_cache_save(cnv_vk_context *ctx) {
    if (!ctx->pipeline_cache_path[0]) return CNV_OK;
    size_t size = 0;
    VkResult r = ctx->vk.vkGetPipelineCacheData(ctx->device, ctx->pipeline_cache, &size, NULL);
    if (r != VK_SUCCESS) return cnv_vk_fail(r, "vkGetPipelineCacheData");
    void *data = malloc(size ? size : 1);
    if (!data) return cnv_fail(CNV_ERR_NOMEM, "pipeline cache data");
    r = ctx->vk.vkGetPipelineCacheData(ctx->device, ctx->pipeline_cache, &size, data);
    if (r != VK_SUCCESS) {
        free(data);
        return cnv_vk_fail(r, "vkGetPipelineCacheData");
    }
    char dir[1024], tmp[1100];
    snprintf(dir, sizeof dir, "%s", ctx->pipeline_cache_path);
    *strrchr(dir, '/') = '\0';
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", ctx->pipeline_cache_path, (long)getpid());
    FILE *f = make_dirs(dir) ? fopen(tmp, "wb") : NULL;
    int ok = f && fwrite(data, 1, size, f) == size;
    if (f) ok = fclose(f) == 0 && ok;
    free(data);
    if (!ok || rename(tmp, ctx->pipeline_cache_path) != 0) {
        remove(tmp);
        return cnv_fail(CNV_ERR_IO, "%s: cannot write the pipeline cache", ctx->pipeline_cache_path);
    }
    return CNV_OK;
}

/* ---- pipelines ---- */

static cnv_status check_limits(const cnv_vk_caps *caps, const cnv_vk_kernel_desc *d, const uint32_t local[3]) {
    uint64_t invocations = (uint64_t)local[0] * local[1] * local[2];
    for (int i = 0; i < 3; i++)
        if (local[i] > caps->max_workgroup_size[i])
            return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: workgroup size %u in dimension %d exceeds the device's %u",
                            d->shader, local[i], i, caps->max_workgroup_size[i]);
    if (invocations > caps->max_workgroup_invocations)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: %llu invocations per workgroup exceed the device's %u", d->shader,
                        (unsigned long long)invocations, caps->max_workgroup_invocations);
    if (d->push_size > caps->max_push_constants_size || d->push_size % 4)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: %u bytes of push constants (device: at most %u, multiple of 4)",
                        d->shader, d->push_size, caps->max_push_constants_size);
    if (d->bindings == 0 || d->bindings > CNV_VK_MAX_BINDINGS || d->spec_count > CNV_VK_MAX_SPEC)
        return cnv_fail(CNV_ERR_INTERNAL, "%s: %u bindings, %u constants (at most %d and %d)", d->shader,
                        d->bindings, d->spec_count, CNV_VK_MAX_BINDINGS, CNV_VK_MAX_SPEC);
    return CNV_OK;
}

static cnv_status create_layouts(cnv_vk_context *ctx, cnv_vk_pipeline *p) {
    VkDescriptorSetLayoutBinding b[CNV_VK_MAX_BINDINGS];
    for (uint32_t i = 0; i < p->bindings; i++)
        b[i] = (VkDescriptorSetLayoutBinding){
            .binding = i,
            .descriptorType = p->texel >> i & 1 ? VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER
                                                : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    VkDescriptorSetLayoutCreateInfo set_info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO, .bindingCount = p->bindings, .pBindings = b};
    VkResult r = ctx->vk.vkCreateDescriptorSetLayout(ctx->device, &set_info, NULL, &p->set_layout);
    if (r != VK_SUCCESS) return cnv_vk_fail(r, "vkCreateDescriptorSetLayout");
    VkPushConstantRange push = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .size = p->push_size};
    VkPipelineLayoutCreateInfo layout_info = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &p->set_layout,
        .pushConstantRangeCount = p->push_size ? 1u : 0u,
        .pPushConstantRanges = &push,
    };
    r = ctx->vk.vkCreatePipelineLayout(ctx->device, &layout_info, NULL, &p->layout);
    if (r != VK_SUCCESS) return cnv_vk_fail(r, "vkCreatePipelineLayout");
    return CNV_OK;
}

static cnv_status create_pipeline(cnv_vk_context *ctx, const cnv_shader_code *code, const cnv_vk_kernel_desc *d,
                                  cnv_vk_pipeline *p) {
    uint32_t values[3 + CNV_VK_MAX_SPEC];
    VkSpecializationMapEntry entries[3 + CNV_VK_MAX_SPEC];
    uint32_t n = 3 + d->spec_count;
    for (uint32_t i = 0; i < n; i++) {
        values[i] = i < 3 ? p->local_size[i] : d->spec[i - 3];
        entries[i] = (VkSpecializationMapEntry){.constantID = i, .offset = 4 * i, .size = 4};
    }
    VkSpecializationInfo spec = {.mapEntryCount = n, .pMapEntries = entries, .dataSize = 4 * n, .pData = values};

    VkShaderModuleCreateInfo module_info = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = code->size, .pCode = code->code};
    VkShaderModule module;
    VkResult r = ctx->vk.vkCreateShaderModule(ctx->device, &module_info, NULL, &module);
    if (r != VK_SUCCESS) return cnv_vk_fail(r, "vkCreateShaderModule");

    VkPipelineCreationFeedback feedback = {0};
    VkPipelineCreationFeedbackCreateInfo feedback_info = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_CREATION_FEEDBACK_CREATE_INFO, .pPipelineCreationFeedback = &feedback};
    VkComputePipelineCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .pNext = ctx->caps.pipeline_creation_feedback ? &feedback_info : NULL,
        .stage =
            {
                .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                .module = module,
                .pName = "main",
                .pSpecializationInfo = &spec,
            },
        .layout = p->layout,
    };
    r = ctx->vk.vkCreateComputePipelines(ctx->device, ctx->pipeline_cache, 1, &info, NULL, &p->pipeline);
    ctx->vk.vkDestroyShaderModule(ctx->device, module, NULL);
    if (r != VK_SUCCESS) return cnv_vk_fail(r, d->shader);
    p->cache_hit = -1;
    if (feedback.flags & VK_PIPELINE_CREATION_FEEDBACK_VALID_BIT)
        p->cache_hit = (feedback.flags & VK_PIPELINE_CREATION_FEEDBACK_APPLICATION_PIPELINE_CACHE_HIT_BIT) != 0;
    return CNV_OK;
}

cnv_status cnv_vk_pipeline_create(cnv_vk_context *ctx, const cnv_vk_kernel_desc *desc, cnv_vk_pipeline **out) {
    *out = NULL;
    const cnv_shader_code *code = cnv_shader_find(desc->shader);
    if (!code) return cnv_fail(CNV_ERR_NOT_FOUND, "%s: no such kernel among the embedded shaders", desc->shader);
    uint32_t texel = 0;
    if (desc->texel && ctx->caps.workarounds.texel_reads) {
        char name[80];
        snprintf(name, sizeof name, "%s_texel", desc->shader);
        code = cnv_shader_find(name);
        if (!code) return cnv_fail(CNV_ERR_INTERNAL, "%s: the kernel has no texel build", desc->shader);
        texel = desc->texel;
    }
    if (texel & desc->written)
        return cnv_fail(CNV_ERR_INTERNAL, "%s: a texel operand cannot be written", desc->shader);
    uint32_t local[3];
    for (int i = 0; i < 3; i++) local[i] = desc->local_size[i] ? desc->local_size[i] : 1;
    CNV_TRY(check_limits(&ctx->caps, desc, local));

    cnv_vk_pipeline *p = calloc(1, sizeof *p);
    if (!p) return cnv_fail(CNV_ERR_NOMEM, "%s: pipeline", desc->shader);
    snprintf(p->name, sizeof p->name, "%s", desc->shader);
    p->bindings = desc->bindings;
    p->written = desc->written;
    p->texel = texel;
    p->push_size = desc->push_size;
    memcpy(p->local_size, local, sizeof local);
    cnv_status s = create_layouts(ctx, p);
    if (s == CNV_OK) s = create_pipeline(ctx, code, desc, p);
    if (s != CNV_OK) {
        cnv_vk_pipeline_free(ctx, p);
        return s;
    }
    *out = p;
    return CNV_OK;
}

void cnv_vk_pipeline_free(cnv_vk_context *ctx, cnv_vk_pipeline *p) {
    if (!p) return;
    if (p->pipeline) ctx->vk.vkDestroyPipeline(ctx->device, p->pipeline, NULL);
    if (p->layout) ctx->vk.vkDestroyPipelineLayout(ctx->device, p->layout, NULL);
    if (p->set_layout) ctx->vk.vkDestroyDescriptorSetLayout(ctx->device, p->set_layout, NULL);
    free(p);
}
