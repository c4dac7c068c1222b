/* The public attribution calls (visualize.h) over vis/gradcam.h and vis/saliency.h, one
 * executor per call. */
#include "cnnvis/visualize.h"
#include "core/status.h"
#include "api/model.h"
#include "vis/class_vector.h"
#include "vis/gradcam.h"
#include "vis/saliency.h"

int cnv_gradcam_default_layer(const cnv_graph *g) {
    int logits;
    return cnv_model_logits_layer(g, &logits) == CNV_OK ? cnv_graph_last_map_node(g, logits) : -1;
}

cnv_status cnv_gradcam_map(cnv_graph *g, cnv_backend *be, const float *input, int cls, int layer, float *cam) {
    int logits;
    CNV_TRY(cnv_model_logits_layer(g, &logits));
    if (layer < 0 || layer >= logits)
        return cnv_fail(CNV_ERR_ARG, "%s: layer %d is not a layer before the logits (%s, %d)", g->source, layer,
                        g->nodes[logits].name, logits);
    const cnv_shape *s = &g->values[g->nodes[layer].out].shape;
    if (s->ndim != 4) return cnv_fail(CNV_ERR_SHAPE, "%s: layer %s is not a map (NCHW)", g->source, g->nodes[layer].name);
    CNV_TRY(cnv_class_check(g, logits, &g->values[g->nodes[logits].out].shape, cls));
    cnv_exec *ex;
    CNV_TRY(cnv_exec_create(g, be, 1, &ex));
    cnv_status st = cnv_exec_set_input(ex, input);
    if (st == CNV_OK) st = cnv_gradcam(ex, layer, logits, cls, cam);
    cnv_exec_free(ex);
    return st;
}

cnv_status cnv_saliency(cnv_graph *g, cnv_backend *be, const float *input, int cls, const char *method, uint64_t seed,
                        float *attribution) {
    cnv_saliency_params o;
    cnv_saliency_params_default(&o);
    o.seed = seed;
    CNV_TRY(cnv_saliency_parse(method ? method : "grad", &o.method));
    int logits;
    CNV_TRY(cnv_model_logits_layer(g, &logits));
    CNV_TRY(cnv_class_check(g, logits, &g->values[g->nodes[logits].out].shape, cls));
    cnv_exec *ex;
    CNV_TRY(cnv_exec_create(g, be, 1, &ex));
    cnv_status st = cnv_exec_set_input(ex, input);
    if (st == CNV_OK) st = cnv_saliency_compute(ex, logits, cls, input, &o, attribution);
    cnv_exec_free(ex);
    return st;
}
