/* Inside the atlas (vis/atlas*.c only): where its files live, and the two kinds of item. */
#ifndef CNV_VIS_ATLAS_FILES_H
#define CNV_VIS_ATLAS_FILES_H

#include <stddef.h>

#include "vis/atlas.h"
#include "vis/topk.h"

/* DIR/<relative>. */
void cnv_atlas_path(const cnv_atlas *a, char *buf, size_t size, const char *relative);
/* DIR/layers/L<layer>/<name> (name may be empty: the folder). */
void cnv_atlas_layer_path(const cnv_atlas *a, int layer, const char *name, char *buf, size_t size);
/* A picture's file name: "<kind><channel>.png" (c: the channel's picture, t: its top-k strip),
 * or "grid.png" for kind 'g'; .jpg with JPEG pictures. */
void cnv_atlas_picture_name(const cnv_atlas *a, char kind, int channel, char *buf, size_t size);
/* The picture of one channel: DIR/layers/L<layer>/c<channel>.png. */
void cnv_atlas_channel_path(const cnv_atlas *a, int layer, int channel, char *buf, size_t size);
/* Saves a picture in the atlas' format (atomically). */
cnv_status cnv_atlas_save_picture(const cnv_atlas *a, const char *path, const cnv_image *img);
/* DIR/items/<id>.json, DIR/rank/<id>.npy. */
void cnv_atlas_item_record_path(const cnv_atlas *a, const cnv_atlas_item *it, char *buf, size_t size);
void cnv_atlas_rank_path(const cnv_atlas *a, const cnv_atlas_item *it, char *buf, size_t size);
/* Removes the temporary files a killed process left for this item (its pictures, partial list
 * and record: only the item's shard writes them, so none belongs to a live process). */
void cnv_atlas_remove_temporaries(const cnv_atlas *a, const cnv_atlas_item *it);
/* Creates DIR/items, DIR/rank and every layer's folder (those that exist are kept). */
cnv_status cnv_atlas_make_folders(const cnv_atlas *a);

/* One item's work, its numbers into record (the caller commits it). */
cnv_status cnv_atlas_render_item(const cnv_atlas *a, cnv_atlas_work *e, const cnv_atlas_item *it, json_t *record);
cnv_status cnv_atlas_rank_item(const cnv_atlas *a, cnv_atlas_work *e, const cnv_atlas_item *it, json_t *record);

/* The reduce: every rank item's partial lists merged, per layer, into a cnv_topk over its
 * channels (tops[n_layers], caller frees each) and per channel statistics
 * stats[layer][channel * 4 + {mean, sd, max, active fraction}] (caller frees each). */
cnv_status cnv_atlas_merge_ranks(const cnv_atlas *a, cnv_topk *tops, float **stats);

#endif
