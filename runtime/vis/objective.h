/* What a visualization maximizes, one objective per batch item: a class logit or probability,
 * the mean of a channel of a layer (a filter), or one unit of a channel (a neuron). Each is
 * linear in the output of its layer, so it is a seed gradient at that layer and its value is
 * the seed's dot product with the output. */
#ifndef CNV_VIS_OBJECTIVE_H
#define CNV_VIS_OBJECTIVE_H

#include "core/graph.h"

typedef enum cnv_objective_kind {
    CNV_OBJ_UNIT,    /* one element of a class vector (a logit, or a probability after a Softmax), or the
                        mean of one channel of a map of classes (cnv_class_score_count) */
    CNV_OBJ_CHANNEL, /* mean over the positions of one channel */
    CNV_OBJ_NEURON,  /* one position (y, x) of one channel */
} cnv_objective_kind;

typedef struct cnv_objective {
    cnv_objective_kind kind;
    int channel; /* class index for CNV_OBJ_UNIT */
    int y, x;    /* CNV_OBJ_NEURON */
} cnv_objective;

/* Checks objectives against a layer's output shape s (batch item i uses objs[i]); messages
 * name the layer. */
cnv_status cnv_objective_check(const cnv_objective *objs, int n, const cnv_shape *s, const char *layer);
/* The seed gradient for the batch: numel(s) floats. */
void cnv_objective_seed(const cnv_objective *objs, const cnv_shape *s, float *seed);
/* Objective values of each item from the layer's output. */
void cnv_objective_values(const float *seed, const float *out, const cnv_shape *s, double *values);

#endif
