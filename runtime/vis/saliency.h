/* Saliency: which input pixels a class logit is most sensitive to.
 *   grad        the input gradient of the logit (Simonyan et al. 2014)
 *   guided      guided backpropagation: Relu passes dy only where x > 0 and dy > 0
 *               (Springenberg et al. 2015)
 *   smoothgrad  the gradient averaged over copies of the input with Gaussian noise added
 *               (Smilkov et al. 2017: 50 samples, noise sd 0.15 of the input's max - min)
 *   gradxinput  the gradient times the input (Shrikumar et al. 2016)
 * Each gives an attribution tensor of the input's shape; the map shown is its largest absolute
 * value over the channels at each pixel. */
#ifndef CNV_VIS_SALIENCY_H
#define CNV_VIS_SALIENCY_H

#include "core/exec.h"
#include "core/rng.h"
#include "cnnvis/attribution.h"

/* The methods, their names, parameters and the attribution of a method are public
 * (cnnvis/attribution.h: cnv_saliency_method, cnv_saliency_parse, cnv_saliency_params,
 * cnv_saliency_compute, cnv_saliency_map, cnv_saliency_map_picture); here are their parts. */

/* The gradient of class `cls`'s score of node `logits` (its logit, or the mean of channel cls of
 * a map of classes: cnv_class_score_seed) with respect to the input x
 * (the graph input at batch 1), with Relu's backward under `rule`. Runs the forward itself. */
cnv_status cnv_saliency_gradient(cnv_exec *ex, int logits, int cls, const float *x, cnv_backward_rule rule,
                                 float *grad);

/* Writes sample i's noise (numel floats) for SmoothGrad. */
typedef cnv_status (*cnv_noise_fn)(void *state, int sample, float *noise, size_t numel);
/* SmoothGrad over n_samples noisy copies x + noise(i): the mean of their gradients. */
cnv_status cnv_saliency_smoothgrad(cnv_exec *ex, int logits, int cls, const float *x, int n_samples,
                                   cnv_noise_fn noise, void *noise_state, float *grad);

/* The default noise: normal with standard deviation sd, drawn in order from a seeded cnv_rng
 * (cnv_rng_normal per element, sample after sample), so a run is reproducible from its seed. */
typedef struct cnv_gaussian_noise {
    cnv_rng rng;
    float sd;
} cnv_gaussian_noise;
cnv_status cnv_gaussian_noise_draw(void *state, int sample, float *noise, size_t numel);
/* SmoothGrad's noise level: fraction * (max - min) of x. */
float cnv_saliency_noise_sd(const float *x, size_t n, float fraction);

#endif
