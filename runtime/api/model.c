/* The public view of a loaded model: its layers, values, preset and input (cnnvis.h,
 * cnnvis/model.h). The graph's internals stay behind these calls. */
#include <stdlib.h>
#include <string.h>

#include "core/exec.h"
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

cnv_status cnv_preset_logits_layer(const cnv_preset *p, const cnv_graph *g, int *layer) {
    if (p->logits_layer) {
        if (cnv_model_find_layer(g, p->logits_layer, layer) == CNV_OK) return CNV_OK;
        return cnv_fail(CNV_ERR_NOT_FOUND, "%s: no layer '%s', the logits of preset %s", g->source, p->logits_layer,
                        p->name);
    }
    int out = g->values[g->output].producer;
    if (out < 0) return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: the graph output is not computed by a layer", g->source);
    if ((g->nodes[out].op == CNV_OP_SOFTMAX || g->nodes[out].op == CNV_OP_SIGMOID) &&
        g->values[g->nodes[out].in[0]].producer >= 0)
        out = g->values[g->nodes[out].in[0]].producer;
    *layer = out;
    return CNV_OK;
}

cnv_status cnv_model_logits_layer(const cnv_graph *g, int *layer) {
    return cnv_preset_logits_layer(cnv_model_default_preset(g), g, layer);
}

int cnv_model_input_value(const cnv_graph *g) { return g->input; }

int cnv_model_layer_value(const cnv_graph *g, int layer) {
    return layer >= 0 && layer < g->n_nodes ? g->nodes[layer].out : -1;
}

const char *cnv_model_input_name(const cnv_graph *g) { return g->values[g->input].name; }

const char *cnv_model_layer_output_name(const cnv_graph *g, int layer) {
    return layer >= 0 && layer < g->n_nodes ? g->values[g->nodes[layer].out].name : NULL;
}

unsigned cnv_model_input_symbolic(const cnv_graph *g) { return g->input_symbolic; }

const char *cnv_model_source(const cnv_graph *g) { return g->source; }

cnv_status cnv_model_sha256(const cnv_graph *g, char hex[65]) { return cnv_graph_file_sha256(g, g->source, hex); }

size_t cnv_model_layer_params(const cnv_graph *g, int layer) {
    return layer >= 0 && layer < g->n_nodes ? cnv_node_param_count(g, layer) : 0;
}

cnv_status cnv_model_receptive_fields(const cnv_graph *g, int *size, int *stride) {
    cnv_receptive_field *rf = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *rf);
    if (!rf) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory for receptive fields", g->source);
    cnv_graph_receptive_fields(g, rf);
    for (int i = 0; i < g->n_nodes; i++)
        for (int a = 0; a < 2; a++) {
            size[2 * i + a] = rf[i].size[a];
            stride[2 * i + a] = rf[i].stride[a];
        }
    free(rf);
    return CNV_OK;
}

cnv_status cnv_exec_shape(const cnv_exec *ex, int value, cnv_shape *out) {
    if (value < 0 || value >= ex->g->n_values)
        return cnv_fail(CNV_ERR_ARG, "value %d out of range (the model has %d)", value, ex->g->n_values);
    *out = ex->shapes[value];
    return CNV_OK;
}
