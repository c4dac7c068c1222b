/* The public deconvnet calls (attribution.h) over vis/deconv.h: one executor per call, run to
 * the layer, as `cnnvis deconv` runs it. */
#include <stdlib.h>

#include "cnnvis/attribution.h"
#include "core/status.h"
#include "vis/deconv.h"

/* An executor with the input set and run to layer. */
static cnv_status run_to(cnv_graph *g, cnv_backend *be, const float *input, int layer, cnv_exec **ex) {
    if (layer < 0 || layer >= g->n_nodes)
        return cnv_fail(CNV_ERR_NOT_FOUND, "%s: no layer %d (the model has %d)", g->source, layer, g->n_nodes);
    CNV_TRY(cnv_exec_create(g, be, 1, ex));
    cnv_status s = cnv_exec_set_input(*ex, input);
    if (s == CNV_OK) s = cnv_exec_forward(*ex, layer);
    if (s != CNV_OK) {
        cnv_exec_free(*ex);
        *ex = NULL;
    }
    return s;
}

cnv_status cnv_deconvnet(cnv_graph *g, cnv_backend *be, const float *input, int layer, int channel,
                         const cnv_deconvnet_params *p, float *projection, float *peak) {
    cnv_exec *ex;
    CNV_TRY(run_to(g, be, input, layer, &ex));
    cnv_status s = cnv_deconv_project(ex, layer, channel, p, projection, peak);
    cnv_exec_free(ex);
    return s;
}

cnv_status cnv_strongest_channels(cnv_graph *g, cnv_backend *be, const float *input, int layer, int k,
                                  int *channels, float *peaks) {
    cnv_exec *ex;
    CNV_TRY(run_to(g, be, input, layer, &ex));
    const cnv_shape *s = &ex->shapes[g->nodes[layer].out];
    char buf[64];
    cnv_status st = CNV_OK;
    if (s->ndim < 2)
        st = cnv_fail(CNV_ERR_SHAPE, "layer %s is %s: it has no channel axis", g->nodes[layer].name,
                      cnv_shape_str(s, buf, sizeof buf));
    else if (k < 1 || k > s->d[1])
        st = cnv_fail(CNV_ERR_ARG, "k = %d: layer %s has %d channels", k, g->nodes[layer].name, s->d[1]);
    float *act = st == CNV_OK ? malloc(cnv_shape_numel(s) * sizeof *act) : NULL;
    if (st == CNV_OK && !act) st = cnv_fail(CNV_ERR_NOMEM, "out of memory");
    if (st == CNV_OK) st = cnv_exec_read(ex, g->nodes[layer].out, act);
    if (st == CNV_OK) st = cnv_deconv_strongest_channels(act, s, k, channels, peaks);
    free(act);
    cnv_exec_free(ex);
    return st;
}
