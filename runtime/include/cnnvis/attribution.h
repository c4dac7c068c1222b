/* cnnvis — public C API: attribution beyond visualize.h's one-call Grad-CAM and saliency:
 * class activation maps (CAM), the deconvnet, saliency methods, receptive fields and the
 * inputs of a set that most activate each channel (top-k). Rules of cnnvis.h: arrays are the
 * caller's, float32, NCHW, sized as each call says.
 *
 * Two levels. The model-level calls (cnv_cam_map, cnv_deconvnet, ...) take one input (batch 1),
 * preprocessed as the model's preset says (cnv_model_load_input), and make their own executor.
 * The executor-level calls (cnv_gradcam, cnv_cam, cnv_deconv_project, cnv_saliency_compute)
 * work on a cnv_exec whose input the caller has set, so that one forward serves several maps;
 * they are what `cnnvis gradcam`, `deconv` and `saliency` run. Layers are indices (cnnvis.h);
 * `logits` is the layer holding the class vector (cnv_model_logits_layer, or the one a caller's
 * own preset names). Pictures are cnnvis/picture.h's cnv_image: their pixels are the caller's,
 * freed with cnv_image_free (include cnnvis/picture.h to read them). */
#ifndef CNNVIS_ATTRIBUTION_H
#define CNNVIS_ATTRIBUTION_H

#include "cnnvis/cnnvis.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A preset: how a model's input was made from pixels (channel order, scale, mean, std). The
 * calls below that turn input-space values back into pixels take the one the input was
 * preprocessed with; NULL where a call says so. Declared here only by name. */
struct cnv_preset;
/* cnnvis/picture.h defines it; declared here so that either header may come first. */
struct cnv_image;

/* ---- Grad-CAM (Selvaraju et al. 2017), at the executor level ---- */

/* The last layer before `before` whose output is a map with more than one position (NxCxHxW,
 * H*W > 1); -1 when none. Grad-CAM's default layer is the last one before the logits. */
CNV_API int cnv_graph_last_map_node(const cnv_graph *g, int before);
/* Grad-CAM of class `cls` at `layer` (a map layer before `logits`) for the input set in ex
 * (batch 1): runs the forward to logits and the backward from class cls's score (its logit, or
 * for a segmentation output 1xCxHxW the mean of channel cls, cnv_class_score_count), then writes
 * relu(sum_c w_c A_c), w_c the mean gradient of channel c of the layer's output A, into cam
 * (the layer's height x width). CNV_ERR_ARG for a layer or class that does not fit. */
CNV_API cnv_status cnv_gradcam(cnv_exec *ex, int layer, int logits, int cls, float *cam);

/* ---- CAM (Zhou et al. 2016) ---- */

/* The layer CAM reads: the map the model globally average-pools before its logits (through an
 * optional linear layer). CNV_ERR_UNSUPPORTED, saying why, when the model does not end in
 * GlobalAveragePool [+ linear]. */
CNV_API cnv_status cnv_cam_layer(const cnv_graph *g, int *layer);
/* The CAM of class `cls`: the pooled map's channels weighted by the linear layer's row of cls
 * (or channel cls itself without a linear layer), into cam (cnv_cam_layer's height x width),
 * unrectified. The same as `cnnvis gradcam --method cam --class cls --save-tensor`. */
CNV_API cnv_status cnv_cam_map(cnv_graph *g, cnv_backend *be, const float *input, int cls, float *cam);

/* The part of a model CAM reads, found from any logits layer: the map that is globally pooled
 * and the linear layer after it. A plain value; weights point into the model (valid while it
 * lives, not to be freed). */
typedef struct cnv_cam_head {
    int layer;            /* the layer whose output is pooled */
    const float *weights; /* the linear layer's weights; NULL: the logits are the pooled map */
    int trans_b;          /* weights are [classes, C] (Gemm transB=1) rather than [C, classes] */
    float alpha;          /* Gemm alpha (1 for MatMul) */
    int n_channels, n_classes;
} cnv_cam_head;
/* The CAM head ending at `logits`; CNV_ERR_UNSUPPORTED, saying why, when the model does not
 * end in GlobalAveragePool [+ linear] there. */
CNV_API cnv_status cnv_cam_head_find(const cnv_graph *g, int logits, cnv_cam_head *head);
/* The CAM of class cls for the input set in ex (batch 1): runs the forward to the head's layer
 * and writes its channels weighted by the class's row into cam (that layer's height x width),
 * unrectified. */
CNV_API cnv_status cnv_cam(cnv_exec *ex, const cnv_cam_head *head, int cls, float *cam);

