/* The interface every backend implements: a table of function pointers over opaque buffers.
 * Ops are issued in order; a backend may record them and run them at sync (Vulkan) or run
 * them at once (CPU). Gradients are accumulated (+=) into grad_in buffers, so fan-out in the
 * graph needs no special case, except where the caller marks a buffer as holding no gradient yet
 * (cnv_op_io's grad_assign): the first op to reach it writes it. */
#ifndef CNV_CORE_BACKEND_H
#define CNV_CORE_BACKEND_H

#include "graph.h"
#include "optim.h"
#include "profile.h"

#include <stdint.h>

typedef struct cnv_program cnv_program; /* defined by each backend */

/* How backward treats Relu (and, with unpool_fill, MaxPool): the true gradient, or one of the
 * modified rules of the visualization papers. Other ops always use their gradient.
 * DECONVNET (Zeiler & Fergus): Relu passes relu(dy), ignoring the forward input.
 * GUIDED (Springenberg et al.): Relu passes dy only where both x > 0 and dy > 0. */
typedef enum cnv_backward_rule {
    CNV_RULE_GRADIENT = 0,
    CNV_RULE_DECONVNET,
    CNV_RULE_GUIDED
} cnv_backward_rule;

/* Everything one op invocation touches. Unused slots are NULL. */
typedef struct cnv_op_io {
    const cnv_node *node;
    int n_in;
    cnv_buf *in[CNV_MAX_INPUTS];
    cnv_shape in_shape[CNV_MAX_INPUTS];
    cnv_buf *out;
    cnv_shape out_shape;
    cnv_buf *aux;                     /* state kept from forward to backward (MaxPool switches) */
    /* forward, Conv only: also write max(out, 0) here, the output of a Relu of out, which the
     * executor then skips (exec.c: the fused Relu). out is written as ever, unless it is NULL:
     * then only relu_out is (the executor keeps no pre-activation nothing reads). */
    cnv_buf *relu_out;
    cnv_buf *grad_out;                /* backward: gradient of the objective w.r.t. out */
    cnv_buf *grad_in[CNV_MAX_INPUTS]; /* backward: accumulate into these; NULL = not wanted */
    /* backward: bit i set: grad_in[i]'s contents are undefined, and the call writes its gradient
     * there rather than adding it (a backend may zero the buffer and add). */
    uint64_t grad_assign;
    cnv_backward_rule rule;           /* backward: Relu's rule (zero: the gradient) */
    int unpool_fill;                  /* backward: MaxPool copies dy to its whole window, not the switch */
} cnv_op_io;

typedef struct cnv_backend_vtable {
    const char *name;
    cnv_status (*buf_alloc)(cnv_backend *be, size_t n_floats, cnv_buf **out);
    void (*buf_free)(cnv_backend *be, cnv_buf *b);
    /* Optional (NULL: allocate and write instead): a buffer holding n floats that the backend
     * may read in place from host memory the caller keeps, unchanged, for the buffer's whole
     * life (a graph's weights). Writing to the buffer never writes to that memory. */
    cnv_status (*buf_wrap)(cnv_backend *be, const float *host, size_t n_floats, cnv_buf **out);
    cnv_status (*buf_write)(cnv_backend *be, cnv_buf *b, size_t offset, const float *src, size_t n);
    cnv_status (*buf_read)(cnv_backend *be, cnv_buf *b, size_t offset, float *dst, size_t n);
    cnv_status (*buf_fill)(cnv_backend *be, cnv_buf *b, float value, size_t n);
    cnv_status (*forward)(cnv_backend *be, const cnv_op_io *io);
    /* Computes the gradient for every input whose grad_in slot is set: the data inputs
     * (backward to the input) and/or the weights (backward to the weights). */
    cnv_status (*backward)(cnv_backend *be, const cnv_op_io *io);
    /* One optimizer step (core/optim.h). */
    cnv_status (*optim_step)(cnv_backend *be, const cnv_optim_io *io);
    cnv_status (*sync)(cnv_backend *be);
    /* Recorded programs: between program_begin and program_end every buf_fill, buf_write,
     * forward and backward is recorded rather than run (buf_read is not allowed);
     * program_run replays the whole sequence (on a GPU: one queue submit). Writes replay the
     * data given at record time; per-run parameters live in buffers the caller updates
     * between runs. */
    cnv_status (*program_begin)(cnv_backend *be);
    cnv_status (*program_end)(cnv_backend *be, cnv_program **out);
    cnv_status (*program_run)(cnv_backend *be, cnv_program *prog);
    void (*program_free)(cnv_backend *be, cnv_program *prog);
    /* Queue submissions, host waits that left the device idle (cnv_backend_host_waits: for the
     * newest submission, still running), and validation messages so far; NULL where meaningless
     * (CPU). */
    void (*stats)(const cnv_backend *be, uint64_t *submits, uint64_t *host_waits, unsigned *validation_messages);
    /* The device in words ("llvmpipe (LLVM 15.0.6, 256 bits), driver llvmpipe Mesa 22.3.6"). */
    const char *(*device_name)(const cnv_backend *be);
    /* Time per kernel so far (CPU: always; Vulkan: with profiling on); NULL when none. */
    const cnv_profile *(*profile)(const cnv_backend *be);
    void (*destroy)(cnv_backend *be);
} cnv_backend_vtable;

struct cnv_backend {
    const cnv_backend_vtable *vt;
};

/* Number of floats of per-node state the op keeps between forward and backward, or of scratch
 * its backward needs (0 if none); in_shape: its input 0's. */
size_t cnv_op_aux_numel(const cnv_node *node, const cnv_shape *in_shape, const cnv_shape *out_shape);

#endif
