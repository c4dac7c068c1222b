/* Inside the atlas (cnnvis/atlas.h describes it): the plan's layers and items, the images, the
 * work state the items run with, and the calls between the atlas' files. */
#ifndef CNV_VIS_ATLAS_H
#define CNV_VIS_ATLAS_H

#include <stdint.h>

#include <jansson.h>

#include "cnnvis/atlas.h"
#include "io/dataset.h"
#include "cnnvis/picture.h"
#include "render.h"

typedef struct cnv_atlas_layer {
    char *name;
    int node;            /* in the model */
    int channels;        /* drawn: the first ones of its NCHW output */
    int all_channels;    /* of its output */
    int map_h, map_w;    /* its maps' size at the model's input */
} cnv_atlas_layer;

typedef struct cnv_atlas_item {
    cnv_atlas_kind kind;
    int layer;        /* RENDER: index into the atlas' layers */
    int first, count; /* RENDER: channels; RANK: images */
    uint64_t seed;    /* RENDER: the render's seed */
    char id[32];      /* names its files: "L003-c000016" or "I00000256" */
} cnv_atlas_item;

struct cnv_atlas_images {
    char *source;
    int n;
    char **paths;      /* folder: n files */
    cnv_dataset data;  /* data set (data.n == n) */
    int c, h, w;       /* the model's input */
};

/* Image i as 8-bit pixels at the model's input size (caller frees). */
cnv_status cnv_atlas_images_picture(const cnv_atlas_images *s, int i, const cnv_preset *p, cnv_image *out);
/* A short name for image i: the file name, or "test #i" of a data set. */
const char *cnv_atlas_images_name(const cnv_atlas_images *s, int i, char *buf, size_t size);

struct cnv_atlas {
    char *dir;
    char *model_path;
    char model_sha256[65];
    cnv_atlas_layer *layers;
    int n_layers;
    cnv_atlas_item *items;
    int n_items;
    int batch;      /* channels per render item */
    int k;          /* top-k per channel (with images) */
    int rank_chunk; /* images per rank item */
    const cnv_atlas_images *images; /* NULL: no ranking */
    int jpeg_quality; /* pictures as JPEG of this quality; 0: PNG */
    json_t *settings; /* everything that shapes the pictures (owned) */
};

/* The seed of a render: FNV-1a over "sha256/layer/channel/seed", mixed by splitmix64. */
uint64_t cnv_atlas_seed(const char *model_sha256, const char *layer, int channel, uint64_t seed);

/* What the items run with: cnnvis/atlas.h's engine with the preset found and the render options
 * of its settings, their progress going to the engine's with the item being rendered. */
typedef struct cnv_atlas_work {
    cnv_graph *g;
    const cnv_preset *preset;
    cnv_backend *be;
    cnv_render_opts render;
    float relu_slope; /* objectives on ReLU layers see a leaky twin of this slope */
    int forward_batch; /* images per forward pass when ranking */
    const cnv_atlas_engine *engine;
    int item; /* the item being rendered */
} cnv_atlas_work;

/* The work of engine e with every render item's options (copied; the objective and seed are set
 * per item, the progress goes to the engine's, no frames) and leaky-twin slope. w must stay where
 * it is while it runs (its render options point back at it). */
cnv_status cnv_atlas_work_init(const cnv_atlas_engine *e, const cnv_render_opts *render, float relu_slope,
                               cnv_atlas_work *w);
/* cnv_atlas_run_shard over the work. */
cnv_status cnv_atlas_work_run_shard(const cnv_atlas *a, cnv_atlas_work *w, cnv_atlas_shard shard,
                                    cnv_atlas_item_fn on_item, void *user);

/* Whether an item's record exists. */
int cnv_atlas_item_recorded(const cnv_atlas *a, const cnv_atlas_item *it);

/* The reduce and the viewer (cnv_atlas_write_index). */
cnv_status cnv_atlas_index_write(const cnv_atlas *a, cnv_atlas_work *e);

/* The viewer page (runtime/vis/atlas_viewer.html, embedded at build time). */
extern const char cnv_atlas_viewer_html[];

#endif
