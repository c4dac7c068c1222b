/* Folding BatchNormalization (already reduced by the importer to y = x*scale + shift per
 * channel) into the Conv that feeds it, so inference and gradients see one conv. A BN that
 * cannot be folded stays as a per-channel affine node. */
#include "graph.h"
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Number of node inputs that read value v. */
static int use_count(const cnv_graph *g, int v) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++) n += g->nodes[i].in[j] == v;
    return n;
}

/* The Conv that bn can be folded into, or -1: it must produce bn's input, nothing else may read
 * that conv output, and the conv's weights must be initializers used by that conv alone (a
 * shared weight would change another node too). */
static int foldable_conv(const cnv_graph *g, const cnv_node *bn) {
    int x = bn->in[0];
    int p = g->values[x].producer;
    if (p < 0 || g->nodes[p].op != CNV_OP_CONV) return -1;
    if (use_count(g, x) != 1 || x == g->output) return -1;
    if (!g->values[bn->in[1]].init || !g->values[bn->in[2]].init) return -1;
    const cnv_node *conv = &g->nodes[p];
    for (int j = 1; j < conv->n_in; j++)
        if (!g->values[conv->in[j]].init || use_count(g, conv->in[j]) != 1) return -1;
    return p;
}

/* Gives the conv a zero bias [M] when it has none. */
static cnv_status add_zero_bias(cnv_graph *g, int conv_index) {
    int m = g->values[g->nodes[conv_index].in[1]].shape.d[0];
    float *zeros = calloc((size_t)m, sizeof *zeros);
    if (!zeros) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory folding BatchNormalization", g->source);
    char name[512];
    snprintf(name, sizeof name, "%s.folded_bias", g->nodes[conv_index].name);
    cnv_shape s = {1, {m}};
    int b = cnv_graph_add_value(g, name, &s, zeros);
    free(zeros);
    if (b < 0) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory folding BatchNormalization", g->source);
    cnv_node *conv = &g->nodes[conv_index];
    conv->in[conv->n_in++] = b;
    return CNV_OK;
}

static cnv_status fold_into_conv(cnv_graph *g, int conv_index, const cnv_node *bn) {
    const cnv_node *c = &g->nodes[conv_index];
    int m = g->values[c->in[1]].shape.d[0];
    int bias_ok = c->n_in == 2 || g->values[c->in[2]].shape.d[0] == m;
    if (g->values[bn->in[1]].shape.d[0] != m || g->values[bn->in[2]].shape.d[0] != m || !bias_ok)
        return cnv_fail(CNV_ERR_SHAPE, "%s: node '%s' (BatchNormalization): %d channels after a conv with %d",
                        g->source, bn->name, g->values[bn->in[1]].shape.d[0], m);
    if (c->n_in == 2) CNV_TRY(add_zero_bias(g, conv_index));
    cnv_node *conv = &g->nodes[conv_index];
    cnv_value *w = &g->values[conv->in[1]], *b = &g->values[conv->in[2]];
    const float *scale = g->values[bn->in[1]].init, *shift = g->values[bn->in[2]].init;
    size_t per_filter = cnv_shape_numel(&w->shape) / (size_t)m;
    for (int o = 0; o < m; o++) {
        for (size_t k = 0; k < per_filter; k++) w->init[(size_t)o * per_filter + k] *= scale[o];
        b->init[o] = b->init[o] * scale[o] + shift[o];
    }
    /* The conv now produces the BN's output value; its old output is left unused. */
    g->values[conv->out].producer = -1;
    conv->out = bn->out;
    g->values[bn->out].producer = conv_index;
    return CNV_OK;
}

/* Drops values nothing refers to any more and renumbers the rest (order kept). */
static void drop_unused_values(cnv_graph *g, int *remap) {
    for (int v = 0; v < g->n_values; v++) remap[v] = v == g->input || v == g->output ? 0 : -1;
    for (int i = 0; i < g->n_nodes; i++) {
        for (int j = 0; j < g->nodes[i].n_in; j++) remap[g->nodes[i].in[j]] = 0;
        remap[g->nodes[i].out] = 0;
    }
    int kept = 0;
    for (int v = 0; v < g->n_values; v++) {
        if (remap[v] < 0) {
            free(g->values[v].name);
            free(g->values[v].init);
            continue;
        }
        remap[v] = kept;
        g->values[kept++] = g->values[v];
    }
    g->n_values = kept;
    for (int i = 0; i < g->n_nodes; i++) {
        for (int j = 0; j < g->nodes[i].n_in; j++) g->nodes[i].in[j] = remap[g->nodes[i].in[j]];
        g->nodes[i].out = remap[g->nodes[i].out];
    }
    if (g->input >= 0) g->input = remap[g->input];
    if (g->output >= 0) g->output = remap[g->output];
}

/* Removes the nodes marked in `removed` (order kept) and relinks every producer. */
static void drop_nodes(cnv_graph *g, const char *removed) {
    int kept = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (removed[i]) {
            free(g->nodes[i].name);
            continue;
        }
        g->nodes[kept++] = g->nodes[i];
    }
    g->n_nodes = kept;
    for (int v = 0; v < g->n_values; v++) g->values[v].producer = -1;
    for (int i = 0; i < g->n_nodes; i++) g->values[g->nodes[i].out].producer = i;
}

cnv_status cnv_graph_fold_batchnorm(cnv_graph *g) {
    /* Folds in place and only marks the BN nodes, so node indices stay valid meanwhile. */
    char *removed = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), 1);
    if (!removed) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory folding BatchNormalization", g->source);
    cnv_status st = CNV_OK;
    int folded = 0;
    for (int i = 0; i < g->n_nodes && st == CNV_OK; i++) {
        const cnv_node *n = &g->nodes[i];
        int conv = n->op == CNV_OP_BATCHNORM && n->n_in == 3 ? foldable_conv(g, n) : -1;
        if (conv < 0) continue;
        st = fold_into_conv(g, conv, n);
        removed[i] = st == CNV_OK;
        folded += st == CNV_OK;
    }
    if (folded) {
        drop_nodes(g, removed);
        int *remap = malloc((size_t)g->n_values * sizeof *remap);
        if (remap)
            drop_unused_values(g, remap);
        else if (st == CNV_OK)
            st = cnv_fail(CNV_ERR_NOMEM, "%s: out of memory folding BatchNormalization", g->source);
        free(remap);
    }
    free(removed);
    return st;
}
