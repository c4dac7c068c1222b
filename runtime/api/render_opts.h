/* Internal side of the public renders (api/render.c, api/synthesis.c): the public render
 * parameters as render.h's options, set as the CLI's optimization verbs set them, so that the
 * same seed gives the CLI's image. */
#ifndef CNV_API_RENDER_OPTS_H
#define CNV_API_RENDER_OPTS_H

#include "cnnvis/visualize.h"
#include "vis/render.h"

/* Options for one image of h x w: the recipe p->recipe names (NULL: default_recipe) with
 * p->steps over its steps, p's seed and progress (o->user is p, which must outlive the render). */
cnv_status cnv_api_render_opts(const cnv_render_params *p, const char *default_recipe, int h, int w,
                               cnv_render_opts *o);

#endif
