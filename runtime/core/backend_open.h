/* Reading a --device value, shared by the backend factory (backend_open.c) and the Vulkan
 * device choice. */
#ifndef CNV_CORE_BACKEND_OPEN_H
#define CNV_CORE_BACKEND_OPEN_H

/* True when a --device value asks for the CPU backend rather than a Vulkan device ("cpu", any case). */
int cnv_device_spec_is_cpu(const char *spec);

#endif
