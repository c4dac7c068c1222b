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

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/graph_wire.h"
#include "core/status.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0 /* ASan reserves terabytes of shadow memory: an address-space limit breaks it */
#endif

static unsigned limit_seconds(void) {
    const char *s = getenv("CNNVIS_IMAGE_SECONDS");
    if (s && *s) {
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (!*end && v > 0 && v < 86400) return (unsigned)v;
    }
    return 10 + (unsigned)(cnv_image_max_pixels() / 4000000);
}

/* The process's current address-space size (Linux /proc), 0 when unknown. */
static size_t address_space_now(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (!f) return 0;
    if (fscanf(f, "%lu", &pages) != 1) pages = 0;
    fclose(f);
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

/* The reply: status, message length, message; then, for CNV_OK, w, h, c and w*h*c bytes. */
static _Noreturn void child(int fd, const char *path, int channels, size_t base, unsigned seconds) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    int null = open("/dev/null", O_WRONLY); /* the parent's one line is the report */
    if (null >= 0) dup2(null, STDERR_FILENO);
    if (!UNDER_ASAN && base) {
        size_t memory = ((size_t)256 << 20) + 8 * cnv_image_max_pixels();
        struct rlimit as = {base + memory, base + memory};
        setrlimit(RLIMIT_AS, &as);
    }
    struct rlimit cpu = {seconds, seconds + 1};
    setrlimit(RLIMIT_CPU, &cpu);
    cnv_image img;
    cnv_status st = cnv_image_decode_direct(path, channels, &img);
    const char *msg = st == CNV_OK ? "" : cnv_last_error();
    int32_t head[2] = {(int32_t)st, (int32_t)strlen(msg)};
    if (!cnv_wire_write(fd, head, sizeof head) && !cnv_wire_write(fd, msg, strlen(msg)) && st == CNV_OK) {
        int32_t size[3] = {img.w, img.h, img.c};
        if (!cnv_wire_write(fd, size, sizeof size))
            cnv_wire_write(fd, img.px, (size_t)img.w * (size_t)img.h * (size_t)img.c);
    }
    _exit(0);
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
    int fds[2];
    if (pipe(fds) != 0) return cnv_fail(CNV_ERR_INTERNAL, "%s: cannot create a pipe: %s", path, strerror(errno));
    size_t base = address_space_now();
    fflush(NULL); /* nothing buffered twice */
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return cnv_fail(CNV_ERR_INTERNAL, "%s: cannot start the decoder process: %s", path, strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        child(fds[1], path, channels, base, seconds);
    }
    close(fds[1]);
    cnv_wire_reader r = {fds[0], cnv_wire_now() + seconds, 0};
    char msg[1024];
    cnv_status st = CNV_OK;
    int e = read_reply(&r, channels, &st, msg, sizeof msg, out);
    close(fds[0]);
    if (e) kill(pid, SIGKILL); /* hung, or talking nonsense */
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
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
