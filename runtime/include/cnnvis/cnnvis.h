/* cnnvis — public C API.
 *
 * Pure C11, opaque handles, every fallible call returns a cnv_status. When a call fails,
 * cnv_last_error() holds a one-line message naming the file or object and the problem
 * (thread-local; valid until the next failing call on the same thread). */
#ifndef CNNVIS_CNNVIS_H
#define CNNVIS_CNNVIS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cnv_status {
    CNV_OK = 0,
    CNV_ERR_ARG,         /* bad argument or option value */
    CNV_ERR_IO,          /* a file could not be opened, read or written */
    CNV_ERR_FORMAT,      /* a file is malformed: truncated, corrupted, wrong type */
    CNV_ERR_UNSUPPORTED, /* valid input using an op, attribute or layout cnnvis lacks */
    CNV_ERR_SHAPE,       /* shapes do not fit together */
    CNV_ERR_NOT_FOUND,   /* a named layer, class or device does not exist */
    CNV_ERR_NOMEM,       /* an allocation failed */
    CNV_ERR_DEVICE,      /* the compute device failed */
    CNV_ERR_INTERNAL,    /* a bug in cnnvis */
    CNV_ERR_LIMIT,       /* an input exceeds a size, memory or time limit (the message names the option raising it) */
    CNV_ERR_NUMERIC,     /* a computation produced NaN or infinity (diverged) */
    CNV_STATUS_COUNT
} cnv_status;

/* Stable identifier-like name of a status, e.g. "CNV_ERR_FORMAT". */
const char *cnv_status_str(cnv_status s);
/* True for statuses caused by what the user supplied (files, options, limits): the CLI exits 2 on them. */
int cnv_status_is_input_error(cnv_status s);
/* The message of the last failure on this thread ("" when none). */
const char *cnv_last_error(void);

/* ---- models ---- */
typedef struct cnv_graph cnv_graph;

/* Loads an ONNX (.onnx) or Keras full-model (.h5, `model.save`) file; shapes are inferred at
 * load with batch 1. */
cnv_status cnv_model_load(const char *path, cnv_graph **out);
/* Like cnv_model_load at an input of height x width: an ONNX model whose height and width are
 * symbolic (exported with dynamic axes) is imported for that size (0 for either: 224); a model
 * whose input size is fixed loads only at its own size, and any other gives CNV_ERR_SHAPE with
 * one line naming the size it expects. */
cnv_status cnv_model_load_sized(const char *path, int height, int width, cnv_graph **out);
/* Loads a Keras weights-only .h5 (`model.save_weights`) into a named architecture: "vgg16" or
 * "vgg19" (keras.applications layer names; with or without the top, 224x224 input). A NULL or
 * empty arch is cnv_model_load. */
cnv_status cnv_model_load_arch(const char *path, const char *arch, cnv_graph **out);
void cnv_model_free(cnv_graph *g);

/* A layer is a node of the graph. `spec` is a node name, an output-tensor name, or a decimal
 * index as printed by `cnnvis info`. */
cnv_status cnv_model_find_layer(const cnv_graph *g, const char *spec, int *node_index);

/* ---- backends and execution ---- */
typedef struct cnv_backend cnv_backend;
cnv_status cnv_backend_cpu_create(cnv_backend **out);
void cnv_backend_free(cnv_backend *be);
/* "cpu" or "vulkan". */
const char *cnv_backend_name(const cnv_backend *be);
/* The device in words: the GPU's name and driver, or "CPU (host)". */
const char *cnv_backend_device(const cnv_backend *be);

typedef struct cnv_vulkan_options {
    const char *device; /* NULL/"": the best GPU; else an index or a name substring ("llvmpipe") */
    int validation;     /* enable VK_LAYER_KHRONOS_validation (also CNNVIS_VALIDATION=1) */
    int profiling;      /* time every kernel (see cnv_backend_vulkan_profile) */
    int forced_limits;  /* behave like a small device: 128 invocations, 16 KiB shared, 64 MiB range */
} cnv_vulkan_options;
/* CNV_ERR_DEVICE when no Vulkan loader or device is usable (callers fall back to the CPU). */
cnv_status cnv_backend_vulkan_create(const cnv_vulkan_options *opt, cnv_backend **out);
/* The backend a --device value names: "cpu" is the CPU backend; NULL, "" or "auto" the best GPU,
 * falling back to the CPU backend when there is none (a CPU-type Vulkan device such as
 * llvmpipe is slower than the CPU backend, so it is used only when named); anything else an
 * index or a name substring of a Vulkan device (`cnnvis devices`). opt may be NULL; its
 * device field is ignored. Says on stderr when no Vulkan loader exists at all. */
cnv_status cnv_backend_open(const char *device, const cnv_vulkan_options *opt, cnv_backend **out);

/* Queue submissions made by a Vulkan backend so far (0 for other backends). */
uint64_t cnv_backend_submit_count(const cnv_backend *be);
/* Validation messages seen by a Vulkan backend so far (0 for other backends). */
unsigned cnv_backend_validation_messages(const cnv_backend *be);
/* Prints the time spent per kernel (op and direction on the CPU; GPU timestamps per shader on
 * Vulkan, collected when created with profiling). */
void cnv_backend_profile_report(cnv_backend *be, FILE *f);

typedef struct cnv_exec cnv_exec;
/* An executor holds every tensor of the graph for one batch size on one backend. The graph
 * must outlive it. */
cnv_status cnv_exec_create(cnv_graph *g, cnv_backend *be, int batch, cnv_exec **out);
void cnv_exec_free(cnv_exec *ex);
/* Sets the graph input: float32 NCHW, batch x the model's input shape. */
cnv_status cnv_exec_set_input(cnv_exec *ex, const float *data);
/* Runs every node that `node` depends on, then `node` itself. */
cnv_status cnv_exec_forward(cnv_exec *ex, int node);
/* Reads a value (tensor index) computed by the last forward. */
cnv_status cnv_exec_read(cnv_exec *ex, int value, float *dst);
/* Back-propagates `seed` (the gradient of the objective w.r.t. `value`) through everything
 * `value` depends on; then gradients of the input (and with want_weights, of every weight) can
 * be read. Needs a forward to value's producer first. */
cnv_status cnv_exec_backward(cnv_exec *ex, int value, const float *seed, int want_weights);
cnv_status cnv_exec_read_grad(cnv_exec *ex, int value, float *dst);

#ifdef __cplusplus
}
#endif
#endif
