/* One capability table per Vulkan device, read from the driver once, so kernels never assume a
 * vendor: every limit a kernel needs (workgroup sizes, shared memory, storage buffer range,
 * subgroup size, timestamps) comes from here. Driver quirks live in one workaround table
 * (caps.c), keyed by vendor and driver. */
#ifndef CNV_VULKAN_CAPS_H
#define CNV_VULKAN_CAPS_H

#include <stddef.h>
#include <stdint.h>

#include <volk.h>

#include "cnnvis/cnnvis.h"

/* Known quirks of a driver, applied by cnv_vk_caps_read from the table in caps.c. */
typedef struct cnv_vk_workarounds {
    uint32_t preferred_workgroup_size; /* 1D invocations per workgroup that run well */
    int slow_shared_memory;            /* shared memory + barriers cost more than they save */
    int texel_reads;                   /* kernels read operands faster through uniform texel buffers */
    const char *note;                  /* why, for `cnnvis devices`; "" when none */
} cnv_vk_workarounds;

typedef struct cnv_vk_memory_heap {
    uint64_t size;
    int device_local;
    int host_visible; /* some memory type of this heap is host-visible and coherent */
} cnv_vk_memory_heap;

typedef struct cnv_vk_caps {
    uint32_t vendor_id, device_id;
    const char *vendor; /* "AMD", "NVIDIA", "Intel", "Apple", "Mesa", ... or "unknown" */
    char device_name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
    char driver_name[VK_MAX_DRIVER_NAME_SIZE]; /* "" when the driver does not say */
    char driver_info[VK_MAX_DRIVER_INFO_SIZE];
    uint32_t driver_id; /* VkDriverId, 0 when unknown */
    uint32_t api_version, driver_version;
    VkPhysicalDeviceType type;
    uint8_t pipeline_cache_uuid[VK_UUID_SIZE];

    uint64_t max_storage_buffer_range;
    uint64_t min_storage_buffer_offset_alignment;
    uint32_t max_texel_buffer_elements;
    uint64_t min_texel_buffer_offset_alignment;
    uint32_t max_workgroup_size[3];
    uint32_t max_workgroup_invocations;
    uint32_t max_workgroup_count[3];
    uint32_t max_shared_memory;
    uint32_t max_push_constants_size;
    uint32_t max_bound_descriptor_sets;

    uint32_t subgroup_size; /* 0 when unknown */
    /* Streaming multiprocessors (NVIDIA, VK_NV_shader_sm_builtins) or compute units (AMD,
     * VK_AMD_shader_core_properties); 0 where the driver does not say (tiles.c splits the
     * reduction of products too small to fill them only when it is known). */
    uint32_t compute_units;
    int subgroup_in_compute; /* subgroup operations are available in compute shaders */

    uint32_t compute_queue_family; /* a queue family with compute; UINT32_MAX when none */
    int timestamps;                /* the compute queue can write timestamps */
    float timestamp_period_ns;     /* nanoseconds per timestamp tick */

    uint32_t heap_count;
    cnv_vk_memory_heap heaps[VK_MAX_MEMORY_HEAPS];

    int shader_float16, shader_int8;       /* arithmetic in shaders */
    int storage_16bit, storage_8bit;       /* 16/8-bit values in storage buffers */
    int portability_subset;                /* VK_KHR_portability_subset is present (MoltenVK) */
    int pipeline_creation_feedback;        /* reports pipeline-cache hits */

    cnv_vk_workarounds workarounds;
    int limits_forced; /* cnv_vk_caps_cap was applied */
} cnv_vk_caps;

/* Reads every field from the physical device (the instance must be Vulkan 1.1 or newer). Fails
 * with CNV_ERR_UNSUPPORTED for devices older than Vulkan 1.1 or without a compute queue. */
cnv_status cnv_vk_caps_read(VkPhysicalDevice pd, cnv_vk_caps *caps);

/* Forced limits: lowers the table to those of a small device (workgroup 128 invocations,
 * 16 KiB shared memory, 64 MiB storage-buffer range, operands read from storage buffers), so
 * tests on a generous device exercise the paths a smaller vendor needs (buffer splitting,
 * smaller tiles, the storage-buffer build of kernels that have a texel one). Never raises a
 * limit. */
void cnv_vk_caps_cap(cnv_vk_caps *caps);

/* "discrete GPU", "integrated GPU", "virtual GPU", "CPU", "other". */
const char *cnv_vk_device_type_name(VkPhysicalDeviceType type);

/* Formats a VK_MAKE_API_VERSION value as "1.3.230" into buf. */
const char *cnv_vk_version_string(uint32_t version, char *buf, size_t cap);

#endif
