#include "fault.h"

#include <stdlib.h>
#include <string.h>

static struct {
    int parsed;
    cnv_vk_fault_site site;
    unsigned long at;         /* 1-based call number; 0: no fault */
    unsigned long calls[2];   /* per site */
} fault;

static void parse(void) {
    fault.parsed = 1;
    const char *spec = getenv("CNNVIS_VK_FAULT");
    if (!spec || !*spec) return;
    const char *at = strchr(spec, '@');
    if (!at) return;
    size_t n = (size_t)(at - spec);
    if (n == strlen("device-lost") && !strncmp(spec, "device-lost", n)) fault.site = CNV_VK_FAULT_SUBMIT;
    else if (n == strlen("out-of-memory") && !strncmp(spec, "out-of-memory", n)) fault.site = CNV_VK_FAULT_ALLOCATE;
    else return;
    char *end;
    unsigned long k = strtoul(at + 1, &end, 10);
    if (*end == '\0') fault.at = k;
}

VkResult cnv_vk_fault(cnv_vk_fault_site site) {
    if (!fault.parsed) parse();
    if (!fault.at || site != fault.site) return VK_SUCCESS;
    if (++fault.calls[site] != fault.at) return VK_SUCCESS;
    return site == CNV_VK_FAULT_SUBMIT ? VK_ERROR_DEVICE_LOST : VK_ERROR_OUT_OF_DEVICE_MEMORY;
}
