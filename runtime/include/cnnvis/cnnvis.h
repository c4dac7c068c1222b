/* cnnvis — public C API (models, backends, tensors; visualize.h has the visualizations).
 *
 * Pure C11, opaque handles, every fallible call returns a cnv_status. When a call fails,
 * cnv_last_error() holds a one-line message naming the file or object and the problem
 * (thread-local; valid until the next failing call on the same thread).
 *
 * Ownership: a handle made by a *_load or *_create call belongs to the caller, who releases it
 * with the matching *_free (NULL is accepted and ignored). Strings returned by the library
 * (names, messages) belong to the library: a layer's name lives as long as its model, a
 * status name forever. Every array a call writes is the caller's, sized as the call says; the
 * library keeps no pointer to it after returning. A model must outlive the executors made on
 * it; a backend must outlive the executors that use it. Handles are not thread-safe: use
 * one from one thread at a time.
 *
 * Link with -lcnnvis (pkg-config cnnvis, or find_package(cnnvis) and cnnvis::cnnvis). */
#ifndef CNNVIS_CNNVIS_H
#define CNNVIS_CNNVIS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cnnvis/version.h"

/* Marks the functions libcnnvis exports; everything else in the library is hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define CNV_API __attribute__((visibility("default")))
#else
#define CNV_API
#endif

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
CNV_API const char *cnv_status_str(cnv_status s);
/* True for statuses caused by what the user supplied (files, options, limits): the CLI exits 2 on them. */
CNV_API int cnv_status_is_input_error(cnv_status s);
/* The message of the last failure on this thread ("" when none). */
CNV_API const char *cnv_last_error(void);
/* Sets this thread's last-error message (printf-style, one line) and returns s, as the library
 * does on every failure: for code built on it (front ends, callbacks) that reports its own
 * failures through cnv_last_error too. */
CNV_API cnv_status cnv_fail(cnv_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The library's version, "MAJOR.MINOR.PATCH" (CNV_VERSION_STRING of the build it came from;
 * compare with the header's to detect a mismatched install). */
CNV_API const char *cnv_version(void);

/* ---- tensor shapes ---- */
/* The most axes a tensor has (6 covers ShuffleNet's 5-D channel shuffle with one to spare). */
#define CNV_MAX_RANK 6
/* A tensor's shape: ndim axes (at most CNV_MAX_RANK), NCHW for images. A plain value. */
typedef struct cnv_shape {
    int ndim;
    int d[CNV_MAX_RANK];
} cnv_shape;

/* The element count (1 for ndim 0). */
static inline size_t cnv_shape_numel(const cnv_shape *s) {
    size_t n = 1;
    for (int i = 0; i < s->ndim; i++) n *= (size_t)s->d[i];
    return n;
}
static inline int cnv_shape_equal(const cnv_shape *a, const cnv_shape *b) {
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->d[i] != b->d[i]) return 0;
    return 1;
}
static inline cnv_shape cnv_shape4(int n, int c, int h, int w) {
    cnv_shape s = {4, {n, c, h, w}};
    return s;
}
/* A batch of feature maps with more than one position (NxCxHxW, H*W > 1). */
static inline int cnv_shape_is_map(const cnv_shape *s) { return s->ndim == 4 && s->d[2] * s->d[3] > 1; }
/* "1x3x227x227" into buf (size bytes); returns buf. */
CNV_API char *cnv_shape_str(const cnv_shape *s, char *buf, size_t size);

/* ---- models ---- */
typedef struct cnv_graph cnv_graph;

/* Loads an ONNX (.onnx) or Keras full-model (.h5, `model.save`) file; shapes are inferred at
 * load with batch 1. */
CNV_API cnv_status cnv_model_load(const char *path, cnv_graph **out);
/* Like cnv_model_load at an input of height x width: an ONNX model whose height and width are
 * symbolic (exported with dynamic axes) or a Keras model whose input height and width are None is
 * imported for that size (0 for either: 224); a model whose input size is fixed (in the file, or
 * by a Dense after a Flatten) loads only at its own size, and any other gives CNV_ERR_SHAPE with
 * one line naming the size it expects. */
CNV_API cnv_status cnv_model_load_sized(const char *path, int height, int width, cnv_graph **out);
/* Loads a Keras weights-only .h5 (`model.save_weights`) into a named architecture: "vgg16" or
 * "vgg19" (keras.applications layer names; with or without the top, 224x224 input). A NULL or
 * empty arch is cnv_model_load. */
