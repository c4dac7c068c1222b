#include "memory.h"

#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "core/status.h"
#include "fault.h"

/* Large enough that a model's tensors need few allocations, small enough for any device. */
#define BLOCK_BYTES ((VkDeviceSize)64 << 20)

typedef struct free_range {
    VkDeviceSize offset, size;
} free_range;

typedef struct mem_block {
    VkDeviceMemory memory; /* VK_NULL_HANDLE: slot unused */
    uint32_t type;
    VkDeviceSize size;
    void *mapped;     /* whole block, when host-visible */
    free_range *free; /* sorted by offset, never adjacent */
    uint32_t n_free, cap_free;
    uint32_t live;    /* buffers placed in this block */
    int dedicated;    /* made for one oversized buffer: released when that buffer is */
} mem_block;

struct cnv_vk_memory {
    VkPhysicalDeviceMemoryProperties props;
    mem_block *blocks;
    uint32_t n_blocks;
};

static VkDeviceSize align_up(VkDeviceSize v, VkDeviceSize a) { return (v + a - 1) / a * a; }

/* ---- memory types ---- */

static int find_type(const VkPhysicalDeviceMemoryProperties *p, uint32_t allowed, VkMemoryPropertyFlags required,
                     VkMemoryPropertyFlags preferred) {
    for (uint32_t t = 0; t < p->memoryTypeCount; t++)
        if ((allowed >> t & 1) && (p->memoryTypes[t].propertyFlags & (required | preferred)) == (required | preferred))
            return (int)t;
    for (uint32_t t = 0; t < p->memoryTypeCount; t++)
        if ((allowed >> t & 1) && (p->memoryTypes[t].propertyFlags & required) == required) return (int)t;
    return -1;
}

/* Device-local memory that the host can also map is preferred only when it sits in the largest
 * device-local heap (unified memory, resizable BAR): the small 256 MiB BAR window of a discrete
 * GPU would run out. */
static VkMemoryPropertyFlags device_preference(const VkPhysicalDeviceMemoryProperties *p) {
    const VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    VkDeviceSize largest = 0, largest_mappable = 0;
    for (uint32_t t = 0; t < p->memoryTypeCount; t++) {
        const VkMemoryType *mt = &p->memoryTypes[t];
        if (!(mt->propertyFlags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT)) continue;
        VkDeviceSize heap = p->memoryHeaps[mt->heapIndex].size;
        if (heap > largest) largest = heap;
        if ((mt->propertyFlags & host) == host && heap > largest_mappable) largest_mappable = heap;
    }
    return largest_mappable == largest ? host : 0;
}

static int type_for(const cnv_vk_memory *mem, cnv_vk_mem_kind kind, uint32_t allowed) {
    if (kind == CNV_VK_MEM_HOST)
        return find_type(&mem->props, allowed, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                         VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
    return find_type(&mem->props, allowed, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, device_preference(&mem->props));
}

/* ---- free lists ---- */

static int insert_range(mem_block *b, uint32_t at, free_range r) {
    if (b->n_free == b->cap_free) {
        uint32_t cap = b->cap_free ? 2 * b->cap_free : 8;
        free_range *f = realloc(b->free, cap * sizeof *f);
        if (!f) return 0;
        b->free = f;
        b->cap_free = cap;
    }
    memmove(b->free + at + 1, b->free + at, (b->n_free - at) * sizeof *b->free);
    b->free[at] = r;
    b->n_free++;
    return 1;
}

static void remove_range(mem_block *b, uint32_t at) {
    memmove(b->free + at, b->free + at + 1, (b->n_free - at - 1) * sizeof *b->free);
    b->n_free--;
}

/* First fit. Returns 1 and the aligned offset, 0 when nothing fits (or no memory for the list). */
static int block_take(mem_block *b, VkDeviceSize size, VkDeviceSize align, VkDeviceSize *offset) {
    for (uint32_t i = 0; i < b->n_free; i++) {
        free_range f = b->free[i];
        VkDeviceSize start = align_up(f.offset, align), end = f.offset + f.size;
        if (start + size > end) continue;
        VkDeviceSize lead = start - f.offset, tail = end - (start + size);
        if (lead && tail) {
            if (!insert_range(b, i + 1, (free_range){start + size, tail})) return 0;
            b->free[i].size = lead;
        } else if (lead) {
            b->free[i].size = lead;
        } else if (tail) {
            b->free[i] = (free_range){start + size, tail};
        } else {
            remove_range(b, i);
        }
        *offset = start;
        return 1;
    }
    return 0;
}

/* Returns a range to the list, merging with its neighbours. */
static int block_give(mem_block *b, VkDeviceSize offset, VkDeviceSize size) {
    uint32_t at = 0;
    while (at < b->n_free && b->free[at].offset < offset) at++;
    int joins_prev = at > 0 && b->free[at - 1].offset + b->free[at - 1].size == offset;
    int joins_next = at < b->n_free && offset + size == b->free[at].offset;
    if (joins_prev && joins_next) {
        b->free[at - 1].size += size + b->free[at].size;
        remove_range(b, at);
    } else if (joins_prev) {
        b->free[at - 1].size += size;
    } else if (joins_next) {
        b->free[at].offset = offset;
        b->free[at].size += size;
    } else {
        return insert_range(b, at, (free_range){offset, size});
    }
    return 1;
}

/* ---- blocks ---- */

static void block_release(cnv_vk_context *ctx, mem_block *b) {
    if (b->memory) ctx->vk.vkFreeMemory(ctx->device, b->memory, NULL); /* unmaps implicitly */
    free(b->free);
    memset(b, 0, sizeof *b);
}

static cnv_status block_new(cnv_vk_context *ctx, cnv_vk_memory *mem, uint32_t type, VkDeviceSize size, int dedicated,
                            uint32_t *index) {
    uint32_t slot = 0;
    while (slot < mem->n_blocks && mem->blocks[slot].memory) slot++;
    if (slot == mem->n_blocks) {
        mem_block *grown = realloc(mem->blocks, (mem->n_blocks + 1) * sizeof *grown);
        if (!grown) return cnv_fail(CNV_ERR_NOMEM, "Vulkan memory block list");
        mem->blocks = grown;
        memset(&mem->blocks[mem->n_blocks++], 0, sizeof *grown);
    }
    mem_block *b = &mem->blocks[slot];
    VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = size, .memoryTypeIndex = type};
    VkResult r = cnv_vk_fault(CNV_VK_FAULT_ALLOCATE);
    if (r == VK_SUCCESS) r = ctx->vk.vkAllocateMemory(ctx->device, &info, NULL, &b->memory);
    if (r != VK_SUCCESS) {
        b->memory = VK_NULL_HANDLE;
        return cnv_vk_fail(r, "vkAllocateMemory");
    }
    b->type = type;
    b->size = size;
    b->dedicated = dedicated;
    if (mem->props.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
        r = ctx->vk.vkMapMemory(ctx->device, b->memory, 0, VK_WHOLE_SIZE, 0, &b->mapped);
        if (r != VK_SUCCESS) {
            block_release(ctx, b);
            return cnv_vk_fail(r, "vkMapMemory");
        }
    }
    if (!insert_range(b, 0, (free_range){0, size})) {
        block_release(ctx, b);
        return cnv_fail(CNV_ERR_NOMEM, "Vulkan memory free list");
    }
    *index = slot;
    return CNV_OK;
}

