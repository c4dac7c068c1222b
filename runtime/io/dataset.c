#include "io/dataset.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/status.h"
#include "core/input_spec.h"
#include "io/idx.h"
#include "io/preprocess.h"

/* Without train/ and test/ subfolders, image i of a class (in name order) is a test image when
 * i % HOLDOUT_EVERY == HOLDOUT_EVERY - 1. */
#define HOLDOUT_EVERY 10

size_t cnv_dataset_image_numel(const cnv_dataset *d) { return (size_t)d->c * d->h * d->w; }

void cnv_dataset_free(cnv_dataset *d) {
    if (!d) return;
    for (int i = 0; d->class_names && i < d->n_classes; i++) free(d->class_names[i]);
    free(d->class_names);
    free(d->images);
    free(d->labels);
    memset(d, 0, sizeof *d);
}

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static cnv_status join(const char *a, const char *b, char *out, size_t size) {
    int n = snprintf(out, size, "%s/%s", a, b);
    if (n < 0 || (size_t)n >= size) return cnv_fail(CNV_ERR_ARG, "%s/%s: path too long", a, b);
    return CNV_OK;
}

static cnv_status alloc_set(cnv_dataset *d, const char *where) {
    d->images = malloc((size_t)d->n * cnv_dataset_image_numel(d) * sizeof *d->images);
    d->labels = malloc((size_t)d->n * sizeof *d->labels);
    if (!d->images || !d->labels) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", where);
    return CNV_OK;
}

/* ---- IDX ---- */

/* "<dir>/<prefix>-<kind>", or the same with ".gz"; 0 when neither exists. */
static int find_idx(const char *dir, const char *prefix, const char *kind, char *out, size_t size) {
    int n = snprintf(out, size, "%s/%s-%s", dir, prefix, kind);
    if (n < 0 || (size_t)n + 3 >= size) return 0;
    if (is_file(out)) return 1;
    strcat(out, ".gz");
    return is_file(out);
}

static cnv_status load_idx(const char *images_path, const char *labels_path, int c, int h, int w, int limit,
                           cnv_dataset *d) {
    cnv_idx images, labels;
    CNV_TRY(cnv_idx_read(images_path, 3, limit, &images));
    cnv_status s = cnv_idx_read(labels_path, 1, limit, &labels);
    if (s != CNV_OK) {
        cnv_idx_free(&images);
        return s;
    }
    if (c != 1 || images.dims[1] != h || images.dims[2] != w)
        s = cnv_fail(CNV_ERR_SHAPE, "%s: images are 1x%dx%d but the model takes %dx%dx%d", images_path,
                     images.dims[1], images.dims[2], c, h, w);
    else if (labels.dims[0] != images.dims[0])
        s = cnv_fail(CNV_ERR_FORMAT, "%s: %d labels for %d images", labels_path, labels.dims[0], images.dims[0]);
    if (s == CNV_OK) {
        *d = (cnv_dataset){.n = images.dims[0], .c = 1, .h = h, .w = w};
        s = alloc_set(d, images_path);
    }
    if (s == CNV_OK) {
        size_t n_px = (size_t)d->n * h * w;
        for (size_t i = 0; i < n_px; i++) d->images[i] = (float)images.data[i] / 255.0f;
        for (int i = 0; i < d->n; i++) {
            d->labels[i] = labels.data[i];
            if (labels.data[i] + 1 > d->n_classes) d->n_classes = labels.data[i] + 1;
        }
    }
    cnv_idx_free(&images);
    cnv_idx_free(&labels);
    return s;
}

/* ---- image folders ---- */

typedef struct name_list {
    char **names;
    int n, cap;
} name_list;

static void names_free(name_list *l) {
    for (int i = 0; i < l->n; i++) free(l->names[i]);
    free(l->names);
    memset(l, 0, sizeof *l);
}

static int names_push(name_list *l, const char *name) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        char **grown = realloc(l->names, (size_t)cap * sizeof *grown);
        if (!grown) return 0;
        l->names = grown;
        l->cap = cap;
    }
    return (l->names[l->n] = strdup(name)) ? (l->n++, 1) : 0;
}

static int compare_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int is_image_name(const char *name) {
    static const char *const exts[] = {".png", ".jpg", ".jpeg", ".bmp"};
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof exts / sizeof exts[0]; i++)
        if (strcasecmp(dot, exts[i]) == 0) return 1;
    return 0;
}

/* The visible subfolders (want_dirs) or image files of dir, sorted by name. */
static cnv_status list_dir(const char *dir, int want_dirs, name_list *out) {
    memset(out, 0, sizeof *out);
    DIR *dp = opendir(dir);
    if (!dp) return cnv_fail(CNV_ERR_IO, "%s: cannot open the folder", dir);
    cnv_status s = CNV_OK;
    char path[4096];
    for (struct dirent *e; s == CNV_OK && (e = readdir(dp));) {
        if (e->d_name[0] == '.') continue;
        if (join(dir, e->d_name, path, sizeof path) != CNV_OK) continue;
        int wanted = want_dirs ? is_dir(path) : (is_file(path) && is_image_name(e->d_name));
        if (wanted && !names_push(out, e->d_name)) s = cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", dir);
    }
    closedir(dp);
    if (s != CNV_OK) names_free(out);
    else if (out->n > 1) qsort(out->names, (size_t)out->n, sizeof *out->names, compare_names);
    return s;
}

