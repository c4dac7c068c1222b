/* Internal side of the public visualization settings (vis_run.h): the recipe with its knobs
 * applied, the run-level values and the fitted image prior, and the render options they give. */
#ifndef CNV_API_VIS_SETTINGS_H
#define CNV_API_VIS_SETTINGS_H

#include <jansson.h>

#include "cnnvis/vis_run.h"
#include "vis/image_prior.h"
#include "vis/render.h"

struct cnv_vis_settings {
    cnv_recipe recipe;
    int size, batch; /* size 0: the model's input */
    uint64_t seed;
    float relu_slope;
    char *prior_data;      /* image-prior: the data set (NULL: none) */
    int prior_images;      /* images the prior was fitted to */
    cnv_image_prior prior; /* fitted by cnv_vis_settings_prepare (k = 0: none) */
    const cnv_graph *prepared_for; /* the model of the last prepare (NULL: none since the last set) */
};

/* The render options of `batch` images for model g as the settings give them: the recipe, seed,
 * size (the settings' or the model's input), the prior, logging every step; no callbacks. */
void cnv_vis_settings_render_opts(const cnv_vis_settings *s, const cnv_graph *g, int batch, cnv_render_opts *o);

/* The recipe as a JSON object (every knob), for the settings and the run's record. */
json_t *cnv_vis_recipe_json(const cnv_recipe *r);

#endif
