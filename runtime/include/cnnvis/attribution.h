/* cnnvis — public C API: attribution beyond visualize.h's Grad-CAM and saliency: class
 * activation maps (CAM) and the deconvnet. Rules of cnnvis.h: arrays are the caller's, float32,
 * NCHW, sized as each call says; one input (batch 1) per call, preprocessed as the model's
 * preset says (cnv_model_load_input). */
#ifndef CNNVIS_ATTRIBUTION_H
#define CNNVIS_ATTRIBUTION_H

#include "cnnvis/cnnvis.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- CAM (Zhou et al. 2016) ---- */

/* The layer CAM reads: the map the model globally average-pools before its logits (through an
 * optional linear layer). CNV_ERR_UNSUPPORTED, saying why, when the model does not end in
 * GlobalAveragePool [+ linear]. */
CNV_API cnv_status cnv_cam_layer(const cnv_graph *g, int *layer);
/* The CAM of class `cls`: the pooled map's channels weighted by the linear layer's row of cls
 * (or channel cls itself without a linear layer), into cam (cnv_cam_layer's height x width),
 * unrectified. The same as `cnnvis gradcam --method cam --class cls --save-tensor`. */
CNV_API cnv_status cnv_cam_map(cnv_graph *g, cnv_backend *be, const float *input, int cls, float *cam);

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

#ifdef __cplusplus
}
#endif
#endif
