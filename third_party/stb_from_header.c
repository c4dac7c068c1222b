/* Debian's stb_image and stb_image_write compiled from their headers (libstb-dev), used instead
 * of linking libstb in the sanitized and fuzzing builds only (dependencies.cmake): there the
 * decoders are instrumented, so ASan sees their memory errors and the fuzzer's coverage sees
 * their branches. Ordinary builds link Debian's compiled libstb. */
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
