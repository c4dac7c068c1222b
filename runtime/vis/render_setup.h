/* What every render of a model layer sets up the same way, for the CLI's optimization verbs
 * and the public render calls alike: the named recipe with its defaults, and the objective
 * aimed at the layer's leaky twin with the layer itself measured. */
#ifndef CNV_VIS_RENDER_SETUP_H
#define CNV_VIS_RENDER_SETUP_H

#include "render.h"

/* The recipe called `name` (render recipes, then the synthesis verbs': invert, dream, style)
 * with the image prior's defaults; CNV_ERR_ARG listing the recipes when unknown. */
cnv_status cnv_recipe_resolve(const char *name, cnv_recipe *out);

/* Aims o's objective at `node`: the objective acts on its leaky twin of `slope`
 * (cnv_graph_leaky_twin) and, when that is another node, `node` is measured as the report. */
cnv_status cnv_render_aim(cnv_graph *g, int node, float slope, cnv_render_opts *o);

#endif
