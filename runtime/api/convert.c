/* The public side of what `convert` and `train` need from a model beyond export (cnnvis/convert.h):
 * its parameter count and its input's name. */
#include <stdlib.h>
#include <string.h>

#include "cnnvis/convert.h"
#include "core/graph.h"
#include "core/status.h"

size_t cnv_model_param_count(const cnv_graph *g) {
    size_t params = 0;
    for (int i = 0; i < g->n_nodes; i++) params += cnv_node_param_count(g, i);
    return params;
}

cnv_status cnv_model_rename_input(cnv_graph *g, const char *name) {
    if (!name || !*name) return cnv_fail(CNV_ERR_ARG, "an empty name for the input tensor");
    int v = cnv_graph_find_value(g, name);
    if (v >= 0 && v != g->input) return cnv_fail(CNV_ERR_ARG, "the model already has a tensor named '%s'", name);
    char *copy = strdup(name);
    if (!copy) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    free(g->values[g->input].name);
    g->values[g->input].name = copy;
    return CNV_OK;
}
