/* Internal side of the public visualization runs (vis_run.h): the run's state shared by the
 * layer renders (api/vis_run.c) and the synthesis calls (api/vis_synth_run.c). */
#ifndef CNV_API_VIS_RUN_H
#define CNV_API_VIS_RUN_H

#include <time.h>

#include "api/vis_settings.h"

struct cnv_vis_run {
    cnv_graph *g;
    const cnv_preset *preset;
    cnv_backend *be;
    const cnv_vis_settings *s;
    cnv_vis_item *items;
    int n_items;
    cnv_vis_callbacks cb;
    int first_item;    /* of the render under way */
    const char *stage; /* shown with its progress and recorded with it (may be NULL) */
    int objective_layer; /* the layer the last render's objectives acted on (-1: none) */
    json_t *runs;      /* the record of every render */
    struct timespec t0;
    double seconds;
    int stopped;
};

/* Render options for items first..first+count-1 of the run, at the stage (may be NULL), with the
 * run's progress and (when the callbacks have one) frames. */
void cnv_vis_run_opts(cnv_vis_run *run, int first, int count, const char *stage, cnv_render_opts *o);
/* The frame callback's picture of the item under way: images [n, c, h, w]. */
void cnv_vis_run_frame(cnv_vis_run *run, int step, const float *images, int n, int c, int h, int w);
/* Records a finished render of `count` items from run->first_item, with extra members (taken;
 * may be NULL), and says which of its items could not move. */
cnv_status cnv_vis_run_log(cnv_vis_run *run, const cnv_render_result *res, int count, json_t *extra);
/* v as a JSON number, null when not finite (JSON cannot hold it). */
json_t *cnv_vis_json_number(double v);

#endif
