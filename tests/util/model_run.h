/* Running a loaded model on the CPU backend in tests: one call from input to a value. */
#ifndef CNV_TEST_MODEL_RUN_H
#define CNV_TEST_MODEL_RUN_H

#include "core/graph.h"

/* Forward of `batch` inputs (the model's input shape with that batch) up to `value`; *out is
 * malloc'ed and holds the value at that batch, with its shape in *shape. */
cnv_status tu_model_forward(cnv_graph *g, const float *input, int batch, int value, float **out, cnv_shape *shape);

/* Forward of one input (batch 1) through the whole graph; *vals (malloc'ed, g->n_values entries)
 * holds every node output, indexed by value, and NULL for the other values (inputs, weights).
 * Free it with tu_model_values_free. */
cnv_status tu_model_forward_all(cnv_graph *g, const float *input, float ***vals);
void tu_model_values_free(float **vals, int n_values);

/* Index of the largest of n values. */
int tu_argmax(const float *x, int n);

#endif
