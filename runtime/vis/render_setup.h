/* The recipe every render starts from, for the CLI's optimization verbs and the public render
 * calls alike (the objective's leaky twin is cnv_render_at_layer's, render.h). */
#ifndef CNV_VIS_RENDER_SETUP_H
#define CNV_VIS_RENDER_SETUP_H

#include "render.h"

/* The recipe called `name` (render recipes, then the synthesis verbs': invert, dream, style)
 * with the image prior's defaults; CNV_ERR_ARG listing the recipes when unknown. */
cnv_status cnv_recipe_resolve(const char *name, cnv_recipe *out);
/* Every name cnv_recipe_resolve takes, "lucid, sainburg, plain, invert, dream, style", into buf. */
void cnv_recipe_list_all(char *buf, size_t size);

#endif
