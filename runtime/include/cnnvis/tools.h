/* cnnvis — public C API: what the machine offers. More of the CLI's tools (check, bench) are to
 * come here. */
#ifndef CNNVIS_TOOLS_H
#define CNNVIS_TOOLS_H

#include "cnnvis/cnnvis.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The compute devices as one JSON object, into *json (the caller's, freed with cnv_free):
 * "loader" (the Vulkan loader's version, null without one), "vulkan" ("ok" or why no Vulkan
 * device is usable), "devices" (each Vulkan device's index, name and capability table: type,
 * vendor, driver, API version, limits, memory heaps, features, workarounds) and "default" (the
 * index cnv_backend_open(NULL) would use, or "cpu" with "default_reason"). What `cnnvis devices
 * --json` prints. A machine without Vulkan is not an error. */
CNV_API cnv_status cnv_devices_report(char **json);

/* Frees memory the library handed to the caller (NULL is ignored). */
CNV_API void cnv_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
