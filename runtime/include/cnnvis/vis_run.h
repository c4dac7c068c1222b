/* cnnvis — public C API: feature-visualization runs as the CLI's optimization and synthesis verbs
 * (class, filter, neuron, invert, dream, style) make them, for any program.
 *
 * Settings (cnv_vis_settings, opaque): a named recipe and every knob of it by name, the image
 * size, seed, batch and ReLU slope, and the image prior fitted to a data set. Each knob is a
 * text value checked as it is set; messages name a knob as the CLI's option does ("--steps:
 * 'x' is not a whole number >= 1"), so that a front end can print them as they are.
 *
 * Runs (cnv_vis_run, opaque): the items of one run (an objective and a caption each) rendered
 * in batches, with a progress callback and a frame callback (what frames and a GIF are drawn
 * from), or synthesized (inversion, DeepDream with its zoom frames, style transfer); every
 * render is recorded, and the run's record (what the CLI writes as OUT.json beside OUT.png)
 * comes back as JSON text. Pictures are planes of 0..1 floats, N x C x H x W, the model's
 * channel count, in the caller's arrays. */
#ifndef CNNVIS_VIS_RUN_H
#define CNNVIS_VIS_RUN_H

#include "cnnvis/cnnvis.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How a model wants its input (name, size, normalization); NULL in the calls below: the preset
 * the model is recognized by (cnv_model_preset). */
typedef struct cnv_preset cnv_preset;

/* ---- settings ---- */

/* One knob: its name (what cnv_vis_settings_set takes), the form of its value, what it does and
 * its default, in words (the CLI's --help shows them as its options). */
typedef struct cnv_vis_knob {
    const char *name, *arg, *help, *def;
} cnv_vis_knob;

/* The knobs, 0..count-1 in the order the CLI lists them: "recipe" first, then the recipe's own
 * knobs, size, seed, batch, "relu-slope" and the image prior's ("image-prior",
 * "prior-components", "prior-weight"). NULL out of range. */
CNV_API int cnv_vis_knob_count(void);
CNV_API const cnv_vis_knob *cnv_vis_knob_at(int i);

/* The recipes' names, "lucid, sainburg, plain, invert, dream, style", into buf (size bytes). */
CNV_API void cnv_vis_recipe_list(char *buf, size_t size);

typedef struct cnv_vis_settings cnv_vis_settings;

/* New settings: recipe `recipe` (NULL: "lucid"; the recipes are lucid, sainburg, plain,
 * invert, dream, style), the model's input size, seed 1, batch 16, ReLU slope 0.01, no prior.
 * Freed with cnv_vis_settings_free. */
CNV_API cnv_status cnv_vis_settings_create(const char *recipe, cnv_vis_settings **out);
CNV_API void cnv_vis_settings_free(cnv_vis_settings *s);
/* Sets knob `knob` (a cnv_vis_knob name) from its text value, checked alone (CNV_ERR_ARG with
 * the message naming the knob). Setting "recipe" puts every knob of the recipe back to the named
 * recipe's values (size, seed, batch, relu-slope and image-prior stay); set it first. The
 * prior's data set is read by cnv_vis_settings_prepare. */
CNV_API cnv_status cnv_vis_settings_set(cnv_vis_settings *s, const char *knob, const char *value);
/* Checks the knobs together (ranges, combinations: "--octaves need the pixel parameterization
 * ..."). */
CNV_API cnv_status cnv_vis_settings_check(const cnv_vis_settings *s);
/* Checks the settings for model g (an image input of 1 or 3 channels) and, with an image-prior
 * set, fits the prior to the training images of its data set (IDX or image folders) at the
 * model's input size. Needed before a run; again after any set. */
CNV_API cnv_status cnv_vis_settings_prepare(cnv_vis_settings *s, const cnv_graph *g);
/* The values a run needs: the recipe's name, the square size (0: the model's input size),
 * seed, batch, ReLU slope, and the steps of a whole render (steps x rounds x octaves). */