/* Places `req` in an existing block of the type or in a new one. */
static cnv_status place(cnv_vk_context *ctx, cnv_vk_memory *mem, uint32_t type, const VkMemoryRequirements *req,
                        uint32_t *block, VkDeviceSize *offset) {
    for (uint32_t i = 0; i < mem->n_blocks; i++) {
        mem_block *b = &mem->blocks[i];
        if (b->memory && b->type == type && !b->dedicated && block_take(b, req->size, req->alignment, offset)) {
            *block = i;
            return CNV_OK;
        }
    }
    int dedicated = req->size > BLOCK_BYTES;
    CNV_TRY(block_new(ctx, mem, type, dedicated ? req->size : BLOCK_BYTES, dedicated, block));
    if (!block_take(&mem->blocks[*block], req->size, req->alignment, offset)) {
        *block = UINT32_MAX;
        return cnv_fail(CNV_ERR_NOMEM, "Vulkan memory free list");
    }
    return CNV_OK;
}

/* ---- public ---- */

cnv_status cnv_vk_memory_create(cnv_vk_context *ctx, cnv_vk_memory **out) {
    cnv_vk_memory *mem = calloc(1, sizeof *mem);
    if (!mem) return cnv_fail(CNV_ERR_NOMEM, "Vulkan memory allocator");
    vkGetPhysicalDeviceMemoryProperties(ctx->physical, &mem->props);
    *out = mem;
    return CNV_OK;
}

void cnv_vk_memory_free(cnv_vk_context *ctx, cnv_vk_memory *mem) {
    if (!mem) return;
    for (uint32_t i = 0; i < mem->n_blocks; i++) block_release(ctx, &mem->blocks[i]);
    free(mem->blocks);
    free(mem);
}

static VkDeviceSize range_size_for(const cnv_vk_caps *caps, VkDeviceSize size) {
    if (size <= caps->max_storage_buffer_range) return size;
    /* Each range starts at a legal descriptor offset and holds whole vec4s. */
    VkDeviceSize align = caps->min_storage_buffer_offset_alignment > 16 ? caps->min_storage_buffer_offset_alignment : 16;
    return caps->max_storage_buffer_range / align * align;
}

