/* Where the atlas' files live (vis/atlas_files.h). */
#include "vis/atlas_files.h"

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
