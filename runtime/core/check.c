#include "check.h"

#include "graph.h"
#include "status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double cnv_rel_error(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        num += d * d;
        den += (double)b[i] * (double)b[i];
    }
    if (den == 0) return num == 0 ? 0.0 : INFINITY;
    return sqrt(num / den);
}

void cnv_channel_mean_seed(const cnv_shape *s, int channel, float *seed) {
    size_t n = cnv_shape_numel(s);
    memset(seed, 0, n * sizeof *seed);
    int batch = s->d[0], channels = s->ndim > 1 ? s->d[1] : 1;
    size_t plane = channels ? n / ((size_t)batch * (size_t)channels) : 0;
    float w = 1.0f / (float)((size_t)batch * plane);
    for (int b = 0; b < batch; b++)
        for (size_t i = 0; i < plane; i++) seed[((size_t)b * channels + channel) * plane + i] = w;
}

/* Reads the same tensor from both executors and compares; grad selects gradients. */
static cnv_status compare(cnv_exec *t, cnv_exec *r, int value, int grad, float *bt, float *br, double *err) {
    size_t n = cnv_shape_numel(&t->shapes[value]);
    CNV_TRY(grad ? cnv_exec_read_grad(t, value, bt) : cnv_exec_read(t, value, bt));
    CNV_TRY(grad ? cnv_exec_read_grad(r, value, br) : cnv_exec_read(r, value, br));
    *err = cnv_rel_error(bt, br, n);
    return CNV_OK;
}

/* Layer n's own backward on both executors from the reference's inputs and its gradient at n's
 * output; *err the largest relative error over n's non-weight inputs (-1 when it has none). */
static cnv_status own_backward(const cnv_graph *g, cnv_exec *t, cnv_exec *r, int n, double *err) {
    const cnv_node *nd = &g->nodes[n];
    *err = -1;
    float *grad_out = NULL, *inputs[CNV_MAX_INPUTS] = {0}, *gt[CNV_MAX_INPUTS] = {0}, *gr[CNV_MAX_INPUTS] = {0};
    cnv_status s = CNV_OK;
    size_t nout = cnv_shape_numel(&r->shapes[nd->out]);
    if (!(grad_out = malloc(nout * sizeof *grad_out))) s = cnv_fail(CNV_ERR_NOMEM, "out of memory");
    for (int i = 0; s == CNV_OK && i < nd->n_in; i++) {
        if (g->values[nd->in[i]].init) continue;
        size_t k = cnv_shape_numel(&r->shapes[nd->in[i]]);
        inputs[i] = malloc(k * sizeof(float));
        gt[i] = malloc(k * sizeof(float));
        gr[i] = malloc(k * sizeof(float));
        if (!inputs[i] || !gt[i] || !gr[i]) s = cnv_fail(CNV_ERR_NOMEM, "out of memory");
        else s = cnv_exec_read(r, nd->in[i], inputs[i]);
    }
    if (s == CNV_OK) s = cnv_exec_read_grad(r, nd->out, grad_out);
    if (s == CNV_OK) s = cnv_exec_node_backward(r, n, NULL, grad_out, gr);
    if (s == CNV_OK) s = cnv_exec_node_backward(t, n, (const float *const *)inputs, grad_out, gt);
    for (int i = 0; s == CNV_OK && i < nd->n_in; i++) {
        if (!gt[i]) continue;
        const double e = cnv_rel_error(gt[i], gr[i], cnv_shape_numel(&r->shapes[nd->in[i]]));
        if (e > *err) *err = e;
    }
    free(grad_out);
    for (int i = 0; i < nd->n_in; i++) {
        free(inputs[i]);
        free(gt[i]);
        free(gr[i]);
    }
    return s;
}

