/* Faults no driver here can be made to produce on demand, injected for the tests:
 * CNNVIS_VK_FAULT="device-lost@N" makes the N-th queue submission of the process end in
 * VK_ERROR_DEVICE_LOST (reported where the fence wait would report a real one), and
 * "out-of-memory@N" makes the N-th device memory allocation fail with
 * VK_ERROR_OUT_OF_DEVICE_MEMORY. The real call is made or skipped as a real fault would leave it;
 * everything after it (the error line, the exit status, the outputs left as they were) is the
 * code path a real fault takes. Unset: no fault, one getenv per process. */
#ifndef CNV_VK_FAULT_H
#define CNV_VK_FAULT_H

#include <volk.h>

typedef enum { CNV_VK_FAULT_SUBMIT, CNV_VK_FAULT_ALLOCATE } cnv_vk_fault_site;

/* VK_SUCCESS, or the injected result when this call at `site` is the one named. */
VkResult cnv_vk_fault(cnv_vk_fault_site site);

#endif