/* ---- deconvnet (Zeiler & Fergus 2014) ---- */

typedef struct cnv_deconvnet_params {
    int all_positions; /* 0: project only the channel's strongest activation (as in the paper) */
    int unpool_fill;   /* 0: max pools unpool through the forward's switches; 1: into the whole window */
} cnv_deconvnet_params;

/* Channel `channel` of `layer` projected back to the input: everything else at the layer set to
 * zero and sent down with the deconvnet rule (transposed convolutions, unpooling, rectified
 * signal). projection: the input shape's element count, in the model's input space; *peak
 * (may be NULL) gets the channel's strongest activation (0 or less: nothing to project). p may
 * be NULL (the defaults, zero). The same as `cnnvis deconv --channel C --save-tensor`. */
CNV_API cnv_status cnv_deconvnet(cnv_graph *g, cnv_backend *be, const float *input, int layer, int channel,
                                 const cnv_deconvnet_params *p, float *projection, float *peak);

/* The k channels of `layer` with the largest maximum activation, largest first, into
 * channels[k], with those maxima into peaks[k] (may be NULL). k above the channel count is
 * CNV_ERR_ARG. What `cnnvis deconv --top k` projects. */
CNV_API cnv_status cnv_strongest_channels(cnv_graph *g, cnv_backend *be, const float *input, int layer, int k,
                                          int *channels, float *peaks);

/* The executor-level projection, for many channels of one forward: channel `channel` of
 * `layer` projected to the input for every batch item of ex, into projection (the input
 * shape's element count x the executor's batch). Needs the input set and a forward to layer;
 * leaves ex's backward at the plain gradient. *peak (may be NULL) gets item 0's strongest
 * activation of the channel. p may be NULL (the defaults). CNV_ERR_SHAPE when the layer has no
 * channel axis, CNV_ERR_ARG for a channel out of range (the message names the layer and its
 * channel count). */
CNV_API cnv_status cnv_deconv_project(cnv_exec *ex, int layer, int channel, const cnv_deconvnet_params *p,
                                      float *projection, float *peak);
/* The k channels of an activation `act` of shape s (N x C x ..., as cnv_exec_read gives a
 * layer's output; batch item 0 is ranked) with the largest maxima, largest first, into
 * channels[k], those maxima into peaks[k] (may be NULL). CNV_ERR_ARG unless 1 <= k <= C. */
CNV_API cnv_status cnv_deconv_strongest_channels(const float *act, const cnv_shape *s, int k, int *channels,
                                                 float *peaks);

/* An input-space signal (a projection or an attribution: 1 x C x H x W floats of shape s,
 * C = 1 or 3, in the model's channel order) as a picture a person can read: each channel
 * scaled back to 0..255 pixel units by the preset's std and scale and put in RGB order, then
 * zero at mid-gray (128) and the 99th percentile of the nonzero magnitudes at black or white
 * (larger ones clipped; non-finite values gray), as in Zeiler & Fergus's figures. p: the preset
 * the input was preprocessed with (NULL: the generic one, pixels / 255 in RGB, no mean). out:
 * C channels of H x W. CNV_ERR_SHAPE when s is not such an image. What `cnnvis deconv` and
 * `cnnvis saliency` show. */
CNV_API cnv_status cnv_signal_picture(const float *x, const cnv_shape *s, const struct cnv_preset *p,
                                      struct cnv_image *out);

/* ---- saliency methods, at the executor level ---- */

/* Which input pixels a class logit is most sensitive to (visualize.h's cnv_saliency names them
 * by string). */
typedef enum cnv_saliency_method {
    CNV_SALIENCY_GRAD,       /* "grad": the input gradient of the logit (Simonyan et al. 2014) */
    CNV_SALIENCY_GUIDED,     /* "guided": guided backpropagation, Relu passes dy where x > 0 and dy > 0
                                (Springenberg et al. 2015) */
    CNV_SALIENCY_SMOOTHGRAD, /* "smoothgrad": the gradient averaged over noisy copies (Smilkov et al. 2017) */
    CNV_SALIENCY_GRADXINPUT, /* "gradxinput": the gradient times the input (Shrikumar et al. 2016) */
    CNV_SALIENCY_COUNT
} cnv_saliency_method;

/* A method by its name; CNV_ERR_ARG naming the known ones otherwise. */
CNV_API cnv_status cnv_saliency_parse(const char *name, cnv_saliency_method *out);
/* A method's name ("?" for a value out of range; static). */
CNV_API const char *cnv_saliency_name(cnv_saliency_method m);
/* Every method's name, "grad, guided, smoothgrad, gradxinput" (static). */
CNV_API const char *cnv_saliency_names(void);

