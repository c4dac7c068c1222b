#include "cnnvis/picture.h"

#include "atomic_file.h"
#include "core/status.h"

#include <gif_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A fixed palette: 6 x 7 x 6 colour cube (252 entries) plus 4 grays, so every frame shares one
 * colour map and nothing flickers between frames. */
static void make_palette(GifColorType *pal) {
    int k = 0;
    for (int r = 0; r < 6; r++)
        for (int g = 0; g < 7; g++)
            for (int b = 0; b < 6; b++, k++) {
                pal[k].Red = (GifByteType)(r * 255 / 5);
                pal[k].Green = (GifByteType)(g * 255 / 6);
                pal[k].Blue = (GifByteType)(b * 255 / 5);
            }
    for (int i = 0; k < 256; i++, k++) pal[k].Red = pal[k].Green = pal[k].Blue = (GifByteType)(51 * (i + 1));
}

static GifByteType quantize(const unsigned char *px, int channels) {
    int r = px[0], g = channels == 3 ? px[1] : px[0], b = channels == 3 ? px[2] : px[0];
    return (GifByteType)(((r * 5 + 127) / 255) * 42 + ((g * 6 + 127) / 255) * 6 + (b * 5 + 127) / 255);
}

static cnv_status write_frames(GifFileType *gif, const cnv_image *frames, int n, int delay_cs, ColorMapObject *map) {
    const int w = frames[0].w, h = frames[0].h;
    if (EGifPutScreenDesc(gif, w, h, 8, 0, map) == GIF_ERROR) return CNV_ERR_IO;
    /* NETSCAPE2.0 application block: loop forever. */
    unsigned char loop[3] = {1, 0, 0};
    if (EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE) == GIF_ERROR ||
        EGifPutExtensionBlock(gif, 11, "NETSCAPE2.0") == GIF_ERROR || EGifPutExtensionBlock(gif, 3, loop) == GIF_ERROR ||
        EGifPutExtensionTrailer(gif) == GIF_ERROR)
        return CNV_ERR_IO;
    GifByteType *line = malloc((size_t)w);
    if (!line) return CNV_ERR_NOMEM;
    cnv_status s = CNV_OK;
    for (int f = 0; f < n && s == CNV_OK; f++) {
        GraphicsControlBlock gcb = {.DisposalMode = DISPOSAL_UNSPECIFIED, .DelayTime = delay_cs, .TransparentColor = NO_TRANSPARENT_COLOR};
        GifByteType ext[4];
        size_t len = EGifGCBToExtension(&gcb, ext);
        if (EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, (int)len, ext) == GIF_ERROR ||
            EGifPutImageDesc(gif, 0, 0, w, h, false, NULL) == GIF_ERROR) {
            s = CNV_ERR_IO;
            break;
        }
        for (int y = 0; y < h && s == CNV_OK; y++) {
            for (int x = 0; x < w; x++)
                line[x] = quantize(frames[f].px + ((size_t)y * w + x) * (size_t)frames[f].c, frames[f].c);
            if (EGifPutLine(gif, line, w) == GIF_ERROR) s = CNV_ERR_IO;
        }
    }
    free(line);
    return s;
}

cnv_status cnv_gif_write(const char *path, const cnv_image *frames, int n, int delay_cs) {
    if (n < 1) return cnv_fail(CNV_ERR_ARG, "%s: no frames to write", path);
    for (int i = 1; i < n; i++)
        if (frames[i].w != frames[0].w || frames[i].h != frames[0].h)
            return cnv_fail(CNV_ERR_ARG, "%s: frames differ in size", path);
    /* GIF stores sides in 16 bits. */
    if (frames[0].w < 1 || frames[0].h < 1 || frames[0].w > 65535 || frames[0].h > 65535)
        return cnv_fail(CNV_ERR_LIMIT, "%s: %dx%d frames do not fit a GIF (at most 65535 pixels a side)", path,
                        frames[0].w, frames[0].h);
    cnv_atomic_file af;
    CNV_TRY(cnv_atomic_open(path, &af));
    /* giflib closes the descriptor it is given: hand it a duplicate, the FILE keeps its own. */
    fflush(af.f);
    int err = 0, fd = dup(fileno(af.f));
    GifFileType *gif = fd >= 0 ? EGifOpenFileHandle(fd, &err) : NULL;
    if (!gif) {
        if (fd >= 0) close(fd);
        cnv_atomic_abort(&af);
        return cnv_fail(CNV_ERR_IO, "%s: cannot write a GIF", path);
    }
    GifColorType pal[256];
    make_palette(pal);
    ColorMapObject *map = GifMakeMapObject(256, pal);
    cnv_status s = map ? write_frames(gif, frames, n, delay_cs, map) : CNV_ERR_NOMEM;
    GifFreeMapObject(map);
    if (EGifCloseFile(gif, &err) == GIF_ERROR && s == CNV_OK) s = CNV_ERR_IO;
    if (s != CNV_OK) {
        cnv_atomic_abort(&af);
        return cnv_fail(s, "%s: writing the GIF failed", path);
    }
    return cnv_atomic_commit(&af);
}
