/* Where the atlas' files live (vis/atlas_files.h). */
#include "vis/atlas_files.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/status.h"

void cnv_atlas_path(const cnv_atlas *a, char *buf, size_t size, const char *relative) {
    snprintf(buf, size, "%s/%s", a->dir, relative);
}

void cnv_atlas_layer_path(const cnv_atlas *a, int layer, const char *name, char *buf, size_t size) {
    snprintf(buf, size, "%s/layers/L%03d%s%s", a->dir, layer, *name ? "/" : "", name);
}

void cnv_atlas_picture_name(const cnv_atlas *a, char kind, int channel, char *buf, size_t size) {
    const char *ext = a->jpeg_quality ? "jpg" : "png";
    if (kind == 'g') snprintf(buf, size, "grid.%s", ext);
    else snprintf(buf, size, "%c%06d.%s", kind, channel, ext);
}

void cnv_atlas_channel_path(const cnv_atlas *a, int layer, int channel, char *buf, size_t size) {
    char name[32];
    cnv_atlas_picture_name(a, 'c', channel, name, sizeof name);
    cnv_atlas_layer_path(a, layer, name, buf, size);
}

cnv_status cnv_atlas_save_picture(const cnv_atlas *a, const char *path, const cnv_image *img) {
    return a->jpeg_quality ? cnv_image_save_jpg(path, img, a->jpeg_quality) : cnv_image_save_png(path, img);
}

void cnv_atlas_item_record_path(const cnv_atlas *a, const cnv_atlas_item *it, char *buf, size_t size) {
    snprintf(buf, size, "%s/items/%s.json", a->dir, it->id);
}

void cnv_atlas_rank_path(const cnv_atlas *a, const cnv_atlas_item *it, char *buf, size_t size) {
    snprintf(buf, size, "%s/rank/%s.npy", a->dir, it->id);
}

/* Removes folder/<name>.tmp-* for every name that `mine` accepts. */
static void remove_in(const char *folder, int (*mine)(const cnv_atlas *, const cnv_atlas_item *, const char *),
                      const cnv_atlas *a, const cnv_atlas_item *it) {
    DIR *d = opendir(folder);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        char path[4096];
        if (!strstr(e->d_name, ".tmp-") || !mine(a, it, e->d_name)) continue;
        if (snprintf(path, sizeof path, "%s/%s", folder, e->d_name) < (int)sizeof path) remove(path);
    }
    closedir(d);
}

/* "c<channel>.<ext>.tmp-...": a picture of one of the item's channels. */
static int picture_of_item(const cnv_atlas *a, const cnv_atlas_item *it, const char *name) {
    int channel;
    char kind;
    return sscanf(name, "%c%6d.", &kind, &channel) == 2 && kind == 'c' && channel >= it->first &&
           channel < it->first + it->count;
}

/* "<id>.<ext>.tmp-...": the item's partial list or record. */
static int named_after_item(const cnv_atlas *a, const cnv_atlas_item *it, const char *name) {
    size_t n = strlen(it->id);
    return strncmp(name, it->id, n) == 0 && name[n] == '.';
}

void cnv_atlas_remove_temporaries(const cnv_atlas *a, const cnv_atlas_item *it) {
    char folder[4096];
    if (it->kind == CNV_ATLAS_RENDER) {
        cnv_atlas_layer_path(a, it->layer, "", folder, sizeof folder);
        remove_in(folder, picture_of_item, a, it);
    } else {
        cnv_atlas_path(a, folder, sizeof folder, "rank");
        remove_in(folder, named_after_item, a, it);
    }
    cnv_atlas_path(a, folder, sizeof folder, "items");
    remove_in(folder, named_after_item, a, it);
}

static cnv_status make_folder(const char *path) {
    if (mkdir(path, 0777) == 0 || errno == EEXIST) return CNV_OK;
    return cnv_fail(CNV_ERR_IO, "%s: cannot create the folder: %s", path, strerror(errno));
}

cnv_status cnv_atlas_make_folders(const cnv_atlas *a) {
    char path[4096];
    const char *folders[] = {"items", "rank", "layers"};
    for (int i = 0; i < 3; i++) {
        cnv_atlas_path(a, path, sizeof path, folders[i]);
        CNV_TRY(make_folder(path));
    }
    for (int l = 0; l < a->n_layers; l++) {
        cnv_atlas_layer_path(a, l, "", path, sizeof path);
        CNV_TRY(make_folder(path));
    }
    return CNV_OK;
}
