/* cnnvis — public C API: what a model computes and what it has learned. Forward to a layer,
 * input gradients of an objective, classification, and feature visualizations rendered by
 * optimization. Every call here uses the model's preset (cnv_model_preset) and the rules of
 * cnnvis.h: arrays are the caller's, float32, NCHW, sized as each call says. */
#ifndef CNNVIS_VISUALIZE_H
#define CNNVIS_VISUALIZE_H

#include "cnnvis/cnnvis.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- forward and gradients ---- */

/* Runs `batch` inputs (batch x the input shape) to `layer` and writes its output into out,
 * which holds out_count floats: batch x the layer's shape (cnv_model_layer_shape) past the
 * first axis. CNV_ERR_SHAPE names the count expected when out_count differs. */
CNV_API cnv_status cnv_forward(cnv_graph *g, cnv_backend *be, int batch, const float *input, int layer, float *out,
                               size_t out_count);

typedef enum cnv_objective_type {
    CNV_OBJECTIVE_UNIT,    /* element `index` of the layer's class vector (a logit) */
    CNV_OBJECTIVE_CHANNEL, /* the mean of channel `index` of the layer's maps (a filter) */
} cnv_objective_type;

/* The gradient of an objective at `layer` with respect to one input (the input shape's element
 * count, batch 1) into grad (the same count); the objective's value into *value (may be NULL).
 * For a class, pass the logits layer (cnv_model_logits_layer) and CNV_OBJECTIVE_UNIT. */
CNV_API cnv_status cnv_input_gradient(cnv_graph *g, cnv_backend *be, const float *input, int layer,
                                      cnv_objective_type type, int index, float *grad, double *value);

/* The k most probable classes of one input (batch 1) at the output layer: indices into cls[k]
 * and probabilities into prob[k] (the softmax of the output, unless the model ends in a
 * Softmax), most probable first. k larger than the class count is CNV_ERR_ARG. */
CNV_API cnv_status cnv_classify(cnv_graph *g, cnv_backend *be, const float *input, int k, int *cls, float *prob);

/* ---- attribution ---- */

/* The layer Grad-CAM uses by default: the last one before the logits whose output is a map with
 * more than one position; -1 when none. */
CNV_API int cnv_gradcam_default_layer(const cnv_graph *g);
/* The Grad-CAM map (Selvaraju et al. 2017) of class `cls` for one input (batch 1) at `layer`
 * (a map layer, e.g. cnv_gradcam_default_layer): relu of the channels of the layer's output
 * weighted by the mean gradient of the class's logit, into cam (the layer's height x width,
 * cnv_model_layer_shape), unnormalized. */
CNV_API cnv_status cnv_gradcam_map(cnv_graph *g, cnv_backend *be, const float *input, int cls, int layer, float *cam);

/* The saliency of class `cls` for one input (batch 1) at the logits layer, an attribution of
 * the input's shape into attribution (the input shape's element count). method: "grad" (the
 * input gradient, Simonyan et al. 2014), "guided" (guided backpropagation, Springenberg et al.
 * 2015), "smoothgrad" (the gradient averaged over 50 copies with Gaussian noise of sd 0.15 of the
 * input's range, drawn from seed; Smilkov et al. 2017) or "gradxinput" (the gradient times the
 * input); NULL: "grad". The same as `cnnvis saliency --save-tensor` with that method and seed. */
CNV_API cnv_status cnv_saliency(cnv_graph *g, cnv_backend *be, const float *input, int cls, const char *method,
                                uint64_t seed, float *attribution);

/* ---- feature visualization by optimization ---- */

/* Called after every optimization step: the step (1..steps over every round and octave) and
 * the objective's value with that step's transforms. */
typedef void (*cnv_progress_fn)(void *user, int step, int steps, double objective);

typedef struct cnv_render_params {
    const char *recipe; /* named defaults: "lucid", "sainburg", "plain" (NULL: "lucid") */
    int steps;          /* optimization steps; 0: the recipe's (lucid 512) */
    int size;           /* square image side in pixels, >= the input's; 0: the model's input size */
    uint64_t seed;      /* the same seed gives the same image on the same device */
    /* When the layer ends in a ReLU, the objective sees a leaky ReLU of this slope below zero
     * in its place, so units off at the start still get a gradient (0: the layer itself). */
    float relu_slope;
    cnv_progress_fn progress; /* may be NULL */
    void *user;               /* passed to progress */
} cnv_render_params;

/* The defaults of `cnnvis filter` and `cnnvis class`: lucid, its steps, the input size, seed 1,
 * relu slope 0.01, no progress. */
CNV_API void cnv_render_params_default(cnv_render_params *p);

/* The image shape a render writes: channels, height, width (batch 1). */
CNV_API cnv_status cnv_render_shape(const cnv_graph *g, const cnv_render_params *p, int *c, int *h, int *w);

/* An image that maximizes the mean of channel `channel` of `layer` (a filter), or class `cls`
 * at the logits layer (cnv_model_logits_layer), into image: channels x height x width of
 * cnv_render_shape, values in 0..1. The same as `cnnvis filter` / `cnnvis class` with the same
 * recipe, steps, size, seed and relu slope. The first render of a ReLU layer appends its leaky
 * twin to the model as a layer ("<layer>/leaky_relu_<slope>", after the others). */
CNV_API cnv_status cnv_render_filter(cnv_graph *g, cnv_backend *be, int layer, int channel, const cnv_render_params *p,
                                     float *image);
CNV_API cnv_status cnv_render_class(cnv_graph *g, cnv_backend *be, int cls, const cnv_render_params *p, float *image);

/* Writes an image of `c` (1 or 3) planes h x w in 0..1 (clamped), as a render returns it, as an
 * 8-bit PNG; an existing file is replaced only when the whole PNG is written. */
CNV_API cnv_status cnv_save_png(const char *path, const float *image, int c, int h, int w);

#ifdef __cplusplus
}
#endif
#endif
