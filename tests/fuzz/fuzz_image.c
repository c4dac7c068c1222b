/* Image files: the format and size checks, then stb_image's decoders (PNG, JPEG, BMP), in this
 * process (cnv_image_decode_direct: what cnv_image_load runs in its child), so that the
 * sanitizers and the coverage see the decoders; in the fuzzing build stb is compiled from
 * Debian's headers for that (third_party/stb_from_header.c). Crashes found in stb are contained
 * by cnv_image_load's child process: tests/fuzz/regressions/image_sandboxed, replayed by
 * test_hostile. The first byte picks grey or colour. The pixel limit is lowered to 2^16 (256x256):
 * what is fuzzed is the decoding, whose paths a small picture reaches as well as a large one,
 * not the time a legitimately huge picture takes (at 2^20 a decode took ~1 ms instrumented). */
#include "fuzz_file.h"

#include "cnnvis/picture.h"
#include "io/image_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    cnv_image_set_max_pixels((size_t)1 << 16);
    cnv_image img;
    if (cnv_image_decode_direct(fuzz_file(data + 1, size - 1, ".img"), data[0] & 1 ? 3 : 1, &img) == CNV_OK) cnv_image_free(&img);
    return 0;
}
