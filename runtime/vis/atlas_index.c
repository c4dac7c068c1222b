/* The atlas' indexing step (vis/atlas.h): once every item is done, the reduce of the top-k,
 * the pictures made from the items' pictures (a grid per layer, a strip of top-k patches per
 * channel), and the viewer's data: DIR/index.json holds everything; DIR/index.js (the layer
 * list) and DIR/layers/L<i>/channels.js (one layer's channels, loaded when it is opened) hold
 * the same as scripts, which a page opened from the file system may load where it may not
 * read JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "io/atomic_file.h"
#include "cnnvis/picture.h"
#include "vis/atlas_files.h"

/* Tiles of the layer grids: small pictures enlarged by a whole factor to at least MIN_TILE
 * (pixels kept sharp), large ones shrunk to MAX_TILE. */
enum { MIN_TILE = 64, MAX_TILE = 128, STATS = 4 };

static json_t *number(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* Per layer, per channel: the render's numbers (objective start/final, the layer's value
 * start/final) from the items' records. */
static cnv_status read_records(const cnv_atlas *a, json_t **per_layer) {
    for (int l = 0; l < a->n_layers; l++) {
        per_layer[l] = json_array();
        for (int c = 0; per_layer[l] && c < a->layers[l].channels; c++) json_array_append_new(per_layer[l], json_object());
        if (!per_layer[l]) return cnv_fail(CNV_ERR_NOMEM, "atlas: out of memory");
    }
    for (int i = 0; i < a->n_items; i++) {
        const cnv_atlas_item *it = &a->items[i];
        if (it->kind != CNV_ATLAS_RENDER) continue;
        char path[4096];
        cnv_atlas_item_record_path(a, it, path, sizeof path);
        json_error_t err;
        json_t *r = json_load_file(path, 0, &err);
        if (!r) return cnv_fail(CNV_ERR_FORMAT, "%s: %s", path, err.text);
        const char *keys[] = {"objective_start", "objective_final", "layer_start", "layer_final"};
        for (int c = 0; c < it->count; c++) {
            json_t *ch = json_array_get(per_layer[it->layer], (size_t)(it->first + c));
            for (int k = 0; k < 4; k++) {
                json_t *v = json_array_get(json_object_get(r, keys[k]), (size_t)c);
                if (v) json_object_set(ch, keys[k], v);
            }
        }
        json_decref(r);
    }
    return CNV_OK;
}

/* The grid of a layer's channel pictures, captioned with the channel. */
static cnv_status layer_grid(const cnv_atlas *a, int l) {
    const cnv_atlas_layer *L = &a->layers[l];
    cnv_image *tiles = calloc((size_t)L->channels, sizeof *tiles), grid = {0};
    char *labels = calloc((size_t)L->channels, 12);
    const char **captions = calloc((size_t)L->channels, sizeof *captions);
    cnv_status s = tiles && labels && captions ? CNV_OK : cnv_fail(CNV_ERR_NOMEM, "atlas: out of memory");
    cnv_grid_layout g;
    cnv_grid_layout_default(&g);
    /* Each picture is brought to the tile's size as it is loaded, so that a layer of thousands of
     * channels holds thousands of tiles, not of full pictures. */
    for (int c = 0; s == CNV_OK && c < L->channels; c++) {
        char path[4096];
        cnv_image full;
        cnv_atlas_channel_path(a, l, c, path, sizeof path);
        s = cnv_image_load(path, 3, &full);
        if (s == CNV_OK && c == 0) {
            int f = full.w < MIN_TILE ? (MIN_TILE + full.w - 1) / full.w : 1;
            g.tile_w = full.w * f > MAX_TILE ? MAX_TILE : full.w * f;
            g.tile_h = full.h * g.tile_w / full.w;
            g.scale = f > 1 ? CNV_SCALE_NEAREST : CNV_SCALE_BILINEAR;
        }
        if (s == CNV_OK) s = cnv_image_scale(&full, g.tile_w, g.tile_h, g.scale, &tiles[c]);
        cnv_image_free(&full);
        snprintf(labels + 12 * c, 12, "%d", c);
        captions[c] = labels + 12 * c;
    }
    if (s == CNV_OK) s = cnv_grid_compose(tiles, captions, L->channels, &g, &grid);
    char path[4096], name[32];
    cnv_atlas_picture_name(a, 'g', 0, name, sizeof name);
    cnv_atlas_layer_path(a, l, name, path, sizeof path);
    if (s == CNV_OK) s = cnv_atlas_save_picture(a, path, &grid);
    cnv_image_free(&grid);
    for (int c = 0; tiles && c < L->channels; c++) cnv_image_free(&tiles[c]);
    free(tiles);
    free(labels);
    free(captions);
    return s;
}

/* The pictures the top-k patches are cut from, each loaded once. */
typedef struct picture_cache {
    cnv_image *pics;
    int n;
} picture_cache;

