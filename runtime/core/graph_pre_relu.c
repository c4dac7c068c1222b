/* The pre-activation twin of a layer: where a layer's output is a ReLU (or a Concat of ReLUs,
 * as in SqueezeNet's fire modules and Inception's mixed layers), an objective on it has no
 * gradient wherever the unit is off, so a unit dead on the starting image never moves. The same
 * objective on the values before the ReLU always has a gradient and is maximized by the same
 * images where it is positive (ReLU is monotonic); Lucid's "_pre_relu" layers are this. Between the
 * two, a leaky twin (slope s below zero) keeps the layer's own objective where units are on, so
 * the optimizer is not spent on raising positions that stay negative, and still moves dead units:
 * Adam divides out the gradient's scale, so even a small slope moves them at full speed. */
#include "graph.h"

#include <stdio.h>

/* The node producing value v when it is a Relu, else -1. */
static int relu_producer(const cnv_graph *g, int v) {
    int p = g->values[v].producer;
    return p >= 0 && g->nodes[p].op == CNV_OP_RELU ? p : -1;
}

/* The node whose output value is `name`, appended (value and node of that name) when the graph
 * has none yet: asking twice gives the same node. -1 when out of memory. */
static int append_once(cnv_graph *g, const char *name, cnv_op_type op, const cnv_attrs *attrs, int n_in,
                       const int *in, const cnv_shape *shape) {
    int v = cnv_graph_find_value(g, name);
    if (v >= 0) return g->values[v].producer;
    v = cnv_graph_add_value(g, name, shape, NULL);
    return v < 0 ? -1 : cnv_graph_add_node(g, name, op, attrs, n_in, in, v);
}

int cnv_graph_pre_relu(cnv_graph *g, int node) {
    if (node < 0 || node >= g->n_nodes) return -1;
    const cnv_node *n = &g->nodes[node];
    if (n->op == CNV_OP_RELU) {
        int p = g->values[n->in[0]].producer;
        return p >= 0 ? p : node;
    }
    if (n->op != CNV_OP_CONCAT || n->n_in < 1) return node;
    int in[CNV_MAX_INPUTS];
    for (int i = 0; i < n->n_in; i++) {
        int r = relu_producer(g, n->in[i]);
        if (r < 0) return node;
        in[i] = g->nodes[r].in[0];
    }
    char name[512];
    snprintf(name, sizeof name, "%s/pre_relu", n->name);
    cnv_shape shape = g->values[n->out].shape;
    cnv_attrs attrs = n->attrs;
    /* n may move when the node array grows: everything needed is copied above. */
    return append_once(g, name, CNV_OP_CONCAT, &attrs, n->n_in, in, &shape);
}

int cnv_graph_leaky_twin(cnv_graph *g, int node, float slope) {
    if (slope <= 0.0f) return node;
    int pre = cnv_graph_pre_relu(g, node);
    if (pre < 0 || pre == node || slope >= 1.0f) return pre;
    char name[512];
    snprintf(name, sizeof name, "%s/leaky_relu_%g", g->nodes[node].name, slope);
    cnv_shape shape = g->values[g->nodes[node].out].shape;
    cnv_attrs attrs;
    cnv_attrs_default(CNV_OP_LEAKYRELU, &attrs);
    attrs.alpha = slope;
    int in = g->nodes[pre].out;
    return append_once(g, name, CNV_OP_LEAKYRELU, &attrs, 1, &in, &shape);
}
