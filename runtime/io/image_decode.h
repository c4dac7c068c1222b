/* The two halves of cnv_image_load (cnnvis/picture.h): the decode itself, which runs stb_image
 * on the file, and the isolation around it. Internal: the fuzz harness calls the decode in its
 * own process, where the sanitizers and the coverage see it. */
#ifndef CNV_IO_IMAGE_DECODE_H
#define CNV_IO_IMAGE_DECODE_H

#include "cnnvis/picture.h"

/* cnv_image_load without the child process: format and size checks, then stb_image. Only for
 * code that contains a crash itself (the child of cnv_image_load, the fuzz harness). */
cnv_status cnv_image_decode_direct(const char *path, int channels, cnv_image *out);

#endif