typedef struct cnv_saliency_params {
    cnv_saliency_method method;
    int samples;   /* smoothgrad: noisy copies averaged */
    float noise;   /* smoothgrad: noise sd as a fraction of the input's max - min, >= 0 */
    uint64_t seed; /* smoothgrad: the noise's seed (the same seed, the same attribution) */
} cnv_saliency_params;
/* Smilkov et al.'s defaults: 50 samples, noise 0.15, seed 0; method grad. */
CNV_API void cnv_saliency_params_default(cnv_saliency_params *p);

/* The attribution of class cls's score of `logits` (as cnv_gradcam's) for input x (the input
 * set in ex, batch 1; x holds the same values, the input shape's element count) by p's method,
 * into attribution (the input shape's element count). Runs the forward and backward itself. */
CNV_API cnv_status cnv_saliency_compute(cnv_exec *ex, int logits, int cls, const float *x,
                                        const cnv_saliency_params *p, float *attribution);
/* The map of an attribution of shape s (1 x C x H x W): the largest |value| over the channels
 * at each pixel, into map (H x W). */
CNV_API void cnv_saliency_map(const float *attribution, const cnv_shape *s, float *map);
/* A map (h x w values >= 0) as a gray picture: 0 at black, its 99th percentile and above at
 * white (a map almost all zero: its maximum), as Smilkov et al. show maps (a few extreme pixels
 * would otherwise leave the rest black). */
CNV_API cnv_status cnv_saliency_map_picture(const float *map, int h, int w, struct cnv_image *out);

/* ---- receptive fields and top-k ---- */

/* The input pixels that output position (y, x) of a layer sees: rows [y0, y1), columns
 * [x0, x1) of the model's input, before clamping (a box may reach past the borders, where the
 * padding is). A plain value. */
typedef struct cnv_box {
    int y0, x0, y1, x1;
} cnv_box;
/* The box of position (y, x) of `layer` (a layer whose output is NCHW; layers that mix every
 * position, after Flatten, Gemm or global pooling, see the whole input). */
CNV_API cnv_status cnv_receptive_box(const cnv_graph *g, int layer, int y, int x, cnv_box *box);
/* The box cut to an h x w image (the pixels a patch of it shows). */
CNV_API cnv_box cnv_box_clamp(cnv_box b, int h, int w);
/* The patch of the picture file `path` that position (y, x) of `layer` sees, on the picture
 * the model saw (the file as a person sees it, resized to the input size; a preprocessed .npy
 * turned back into pixels by preset p, NULL: the model's): RGB, the whole box, so that a box
 * reaching past the border keeps its scale, the part outside the picture in the colour bg. */
CNV_API cnv_status cnv_receptive_patch(const cnv_graph *g, const struct cnv_preset *p, const char *path, int layer,
                                       int y, int x, const unsigned char bg[3], struct cnv_image *out);

/* One of the strongest inputs of a channel. A plain value. */
typedef struct cnv_topk_entry {
    float score; /* the channel's maximum over its positions */
    int item;    /* which input: the index into the caller's list */
    int y, x;    /* the (first) position of the maximum, in the layer's output */
} cnv_topk_entry;

/* Called for a file that cannot be read, with the one-line reason (it names the file); the
 * ranking goes on without it. */
typedef void (*cnv_skip_fn)(void *user, const char *path, const char *message);

/* The k inputs among the files paths[n_paths] (images or preprocessed .npy inputs, each made
 * the model's input by preset p, NULL: the model's) whose activation at each of the channels
 * channels[n_channels] of `layer` (an NCHW layer) is largest, the activation being the
 * channel's maximum over positions (non-finite values never win). The files go through the
 * model in batches of `batch`, so their number does not matter. best: n_channels x k entries,
 * channel after channel, each list best first (ties keep the earlier file first); count:
 * n_channels, the entries each list holds (k, or fewer when fewer inputs were read);
 * *n_ranked: the files read. A file that cannot be read is skipped, through `skipped` (may be
 * NULL); running out of memory is an error. The same as `cnnvis topk`, whose files are a
 * folder's, sorted by name. */
CNV_API cnv_status cnv_topk_files(cnv_graph *g, cnv_backend *be, const struct cnv_preset *p,
                                  const char *const *paths, int n_paths, int layer, const int *channels,
                                  int n_channels, int k, int batch, cnv_skip_fn skipped, void *user,
                                  cnv_topk_entry *best, int *count, int *n_ranked);

#ifdef __cplusplus
}
#endif
#endif
