#include "io/idx.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/status.h"

#define IDX_TYPE_UBYTE 0x08
/* Guards against absurd headers before allocating: 2^31 bytes is far above any MNIST-style set. */
#define IDX_MAX_BYTES ((size_t)1 << 31)

static cnv_status read_exact(gzFile f, const char *path, void *dst, size_t n, const char *what) {
    unsigned char *p = dst;
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
        int got = gzread(f, p, chunk);
        if (got <= 0) {
            int zerr = 0;
            const char *msg = gzerror(f, &zerr);
            if (got < 0 || zerr != Z_OK) return cnv_fail(CNV_ERR_FORMAT, "%s: cannot read the %s (%s)", path, what, msg);
            return cnv_fail(CNV_ERR_FORMAT, "%s: truncated %s", path, what);
        }
        p += got;
        n -= (size_t)got;
    }
    return CNV_OK;
}

static cnv_status read_header(gzFile f, const char *path, int ndim, int limit, cnv_idx *out) {
    unsigned char magic[4];
    CNV_TRY(read_exact(f, path, magic, 4, "header"));
    if (magic[0] || magic[1])
        return cnv_fail(CNV_ERR_FORMAT, "%s: not an IDX file (bad magic %02x%02x%02x%02x)", path, magic[0], magic[1],
                        magic[2], magic[3]);
    if (magic[2] != IDX_TYPE_UBYTE)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: IDX value type 0x%02x (only unsigned bytes, 0x08, are read)", path,
                        magic[2]);
    if (magic[3] != ndim)
        return cnv_fail(CNV_ERR_FORMAT, "%s: %d dimensions where %d were expected", path, magic[3], ndim);
    out->ndim = ndim;
    size_t total = 1;
    for (int i = 0; i < ndim; i++) {
        unsigned char b[4];
        CNV_TRY(read_exact(f, path, b, 4, "header"));
        uint32_t d = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        if (d == 0 || d > (uint32_t)1 << 30) return cnv_fail(CNV_ERR_FORMAT, "%s: dimension %d is %u", path, i, d);
        out->dims[i] = (int)d;
        if (i == 0 && limit > 0 && limit < out->dims[0]) out->dims[0] = limit;
        if (total > IDX_MAX_BYTES / d) return cnv_fail(CNV_ERR_FORMAT, "%s: too large (over 2 GiB)", path);
        total *= out->dims[i];
    }
    return CNV_OK;
}

/* The n data bytes the header announced, in a buffer that grows with what actually arrives: a
 * header may claim 2 GiB in a 20-byte file (or a gzip stream), and nothing should be allocated for
 * bytes that are not there. */
static cnv_status read_data(gzFile f, const char *path, size_t n, unsigned char **data) {
    size_t cap = n < ((size_t)1 << 20) ? n : ((size_t)1 << 20), have = 0;
    unsigned char *buf = malloc(cap ? cap : 1);
    cnv_status s = buf ? CNV_OK : cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", path);
    while (s == CNV_OK && have < n) {
        if (have == cap) {
            size_t grown_cap = cap * 2 < n ? cap * 2 : n;
            unsigned char *grown = realloc(buf, grown_cap);
            if (!grown) {
                s = cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            buf = grown;
            cap = grown_cap;
        }
        s = read_exact(f, path, buf + have, cap - have, "data");
        if (s == CNV_OK) have = cap;
    }
    if (s != CNV_OK) {
        free(buf);
        buf = NULL;
    }
    *data = buf;
    return s;
}

cnv_status cnv_idx_read(const char *path, int ndim, int limit, cnv_idx *out) {
    memset(out, 0, sizeof *out);
    if (ndim < 1 || ndim > CNV_IDX_MAX_DIMS) return cnv_fail(CNV_ERR_INTERNAL, "%s: %d dimensions asked for", path, ndim);
    gzFile f = gzopen(path, "rb");
    if (!f) return cnv_fail(CNV_ERR_IO, "%s: cannot open (%s)", path, errno ? strerror(errno) : "out of memory");
    cnv_status s = read_header(f, path, ndim, limit, out);
    size_t n = 1;
    for (int i = 0; s == CNV_OK && i < ndim; i++) n *= (size_t)out->dims[i];
    if (s == CNV_OK) s = read_data(f, path, n, &out->data);
    gzclose(f);
    if (s != CNV_OK) cnv_idx_free(out);
    return s;
}

void cnv_idx_free(cnv_idx *idx) {
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}
