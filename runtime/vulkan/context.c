#include "context.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/backend_open.h"
#include "core/log.h"
#include "core/status.h"
#include "memory.h"
#include "pipeline.h"

#define VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"
#define PORTABILITY_SUBSET "VK_KHR_portability_subset" /* defined only in vulkan_beta.h */

static const char *vk_result_name(VkResult r) {
    switch (r) {
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    default: return "VkResult error";
    }
}

cnv_status cnv_vk_fail(VkResult r, const char *what) {
    cnv_status s = CNV_ERR_DEVICE;
    /* The two faults a user can meet on a healthy install get a sentence, not only a code. */
    if (r == VK_ERROR_DEVICE_LOST)
        return cnv_fail(s, "the Vulkan device was lost (VK_ERROR_DEVICE_LOST in %s): the GPU hung, was reset or "
                           "was removed; the run stopped", what);
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY)
        return cnv_fail(CNV_ERR_NOMEM, "device memory exhausted (VK_ERROR_OUT_OF_DEVICE_MEMORY in %s); use a "
                                       "smaller batch or size", what);
    if (r == VK_ERROR_OUT_OF_HOST_MEMORY) s = CNV_ERR_NOMEM;
    return cnv_fail(s, "%s: %s (%d)", what, vk_result_name(r), (int)r);
}

cnv_status cnv_vk_loader_init(void) {
    static int state; /* 0: not tried, 1: loaded, -1: absent */
    if (state == 0) state = volkInitialize() == VK_SUCCESS ? 1 : -1;
    if (state < 0) return cnv_fail(CNV_ERR_DEVICE, "no Vulkan loader found");
    return CNV_OK;
}

/* ---- instance ---- */

/* Every instance's messages, including those reported while a context is being destroyed
 * (leaked objects), which no longer have an instance to be counted on. */
static atomic_uint process_messages;

unsigned cnv_vk_validation_messages_total(void) { return atomic_load(&process_messages); }

static VKAPI_ATTR VkBool32 VKAPI_CALL on_debug_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                       VkDebugUtilsMessageTypeFlagsEXT types,
                                                       const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                       void *user) {
    cnv_vk_instance *inst = user;
    atomic_fetch_add(&inst->messages, 1u);
    atomic_fetch_add(&process_messages, 1u);
    int error = (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) != 0;
    cnv_log(error ? CNV_LOG_ERROR : CNV_LOG_WARN, "vulkan validation: %s",
            data && data->pMessage ? data->pMessage : "(no message)");
    return VK_FALSE; /* never abort the call: the counter is what tests assert on */
}

static int layer_available(const char *name) {
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0) return 0;
    VkLayerProperties *layers = calloc(n, sizeof *layers);
    if (!layers) return 0;
    int found = 0;
    if (vkEnumerateInstanceLayerProperties(&n, layers) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = strcmp(layers[i].layerName, name) == 0;
    free(layers);
    return found;
}

/* Whether the loader (layer NULL) or the given layer offers an instance extension. */
static int instance_extension_available(const char *layer, const char *name) {
    uint32_t n = 0;
    if (vkEnumerateInstanceExtensionProperties(layer, &n, NULL) != VK_SUCCESS || n == 0) return 0;
    VkExtensionProperties *exts = calloc(n, sizeof *exts);
    if (!exts) return 0;
    int found = 0;
    if (vkEnumerateInstanceExtensionProperties(layer, &n, exts) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = strcmp(exts[i].extensionName, name) == 0;
    free(exts);
    return found;
}

static int env_validation(void) {
    const char *v = getenv("CNNVIS_VALIDATION");
    return v && strcmp(v, "1") == 0;
}

static cnv_status list_physical_devices(cnv_vk_instance *inst) {
    uint32_t n = 0;
    VkResult r = vkEnumeratePhysicalDevices(inst->instance, &n, NULL);
    if (r != VK_SUCCESS) return cnv_vk_fail(r, "vkEnumeratePhysicalDevices");
    inst->devices = calloc(n ? n : 1, sizeof *inst->devices);
    if (!inst->devices) return cnv_fail(CNV_ERR_NOMEM, "Vulkan device list");
    r = vkEnumeratePhysicalDevices(inst->instance, &n, inst->devices);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) return cnv_vk_fail(r, "vkEnumeratePhysicalDevices");
    inst->device_count = n;
    return CNV_OK;
}

