/* Reading ONNX files and decoding TensorProto data (initializers, Constant values, and the
 * test_data_set_N .pb tensors). */
#include "onnx_internal.h"
#include "models/onnx.h"
#include "core/status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cnv_status onnx_read_file(const char *path, uint8_t **data, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return cnv_fail(CNV_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            size_t cap2 = cap ? cap * 2 : 1 << 16;
            uint8_t *p = realloc(buf, cap2);
            if (!p) {
                free(buf);
                fclose(f);
                return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory reading the file", path);
            }
            buf = p;
            cap = cap2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        return cnv_fail(CNV_ERR_IO, "%s: read error", path);
    }
    *data = buf;
    *size = len;
    return CNV_OK;
}

void onnx_const_free(onnx_const *c) {
    free(c->name);
    free(c->f);
    free(c->i);
    memset(c, 0, sizeof *c);
}

double onnx_const_get(const onnx_const *c, size_t k) { return c->f ? (double)c->f[k] : (double)c->i[k]; }

int64_t onnx_const_get_int(const onnx_const *c, size_t k) { return c->f ? (int64_t)c->f[k] : c->i[k]; }

/* Little-endian bytes to host values, whatever the host's byte order. */
static uint64_t load_le(const uint8_t *p, int bytes) {
    uint64_t v = 0;
    for (int b = bytes - 1; b >= 0; b--) v = v << 8 | p[b];
    return v;
}

cnv_status onnx_const_from_tensor(const Onnx__TensorProto *t, const char *name, const char *where,
                                  const char *what, onnx_const *c) {
    memset(c, 0, sizeof *c);
    int is_float = t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    if (!is_float && t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__INT64)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: %s '%s' has data type %d (only float32 and int64 are supported)",
                        where, what, name, (int)t->data_type);
    if (t->segment) return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: %s '%s' is segmented", where, what, name);
    if (t->n_dims > ONNX_MAX_CONST_DIMS)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: %s '%s' has %zu dims", where, what, name, t->n_dims);
    size_t count = 1;
    for (size_t k = 0; k < t->n_dims; k++) {
        if (t->dims[k] < 0 || (t->dims[k] > 0 && count > (SIZE_MAX / 8) / (size_t)t->dims[k]))
            return cnv_fail(CNV_ERR_FORMAT, "%s: %s '%s' has an invalid dim %lld", where, what, name,
                            (long long)t->dims[k]);
        count *= (size_t)t->dims[k];
        c->dims[k] = t->dims[k];
    }
    c->ndim = (int)t->n_dims;
    c->count = count;

    size_t elem = is_float ? 4 : 8;
    int external = t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    uint8_t *outside = NULL; /* the external data's bytes */
    if (external) CNV_TRY(onnx_external_bytes(t, where, what, name, count * elem, &outside));
    const uint8_t *raw = external ? outside : t->has_raw_data ? t->raw_data.data : NULL;
    size_t have = external ? count : t->has_raw_data ? t->raw_data.len / elem : is_float ? t->n_float_data : t->n_int64_data;
    if ((!external && t->has_raw_data && t->raw_data.len != count * elem) || have != count) {
        free(outside);
        return cnv_fail(CNV_ERR_FORMAT, "%s: %s '%s' holds %zu values, its dims need %zu", where, what, name, have,
                        count);
    }
    c->name = malloc(strlen(name) + 1);
    void *buf = malloc((count ? count : 1) * elem);
    if (!c->name || !buf) {
        free(buf);
        free(outside);
        onnx_const_free(c);
        return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory reading %s '%s'", where, what, name);
    }
    strcpy(c->name, name);
    if (is_float)
        c->f = buf;
    else
        c->i = buf;
    for (size_t k = 0; k < count; k++) {
        if (raw) {
            uint64_t bits = load_le(raw + k * elem, (int)elem);
            if (is_float) {
                uint32_t b32 = (uint32_t)bits;
                memcpy(&c->f[k], &b32, 4);
            } else {
                c->i[k] = (int64_t)bits;
            }
        } else if (is_float) {
            c->f[k] = t->float_data[k];
        } else {
            c->i[k] = t->int64_data[k];
        }
    }
    free(outside);
    return CNV_OK;
}

cnv_status onnx_read_const_file(const char *path, const char *name, onnx_const *c) {
    uint8_t *bytes;
    size_t size;
    CNV_TRY(onnx_read_file(path, &bytes, &size));
    Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, size, bytes);
    free(bytes);
    if (!t) return cnv_fail(CNV_ERR_FORMAT, "%s: not a valid ONNX tensor (protobuf decoding failed)", path);
    cnv_status st = onnx_const_from_tensor(t, name ? name : t->name ? t->name : "", path, "tensor", c);
    onnx__tensor_proto__free_unpacked(t, NULL);
    return st;
}

cnv_status cnv_onnx_read_tensor(const char *path, float **data, cnv_shape *shape) {
    onnx_const c;
    CNV_TRY(onnx_read_const_file(path, NULL, &c));
    cnv_status st = CNV_OK;
    if (!c.f)
        st = cnv_fail(CNV_ERR_UNSUPPORTED, "%s: tensor holds int64, not float32", path);
    else if (c.ndim > CNV_MAX_DIMS)
        st = cnv_fail(CNV_ERR_UNSUPPORTED, "%s: tensor has %d dims (at most %d supported)", path, c.ndim, CNV_MAX_DIMS);
    for (int k = 0; st == CNV_OK && k < c.ndim; k++)
        if (c.dims[k] > INT32_MAX) st = cnv_fail(CNV_ERR_UNSUPPORTED, "%s: dim %d is too large", path, k);
    if (st == CNV_OK) {
        shape->ndim = c.ndim;
        for (int k = 0; k < c.ndim; k++) shape->d[k] = (int)c.dims[k];
        *data = c.f;
        c.f = NULL;
    }
    onnx_const_free(&c);
    return st;
}
