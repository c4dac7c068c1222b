/* The images an atlas ranks (cnnvis/atlas.h): a flat folder of pictures, or a data set. */
#include "vis/atlas.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/status.h"
#include "io/normalize.h"

static int is_picture_name(const char *name) {
    const char *dot = strrchr(name, '.');
    const char *ext[] = {".png", ".jpg", ".jpeg", ".bmp"};
    for (int i = 0; dot && i < 4; i++)
        if (strcasecmp(dot, ext[i]) == 0) return 1;
    return 0;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The pictures directly in dir, sorted by name (none: a data set's folder, or nothing). */
static cnv_status list_pictures(const char *dir, cnv_atlas_images *s) {
    DIR *d = opendir(dir);
    if (!d) return cnv_fail(CNV_ERR_IO, "%s: cannot open the folder", dir);
    int cap = 0;
    cnv_status st = CNV_OK;
    for (struct dirent *e; st == CNV_OK && (e = readdir(d));) {
        if (e->d_name[0] == '.' || !is_picture_name(e->d_name)) continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *p = malloc(len);
        struct stat sb;
        if (p) snprintf(p, len, "%s/%s", dir, e->d_name);
        if (p && (stat(p, &sb) != 0 || !S_ISREG(sb.st_mode))) {
            free(p);
            continue;
        }
        if (p && s->n == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(s->paths, sizeof *grown * (size_t)cap);
            if (grown) s->paths = grown;
            else free(p), p = NULL;
        }
        if (!p) st = cnv_fail(CNV_ERR_NOMEM, "%s: out of memory listing the folder", dir);
        else s->paths[s->n++] = p;
    }
    closedir(d);
    if (st == CNV_OK && s->n) qsort(s->paths, (size_t)s->n, sizeof *s->paths, by_name);
    return st;
}

static void images_clear(cnv_atlas_images *s) {
    for (int i = 0; s->paths && i < s->n; i++) free(s->paths[i]);
    free(s->paths);
    free(s->source);
    cnv_dataset_free(&s->data);
}

static cnv_status images_open(const char *dir, int c, int h, int w, int limit, cnv_atlas_images *out) {
    out->c = c;
    out->h = h;
    out->w = w;
    out->source = malloc(strlen(dir) + 1);
    if (!out->source) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    strcpy(out->source, dir);
    cnv_status s = list_pictures(dir, out);
    if (s == CNV_OK && out->n == 0) {
        s = cnv_dataset_load(dir, CNV_SPLIT_TEST, c, h, w, limit, &out->data);
        out->n = out->data.n;
        if (s != CNV_OK)
            s = cnv_fail(CNV_ERR_ARG, "--images %s: neither pictures (PNG, JPEG, BMP) nor a data set: %s", dir,
                         cnv_last_error());
    }
    if (s == CNV_OK && limit > 0 && out->n > limit) {
        for (int i = limit; out->paths && i < out->n; i++) free(out->paths[i]);
        out->n = limit;
    }
    return s;
}

cnv_status cnv_atlas_images_open(const char *dir, int c, int h, int w, int limit, cnv_atlas_images **out) {
    *out = calloc(1, sizeof **out);
    if (!*out) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    cnv_status s = images_open(dir, c, h, w, limit, *out);
    if (s != CNV_OK) {
        cnv_atlas_images_free(*out);
        *out = NULL;
    }
    return s;
}

void cnv_atlas_images_free(cnv_atlas_images *s) {
    if (!s) return;
    images_clear(s);
    free(s);
}

int cnv_atlas_images_count(const cnv_atlas_images *s) { return s->n; }
const char *cnv_atlas_images_source(const cnv_atlas_images *s) { return s->source; }

cnv_status cnv_atlas_images_picture(const cnv_atlas_images *s, int i, const cnv_preset *p, cnv_image *out) {
    memset(out, 0, sizeof *out);
    if (i < 0 || i >= s->n) return cnv_fail(CNV_ERR_ARG, "%s: no image %d", s->source, i);
    if (s->paths) {
        cnv_shape in = cnv_shape4(1, s->c, s->h, s->w);
        cnv_image pic;
        CNV_TRY(cnv_input_picture(s->paths[i], p, &in, &pic));
        cnv_status st = cnv_image_resize(&pic, s->w, s->h, out);
        cnv_image_free(&pic);
        return st;
    }
    size_t plane = (size_t)s->h * s->w;
    const float *x = s->data.images + (size_t)i * s->c * plane;
    out->px = malloc(plane * s->c);
    if (!out->px) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    out->w = s->w;
    out->h = s->h;
    out->c = s->c;
    for (size_t q = 0; q < plane; q++)
        for (int k = 0; k < s->c; k++) out->px[q * s->c + k] = (unsigned char)lrintf(x[k * plane + q] * 255.0f);
    return CNV_OK;
}

const char *cnv_atlas_images_name(const cnv_atlas_images *s, int i, char *buf, size_t size) {
    if (s->paths) {
        const char *slash = strrchr(s->paths[i], '/');
        snprintf(buf, size, "%s", slash ? slash + 1 : s->paths[i]);
    } else {
        snprintf(buf, size, "test #%d", i);
    }
    return buf;
}
