/* What the optimization and synthesis verbs (class, filter, neuron, invert, dream, style) share:
 * the library's visualization knobs as options (cnnvis/vis_run.h), the outputs (PNG or grid,
 * frames, GIF, .npy, the JSON record) and the progress bar. The library renders, batches and
 * records; this side parses, draws the pictures and writes the files. */
#ifndef CNV_CLI_VIS_CLI_H
#define CNV_CLI_VIS_CLI_H

#include "common.h"
#include "cnnvis/picture.h"
#include "cnnvis/vis_run.h"

/* Option ids of the shared options (above every verb's own): the library's knobs from
 * VIS_OPT_FIRST in its order, then the outputs. */
enum { VIS_OPT_FIRST = CLI_VERB_ID + 100, VIS_MAX_KNOBS = 64 };

typedef struct vis_cli {
    cli_ctx *ctx; /* --size sets the size it loads the model at */
    const char *recipe_name;
    const char *overrides[VIS_MAX_KNOBS]; /* each knob's value given, by knob index, set by vis_cli_prepare */
    const char *output, *frames_dir, *gif, *save_tensor;
    int frame_every;
    cnv_vis_settings *settings; /* made by the first knob given or vis_cli_prepare */
    /* The settings' values, copied by vis_cli_prepare (atlas reads them); size as soon as given. */
    int size, batch;
    unsigned long long seed;
    float relu_slope;
} vis_cli;

/* The verb's options followed by the shared ones, into table (cap entries). Returns the count. */
int vis_cli_options(const cli_option *own, int n_own, cli_option *table, int cap);
/* Shows `name` as the --recipe default in a table from vis_cli_options (the verb sets
 * vis_cli.recipe_name to the same before parsing). */
void vis_cli_recipe_default(cli_option *table, int n, const char *name);
/* Handles a shared option (ids >= VIS_OPT_FIRST); returns 0 or an exit status. */
int vis_cli_on_option(vis_cli *v, int id, const char *arg);
/* Sets the recipe and every knob given, checks them and the output, and prepares the settings
 * for the model (fitting the image prior); 0 or an exit status. */
int vis_cli_prepare(vis_cli *v);
/* What shapes the pictures, as JSON (new reference): cnv_vis_settings_json. */
json_t *vis_cli_settings(const vis_cli *v);
/* Frees what vis_cli_prepare made. */
void vis_cli_free(vis_cli *v);

/* One run of a verb: the library's run with this side's progress bar, frames and GIF. */
typedef struct vis_session {
    vis_cli *v;
    cnv_vis_run *run;
    const cnv_vis_item *items; /* every item of the run, for the captions */
    int n_items;
    int grid_cols; /* tiles per row of the pictures (0: about square) */
    int tty;
    cnv_image *gif_frames;
    int n_gif, cap_gif;
    int frame_failed;
} vis_session;

int vis_session_begin(vis_session *se, vis_cli *v, const cnv_vis_item *items, int n);
/* Writes the picture (a grid with captions for several items) of images [n, c, h, w], the
 * tensor, the GIF and the record (`layer` describes the layers; `extra`, taken, adds the verb's
 * fields), prints the summary and frees the session. 0 or an exit status. */
int vis_session_finish(vis_session *se, const float *images, int n, int c, int h, int w, const char *what,
                       const char *layer, json_t *extra);
/* Frees a session that will not finish (after an error). */
void vis_session_free(vis_session *se);

/* Renders the items at model node `node` (a model layer), writes every output; `what`
 * describes the objective for the record ("class", "filter", "neuron"). When images is not
 * NULL it receives the rendered images [n, c, h, w] (caller frees) and *h, *w their size.
 * 0 or an exit status. */
int vis_cli_run(vis_cli *v, int node, const cnv_vis_item *items, int n, const char *what, float **images, int *h,
                int *w);

/* An input file (an image, or a preprocessed .npy shown as a picture) as floats [C, h, w] in
 * 0..1 with the model's channel count, resized to h x w (h or w <= 0: its own size, put in
 * *out_h, *out_w). *chw is malloc'ed. 0 or an exit status. */
int vis_cli_load_image(const cli_ctx *ctx, const char *path, int h, int w, float **chw, int *out_h, int *out_w);

/* An image in 0..1 floats [C, H, W] as 8-bit pixels (caller frees img->px). */
int vis_cli_to_image(const cli_ctx *ctx, const float *chw, int c, int h, int w, cnv_image *img);

/* The model's input channels, height and width (batch 1). */
void vis_cli_input_size(const cli_ctx *ctx, int *c, int *h, int *w);

#endif
