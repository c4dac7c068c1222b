/* cnnvis — public C API: the tools that look at the machine rather than at a model's features:
 * the compute devices, a GPU checked against the CPU on a whole model (`cnnvis check`), and the
 * named workloads that time a backend (`cnnvis bench`). */
#ifndef CNNVIS_TOOLS_H
#define CNNVIS_TOOLS_H

#include "cnnvis/cnnvis.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The compute devices as one JSON object, into *json (the caller's, freed with cnv_free):
 * "loader" (the Vulkan loader's version, null without one), "vulkan" ("ok" or why no Vulkan
 * device is usable), "devices" (each Vulkan device's index, name and capability table: type,
 * vendor, driver, API version, limits, memory heaps, features, workarounds) and "default" (the
 * index cnv_backend_open(NULL) would use, or "cpu" with "default_reason"). What `cnnvis devices
 * --json` prints. A machine without Vulkan is not an error. */
CNV_API cnv_status cnv_devices_report(char **json);

/* Frees memory the library handed to the caller (NULL is ignored). */
CNV_API void cnv_free(void *p);

/* ---- check: a backend against the CPU on a whole model ---- */

/* What a user runs on a new vendor's GPU: one input through both backends, every layer's output
 * compared, then the gradient of a channel objective compared at every layer on the way back to
 * the input. Errors are relative: ||test - ref|| / ||ref|| in double over the whole tensor (0
 * when both are zero, +inf when only ref is). */

/* Errors are relative: ‖test − ref‖ / ‖ref‖. The backward is checked two ways. A layer's own
 * backward (bwd_err) is run by both backends on the reference's inputs and the reference's
 * gradient at its output, so it measures that layer's kernels alone. The chained gradient
 * (chain_err) is what each backend back-propagates from the objective on its own forward: it
 * also moves where a rounding difference of the forward flips a kink (a ReLU input at 0, a
 * max-pool near-tie), and on a deep max-pooling net one flipped window among millions moves it
 * by 1e-3 or more (VGG16 with seeded weights: one window of 200,704, 6e-3) while every kernel
 * agrees. */
typedef struct cnv_check_layer {
    double fwd_err;   /* of the layer's output */
    double bwd_err;   /* of the layer's own backward: the largest over its inputs' gradients; -1
                         when the layer is not on the objective's path (past it, or not leading
                         to it) or passes no gradient (weights only) */
    double chain_err; /* of the objective's gradient w.r.t. the layer's output, each backend's
                         own; -1 when not on the path */
} cnv_check_layer;

/* The summary of a check. A plain value. */
typedef struct cnv_check_report {
    double input_grad_err;             /* of the chained gradient w.r.t. the input */
    double max_fwd_err, max_bwd_err;   /* the largest over the layers (bwd: over those on the path) */
    int worst_fwd_layer;               /* the layer of max_fwd_err */
    int worst_bwd_layer;               /* the layer of max_bwd_err; -1 when no layer had one */
    double max_chain_err;              /* the largest chain_err */
    int worst_chain_layer;             /* its layer; -1 when none */
} cnv_check_report;

/* The objective layer `cnnvis check` uses by default: the deepest layer whose output is a map
 * with more than one position, else the last layer. */
CNV_API int cnv_check_default_layer(const cnv_graph *g);

/* A random input for g at batch 1 into out (the input shape's element count), drawn from seed:
 * for an image input (1 or 3 channels) a picture of uniform 8-bit pixels preprocessed as the
 * preset named `preset` says (NULL: the model's, cnv_model_preset), so values lie in the
 * model's range; for any other input, standard normal values. CNV_ERR_NOT_FOUND for an unknown
 * preset. What `cnnvis check` runs without an IMAGE|NPY. */
CNV_API cnv_status cnv_check_random_input(const cnv_graph *g, const char *preset, uint64_t seed, float *out);

/* Runs `input` (batch 1, the input shape's element count) through `test` and `ref` (NULL: the
 * reference CPU backend, cnv_backend_cpu_create_reference, made for the call), compares every
 * layer's output, back-propagates the mean of channel `channel` of layer `layer` and compares
 * the gradients, chained and each layer's own (cnv_check_layer). layers receives one entry per
 * layer (cnv_model_layer_count), report the summary. The model is run at batch 1 on both
 * backends (two executors made and freed by the call). CNV_ERR_ARG for a layer out of range or
 * a channel the layer lacks. */
CNV_API cnv_status cnv_check_backends(cnv_graph *g, cnv_backend *test, cnv_backend *ref, const float *input,
                                      int layer, int channel, cnv_check_layer *layers, cnv_check_report *report);

/* ---- bench: named workloads that time a backend ---- */

