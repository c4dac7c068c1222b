/* The Vulkan runtime's root: loader, instance (validation layer and debug messenger on demand),
 * device enumeration and choice, and one logical device with one compute queue.
 *
 * The loader is opened at run time by volk, so a binary without Vulkan still starts: every
 * entry point here then fails with "no Vulkan loader found" and the caller uses the CPU backend.
 * Device-level functions are called through the context's own table (ctx->vk), so several
 * contexts (even on different devices) can live in one process. */
#ifndef CNV_VULKAN_CONTEXT_H
#define CNV_VULKAN_CONTEXT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <volk.h>

#include "caps.h"
#include "cnnvis/cnnvis.h"

typedef struct cnv_vk_memory cnv_vk_memory;

typedef struct cnv_vk_instance {
    VkInstance instance;
    uint32_t api_version; /* the version the instance was created with */
    int validation;       /* VK_LAYER_KHRONOS_validation and the debug messenger are active */
    VkDebugUtilsMessengerEXT messenger;
    atomic_uint messages; /* validation warnings and errors seen (each also printed) */
    uint32_t device_count;
    VkPhysicalDevice *devices;
} cnv_vk_instance;

typedef struct cnv_vk_options {
    const char *device; /* NULL or "": default choice; else an index or a name substring */
    int validation;     /* enable the validation layer; CNNVIS_VALIDATION=1 in the environment does too */
    int profiling;      /* recorders write a timestamp before and after every dispatch */
    int forced_limits;  /* lower the capability table to a small device's (cnv_vk_caps_cap) */
    int force_staging;  /* never map device buffers: host transfers use staging copies, as on a
                           discrete GPU without host-visible device memory */
} cnv_vk_options;

typedef struct cnv_vk_context {
    cnv_vk_instance *inst;
    uint32_t device_index;
    VkPhysicalDevice physical;
    cnv_vk_caps caps;
    VkDevice device;
    struct VolkDeviceTable vk;
    VkQueue queue;
    VkCommandPool command_pool;
    VkPipelineCache pipeline_cache;
    char pipeline_cache_path[1024]; /* "" when there is no cache folder */
    size_t pipeline_cache_loaded;   /* bytes of cache data read at creation (0: none) */
    cnv_vk_memory *memory;
    uint64_t submits;    /* queue submissions so far */
    uint64_t host_waits; /* fence waits that found the newest submit still running */
    VkFence newest;      /* the fence of the newest submit */
    int profiling, force_staging;
} cnv_vk_context;

/* Opens the Vulkan loader once per process. CNV_ERR_DEVICE "no Vulkan loader found" when absent. */
cnv_status cnv_vk_loader_init(void);

/* Creates an instance and lists its physical devices. With validation, the layer and a debug
 * messenger are enabled when installed (a warning says so when not). */
cnv_status cnv_vk_instance_create(int validation, cnv_vk_instance **out);
void cnv_vk_instance_free(cnv_vk_instance *inst);


/* Resolves a --device value to a device index. NULL or "": the best GPU (discrete, then
 * integrated, then virtual); CPU-type devices (llvmpipe) only by index or name, since the CPU
 * backend is faster than them. A decimal number is an index; anything else is a
 * case-insensitive substring of the device name. CNV_ERR_NOT_FOUND when nothing fits. */
cnv_status cnv_vk_choose_device(const cnv_vk_instance *inst, const char *spec, uint32_t *index);

/* Instance, chosen device, compute queue, memory allocator and pipeline cache. */
cnv_status cnv_vk_context_create(const cnv_vk_options *opt, cnv_vk_context **out);
/* Saves the pipeline cache, then destroys everything the context owns. NULL is ignored. */
void cnv_vk_context_free(cnv_vk_context *ctx);

/* Validation messages seen by the context's instance so far. */
unsigned cnv_vk_validation_messages(const cnv_vk_context *ctx);
/* Validation messages seen by every instance of the process, destroyed ones included. */
unsigned cnv_vk_validation_messages_total(void);

/* Maps a failed VkResult to a cnv_status with the message "<what>: <VkResult name>". */
cnv_status cnv_vk_fail(VkResult r, const char *what);

#endif
