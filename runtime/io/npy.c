/* NumPy .npy (format versions 1.0 to 3.0): a magic string, a little Python dict literal as
 * header ('descr', 'fortran_order', 'shape'), then the raw array. Only what numpy writes for a
 * float array is accepted; anything else is rejected with a message naming the file. Values
 * are stored little-endian; they are assembled byte by byte so that any host reads them. */
#include "io/npy.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/checked.h"
#include "core/status.h"
#include "io/atomic_file.h"

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};
/* Header alignment numpy uses since 1.17 (the data then starts on a 64-byte boundary). */
#define NPY_ALIGN 64
#define NPY_MAX_HEADER (1u << 20)

typedef struct npy_header {
    int item_size; /* 4 (float32) or 8 (float64) */
    cnv_shape shape;
} npy_header;

/* Returns a pointer just past the ':' following the quoted key, or NULL. */
static const char *find_key(const char *text, const char *key) {
    char quoted[32];
    for (int q = 0; q < 2; q++) {
        snprintf(quoted, sizeof quoted, q ? "\"%s\"" : "'%s'", key);
        const char *p = strstr(text, quoted);
        if (!p) continue;
        p += strlen(quoted);
        while (*p == ' ') p++;
        if (*p == ':') return p + 1;
    }
    return NULL;
}

static const char *skip_spaces(const char *p) {
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

static cnv_status parse_descr(const char *path, const char *text, npy_header *h) {
    const char *p = find_key(text, "descr");
    if (!p) return cnv_fail(CNV_ERR_FORMAT, "%s: .npy header has no 'descr'", path);
    p = skip_spaces(p);
    char quote = *p;
    if (quote != '\'' && quote != '"') return cnv_fail(CNV_ERR_FORMAT, "%s: .npy 'descr' is not a string", path);
    const char *end = strchr(p + 1, quote);
    if (!end || end - p - 1 > 15) return cnv_fail(CNV_ERR_FORMAT, "%s: .npy 'descr' is malformed", path);
    char descr[16];
    memcpy(descr, p + 1, (size_t)(end - p - 1));
    descr[end - p - 1] = '\0';
    if (strcmp(descr, "<f4") == 0)
        h->item_size = 4;
    else if (strcmp(descr, "<f8") == 0)
        h->item_size = 8;
    else
        return cnv_fail(CNV_ERR_UNSUPPORTED,
                        "%s: .npy dtype '%s' is not supported (use float32 '<f4' or float64 '<f8')", path, descr);
    return CNV_OK;
}

static cnv_status parse_order(const char *path, const char *text) {
    const char *p = find_key(text, "fortran_order");
    if (!p) return cnv_fail(CNV_ERR_FORMAT, "%s: .npy header has no 'fortran_order'", path);
    p = skip_spaces(p);
    if (strncmp(p, "False", 5) == 0) return CNV_OK;
    if (strncmp(p, "True", 4) == 0)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: .npy in Fortran order is not supported (save a C-order array)", path);
    return cnv_fail(CNV_ERR_FORMAT, "%s: .npy 'fortran_order' is malformed", path);
}

static cnv_status parse_shape(const char *path, const char *text, npy_header *h) {
    const char *p = find_key(text, "shape");
    if (!p) return cnv_fail(CNV_ERR_FORMAT, "%s: .npy header has no 'shape'", path);
    p = skip_spaces(p);
    if (*p != '(') return cnv_fail(CNV_ERR_FORMAT, "%s: .npy 'shape' is not a tuple", path);
    p++;
    h->shape.ndim = 0;
    for (;;) {
        p = skip_spaces(p);
        if (*p == ')') break;
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 0 || v > INT_MAX)
            return cnv_fail(CNV_ERR_FORMAT, "%s: .npy 'shape' is malformed", path);
        if (h->shape.ndim == CNV_MAX_DIMS)
            return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: .npy has more than %d dimensions", path, CNV_MAX_DIMS);
        h->shape.d[h->shape.ndim++] = (int)v;
        p = skip_spaces(end);
        if (*p == ',') p++;
        else if (*p != ')') return cnv_fail(CNV_ERR_FORMAT, "%s: .npy 'shape' is malformed", path);
    }
    size_t numel = 1;
    for (int i = 0; i < h->shape.ndim; i++) {
        if (h->shape.d[i] == 0) return cnv_fail(CNV_ERR_SHAPE, "%s: .npy array is empty", path);
        if (numel > SIZE_MAX / 8 / (size_t)h->shape.d[i])
            return cnv_fail(CNV_ERR_FORMAT, "%s: .npy shape is too large", path);
        numel *= (size_t)h->shape.d[i];
    }
    return CNV_OK;
}