/* The files of one class that belong to the split (holdout < 0: all of them). */
static cnv_status class_files(const char *class_dir, int holdout_test, name_list *out) {
    name_list all;
    CNV_TRY(list_dir(class_dir, 0, &all));
    memset(out, 0, sizeof *out);
    char path[4096];
    cnv_status s = CNV_OK;
    for (int i = 0; s == CNV_OK && i < all.n; i++) {
        int is_test = i % HOLDOUT_EVERY == HOLDOUT_EVERY - 1;
        if (holdout_test >= 0 && is_test != holdout_test) continue;
        s = join(class_dir, all.names[i], path, sizeof path);
        if (s == CNV_OK && !names_push(out, path)) s = cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", class_dir);
    }
    names_free(&all);
    if (s != CNV_OK) names_free(out);
    return s;
}

/* Loads the images, taking one from each class in turn until `limit` (or all) are taken. */
static cnv_status load_images(const name_list *files, int n_classes, int limit, cnv_dataset *d, const char *where) {
    int total = 0;
    for (int k = 0; k < n_classes; k++) total += files[k].n;
    if (limit > 0 && limit < total) total = limit;
    if (total == 0) return cnv_fail(CNV_ERR_FORMAT, "%s: no images (PNG, JPEG, BMP) in the class folders", where);
    d->n = total;
    CNV_TRY(alloc_set(d, where));
    static const cnv_preset plain_preset = CNV_PRESET_GENERIC, *plain = &plain_preset; /* pixels / 255, no mean */
    cnv_shape shape = cnv_shape4(1, d->c, d->h, d->w);
    size_t numel = cnv_dataset_image_numel(d);
    int taken = 0;
    for (int round = 0; taken < total; round++) {
        for (int k = 0; k < n_classes && taken < total; k++) {
            if (round >= files[k].n) continue;
            float *px;
            CNV_TRY(cnv_preprocess_file(files[k].names[round], plain, &shape, &px));
            memcpy(d->images + (size_t)taken * numel, px, numel * sizeof *px);
            free(px);
            d->labels[taken++] = k;
        }
    }
    return CNV_OK;
}

static cnv_status load_folder(const char *dir, cnv_split split, int limit, cnv_dataset *d) {
    char train_dir[4096], test_dir[4096];
    CNV_TRY(join(dir, "train", train_dir, sizeof train_dir));
    CNV_TRY(join(dir, "test", test_dir, sizeof test_dir));
    int has_splits = is_dir(train_dir) && is_dir(test_dir);
    const char *classes_from = has_splits ? train_dir : dir;
    const char *images_in = has_splits ? (split == CNV_SPLIT_TRAIN ? train_dir : test_dir) : dir;
    int holdout_test = has_splits ? -1 : split == CNV_SPLIT_TEST;

    name_list classes;
    CNV_TRY(list_dir(classes_from, 1, &classes));
    if (classes.n < 2) {
        names_free(&classes);
        return cnv_fail(CNV_ERR_FORMAT,
                        "%s: not a data set (no IDX files like train-images-idx3-ubyte, nor two or more class "
                        "subfolders)",
                        dir);
    }
    name_list *files = calloc((size_t)classes.n, sizeof *files);
    cnv_status s = files ? CNV_OK : cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", dir);
    char path[4096];
    for (int k = 0; s == CNV_OK && k < classes.n; k++) {
        s = join(images_in, classes.names[k], path, sizeof path);
        if (s == CNV_OK && !is_dir(path))
            s = cnv_fail(CNV_ERR_FORMAT, "%s: class folder '%s' is missing", images_in, classes.names[k]);
        if (s == CNV_OK) s = class_files(path, holdout_test, &files[k]);
    }
    if (s == CNV_OK) s = load_images(files, classes.n, limit, d, images_in);
    for (int k = 0; files && k < classes.n; k++) names_free(&files[k]);
    free(files);
    if (s == CNV_OK) {
        d->n_classes = classes.n;
        d->class_names = classes.names; /* the dataset takes the names */
        classes.names = NULL;
        classes.n = 0;
    }
    names_free(&classes);
    return s;
}

cnv_status cnv_dataset_load(const char *dir, cnv_split split, int c, int h, int w, int limit, cnv_dataset *out) {
    memset(out, 0, sizeof *out);
    if (!is_dir(dir)) return cnv_fail(CNV_ERR_IO, "%s: no such folder", dir);
    const char *prefix = split == CNV_SPLIT_TRAIN ? "train" : "t10k";
    char images[4096], labels[4096];
    cnv_status s;
    if (find_idx(dir, prefix, "images-idx3-ubyte", images, sizeof images)) {
        if (!find_idx(dir, prefix, "labels-idx1-ubyte", labels, sizeof labels))
            return cnv_fail(CNV_ERR_FORMAT, "%s: has %s but no %s-labels-idx1-ubyte[.gz]", dir, images, prefix);
        s = load_idx(images, labels, c, h, w, limit, out);
    } else if (find_idx(dir, "train", "images-idx3-ubyte", images, sizeof images)) {
        return cnv_fail(CNV_ERR_FORMAT, "%s: has %s but no %s-images-idx3-ubyte[.gz]", dir, images, prefix);
    } else {
        *out = (cnv_dataset){.c = c, .h = h, .w = w};
        s = load_folder(dir, split, limit, out);
    }
    if (s != CNV_OK) cnv_dataset_free(out);
    return s;
}
