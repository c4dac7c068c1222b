/* Runs a graph on a backend: forward to a node, backward from a seeded gradient. */
#ifndef CNV_CORE_EXEC_H
#define CNV_CORE_EXEC_H

#include "backend.h"

struct cnv_exec {
    cnv_graph *g;
    cnv_backend *be;
    int batch;
    cnv_shape *shapes; /* per value, at this batch size */
    cnv_buf **vals;    /* per value */
    cnv_buf **grads;   /* per value, allocated on first backward */
    cnv_buf **aux;     /* per node */
    int *fused_relu;   /* per node: the Relu a Conv's forward computes too (cnv_op_io's relu_out), or -1 */
    /* per node: a Conv whose output its fused Relu alone reads (and is not the graph's output),
     * with cnv_exec_drop_pre_activations: its forward writes the Relu's output only */
    unsigned char *pre_relu_dropped;
    unsigned char *unwritten; /* per value: the last forward left it unwritten (such an output) */
    int drop_pre_activations;
    /* Scratch of a forward or backward pass, made once so that no step allocates: per node,
     * which nodes the pass runs and which gradients each writes; per value, its gradient's state. */
    unsigned char *needed;
    uint64_t *assign;
    unsigned char *grad_state;
    cnv_backward_rule rule; /* backward rules for every node (core/backend.h) */
    int unpool_fill;
};

/* For a caller that reads no conv's pre-activation, only objectives, images and gradients (the
 * render and training loops): a Conv followed by a Relu that alone reads its output then writes
 * that Relu's output and not its own, one store a value fewer (a tenth of SqueezeNet's conv
 * forward at batch 8). Reading such a value afterwards fails with a clear error. */
void cnv_exec_drop_pre_activations(cnv_exec *ex);

/* Makes later backward passes use `rule` for Relu and, with unpool_fill, fill unpooling for
 * MaxPool (deconvnet, guided backprop). CNV_RULE_GRADIENT with 0 restores true gradients. */
cnv_status cnv_exec_set_backward_rules(cnv_exec *ex, cnv_backward_rule rule, int unpool_fill);

/* One node alone (cnv_check_backends' per-layer backward). With inputs, its non-weight inputs
 * are set from inputs[i] (a NULL entry keeps the executor's) and its forward is run so that its
 * output and aux (MaxPool's switches) follow them; inputs NULL uses what the last forward left.
 * Then its backward from grad_out (the gradient at its output) with its inputs' gradients
 * zeroed first, each non-weight input's gradient read into grad_in[i] (entries may be NULL).
 * Gradient buffers of other values keep what they held. */
cnv_status cnv_exec_node_backward(cnv_exec *ex, int node, const float *const *inputs, const float *grad_out,
                                  float *const *grad_in);

#endif
