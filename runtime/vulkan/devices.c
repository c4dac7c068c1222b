/* The device survey of `cnnvis devices` (tools.h): every Vulkan device with its capability
 * table and which one a plain run would use, as JSON. Here because it reads Vulkan's own
 * structures; the CLI prints what it returns. */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "cnnvis/tools.h"
#include "core/status.h"
#include "vulkan/caps.h"
#include "vulkan/context.h"

static json_t *hex(uint32_t v) {
    char buf[16];
    snprintf(buf, sizeof buf, "0x%04x", v);
    return json_string(buf);
}

static json_t *uvec3(const uint32_t v[3]) { return json_pack("[I, I, I]", (json_int_t)v[0], (json_int_t)v[1], (json_int_t)v[2]); }

static json_t *heaps_json(const cnv_vk_caps *c) {
    json_t *a = json_array();
    for (uint32_t h = 0; h < c->heap_count; h++)
        json_array_append_new(a, json_pack("{s:I, s:b, s:b}", "bytes", (json_int_t)c->heaps[h].size, "device_local",
                                           c->heaps[h].device_local, "host_visible", c->heaps[h].host_visible));
    return a;
}

/* One device's capability table; the text output prints the same object, key by key. */
static json_t *device_json(uint32_t index, VkPhysicalDevice pd) {
    cnv_vk_caps c;
    cnv_status s = cnv_vk_caps_read(pd, &c);
    json_t *d = json_pack("{s:I, s:s}", "index", (json_int_t)index, "name", c.device_name);
    if (s != CNV_OK) {
        json_object_set_new(d, "error", json_string(cnv_last_error()));
        return d;
    }
    char api[32];
    json_object_set_new(d, "type", json_string(cnv_vk_device_type_name(c.type)));
    json_object_set_new(d, "vendor", json_string(c.vendor));
    json_object_set_new(d, "vendor_id", hex(c.vendor_id));
    json_object_set_new(d, "device_id", hex(c.device_id));
    json_object_set_new(d, "driver_name", json_string(c.driver_name));
    json_object_set_new(d, "driver_info", json_string(c.driver_info));
    json_object_set_new(d, "driver_version", hex(c.driver_version));
    json_object_set_new(d, "api_version", json_string(cnv_vk_version_string(c.api_version, api, sizeof api)));
    json_object_set_new(d, "max_storage_buffer_range", json_integer((json_int_t)c.max_storage_buffer_range));
    json_object_set_new(d, "max_texel_buffer_elements", json_integer((json_int_t)c.max_texel_buffer_elements));
    json_object_set_new(d, "min_storage_buffer_offset_alignment",
                        json_integer((json_int_t)c.min_storage_buffer_offset_alignment));
    json_object_set_new(d, "max_workgroup_size", uvec3(c.max_workgroup_size));
    json_object_set_new(d, "max_workgroup_invocations", json_integer(c.max_workgroup_invocations));
    json_object_set_new(d, "max_workgroup_count", uvec3(c.max_workgroup_count));
    json_object_set_new(d, "max_shared_memory", json_integer(c.max_shared_memory));
    json_object_set_new(d, "max_push_constants_size", json_integer(c.max_push_constants_size));
    json_object_set_new(d, "subgroup_size", json_integer(c.subgroup_size));
    json_object_set_new(d, "subgroups_in_compute", json_boolean(c.subgroup_in_compute));
    json_object_set_new(d, "timestamps", json_boolean(c.timestamps));
    json_object_set_new(d, "timestamp_period_ns", json_real(c.timestamp_period_ns));
    json_object_set_new(d, "memory_heaps", heaps_json(&c));
    json_object_set_new(d, "shader_float16", json_boolean(c.shader_float16));
    json_object_set_new(d, "shader_int8", json_boolean(c.shader_int8));
    json_object_set_new(d, "storage_16bit", json_boolean(c.storage_16bit));
    json_object_set_new(d, "storage_8bit", json_boolean(c.storage_8bit));
    json_object_set_new(d, "portability_subset", json_boolean(c.portability_subset));
    json_object_set_new(d, "preferred_workgroup_size", json_integer(c.workarounds.preferred_workgroup_size));
    json_object_set_new(d, "slow_shared_memory", json_boolean(c.workarounds.slow_shared_memory));
    json_object_set_new(d, "texel_reads", json_boolean(c.workarounds.texel_reads));
    json_object_set_new(d, "compute_units", json_integer(c.compute_units));
    json_object_set_new(d, "workaround", json_string(c.workarounds.note));
    return d;
}

/* Fills `report` with the loader version, the devices and the default choice. */
static void survey(json_t *report) {
    json_t *devices = json_array();
    json_object_set_new(report, "devices", devices);
    char version[32];
    int loader = cnv_vk_loader_init() == CNV_OK;
    json_object_set_new(report, "loader",
                        loader ? json_string(cnv_vk_version_string(volkGetInstanceVersion(), version, sizeof version))
                               : json_null());
    cnv_vk_instance *inst = NULL;
    char why[1100] = "";
    if (!loader)
        snprintf(why, sizeof why, "%s", cnv_last_error());
    else if (cnv_vk_instance_create(0, &inst) != CNV_OK)
        snprintf(why, sizeof why, "no Vulkan device found (%s)", cnv_last_error());
    else if (inst->device_count == 0)
        snprintf(why, sizeof why, "no Vulkan device found");
    json_object_set_new(report, "vulkan", json_string(why[0] ? why : "ok"));
    uint32_t chosen = 0;
    for (uint32_t i = 0; inst && i < inst->device_count; i++)
        json_array_append_new(devices, device_json(i, inst->devices[i]));
    if (!why[0] && cnv_vk_choose_device(inst, NULL, &chosen) != CNV_OK) snprintf(why, sizeof why, "%s", cnv_last_error());
    if (why[0]) {
        json_object_set_new(report, "default", json_string("cpu"));
        json_object_set_new(report, "default_reason", json_string(why));
    } else {
        char idx[16];
        snprintf(idx, sizeof idx, "%u", chosen);
        json_object_set_new(report, "default", json_string(idx));
    }
    cnv_vk_instance_free(inst);
}

cnv_status cnv_devices_report(char **json) {
    json_t *report = json_object();
    if (!report) return cnv_fail(CNV_ERR_NOMEM, "devices: out of memory");
    survey(report);
    *json = json_dumps(report, JSON_COMPACT);
    json_decref(report);
    return *json ? CNV_OK : cnv_fail(CNV_ERR_NOMEM, "devices: out of memory");
}

void cnv_free(void *p) { free(p); }
