#include "command.h"

#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "fault.h"

struct cnv_vk_recorder {
    cnv_vk_context *ctx;
    VkCommandBuffer cmd;
    VkFence fence;
    VkDescriptorPool descriptors;
    VkQueryPool queries; /* VK_NULL_HANDLE without profiling */
    uint32_t capacity, dispatches, barriers;
    int recording, ended;
    /* Buffers written / read since the last barrier: the hazards a next dispatch may have. */
    VkBuffer *written, *read;
    uint32_t n_written, n_read;
    /* Texel views of this recording's texel bindings: they must outlive its submits. */
    VkBufferView *views;
    uint32_t n_views;
    /* Every buffer the recording binds (cnv_vk_recorder_uses), and whether a submit of it may
     * still be running (cnv_vk_recorder_submit_async). */
    VkBuffer *bound;
    uint32_t n_bound;
    int pending;
};

static void destroy_views(cnv_vk_recorder *rec) {
    for (uint32_t i = 0; i < rec->n_views; i++) rec->ctx->vk.vkDestroyBufferView(rec->ctx->device, rec->views[i], NULL);
    rec->n_views = 0;
}

static void global_barrier(VkCommandBuffer cmd, const cnv_vk_context *ctx, VkPipelineStageFlags src_stage,
                           VkAccessFlags src_access, VkPipelineStageFlags dst_stage, VkAccessFlags dst_access) {
    VkMemoryBarrier b = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = src_access, .dstAccessMask = dst_access};
    ctx->vk.vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 1, &b, 0, NULL, 0, NULL);
}

/* Submits one command buffer signalling fence; every submit of the runtime goes through here. */
static cnv_status submit(cnv_vk_context *ctx, VkCommandBuffer cmd, VkFence fence) {
    VkResult r = ctx->vk.vkResetFences(ctx->device, 1, &fence);
    if (r != VK_SUCCESS) return cnv_vk_fail(r, "vkResetFences");
    VkSubmitInfo info = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &cmd};
    r = ctx->vk.vkQueueSubmit(ctx->queue, 1, &info, fence);
    if (r != VK_SUCCESS) return cnv_vk_fail(r, "vkQueueSubmit");
    ctx->submits++;
    ctx->newest = fence;
    return CNV_OK;
}

/* Waits for fence, counting the waits that leave the device idle (ctx->host_waits): those for
 * the newest submit while it still runs. Waiting for an older one, a newer one keeps the device
 * busy meanwhile: a round trip costs device time, backpressure does not. */
static cnv_status wait_fence(cnv_vk_context *ctx, VkFence fence) {
    VkResult r = ctx->vk.vkGetFenceStatus(ctx->device, fence);
    if (r == VK_NOT_READY) {
        if (fence == ctx->newest) ctx->host_waits++;
        r = ctx->vk.vkWaitForFences(ctx->device, 1, &fence, VK_TRUE, UINT64_MAX);
    }
    if (r == VK_SUCCESS) r = cnv_vk_fault(CNV_VK_FAULT_SUBMIT);
    if (r != VK_SUCCESS) return cnv_vk_fail(r, "vkWaitForFences");
    return CNV_OK;
}

static cnv_status submit_and_wait(cnv_vk_context *ctx, VkCommandBuffer cmd, VkFence fence) {
    CNV_TRY(submit(ctx, cmd, fence));
    return wait_fence(ctx, fence);
}

static cnv_status new_command_buffer(cnv_vk_context *ctx, VkCommandBuffer *cmd, VkFence *fence) {
    VkCommandBufferAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = ctx->command_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VkResult r = ctx->vk.vkAllocateCommandBuffers(ctx->device, &info, cmd);
    if (r != VK_SUCCESS) return cnv_vk_fail(r, "vkAllocateCommandBuffers");
    VkFenceCreateInfo fence_info = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    r = ctx->vk.vkCreateFence(ctx->device, &fence_info, NULL, fence);
    if (r != VK_SUCCESS) return cnv_vk_fail(r, "vkCreateFence");
    return CNV_OK;
}

