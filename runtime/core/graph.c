#include "graph.h"

#include "alloc.h"
#include "sha256.h"
#include "status.h"

#include <stdlib.h>
#include <string.h>

cnv_graph *cnv_graph_new(const char *source) {
    cnv_graph *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->source = cnv_strdup(source ? source : "");
    g->input = -1;
    g->output = -1;
    if (!g->source) {
        free(g);
        return NULL;
    }
    return g;
}

void cnv_graph_free(cnv_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->n_values; i++) {
        free(g->values[i].name);
        if (!g->values[i].borrowed) free(g->values[i].init);
    }
    for (int i = 0; i < g->n_nodes; i++) free(g->nodes[i].name);
    free(g->values);
    free(g->nodes);
    free(g->source);
    free(g->weights);
    free(g);
}

void cnv_model_free(cnv_graph *g) { cnv_graph_free(g); }

int cnv_graph_add_value(cnv_graph *g, const char *name, const cnv_shape *shape, const float *init) {
    if (!cnv_grow((void **)&g->values, &g->cap_values, g->n_values + 1, sizeof *g->values)) return -1;
    cnv_value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    v->name = cnv_strdup(name);
    if (!v->name) return -1;
    if (shape) v->shape = *shape;
    v->producer = -1;
    if (init) {
        size_t n = cnv_shape_numel(&v->shape);
        v->init = malloc((n ? n : 1) * sizeof(float));
        if (!v->init) {
            free(v->name);
            return -1;
        }
        memcpy(v->init, init, n * sizeof(float));
    }
    return g->n_values++;
}

int cnv_graph_add_borrowed_value(cnv_graph *g, const cnv_value *of) {
    const int v = cnv_graph_add_value(g, of->name, &of->shape, NULL);
    if (v >= 0 && of->init) {
        g->values[v].init = of->init;
        g->values[v].borrowed = 1;
    }
    return v;
}

int cnv_graph_add_weight(cnv_graph *g, const char *name, const cnv_shape *shape, float *init, int owned) {
    const int v = cnv_graph_add_value(g, name, shape, NULL);
    if (v >= 0) {
        g->values[v].init = init;
        g->values[v].borrowed = !owned;
    }
    return v;
}

cnv_status cnv_graph_file_sha256(const cnv_graph *g, const char *path, char hex[65]) {
    if (g && g->sha256[0] && path && !strcmp(g->source, path)) {
        memcpy(hex, g->sha256, 65);
        return CNV_OK;
    }
    return cnv_sha256_file(path, hex);
}

int cnv_graph_add_node(cnv_graph *g, const char *name, cnv_op_type op, const cnv_attrs *attrs, int n_in,
                       const int *in, int out) {
    if (n_in < 0 || n_in > CNV_MAX_INPUTS || out < 0 || out >= g->n_values) return -1;
    if (!cnv_grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes)) return -1;
    cnv_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->name = cnv_strdup(name);
    if (!n->name) return -1;
    n->op = op;
    if (attrs)
        n->attrs = *attrs;
    else
        cnv_attrs_default(op, &n->attrs);
    n->n_in = n_in;
    for (int i = 0; i < n_in; i++) n->in[i] = in[i];
    n->out = out;
    g->values[out].producer = g->n_nodes;
    return g->n_nodes++;
}

int cnv_graph_find_value(const cnv_graph *g, const char *name) {
    for (int i = 0; i < g->n_values; i++)
        if (strcmp(g->values[i].name, name) == 0) return i;
    return -1;
}

int cnv_graph_last_map_node(const cnv_graph *g, int before) {
    for (int n = (before < g->n_nodes ? before : g->n_nodes) - 1; n >= 0; n--)
        if (cnv_shape_is_map(&g->values[g->nodes[n].out].shape)) return n;
    return -1;
}

size_t cnv_node_param_count(const cnv_graph *g, int node) {
    size_t n = 0;
    const cnv_node *nd = &g->nodes[node];
    for (int i = 0; i < nd->n_in; i++) {
        const cnv_value *v = &g->values[nd->in[i]];
        if (v->init) n += cnv_shape_numel(&v->shape);
    }
    return n;
}

cnv_status cnv_model_find_layer(const cnv_graph *g, const char *spec, int *node_index) {
    if (!spec || !*spec) return cnv_fail(CNV_ERR_ARG, "%s: empty layer name", g->source);
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].name, spec) == 0) {
            *node_index = i;
            return CNV_OK;
        }
    int v = cnv_graph_find_value(g, spec);
    if (v >= 0 && g->values[v].producer >= 0) {
        *node_index = g->values[v].producer;
        return CNV_OK;
    }
    char *end;
    long idx = strtol(spec, &end, 10);
    if (*end == '\0' && end != spec) {
        if (idx >= 0 && idx < g->n_nodes) {
            *node_index = (int)idx;
            return CNV_OK;
        }
        return cnv_fail(CNV_ERR_NOT_FOUND, "%s: layer index %ld out of range (the model has %d layers, 0..%d)",
                        g->source, idx, g->n_nodes, g->n_nodes - 1);
    }
    return cnv_fail(CNV_ERR_NOT_FOUND, "%s: no layer named '%s' (see `cnnvis info`)", g->source, spec);
}