/* The steps the verbs run, on built-in architectures with seeded weights (cnnvis/convert.h),
 * so nothing has to be downloaded. Each workload drives the same code as its verb (the render
 * for the visualization steps, training, the executor for a forward pass) and times its steps
 * through their progress callbacks: a warm-up step first, then `repeat` timed steps. The
 * per-kernel breakdown is the backend's profile over the timed steps only. */

#define CNV_BENCH_MAX_REPEAT 1000
#define CNV_BENCH_MAX_KERNELS 64

/* One kernel's total time: a shader on Vulkan, an op and direction on the CPU. */
typedef struct cnv_profile_entry {
    char name[64];
    double ms;      /* milliseconds, summed over the calls */
    uint64_t calls;
} cnv_profile_entry;

typedef struct cnv_bench_opts {
    const char *device; /* cnv_backend_open's device value (NULL: auto) */
    int repeat;         /* timed repeats, 1..CNV_BENCH_MAX_REPEAT */
    int size;           /* image size of the ImageNet workloads (0: each workload's own; >= 32) */
    int profile;        /* Vulkan: time every kernel (the CPU backend always does) */
    /* Render workloads: the objective is read back every read_every steps (0 or 1: every step),
     * and a repeat is that many steps, so that steps which read nothing back are timed as they
     * run, without a host wait each. Every per-repeat figure of the result is then per step,
     * the average over its repeat. The other workloads ignore it. */
    int read_every;
} cnv_bench_opts;

/* What one run measured. A plain value (about 14 KB: allocate it rather than put it on a small
 * stack). */
typedef struct cnv_bench_result {
    cnv_status status;     /* CNV_OK, else error holds the message */
    char error[512];
    char workload[40];
    char backend[16];      /* "cpu" or "vulkan" */
    char device[256];      /* cnv_backend_device */
    char unit[48];         /* what one repeat is ("step", "forward", "batch of 32", "product") */
    int size;              /* image size used (0 where none) */
    int batch;
    int n;                 /* timed repeats */
    int read_every;        /* steps per repeat (cnv_bench_opts' read_every; 1 outside render workloads) */
    double seconds[CNV_BENCH_MAX_REPEAT]; /* each timed repeat's wall time per step, n of them */
    double median, min, max; /* of seconds[] */
    double flops;          /* floating-point operations of one repeat, 0 when not counted */
    /* Of the model's convolutions run forward in one repeat (2 x MACs; 0 for gemm): divided by the
     * forward conv kernel's time it is the conv products' rate, to hold against gemm's. */
    double conv_forward_flops;
    /* Of the convolutions' backward to the data in one repeat (2 x MACs; 0 where not counted): a
     * render step takes every conv's backward to the data once, as many products as forward. */
    double conv_backward_data_flops;
    /* Of the convolutions' backward to the weights in one repeat (2 x MACs; 0 where not counted):
     * a training step takes every conv's, as many products as forward. */
    double conv_backward_weights_flops;
    long peak_rss_kb;      /* the child's peak resident memory in KiB (isolated runs; -1 otherwise) */
    /* Per timed step, on Vulkan (0 on the CPU): queue submissions, and host waits that found a
     * submission still running (cnv_backend_host_waits). */
    double submits_per_step, host_waits_per_step;
    int n_kernels;         /* kernels seen during the timed repeats, most time first */
    cnv_profile_entry kernels[CNV_BENCH_MAX_KERNELS]; /* totals over the n repeats (of one step each) */
    double kernel_ms_other; /* time of kernels past CNV_BENCH_MAX_KERNELS */
} cnv_bench_result;

/* Number of workloads; the name and one-line description of workload i (NULL out of range;
 * the library's strings). */
CNV_API int cnv_bench_count(void);
CNV_API const char *cnv_bench_name(int i);
CNV_API const char *cnv_bench_describe(int i);
/* Index of a workload by name; -1 when unknown. */
CNV_API int cnv_bench_find(const char *name);

/* Runs workload i in this process into *res (peak_rss_kb -1). The result's status says whether
 * it ran, and error holds the message when not; the return value is that status. */
CNV_API cnv_status cnv_bench_run(int i, const cnv_bench_opts *opt, cnv_bench_result *res);
/* The same in a child process (fork), so each workload starts from a fresh process and its
 * peak resident memory (wait4's ru_maxrss) is its own; adds that peak. A child that dies is a
 * CNV_ERR_INTERNAL result naming the signal. Fork from a process whose other threads hold no
 * locks the child needs (a single-threaded program, or before starting threads). */
CNV_API cnv_status cnv_bench_run_isolated(int i, const cnv_bench_opts *opt, cnv_bench_result *res);

#ifdef __cplusplus
}
#endif
#endif
