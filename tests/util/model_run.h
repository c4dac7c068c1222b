/* Running a loaded model on the CPU backend in tests: one call from input to a value. */
#ifndef CNV_TEST_MODEL_RUN_H
#define CNV_TEST_MODEL_RUN_H

#include "core/graph.h"

/* Forward of `batch` inputs (the model's input shape with that batch) up to `value`; *out is
 * malloc'ed and holds the value at that batch, with its shape in *shape. */
cnv_status tu_model_forward(cnv_graph *g, const float *input, int batch, int value, float **out, cnv_shape *shape);

/* Index of the largest of n values. */
int tu_argmax(const float *x, int n);

#endif
