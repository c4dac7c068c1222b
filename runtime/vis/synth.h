/* Image synthesis from features: inversion (Mahendran & Vedaldi 2015: match a layer's
 * activations of an image), DeepDream (Mordvintsev et al. 2015: amplify what a layer sees, over
 * octaves) and style transfer (Gatys et al. 2016: match Gram matrices of some layers and the
 * activations of one). Each objective is a weighted sum of terms appended to the visualization
 * graph as nodes (Gram, SquaredDistance, Add), so the render loop (render.h) records and replays
 * it on any backend like the linear objectives. Synthesis runs at the image's own size: the
 * model is cut after the deepest layer used and reshaped to that size. */
#ifndef CNV_VIS_SYNTH_H
#define CNV_VIS_SYNTH_H

#include "recipe.h"
#include "render.h"
#include "transform.h"

typedef enum cnv_synth_kind {
    CNV_SYNTH_MATCH,        /* -weight * ||F - T||^2 / ||T||^2: F the layer's output, T its target */
    CNV_SYNTH_GRAM_MATCH,   /* -weight * ||G(F) - T||^2 / ||T||^2: T a target Gram matrix [C, C] */
    CNV_SYNTH_ENERGY,       /* weight * ||F||^2 / 2 */
    CNV_SYNTH_CHANNEL_MEAN, /* weight * mean of channel `channel` of F */
} cnv_synth_kind;

typedef struct cnv_synth_term {
    cnv_synth_kind kind;
    int node; /* the model node whose output F is read */
    float weight;
    int channel;         /* CNV_SYNTH_CHANNEL_MEAN */
    const float *target; /* MATCH: one item's F; GRAM_MATCH: one item's Gram matrix (C*C floats) */
} cnv_synth_term;

typedef struct cnv_synth_objective {
    const cnv_synth_term *terms;
    int n_terms;
} cnv_synth_objective;

/* The named defaults of the synthesis verbs ("invert", "dream", "style"), with their sources;
 * NULL when unknown. */
const cnv_recipe *cnv_synth_recipe(const char *verb);
/* Appends their names ("invert, dream, style") to the list in buf. */
void cnv_synth_recipe_list(char *buf, size_t size);

/* render.h's build_objective for user = const cnv_synth_objective *: appends the terms and
 * their sum; batch items share the targets. */
cnv_status cnv_synth_build(void *user, cnv_vis_graph *vg, int *node);

/* A copy of the model's nodes 0..last with its input reshaped to 1 x C x h x w and every shape
 * inferred again (the nodes must accept that size); its weights are the model's, borrowed, so the
 * model must outlive it. */
cnv_status cnv_synth_cut_model(const cnv_graph *model, int last, int h, int w, cnv_graph **out);

/* The outputs of model nodes (their Gram matrices where gram[i]; gram may be NULL) for one image
 * [C, H, W] in 0..1 at its own size, preprocessed as the render loop does. out[i] is malloc'ed,
 * shapes[i] has batch 1. */
cnv_status cnv_synth_features(const cnv_graph *model, const cnv_preset *preset, cnv_backend *be, const float *image,
                              int h, int w, int n, const int *nodes, const int *gram, float **out, cnv_shape *shapes);

/* Each term's unweighted value for one image [C, h, w]: MATCH and GRAM_MATCH the squared relative
 * error ||X - T||^2 / ||T||^2, ENERGY ||F||^2 / 2, CHANNEL_MEAN the mean. values: n_terms. */
cnv_status cnv_synth_term_values(const cnv_graph *model, const cnv_preset *preset, cnv_backend *be,
                                 const cnv_synth_objective *obj, const float *image, int h, int w, double *values);

/* Renders the objective with the model cut and reshaped to o->size (o's objective fields are
 * filled here). */
cnv_status cnv_synth_render(const cnv_graph *model, const cnv_preset *preset, cnv_backend *be,
                            const cnv_synth_objective *obj, const cnv_render_opts *o, cnv_render_result *res);


typedef struct cnv_dream_opts {
    /* Called after each octave with its size and render result (may be NULL). */
    void (*octave_done)(void *user, int octave, int h, int w, const cnv_render_result *res);
    void *user;
} cnv_dream_opts;

/* DeepDream of image [C, h, w] (0..1) into out (same size): at each of o->recipe.octaves sizes
 * (each octave_scale times the previous, ending at the image's size), from the smallest,
 * the base image at that scale plus the upscaled detail gained so far is optimized for
 * o->recipe.steps steps, and the new detail (result - base) carried up. */
cnv_status cnv_dream(const cnv_graph *model, const cnv_preset *preset, cnv_backend *be, const cnv_synth_objective *obj,
                     const cnv_render_opts *o, const cnv_dream_opts *d, const float *image, int h, int w, float *out);

#endif
