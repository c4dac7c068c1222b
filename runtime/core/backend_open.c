/* The backend factory: a --device value to the CPU or a Vulkan backend. It sits above both
 * backends, through their public constructors, so neither backend knows the other. */
#include "backend_open.h"

#include <ctype.h>
#include <string.h>

#include "core/log.h"
#include "core/status.h"

int cnv_device_spec_is_cpu(const char *spec) {
    if (!spec) return 0;
    char low[4] = {0};
    for (int i = 0; i < 3 && spec[i]; i++) low[i] = (char)tolower((unsigned char)spec[i]);
    return strlen(spec) == 3 && strcmp(low, "cpu") == 0;
}

cnv_status cnv_backend_open(const char *device, const cnv_vulkan_options *opt, cnv_backend **out) {
    if (cnv_device_spec_is_cpu(device)) return cnv_backend_cpu_create(out);
    int automatic = !device || !*device || strcmp(device, "auto") == 0;
    cnv_vulkan_options vo = opt ? *opt : (cnv_vulkan_options){0};
    vo.device = automatic ? NULL : device;
    cnv_status s = cnv_backend_vulkan_create(&vo, out);
    if (s == CNV_OK || !automatic) return s;
    if (s == CNV_ERR_DEVICE) cnv_warn("Vulkan is not available (%s); using the CPU backend", cnv_last_error());
    else if (s != CNV_ERR_NOT_FOUND) return s;
    return cnv_backend_cpu_create(out);
}