static cnv_status create_pools(cnv_vk_recorder *rec) {
    cnv_vk_context *ctx = rec->ctx;
    VkDescriptorPoolSize sizes[2] = {{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, rec->capacity * CNV_VK_MAX_BINDINGS},
                                     {VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, rec->capacity * CNV_VK_MAX_BINDINGS}};
    VkDescriptorPoolCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = rec->capacity,
        .poolSizeCount = 2,
        .pPoolSizes = sizes,
    };
    VkResult r = ctx->vk.vkCreateDescriptorPool(ctx->device, &info, NULL, &rec->descriptors);
    if (r != VK_SUCCESS) return cnv_vk_fail(r, "vkCreateDescriptorPool");
    if (!ctx->profiling) return CNV_OK;
    VkQueryPoolCreateInfo q = {
        .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO, .queryType = VK_QUERY_TYPE_TIMESTAMP, .queryCount = 2 * rec->capacity};
    r = ctx->vk.vkCreateQueryPool(ctx->device, &q, NULL, &rec->queries);
    if (r != VK_SUCCESS) return cnv_vk_fail(r, "vkCreateQueryPool");
    return CNV_OK;
}

cnv_status cnv_vk_recorder_create(cnv_vk_context *ctx, uint32_t max_dispatches, cnv_vk_recorder **out) {
    *out = NULL;
    if (max_dispatches == 0) return cnv_fail(CNV_ERR_ARG, "command recorder: room for 0 dispatches");
    cnv_vk_recorder *rec = calloc(1, sizeof *rec);
    if (!rec) return cnv_fail(CNV_ERR_NOMEM, "command recorder");
    rec->ctx = ctx;
    rec->capacity = max_dispatches;
    rec->written = calloc((size_t)max_dispatches * CNV_VK_MAX_BINDINGS, sizeof *rec->written);
    rec->read = calloc((size_t)max_dispatches * CNV_VK_MAX_BINDINGS, sizeof *rec->read);
    rec->views = calloc((size_t)max_dispatches * CNV_VK_MAX_BINDINGS, sizeof *rec->views);
    rec->bound = calloc((size_t)max_dispatches * CNV_VK_MAX_BINDINGS, sizeof *rec->bound);
    cnv_status s = rec->written && rec->read && rec->views && rec->bound ? CNV_OK : cnv_fail(CNV_ERR_NOMEM, "command recorder");
    if (s == CNV_OK) s = new_command_buffer(ctx, &rec->cmd, &rec->fence);
    if (s == CNV_OK) s = create_pools(rec);
    if (s != CNV_OK) {
        cnv_vk_recorder_free(rec);
        return s;
    }
    *out = rec;
    return CNV_OK;
}

void cnv_vk_recorder_free(cnv_vk_recorder *rec) {
    if (!rec) return;
    cnv_vk_context *ctx = rec->ctx;
    if (rec->pending) ctx->vk.vkWaitForFences(ctx->device, 1, &rec->fence, VK_TRUE, UINT64_MAX);
    if (rec->views) destroy_views(rec);
    if (rec->queries) ctx->vk.vkDestroyQueryPool(ctx->device, rec->queries, NULL);
    if (rec->descriptors) ctx->vk.vkDestroyDescriptorPool(ctx->device, rec->descriptors, NULL);
    if (rec->fence) ctx->vk.vkDestroyFence(ctx->device, rec->fence, NULL);
    if (rec->cmd) ctx->vk.vkFreeCommandBuffers(ctx->device, ctx->command_pool, 1, &rec->cmd);
    free(rec->written);
    free(rec->read);
    free(rec->views);
    free(rec->bound);
    free(rec);
}