static cnv_status create_instance(cnv_vk_instance *inst, int want_validation) {
    uint32_t loader_version = volkGetInstanceVersion();
    if (loader_version < VK_API_VERSION_1_1)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "Vulkan loader %u.%u: cnnvis needs Vulkan 1.1",
                        VK_API_VERSION_MAJOR(loader_version), VK_API_VERSION_MINOR(loader_version));
    inst->api_version = loader_version < VK_API_VERSION_1_3 ? loader_version : VK_API_VERSION_1_3;

    const char *exts[2];
    uint32_t n_ext = 0;
    VkInstanceCreateFlags flags = 0;
    /* MoltenVK lists its devices only to applications that accept portability drivers. */
    if (instance_extension_available(NULL, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
        exts[n_ext++] = VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
        flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
    }
    const char *layers[1] = {VALIDATION_LAYER};
    if (want_validation) {
        inst->validation = layer_available(VALIDATION_LAYER) &&
                           (instance_extension_available(NULL, VK_EXT_DEBUG_UTILS_EXTENSION_NAME) ||
                            instance_extension_available(VALIDATION_LAYER, VK_EXT_DEBUG_UTILS_EXTENSION_NAME));
        if (inst->validation)
            exts[n_ext++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
        else
            cnv_warn("validation requested but %s (with VK_EXT_debug_utils) is not installed", VALIDATION_LAYER);
    }

    VkDebugUtilsMessengerCreateInfoEXT messenger_info = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_debug_message,
        .pUserData = inst,
    };
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "cnnvis",
        .pEngineName = "cnnvis",
        .apiVersion = inst->api_version,
    };
    VkInstanceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        /* Chained so that vkCreateInstance/vkDestroyInstance themselves are checked too. */
        .pNext = inst->validation ? &messenger_info : NULL,
        .flags = flags,
        .pApplicationInfo = &app,
        .enabledLayerCount = inst->validation ? 1u : 0u,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = n_ext,
        .ppEnabledExtensionNames = exts,
    };
    VkResult r = vkCreateInstance(&info, NULL, &inst->instance);
    if (r != VK_SUCCESS) return cnv_vk_fail(r, "vkCreateInstance");
    /* Instance-level pointers are global in volk; the loader's entry points dispatch on the
     * handle, so they stay valid for every instance in the process. */
    volkLoadInstanceOnly(inst->instance);
    if (inst->validation) {
        r = vkCreateDebugUtilsMessengerEXT(inst->instance, &messenger_info, NULL, &inst->messenger);
        if (r != VK_SUCCESS) return cnv_vk_fail(r, "vkCreateDebugUtilsMessengerEXT");
    }
    return list_physical_devices(inst);
}

cnv_status cnv_vk_instance_create(int validation, cnv_vk_instance **out) {
    *out = NULL;
    CNV_TRY(cnv_vk_loader_init());
    cnv_vk_instance *inst = calloc(1, sizeof *inst);
    if (!inst) return cnv_fail(CNV_ERR_NOMEM, "Vulkan instance");
    atomic_init(&inst->messages, 0u);
    cnv_status s = create_instance(inst, validation || env_validation());
    if (s != CNV_OK) {
        cnv_vk_instance_free(inst);
        return s;
    }
    *out = inst;
    return CNV_OK;
}

void cnv_vk_instance_free(cnv_vk_instance *inst) {
    if (!inst) return;
    if (inst->messenger) vkDestroyDebugUtilsMessengerEXT(inst->instance, inst->messenger, NULL);
    if (inst->instance) vkDestroyInstance(inst->instance, NULL);
    free(inst->devices);
    free(inst);
}

/* ---- device choice ---- */

static int contains_ignoring_case(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return 1;
    }
    return n == 0;
}

static int is_decimal(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return 0;
    return 1;
}

/* Lower is better; CPU-type devices are never chosen by default. */
static int default_rank(VkPhysicalDeviceType type) {
    switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_OTHER: return 3;
    default: return -1;
    }
}

cnv_status cnv_vk_choose_device(const cnv_vk_instance *inst, const char *spec, uint32_t *index) {
    if (inst->device_count == 0) return cnv_fail(CNV_ERR_NOT_FOUND, "no Vulkan device found");
    if (cnv_device_spec_is_cpu(spec))
        return cnv_fail(CNV_ERR_NOT_FOUND, "--device cpu names the CPU backend, not a Vulkan device");
    if (spec && is_decimal(spec)) {
        unsigned long i = strtoul(spec, NULL, 10);
        if (i >= inst->device_count)
            return cnv_fail(CNV_ERR_NOT_FOUND, "--device %s: there are %u Vulkan device(s), numbered from 0", spec,
                            inst->device_count);
        *index = (uint32_t)i;
        return CNV_OK;
    }
    int best_rank = -1;
    for (uint32_t i = 0; i < inst->device_count; i++) {
        VkPhysicalDeviceProperties p;
        vkGetPhysicalDeviceProperties(inst->devices[i], &p);
        if (spec && *spec) {
            if (contains_ignoring_case(p.deviceName, spec)) {
                *index = i;
                return CNV_OK;
            }
            continue;
        }
        int rank = default_rank(p.deviceType);
        if (rank >= 0 && (best_rank < 0 || rank < best_rank)) {
            best_rank = rank;
            *index = i;
        }
    }
    if (spec && *spec) return cnv_fail(CNV_ERR_NOT_FOUND, "--device %s: no Vulkan device has that in its name", spec);
    if (best_rank < 0)
        return cnv_fail(CNV_ERR_NOT_FOUND, "only CPU-type Vulkan devices (llvmpipe) exist, and the CPU backend is "
                                           "faster there; name one with --device to use it anyway");
    return CNV_OK;
}

