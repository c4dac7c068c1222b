/* Shared by the ONNX importer's files: decoded constant tensors, the import context, and the
 * per-op attribute and constant-folding steps. Not part of the public API. */
#ifndef CNV_MODELS_ONNX_INTERNAL_H
#define CNV_MODELS_ONNX_INTERNAL_H

#include "core/graph.h"
#include "onnx.pb-c.h"

#include <stddef.h>
#include <stdint.h>

#define ONNX_MAX_CONST_DIMS 8

/* A tensor known at import time (initializer, Constant output, folded shape arithmetic).
 * Exactly one of f (float32) and i (int64) is set. */
typedef struct onnx_const {
    char *name;
    int ndim;
    int64_t dims[ONNX_MAX_CONST_DIMS];
    size_t count;
    float *f;
    int64_t *i;
    int f_kept; /* f is not this constant's to free: it lies in the weight block, or the graph took it */
} onnx_const;

/* Reads a whole regular file into a malloc'ed buffer of its size (onnx_file.c: read(2), not a
 * mapping); with sha256 (65 chars) also its digest, taken as the bytes arrive. Fails naming the
 * file (CNV_ERR_IO; a FIFO or device, CNV_ERR_FORMAT). */
cnv_status onnx_read_file(const char *path, uint8_t **data, size_t *size, char *sha256);

/* Where an initializer's raw_data lies once the file is split: offset and len in the weight block. */
typedef struct onnx_raw {
    int present; /* 0: the initializer had no raw_data */
    size_t offset, len;
} onnx_raw;

/* A model file split (onnx_split.c): the skeleton protobuf-c decodes (the file without its
 * initializers' raw_data), and the block the raw_data were moved into, each at a multiple of 4;
 * raws[k] is the k-th initializer of the skeleton's graph. */
typedef struct onnx_split {
    uint8_t *skeleton;
    size_t skeleton_len;
    onnx_raw *raws;
    size_t n_raws;
    uint8_t *block; /* NULL when no initializer had raw_data */
    size_t block_len;
} onnx_split;

/* Splits the model file's bytes (buf, size; taken: they become sp->block or are freed). Fails
 * naming the file when the framing is broken (a length past its message's end, a cut varint). */
cnv_status onnx_split_model(const char *path, uint8_t *buf, size_t size, onnx_split *sp);
void onnx_split_free(onnx_split *sp);

/* A tensor's raw_data held outside the TensorProto (the split left it in the weight block). */
typedef struct onnx_view {
    uint8_t *bytes; /* 4-byte aligned; float32 data is made host order here and read in place */
    size_t len;
} onnx_view;

/* Decodes a float32 or int64 TensorProto (raw_data little endian, or the typed fields) into c
 * (c->name is a copy of `name`). raw (may be NULL): the tensor's raw_data when the split took it
 * out; float32 data there stays in place (c->f_kept). `where` names the file for messages,
 * `what` the tensor's role. */
cnv_status onnx_const_from_tensor(const Onnx__TensorProto *t, const onnx_view *raw, const char *name,
                                  const char *where, const char *what, onnx_const *c);
/* The `need` bytes of a tensor kept as external data, read from the file it names beside the
 * model `where` (onnx_external.c says what is refused), into a malloc'ed *bytes. */
cnv_status onnx_external_bytes(const Onnx__TensorProto *t, const char *where, const char *what, const char *name,
                               size_t need, uint8_t **bytes);
/* Reads a serialized TensorProto file into c, named `name` (or the tensor's own name when NULL). */
cnv_status onnx_read_const_file(const char *path, const char *name, onnx_const *c);
void onnx_const_free(onnx_const *c);
/* Element k as a double / an int64, whatever the stored type. */
double onnx_const_get(const onnx_const *c, size_t k);
int64_t onnx_const_get_int(const onnx_const *c, size_t k);

/* A name that is not a graph value of its own: an alias of one (Identity) or an output cnnvis
 * does not compute (MaxPool's Indices), with the reason. */
typedef struct onnx_name {
    char *name;
    int value;       /* aliased value, or -1 */
    const char *why; /* why it cannot be used, or NULL */
} onnx_name;

/* The state of one import. Names resolve to graph values (activations, and float weights made
 * from constants on first use), to constants, or to entries of `names`. */
typedef struct onnx_import {
    const char *path;
    int opset;
    cnv_graph *g;
    onnx_const *consts;
    int n_consts, cap_consts;
    onnx_name *names;
    int n_names, cap_names;
    int want_hw[2]; /* the size asked for the input's height and width; 0: none */
    const onnx_split *split; /* the file's split: where each initializer's raw_data lies in g->weights */
} onnx_import;

