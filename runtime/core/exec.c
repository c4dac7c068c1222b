/* The executor: one buffer per graph value on a backend, forward over the nodes a target
 * depends on, and reverse-mode backward from a seeded gradient. */
#include "exec.h"

#include "status.h"

#include <stdlib.h>
#include <string.h>

/* The memory an executor may take on its device, in MiB (CNNVIS_DEVICE_MEMORY_MB; unset: no
 * cap of cnnvis's own). Its tensors are counted before any is allocated, with room for their
 * gradients, so a run that cannot fit stops with one line instead of failing part-way; a small
 * value forces that path (docs/RELIABILITY.md). */
static cnv_status check_memory(const cnv_exec *ex) {
    const char *cap = getenv("CNNVIS_DEVICE_MEMORY_MB");
    char *end;
    unsigned long long mib = cap && *cap ? strtoull(cap, &end, 10) : 0;
    if (!mib) return CNV_OK;
    unsigned long long bytes = 0;
    for (int v = 0; v < ex->g->n_values; v++) bytes += 2ull * cnv_shape_numel(&ex->shapes[v]) * sizeof(float);
    for (int n = 0; n < ex->g->n_nodes; n++) {
        const cnv_node *node = &ex->g->nodes[n];
        bytes += cnv_op_aux_numel(node, &ex->shapes[node->in[0]], &ex->shapes[node->out]) * sizeof(float);
    }
    if (bytes <= mib << 20) return CNV_OK;
    return cnv_fail(CNV_ERR_DEVICE, "%s: device memory exhausted: batch %d needs up to %llu MiB of tensors, above the %llu "
                    "MiB allowed (CNNVIS_DEVICE_MEMORY_MB); use a smaller batch or size", ex->g->source, ex->batch,
                    (bytes + (1u << 20) - 1) >> 20, mib);
}

/* Conv + ReLU fused: a Relu of a Conv's output is computed by the conv's forward from the values
 * it has just stored, still in cache (SqueezeNet's, VGG's and ResNet's convs are nearly all
 * followed by one), instead of in a pass of its own that reads them back from memory. The conv's
 * output is still written, so every value stays readable (other readers of it included: a leaky
 * twin, an activation map), and the backward is unchanged. */
static void plan_fused_relus(cnv_exec *ex) {
    const cnv_graph *g = ex->g;
    for (int n = 0; n < g->n_nodes; n++) ex->fused_relu[n] = -1;
    for (int m = 0; m < g->n_nodes; m++) {
        const cnv_node *relu = &g->nodes[m];
        if (relu->op != CNV_OP_RELU || relu->n_in != 1) continue;
        const int p = g->values[relu->in[0]].producer;
        if (p >= 0 && g->nodes[p].op == CNV_OP_CONV && ex->fused_relu[p] < 0) ex->fused_relu[p] = m;
    }
}

/* The Convs whose output nothing but their fused Relu reads. */
static void plan_droppable(cnv_exec *ex) {
    const cnv_graph *g = ex->g;
    for (int n = 0; n < g->n_nodes; n++) {
        const int v = g->nodes[n].out, relu = ex->fused_relu[n];
        int readers = 0;
        for (int m = 0; relu >= 0 && m < g->n_nodes; m++)
            for (int i = 0; i < g->nodes[m].n_in; i++) readers += g->nodes[m].in[i] == v;
        ex->pre_relu_dropped[n] = relu >= 0 && readers == 1 && v != g->output;
    }
}

void cnv_exec_drop_pre_activations(cnv_exec *ex) { ex->drop_pre_activations = 1; }

static cnv_status alloc_value(cnv_exec *ex, int v, cnv_buf **slot) {
    return ex->be->vt->buf_alloc(ex->be, cnv_shape_numel(&ex->shapes[v]), slot);
}

