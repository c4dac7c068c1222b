/* cnv_image_load: the picture is decoded in a child process (io/image.c's
 * cnv_image_decode_direct under an address-space and CPU limit, with a wall-clock deadline), and
 * only its status, message and pixels come back over a pipe, checked against the size the child
 * reports and the pixel limit. Whatever a hostile file does to stb_image in there (an
 * out-of-bounds write, a crash, a loop) stays in there and becomes one CNV_ERR_FORMAT /
 * CNV_ERR_LIMIT line naming the file. A fork costs about a millisecond beside a decode.
 *
 * Limits: memory 256 MiB + 8 bytes per pixel of the pixel limit (stb holds the decoded picture,
 * a converted copy and its work buffers), time 10 s + 1 s per 4 million pixels of the limit;
 * CNNVIS_IMAGE_SECONDS overrides the time. */
#include "io/image_decode.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "core/graph_wire.h"
#include "core/sandbox.h"
#include "core/status.h"

static unsigned limit_seconds(void) {
    const char *s = getenv("CNNVIS_IMAGE_SECONDS");
    if (s && *s) {
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (!*end && v > 0 && v < 86400) return (unsigned)v;
    }
    return 10 + (unsigned)(cnv_image_max_pixels() / 4000000);
}

typedef struct image_job {
    const char *path;
    int channels;
} image_job;

/* What runs in the child (core/sandbox.c sets the limits). The reply: status, message length,
 * message; then, for CNV_OK, w, h, c and w*h*c bytes. */
static void decoder(int fd, void *user) {
    const image_job *j = user;
    cnv_image img;
    cnv_status st = cnv_image_decode_direct(j->path, j->channels, &img);
    const char *msg = st == CNV_OK ? "" : cnv_last_error();
    int32_t head[2] = {(int32_t)st, (int32_t)strlen(msg)};
    if (!cnv_wire_write(fd, head, sizeof head) && !cnv_wire_write(fd, msg, strlen(msg)) && st == CNV_OK) {
        int32_t size[3] = {img.w, img.h, img.c};
        if (!cnv_wire_write(fd, size, sizeof size))
            cnv_wire_write(fd, img.px, (size_t)img.w * (size_t)img.h * (size_t)img.c);
    }
}

/* Reads the reply; 0, or the cnv_wire_read code (-1 short or malformed, -2 deadline). */
static int read_reply(cnv_wire_reader *r, int channels, cnv_status *st, char *msg, size_t msg_size, cnv_image *out) {
    int32_t head[2];
    int e = cnv_wire_read(r, head, sizeof head);
    if (e) return e;
    if (head[0] < 0 || head[0] >= CNV_STATUS_COUNT || head[1] < 0 || (size_t)head[1] >= msg_size) return -1;
    if ((e = cnv_wire_read(r, msg, (size_t)head[1]))) return e;
    msg[head[1]] = '\0';
    *st = (cnv_status)head[0];
    if (*st != CNV_OK) return 0;
    int32_t size[3];
    if ((e = cnv_wire_read(r, size, sizeof size))) return e;
    if (size[0] <= 0 || size[1] <= 0 || size[2] != channels ||
        (size_t)size[0] * (size_t)size[1] > cnv_image_max_pixels())
        return -1;
    const size_t n = (size_t)size[0] * (size_t)size[1] * (size_t)size[2];
    unsigned char *px = malloc(n);
    if (!px) return -3;
    if ((e = cnv_wire_read(r, px, n))) {
        free(px);
        return e;
    }
    out->w = size[0], out->h = size[1], out->c = size[2], out->px = px;
    return 0;
}

cnv_status cnv_image_load(const char *path, int channels, cnv_image *out) {
    memset(out, 0, sizeof *out);
    if (channels != 1 && channels != 3)
        return cnv_fail(CNV_ERR_ARG, "%s: images load as 1 or 3 channels, not %d", path, channels);
    const unsigned seconds = limit_seconds();
    const size_t memory = ((size_t)256 << 20) + 8 * cnv_image_max_pixels();
    image_job job = {path, channels};
    cnv_sandbox sb;
    CNV_TRY(cnv_sandbox_start(path, "decoder", memory, seconds, decoder, &job, &sb));
    cnv_wire_reader r = {sb.fd, cnv_wire_now() + seconds, 0};
    char msg[1024];
    cnv_status st = CNV_OK;
    int e = read_reply(&r, channels, &st, msg, sizeof msg, out);
    int ws = cnv_sandbox_finish(&sb, e != 0); /* killed when hung or talking nonsense */
    if (e == -3) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory for the decoded picture", path);
    if (e == -2 || (e && WIFSIGNALED(ws) && WTERMSIG(ws) == SIGXCPU))
        return cnv_fail(CNV_ERR_LIMIT, "%s: decoding took longer than %u s (a malformed image? raise the limit with "
                        "CNNVIS_IMAGE_SECONDS)", path, seconds);
    if (e && WIFSIGNALED(ws))
        return cnv_fail(CNV_ERR_FORMAT, "%s: malformed image: the decoder crashed on it (signal %d, %s)", path,
                        WTERMSIG(ws), strsignal(WTERMSIG(ws)));
    if (e) return cnv_fail(CNV_ERR_FORMAT, "%s: malformed image: the decoder gave no usable picture", path);
    if (st != CNV_OK) return cnv_fail(st, "%s", msg);
    return CNV_OK;
}
