#include "vis/gradcam.h"

#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "vis/class_vector.h"

/* Reads a value of the executor into a new buffer. */
static cnv_status read_value(cnv_exec *ex, int value, int grad, float **out) {
    *out = malloc(cnv_shape_numel(&ex->shapes[value]) * sizeof **out);
    if (!*out) return cnv_fail(CNV_ERR_NOMEM, "class map: out of memory");
    cnv_status s = grad ? cnv_exec_read_grad(ex, value, *out) : cnv_exec_read(ex, value, *out);
    if (s != CNV_OK) {
        free(*out);
        *out = NULL;
    }
    return s;
}

cnv_status cnv_gradcam(cnv_exec *ex, int layer, int logits_node, int cls, float *cam) {
    const cnv_graph *g = ex->g;
    if (layer < 0 || logits_node < 0 || logits_node >= g->n_nodes)
        return cnv_fail(CNV_ERR_ARG, "Grad-CAM: no layer %d before the logits %d (the model has %d)", layer, logits_node,
                        g->n_nodes);
    int a_value = g->nodes[layer].out, y_value = g->nodes[logits_node].out;
    const cnv_shape *as = &ex->shapes[a_value];
    if (ex->batch != 1) return cnv_fail(CNV_ERR_ARG, "Grad-CAM: needs an executor of batch 1, not %d", ex->batch);
    if (layer >= logits_node || !cnv_shape_is_map(as))
        return cnv_fail(CNV_ERR_ARG, "Grad-CAM: layer %s must come before the logits %s and have a spatial (NxCxHxW) output",
                        g->nodes[layer].name, g->nodes[logits_node].name);
    CNV_TRY(cnv_class_check(g, logits_node, &ex->shapes[y_value], cls));
    float *seed = malloc(cnv_shape_numel(&ex->shapes[y_value]) * sizeof *seed), *a = NULL, *da = NULL;
    if (!seed) return cnv_fail(CNV_ERR_NOMEM, "Grad-CAM: out of memory");
    cnv_class_score_seed(&ex->shapes[y_value], cls, seed);
    cnv_status s = cnv_exec_forward(ex, logits_node);
    if (s == CNV_OK) s = cnv_exec_backward(ex, y_value, seed, 0);
    if (s == CNV_OK) s = read_value(ex, a_value, 0, &a);
    if (s == CNV_OK) s = read_value(ex, a_value, 1, &da);
    if (s == CNV_OK) {
        int c = as->d[1];
        size_t plane = (size_t)as->d[2] * as->d[3];
        memset(cam, 0, plane * sizeof *cam);
        for (int ch = 0; ch < c; ch++) {
            double w = 0;
            for (size_t i = 0; i < plane; i++) w += da[ch * plane + i];
            w /= (double)plane;
            for (size_t i = 0; i < plane; i++) cam[i] += (float)(w * a[ch * plane + i]);
        }
        for (size_t i = 0; i < plane; i++)
            if (!(cam[i] > 0)) cam[i] = 0;
    }
    free(seed);
    free(a);
    free(da);
    return s;
}

/* The producer of a node's first (data) input, or -1. */
static int data_producer(const cnv_graph *g, int node) { return g->values[g->nodes[node].in[0]].producer; }

static int is_reshaping(cnv_op_type op) { return op == CNV_OP_FLATTEN || op == CNV_OP_RESHAPE || op == CNV_OP_DROPOUT; }

/* Steps back over ops that only reshape the pooled vector. */
static int skip_reshaping(const cnv_graph *g, int n) {
    while (n >= 0 && is_reshaping(g->nodes[n].op)) n = data_producer(g, n);
    return n;
}

/* An Add of a constant (a bias) leaves the class map's shape unchanged: it only shifts the logit. */
static int is_bias_add(const cnv_graph *g, int n) {
    const cnv_node *node = &g->nodes[n];
    return node->op == CNV_OP_ADD && node->n_in == 2 && g->values[node->in[1]].init != NULL;
}

