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
    char *text;
    if (cnv_devices_report(&text) != CNV_OK) {
        fprintf(stderr, "cnnvis devices: %s\n", cnv_last_error());
        return 1;
    }
    json_error_t jerr;
    json_t *report = json_loads(text, 0, &jerr);
    cnv_free(text);
    if (!report) {
        fprintf(stderr, "cnnvis devices: reading the library's report: %s\n", jerr.text);
        return 1;
    }
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