cnv_status cnv_vk_recorder_begin(cnv_vk_recorder *rec) {
    cnv_vk_context *ctx = rec->ctx;
    CNV_TRY(cnv_vk_recorder_wait(rec)); /* a command buffer still running cannot be recorded again */
    rec->recording = rec->ended = 0;
    rec->dispatches = rec->barriers = rec->n_written = rec->n_read = rec->n_bound = 0;
    destroy_views(rec);
    VkResult r = ctx->vk.vkResetDescriptorPool(ctx->device, rec->descriptors, 0);
    if (r != VK_SUCCESS) return cnv_vk_fail(r, "vkResetDescriptorPool");
    VkCommandBufferBeginInfo info = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    r = ctx->vk.vkBeginCommandBuffer(rec->cmd, &info);
    if (r != VK_SUCCESS) return cnv_vk_fail(r, "vkBeginCommandBuffer");
    /* Replays read what the previous submission (or a staging copy) wrote: order them first.
     * Host writes need nothing: vkQueueSubmit makes them visible. */
    global_barrier(rec->cmd, ctx, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                   VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                   VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
    if (rec->queries) ctx->vk.vkCmdResetQueryPool(rec->cmd, rec->queries, 0, 2 * rec->capacity);
    rec->recording = 1;
    return CNV_OK;
}

static int contains(const VkBuffer *set, uint32_t n, VkBuffer b) {
    for (uint32_t i = 0; i < n; i++)
        if (set[i] == b) return 1;
    return 0;
}

/* Inserts the one barrier this dispatch needs, if any, then notes what it reads and writes. */
static void track_hazards(cnv_vk_recorder *rec, const cnv_vk_pipeline *pipe, const cnv_vk_binding *bindings) {
    int hazard = 0;
    for (uint32_t i = 0; i < pipe->bindings && !hazard; i++) {
        VkBuffer b = bindings[i].buf->buffer;
        int writes = pipe->written >> i & 1;
        hazard = contains(rec->written, rec->n_written, b) || (writes && contains(rec->read, rec->n_read, b));
    }
    if (hazard) {
        global_barrier(rec->cmd, rec->ctx, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                       VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
        rec->barriers++;
        rec->n_written = rec->n_read = 0;
    }
    for (uint32_t i = 0; i < pipe->bindings; i++) {
        VkBuffer b = bindings[i].buf->buffer;
        if (!contains(rec->bound, rec->n_bound, b)) rec->bound[rec->n_bound++] = b;
        if (pipe->written >> i & 1) {
            if (!contains(rec->written, rec->n_written, b)) rec->written[rec->n_written++] = b;
        } else if (!contains(rec->read, rec->n_read, b)) {
            rec->read[rec->n_read++] = b;
        }
    }
}

static cnv_status check_dispatch(const cnv_vk_recorder *rec, const cnv_vk_pipeline *pipe,
                                 const cnv_vk_binding *bindings, const uint32_t groups[3]) {
    const cnv_vk_caps *caps = &rec->ctx->caps;
    if (!rec->recording) return cnv_fail(CNV_ERR_INTERNAL, "%s: dispatch outside begin/end", pipe->name);
    if (rec->dispatches == rec->capacity)
        return cnv_fail(CNV_ERR_INTERNAL, "%s: recorder full (%u dispatches)", pipe->name, rec->capacity);
    for (int d = 0; d < 3; d++)
        if (groups[d] == 0 || groups[d] > caps->max_workgroup_count[d])
            return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: %u workgroups in dimension %d (device: 1..%u)", pipe->name,
                            groups[d], d, caps->max_workgroup_count[d]);
    for (uint32_t i = 0; i < pipe->bindings; i++) {
        const cnv_vk_binding *b = &bindings[i];
        VkDeviceSize size = b->size ? b->size : b->buf->size - b->offset;
        const int texel = pipe->texel >> i & 1;
        const VkDeviceSize align = texel ? caps->min_texel_buffer_offset_alignment : caps->min_storage_buffer_offset_alignment;
        if (b->offset >= b->buf->size || size > b->buf->size - b->offset || b->offset % align || (texel && size % 4))
            return cnv_fail(CNV_ERR_INTERNAL, "%s: binding %u: bytes %llu+%llu do not fit the buffer or alignment",
                            pipe->name, i, (unsigned long long)b->offset, (unsigned long long)size);
        if (texel && size / 4 > caps->max_texel_buffer_elements)
            return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: binding %u: %llu floats exceed maxTexelBufferElements %u", pipe->name,
                            i, (unsigned long long)(size / 4), caps->max_texel_buffer_elements);
        if (!texel && size > caps->max_storage_buffer_range)
            return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: binding %u: %llu bytes exceed maxStorageBufferRange %llu",
                            pipe->name, i, (unsigned long long)size, (unsigned long long)caps->max_storage_buffer_range);
    }
    return CNV_OK;
}

