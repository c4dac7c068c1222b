/* Receptive fields: how many input pixels (per axis) one output position of each node sees,
 * and how far apart (the jump) neighbouring output positions are on the input. Standard
 * recurrence: size' = size + (dilation*(k-1)) * jump, jump' = jump * stride. */
#include "graph.h"

/* A whole-input field: after a layer that mixes all positions, one "position" sees everything. */
static cnv_receptive_field whole_input(const cnv_graph *g) {
    const cnv_shape *s = &g->values[g->input].shape;
    cnv_receptive_field rf = {{1, 1}, {1, 1}};
    if (s->ndim == 4)
        for (int i = 0; i < 2; i++) rf.size[i] = rf.stride[i] = s->d[2 + i];
    return rf;
}

static int covers_whole_input(cnv_op_type op) {
    return op == CNV_OP_FLATTEN || op == CNV_OP_GEMM || op == CNV_OP_MATMUL || op == CNV_OP_GLOBALAVGPOOL ||
           op == CNV_OP_RESHAPE;
}

static int has_window(cnv_op_type op) {
    return op == CNV_OP_CONV || op == CNV_OP_MAXPOOL || op == CNV_OP_AVGPOOL;
}

void cnv_graph_receptive_fields(const cnv_graph *g, cnv_receptive_field *rf) {
    const cnv_receptive_field whole = whole_input(g);
    for (int i = 0; i < g->n_nodes; i++) {
        const cnv_node *n = &g->nodes[i];
        /* Field of the node's data inputs (weights have none): the largest over them. */
        cnv_receptive_field in = {{1, 1}, {1, 1}};
        for (int j = 0; j < n->n_in; j++) {
            int p = g->values[n->in[j]].producer;
            if (p < 0 || p >= i) continue; /* the graph input (1x1) or a weight */
            for (int a = 0; a < 2; a++) {
                if (rf[p].size[a] > in.size[a]) in.size[a] = rf[p].size[a];
                if (rf[p].stride[a] > in.stride[a]) in.stride[a] = rf[p].stride[a];
            }
        }
        if (covers_whole_input(n->op)) {
            rf[i] = whole;
            continue;
        }
        rf[i] = in;
        if (!has_window(n->op)) continue;
        for (int a = 0; a < 2; a++) {
            rf[i].size[a] = in.size[a] + n->attrs.dilation[a] * (n->attrs.kernel[a] - 1) * in.stride[a];
            rf[i].stride[a] = in.stride[a] * n->attrs.stride[a];
        }
    }
}
