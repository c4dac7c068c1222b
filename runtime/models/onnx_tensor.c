/* Reading ONNX files and decoding TensorProto data (initializers, Constant values, and the
 * test_data_set_N .pb tensors). */
#include "onnx_internal.h"
#include "models/onnx.h"
#include "core/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void onnx_const_free(onnx_const *c) {
    free(c->name);
    if (!c->f_kept) free(c->f);
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

static int host_is_little_endian(void) {
    const uint32_t one = 1;
    uint8_t first;
    memcpy(&first, &one, 1);
    return first == 1;
}

/* count little-endian float32 values turned into host floats where they lie (on a
 * little-endian host they already are). p is 4-byte aligned. */
static float *floats_in_place(uint8_t *p, size_t count) {
    if (!host_is_little_endian())
        for (size_t k = 0; k < count; k++) {
            const uint32_t b32 = (uint32_t)load_le(p + 4 * k, 4);
            memcpy(p + 4 * k, &b32, 4);
        }
    return (float *)(void *)p;
}

cnv_status onnx_const_from_tensor(const Onnx__TensorProto *t, const onnx_view *view, const char *name,
                                  const char *where, const char *what, onnx_const *c) {
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
    const int has_raw = view || t->has_raw_data;
    const size_t raw_len = view ? view->len : t->raw_data.len;
    const uint8_t *raw = external ? outside : view ? view->bytes : t->has_raw_data ? t->raw_data.data : NULL;
    size_t have = external ? count : has_raw ? raw_len / elem : is_float ? t->n_float_data : t->n_int64_data;
    if ((!external && has_raw && raw_len != count * elem) || have != count) {
        free(outside);
        return cnv_fail(CNV_ERR_FORMAT, "%s: %s '%s' holds %zu values, its dims need %zu", where, what, name, have,
                        count);
    }
    c->name = malloc(strlen(name) + 1);
    if (c->name) strcpy(c->name, name);
    /* Float32 bytes that are no protobuf-c copy stay where they are: the weight block's (owned by
     * the graph) or the external data's own buffer (now c's). Anything else is decoded below. */
    uint8_t *in_place = !is_float || !count ? NULL
                        : external          ? outside
                        : view && ((uintptr_t)view->bytes & 3) == 0 ? view->bytes
                                                                     : NULL;
    if (c->name && in_place) {
        c->f = floats_in_place(in_place, count);
        c->f_kept = !external;
        return CNV_OK;
    }
    void *buf = malloc((count ? count : 1) * elem);
    if (!c->name || !buf) {
        free(buf);
        free(outside);
        onnx_const_free(c);
        return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory reading %s '%s'", where, what, name);
    }
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
    CNV_TRY(onnx_read_file(path, &bytes, &size, NULL));
    Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, size, bytes);
    free(bytes);
    if (!t) return cnv_fail(CNV_ERR_FORMAT, "%s: not a valid ONNX tensor (protobuf decoding failed)", path);
    cnv_status st = onnx_const_from_tensor(t, NULL, name ? name : t->name ? t->name : "", path, "tensor", c);
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
