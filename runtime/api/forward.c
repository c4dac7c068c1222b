/* The public forward, gradient and classification calls (visualize.h): one executor per call
 * on the caller's backend, objectives as the seeds of vis/objective.h. */
#include <stdlib.h>
#include <string.h>

#include "cnnvis/visualize.h"
#include "core/exec.h"
#include "core/status.h"
#include "vis/class_vector.h"
#include "vis/objective.h"

static cnv_status check_layer(const cnv_graph *g, int layer) {
    if (layer < 0 || layer >= g->n_nodes)
        return cnv_fail(CNV_ERR_NOT_FOUND, "%s: no layer %d (the model has %d)", g->source, layer, g->n_nodes);
    return CNV_OK;
}

/* An executor of `batch` with the input set and run to layer. */
static cnv_status run_to(cnv_graph *g, cnv_backend *be, int batch, const float *input, int layer, cnv_exec **ex) {
    CNV_TRY(check_layer(g, layer));
    CNV_TRY(cnv_exec_create(g, be, batch, ex));
    cnv_status s = cnv_exec_set_input(*ex, input);
    if (s == CNV_OK) s = cnv_exec_forward(*ex, layer);
    if (s != CNV_OK) {
        cnv_exec_free(*ex);
        *ex = NULL;
    }
    return s;
}

cnv_status cnv_forward(cnv_graph *g, cnv_backend *be, int batch, const float *input, int layer, float *out,
                       size_t out_count) {
    cnv_exec *ex;
    CNV_TRY(run_to(g, be, batch, input, layer, &ex));
    int value = g->nodes[layer].out;
    size_t n = cnv_shape_numel(&ex->shapes[value]);
    cnv_status s = n == out_count ? cnv_exec_read(ex, value, out)
                                  : cnv_fail(CNV_ERR_SHAPE, "layer %s at batch %d has %zu values, not %zu",
                                             g->nodes[layer].name, batch, n, out_count);
    cnv_exec_free(ex);
    return s;
}

cnv_status cnv_input_gradient(cnv_graph *g, cnv_backend *be, const float *input, int layer, cnv_objective_type type,
                              int index, float *grad, double *value) {
    CNV_TRY(check_layer(g, layer));
    if (type != CNV_OBJECTIVE_UNIT && type != CNV_OBJECTIVE_CHANNEL)
        return cnv_fail(CNV_ERR_ARG, "unknown objective type %d", (int)type);
    cnv_objective obj = {.kind = type == CNV_OBJECTIVE_UNIT ? CNV_OBJ_UNIT : CNV_OBJ_CHANNEL, .channel = index};
    const cnv_shape *s = &g->values[g->nodes[layer].out].shape;
    CNV_TRY(cnv_objective_check(&obj, 1, s, g->nodes[layer].name));
    size_t n = cnv_shape_numel(s);
    float *seed = malloc(n * sizeof *seed), *y = malloc(n * sizeof *y);
    cnv_exec *ex = NULL;
    cnv_status st = seed && y ? run_to(g, be, 1, input, layer, &ex) : cnv_fail(CNV_ERR_NOMEM, "out of memory");
    if (st == CNV_OK) {
        cnv_objective_seed(&obj, s, seed);
        st = cnv_exec_read(ex, g->nodes[layer].out, y);
    }
    if (st == CNV_OK && value) cnv_objective_values(seed, y, s, value);
    if (st == CNV_OK) st = cnv_exec_backward(ex, g->nodes[layer].out, seed, 0);
    if (st == CNV_OK) st = cnv_exec_read_grad(ex, g->input, grad);
    cnv_exec_free(ex);
    free(seed);
    free(y);
    return st;
}

cnv_status cnv_classify(cnv_graph *g, cnv_backend *be, const float *input, int k, int *cls, float *prob) {
    int layer = cnv_model_output_layer(g);
    if (layer < 0) return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: the graph output is not computed by a layer", g->source);
    const cnv_shape *s = &g->values[g->output].shape;
    int n = cnv_class_count(s);
    if (!n) return cnv_fail(CNV_ERR_SHAPE, "%s: the output is not a class vector", g->source);
    if (k < 1 || k > n) return cnv_fail(CNV_ERR_ARG, "k = %d: %s has %d classes", k, g->source, n);
    float *y = malloc((size_t)n * sizeof *y);
    if (!y) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    cnv_status st = cnv_forward(g, be, 1, input, layer, y, (size_t)n);
    if (st == CNV_OK && g->nodes[layer].op != CNV_OP_SOFTMAX) cnv_softmax(y, n);
    if (st == CNV_OK) cnv_top_k(y, n, k, cls);
    for (int i = 0; st == CNV_OK && i < k; i++) prob[i] = y[cls[i]];
    free(y);
    return st;
}
