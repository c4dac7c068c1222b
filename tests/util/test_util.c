#include "test_util.h"

#include "core/check.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

double tu_rel_error(const float *a, const float *b, size_t n) { return cnv_rel_error(a, b, n); }

double tu_rel_error_d(const double *a, const double *b, size_t n) {
    double diff = 0.0, ref = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = a[i] - b[i];
        diff += d * d;
        ref += b[i] * b[i];
    }
    if (ref == 0.0) return diff == 0.0 ? 0.0 : INFINITY;
    return sqrt(diff / ref);
}

double tu_pearson(const float *a, const float *b, size_t n) {
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        ma += a[i];
        mb += b[i];
    }
    ma /= (double)n;
    mb /= (double)n;
    for (size_t i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / sqrt(saa * sbb);
}

void tu_expect_ok(cnv_status s) {
    if (s != CNV_OK) fail_msg("%s (%s)", cnv_status_str(s), cnv_last_error());
}

void *tu_calloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size);
    assert_non_null(p);
    return p;
}

static char path_buf[4096];

const char *tu_shared_path(const char *relative) {
    struct stat st;
    if (stat(CNNVIS_SHARED_DIR, &st) != 0 || !S_ISDIR(st.st_mode))
        fail_msg("shared data folder %s is absent (it lives beside the repository); cannot read %s",
                 CNNVIS_SHARED_DIR, relative);
    snprintf(path_buf, sizeof path_buf, "%s/%s", CNNVIS_SHARED_DIR, relative);
    return path_buf;
}

/* CNNVIS_FIXTURE_DIR in the environment overrides the source tree's folder (the device kit
 * carries its fixtures elsewhere). */
const char *tu_fixture_path(const char *relative) {
    const char *dir = getenv("CNNVIS_FIXTURE_DIR");
    snprintf(path_buf, sizeof path_buf, "%s/%s", dir && *dir ? dir : CNNVIS_FIXTURE_DIR, relative);
    return path_buf;
}

void tu_fill_uniform(cnv_rng *r, float *x, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * cnv_rng_uniform(r);
}

/* One captured stream: appends what fits, drops the rest, always NUL-terminated. */
typedef struct capture {
    int fd;
    char *buf;
    size_t cap, len;
} capture;

/* Reads what is available; returns 0 at end of stream. */
static int capture_read(capture *c) {
    char chunk[4096];
    ssize_t got = read(c->fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) return 1;
    if (got <= 0) return 0;
    if (c->buf && c->cap > 0) {
        size_t room = c->cap - 1 - c->len, take = (size_t)got < room ? (size_t)got : room;
        memcpy(c->buf + c->len, chunk, take);
        c->len += take;
        c->buf[c->len] = '\0';
    }
    return 1;
}

int tu_run_cli(const char *args, char *out, size_t out_cap, char *err, size_t err_cap) {
    char cmd[8192];
    int po[2], pe[2];
    /* CNNVIS_TEST_CLI: the binary beside relocated test binaries (bench/device/run.sh). */
    const char *cli = getenv("CNNVIS_TEST_CLI");
    if (snprintf(cmd, sizeof cmd, "exec '%s' %s", cli && *cli ? cli : CNNVIS_CLI, args) >= (int)sizeof cmd)
        fail_msg("tu_run_cli: command line too long");
    if (out && out_cap) out[0] = '\0';
    if (err && err_cap) err[0] = '\0';
    if (pipe(po) != 0 || pipe(pe) != 0) fail_msg("tu_run_cli: pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) fail_msg("tu_run_cli: fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(po[1], STDOUT_FILENO);
        dup2(pe[1], STDERR_FILENO);
        close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    /* Both pipes are drained together so that a child filling one cannot block on it. */
    capture cs[2] = {{po[0], out, out_cap, 0}, {pe[0], err, err_cap, 0}};
    int open_streams = 2;
    struct pollfd pf[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    while (open_streams > 0) {
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR) continue;
            fail_msg("tu_run_cli: poll: %s", strerror(errno));
        }
        for (int i = 0; i < 2; i++) {
            if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            if (!capture_read(&cs[i])) {
                close(pf[i].fd);
                pf[i].fd = -1;
                open_streams--;
            }
        }
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) fail_msg("tu_run_cli: waitpid: %s", strerror(errno));
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + WTERMSIG(status); /* the shell's convention for a signalled child */
}
