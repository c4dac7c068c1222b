/* Animated GIF (giflib): frames of one size, quantized to a fixed 256-colour palette, looping. */
#ifndef CNV_IO_GIF_H
#define CNV_IO_GIF_H

#include "io/image.h"

/* Writes the frames (RGB or gray, all the same size) atomically; delay in 1/100 s per frame. */
cnv_status cnv_gif_write(const char *path, const cnv_image *frames, int n, int delay_cs);

#endif
