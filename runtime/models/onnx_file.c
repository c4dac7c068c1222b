/* Reading an ONNX file (a model or a .pb tensor) into memory: one buffer of the file's size,
 * filled by read(2), hashed on the way when asked.
 *
 * Why read(2) and not mmap(2): a mapped file that another process truncates while it is mapped
 * raises SIGBUS on the next touch of a page past the new end, and the importer touches the
 * weights long after opening them. A buffer the process owns cannot change under it: a file
 * truncated or grown while it is read gives one line saying so, never a signal. The weights
 * then live in this same buffer (onnx_split.c moves them into place), so reading costs no
 * copy that a mapping would have saved. */
#include "onnx_internal.h"
#include "core/sha256.h"
#include "core/status.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Read calls of at most this size, so that a digest reads each piece while it is still in the cache. */
#define ONNX_READ_CHUNK ((size_t)1 << 20)

/* Fills buf with exactly n bytes from fd; -1 on an error, else the bytes read (less at an early end). */
static ssize_t read_full(int fd, uint8_t *buf, size_t n, cnv_sha256 *hash) {
    size_t got = 0;
    while (got < n) {
        size_t want = n - got < ONNX_READ_CHUNK ? n - got : ONNX_READ_CHUNK;
        ssize_t r = read(fd, buf + got, want);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) break;
        if (hash) cnv_sha256_update(hash, buf + got, (size_t)r);
        got += (size_t)r;
    }
    return (ssize_t)got;
}

cnv_status onnx_read_file(const char *path, uint8_t **data, size_t *size, char *sha256) {
    *data = NULL;
    *size = 0;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return cnv_fail(CNV_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
    struct stat sb;
    cnv_status st = CNV_OK;
    uint8_t *buf = NULL;
    cnv_sha256 hash;
    if (sha256) cnv_sha256_init(&hash);
    if (fstat(fd, &sb) != 0)
        st = cnv_fail(CNV_ERR_IO, "%s: cannot read (%s)", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = cnv_fail(CNV_ERR_FORMAT, "%s: not a regular file", path);
    else if ((uint64_t)sb.st_size > SIZE_MAX - 1 || !(buf = malloc(sb.st_size ? (size_t)sb.st_size : 1)))
        st = cnv_fail(CNV_ERR_NOMEM, "%s: out of memory reading the file (%lld bytes)", path, (long long)sb.st_size);
    if (st == CNV_OK) {
        const size_t n = (size_t)sb.st_size;
        uint8_t extra;
        ssize_t got = read_full(fd, buf, n, sha256 ? &hash : NULL);
        ssize_t more = got == (ssize_t)n ? read_full(fd, &extra, 1, NULL) : 0;
        if (got < 0 || more < 0)
            st = cnv_fail(CNV_ERR_IO, "%s: read error (%s)", path, strerror(errno));
        else if (got != (ssize_t)n)
            st = cnv_fail(CNV_ERR_IO, "%s: the file shrank while it was read (%lld bytes when opened, %lld there)",
                          path, (long long)n, (long long)got);
        else if (more)
            st = cnv_fail(CNV_ERR_IO, "%s: the file grew while it was read (%lld bytes when opened)", path,
                          (long long)n);
    }
    close(fd);
    if (st != CNV_OK) {
        free(buf);
        return st;
    }
    if (sha256) cnv_sha256_hex(&hash, sha256);
    *data = buf;
    *size = (size_t)sb.st_size;
    return CNV_OK;
}
