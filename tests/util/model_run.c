#include "model_run.h"

#include "core/exec.h"
#include "core/status.h"

#include <stdlib.h>

cnv_status tu_model_forward(cnv_graph *g, const float *input, int batch, int value, float **out, cnv_shape *shape) {
    *out = NULL;
    if (value < 0 || value >= g->n_values || g->values[value].producer < 0)
        return cnv_fail(CNV_ERR_ARG, "%s: value %d is not computed by a node", g->source, value);
    cnv_backend *be = NULL;
    cnv_exec *ex = NULL;
    cnv_status st = cnv_backend_cpu_create(&be);
    if (st == CNV_OK) st = cnv_exec_create(g, be, batch, &ex);
    if (st == CNV_OK) st = cnv_exec_set_input(ex, input);
    if (st == CNV_OK) st = cnv_exec_forward(ex, g->values[value].producer);
    if (st == CNV_OK) {
        *shape = ex->shapes[value];
        *out = malloc(cnv_shape_numel(shape) * sizeof **out);
        st = *out ? cnv_exec_read(ex, value, *out) : cnv_fail(CNV_ERR_NOMEM, "out of memory");
    }
    if (st != CNV_OK) {
        free(*out);
        *out = NULL;
    }
    cnv_exec_free(ex);
    cnv_backend_free(be);
    return st;
}

cnv_status tu_model_forward_all(cnv_graph *g, const float *input, float ***vals) {
    *vals = NULL;
    cnv_backend *be = NULL;
    cnv_exec *ex = NULL;
    float **v = calloc((size_t)g->n_values, sizeof *v);
    cnv_status st = v ? cnv_backend_cpu_create(&be) : cnv_fail(CNV_ERR_NOMEM, "out of memory");
    if (st == CNV_OK) st = cnv_exec_create(g, be, 1, &ex);
    if (st == CNV_OK) st = cnv_exec_set_input(ex, input);
    if (st == CNV_OK) st = cnv_exec_forward(ex, g->values[g->output].producer);
    for (int i = 0; st == CNV_OK && i < g->n_nodes; i++) {
        const int out = g->nodes[i].out;
        v[out] = malloc(cnv_shape_numel(&g->values[out].shape) * sizeof(float));
        st = v[out] ? cnv_exec_read(ex, out, v[out]) : cnv_fail(CNV_ERR_NOMEM, "out of memory");
    }
    cnv_exec_free(ex);
    cnv_backend_free(be);
    if (st != CNV_OK) {
        tu_model_values_free(v, g->n_values);
        return st;
    }
    *vals = v;
    return CNV_OK;
}

void tu_model_values_free(float **vals, int n_values) {
    for (int i = 0; vals && i < n_values; i++) free(vals[i]);
    free(vals);
}

int tu_argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}
