#include "caps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

/* Driver workarounds, in one place. An entry matches by driver id when it names one, else by
 * vendor id; the first match wins, the last entry is the default for everything else. */
typedef struct workaround_entry {
    uint32_t vendor_id; /* 0: any */
    uint32_t driver_id; /* 0: any */
    cnv_vk_workarounds wa;
} workaround_entry;

static const workaround_entry workaround_table[] = {
    /* lavapipe runs each invocation as a SIMD lane on the CPU: big workgroups only add
     * scheduling overhead, shared memory with barriers is emulated slowly, and a storage-buffer
     * load becomes a loop of scalar loads over the lanes where a texel fetch is one gather. */
    {0, VK_DRIVER_ID_MESA_LLVMPIPE,
     {64, 1, 1, "CPU device (llvmpipe): small workgroups, no shared memory, operands read through texel buffers"}},
    /* Default: 256 invocations is a multiple of every warp/wave/SIMD width in use. */
    {0, 0, {256, 0, 0, ""}},
};

static const cnv_vk_workarounds *find_workarounds(uint32_t vendor_id, uint32_t driver_id) {
    const size_t n = sizeof workaround_table / sizeof workaround_table[0];
    for (size_t i = 0; i + 1 < n; i++) {
        const workaround_entry *e = &workaround_table[i];
        if (e->driver_id ? e->driver_id == driver_id : e->vendor_id == vendor_id) return &e->wa;
    }
    return &workaround_table[n - 1].wa;
}

static const char *vendor_name(uint32_t id) {
    switch (id) {
    case 0x1002: return "AMD";
    case 0x10DE: return "NVIDIA";
    case 0x8086: return "Intel";
    case 0x106B: return "Apple";
    case 0x13B5: return "ARM";
    case 0x5143: return "Qualcomm";
    case 0x1010: return "Imagination";
    case VK_VENDOR_ID_MESA: return "Mesa";
    default: return "unknown";
    }
}

const char *cnv_vk_device_type_name(VkPhysicalDeviceType type) {
    switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU";
    default: return "other";
    }
}

const char *cnv_vk_version_string(uint32_t v, char *buf, size_t cap) {
    snprintf(buf, cap, "%u.%u.%u", VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v), VK_API_VERSION_PATCH(v));
    return buf;
}

static int has_extension(const VkExtensionProperties *exts, uint32_t n, const char *name) {
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(exts[i].extensionName, name) == 0) return 1;
    return 0;
}

/* A compute queue family, preferring one that can write timestamps. */
static void choose_queue_family(VkPhysicalDevice pd, cnv_vk_caps *caps) {
    VkQueueFamilyProperties fam[32];
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
    if (n > 32) n = 32; /* no device has nearly as many; the first 32 are enough to choose */
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, fam);
    caps->compute_queue_family = UINT32_MAX;
    for (uint32_t i = 0; i < n; i++) {
        if (!(fam[i].queueFlags & VK_QUEUE_COMPUTE_BIT)) continue;
        int stamps = fam[i].timestampValidBits > 0;
        if (caps->compute_queue_family == UINT32_MAX || (stamps && !caps->timestamps)) {
            caps->compute_queue_family = i;
            caps->timestamps = stamps;
        }
    }
}

