/* The few HDF5 reads a Keras file needs: string attributes (variable-length in tf.keras 2.x,
 * fixed-length in Keras 2.2, ASCII or UTF-8), string arrays (possibly split into name0, name1, ... by Keras when
 * over HDF5's 64 KiB attribute limit) and float datasets. HDF5's own error stack printing is
 * silenced: every failure becomes one cnnvis message naming the file. */
#include "models/keras_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "core/shape_check.h"
#include "core/status.h"

cnv_status keras_h5_open(const char *path, hid_t *file) {
    *file = H5I_INVALID_HID;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    FILE *f = fopen(path, "rb");
    if (!f) return cnv_fail(CNV_ERR_IO, "%s: cannot open file", path);
    fclose(f);
    if (H5Fis_hdf5(path) <= 0) return cnv_fail(CNV_ERR_FORMAT, "%s: not a valid HDF5 file", path);
    /* Strong close: closing the file also closes whatever an error path left open. */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
        if (fapl >= 0) H5Pclose(fapl);
        return cnv_fail(CNV_ERR_INTERNAL, "%s: HDF5 could not be set up", path);
    }
    *file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (*file < 0) return cnv_fail(CNV_ERR_FORMAT, "%s: not a valid HDF5 file (truncated or corrupted)", path);
    return CNV_OK;
}

int keras_h5_has_attr(hid_t obj, const char *name) { return H5Aexists(obj, name) > 0; }

/* The HDF5 path of an object, for messages ("?" when unknown). */
static const char *object_path(hid_t obj, char *buf, size_t size) {
    if (H5Iget_name(obj, buf, size) <= 0) snprintf(buf, size, "?");
    return buf;
}