cnv_status cnv_vk_recorder_dispatch(cnv_vk_recorder *rec, const cnv_vk_pipeline *pipe, const cnv_vk_binding *bindings,
                                    const void *push, const uint32_t groups[3]) {
    cnv_vk_context *ctx = rec->ctx;
    CNV_TRY(check_dispatch(rec, pipe, bindings, groups));

    VkDescriptorSet set;
    VkDescriptorSetAllocateInfo alloc = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = rec->descriptors,
        .descriptorSetCount = 1,
        .pSetLayouts = &pipe->set_layout,
    };
    VkResult r = ctx->vk.vkAllocateDescriptorSets(ctx->device, &alloc, &set);
    if (r != VK_SUCCESS) return cnv_vk_fail(r, "vkAllocateDescriptorSets");
    VkDescriptorBufferInfo infos[CNV_VK_MAX_BINDINGS];
    VkWriteDescriptorSet writes[CNV_VK_MAX_BINDINGS];
    for (uint32_t i = 0; i < pipe->bindings; i++) {
        const cnv_vk_binding *b = &bindings[i];
        infos[i] = (VkDescriptorBufferInfo){b->buf->buffer, b->offset, b->size ? b->size : b->buf->size - b->offset};
        writes[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstSet = set,
            .dstBinding = i,
            .descriptorCount = 1,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .pBufferInfo = &infos[i],
        };
        if (pipe->texel >> i & 1) {
            VkBufferViewCreateInfo view = {.sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
                                           .buffer = infos[i].buffer,
                                           .format = VK_FORMAT_R32_SFLOAT,
                                           .offset = infos[i].offset,
                                           .range = infos[i].range};
            VkBufferView *v = &rec->views[rec->n_views];
            r = ctx->vk.vkCreateBufferView(ctx->device, &view, NULL, v);
            if (r != VK_SUCCESS) return cnv_vk_fail(r, "vkCreateBufferView");
            rec->n_views++;
            writes[i].descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
            writes[i].pBufferInfo = NULL;
            writes[i].pTexelBufferView = v;
        }
    }
    ctx->vk.vkUpdateDescriptorSets(ctx->device, pipe->bindings, writes, 0, NULL);

    track_hazards(rec, pipe, bindings);
    VkCommandBuffer cmd = rec->cmd;
    ctx->vk.vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipe->pipeline);
    ctx->vk.vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipe->layout, 0, 1, &set, 0, NULL);
    if (pipe->push_size)
        ctx->vk.vkCmdPushConstants(cmd, pipe->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, pipe->push_size, push);
    uint32_t q = 2 * rec->dispatches;
    if (rec->queries) ctx->vk.vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, rec->queries, q);
    ctx->vk.vkCmdDispatch(cmd, groups[0], groups[1], groups[2]);
    if (rec->queries) ctx->vk.vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, rec->queries, q + 1);
    rec->dispatches++;
    return CNV_OK;
}

cnv_status cnv_vk_recorder_end(cnv_vk_recorder *rec) {
    if (!rec->recording) return cnv_fail(CNV_ERR_INTERNAL, "command recorder: end without begin");
    /* Results are read by the host (mapped memory) or copied out (staging). */
    global_barrier(rec->cmd, rec->ctx, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                   VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                   VK_ACCESS_HOST_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT);
    VkResult r = rec->ctx->vk.vkEndCommandBuffer(rec->cmd);
    rec->recording = 0;
    if (r != VK_SUCCESS) return cnv_vk_fail(r, "vkEndCommandBuffer");
    rec->ended = 1;
    return CNV_OK;
}

cnv_status cnv_vk_recorder_submit(cnv_vk_recorder *rec) {
    CNV_TRY(cnv_vk_recorder_submit_async(rec));
    return cnv_vk_recorder_wait(rec);
}

