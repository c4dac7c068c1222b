/* cnnvis devices [--json]: every Vulkan device with its capability table, which one a plain
 * run would use, and the CPU backend, which is always there. A machine without a Vulkan
 * loader or device is not an error: it is said plainly and the CPU backend is listed. */
#include "commands.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cnnvis/cnnvis.h"
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

static void print_value(const json_t *v) {
    if (json_is_string(v)) {
        fputs(json_string_value(v), stdout);
    } else if (json_is_boolean(v)) {
        fputs(json_is_true(v) ? "yes" : "no", stdout);
    } else if (json_is_integer(v)) {
        printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        printf("%g", json_real_value(v));
    } else if (json_is_array(v) && json_array_size(v) && json_is_integer(json_array_get(v, 0))) {
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e) printf("%s%" JSON_INTEGER_FORMAT, i ? " x " : "", json_integer_value(e));
    } else {
        char *s = json_dumps(v, JSON_COMPACT);
        if (s) fputs(s, stdout);
        free(s);
    }
}

static void print_text(const json_t *report) {
    const char *def = json_string_value(json_object_get(report, "default"));
    const json_t *loader = json_object_get(report, "loader");
    const json_t *devices = json_object_get(report, "devices");
    if (!json_is_string(loader))
        printf("Vulkan: no Vulkan loader found\n");
    else if (json_array_size(devices) == 0)
        printf("Vulkan loader %s: %s\n", json_string_value(loader), json_string_value(json_object_get(report, "vulkan")));
    else
        printf("Vulkan loader %s: %zu device%s\n", json_string_value(loader), json_array_size(devices),
               json_array_size(devices) == 1 ? "" : "s");
    size_t i;
    const json_t *d;
    json_array_foreach(devices, i, d) {
        printf("\n[%zu] %s\n", i, json_string_value(json_object_get(d, "name")));
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)d, key, v) {
            if (!strcmp(key, "index") || !strcmp(key, "name")) continue;
            printf("    %-36s ", key);
            print_value(v);
            putchar('\n');
        }
    }
    printf("\n[cpu] CPU backend: always available (--device cpu)\n\n");
    if (strcmp(def, "cpu") == 0) {
        const json_t *why = json_object_get(report, "default_reason");
        printf("default device: cpu%s%s\n", why ? " — " : "", why ? json_string_value(why) : "");
    } else {
        printf("default device: %s (%s)\n", def,
               json_string_value(json_object_get(json_array_get(devices, (size_t)atoi(def)), "name")));
    }
}

static void usage(void) {
    printf("usage: cnnvis devices [--json]\n"
           "Lists every Vulkan device with its capabilities, the CPU backend, and the device a run\n"
           "uses by default (a GPU; CPU-type Vulkan devices such as llvmpipe only when named).\n\n"
           "options:\n"
           "  --json                 machine-readable results on stdout (default: off)\n"
           "  -h, --help             show this help\n"
           "\nenvironment: CNNVIS_VALIDATION=1 enables the Vulkan validation layer\n");
}

int cmd_devices(int argc, char **argv) {
    static const struct option options[] = {{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {0}};
    int json = 0;
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, ":h", options, NULL)) != -1;) {
        if (c == 'j') {
            json = 1;
        } else if (c == 'h') {
            usage();
            return 0;
        } else {
            fprintf(stderr, "cnnvis devices: unknown option '%s' (see --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cnnvis devices: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    json_t *report = json_object();
    if (!report) {
        fprintf(stderr, "cnnvis devices: out of memory\n");
        return 1;
    }
    survey(report);
    int code = 0;
    if (json) {
        json_object_set_new(report, "cpu_backend", json_true());
        if (json_dumpf(report, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) code = 1;
        putchar('\n');
    } else {
        print_text(report);
    }
    json_decref(report);
    return code;
}
