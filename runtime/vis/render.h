/* Renders feature visualizations: builds the visualization graph for a batch of objectives,
 * records one optimization step (forward, objective, backward, optimizer) as a program and
 * replays it, drawing the per-step transforms from a seeded RNG. The same seed gives the same
 * images on the same device; every backend runs the same recipe. */
#ifndef CNV_VIS_RENDER_H
#define CNV_VIS_RENDER_H

#include "objective.h"
#include "recipe.h"
#include "vis_graph.h"
#include "core/backend.h"
#include "models/preset.h"

typedef struct cnv_render_opts {
    cnv_recipe recipe;
    int batch;   /* images rendered together, one objective each */
    int size[2]; /* image H, W: the model's input size or larger */
    uint64_t seed;
    int objective_node; /* a node of the model */
    const cnv_objective *objectives; /* batch entries */
    /* When has_report: the objectives are also measured at model node report_node (of the
     * same output shape) on the start and final images, into report_start/report_final: the
     * layer the user named when the objective is on its pre-ReLU twin (cnv_graph_pre_relu). */
    int has_report, report_node;
    /* Objectives that are not linear in one layer (inversion, style, DeepDream's energy):
     * when set, called once to append nodes to the visualization graph (model node i is
     * vg->node_offset + i there); it returns the node whose [N, 1] output each item maximizes,
     * and objective_node/objectives are ignored. */
    cnv_status (*build_objective)(void *user, cnv_vis_graph *vg, int *node);
    void *objective_user;
    /* Optimize the coefficients of this image prior instead of pixels (the recipe must use
     * pixels without a sigmoid, at the prior's size; NULL: none). */
    const cnv_image_prior *prior;
    /* Start from these images ([N, C, H, W] in 0..1, the render size) instead of noise; needs
     * the pixel parameterization. */
    const float *init_images;
    int log_every; /* read the objective values every k steps (progress, JSON log); 0: never */
    /* Called after every logged step with the values of each item (may be NULL). */
    void (*progress)(void *user, int step, int steps, const double *values, int n);
    /* Called every frame_every steps with the current images [N, C, H, W] in 0..1 (may be NULL). */
    void (*frame)(void *user, int step, const float *images, const cnv_shape *shape);
    int frame_every;
    void *user;
} cnv_render_opts;

typedef struct cnv_render_result {
    float *images;  /* [N, C, H, W], values in 0..1 */
    float *start_images; /* the same, before the first step */
    cnv_shape shape;
    double *start;  /* objective of each item on the starting image (no transforms) */
    double *final;  /* objective of each item on the final image (no transforms) */
    double *report_start, *report_final; /* the same at the report node (when has_report) */
    int n_log;      /* logged steps */
    int *log_steps; /* [n_log] */
    double *log;    /* [n_log x N] objective values (with that step's transforms) */
    int total_steps; /* over every round and octave */
    /* The largest |gradient| of each item's objective with respect to the model's input at the
     * first step (of the first octave): below the recipe's eps (cnv_render_stalled) the
     * objective gives the optimizer nothing to follow. */
    double *grad_max;
} cnv_render_result;

/* Whether item i of a render could not move: its first gradient was below the recipe's eps, so
 * Adam's steps (g / (sqrt(v) + eps)) and SGD's (lr g) leave the starting image as it was (the
 * objective's gradient vanishes at the start: saturated or dead units, e.g. random weights). */
int cnv_render_stalled(const cnv_render_result *res, const cnv_recipe *r, int i);

cnv_status cnv_render(const cnv_graph *model, const cnv_preset *preset, cnv_backend *be, const cnv_render_opts *o,
                      cnv_render_result *res);
void cnv_render_result_free(cnv_render_result *res);

/* One batch of objectives at model node `node` as the optimization verbs render them: base's
 * recipe, size, seed and callbacks, the objectives on the node's leaky twin of slope relu_slope
 * (cnv_graph_leaky_twin: the node itself when it ends in no ReLU), the node itself measured on
 * the start and final images. *target (may be NULL) gets the node the objectives acted on. */
cnv_status cnv_render_at_layer(cnv_graph *g, const cnv_preset *preset, cnv_backend *be, const cnv_render_opts *base,
                               int node, float relu_slope, const cnv_objective *objectives, int n,
                               cnv_render_result *res, int *target);

/* Checks a recipe's knobs (ranges, combinations); messages name the knob. */
cnv_status cnv_recipe_validate(const cnv_recipe *r);

#endif
