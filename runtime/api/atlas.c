/* The public atlas runs (atlas.h): the engine's visualization settings become the render
 * options and leaky-twin slope of vis/atlas.c's work, as every optimization verb gets them. */
#include "api/vis_settings.h"
#include "core/graph.h"
#include "core/status.h"
#include "vis/atlas.h"

static cnv_status work_from(const cnv_atlas_engine *e, cnv_atlas_work *w) {
    if (!e || !e->g || !e->settings)
        return cnv_fail(CNV_ERR_ARG, "atlas: the engine needs a model and visualization settings");
    if (e->settings->prepared_for != e->g)
        return cnv_fail(CNV_ERR_ARG, "%s: the settings are not prepared for this model (cnv_vis_settings_prepare)",
                        e->g->source);
    cnv_render_opts render;
    cnv_vis_settings_render_opts(e->settings, e->g, 1, &render);
    return cnv_atlas_work_init(e, &render, e->settings->relu_slope, w);
}

cnv_status cnv_atlas_run_shard(const cnv_atlas *a, const cnv_atlas_engine *e, cnv_atlas_shard shard,
                               cnv_atlas_item_fn on_item, void *user) {
    cnv_atlas_work w;
    CNV_TRY(work_from(e, &w));
    return cnv_atlas_work_run_shard(a, &w, shard, on_item, user);
}

cnv_status cnv_atlas_write_index(const cnv_atlas *a, const cnv_atlas_engine *e) {
    cnv_atlas_work w;
    CNV_TRY(work_from(e, &w));
    return cnv_atlas_index_write(a, &w);
}