cnv_status cnv_exec_create(cnv_graph *g, cnv_backend *be, int batch, cnv_exec **out) {
    if (batch < 1) return cnv_fail(CNV_ERR_ARG, "%s: batch size must be at least 1", g->source);
    if (g->input < 0 || g->output < 0) return cnv_fail(CNV_ERR_INTERNAL, "%s: graph has no input or output", g->source);
    cnv_exec *ex = calloc(1, sizeof *ex);
    if (!ex) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    ex->g = g;
    ex->be = be;
    ex->batch = batch;
    ex->shapes = calloc((size_t)g->n_values, sizeof *ex->shapes);
    ex->vals = calloc((size_t)g->n_values, sizeof *ex->vals);
    ex->grads = calloc((size_t)g->n_values, sizeof *ex->grads);
    ex->aux = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *ex->aux);
    ex->fused_relu = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *ex->fused_relu);
    ex->pre_relu_dropped = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), 1);
    ex->unwritten = calloc((size_t)(g->n_values ? g->n_values : 1), 1);
    ex->needed = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), 1);
    ex->assign = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *ex->assign);
    ex->grad_state = calloc((size_t)(g->n_values ? g->n_values : 1), 1);
    if (!ex->shapes || !ex->vals || !ex->grads || !ex->aux || !ex->fused_relu || !ex->pre_relu_dropped ||
        !ex->unwritten || !ex->needed || !ex->assign || !ex->grad_state) {
        cnv_exec_free(ex);
        return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    }
    plan_fused_relus(ex);
    plan_droppable(ex);
    cnv_shape in = g->values[g->input].shape;
    in.d[0] = batch;
    cnv_status s = cnv_graph_infer_shapes(g, &in, ex->shapes);
    if (s == CNV_OK) s = check_memory(ex);
    /* The weights: read in place where the backend can (CPU: held once, not copied), else
     * uploaded. The graph outlives its executors, as the wrap requires. */
    for (int v = 0; s == CNV_OK && v < g->n_values; v++) {
        const float *init = g->values[v].init;
        const size_t n = cnv_shape_numel(&ex->shapes[v]);
        if (init && be->vt->buf_wrap) {
            s = be->vt->buf_wrap(be, init, n, &ex->vals[v]);
            continue;
        }
        s = alloc_value(ex, v, &ex->vals[v]);
        if (s == CNV_OK && init) s = be->vt->buf_write(be, ex->vals[v], 0, init, n);
    }
    for (int n = 0; s == CNV_OK && n < g->n_nodes; n++) {
        const cnv_node *node = &g->nodes[n];
        size_t na = cnv_op_aux_numel(node, &ex->shapes[node->in[0]], &ex->shapes[node->out]);
        if (na) s = be->vt->buf_alloc(be, na, &ex->aux[n]);
    }
    if (s != CNV_OK) {
        cnv_exec_free(ex);
        return s;
    }
    *out = ex;
    return CNV_OK;
}

void cnv_exec_free(cnv_exec *ex) {
    if (!ex) return;
    for (int v = 0; v < ex->g->n_values; v++) {
        if (ex->vals) ex->be->vt->buf_free(ex->be, ex->vals[v]);
        if (ex->grads) ex->be->vt->buf_free(ex->be, ex->grads[v]);
    }
    for (int n = 0; ex->aux && n < ex->g->n_nodes; n++) ex->be->vt->buf_free(ex->be, ex->aux[n]);
    free(ex->shapes);
    free(ex->vals);
    free(ex->grads);
    free(ex->aux);
    free(ex->fused_relu);
    free(ex->pre_relu_dropped);
    free(ex->unwritten);
    free(ex->needed);
    free(ex->assign);
    free(ex->grad_state);
    free(ex);
}

cnv_status cnv_exec_set_input(cnv_exec *ex, const float *data) {
    int v = ex->g->input;
    return ex->be->vt->buf_write(ex->be, ex->vals[v], 0, data, cnv_shape_numel(&ex->shapes[v]));
}

static cnv_status check_value(const cnv_exec *ex, int value) {
    if (value < 0 || value >= ex->g->n_values)
        return cnv_fail(CNV_ERR_ARG, "%s: no tensor with index %d", ex->g->source, value);
    return CNV_OK;
}

