/* The builder the architectures share (models/arch.c, models/arch_imagenet.c): each call appends
 * one node with its seeded weights and returns its output value. The first failure is kept in
 * the builder and every later call returns -1, so an architecture reads as a plain sequence of
 * calls and checks once at the end. */
#ifndef CNV_MODELS_ARCH_BUILD_H
#define CNV_MODELS_ARCH_BUILD_H

#include "core/graph.h"
#include "core/rng.h"

typedef struct cnv_arch_builder {
    cnv_graph *g;
    cnv_rng rng;
    cnv_status status; /* CNV_OK until a call fails */
} cnv_arch_builder;

/* Conv k x k with `out` channels, stride and padding on every side; He-uniform weight, zero bias. */
int cnv_ab_conv(cnv_arch_builder *b, const char *name, int x, int out, int k, int stride, int pad);
/* Dense layer (Gemm with the weight [out, in], as PyTorch's Linear): He-uniform weight, zero bias. */
int cnv_ab_dense(cnv_arch_builder *b, const char *name, int x, int out);
int cnv_ab_maxpool(cnv_arch_builder *b, const char *name, int x, int k, int stride, int pad, int ceil_mode);
/* An op without weights or attributes of its own (Relu, Flatten, Dropout, GlobalAveragePool, Add,
 * Concat on channels): n_in inputs. */
int cnv_ab_op(cnv_arch_builder *b, const char *name, cnv_op_type op, int n_in, const int *in);
/* The same for one input. */
int cnv_ab_unary(cnv_arch_builder *b, const char *name, cnv_op_type op, int x);

/* An architecture built by code rather than from a layer table (models/arch_imagenet.c): RGB
 * input of a chosen size (square, at least min_size), `build` appends every node after the input
 * value and returns the output value. */
typedef struct cnv_arch_net {
    const char *name;
    const char *description;
    int default_size, min_size;
    int (*build)(cnv_arch_builder *b, int input);
} cnv_arch_net;
extern const cnv_arch_net cnv_arch_nets[];
extern const int cnv_arch_net_count;

#endif