static char *dup_n(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void keras_h5_free_list(char **list, int n) {
    if (!list) return;
    for (int i = 0; i < n; i++) free(list[i]);
    free(list);
}

/* Reads every string of attribute `attr` and appends them to *list (*n entries so far). */
static cnv_status append_strings(const char *path, hid_t obj, hid_t attr, const char *name, char ***list, int *n) {
    char where[512];
    hid_t type = H5Aget_type(attr), space = H5Aget_space(attr), mem = H5I_INVALID_HID;
    hssize_t count = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    cnv_status st = CNV_OK;
    void *buf = NULL;
    if (type < 0 || count < 0) {
        st = cnv_fail(CNV_ERR_FORMAT, "%s: attribute %s of %s cannot be read", path, name, object_path(obj, where, sizeof where));
        goto done;
    }
    if (count == 0) goto done; /* Keras stores an empty name list as an empty float array */
    if (H5Tget_class(type) != H5T_STRING) {
        st = cnv_fail(CNV_ERR_FORMAT, "%s: attribute %s of %s is not a string", path, name, object_path(obj, where, sizeof where));
        goto done;
    }
    int variable = H5Tis_variable_str(type) > 0;
    size_t item = variable ? sizeof(char *) : H5Tget_size(type);
    char **grown = realloc(*list, (size_t)(*n + count) * sizeof *grown);
    buf = calloc((size_t)count, item);
    if (grown) *list = grown;
    if (!grown || !buf || item == 0) {
        st = cnv_fail(CNV_ERR_NOMEM, "%s: out of memory reading attribute %s", path, name);
        goto done;
    }
    mem = H5Tcopy(H5T_C_S1);
    /* Fixed-length: null-padded, so a name may fill every byte (numpy's "S" strings do). The
     * memory type takes the file's character set: HDF5 converts no string between ASCII and
     * UTF-8, and h5py writes a Python str as variable-length UTF-8. */
    H5T_cset_t cset = H5Tget_cset(type);
    if (mem < 0 || cset < 0 || H5Tset_cset(mem, cset) < 0 || H5Tset_size(mem, variable ? H5T_VARIABLE : item) < 0 ||
        (!variable && H5Tset_strpad(mem, H5T_STR_NULLPAD) < 0) || H5Aread(attr, mem, buf) < 0) {
        st = cnv_fail(CNV_ERR_FORMAT, "%s: attribute %s of %s cannot be read", path, name, object_path(obj, where, sizeof where));
        goto done;
    }
    for (hssize_t i = 0; i < count && st == CNV_OK; i++) {
        const char *s = variable ? ((char **)buf)[i] : (const char *)buf + (size_t)i * item;
        size_t len = !s ? 0 : variable ? strlen(s) : strnlen(s, item);
        char *copy = dup_n(s ? s : "", len);
        if (!copy) st = cnv_fail(CNV_ERR_NOMEM, "%s: out of memory reading attribute %s", path, name);
        else (*list)[(*n)++] = copy;
    }
    if (variable) {
#if H5_VERSION_GE(1, 12, 0)
        H5Treclaim(mem, space, H5P_DEFAULT, buf);
#else
        H5Dvlen_reclaim(mem, space, H5P_DEFAULT, buf);
#endif
    }
done:
    free(buf);
    if (mem >= 0) H5Tclose(mem);
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    return st;
}

static cnv_status read_attr_strings(const char *path, hid_t obj, const char *name, char ***list, int *n) {
    hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
    if (attr < 0) {
        char where[512];
        return cnv_fail(CNV_ERR_FORMAT, "%s: attribute %s of %s cannot be opened", path, name,
                        object_path(obj, where, sizeof where));
    }
    cnv_status st = append_strings(path, obj, attr, name, list, n);
    H5Aclose(attr);
    return st;
}

cnv_status keras_h5_string_list(const char *path, hid_t obj, const char *name, char ***out, int *n) {
    *out = NULL;
    *n = 0;
    cnv_status st = CNV_OK;
    if (keras_h5_has_attr(obj, name)) {
        st = read_attr_strings(path, obj, name, out, n);
    } else {
        char chunk[256];
        int k = 0;
        for (;; k++) {
            snprintf(chunk, sizeof chunk, "%s%d", name, k);
            if (!keras_h5_has_attr(obj, chunk)) break;
            st = read_attr_strings(path, obj, chunk, out, n);
            if (st != CNV_OK) break;
        }
        if (k == 0) {
            char where[512];
            st = cnv_fail(CNV_ERR_FORMAT, "%s: %s has no attribute %s", path, object_path(obj, where, sizeof where), name);
        }
    }
    if (st != CNV_OK) {
        keras_h5_free_list(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return st;
}

cnv_status keras_h5_string_attr(const char *path, hid_t obj, const char *name, char **out) {
    char **list;
    int n;
    *out = NULL;
    CNV_TRY(keras_h5_string_list(path, obj, name, &list, &n));
    if (n != 1) {
        keras_h5_free_list(list, n);
        char where[512];
        return cnv_fail(CNV_ERR_FORMAT, "%s: attribute %s of %s holds %d strings, expected one", path, name,
                        object_path(obj, where, sizeof where), n);
    }
    *out = list[0];
    free(list);
    return CNV_OK;
}

/* Opens a dataset and reads its dims; the caller closes *d. */
static cnv_status open_dataset(const char *path, hid_t loc, const char *name, hid_t *d, int *rank, int dims[4]) {
    char where[512];
    *d = H5Oexists_by_name(loc, name, H5P_DEFAULT) > 0 ? H5Dopen2(loc, name, H5P_DEFAULT) : H5I_INVALID_HID;
    if (*d < 0)
        return cnv_fail(CNV_ERR_FORMAT, "%s: weight %s/%s is missing", path, object_path(loc, where, sizeof where), name);
    hid_t space = H5Dget_space(*d);
    hsize_t hd[H5S_MAX_RANK];
    int r = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (r >= 0 && r <= 4) H5Sget_simple_extent_dims(space, hd, NULL);
    if (space >= 0) H5Sclose(space);
    if (r < 0 || r > 4) {
        H5Dclose(*d);
        return cnv_fail(CNV_ERR_FORMAT, "%s: weight %s/%s has %d dims (at most 4 expected)", path,
                        object_path(loc, where, sizeof where), name, r);
    }
    *rank = r;
    for (int i = 0; i < r; i++) {
        if (hd[i] > (hsize_t)1 << 30) {
            H5Dclose(*d);
            return cnv_fail(CNV_ERR_FORMAT, "%s: weight %s/%s has an absurd dim %llu", path,
                            object_path(loc, where, sizeof where), name, (unsigned long long)hd[i]);
        }
        dims[i] = (int)hd[i];
    }
    return CNV_OK;
}

cnv_status keras_h5_dataset_dims(const char *path, hid_t loc, const char *name, int *rank, int dims[4]) {
    hid_t d;
    CNV_TRY(open_dataset(path, loc, name, &d, rank, dims));
    H5Dclose(d);
    return CNV_OK;
}

cnv_status keras_h5_read_floats(const char *path, hid_t loc, const char *name, float **data, int *rank, int dims[4]) {
    char where[512];
    hid_t d;
    *data = NULL;
    CNV_TRY(open_dataset(path, loc, name, &d, rank, dims));
    hid_t type = H5Dget_type(d);
    int is_float = type >= 0 && H5Tget_class(type) == H5T_FLOAT;
    if (type >= 0) H5Tclose(type);
    /* Each dim is at most 2^30, but four such dims overflow size_t (a 1-byte buffer that
     * H5Dread then fills): refuse what no tensor may hold (core/shape_check.h) before allocating. */
    size_t n = 1;
    int fits = 1;
    for (int i = 0; i < *rank && fits; i++) fits = cnv_size_mul(n, (size_t)dims[i], &n) && n <= CNV_MAX_NUMEL;
    cnv_status st = CNV_OK;
    if (!is_float)
        st = cnv_fail(CNV_ERR_FORMAT, "%s: weight %s/%s is not floating point", path, object_path(loc, where, sizeof where), name);
    else if (!fits)
        st = cnv_fail(CNV_ERR_FORMAT, "%s: weight %s/%s holds more than %zu values", path,
                      object_path(loc, where, sizeof where), name, (size_t)CNV_MAX_NUMEL);
    else if (!(*data = malloc((n ? n : 1) * sizeof **data)))
        st = cnv_fail(CNV_ERR_NOMEM, "%s: out of memory reading weight %s", path, name);
    else if (n && H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, *data) < 0)
        st = cnv_fail(CNV_ERR_FORMAT, "%s: weight %s/%s cannot be read (truncated or corrupted file)", path,
                      object_path(loc, where, sizeof where), name);
    H5Dclose(d);
    if (st != CNV_OK) {
        free(*data);
        *data = NULL;
    }
    return st;
}