cnv_status cnv_vk_buffer_create(cnv_vk_context *ctx, VkDeviceSize size, cnv_vk_mem_kind kind, cnv_vk_buffer **out) {
    *out = NULL;
    if (size == 0) return cnv_fail(CNV_ERR_ARG, "Vulkan buffer: size 0");
    cnv_vk_memory *mem = ctx->memory;
    cnv_vk_buffer *buf = calloc(1, sizeof *buf);
    if (!buf) return cnv_fail(CNV_ERR_NOMEM, "Vulkan buffer");
    buf->size = size;
    buf->range_size = range_size_for(&ctx->caps, size);
    buf->block = UINT32_MAX;

    VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
                 VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkResult r = ctx->vk.vkCreateBuffer(ctx->device, &info, NULL, &buf->buffer);
    cnv_status s = r == VK_SUCCESS ? CNV_OK : cnv_vk_fail(r, "vkCreateBuffer");
    VkMemoryRequirements req = {0};
    if (s == CNV_OK) {
        ctx->vk.vkGetBufferMemoryRequirements(ctx->device, buf->buffer, &req);
        int type = type_for(mem, kind, req.memoryTypeBits);
        if (type < 0) s = cnv_fail(CNV_ERR_DEVICE, "%s: no memory type fits a buffer", ctx->caps.device_name);
        else s = place(ctx, mem, (uint32_t)type, &req, &buf->block, &buf->block_offset);
    }
    if (s == CNV_OK) {
        buf->block_bytes = req.size;
        mem_block *b = &mem->blocks[buf->block];
        b->live++;
        r = ctx->vk.vkBindBufferMemory(ctx->device, buf->buffer, b->memory, buf->block_offset);
        if (r != VK_SUCCESS) s = cnv_vk_fail(r, "vkBindBufferMemory");
        else if (b->mapped && !(kind == CNV_VK_MEM_DEVICE && ctx->force_staging))
            buf->mapped = (char *)b->mapped + buf->block_offset;
    }
    if (s != CNV_OK) {
        cnv_vk_buffer_free(ctx, buf);
        return s;
    }
    *out = buf;
    return CNV_OK;
}

void cnv_vk_buffer_free(cnv_vk_context *ctx, cnv_vk_buffer *buf) {
    if (!buf) return;
    if (buf->buffer) ctx->vk.vkDestroyBuffer(ctx->device, buf->buffer, NULL);
    if (buf->block != UINT32_MAX) {
        mem_block *b = &ctx->memory->blocks[buf->block];
        b->live--;
        if (b->dedicated && b->live == 0) block_release(ctx, b);
        /* Without memory for the list entry the range only leaks until the context ends. */
        else (void)block_give(b, buf->block_offset, buf->block_bytes);
    }
    free(buf);
}

void *cnv_vk_buffer_map(const cnv_vk_buffer *buf) { return buf->mapped; }

uint32_t cnv_vk_buffer_range_count(const cnv_vk_buffer *buf) {
    return (uint32_t)((buf->size + buf->range_size - 1) / buf->range_size);
}

void cnv_vk_buffer_range(const cnv_vk_buffer *buf, uint32_t i, VkDeviceSize *offset, VkDeviceSize *size) {
    *offset = (VkDeviceSize)i * buf->range_size;
    VkDeviceSize left = buf->size - *offset;
    *size = left < buf->range_size ? left : buf->range_size;
}

static cnv_status check_span(const cnv_vk_buffer *buf, VkDeviceSize offset, size_t bytes, const char *what) {
    if (offset > buf->size || bytes > buf->size - offset)
        return cnv_fail(CNV_ERR_ARG, "Vulkan buffer %s: bytes %llu..%llu past its size %llu", what,
                        (unsigned long long)offset, (unsigned long long)(offset + bytes),
                        (unsigned long long)buf->size);
    return CNV_OK;
}

cnv_status cnv_vk_buffer_write(cnv_vk_context *ctx, cnv_vk_buffer *buf, VkDeviceSize offset, const void *src,
                               size_t bytes) {
    CNV_TRY(check_span(buf, offset, bytes, "write"));
    if (bytes == 0) return CNV_OK;
    if (buf->mapped) {
        memcpy((char *)buf->mapped + offset, src, bytes);
        return CNV_OK;
    }
    cnv_vk_buffer *staging;
    CNV_TRY(cnv_vk_buffer_create(ctx, bytes, CNV_VK_MEM_HOST, &staging));
    memcpy(staging->mapped, src, bytes);
    cnv_status s = cnv_vk_copy_buffer(ctx, staging, 0, buf, offset, bytes);
    cnv_vk_buffer_free(ctx, staging);
    return s;
}

cnv_status cnv_vk_buffer_read(cnv_vk_context *ctx, const cnv_vk_buffer *buf, VkDeviceSize offset, void *dst,
                              size_t bytes) {
    CNV_TRY(check_span(buf, offset, bytes, "read"));
    if (bytes == 0) return CNV_OK;
    if (buf->mapped) {
        memcpy(dst, (const char *)buf->mapped + offset, bytes);
        return CNV_OK;
    }
    cnv_vk_buffer *staging;
    CNV_TRY(cnv_vk_buffer_create(ctx, bytes, CNV_VK_MEM_HOST, &staging));
    cnv_status s = cnv_vk_copy_buffer(ctx, buf, offset, staging, 0, bytes);
    if (s == CNV_OK) memcpy(dst, staging->mapped, bytes);
    cnv_vk_buffer_free(ctx, staging);
    return s;
}
