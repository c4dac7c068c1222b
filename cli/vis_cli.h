/* What the optimization verbs (class, filter, neuron) share: the recipe and its overrides,
 * batching, outputs (PNG or grid, frames, GIF, .npy, JSON sidecar) and the progress bar. */
#ifndef CNV_CLI_VIS_CLI_H
#define CNV_CLI_VIS_CLI_H

#include "common.h"
#include "io/image.h"
#include "vis/render.h"

/* Option ids of the shared options (above every verb's own). */
enum { VIS_OPT_FIRST = CLI_VERB_ID + 100 };

typedef struct vis_cli {
    const cli_ctx *ctx;
    const char *recipe_name;
    const char *overrides[64]; /* argument of each shared option given, by id - VIS_OPT_FIRST */
    int size, batch;
    unsigned long long seed;
    const char *output, *frames_dir, *gif, *save_tensor;
    int frame_every;
    cnv_recipe recipe; /* the named recipe with the overrides applied (vis_cli_prepare) */
} vis_cli;

/* The verb's options followed by the shared ones, into table (cap entries). Returns the count. */
int vis_cli_options(const cli_option *own, int n_own, cli_option *table, int cap);
/* Handles a shared option (ids >= VIS_OPT_FIRST); returns 0 or an exit status. */
int vis_cli_on_option(vis_cli *v, int id, const char *arg);
/* Resolves the recipe and every override, the size and the output; 0 or an exit status. */
int vis_cli_prepare(vis_cli *v);

/* One rendered item: its objective and the caption under its tile. */
typedef struct vis_item {
    cnv_objective objective;
    char caption[48];
} vis_item;

/* Renders the items in batches at model node `node` (a model layer), writes every output;
 * `what` describes the objective for the sidecar ("class", "filter", "neuron"). When images is
 * not NULL it receives the rendered images [n, C, H, W] (caller frees). 0 or an exit status. */
int vis_cli_run(vis_cli *v, int node, const vis_item *items, int n, const char *what, float **images,
                cnv_shape *item_shape);

/* An image in 0..1 floats [C, H, W] as 8-bit pixels (caller frees img->px). */
int vis_cli_to_image(const cli_ctx *ctx, const float *chw, int c, int h, int w, cnv_image *img);

#endif
