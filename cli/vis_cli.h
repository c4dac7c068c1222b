/* What the optimization verbs (class, filter, neuron) share: the recipe and its overrides,
 * batching, outputs (PNG or grid, frames, GIF, .npy, JSON sidecar) and the progress bar. */
#ifndef CNV_CLI_VIS_CLI_H
#define CNV_CLI_VIS_CLI_H

#include <time.h>

#include "common.h"
#include "cnnvis/picture.h"
#include "vis/image_prior.h"
#include "vis/render.h"

/* Option ids of the shared options (above every verb's own). */
enum { VIS_OPT_FIRST = CLI_VERB_ID + 100 };

typedef struct vis_cli {
    cli_ctx *ctx; /* --size sets the size it loads the model at */
    const char *recipe_name;
    const char *overrides[64]; /* argument of each shared option given, by id - VIS_OPT_FIRST */
    int size, batch;
    unsigned long long seed;
    const char *output, *frames_dir, *gif, *save_tensor;
    int frame_every;
    float relu_slope; /* objectives on a ReLU layer see a leaky ReLU of this slope (--relu-slope) */
    const char *prior_data; /* --image-prior: the data set the prior is fitted to */
    int prior_images;       /* images it was fitted to */
    cnv_image_prior prior;  /* fitted by vis_cli_prepare (k = 0: none) */
    cnv_recipe recipe; /* the named recipe with the overrides applied (vis_cli_prepare) */
} vis_cli;

/* The verb's options followed by the shared ones, into table (cap entries). Returns the count. */
int vis_cli_options(const cli_option *own, int n_own, cli_option *table, int cap);
/* Shows `name` as the --recipe default in a table from vis_cli_options (the verb sets
 * vis_cli.recipe_name to the same before parsing). */
void vis_cli_recipe_default(cli_option *table, int n, const char *name);
/* Handles a shared option (ids >= VIS_OPT_FIRST); returns 0 or an exit status. */
int vis_cli_on_option(vis_cli *v, int id, const char *arg);
/* Resolves the recipe and every override, the size and the output, and fits the image prior;
 * 0 or an exit status. */
int vis_cli_prepare(vis_cli *v);
/* What shapes the pictures, as JSON (new reference): the recipe with every knob, the size
 * (0: the model's input), seed, batch, ReLU slope and the image prior. */
json_t *vis_cli_settings(const vis_cli *v);
/* Frees what vis_cli_prepare made. */
void vis_cli_free(vis_cli *v);

/* One rendered item: its objective and the caption under its tile. */
typedef struct vis_item {
    cnv_objective objective;
    char caption[48];
} vis_item;

/* One run of a verb: progress across its renders, frames and GIF, the JSON record of every
 * render, the clock. vis_cli_run is begin, one render per batch, finish; the synthesis verbs
 * call the same pieces around their own renders. */
typedef struct vis_session {
    vis_cli *v;
    const vis_item *items; /* every item of the run, for captions and the sidecar */
    int n_items;
    int first_item;    /* of the render under way */
    const char *stage; /* shown in the progress line and recorded with the render (may be NULL) */
    int grid_cols;     /* tiles per row of the pictures (0: about square) */
    int tty;
    cnv_image *gif_frames;
    int n_gif, cap_gif;
    int frame_failed;
    json_t *runs;
    struct timespec t0;
} vis_session;

int vis_session_begin(vis_session *se, vis_cli *v, const vis_item *items, int n);
/* Render options for items first..first+count-1: the recipe, seed, size (--size or the model's
 * input), progress and frames; the verb adds the objective. */
void vis_session_opts(vis_session *se, int first, int count, const char *stage, cnv_render_opts *o);
/* Records a finished render of `count` items in the sidecar, with the verb's extra fields
 * (taken; may be NULL). 0 or an exit status. */
int vis_session_log(vis_session *se, const cnv_render_result *res, int count, json_t *extra);
/* A frame of images [n, C, H, W] of the items from first_item (frames folder, GIF); render.h's
 * frame callback with user = the session. */
void vis_session_frame(void *user, int step, const float *images, const cnv_shape *shape);
/* Writes the picture (a grid with captions for several items), the tensor, the GIF and the
 * sidecar (`layer` describes the layers; `extra`, taken, adds the verb's fields), prints the
 * summary and frees the session. 0 or an exit status. */
int vis_session_finish(vis_session *se, const float *images, const cnv_shape *shape, const char *what,
                       const char *layer, json_t *extra);
/* Frees a session that will not finish (after an error). */
void vis_session_free(vis_session *se);

/* Renders the items in batches at model node `node` (a model layer), writes every output;
 * `what` describes the objective for the sidecar ("class", "filter", "neuron"). When images is
 * not NULL it receives the rendered images [n, C, H, W] (caller frees). 0 or an exit status. */
int vis_cli_run(vis_cli *v, int node, const vis_item *items, int n, const char *what, float **images,
                cnv_shape *item_shape);

/* An input file (an image, or a preprocessed .npy shown as a picture) as floats [C, h, w] in
 * 0..1 with the model's channel count, resized to h x w (h or w <= 0: its own size, put in
 * *out_h, *out_w). *chw is malloc'ed. 0 or an exit status. */
int vis_cli_load_image(const cli_ctx *ctx, const char *path, int h, int w, float **chw, int *out_h, int *out_w);

/* An image in 0..1 floats [C, H, W] as 8-bit pixels (caller frees img->px). */
int vis_cli_to_image(const cli_ctx *ctx, const float *chw, int c, int h, int w, cnv_image *img);

#endif
