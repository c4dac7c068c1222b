/* A backend checked against another (the GPU against the CPU reference) on a whole model:
 * every layer's forward output, and the gradient of a channel objective at every layer on the
 * way back to the input. This is what `cnnvis check` runs on a new vendor's GPU. */
#ifndef CNV_CORE_CHECK_H
#define CNV_CORE_CHECK_H

#include "exec.h"

typedef struct cnv_check_layer {
    double fwd_err; /* ‖test − ref‖ / ‖ref‖ of the layer's output */
    double bwd_err; /* the same for the objective's gradient w.r.t. the layer's output; -1 when
                       the layer is not on the objective's path */
} cnv_check_layer;

typedef struct cnv_check_report {
    int n_layers;
    cnv_check_layer *layers; /* per node */
    double input_grad_err;   /* the gradient w.r.t. the input */
    double max_fwd_err, max_bwd_err;
    int worst_fwd_layer, worst_bwd_layer;
} cnv_check_report;

/* Runs `input` (the model's input shape at batch 1) through both backends, then back-propagates
 * the mean of channel `channel` of layer `objective_node`. */
cnv_status cnv_check_backends(cnv_graph *g, cnv_backend *test, cnv_backend *ref, const float *input, int objective_node,
                              int channel, cnv_check_report *report);
void cnv_check_report_free(cnv_check_report *r);

/* ‖a−b‖/‖b‖ in double; 0 when both are zero, +inf when only b is. */
double cnv_rel_error(const float *a, const float *b, size_t n);

/* The seed gradient of "mean of channel c" of a tensor of shape s (N x C x ...): 1/(N*H*W) on
 * that channel's elements, 0 elsewhere. seed holds numel(s) floats. */
void cnv_channel_mean_seed(const cnv_shape *s, int channel, float *seed);

#endif
