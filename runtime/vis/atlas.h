/* An atlas of a model: every channel of the chosen layers drawn by feature visualization and,
 * given a set of images, each channel's top-k images with their receptive-field patches and its
 * activation statistics, browsable in DIR/index.html (the same data in DIR/index.json).
 *
 * The work is a fixed list of items, the same in every process that plans the same atlas:
 * render items (a layer and a batch of its channels, each seeded from the model's hash, the
 * layer and its first channel) and rank items (a chunk of the images, ranked for every channel:
 * the map of a map-reduce whose reduce is the indexing step). Shard I of N takes the items
 * i with i % N == I, so any split renders the same pictures byte for byte. An item writes its
 * files atomically and then its record DIR/items/ID.json, the mark that it is done: a killed
 * process loses at most the items it was working on, and a rerun skips what is done. Every start
 * and finish is appended to DIR/work.log (host, pid, shard), so who rendered what stays known.
 *
 * DIR/atlas.json holds the model's hash, the layers and the settings: a process with another
 * model or other settings is refused before it writes anything. */
#ifndef CNV_VIS_ATLAS_H
#define CNV_VIS_ATLAS_H

#include <stdint.h>

#include <jansson.h>

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

typedef enum cnv_atlas_kind { CNV_ATLAS_RENDER, CNV_ATLAS_RANK } cnv_atlas_kind;

typedef struct cnv_atlas_item {
    cnv_atlas_kind kind;
    int layer;        /* RENDER: index into the atlas' layers */
    int first, count; /* RENDER: channels; RANK: images */
    uint64_t seed;    /* RENDER: the render's seed */
    char id[32];      /* names its files: "L003-c000016" or "I00000256" */
} cnv_atlas_item;

/* The images ranked for top-k: a folder of pictures (PNG, JPEG, BMP; sorted by name) or a data
 * set as `train --data` takes it (its test split), each seen at the model's input size. */
typedef struct cnv_atlas_images {
    char *source;
    int n;
    char **paths;      /* folder: n files */
    cnv_dataset data;  /* data set (data.n == n) */
    int c, h, w;       /* the model's input */
} cnv_atlas_images;

/* Opens a folder of pictures or a data set for a model taking c x h x w inputs, keeping at most
 * `limit` images (<= 0: all). CNV_ERR_ARG/IO/FORMAT name the folder. */
cnv_status cnv_atlas_images_open(const char *dir, int c, int h, int w, int limit, cnv_atlas_images *out);
void cnv_atlas_images_free(cnv_atlas_images *s);
/* Image i as 8-bit pixels at the model's input size (caller frees). */
cnv_status cnv_atlas_images_picture(const cnv_atlas_images *s, int i, const cnv_preset *p, cnv_image *out);
/* A short name for image i: the file name, or "test #i" of a data set. */
const char *cnv_atlas_images_name(const cnv_atlas_images *s, int i, char *buf, size_t size);

typedef struct cnv_atlas {
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
    int jpeg_quality; /* pictures as JPEG of this quality; 0: PNG (set before cnv_atlas_open) */
    json_t *settings; /* everything that shapes the pictures (owned) */
} cnv_atlas;

/* Plans the atlas of the model's layers `nodes` (each with an NCHW output; the first
 * max_channels channels of each, 0: all) into dir: the items, their seeds from the model file's
 * hash, the layer, the first channel and `seed`. settings (taken) describes the recipe and
 * sizes; images may be NULL. Writes nothing. */
cnv_status cnv_atlas_plan(cnv_atlas *a, const char *dir, const cnv_graph *g, const char *model_path,
                          const int *nodes, int n_layers, int max_channels, int batch, uint64_t seed,
                          const cnv_atlas_images *images, int k, int rank_chunk, json_t *settings);
void cnv_atlas_free(cnv_atlas *a);

/* The seed of a render: FNV-1a over "sha256/layer/channel/seed", mixed by splitmix64. */
uint64_t cnv_atlas_seed(const char *model_sha256, const char *layer, int channel, uint64_t seed);

/* Refuses a folder that holds another model's atlas, an atlas with other layers or settings,
 * or other files (CNV_ERR_ARG, naming the folder and what differs; nothing written); else
 * creates the folder and its manifest DIR/atlas.json. */
cnv_status cnv_atlas_open(const cnv_atlas *a);

typedef struct cnv_atlas_shard {
    int index, count; /* this process takes items i with i % count == index */
} cnv_atlas_shard;

/* "I/N" (0 <= I < N), or "auto": SLURM_ARRAY_TASK_ID (less SLURM_ARRAY_TASK_MIN, over
 * SLURM_ARRAY_TASK_STEP) of SLURM_ARRAY_TASK_COUNT; JOB_COMPLETION_INDEX of JOB_COMPLETIONS
 * (a Kubernetes indexed Job: set JOB_COMPLETIONS to the Job's completions); else 0/1.
 * CNV_ERR_ARG with the reason. */
cnv_status cnv_atlas_shard_parse(const char *spec, cnv_atlas_shard *out);

/* What renders and ranks: the model on a backend, the render options of every item (recipe,
 * size, prior, progress; the objective fields are set per item). */
typedef struct cnv_atlas_engine {
    cnv_graph *g;
    const cnv_preset *preset;
    cnv_backend *be;
    cnv_render_opts render;
    float relu_slope; /* objectives on ReLU layers see a leaky twin of this slope */
    int forward_batch; /* images per forward pass when ranking */
} cnv_atlas_engine;

/* Whether an item's record exists. */
int cnv_atlas_item_done(const cnv_atlas *a, const cnv_atlas_item *it);

/* Called after each item of a shard: done_items of shard_items are finished (skipped ones
 * count, once, before the first render); seconds is this item's time (0 when skipped). */
typedef void (*cnv_atlas_item_fn)(void *user, const cnv_atlas *a, const cnv_atlas_item *it, int skipped,
                                  int done_items, int shard_items, double seconds);

/* Renders or ranks every item of the shard that is not done, each committed as it finishes. */
cnv_status cnv_atlas_run_shard(const cnv_atlas *a, cnv_atlas_engine *e, cnv_atlas_shard shard,
                               cnv_atlas_item_fn on_item, void *user);

/* The reduce and the viewer: needs every item done (else CNV_ERR_ARG with the count missing).
 * Merges the partial top-k lists, writes the per-layer grids and top-k strips, DIR/index.json,
 * DIR/index.js with DIR/layers/L<i>/channels.js (the viewer's data, loaded per layer) and
 * DIR/index.html. */
cnv_status cnv_atlas_write_index(const cnv_atlas *a, cnv_atlas_engine *e);

/* The viewer page (runtime/vis/atlas_viewer.html, embedded at build time). */
extern const char cnv_atlas_viewer_html[];

#endif