static cnv_status cached_picture(const cnv_atlas *a, cnv_atlas_work *e, picture_cache *pc, int i,
                                 const cnv_image **out) {
    if (!pc->pics[i].px) CNV_TRY(cnv_atlas_images_picture(a->images, i, e->preset, &pc->pics[i]));
    *out = &pc->pics[i];
    return CNV_OK;
}

/* One channel's top-k: the strip of patches (captioned with the score) and its JSON list. */
static cnv_status topk_strip(const cnv_atlas *a, cnv_atlas_work *e, picture_cache *pc, int l, int c,
                             const cnv_topk *t, json_t *list) {
    const cnv_atlas_layer *L = &a->layers[l];
    int n = t->count[c];
    if (n == 0) return CNV_OK;
    cnv_grid_layout g;
    cnv_grid_layout_default(&g);
    cnv_image tiles[64] = {{0}}, strip = {0};
    char labels[64][16];
    const char *captions[64];
    cnv_box field;
    cnv_status s = cnv_receptive_box(e->g, L->node, 0, 0, &field);
    if (n > 64) n = 64;
    for (int r = 0; s == CNV_OK && r < n; r++) {
        const cnv_topk_entry *en = &t->best[(size_t)c * t->k + r];
        const cnv_image *pic;
        cnv_box b;
        s = cnv_receptive_box(e->g, L->node, en->y, en->x, &b);
        if (s == CNV_OK) s = cached_picture(a, e, pc, en->item, &pic);
        if (s == CNV_OK) s = cnv_topk_patch(pic, &b, g.background, &tiles[r]);
        snprintf(labels[r], sizeof labels[r], "%.4g", en->score);
        captions[r] = labels[r];
        char name[256];
        cnv_box shown = cnv_box_clamp(b, a->images->h, a->images->w);
        json_array_append_new(list, json_pack("{s:s, s:i, s:o, s:[i,i], s:[i,i,i,i]}", "image",
                                              cnv_atlas_images_name(a->images, en->item, name, sizeof name), "index",
                                              en->item, "score", number(en->score), "position", en->y, en->x, "box",
                                              shown.y0, shown.x0, shown.y1, shown.x1));
    }
    int fw = field.x1 - field.x0, fh = field.y1 - field.y0, side = fw > fh ? fw : fh;
    int k = side > 0 ? (MIN_TILE + side - 1) / side : 1;
    g.tile_w = fw * k;
    g.tile_h = fh * k;
    g.cols = n;
    char path[4096], name[32];
    cnv_atlas_picture_name(a, 't', c, name, sizeof name);
    cnv_atlas_layer_path(a, l, name, path, sizeof path);
    if (s == CNV_OK) s = cnv_grid_compose(tiles, captions, n, &g, &strip);
    if (s == CNV_OK) s = cnv_atlas_save_picture(a, path, &strip);
    cnv_image_free(&strip);
    for (int r = 0; r < n; r++) cnv_image_free(&tiles[r]);
    return s;
}

/* text wrapped as "fn(arg, value);" into path. */
static cnv_status write_script(const char *path, const char *fn, const char *arg, json_t *value) {
    char *text = json_dumps(value, JSON_COMPACT | JSON_REAL_PRECISION(7));
    if (!text) return cnv_fail(CNV_ERR_NOMEM, "atlas: out of memory writing %s", path);
    size_t n = strlen(text) + strlen(fn) + strlen(arg) + 16;
    char *script = malloc(n);
    cnv_status s = script ? CNV_OK : cnv_fail(CNV_ERR_NOMEM, "atlas: out of memory writing %s", path);
    if (s == CNV_OK) {
        snprintf(script, n, "%s(%s%s%s);", fn, arg, *arg ? ", " : "", text);
        s = cnv_write_text_file(path, script);
    }
    free(script);
    free(text);
    return s;
}

/* A layer's entry in the index, and its channels (with paths relative to DIR). */
static cnv_status layer_json(const cnv_atlas *a, cnv_atlas_work *e, picture_cache *pc, int l, json_t *channels,
                             const cnv_topk *top, const float *stats, json_t **out) {
    const cnv_atlas_layer *L = &a->layers[l];
    char folder[32];
    snprintf(folder, sizeof folder, "layers/L%03d", l);
    cnv_status s = CNV_OK;
    for (int c = 0; s == CNV_OK && c < L->channels; c++) {
        json_t *ch = json_array_get(channels, (size_t)c);
        char rel[64], name[32];
        json_object_set_new(ch, "channel", json_integer(c));
        cnv_atlas_picture_name(a, 'c', c, name, sizeof name);
        snprintf(rel, sizeof rel, "%s/%s", folder, name);
        json_object_set_new(ch, "picture", json_string(rel));
        if (!top) continue;
        const float *st = stats + (size_t)c * STATS;
        json_object_set_new(ch, "stats", json_pack("{s:o, s:o, s:o, s:o}", "mean", number(st[0]), "sd", number(st[1]),
                                                   "max", number(st[2]), "active", number(st[3])));
        json_t *list = json_array();
        s = topk_strip(a, e, pc, l, c, top, list);
        json_object_set_new(ch, "top", list);
        cnv_atlas_picture_name(a, 't', c, name, sizeof name);
        snprintf(rel, sizeof rel, "%s/%s", folder, name);
        if (top->count[c]) json_object_set_new(ch, "top_picture", json_string(rel));
    }
    char grid[64], data[64], name[32];
    cnv_atlas_picture_name(a, 'g', 0, name, sizeof name);
    snprintf(grid, sizeof grid, "%s/%s", folder, name);
    snprintf(data, sizeof data, "%s/channels.js", folder);
    *out = json_pack("{s:i, s:s, s:i, s:i, s:[i,i,i], s:s, s:s}", "index", l, "name", L->name, "node", L->node,
                     "channels", L->channels, "shape", L->all_channels, L->map_h, L->map_w, "grid", grid, "data", data);
    return s;
}

