/* The graph: values (tensors) and a topologically sorted list of nodes. Every node has one
 * output value. Weights are values with initializer data owned by the graph. */
#ifndef CNV_CORE_GRAPH_H
#define CNV_CORE_GRAPH_H

#include "op.h"

typedef struct cnv_value {
    char *name;
    cnv_shape shape; /* inferred with batch 1 at load */
    float *init;     /* initializer data (weights), NULL for activations */
    int borrowed;    /* init is not this value's allocation (another graph's that outlives this one, or a
                      * part of this graph's `weights` block): not freed with the value */
    int producer;    /* node index, or -1 for the graph input and initializers */
} cnv_value;

typedef struct cnv_node {
    char *name;
    cnv_op_type op;
    cnv_attrs attrs;
    int n_in;
    int in[CNV_MAX_INPUTS]; /* value indices: data inputs first, then weights */
    int out;                /* value index */
} cnv_node;

struct cnv_graph {
    char *source;   /* file it came from, for messages */
    int opset;
    cnv_value *values;
    int n_values, cap_values;
    cnv_node *nodes;
    int n_nodes, cap_nodes;
    int input;  /* the value fed by the user (one image input) */
    int output; /* the graph's final output value */
    unsigned input_symbolic; /* bit k: dim k of the input is symbolic in the file (any size loads) */
    void *weights;  /* one block holding the weights as read from the file (ONNX raw_data), which
                     * borrowed values point into; freed with the graph. NULL: none */
    char sha256[65]; /* the file's digest, taken as its bytes were read when the load was asked to
                      * (cnv_load_opts.sha256); "" otherwise */
};

cnv_graph *cnv_graph_new(const char *source);
void cnv_graph_free(cnv_graph *g);

/* Adds a value; takes a copy of name; init (may be NULL) is copied too. Returns index or -1. */
int cnv_graph_add_value(cnv_graph *g, const char *name, const cnv_shape *shape, const float *init);
/* The same for a weight that stays another graph's (of): init is read in place, never copied or
 * freed, so that graph must outlive g and keep the data unchanged while g is used. A
 * visualization graph built around a model takes the model's weights this way: VGG16's 553 MB
 * are then held once. Returns index or -1. */
int cnv_graph_add_borrowed_value(cnv_graph *g, const cnv_value *of);
/* The same for a weight the graph takes without a copy: init is freed with the graph when owned
 * (a malloc'ed array), else it lies inside g->weights. Returns index or -1 (init then stays the
 * caller's). */
int cnv_graph_add_weight(cnv_graph *g, const char *name, const cnv_shape *shape, float *init, int owned);
/* The SHA-256 of the file at path as 64 hex digits: the digest taken at load when g was loaded
 * from that path with one, else the file's as it is now (CNV_ERR_IO when it cannot be read). */
cnv_status cnv_graph_file_sha256(const cnv_graph *g, const char *path, char hex[65]);
/* Appends a node (nodes must be added in topological order). Returns index or -1. */
int cnv_graph_add_node(cnv_graph *g, const char *name, cnv_op_type op, const cnv_attrs *attrs,
                       int n_in, const int *in, int out);
int cnv_graph_find_value(const cnv_graph *g, const char *name);

/* Infers every value's shape for the given input shape into `shapes` (n_values entries);
 * resolves auto_pad. Also used with other batch sizes by executors. */
cnv_status cnv_graph_infer_shapes(cnv_graph *g, const cnv_shape *input_shape, cnv_shape *shapes);

/* Folds every BatchNormalization that directly follows a Conv (whose output has no other use)
 * into that conv's weights and bias; called by importers. BN given as scale/shift per channel. */
cnv_status cnv_graph_fold_batchnorm(cnv_graph *g);

/* cnv_graph_last_map_node (the default layer of Grad-CAM and of `cnnvis check`) is public:
 * cnnvis/attribution.h. */

/* The node giving `node`'s output before its ReLU: the Relu's input for a Relu; for a Concat of
 * Relus, a Concat of their inputs appended to the graph (once, named "<concat>/pre_relu");
 * `node` itself when no ReLU ends it. -1 when out of memory or no such node. */
int cnv_graph_pre_relu(cnv_graph *g, int node);
/* The node giving LeakyRelu(slope) of `node`'s pre-ReLU values, appended once ("<node>/leaky_relu_<slope>"):
 * slope 0 gives `node`, slope 1 the pre-ReLU node (cnv_graph_pre_relu), and `node` when no ReLU ends it.
 * -1 when out of memory. */
int cnv_graph_leaky_twin(cnv_graph *g, int node, float slope);
/* The slope the optimization verbs use by default (--relu-slope). */
#define CNV_LEAKY_TWIN_SLOPE 0.01f

/* Number of parameters (initializer elements) of a node. */
size_t cnv_node_param_count(const cnv_graph *g, int node);

/* Receptive field of each node's output on the input: size and stride (jump) in pixels, per
 * axis (H, W). Nodes past a Flatten/Gemm cover the whole input (size = input size). */
typedef struct cnv_receptive_field {
    int size[2];
    int stride[2];
} cnv_receptive_field;
void cnv_graph_receptive_fields(const cnv_graph *g, cnv_receptive_field *rf /* n_nodes */);

/* The input pixels that unit (y, x) of node's output depends on, exactly, clamped to the input:
 * field = {top, left, bottom, right}, inclusive. */
cnv_status cnv_graph_unit_field(const cnv_graph *g, int node, int y, int x, int field[4]);

#endif
