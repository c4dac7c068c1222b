/* cnnvis — public C API: images synthesized from a model's features, starting from a picture:
 * DeepDream (Mordvintsev et al. 2015) and inversion (Mahendran & Vedaldi 2015). Pictures are
 * planes of 0..1 floats (channels x height x width, the model's channel count), as the renders
 * of visualize.h return them; the render parameters are visualize.h's cnv_render_params. */
#ifndef CNNVIS_SYNTHESIS_H
#define CNNVIS_SYNTHESIS_H

#include "cnnvis/cnnvis.h"

#ifdef __cplusplus
extern "C" {
#endif

/* visualize.h defines it; declared here so that either header may come first. */
struct cnv_render_params;

/* The size of a picture file (PNG, JPEG, BMP) or of a preprocessed .npy input, as the model
 * would read it. */
CNV_API cnv_status cnv_model_picture_size(const cnv_graph *g, const char *path, int *height, int *width);
/* A picture file as planes for the model: gray or RGB as its input has 1 or 3 channels, resized
 * to height x width (bilinear; 0 for both: its own size), 0..1; a preprocessed .npy input is
 * turned back into pixels by the model's preset. image: channels x height x width floats. What
 * the CLI's dream and invert start from. */
CNV_API cnv_status cnv_model_load_picture(const cnv_graph *g, const char *path, int height, int width, float *image);

/* DeepDream of image (channels x height x width, 0..1) into out (the same size): gradient ascent
 * on the sum over `layers` (n_layers indices) of 0.5 ||F||^2, or of the mean of channel `channel`
 * of each (channel >= 0), over the recipe's octaves from the smallest, carrying the detail up.
 * p: recipe (NULL: "dream"), steps (0: the recipe's, per octave), seed and progress are used;
 * size and relu_slope are not (the image's size is the dream's); p NULL: the recipe as it is,
 * seed 1. The same as `cnnvis dream` with that recipe, steps and seed, and --size the image's. */
CNV_API cnv_status cnv_deepdream(cnv_graph *g, cnv_backend *be, const float *image, int height, int width,
                                 const int *layers, int n_layers, int channel, const struct cnv_render_params *p,
                                 float *out);

/* An image whose activations at `layer` match those of image (channels x height x width, 0..1),
 * from noise, into out (the same size); *relative_error (may be NULL) gets the final
 * ||F(out) - F(image)|| / ||F(image)||. p: recipe (NULL: "invert"), steps (0: the recipe's),
 * seed and progress are used; size and relu_slope are not (p NULL: as for cnv_deepdream). The
 * progress callback sees minus the squared relative error. The same as `cnnvis invert --layer`
 * with that recipe, steps and seed, and --size the image's. */
CNV_API cnv_status cnv_invert(cnv_graph *g, cnv_backend *be, const float *image, int height, int width, int layer,
                              const struct cnv_render_params *p, float *out, double *relative_error);

#ifdef __cplusplus
}
#endif
#endif