/* Marks `node` and every node it depends on. */
static void mark_ancestors(const cnv_graph *g, int node, unsigned char *needed) {
    memset(needed, 0, (size_t)g->n_nodes);
    needed[node] = 1;
    for (int n = node; n >= 0; n--) {
        if (!needed[n]) continue;
        for (int i = 0; i < g->nodes[n].n_in; i++) {
            int p = g->values[g->nodes[n].in[i]].producer;
            if (p >= 0) needed[p] = 1;
        }
    }
}

static void fill_io(const cnv_exec *ex, int n, cnv_op_io *io) {
    const cnv_node *node = &ex->g->nodes[n];
    memset(io, 0, sizeof *io);
    io->node = node;
    io->n_in = node->n_in;
    for (int i = 0; i < node->n_in; i++) {
        io->in[i] = ex->vals[node->in[i]];
        io->in_shape[i] = ex->shapes[node->in[i]];
    }
    io->out = ex->vals[node->out];
    io->out_shape = ex->shapes[node->out];
    io->aux = ex->aux[n];
    io->rule = ex->rule;
    io->unpool_fill = ex->unpool_fill;
}

cnv_status cnv_exec_forward(cnv_exec *ex, int node) {
    const cnv_graph *g = ex->g;
    if (node < 0 || node >= g->n_nodes)
        return cnv_fail(CNV_ERR_ARG, "%s: no layer with index %d", g->source, node);
    unsigned char *needed = ex->needed;
    mark_ancestors(g, node, needed);
    cnv_status s = CNV_OK;
    enum { SKIPPED = 2 }; /* needed[n]: computed by its conv (a fused Relu) */
    for (int n = 0; s == CNV_OK && n <= node; n++) {
        if (needed[n] != 1) continue;
        cnv_op_io io;
        fill_io(ex, n, &io);
        const int relu = ex->fused_relu[n];
        ex->unwritten[g->nodes[n].out] = 0;
        if (relu >= 0 && relu <= node && needed[relu]) {
            io.relu_out = ex->vals[g->nodes[relu].out];
            needed[relu] = SKIPPED;
            if (ex->drop_pre_activations && ex->pre_relu_dropped[n]) {
                io.out = NULL;
                ex->unwritten[g->nodes[n].out] = 1;
            }
        }
        s = ex->be->vt->forward(ex->be, &io);
        if (s != CNV_OK) cnv_error_prefix(g->nodes[n].name);
    }
    if (s == CNV_OK) s = ex->be->vt->sync(ex->be);
    return s;
}

cnv_status cnv_exec_set_backward_rules(cnv_exec *ex, cnv_backward_rule rule, int unpool_fill) {
    if (rule != CNV_RULE_GRADIENT && rule != CNV_RULE_DECONVNET && rule != CNV_RULE_GUIDED)
        return cnv_fail(CNV_ERR_ARG, "%s: unknown backward rule %d", ex->g->source, (int)rule);
    ex->rule = rule;
    ex->unpool_fill = unpool_fill != 0;
    return CNV_OK;
}

cnv_status cnv_exec_read(cnv_exec *ex, int value, float *dst) {
    CNV_TRY(check_value(ex, value));
    if (ex->unwritten[value])
        return cnv_fail(CNV_ERR_ARG, "%s: tensor '%s' was not kept: its conv wrote only its Relu's output "
                        "(cnv_exec_drop_pre_activations)", ex->g->source, ex->g->values[value].name);
    CNV_TRY(ex->be->vt->sync(ex->be));
    return ex->be->vt->buf_read(ex->be, ex->vals[value], 0, dst, cnv_shape_numel(&ex->shapes[value]));
}

/* Gradient buffers exist for values that receive gradients: activations always, weights
 * only when asked for. Each is made on first use and kept. */
static cnv_status ensure_grad(cnv_exec *ex, int v) {
    return ex->grads[v] ? CNV_OK : alloc_value(ex, v, &ex->grads[v]);
}

