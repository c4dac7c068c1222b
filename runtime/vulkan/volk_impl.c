/* volk's implementation, compiled from the system's volk.c (libvulkan-volk-dev ships the source,
 * not a library). Vulkan is reached only through the function pointers volk loads at run time. */
#define VK_NO_PROTOTYPES
#include <volk.c>
