/* Image files: the format and size checks, then stb_image's decoders (PNG, JPEG, BMP). The
 * first byte picks grey or colour. */
#include "fuzz_file.h"

#include "io/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    cnv_image img;
    if (cnv_image_load(fuzz_file(data + 1, size - 1, ".img"), data[0] & 1 ? 3 : 1, &img) == CNV_OK) cnv_image_free(&img);
    return 0;
}
