/* cnnvis — public C API: the atlas of a model (`cnnvis atlas`). Every channel of the chosen
 * layers drawn by feature visualization and, given a set of images, each channel's top-k images
 * with their receptive-field patches and its activation statistics, browsable in DIR/index.html
 * (the same data in DIR/index.json).
 *
 * The work is a fixed list of items, the same in every process that plans the same atlas:
 * render items (a layer and a batch of its channels, each seeded from the model file's hash, the
 * layer and its first channel) and rank items (a chunk of the images, ranked for every channel:
 * the map of a map-reduce whose reduce is the index). Shard I of N takes the items i with
 * i % N == I, so any split renders the same pictures byte for byte. An item writes its files
 * atomically and then its record DIR/items/ID.json, the mark that it is done: a killed process
 * loses at most the item it was working on, and a rerun skips what is done. Every start and
 * finish is appended to DIR/work.log (host, pid, shard). DIR/atlas.json holds the model's hash,
 * the layers and the settings: a process with another model or other settings is refused before
 * it writes anything.
 *
 * The steps: cnv_atlas_images_open (optional), cnv_atlas_plan, cnv_atlas_open, then
 * cnv_atlas_run_shard in any number of processes, and cnv_atlas_write_index once every item is
 * done. */
#ifndef CNNVIS_ATLAS_H
#define CNNVIS_ATLAS_H

#include "cnnvis/cnnvis.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the images ranked for top-k ---- */

/* A folder of pictures (PNG, JPEG, BMP; sorted by name) or a data set as cnnvis/train.h reads it
 * (its test split), each seen at the model's input size. Opaque; the caller's (free it after
 * the atlas planned with it). */
typedef struct cnv_atlas_images cnv_atlas_images;

/* Opens dir for a model taking c x h x w inputs, keeping at most `limit` images (<= 0: all).
 * CNV_ERR_ARG/IO/FORMAT name the folder. */
CNV_API cnv_status cnv_atlas_images_open(const char *dir, int c, int h, int w, int limit, cnv_atlas_images **out);
CNV_API void cnv_atlas_images_free(cnv_atlas_images *s);
/* The number of images kept, and the folder they came from (the library's string). */
CNV_API int cnv_atlas_images_count(const cnv_atlas_images *s);
CNV_API const char *cnv_atlas_images_source(const cnv_atlas_images *s);

/* ---- the plan ---- */

typedef struct cnv_atlas cnv_atlas; /* opaque; the caller's (cnv_atlas_free) */

typedef enum cnv_atlas_kind { CNV_ATLAS_RENDER, CNV_ATLAS_RANK } cnv_atlas_kind;

typedef struct cnv_atlas_params {
    int max_channels; /* draw the first max_channels channels of each layer; 0: all */
    int batch;        /* channels per render item, >= 1 */
    uint64_t seed;    /* mixed into every render's seed */
    const cnv_atlas_images *images; /* NULL: no ranking; else it must outlive the atlas */
    int k;            /* top images per channel (with images), >= 1 */
    int rank_chunk;   /* images per rank item (with images), >= 1 */
    int jpeg_quality; /* pictures as JPEG of this quality (1..100); 0: PNG */
    /* A JSON object (text) of everything else that shapes the pictures and the ranking (the
     * recipe, sizes, ...): written into DIR/atlas.json and compared by every process. NULL: {}. */
    const char *settings;
} cnv_atlas_params;

/* Plans the atlas of g's layers `layers` (n_layers indices, each with an NCHW output) into dir:
 * the items and their seeds (from the hash of model_path, the file g was loaded from). Writes
 * nothing. CNV_ERR_ARG for a layer without maps or bad params, CNV_ERR_FORMAT for settings that
 * are not a JSON object, CNV_ERR_IO when model_path cannot be read. */
CNV_API cnv_status cnv_atlas_plan(const char *dir, const cnv_graph *g, const char *model_path, const int *layers,
                                  int n_layers, const cnv_atlas_params *p, cnv_atlas **out);
CNV_API void cnv_atlas_free(cnv_atlas *a);

/* Refuses a folder that holds another model's atlas, an atlas with other layers or settings,
 * or other files (CNV_ERR_ARG, naming the folder and what differs; nothing written); else
 * creates the folder and its manifest DIR/atlas.json. */
CNV_API cnv_status cnv_atlas_open(const cnv_atlas *a);

/* The folder (the library's string), the layer and item counts; item i's id (its files' name,
 * "L003-c000016" or "I00000256"), kind, and whether its record exists. */
CNV_API const char *cnv_atlas_dir(const cnv_atlas *a);
CNV_API int cnv_atlas_layer_count(const cnv_atlas *a);
CNV_API int cnv_atlas_item_count(const cnv_atlas *a);
CNV_API const char *cnv_atlas_item_id(const cnv_atlas *a, int item);
CNV_API cnv_atlas_kind cnv_atlas_item_kind(const cnv_atlas *a, int item);
CNV_API int cnv_atlas_item_done(const cnv_atlas *a, int item);

/* ---- shards and the work ---- */

typedef struct cnv_atlas_shard {
    int index, count; /* this process takes items i with i % count == index */
} cnv_atlas_shard;

/* "I/N" (0 <= I < N), or "auto": SLURM_ARRAY_TASK_ID (less SLURM_ARRAY_TASK_MIN, over
 * SLURM_ARRAY_TASK_STEP) of SLURM_ARRAY_TASK_COUNT; JOB_COMPLETION_INDEX of JOB_COMPLETIONS
 * (a Kubernetes indexed Job: set JOB_COMPLETIONS to the Job's completions); else 0/1.
 * CNV_ERR_ARG with the reason. */
CNV_API cnv_status cnv_atlas_shard_parse(const char *spec, cnv_atlas_shard *out);

/* What renders and ranks. */
typedef struct cnv_atlas_engine {
    cnv_graph *g;     /* the model planned */
    cnv_backend *be;
    const char *preset; /* how images are fed and shown (cnv_model_preset's names); NULL: the model's */
    /* Every render item's recipe, knobs, size, prior and leaky-twin slope (vis_run.h), prepared
     * for g (cnv_vis_settings_prepare, else CNV_ERR_ARG); the objective and seed are set per
     * item. Required; unchanged while the call runs. */
    const struct cnv_vis_settings *settings;
    int forward_batch;  /* images per forward pass when ranking, >= 1 */
    /* Optional: after each optimization step of a render item. */
    void (*progress)(void *user, int item, int step, int steps);
    void *user;
} cnv_atlas_engine;

/* Called after each item of a shard: done_items of shard_items are finished (skipped ones
 * count, once, before the first render); seconds is this item's time (0 when skipped). */
typedef void (*cnv_atlas_item_fn)(void *user, const cnv_atlas *a, int item, int skipped, int done_items,
                                  int shard_items, double seconds);

/* Renders or ranks every item of the shard that is not done, each committed as it finishes. */
CNV_API cnv_status cnv_atlas_run_shard(const cnv_atlas *a, const cnv_atlas_engine *e, cnv_atlas_shard shard,
                                       cnv_atlas_item_fn on_item, void *user);

/* The reduce and the viewer: needs every item done (else CNV_ERR_ARG with the count missing).
 * Merges the partial top-k lists, writes the per-layer grids and top-k strips, DIR/index.json,
 * DIR/index.js with DIR/layers/L<i>/channels.js (the viewer's data, loaded per layer) and
 * DIR/index.html. */
CNV_API cnv_status cnv_atlas_write_index(const cnv_atlas *a, const cnv_atlas_engine *e);

#ifdef __cplusplus
}
#endif
#endif