/* The constant named `name`, or NULL. */
const onnx_const *onnx_find_const(const onnx_import *im, const char *name);
/* Takes ownership of c's buffers and name (c is cleared on success). */
cnv_status onnx_add_const(onnx_import *im, onnx_const *c);

/* The node's display name: its ONNX name, or its first output's name when that is empty. */
const char *onnx_node_name(const Onnx__NodeProto *n);

/* Fails with "<file>: node '<name>' (<op>): <problem>", the line every importer step refuses with. */
cnv_status onnx_node_refuse(const onnx_import *im, const Onnx__NodeProto *n, cnv_status s, const char *problem);
/* The node's attribute `name`, or NULL. */
const Onnx__AttributeProto *onnx_find_attr(const Onnx__NodeProto *n, const char *name);
/* Refuses (CNV_ERR_UNSUPPORTED, naming it) any attribute outside `allowed` (space-separated). */
cnv_status onnx_only_attrs(const onnx_import *im, const Onnx__NodeProto *n, const char *allowed);

/* Fills attrs for a supported op from the node's attributes (and from the constant inputs the
 * op takes as attributes: Reshape shape, Pad pads/value, Clip min/max). Rejects, by name, any
 * attribute or attribute value cnnvis does not implement. in_shape: the data input's shape. */
cnv_status onnx_parse_attrs(onnx_import *im, const Onnx__NodeProto *n, cnv_op_type op, const cnv_shape *in_shape,
                            cnv_attrs *attrs);

/* Opsets < 7: a binary op's `broadcast` and `axis` attributes. Broadcasting B (shape b) onto A
 * (shape a) from `axis` means numpy's broadcasting when B's dims end where A's do; another axis
 * is refused naming the node (its meaning differs). */
cnv_status onnx_check_legacy_broadcast(onnx_import *im, const Onnx__NodeProto *n, const cnv_shape *a,
                                       const cnv_shape *b);

/* An ONNX attribute held in one cnv_attrs field: an int, a float, or a word of `choices` (a
 * NULL-terminated list) stored as its index. */
typedef enum { ONNX_FIELD_INT, ONNX_FIELD_FLOAT, ONNX_FIELD_CHOICE } onnx_field_kind;
typedef struct onnx_attr_field {
    const char *name;
    onnx_field_kind kind;
    size_t offset; /* offsetof(cnv_attrs, ...) */
    const char *const *choices;
} onnx_attr_field;
/* The field an attribute name is read into, NULL when the attribute is not one field. */
const onnx_attr_field *onnx_attr_field_find(const char *name);

static inline int onnx_choice_count(const char *const *choices) {
    int n = 0;
    while (choices[n]) n++;
    return n;
}

/* Evaluates a node whose inputs are all known at import time (shape arithmetic exported by
 * PyTorch: Shape, Size, Gather, Unsqueeze, Squeeze, Concat, Cast, Add/Sub/Mul/Div, Neg, Slice,
 * Constant, ConstantOfShape, Identity, and Reshape and Flatten of a constant)
 * into constants. *handled = 0 when the op is not one of these (nothing is reported then). */
cnv_status onnx_fold_constant_node(onnx_import *im, const Onnx__NodeProto *n, int *handled);

/* The graph value an input name stands for (an activation, an alias, or a float constant made a
 * weight); fails naming the node when it is none of these. */
cnv_status onnx_resolve_value(onnx_import *im, const Onnx__NodeProto *n, const char *name, int *value);

/* Adds node n as one cnnvis node of op: its float inputs resolved, attributes `given` or (NULL)
 * parsed from the node, the output shape inferred. Only n's first output is defined. */
cnv_status onnx_import_node_as(onnx_import *im, const Onnx__NodeProto *n, cnv_op_type op, const cnv_attrs *given);

/* Imports the shape ops that are no cnnvis op of their own, on a computed input: Split as one
 * Slice per output, Squeeze and Unsqueeze as Reshape. *handled = 0 for any other op. */
cnv_status onnx_import_shape_node(onnx_import *im, const Onnx__NodeProto *n, int *handled);

/* Imports the ops that are compositions of cnnvis ops (onnx_composite_ops.c): the normalizations,
 * GlobalMaxPool, LogSoftmax, Selu and the derived reductions. *handled = 0 for any other op. */
cnv_status onnx_import_composite_node(onnx_import *im, const Onnx__NodeProto *n, int *handled);

#endif