CNV_API cnv_status cnv_model_load_arch(const char *path, const char *arch, cnv_graph **out);
/* Like cnv_model_load_arch at a square input of height x width (0: the default). Without the
 * classifier the VGG trunk is fully convolutional and runs at any side from 32; with it, or for
 * another size than a model allows, CNV_ERR_SHAPE with one line naming the size it expects. */
CNV_API cnv_status cnv_model_load_arch_sized(const char *path, const char *arch, int height, int width,
                                             cnv_graph **out);
/* What a load can be asked for at once (cnv_model_load_with); zero is the default of each. */
typedef struct cnv_load_opts {
    const char *arch;  /* a Keras weights-only file's architecture (cnv_model_load_arch); NULL: none */
    int height, width; /* the input size (cnv_model_load_sized); 0: the model's, or 224 */
    int sha256;        /* also take the file's SHA-256 (cnv_model_sha256): an ONNX file's as its bytes
                        * are read for the load (the hash is ~2 s for 553 MB, so it is asked for),
                        * a Keras file's in a read of its own */
} cnv_load_opts;
/* The load every cnv_model_load* call above is a case of; opts NULL: the defaults. */
CNV_API cnv_status cnv_model_load_with(const char *path, const cnv_load_opts *opts, cnv_graph **out);
CNV_API void cnv_model_free(cnv_graph *g);

/* A layer is a node of the graph. `spec` is a node name, an output-tensor name, or a decimal
 * index as printed by `cnnvis info`. */
CNV_API cnv_status cnv_model_find_layer(const cnv_graph *g, const char *spec, int *node_index);

/* Layers are numbered 0..count-1 in the order they run (as `cnnvis info` lists them). */
CNV_API int cnv_model_layer_count(const cnv_graph *g);
/* A layer's node name and op type ("Conv", "Relu", ...); NULL when layer is out of range. */
CNV_API const char *cnv_model_layer_name(const cnv_graph *g, int layer);
CNV_API const char *cnv_model_layer_op(const cnv_graph *g, int layer);
/* A layer's output shape at batch 1 into dims[CNV_MAX_RANK]; returns its rank, or -1 when layer
 * is out of range. */
CNV_API int cnv_model_layer_shape(const cnv_graph *g, int layer, int dims[CNV_MAX_RANK]);
/* The input's shape at batch 1 (NCHW for image models); returns its rank. */
CNV_API int cnv_model_input_shape(const cnv_graph *g, int dims[CNV_MAX_RANK]);
/* The layer computing the model's output (-1 when the output is not computed by a layer). */
CNV_API int cnv_model_output_layer(const cnv_graph *g);

/* ---- presets: how a model wants its input ---- */
/* The preset cnnvis recognizes the model by (input size, channel order, value range, mean/std,
 * logits layer, labels): a name such as "squeezenet" or "fashion-mnist", else "generic". Every
 * call below that preprocesses or needs the logits uses this preset. */
CNV_API const char *cnv_model_preset(const cnv_graph *g);
/* An image (PNG, JPEG, ...) or a preprocessed .npy as the model's input at batch 1: resized,
 * reordered and normalized as the preset says, into out (the input shape's element count). */
CNV_API cnv_status cnv_model_load_input(const cnv_graph *g, const char *path, float *out);
/* The preset's logits layer (the layer before its Softmax), else the output layer. */
CNV_API cnv_status cnv_model_logits_layer(const cnv_graph *g, int *layer);

/* ---- backends and execution ---- */
typedef struct cnv_backend cnv_backend;
CNV_API cnv_status cnv_backend_cpu_create(cnv_backend **out);
/* The CPU backend as a reference: only kernels whose rounding keeps an exact zero exact. The
 * default takes Winograd F(4x4) for big 3x3 convolutions, which turns an output whose window
 * reads only zeros into a rounding residue when its tile reads other values: a ReLU after it
 * then passes a gradient the exact result blocks. What `cnnvis check` compares against. */
CNV_API cnv_status cnv_backend_cpu_create_reference(cnv_backend **out);
CNV_API void cnv_backend_free(cnv_backend *be);
/* "cpu" or "vulkan". */
CNV_API const char *cnv_backend_name(const cnv_backend *be);
/* The device in words: the GPU's name and driver, or "CPU (host)". */
CNV_API const char *cnv_backend_device(const cnv_backend *be);

