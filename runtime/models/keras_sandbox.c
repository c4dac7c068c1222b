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
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "core/graph_wire.h"
#include "core/sandbox.h"
#include "core/status.h"

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

static void report(int fd, cnv_status st, const char *msg, const cnv_graph *g) {
    int32_t code = (int32_t)st;
    uint32_t len = (uint32_t)strlen(msg);
    if (cnv_wire_write(fd, &code, sizeof code) || cnv_wire_write(fd, &len, sizeof len) || cnv_wire_write(fd, msg, len))
        return;
    if (st == CNV_OK) cnv_graph_wire_write(fd, g);
}

typedef struct keras_job {
    const char *path, *arch;
    int height, width; /* the size asked for: it is the child that builds the graph */
    const sandbox_limits *limits;
} keras_job;

/* What runs in the child (core/sandbox.c sets the limits). */
static void reader(int fd, void *user) {
    const keras_job *j = user;
    cnv_graph *g = NULL;
    cnv_status st = keras_load_direct(j->path, j->arch, j->height, j->width, &g);
    if (st == CNV_ERR_NOMEM)
        st = cnv_fail(CNV_ERR_LIMIT, "%s: reading it needs more than %zu MiB, the limit for this file (raise it with "
                      "CNNVIS_H5_MEMORY_MB)", j->path, j->limits->memory >> 20);
    report(fd, st, st == CNV_OK ? "" : cnv_last_error(), g);
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

cnv_status keras_load_isolated(const char *path, const char *arch, int height, int width, cnv_graph **out) {
    *out = NULL;
    sandbox_limits l = limits_for(path);
    keras_job job = {path, arch, height, width, &l};
    cnv_sandbox sb;
    CNV_TRY(cnv_sandbox_start(path, "reader", l.memory, l.seconds, reader, &job, &sb));
    cnv_wire_reader r = {sb.fd, cnv_wire_now() + l.seconds, l.memory};
    char msg[1024];
    cnv_status st = CNV_OK;
    cnv_graph *g = NULL;
    int e = read_reply(&r, &st, msg, sizeof msg, &g);
    int ws = cnv_sandbox_finish(&sb, e != 0); /* killed when hung, over the limit, or talking nonsense */
    if (e) return explain(path, e, ws, &l);
    if (st != CNV_OK) return cnv_fail(st, "%s", msg);
    *out = g;
    return CNV_OK;
}
