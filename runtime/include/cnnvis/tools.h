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
    double seconds[CNV_BENCH_MAX_REPEAT]; /* each timed repeat's wall time, n of them */
    double median, min, max; /* of seconds[] */
    double flops;          /* floating-point operations of one repeat, 0 when not counted */
    /* Of the model's convolutions run forward in one repeat (2 x MACs; 0 for gemm): divided by the
     * forward conv kernel's time it is the conv products' rate, to hold against gemm's. */
    double conv_forward_flops;
    /* Of the convolutions' backward to the data in one repeat (2 x MACs; 0 where not counted): a
     * render step takes every conv's backward to the data once, as many products as forward. */
    double conv_backward_data_flops;
    long peak_rss_kb;      /* the child's peak resident memory in KiB (isolated runs; -1 otherwise) */
    int n_kernels;         /* kernels seen during the timed repeats, most time first */
    cnv_profile_entry kernels[CNV_BENCH_MAX_KERNELS]; /* totals over the n repeats */
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