CNV_API const char *cnv_vis_settings_recipe(const cnv_vis_settings *s);
CNV_API int cnv_vis_settings_size(const cnv_vis_settings *s);
CNV_API uint64_t cnv_vis_settings_seed(const cnv_vis_settings *s);
CNV_API int cnv_vis_settings_batch(const cnv_vis_settings *s);
CNV_API float cnv_vis_settings_relu_slope(const cnv_vis_settings *s);
CNV_API int cnv_vis_settings_total_steps(const cnv_vis_settings *s);
/* What shapes the pictures, as a compact JSON object into *json (the caller's, freed with
 * cnv_free): "recipe" (every knob), "size", "seed", "batch", "relu_slope" and, when prepared
 * with a prior, "image_prior" (data, components, weight). */
CNV_API cnv_status cnv_vis_settings_json(const cnv_vis_settings *s, char **json);

/* ---- runs ---- */

/* What one item maximizes: a class's logit, or its probability at a Softmax layer
 * (CNV_VIS_UNIT, index the class), a channel's mean (CNV_VIS_CHANNEL, a filter) or one unit
 * (y, x) of channel `index` (CNV_VIS_NEURON); and the caption under its tile, recorded with
 * it. A plain value. */
typedef enum cnv_vis_objective { CNV_VIS_UNIT, CNV_VIS_CHANNEL, CNV_VIS_NEURON } cnv_vis_objective;
typedef struct cnv_vis_item {
    cnv_vis_objective type;
    int index, y, x;
    char caption[48];
} cnv_vis_item;

/* Where a render stands, after every step: items first..first+count-1 of n_items, the step of
 * steps (over every round and octave), each item's objective values[count] (with that step's
 * transforms) and the stage (a synthesis run's "dream", "zoom", a layer; NULL for renders). */
typedef struct cnv_vis_progress {
    const char *stage;
    int first, count, n_items, step, steps;
    const double *values;
} cnv_vis_progress;

typedef struct cnv_vis_callbacks {
    void (*progress)(void *user, const cnv_vis_progress *p); /* may be NULL */
    /* The current images of items first..first+n-1 (n x c x h x w), every frame_every steps;
     * DeepDream passes each octave and each zoom frame at the picture's size, step counting
     * the frames. May be NULL. */
    void (*frame)(void *user, int first, int step, const float *images, int n, int c, int h, int w);
    int frame_every; /* 0: 16 */
    /* One line about something that is no error, e.g. "warning: item 3 (cat): the objective's
     * gradient is ...: the picture shows no feature" (may be NULL: not said). */
    void (*warning)(void *user, const char *message);
    void *user;
} cnv_vis_callbacks;

typedef struct cnv_vis_run cnv_vis_run;

/* A run of n items (copied) of model g with preset (NULL: the model's) on be, with settings s
 * (prepared for g, else CNV_ERR_ARG; unchanged while the run lives, which it must outlive) and
 * callbacks cb (copied; may be NULL). The run's clock starts here. Freed with cnv_vis_run_free. */
CNV_API cnv_status cnv_vis_run_create(cnv_graph *g, const cnv_preset *preset, cnv_backend *be,
                                      const cnv_vis_settings *s, const cnv_vis_item *items, int n,
                                      const cnv_vis_callbacks *cb, cnv_vis_run **out);
CNV_API void cnv_vis_run_free(cnv_vis_run *run);
/* The size of the run's pictures: the settings' size, else the model's input. */
CNV_API void cnv_vis_run_image_size(const cnv_vis_run *run, int *c, int *h, int *w);
/* Checks the objectives of items[n] against `layer`'s output (a class vector for units, maps
 * for channels and neurons, each in range); the message names the layer. Renders check too. */
CNV_API cnv_status cnv_vis_check_items(const cnv_graph *g, int layer, const cnv_vis_item *items, int n);
/* The pixels of a picture rendered with settings s (its size, else the model's input) that unit
 * (y, x) of `layer`'s output depends on: the exact field in the model's input, traced through
 * the graph and clamped to it, scaled to the picture; box = {top, left, bottom, right},
 * inclusive. What `cnnvis neuron` crops into OUT_crop.png. */
