/* Recipes: the knobs of a visualization, with named defaults that reproduce the anchors'
 * (docs/DESIGN.md): `lucid` (Olah et al., Lucid), `sainburg` (Sainburg's progressive zoom),
 * `plain` (naive gradient ascent on pixels: the adversarial-noise control). Every field can be
 * overridden from the command line. */
#ifndef CNV_VIS_RECIPE_H
#define CNV_VIS_RECIPE_H

#include "core/optim.h"

typedef struct cnv_recipe {
    const char *name;
    const char *source; /* where the defaults come from */
    /* parameterization */
    int fourier;
    float decay;
    int decorrelate;
    int sigmoid;
    float init_sd; /* standard deviation of the random start */
    /* optimization */
    cnv_optim_kind optimizer;
    float lr, beta1, beta2, eps;
    int steps; /* per round when rounds > 0 */
    int lr_cosine; /* anneal the learning rate from lr to 0 along a half cosine over all the steps */
    /* transformation robustness, drawn per step and per image */
    int pad;
    int jitter, jitter2; /* translations uniform in [-j, j] pixels, summed (Lucid jitters twice) */
    float scale_min, scale_max;
    float rotate_deg; /* uniform in [-r, r] */
    /* penalties and gradient shaping */
    float tv, l1, l2;
    int penalties_to_black; /* the L1/L2 penalties pull towards black (0) instead of grey (0.5) */
    int gradnorm;
    float gradclip; /* clip each gradient element to [-gradclip, gradclip]; 0: off */
    /* Sainburg schedule: `rounds` rounds of `steps`, then zoom and blur the image between them */
    int rounds;
    float zoom, blur_sigma;
    /* Octaves (coarse to fine, as DeepDream's multiscale rendering): `octaves` sizes from the
     * image size / octave_scale^(octaves - 1) up to the image size, `steps` at each, every
     * octave starting from the previous one upscaled. 0 or 1: off. */
    int octaves;
    float octave_scale;
    /* With an image prior (render.h): its components and the weight w of the Gaussian penalty
     * w/2 |z|^2 on the coefficients. */
    int prior_components;
    float prior_weight;
} cnv_recipe;

/* Steps of a whole run: steps x rounds x octaves (each at least 1). */
int cnv_recipe_total_steps(const cnv_recipe *r);

/* The size of octave k (0: the smallest) of an h x w image: h and w divided by
 * octave_scale^(octaves - 1 - k), rounded; with octaves off, h x w. */
void cnv_recipe_octave_size(const cnv_recipe *r, int k, int h, int w, int *hk, int *wk);

/* NULL when unknown. */
const cnv_recipe *cnv_recipe_find(const char *name);
/* "lucid, sainburg, plain" into buf. */
void cnv_recipe_list(char *buf, size_t size);

#endif
