/* libhdf5 is not safe on hostile files: a malformed .h5 can crash it (a segfault in the
 * attribute reads), make it spin for minutes or allocate gigabytes from a few kilobytes. So a
 * Keras file is read in a child process under an address-space and CPU limit, with a wall-clock
 * deadline; the finished graph comes back over a pipe (core/graph_wire.c) and is checked there.
 * A crash, a limit hit or a damaged reply becomes CNV_ERR_FORMAT / CNV_ERR_LIMIT naming the file,
 * so the CLI exits 2 with one line. The parent never calls HDF5 itself.
 *
 * Limits (documented in the README), per file of S MiB: memory 512 + 6 S MiB, time 10 + S/16 s;
 * CNNVIS_H5_MEMORY_MB and CNNVIS_H5_SECONDS override them. */
#include "models/keras_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
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

typedef struct sandbox_limits {
    size_t memory; /* bytes the child may add to its address space */
    unsigned seconds;
} sandbox_limits;

static unsigned long env_number(const char *name, unsigned long fallback) {
    const char *s = getenv(name);
    if (!s || !*s) return fallback;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    return (*end || errno || v == 0) ? fallback : v;
}

static sandbox_limits limits_for(const char *path) {
    struct stat st;
    unsigned long mib = stat(path, &st) == 0 ? (unsigned long)(st.st_size >> 20) : 0;
    sandbox_limits l;
    l.memory = (size_t)env_number("CNNVIS_H5_MEMORY_MB", 512 + 6 * mib) << 20;
    l.seconds = (unsigned)env_number("CNNVIS_H5_SECONDS", 10 + mib / 16);
    return l;
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

static void report(int fd, cnv_status st, const char *msg, const cnv_graph *g) {
    int32_t code = (int32_t)st;
    uint32_t len = (uint32_t)strlen(msg);
    if (cnv_wire_write(fd, &code, sizeof code) || cnv_wire_write(fd, &len, sizeof len) || cnv_wire_write(fd, msg, len))
        return;
    if (st == CNV_OK) cnv_graph_wire_write(fd, g);
}

static _Noreturn void child(int fd, const char *path, const char *arch, int side, const sandbox_limits *l,
                            size_t base) {
    /* The parent's handlers (temporary-file cleanup) are not the child's business. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    /* Whatever the reader prints (libhdf5, a sanitizer's allocation warnings) is not for the
     * user: the parent's one line is the report. fuzz_keras_h5 shows it, running in-process. */
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, STDERR_FILENO);
    if (!UNDER_ASAN && base) {
        struct rlimit as = {base + l->memory, base + l->memory};
        setrlimit(RLIMIT_AS, &as);
    }
    struct rlimit cpu = {l->seconds, l->seconds + 1};
    setrlimit(RLIMIT_CPU, &cpu);
    cnv_graph *g = NULL;
    cnv_status st = keras_load_direct(path, arch, side, &g);
    if (st == CNV_ERR_NOMEM)
        st = cnv_fail(CNV_ERR_LIMIT, "%s: reading it needs more than %zu MiB, the limit for this file (raise it with "
                      "CNNVIS_H5_MEMORY_MB)", path, l->memory >> 20);
    report(fd, st, st == CNV_OK ? "" : cnv_last_error(), g);
    _exit(0);
}

/* Reads the child's reply: its status and message, then the graph. */
static int read_reply(cnv_wire_reader *r, cnv_status *st, char *msg, size_t msg_size, cnv_graph **g) {
    int32_t code;
    uint32_t len;
    int e = cnv_wire_read(r, &code, sizeof code);
    if (!e) e = cnv_wire_read(r, &len, sizeof len);
    if (e) return e;
    if (code < 0 || code >= CNV_STATUS_COUNT || len >= msg_size) return -1;
    if ((e = cnv_wire_read(r, msg, len))) return e;
    msg[len] = '\0';
    *st = (cnv_status)code;
    return *st == CNV_OK ? cnv_graph_wire_read(r, g) : 0;
}

static int wait_child(pid_t pid) {
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    return ws;
}

/* What went wrong when no good reply came: a signal in the child, a limit, a short reply. */
static cnv_status explain(const char *path, int e, int ws, const sandbox_limits *l) {
    if (e == -2 || (WIFSIGNALED(ws) && WTERMSIG(ws) == SIGXCPU))
        return cnv_fail(CNV_ERR_LIMIT, "%s: reading it took longer than %u s, the limit for this file (a malformed "
                        "HDF5 file? raise it with CNNVIS_H5_SECONDS)", path, l->seconds);
    if (e == -3)
        return cnv_fail(CNV_ERR_LIMIT, "%s: its model needs more than %zu MiB, the limit for this file (raise it with "
                        "CNNVIS_H5_MEMORY_MB)", path, l->memory >> 20);
    if (WIFSIGNALED(ws))
        return cnv_fail(CNV_ERR_FORMAT, "%s: malformed HDF5 file: libhdf5 crashed reading it (signal %d, %s)", path,
                        WTERMSIG(ws), strsignal(WTERMSIG(ws)));
    return cnv_fail(CNV_ERR_FORMAT, "%s: malformed HDF5 file: the reader gave no usable model", path);
}

cnv_status keras_load_isolated(const char *path, const char *arch, int side, cnv_graph **out) {
    *out = NULL;
    sandbox_limits l = limits_for(path);
    int fds[2];
    if (pipe(fds) != 0) return cnv_fail(CNV_ERR_INTERNAL, "%s: cannot create a pipe: %s", path, strerror(errno));
    size_t base = address_space_now();
    fflush(NULL); /* nothing buffered twice */
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return cnv_fail(CNV_ERR_INTERNAL, "%s: cannot start the reader process: %s", path, strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        child(fds[1], path, arch, side, &l, base);
    }
    close(fds[1]);
    cnv_wire_reader r = {fds[0], cnv_wire_now() + l.seconds, l.memory};
    char msg[1024];
    cnv_status st = CNV_OK;
    cnv_graph *g = NULL;
    int e = read_reply(&r, &st, msg, sizeof msg, &g);
    close(fds[0]);
    if (e) kill(pid, SIGKILL); /* hung, over the limit, or talking nonsense */
    int ws = wait_child(pid);
    if (e) return explain(path, e, ws, &l);
    if (st != CNV_OK) return cnv_fail(st, "%s", msg);
    *out = g;
    return CNV_OK;
}