/* ---- logical device ---- */

static cnv_status create_device(cnv_vk_context *ctx) {
    const cnv_vk_caps *caps = &ctx->caps;
    const float priority = 1.0f;
    VkDeviceQueueCreateInfo queue = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = caps->compute_queue_family,
        .queueCount = 1,
        .pQueuePriorities = &priority,
    };
    const char *exts[2];
    uint32_t n_ext = 0;
    /* The specification requires enabling it wherever it is listed (MoltenVK). */
    if (caps->portability_subset) exts[n_ext++] = PORTABILITY_SUBSET;
    const uint32_t version = caps->api_version < ctx->inst->api_version ? caps->api_version : ctx->inst->api_version;
    if (caps->pipeline_creation_feedback && version < VK_API_VERSION_1_3)
        exts[n_ext++] = VK_EXT_PIPELINE_CREATION_FEEDBACK_EXTENSION_NAME;
    VkDeviceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &queue,
        .enabledExtensionCount = n_ext,
        .ppEnabledExtensionNames = exts,
    };
    VkResult r = vkCreateDevice(ctx->physical, &info, NULL, &ctx->device);
    if (r != VK_SUCCESS) return cnv_vk_fail(r, "vkCreateDevice");
    volkLoadDeviceTable(&ctx->vk, ctx->device);
    ctx->vk.vkGetDeviceQueue(ctx->device, caps->compute_queue_family, 0, &ctx->queue);

    VkCommandPoolCreateInfo pool = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = caps->compute_queue_family,
    };
    r = ctx->vk.vkCreateCommandPool(ctx->device, &pool, NULL, &ctx->command_pool);
    if (r != VK_SUCCESS) return cnv_vk_fail(r, "vkCreateCommandPool");
    return CNV_OK;
}

static cnv_status build_context(cnv_vk_context *ctx, const cnv_vk_options *opt) {
    CNV_TRY(cnv_vk_instance_create(opt->validation, &ctx->inst));
    CNV_TRY(cnv_vk_choose_device(ctx->inst, opt->device, &ctx->device_index));
    ctx->physical = ctx->inst->devices[ctx->device_index];
    CNV_TRY(cnv_vk_caps_read(ctx->physical, &ctx->caps));
    if (opt->forced_limits) cnv_vk_caps_cap(&ctx->caps);
    ctx->profiling = opt->profiling && ctx->caps.timestamps;
    if (opt->profiling && !ctx->caps.timestamps)
        cnv_warn("%s: no timestamp support; profiling is off", ctx->caps.device_name);
    ctx->force_staging = opt->force_staging;
    CNV_TRY(create_device(ctx));
    CNV_TRY(cnv_vk_pipeline_cache_open(ctx));
    CNV_TRY(cnv_vk_memory_create(ctx, &ctx->memory));
    cnv_info("Vulkan device %u: %s (%s)", ctx->device_index, ctx->caps.device_name,
             cnv_vk_device_type_name(ctx->caps.type));
    return CNV_OK;
}

cnv_status cnv_vk_context_create(const cnv_vk_options *opt, cnv_vk_context **out) {
    static const cnv_vk_options defaults = {0};
    *out = NULL;
    cnv_vk_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return cnv_fail(CNV_ERR_NOMEM, "Vulkan context");
    cnv_status s = build_context(ctx, opt ? opt : &defaults);
    if (s != CNV_OK) {
        cnv_vk_context_free(ctx);
        return s;
    }
    *out = ctx;
    return CNV_OK;
}

void cnv_vk_context_free(cnv_vk_context *ctx) {
    if (!ctx) return;
    if (ctx->device) {
        ctx->vk.vkDeviceWaitIdle(ctx->device);
        cnv_vk_memory_free(ctx, ctx->memory);
        if (ctx->pipeline_cache) {
            if (cnv_vk_pipeline_cache_save(ctx) != CNV_OK) cnv_warn("%s", cnv_last_error());
            ctx->vk.vkDestroyPipelineCache(ctx->device, ctx->pipeline_cache, NULL);
        }
        if (ctx->command_pool) ctx->vk.vkDestroyCommandPool(ctx->device, ctx->command_pool, NULL);
        ctx->vk.vkDestroyDevice(ctx->device, NULL);
    }
    cnv_vk_instance_free(ctx->inst);
    free(ctx);
}

unsigned cnv_vk_validation_messages(const cnv_vk_context *ctx) {
    return atomic_load(&((cnv_vk_instance *)ctx->inst)->messages);
}