/* Whether a backward pass gives input i of node n a gradient: activations always (the graph
 * input unless CNV_BACKWARD_SKIP_INPUT), weights only with CNV_BACKWARD_WEIGHTS. */
static int gets_grad(const cnv_exec *ex, const cnv_node *node, int i, unsigned wants) {
    const int v = node->in[i];
    if (ex->g->values[v].init) return (wants & CNV_BACKWARD_WEIGHTS) != 0;
    return v != ex->g->input || !(wants & CNV_BACKWARD_SKIP_INPUT);
}

/* Makes (where missing) the gradients of node n's output and of its inputs that get one. */
static cnv_status ensure_node_grads(cnv_exec *ex, const cnv_node *node, unsigned wants) {
    cnv_status s = ensure_grad(ex, node->out);
    for (int i = 0; s == CNV_OK && i < node->n_in; i++)
        if (gets_grad(ex, node, i, wants)) s = ensure_grad(ex, node->in[i]);
    return s;
}

static cnv_status zero_grad(cnv_exec *ex, int v) {
    return ex->be->vt->buf_fill(ex->be, ex->grads[v], 0.0f, cnv_shape_numel(&ex->shapes[v]));
}

/* Whether node `node` reads value v through an input slot other than i. */
static int reads_twice(const cnv_node *node, int i) {
    for (int j = 0; j < node->n_in; j++)
        if (j != i && node->in[j] == node->in[i]) return 1;
    return 0;
}

/* Which gradients each node's backward writes rather than adds to (assign[n], cnv_op_io's
 * grad_assign): the first node to reach a value in backward order writes it, so no gradient
 * needs zeroing first (zeroing each once was still a tenth of a SqueezeNet batch-8 step). A
 * value one node reads through two slots is zeroed instead, as is one no node writes; `seeded`
 * is the value whose gradient the caller writes. */
static cnv_status plan_first_writers(cnv_exec *ex, const unsigned char *needed, int last, int seeded,
                                     unsigned wants, uint64_t *assign) {
    const cnv_graph *g = ex->g;
    enum { UNUSED, WANTED, WRITTEN };
    unsigned char *state = ex->grad_state;
    memset(state, 0, (size_t)g->n_values);
    for (int n = 0; n <= last; n++) {
        if (!needed[n]) continue;
        state[g->nodes[n].out] = WANTED;
        for (int i = 0; i < g->nodes[n].n_in; i++)
            if (gets_grad(ex, &g->nodes[n], i, wants)) state[g->nodes[n].in[i]] = WANTED;
    }
    state[seeded] = WRITTEN;
    cnv_status s = CNV_OK;
    for (int n = last; s == CNV_OK && n >= 0; n--) {
        const cnv_node *node = &g->nodes[n];
        assign[n] = 0;
        if (!needed[n]) continue;
        for (int i = 0; s == CNV_OK && i < node->n_in; i++) {
            const int v = node->in[i];
            if (!gets_grad(ex, node, i, wants) || state[v] == WRITTEN) continue;
            if (reads_twice(node, i))
                s = zero_grad(ex, v);
            else
                assign[n] |= (uint64_t)1 << i;
            state[v] = WRITTEN;
        }
    }
    for (int v = 0; s == CNV_OK && v < g->n_values; v++)
        if (state[v] == WANTED) s = zero_grad(ex, v);
    return s;
}

/* Node n's call description for its backward: its forward's, plus the gradient buffers. */
static void fill_backward_io(const cnv_exec *ex, int n, unsigned wants, uint64_t assign, cnv_op_io *io) {
    const cnv_node *node = &ex->g->nodes[n];
    fill_io(ex, n, io);
    io->grad_out = ex->grads[node->out];
    io->grad_assign = assign;
    for (int i = 0; i < node->n_in; i++)
        if (gets_grad(ex, node, i, wants)) io->grad_in[i] = ex->grads[node->in[i]];
}

