/* Image files: the format and size checks, then stb_image's decoders (PNG, JPEG, BMP). The
 * first byte picks grey or colour. The pixel limit is lowered to 2^20: what is fuzzed is the
 * decoding, not the time a legitimately huge picture takes. */
#include "fuzz_file.h"

#include "cnnvis/picture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    cnv_image_set_max_pixels((size_t)1 << 20);
    cnv_image img;
    if (cnv_image_load(fuzz_file(data + 1, size - 1, ".img"), data[0] & 1 ? 3 : 1, &img) == CNV_OK) cnv_image_free(&img);
    return 0;
}
