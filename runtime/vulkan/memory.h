/* Buffers sub-allocated from large VkDeviceMemory blocks (drivers limit the number of
 * allocations, and each one is slow). Device buffers prefer memory that is both device-local
 * and host-visible (lavapipe, integrated GPUs, resizable BAR): then the host reads and writes
 * them in place; elsewhere transfers go through staging copies. Host-visible blocks stay mapped
 * for their whole life and only coherent memory is used, so no flush or unmap is ever needed.
 * A buffer larger than maxStorageBufferRange is one VkBuffer viewed as several ranges, each of
 * which a descriptor can bind. */
#ifndef CNV_VULKAN_MEMORY_H
#define CNV_VULKAN_MEMORY_H

#include "context.h"

typedef enum cnv_vk_mem_kind {
    CNV_VK_MEM_DEVICE, /* kernel data: device-local first */
    CNV_VK_MEM_HOST,   /* staging and read-back: always host-visible */
} cnv_vk_mem_kind;

typedef struct cnv_vk_buffer {
    VkBuffer buffer;
    VkDeviceSize size;       /* bytes asked for */
    VkDeviceSize range_size; /* bytes per descriptor range (the last may be shorter) */
    void *mapped;            /* host address of byte 0, NULL when the host cannot reach it */
    uint32_t block;          /* the allocator's bookkeeping */
    VkDeviceSize block_offset, block_bytes;
} cnv_vk_buffer;

cnv_status cnv_vk_memory_create(cnv_vk_context *ctx, cnv_vk_memory **out);
/* Frees every block; buffers still alive become invalid. NULL is ignored. */
void cnv_vk_memory_free(cnv_vk_context *ctx, cnv_vk_memory *mem);

cnv_status cnv_vk_buffer_create(cnv_vk_context *ctx, VkDeviceSize size, cnv_vk_mem_kind kind, cnv_vk_buffer **out);
void cnv_vk_buffer_free(cnv_vk_context *ctx, cnv_vk_buffer *buf);

/* Host address of the buffer's first byte (valid until the buffer is freed), or NULL when the
 * buffer is not host-visible: then use cnv_vk_buffer_write/read. */
void *cnv_vk_buffer_map(const cnv_vk_buffer *buf);

/* Number of ranges of at most maxStorageBufferRange bytes, and range i's offset and size. */
uint32_t cnv_vk_buffer_range_count(const cnv_vk_buffer *buf);
void cnv_vk_buffer_range(const cnv_vk_buffer *buf, uint32_t i, VkDeviceSize *offset, VkDeviceSize *size);

/* Host <-> buffer copies, direct when mapped, else through a staging buffer and one submit.
 * The caller makes sure no recorded work that uses the bytes is still running. */
cnv_status cnv_vk_buffer_write(cnv_vk_context *ctx, cnv_vk_buffer *buf, VkDeviceSize offset, const void *src,
                               size_t bytes);
cnv_status cnv_vk_buffer_read(cnv_vk_context *ctx, const cnv_vk_buffer *buf, VkDeviceSize offset, void *dst,
                              size_t bytes);

#endif