static int missing_items(const cnv_atlas *a) {
    int n = 0;
    for (int i = 0; i < a->n_items; i++) n += !cnv_atlas_item_recorded(a, &a->items[i]);
    return n;
}

cnv_status cnv_atlas_index_write(const cnv_atlas *a, cnv_atlas_work *e) {
    int missing = missing_items(a);
    if (missing)
        return cnv_fail(CNV_ERR_ARG, "%s: %d of %d items are not done yet (run the shards, or the command without "
                        "--shard, first)", a->dir, missing, a->n_items);
    json_t **channels = calloc((size_t)a->n_layers, sizeof *channels);
    cnv_topk *tops = a->images ? calloc((size_t)a->n_layers, sizeof *tops) : NULL;
    float **stats = a->images ? calloc((size_t)a->n_layers, sizeof *stats) : NULL;
    picture_cache pc = {a->images ? calloc((size_t)a->images->n, sizeof *pc.pics) : NULL, a->images ? a->images->n : 0};
    json_t *layers = json_array(), *full = json_array();
    cnv_status s = channels && layers && full && (!a->images || (tops && stats && pc.pics))
                       ? CNV_OK
                       : cnv_fail(CNV_ERR_NOMEM, "atlas: out of memory");
    if (s == CNV_OK) s = read_records(a, channels);
    if (s == CNV_OK && a->images) s = cnv_atlas_merge_ranks(a, tops, stats);
    for (int l = 0; s == CNV_OK && l < a->n_layers; l++) {
        json_t *entry = NULL;
        s = layer_grid(a, l);
        if (s == CNV_OK) s = layer_json(a, e, &pc, l, channels[l], tops ? &tops[l] : NULL, stats ? stats[l] : NULL,
                                        &entry);
        if (!entry) continue;
        char path[4096], arg[16];
        cnv_atlas_layer_path(a, l, "channels.js", path, sizeof path);
        snprintf(arg, sizeof arg, "%d", l);
        if (s == CNV_OK) s = write_script(path, "cnvAtlasLayer", arg, channels[l]);
        json_array_append_new(layers, json_copy(entry));
        json_object_set(entry, "channel_data", channels[l]);
        json_array_append_new(full, entry);
    }
    json_t *images = a->images ? json_pack("{s:s, s:i, s:i, s:i}", "source", a->images->source, "count", a->images->n,
                                           "k", a->k, "chunk", a->rank_chunk)
                               : json_null();
    json_t *head = json_pack("{s:s, s:s, s:s, s:O, s:O, s:i}", "format", "cnnvis atlas 1", "model", a->model_path,
                             "model_sha256", a->model_sha256, "settings", a->settings, "images", images, "items",
                             a->n_items);
    char path[4096];
    if (s == CNV_OK && !head) s = cnv_fail(CNV_ERR_NOMEM, "atlas: out of memory");
    if (s == CNV_OK) {
        json_object_set(head, "layers", layers);
        cnv_atlas_path(a, path, sizeof path, "index.js");
        s = write_script(path, "cnvAtlasIndex", "", head);
    }
    if (s == CNV_OK) {
        json_object_set(head, "layers", full);
        char *text = json_dumps(head, JSON_INDENT(1) | JSON_REAL_PRECISION(7));
        cnv_atlas_path(a, path, sizeof path, "index.json");
        s = text ? cnv_write_text_file(path, text) : cnv_fail(CNV_ERR_NOMEM, "atlas: out of memory");
        free(text);
    }
    if (s == CNV_OK) {
        cnv_atlas_path(a, path, sizeof path, "index.html");
        s = cnv_write_text_file(path, cnv_atlas_viewer_html);
    }
    json_decref(head);
    json_decref(images);
    json_decref(layers);
    json_decref(full);
    for (int l = 0; l < a->n_layers; l++) {
        if (channels) json_decref(channels[l]);
        if (tops) cnv_topk_free(&tops[l]);
        if (stats) free(stats[l]);
    }
    for (int i = 0; i < pc.n; i++) cnv_image_free(&pc.pics[i]);
    free(pc.pics);
    free(channels);
    free(tops);
    free(stats);
    return s;
}
