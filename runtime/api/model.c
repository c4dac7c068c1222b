/* The public view of a loaded model: its layers, its preset and its input (cnnvis.h). The
 * graph's internals stay behind these calls. */
#include <stdlib.h>
#include <string.h>

#include "core/graph.h"
#include "core/status.h"
#include "io/preprocess.h"
#include "api/model.h"

int cnv_model_layer_count(const cnv_graph *g) { return g->n_nodes; }

const char *cnv_model_layer_name(const cnv_graph *g, int layer) {
    return layer >= 0 && layer < g->n_nodes ? g->nodes[layer].name : NULL;
}

const char *cnv_model_layer_op(const cnv_graph *g, int layer) {
    return layer >= 0 && layer < g->n_nodes ? cnv_op_name(g->nodes[layer].op) : NULL;
}

static int copy_shape(const cnv_shape *s, int dims[CNV_MAX_RANK]) {
    for (int i = 0; i < s->ndim && i < CNV_MAX_RANK; i++) dims[i] = s->d[i];
    return s->ndim;
}

int cnv_model_layer_shape(const cnv_graph *g, int layer, int dims[CNV_MAX_RANK]) {
    if (layer < 0 || layer >= g->n_nodes) return -1;
    return copy_shape(&g->values[g->nodes[layer].out].shape, dims);
}

int cnv_model_input_shape(const cnv_graph *g, int dims[CNV_MAX_RANK]) {
    return copy_shape(&g->values[g->input].shape, dims);
}

int cnv_model_output_layer(const cnv_graph *g) { return g->values[g->output].producer; }

const cnv_preset *cnv_model_default_preset(const cnv_graph *g) {
    const cnv_preset *p = cnv_preset_detect(g);
    return p ? p : cnv_preset_find("generic");
}

const char *cnv_model_preset(const cnv_graph *g) { return cnv_model_default_preset(g)->name; }

cnv_status cnv_model_load_input(const cnv_graph *g, const char *path, float *out) {
    float *data;
    const cnv_shape *in = &g->values[g->input].shape;
    CNV_TRY(cnv_preprocess_file(path, cnv_model_default_preset(g), in, &data));
    memcpy(out, data, cnv_shape_numel(in) * sizeof *out);
    free(data);
    return CNV_OK;
}

cnv_status cnv_model_logits_layer(const cnv_graph *g, int *layer) {
    const cnv_preset *p = cnv_model_default_preset(g);
    if (p->logits_layer) {
        if (cnv_model_find_layer(g, p->logits_layer, layer) == CNV_OK) return CNV_OK;
        return cnv_fail(CNV_ERR_NOT_FOUND, "%s: no layer '%s', the logits of preset %s", g->source, p->logits_layer,
                        p->name);
    }
    int out = g->values[g->output].producer;
    if (out < 0) return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: the graph output is not computed by a layer", g->source);
    if (g->nodes[out].op == CNV_OP_SOFTMAX && g->values[g->nodes[out].in[0]].producer >= 0)
        out = g->values[g->nodes[out].in[0]].producer;
    *layer = out;
    return CNV_OK;
}

cnv_status cnv_model_check_class(const cnv_graph *g, int logits, int cls) {
    const cnv_shape *s = &g->values[g->nodes[logits].out].shape;
    int n_classes = (int)(cnv_shape_numel(s) / (size_t)s->d[0]);
    if (cls < 0 || cls >= n_classes)
        return cnv_fail(CNV_ERR_ARG, "class %d out of range: %s has %d classes", cls, g->source, n_classes);
    return CNV_OK;
}