static cnv_status read_header(const char *path, FILE *f, npy_header *h) {
    unsigned char pre[10];
    if (fread(pre, 1, 8, f) != 8 || memcmp(pre, npy_magic, sizeof npy_magic) != 0)
        return cnv_fail(CNV_ERR_FORMAT, "%s: not a .npy file (bad magic)", path);
    int major = pre[6];
    uint32_t header_len;
    if (major == 1) {
        if (fread(pre + 8, 1, 2, f) != 2) return cnv_fail(CNV_ERR_FORMAT, "%s: truncated .npy header", path);
        header_len = (uint32_t)pre[8] | (uint32_t)pre[9] << 8;
    } else if (major == 2 || major == 3) {
        unsigned char len4[4];
        if (fread(len4, 1, 4, f) != 4) return cnv_fail(CNV_ERR_FORMAT, "%s: truncated .npy header", path);
        header_len = (uint32_t)len4[0] | (uint32_t)len4[1] << 8 | (uint32_t)len4[2] << 16 | (uint32_t)len4[3] << 24;
    } else {
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: .npy format version %d is not supported", path, major);
    }
    if (header_len == 0 || header_len > NPY_MAX_HEADER)
        return cnv_fail(CNV_ERR_FORMAT, "%s: .npy header length %u is implausible", path, (unsigned)header_len);
    char *text = malloc(header_len + 1);
    if (!text) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", path);
    cnv_status s = CNV_OK;
    if (fread(text, 1, header_len, f) != header_len) {
        s = cnv_fail(CNV_ERR_FORMAT, "%s: truncated .npy header", path);
    } else {
        text[header_len] = '\0';
        s = parse_descr(path, text, h);
        if (s == CNV_OK) s = parse_order(path, text);
        if (s == CNV_OK) s = parse_shape(path, text, h);
    }
    free(text);
    return s;
}

static float decode_le(const unsigned char *b, int item_size) {
    if (item_size == 4) {
        uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        float v;
        memcpy(&v, &u, sizeof v);
        return v;
    }
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--) u = u << 8 | b[i];
    double v;
    memcpy(&v, &u, sizeof v);
    return (float)v;
}

cnv_status cnv_npy_read(const char *path, float **data, cnv_shape *shape) {
    *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return cnv_fail(CNV_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    npy_header h = {0};
    cnv_status s = read_header(path, f, &h);
    if (s != CNV_OK) {
        fclose(f);
        return s;
    }
    size_t numel = cnv_shape_numel(&h.shape);
    /* The header's claim against the file's size, before allocating for it. */
    struct stat st;
    long data_start = ftell(f);
    size_t need;
    if (fstat(fileno(f), &st) != 0 || data_start < 0 || !cnv_size_mul(numel, (size_t)h.item_size, &need) ||
        (uintmax_t)st.st_size < (uintmax_t)data_start + need) {
        fclose(f);
        return cnv_fail(CNV_ERR_FORMAT, "%s: truncated .npy: the header announces %zu values (%zu bytes of data), the "
                        "file holds %jd bytes after the header", path, numel, numel * (size_t)h.item_size,
                        (intmax_t)(st.st_size - (data_start < 0 ? 0 : data_start)));
    }
    float *out = malloc(numel * sizeof *out);
    if (!out) {
        fclose(f);
        return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory for %zu values", path, numel);
    }
    /* Read in chunks so that a float64 file needs no second full-size buffer. */
    unsigned char chunk[8 * 4096];
    size_t per_chunk = sizeof chunk / (size_t)h.item_size;
    for (size_t done = 0; done < numel;) {
        size_t n = numel - done < per_chunk ? numel - done : per_chunk;
        if (fread(chunk, (size_t)h.item_size, n, f) != n) {
            free(out);
            fclose(f);
            return cnv_fail(CNV_ERR_FORMAT, "%s: truncated .npy data (%zu values expected)", path, numel);
        }
        for (size_t i = 0; i < n; i++) out[done + i] = decode_le(chunk + i * (size_t)h.item_size, h.item_size);
        done += n;
    }
    fclose(f);
    *data = out;
    *shape = h.shape;
    return CNV_OK;
}

/* The header dict, padded with spaces and ended by '\n' so that the data is aligned. */
static size_t format_header(const cnv_shape *shape, char *buf, size_t size) {
    int n = snprintf(buf, size, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < shape->ndim; i++)
        n += snprintf(buf + n, size - (size_t)n, i ? ", %d" : "%d", shape->d[i]);
    n += snprintf(buf + n, size - (size_t)n, shape->ndim == 1 ? ",), }" : "), }");
    size_t total = 10 + (size_t)n + 1; /* magic, version, length, text, '\n' */
    size_t padded = (total + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
    size_t len = (size_t)n + (padded - total);
    memset(buf + n, ' ', len - (size_t)n);
    buf[len] = '\n';
    return len + 1;
}

cnv_status cnv_npy_write(const char *path, const float *data, const cnv_shape *shape) {
    if (shape->ndim < 0 || shape->ndim > CNV_MAX_DIMS)
        return cnv_fail(CNV_ERR_ARG, "%s: cannot write a %d-dimensional array", path, shape->ndim);
    char header[256];
    size_t header_len = format_header(shape, header, sizeof header);
    cnv_atomic_file af;
    CNV_TRY(cnv_atomic_open(path, &af));
    unsigned char pre[10];
    memcpy(pre, npy_magic, sizeof npy_magic);
    pre[6] = 1;
    pre[7] = 0;
    pre[8] = (unsigned char)(header_len & 0xff);
    pre[9] = (unsigned char)(header_len >> 8);
    fwrite(pre, 1, sizeof pre, af.f);
    fwrite(header, 1, header_len, af.f);
    size_t numel = cnv_shape_numel(shape);
    unsigned char chunk[4 * 4096];
    for (size_t done = 0; done < numel;) {
        size_t n = numel - done < sizeof chunk / 4 ? numel - done : sizeof chunk / 4;
        for (size_t i = 0; i < n; i++) {
            uint32_t u;
            memcpy(&u, &data[done + i], sizeof u);
            for (int b = 0; b < 4; b++) chunk[4 * i + (size_t)b] = (unsigned char)(u >> (8 * b));
        }
        fwrite(chunk, 4, n, af.f);
        done += n;
    }
    return cnv_atomic_commit(&af);
}
