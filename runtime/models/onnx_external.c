/* ONNX external data: a model beyond protobuf's 2 GB limit for one file (torchvision's
 * regnet_y_128gf, 2.6 GB of weights) keeps its tensors' bytes in files beside it, each tensor
 * naming its file, offset and length. The file names come from the model, so they are not
 * trusted: a name that could leave the model's folder (absolute, or with a ".." part) is
 * refused, the file must be a regular file (a FIFO would block the read forever), the range
 * must lie inside it, and nothing is allocated before the file is known to hold the bytes. */
#include "onnx_internal.h"
#include "core/status.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A decimal integer as ONNX writes offset and length: digits only, no sign, no overflow. */
static int parse_size(const char *s, uint64_t *v) {
    if (!s || !*s) return 0;
    uint64_t x = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || x > (UINT64_MAX - 9) / 10) return 0;
        x = x * 10 + (uint64_t)(*s - '0');
    }
    *v = x;
    return 1;
}

/* Whether `location` stays inside the model's folder: relative, with no ".." part. */
static int stays_inside(const char *location) {
    if (!*location || location[0] == '/') return 0;
    for (const char *p = location; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') return 0;
        p += n;
        if (*p == '/') p++;
    }
    return 1;
}

/* model's folder + "/" + location (or location alone for a model in the current folder). */
static char *external_path(const char *model, const char *location) {
    const char *slash = strrchr(model, '/');
    size_t dir = slash ? (size_t)(slash - model) + 1 : 0, n = strlen(location);
    char *path = malloc(dir + n + 1);
    if (!path) return NULL;
    memcpy(path, model, dir);
    memcpy(path + dir, location, n + 1);
    return path;
}

static cnv_status read_range(int fd, uint8_t *buf, size_t need, uint64_t offset) {
    for (size_t got = 0; got < need;) {
        ssize_t r = pread(fd, buf + got, need - got, (off_t)(offset + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return CNV_ERR_IO;
        got += (size_t)r;
    }
    return CNV_OK;
}

cnv_status onnx_external_bytes(const Onnx__TensorProto *t, const char *where, const char *what, const char *name,
                               size_t need, uint8_t **bytes) {
    *bytes = NULL;
    const char *location = NULL, *offset_text = NULL, *length_text = NULL;
    for (size_t k = 0; k < t->n_external_data; k++) {
        const Onnx__StringStringEntryProto *e = t->external_data[k];
        if (!e->key || !e->value) continue;
        if (!strcmp(e->key, "location")) location = e->value;
        if (!strcmp(e->key, "offset")) offset_text = e->value;
        if (!strcmp(e->key, "length")) length_text = e->value;
    }
    uint64_t offset = 0, length = need;
    if (!location) return cnv_fail(CNV_ERR_FORMAT, "%s: %s '%s' has external data with no location", where, what, name);
    if (!stays_inside(location))
        return cnv_fail(CNV_ERR_FORMAT, "%s: %s '%s': external data location '%s' is not inside the model's folder",
                        where, what, name, location);
    if ((offset_text && !parse_size(offset_text, &offset)) || (length_text && !parse_size(length_text, &length)) ||
        offset > (uint64_t)INT64_MAX)
        return cnv_fail(CNV_ERR_FORMAT, "%s: %s '%s': external data has an invalid offset or length", where, what,
                        name);
    if (length != need)
        return cnv_fail(CNV_ERR_FORMAT, "%s: %s '%s': external data holds %llu bytes, its dims need %zu", where, what,
                        name, (unsigned long long)length, need);
    char *path = external_path(where, location);
    if (!path) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", where);
    cnv_status st = CNV_OK;
    /* O_NOFOLLOW: the file itself may not be a link out of the folder. */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat sb;
    if (fd < 0)
        st = cnv_fail(CNV_ERR_IO, "%s: %s '%s': cannot open its external data %s (%s)", where, what, name, path,
                      strerror(errno));
    else if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        st = cnv_fail(CNV_ERR_FORMAT, "%s: %s '%s': its external data %s is not a regular file", where, what, name,
                      path);
    else if ((uint64_t)sb.st_size < offset || (uint64_t)sb.st_size - offset < need)
        st = cnv_fail(CNV_ERR_FORMAT, "%s: %s '%s': its external data %s holds %lld bytes, the tensor needs %zu at offset %llu",
                      where, what, name, path, (long long)sb.st_size, need, (unsigned long long)offset);
    else if (!(*bytes = malloc(need ? need : 1)))
        st = cnv_fail(CNV_ERR_NOMEM, "%s: out of memory reading %s '%s'", where, what, name);
    else if (read_range(fd, *bytes, need, offset) != CNV_OK)
        st = cnv_fail(CNV_ERR_IO, "%s: %s '%s': read error in its external data %s", where, what, name, path);
    if (st != CNV_OK) {
        free(*bytes);
        *bytes = NULL;
    }
    if (fd >= 0) close(fd);
    free(path);
    return st;
}
