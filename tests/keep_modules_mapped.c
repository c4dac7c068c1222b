/* Linked into the sanitized build only (CNNVIS_SANITIZE): dlclose does nothing, so shared
 * libraries stay mapped until the process exits. The Vulkan loader unloads its driver (lavapipe)
 * when an instance is destroyed; memory the driver still reaches from its own globals then loses
 * its root and LeakSanitizer reports it as a leak of "<unknown module>", which no suppression
 * can name. With the driver kept mapped, LeakSanitizer sees its globals (no report) and names
 * the module of anything it does report (tests/lsan.supp). The executable's definition takes
 * precedence over libc's for every caller, the Vulkan loader included. */
#include <dlfcn.h>

int dlclose(void *handle) {
    (void)handle;
    return 0;
}