cnv_status cnv_exec_backward(cnv_exec *ex, int value, const float *seed, unsigned wants) {
    CNV_TRY(check_value(ex, value));
    const cnv_graph *g = ex->g;
    int last = g->values[value].producer;
    if (last < 0) return cnv_fail(CNV_ERR_ARG, "%s: tensor '%s' is not computed by a layer", g->source, g->values[value].name);
    unsigned char *needed = ex->needed;
    uint64_t *assign = ex->assign;
    mark_ancestors(g, last, needed);

    cnv_status s = CNV_OK;
    for (int n = 0; s == CNV_OK && n <= last; n++)
        if (needed[n]) s = ensure_node_grads(ex, &g->nodes[n], wants);
    if (s == CNV_OK) s = plan_first_writers(ex, needed, last, value, wants, assign);
    if (s == CNV_OK) s = ex->be->vt->buf_write(ex->be, ex->grads[value], 0, seed, cnv_shape_numel(&ex->shapes[value]));
    for (int n = last; s == CNV_OK && n >= 0; n--) {
        if (!needed[n]) continue;
        cnv_op_io io;
        fill_backward_io(ex, n, wants, assign[n], &io);
        s = ex->be->vt->backward(ex->be, &io);
        if (s != CNV_OK) cnv_error_prefix(g->nodes[n].name);
    }
    if (s == CNV_OK) s = ex->be->vt->sync(ex->be);
    return s;
}

cnv_status cnv_exec_read_grad(cnv_exec *ex, int value, float *dst) {
    CNV_TRY(check_value(ex, value));
    if (!ex->grads[value])
        return cnv_fail(CNV_ERR_ARG, "%s: no gradient computed for tensor '%s'", ex->g->source, ex->g->values[value].name);
    CNV_TRY(ex->be->vt->sync(ex->be));
    return ex->be->vt->buf_read(ex->be, ex->grads[value], 0, dst, cnv_shape_numel(&ex->shapes[value]));
}

cnv_status cnv_exec_node_backward(cnv_exec *ex, int node, const float *const *inputs, const float *grad_out,
                                  float *const *grad_in) {
    const cnv_graph *g = ex->g;
    if (node < 0 || node >= g->n_nodes) return cnv_fail(CNV_ERR_ARG, "%s: no layer with index %d", g->source, node);
    const cnv_node *nd = &g->nodes[node];
    cnv_backend *be = ex->be;
    if (inputs) {
        for (int i = 0; i < nd->n_in; i++) {
            const int v = nd->in[i];
            if (inputs[i] && !g->values[v].init)
                CNV_TRY(be->vt->buf_write(be, ex->vals[v], 0, inputs[i], cnv_shape_numel(&ex->shapes[v])));
        }
        cnv_op_io io;
        fill_io(ex, node, &io);
        CNV_TRY(be->vt->forward(be, &io)); /* its output and aux (MaxPool's switches) follow these inputs */
    }
    /* Its own gradients only: each input's is written, not added to, unless read twice. */
    cnv_status s = ensure_node_grads(ex, nd, 0);
    uint64_t assign = 0;
    for (int i = 0; s == CNV_OK && i < nd->n_in; i++) {
        if (!gets_grad(ex, nd, i, 0)) continue;
        if (reads_twice(nd, i))
            s = zero_grad(ex, nd->in[i]);
        else
            assign |= (uint64_t)1 << i;
    }
    if (s == CNV_OK) s = be->vt->buf_write(be, ex->grads[nd->out], 0, grad_out, cnv_shape_numel(&ex->shapes[nd->out]));
    cnv_op_io io;
    fill_backward_io(ex, node, 0, assign, &io);
    if (s == CNV_OK) s = be->vt->backward(be, &io);
    if (s == CNV_OK) s = be->vt->sync(be);
    for (int i = 0; s == CNV_OK && i < nd->n_in; i++)
        if (gets_grad(ex, nd, i, 0) && grad_in[i])
            s = be->vt->buf_read(be, ex->grads[nd->in[i]], 0, grad_in[i], cnv_shape_numel(&ex->shapes[nd->in[i]]));
    if (s != CNV_OK) cnv_error_prefix(nd->name);
    return s;
}