static void read_memory(VkPhysicalDevice pd, cnv_vk_caps *caps) {
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(pd, &mp);
    caps->heap_count = mp.memoryHeapCount;
    for (uint32_t h = 0; h < mp.memoryHeapCount; h++) {
        caps->heaps[h].size = mp.memoryHeaps[h].size;
        caps->heaps[h].device_local = (mp.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0;
    }
    const VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    for (uint32_t t = 0; t < mp.memoryTypeCount; t++)
        if ((mp.memoryTypes[t].propertyFlags & host) == host) caps->heaps[mp.memoryTypes[t].heapIndex].host_visible = 1;
}

cnv_status cnv_vk_caps_read(VkPhysicalDevice pd, cnv_vk_caps *caps) {
    memset(caps, 0, sizeof *caps);
    VkPhysicalDeviceProperties base;
    vkGetPhysicalDeviceProperties(pd, &base);
    snprintf(caps->device_name, sizeof caps->device_name, "%s", base.deviceName);
    if (base.apiVersion < VK_API_VERSION_1_1)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: Vulkan %u.%u device; cnnvis needs Vulkan 1.1", base.deviceName,
                        VK_API_VERSION_MAJOR(base.apiVersion), VK_API_VERSION_MINOR(base.apiVersion));

    uint32_t n_ext = 0;
    vkEnumerateDeviceExtensionProperties(pd, NULL, &n_ext, NULL);
    VkExtensionProperties *exts = calloc(n_ext ? n_ext : 1, sizeof *exts);
    if (!exts) return cnv_fail(CNV_ERR_NOMEM, "%s: extension list", base.deviceName);
    vkEnumerateDeviceExtensionProperties(pd, NULL, &n_ext, exts);
    const int v12 = base.apiVersion >= VK_API_VERSION_1_2;
    const int driver_props = v12 || has_extension(exts, n_ext, VK_KHR_DRIVER_PROPERTIES_EXTENSION_NAME);
    const int f16i8 = v12 || has_extension(exts, n_ext, VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME);
    const int storage8 = v12 || has_extension(exts, n_ext, VK_KHR_8BIT_STORAGE_EXTENSION_NAME);
    caps->portability_subset = has_extension(exts, n_ext, "VK_KHR_portability_subset");
    caps->pipeline_creation_feedback = base.apiVersion >= VK_API_VERSION_1_3 ||
                                       has_extension(exts, n_ext, VK_EXT_PIPELINE_CREATION_FEEDBACK_EXTENSION_NAME);
    const int nv_sm = has_extension(exts, n_ext, VK_NV_SHADER_SM_BUILTINS_EXTENSION_NAME);
    const int amd_cores = has_extension(exts, n_ext, VK_AMD_SHADER_CORE_PROPERTIES_EXTENSION_NAME);
    free(exts);

    /* Properties, with the 1.1/1.2 structures the device supports chained on. */
    VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceSubgroupProperties sub = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceShaderSMBuiltinsPropertiesNV sm = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_SM_BUILTINS_PROPERTIES_NV};
    VkPhysicalDeviceShaderCorePropertiesAMD cores = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_CORE_PROPERTIES_AMD};
    VkPhysicalDeviceProperties2 props = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &sub};
    void **chain = &sub.pNext;
    if (driver_props) {
        *chain = &drv;
        chain = &drv.pNext;
    }
    if (nv_sm) {
        *chain = &sm;
        chain = &sm.pNext;
    }
    if (amd_cores) *chain = &cores;
    vkGetPhysicalDeviceProperties2(pd, &props);
    if (nv_sm) caps->compute_units = sm.shaderSMCount;
    else if (amd_cores)
        caps->compute_units = cores.shaderEngineCount * cores.shaderArraysPerEngineCount * cores.computeUnitsPerShaderArray;
    const VkPhysicalDeviceLimits *lim = &props.properties.limits;

    caps->vendor_id = base.vendorID;
    caps->device_id = base.deviceID;
    caps->vendor = vendor_name(base.vendorID);
    caps->api_version = base.apiVersion;
    caps->driver_version = base.driverVersion;
    caps->type = base.deviceType;
    memcpy(caps->pipeline_cache_uuid, base.pipelineCacheUUID, VK_UUID_SIZE);
    if (driver_props) {
        caps->driver_id = drv.driverID;
        snprintf(caps->driver_name, sizeof caps->driver_name, "%s", drv.driverName);
        snprintf(caps->driver_info, sizeof caps->driver_info, "%s", drv.driverInfo);
    }
    caps->max_storage_buffer_range = lim->maxStorageBufferRange;
    caps->min_storage_buffer_offset_alignment = lim->minStorageBufferOffsetAlignment;
    caps->max_texel_buffer_elements = lim->maxTexelBufferElements;
    caps->min_texel_buffer_offset_alignment = lim->minTexelBufferOffsetAlignment;
    for (int d = 0; d < 3; d++) {
        caps->max_workgroup_size[d] = lim->maxComputeWorkGroupSize[d];
        caps->max_workgroup_count[d] = lim->maxComputeWorkGroupCount[d];
    }
    caps->max_workgroup_invocations = lim->maxComputeWorkGroupInvocations;
    caps->max_shared_memory = lim->maxComputeSharedMemorySize;
    caps->max_push_constants_size = lim->maxPushConstantsSize;
    caps->max_bound_descriptor_sets = lim->maxBoundDescriptorSets;
    caps->subgroup_size = sub.subgroupSize;
    caps->subgroup_in_compute = (sub.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0;
    caps->timestamp_period_ns = lim->timestampPeriod;

    choose_queue_family(pd, caps);
    read_memory(pd, caps);

    /* Features: 16-bit storage is core in 1.1; the rest need 1.2 or their extensions. */
    VkPhysicalDevice16BitStorageFeatures s16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    VkPhysicalDevice8BitStorageFeatures s8 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES};
    VkPhysicalDeviceShaderFloat16Int8Features fi = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
    VkPhysicalDeviceFeatures2 feats = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &s16};
    void **tail = &s16.pNext;
    if (storage8) {
        *tail = &s8;
        tail = &s8.pNext;
    }
    if (f16i8) *tail = &fi;
    vkGetPhysicalDeviceFeatures2(pd, &feats);
    caps->storage_16bit = s16.storageBuffer16BitAccess;
    caps->storage_8bit = s8.storageBuffer8BitAccess;
    caps->shader_float16 = fi.shaderFloat16;
    caps->shader_int8 = fi.shaderInt8;

    caps->workarounds = *find_workarounds(caps->vendor_id, caps->driver_id);
    if (caps->workarounds.preferred_workgroup_size > caps->max_workgroup_invocations)
        caps->workarounds.preferred_workgroup_size = caps->max_workgroup_invocations;
    /* CNNVIS_VK_TEXEL=0 or 1 overrides the table, to measure both builds of a kernel on one device. */
    const char *texel = getenv("CNNVIS_VK_TEXEL");
    if (texel && (strcmp(texel, "0") == 0 || strcmp(texel, "1") == 0)) caps->workarounds.texel_reads = texel[0] == '1';

    if (caps->compute_queue_family == UINT32_MAX)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: no queue family supports compute", caps->device_name);
    return CNV_OK;
}

static void lower_u32(uint32_t *v, uint32_t cap) {
    if (*v > cap) *v = cap;
}

void cnv_vk_caps_cap(cnv_vk_caps *caps) {
    const uint32_t invocations = 128, shared = 16 * 1024;
    const uint64_t range = 64ull << 20;
    lower_u32(&caps->max_workgroup_invocations, invocations);
    for (int d = 0; d < 3; d++) lower_u32(&caps->max_workgroup_size[d], invocations);
    lower_u32(&caps->max_shared_memory, shared);
    if (caps->max_storage_buffer_range > range) caps->max_storage_buffer_range = range;
    lower_u32(&caps->workarounds.preferred_workgroup_size, invocations);
    caps->workarounds.texel_reads = 0;
    caps->limits_forced = 1;
}
