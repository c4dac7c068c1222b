/* One imported node or layer built out of several cnnvis ops, shared by the importers that
 * compose (ONNX's LayerNormalization, InstanceNormalization and reductions in
 * onnx_composite_ops.c, Keras' LayerNormalization in keras_build.c), so each composition is
 * written once and both backends, the gradients and the exporter need nothing new.
 *
 * Naming: a step's node is '<node>/<step>' and its output '<value>/<step>'; a step given an
 * out_name is a named output: its node is '<node>' ('<node>/<step>' when the step has a name)
 * and its value out_name. The last step of a composition carries the importer's own names, so
 * layers are found by the names in the file. */
#ifndef CNV_MODELS_COMPOSE_H
#define CNV_MODELS_COMPOSE_H

#include "core/graph.h"

typedef struct compose {
    cnv_graph *g;
    const char *path;  /* the file, first in every error */
    const char *what;  /* the node or layer in errors: "node 'x' (LayerNormalization)" */
    const char *node;  /* the steps' node prefix */
    const char *value; /* the steps' value prefix */
    /* A value name the importer holds outside the graph (ONNX constants); NULL: none. */
    int (*taken)(const void *user, const char *name);
    const void *user;
} compose;

/* "<path>: <what>: <problem>" with status s. */
cnv_status compose_refuse(const compose *c, cnv_status s, const char *problem);

/* Appends one step (its shape inferred, the attributes completed by the shape rule); *out gets
 * its value. A name already in use is refused. */
cnv_status compose_step(const compose *c, const char *step, const char *out_name, cnv_op_type op, const cnv_attrs *a,
                        int n_in, const int *in, int *out);
cnv_status compose_unary(const compose *c, const char *step, const char *out_name, cnv_op_type op, int x, int *out);
cnv_status compose_binary(const compose *c, const char *step, const char *out_name, cnv_op_type op, int x, int y,
                          int *out);
/* A reduction over the axes in the bit mask `axes`, dims kept. */
cnv_status compose_reduce(const compose *c, const char *step, const char *out_name, cnv_op_type op, int x, int axes,
                          int *out);
/* A weight '<node>/<what>' of the given shape: its floats from data, or `fill` in each (data NULL). */
cnv_status compose_weight(const compose *c, const char *what, const cnv_shape *shape, const float *data, float fill,
                          int *out);

/* (x - mean) / sqrt(var + eps) over `axes` (var the biased variance, both ReduceMeans), then
 * times gamma and plus beta where those are values (-1: none). The mean step is the named
 * output mean_name when that is non-NULL; the last step is out_name. *sd gets the standard
 * deviation's step (ONNX's InvStdDev output is its reciprocal). */
cnv_status compose_normalize(const compose *c, int x, int axes, float eps, int gamma, int beta, const char *mean_name,
                             const char *out_name, int *out, int *sd);

#endif