typedef struct cnv_vulkan_options {
    const char *device; /* NULL/"": the best GPU; else an index or a name substring ("llvmpipe") */
    int validation;     /* enable VK_LAYER_KHRONOS_validation (also CNNVIS_VALIDATION=1) */
    int profiling;      /* time every kernel (see cnv_backend_vulkan_profile) */
    int forced_limits;  /* behave like a small device: 128 invocations, 16 KiB shared, 64 MiB range */
} cnv_vulkan_options;
/* CNV_ERR_DEVICE when no Vulkan loader or device is usable (callers fall back to the CPU). */
CNV_API cnv_status cnv_backend_vulkan_create(const cnv_vulkan_options *opt, cnv_backend **out);
/* The backend a --device value names: "cpu" is the CPU backend; NULL, "" or "auto" the best GPU,
 * falling back to the CPU backend when there is none (a CPU-type Vulkan device such as
 * llvmpipe is slower than the CPU backend, so it is used only when named); anything else an
 * index or a name substring of a Vulkan device (`cnnvis devices`). opt may be NULL; its
 * device field is ignored. Says on stderr when no Vulkan loader exists at all. */
CNV_API cnv_status cnv_backend_open(const char *device, const cnv_vulkan_options *opt, cnv_backend **out);

/* Queue submissions made by a Vulkan backend so far (0 for other backends). */
CNV_API uint64_t cnv_backend_submit_count(const cnv_backend *be);
/* Times a Vulkan backend's host waited for its newest submission while it still ran, leaving
 * the device without queued work until the next submit (0 for other backends): a recorded
 * program's run is not waited for until the host touches a buffer it binds. A wait for an older
 * run while a newer one is queued (backpressure, the host ahead of the device) is not one. */
CNV_API uint64_t cnv_backend_host_waits(const cnv_backend *be);
/* Validation messages seen by a Vulkan backend so far (0 for other backends). */
CNV_API unsigned cnv_backend_validation_messages(const cnv_backend *be);
/* Prints the time spent per kernel (op and direction on the CPU; GPU timestamps per shader on
 * Vulkan, collected when created with profiling). */
CNV_API void cnv_backend_profile_report(cnv_backend *be, FILE *f);

/* ---- optimizers (training's update, and the renders' recipes) ---- */
/* SGD with momentum, or Adam (beta1 0.9, beta2 0.999, eps 1e-8, as PyTorch). */
typedef enum cnv_optim_kind { CNV_OPTIM_SGD = 0, CNV_OPTIM_ADAM = 1 } cnv_optim_kind;

typedef struct cnv_exec cnv_exec;
/* An executor holds every tensor of the graph for one batch size on one backend. The graph
 * must outlive it. */
CNV_API cnv_status cnv_exec_create(cnv_graph *g, cnv_backend *be, int batch, cnv_exec **out);
CNV_API void cnv_exec_free(cnv_exec *ex);
/* Sets the graph input: float32 NCHW, batch x the model's input shape. */
CNV_API cnv_status cnv_exec_set_input(cnv_exec *ex, const float *data);
/* Runs every node that `node` depends on, then `node` itself. */
CNV_API cnv_status cnv_exec_forward(cnv_exec *ex, int node);
/* Reads a value (tensor index) computed by the last forward. */
CNV_API cnv_status cnv_exec_read(cnv_exec *ex, int value, float *dst);
/* cnv_exec_backward's `wants`: 0 is the gradient of the input alone. */
enum {
    CNV_BACKWARD_WEIGHTS = 1,   /* also every weight's gradient */
    CNV_BACKWARD_SKIP_INPUT = 2 /* not the input's (training needs the weights' alone) */
};
/* Back-propagates `seed` (the gradient of the objective w.r.t. `value`) through everything
 * `value` depends on; then the gradients `wants` names can be read. Needs a forward to value's
 * producer first. */
CNV_API cnv_status cnv_exec_backward(cnv_exec *ex, int value, const float *seed, unsigned wants);
CNV_API cnv_status cnv_exec_read_grad(cnv_exec *ex, int value, float *dst);

#ifdef __cplusplus
}
#endif

/* The visualizations, an area to a header (each includes this one). */
#include "cnnvis/visualize.h"
#include "cnnvis/attribution.h"
#include "cnnvis/synthesis.h"
#include "cnnvis/tools.h"
#include "cnnvis/convert.h"
#include "cnnvis/train.h"
#include "cnnvis/atlas.h"
#include "cnnvis/picture.h"
#include "cnnvis/model.h"
#include "cnnvis/files.h"
#include "cnnvis/vis_run.h"
#endif