CNV_API cnv_status cnv_vis_unit_field(const cnv_graph *g, const cnv_vis_settings *s, int layer, int y, int x,
                                      int box[4]);
/* Renders every item at `layer`, settings' batch items at a time, into images (n x the
 * cnv_vis_run_image_size floats). When the layer ends in a ReLU the objectives act on its
 * leaky twin of the settings' slope (appended to the model as a layer, "<layer>/leaky_relu_
 * <slope>", the first time) and the layer itself is measured too; an item whose objective
 * cannot move is said through the warning callback and recorded. */
CNV_API cnv_status cnv_vis_run_render(cnv_vis_run *run, int layer, float *images);

/* The synthesis calls render item `item` of the run (its objective unused: the call's own),
 * recorded as one render each, the item's caption shown as the stage of an inversion.
 *
 * Inversion (Mahendran & Vedaldi 2015): from noise, an image whose activations at `layer`
 * match those of image (c x h x w, 0..1, the model's channels), into out (the same size);
 * *error_start and *error (may be NULL) get the relative error ||F(x) - F(image)|| /
 * ||F(image)|| of the start and of the result. */
CNV_API cnv_status cnv_vis_run_invert(cnv_vis_run *run, int item, int layer, const float *image, int h, int w,
                                      float *out, double *error_start, double *error);
/* DeepDream (Mordvintsev et al. 2015) of image (c x h x w, 0..1) into out: the sum over
 * `layers` of 0.5 ||F||^2 (channel < 0) or of channel `channel`'s mean, over the recipe's
 * octaves; then zoom_frames frames of infinite zoom (each the previous one
 * zoomed by the recipe's zoom about its centre and dreamt zoom_steps steps at full size, seeds
 * seed + 1000 + frame), which reach only the frame callback. out is the dream before the zoom. */
CNV_API cnv_status cnv_vis_run_dream(cnv_vis_run *run, int item, const int *layers, int n_layers, int channel,
                                     const float *image, int h, int w, int zoom_frames, int zoom_steps, float *out);

typedef struct cnv_vis_style {
    const int *style_layers; /* whose Gram matrices of the style image are matched */
    int n_style_layers;
    int content_layer;       /* whose activations of the content image are kept */
    float style_weight;      /* shared by the style layers (each weight / n_style_layers) */
    float content_weight;
    int from_noise;          /* start from noise (the recipe's init sd) instead of the content */
} cnv_vis_style;

/* Style transfer (Gatys et al. 2016): maximizes -(sum_k w_s/K ||G(F_k) -
 * G_k||^2 / ||G_k||^2 + w_c ||F_c - C||^2 / ||C||^2) over content (c x h x w), which also sets
 * the picture's size, and style (c x sh x sw), into out (c x h x w). losses (may be NULL) gets
 * the style loss (mean squared relative Gram error) and the content loss (squared relative
 * error) of the start and the result: {style start, style, content start, content}. */
CNV_API cnv_status cnv_vis_run_style(cnv_vis_run *run, int item, const cnv_vis_style *st, const float *content,
                                     int h, int w, const float *style, int sh, int sw, float *out, double losses[4]);

/* Stops the run's clock (once; later calls keep the first) and returns its seconds. */
CNV_API double cnv_vis_run_stop(cnv_vis_run *run);
/* The run's record as indented JSON into *json (the caller's, freed with cnv_free): verb,
 * model (model_path) and its SHA-256 ("unknown" when the file cannot be read), preset, device,
 * backend, the settings, `layer` (the layers in words; NULL: null), every item's objective,
 * every render (its items, start and final values, the logged objective, gradients, the items
 * that could not move, what a synthesis recorded), seconds (cnv_vis_run_stop), the image
 * prior, then the members of extra_json (a JSON object in text, may be NULL) and those the run
 * adds ("objective_layer", the layer the objectives acted on, after a render). */
CNV_API cnv_status cnv_vis_run_record(cnv_vis_run *run, const char *verb, const char *model_path, const char *layer,
                                      const char *extra_json, char **json);

#ifdef __cplusplus
}
#endif
#endif