cnv_status cnv_vk_recorder_submit_async(cnv_vk_recorder *rec) {
    if (!rec->ended) return cnv_fail(CNV_ERR_INTERNAL, "command recorder: submit before end");
    CNV_TRY(cnv_vk_recorder_wait(rec)); /* one submit of a command buffer at a time */
    CNV_TRY(submit(rec->ctx, rec->cmd, rec->fence));
    rec->pending = 1;
    return CNV_OK;
}

cnv_status cnv_vk_recorder_wait(cnv_vk_recorder *rec) {
    if (!rec->pending) return CNV_OK;
    rec->pending = 0;
    return wait_fence(rec->ctx, rec->fence);
}

int cnv_vk_recorder_running(const cnv_vk_recorder *rec) { return rec->pending; }

int cnv_vk_recorder_uses(const cnv_vk_recorder *rec, const cnv_vk_buffer *buf) {
    return contains(rec->bound, rec->n_bound, buf->buffer);
}

uint32_t cnv_vk_recorder_dispatches(const cnv_vk_recorder *rec) { return rec->dispatches; }
uint32_t cnv_vk_recorder_barriers(const cnv_vk_recorder *rec) { return rec->barriers; }

cnv_status cnv_vk_recorder_timings(cnv_vk_recorder *rec, double *ms, uint32_t cap, uint32_t *written) {
    *written = 0;
    if (!rec->queries || !rec->ended || rec->dispatches == 0) return CNV_OK;
    cnv_vk_context *ctx = rec->ctx;
    uint32_t n = rec->dispatches < cap ? rec->dispatches : cap;
    uint64_t *stamps = malloc(2 * (size_t)n * sizeof *stamps);
    if (!stamps) return cnv_fail(CNV_ERR_NOMEM, "timestamps");
    VkResult r = ctx->vk.vkGetQueryPoolResults(ctx->device, rec->queries, 0, 2 * n, 2 * n * sizeof *stamps, stamps,
                                               sizeof *stamps, VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
    if (r == VK_SUCCESS)
        for (uint32_t i = 0; i < n; i++)
            ms[i] = (double)(stamps[2 * i + 1] - stamps[2 * i]) * ctx->caps.timestamp_period_ns * 1e-6;
    free(stamps);
    if (r != VK_SUCCESS) return cnv_vk_fail(r, "vkGetQueryPoolResults");
    *written = n;
    return CNV_OK;
}

cnv_status cnv_vk_copy_buffer(cnv_vk_context *ctx, const cnv_vk_buffer *src, VkDeviceSize src_offset,
                              const cnv_vk_buffer *dst, VkDeviceSize dst_offset, VkDeviceSize bytes) {
    VkCommandBuffer cmd = VK_NULL_HANDLE;
    VkFence fence = VK_NULL_HANDLE;
    cnv_status s = new_command_buffer(ctx, &cmd, &fence);
    if (s == CNV_OK) {
        VkCommandBufferBeginInfo begin = {
            .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO, .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
        VkResult r = ctx->vk.vkBeginCommandBuffer(cmd, &begin);
        if (r == VK_SUCCESS) {
            /* Earlier kernels may have written the source; later ones and the host read the copy. */
            global_barrier(cmd, ctx, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                           VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
            VkBufferCopy region = {src_offset, dst_offset, bytes};
            ctx->vk.vkCmdCopyBuffer(cmd, src->buffer, dst->buffer, 1, &region);
            global_barrier(cmd, ctx, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                           VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                           VK_ACCESS_HOST_READ_BIT | VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
            r = ctx->vk.vkEndCommandBuffer(cmd);
        }
        s = r == VK_SUCCESS ? submit_and_wait(ctx, cmd, fence) : cnv_vk_fail(r, "copy command buffer");
    }
    if (fence) ctx->vk.vkDestroyFence(ctx->device, fence, NULL);
    if (cmd) ctx->vk.vkFreeCommandBuffers(ctx->device, ctx->command_pool, 1, &cmd);
    return s;
}