static cnv_status run_both(cnv_graph *g, cnv_exec *t, cnv_exec *r, const float *input, int node, int channel,
                           float *bt, float *br, cnv_check_layer *layers, cnv_check_report *rep) {
    CNV_TRY(cnv_exec_set_input(t, input));
    CNV_TRY(cnv_exec_set_input(r, input));
    int last = g->values[g->output].producer;
    CNV_TRY(cnv_exec_forward(t, last));
    CNV_TRY(cnv_exec_forward(r, last));
    for (int n = 0; n <= last; n++) {
        CNV_TRY(compare(t, r, g->nodes[n].out, 0, bt, br, &layers[n].fwd_err));
        if (layers[n].fwd_err > rep->max_fwd_err || rep->worst_fwd_layer < 0) {
            rep->max_fwd_err = layers[n].fwd_err;
            rep->worst_fwd_layer = n;
        }
    }

    int out = g->nodes[node].out;
    cnv_channel_mean_seed(&r->shapes[out], channel, bt);
    CNV_TRY(cnv_exec_backward(t, out, bt, 0));
    CNV_TRY(cnv_exec_backward(r, out, bt, 0));
    for (int n = 0; n < g->n_nodes; n++) layers[n].chain_err = layers[n].bwd_err = -1;
    for (int n = 0; n <= node; n++) {
        if (!t->grads[g->nodes[n].out]) continue; /* not on the objective's path */
        CNV_TRY(compare(t, r, g->nodes[n].out, 1, bt, br, &layers[n].chain_err));
        if (layers[n].chain_err > rep->max_chain_err) {
            rep->max_chain_err = layers[n].chain_err;
            rep->worst_chain_layer = n;
        }
    }
    CNV_TRY(compare(t, r, g->input, 1, bt, br, &rep->input_grad_err));
    /* Each layer's own backward, in graph order: a layer's run zeroes only its inputs' gradients,
     * which earlier layers produced, so the reference's gradients at later outputs stay whole. */
    for (int n = 0; n <= node; n++) {
        if (layers[n].chain_err < 0) continue;
        CNV_TRY(own_backward(g, t, r, n, &layers[n].bwd_err));
        if (layers[n].bwd_err > rep->max_bwd_err) {
            rep->max_bwd_err = layers[n].bwd_err;
            rep->worst_bwd_layer = n;
        }
    }
    return CNV_OK;
}

int cnv_check_default_layer(const cnv_graph *g) {
    int node = cnv_graph_last_map_node(g, g->n_nodes);
    return node >= 0 ? node : g->n_nodes - 1;
}

cnv_status cnv_check_backends(cnv_graph *g, cnv_backend *test, cnv_backend *ref, const float *input, int objective_node,
                              int channel, cnv_check_layer *layers, cnv_check_report *rep) {
    memset(rep, 0, sizeof *rep);
    rep->worst_fwd_layer = rep->worst_bwd_layer = rep->worst_chain_layer = -1;
    if (objective_node < 0 || objective_node >= g->n_nodes)
        return cnv_fail(CNV_ERR_ARG, "%s: no layer %d", g->source, objective_node);
    const cnv_shape *os = &g->values[g->nodes[objective_node].out].shape;
    int channels = os->ndim > 1 ? os->d[1] : 1;
    if (channel < 0 || channel >= channels)
        return cnv_fail(CNV_ERR_ARG, "%s: layer %s has %d channels, no channel %d", g->source,
                        g->nodes[objective_node].name, channels, channel);
    memset(layers, 0, (size_t)g->n_nodes * sizeof *layers);
    size_t largest = 0;
    for (int v = 0; v < g->n_values; v++) {
        size_t n = cnv_shape_numel(&g->values[v].shape);
        if (n > largest) largest = n;
    }
    float *bt = malloc(largest * sizeof *bt), *br = malloc(largest * sizeof *br);
    cnv_backend *own_ref = NULL;
    cnv_exec *t = NULL, *r = NULL;
    cnv_status s = (!bt || !br) ? cnv_fail(CNV_ERR_NOMEM, "out of memory") : CNV_OK;
    if (s == CNV_OK && !ref && (s = cnv_backend_cpu_create_reference(&own_ref)) == CNV_OK) ref = own_ref;
    if (s == CNV_OK) s = cnv_exec_create(g, test, 1, &t);
    if (s == CNV_OK) s = cnv_exec_create(g, ref, 1, &r);
    if (s == CNV_OK) s = run_both(g, t, r, input, objective_node, channel, bt, br, layers, rep);
    cnv_exec_free(t);
    cnv_exec_free(r);
    cnv_backend_free(own_ref);
    free(bt);
    free(br);
    return s;
}