cnv_status cnv_cam_head_find(const cnv_graph *g, int logits_node, cnv_cam_head *head) {
    memset(head, 0, sizeof *head);
    head->alpha = 1.0f;
    if (logits_node < 0 || logits_node >= g->n_nodes)
        return cnv_fail(CNV_ERR_ARG, "CAM: no layer %d (the model has %d)", logits_node, g->n_nodes);
    int n = skip_reshaping(g, logits_node);
    if (n >= 0 && is_bias_add(g, n)) n = skip_reshaping(g, data_producer(g, n));
    const cnv_node *linear = NULL;
    if (n >= 0 && (g->nodes[n].op == CNV_OP_GEMM || g->nodes[n].op == CNV_OP_MATMUL)) {
        linear = &g->nodes[n];
        n = skip_reshaping(g, data_producer(g, n));
    }
    if (n < 0 || g->nodes[n].op != CNV_OP_GLOBALAVGPOOL)
        return cnv_fail(CNV_ERR_UNSUPPORTED,
                        "%s: CAM needs a model ending in GlobalAveragePool [+ one linear layer] before the logits %s; use --method gradcam",
                        g->source, g->nodes[logits_node].name);
    head->layer = data_producer(g, n);
    if (head->layer < 0) return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: CAM: the pooled map is the model input", g->source);
    const cnv_shape *as = &g->values[g->nodes[head->layer].out].shape;
    head->n_channels = as->d[1];
    head->n_classes = head->n_channels;
    if (!linear) return CNV_OK;
    const cnv_value *w = &g->values[linear->in[1]];
    head->trans_b = linear->op == CNV_OP_GEMM && linear->attrs.trans_b;
    if (linear->op == CNV_OP_GEMM) head->alpha = linear->attrs.alpha;
    int rows = w->shape.d[0], cols = w->shape.d[1];
    int in_dim = head->trans_b ? cols : rows;
    if (!w->init || w->shape.ndim != 2 || (linear->op == CNV_OP_GEMM && linear->attrs.trans_a) ||
        in_dim != head->n_channels)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: CAM: the linear layer %s does not map the %d pooled channels by constant weights",
                        g->source, linear->name, head->n_channels);
    head->weights = w->init;
    head->n_classes = head->trans_b ? rows : cols;
    return CNV_OK;
}

cnv_status cnv_cam(cnv_exec *ex, const cnv_cam_head *head, int cls, float *cam) {
    if (ex->batch != 1) return cnv_fail(CNV_ERR_ARG, "CAM: needs an executor of batch 1, not %d", ex->batch);
    if (head->layer < 0 || head->layer >= ex->g->n_nodes)
        return cnv_fail(CNV_ERR_ARG, "CAM: no layer %d (the model has %d)", head->layer, ex->g->n_nodes);
    if (cls < 0 || cls >= head->n_classes)
        return cnv_fail(CNV_ERR_ARG, "CAM: class %d out of range (%d classes)", cls, head->n_classes);
    int value = ex->g->nodes[head->layer].out;
    const cnv_shape *as = &ex->shapes[value];
    size_t plane = (size_t)as->d[2] * as->d[3];
    float *a;
    CNV_TRY(cnv_exec_forward(ex, head->layer));
    CNV_TRY(read_value(ex, value, 0, &a));
    if (!head->weights) {
        memcpy(cam, a + (size_t)cls * plane, plane * sizeof *cam);
    } else {
        memset(cam, 0, plane * sizeof *cam);
        for (int ch = 0; ch < head->n_channels; ch++) {
            size_t at = head->trans_b ? (size_t)cls * head->n_channels + ch : (size_t)ch * head->n_classes + cls;
            float w = head->alpha * head->weights[at];
            for (size_t i = 0; i < plane; i++) cam[i] += w * a[ch * plane + i];
        }
    }
    free(a);
    return CNV_OK;
}
