/* Named workloads that measure a backend (`cnnvis bench`): the steps the verbs run, on built-in
 * architectures with seeded weights (models/arch_imagenet.c), so nothing has to be downloaded.
 * Each workload drives the same code as its verb — cnv_render for the visualization steps,
 * cnv_train for training, the executor for a forward pass — and times its steps through their
 * progress callbacks: a warm-up step first, then `repeat` timed steps. The per-kernel breakdown
 * is the backend's profile over the timed steps only.
 *
 * cnv_bench_run_isolated runs a workload in a child process (fork), so each one starts from a
 * fresh process and its peak resident memory (wait4's ru_maxrss) is its own. */
#ifndef CNV_VIS_BENCH_H
#define CNV_VIS_BENCH_H

#include "core/profile.h"
#include "cnnvis/cnnvis.h"

#define CNV_BENCH_MAX_REPEAT 1000
#define CNV_BENCH_MAX_KERNELS 64

typedef struct cnv_bench_opts {
    const char *device; /* cnv_backend_open's --device value (NULL: auto) */
    int repeat;         /* timed repeats, 1..CNV_BENCH_MAX_REPEAT */
    int size;           /* image size of the ImageNet workloads (0: each workload's own; >= 32) */
    int profile;        /* Vulkan: time every kernel (the CPU backend always does) */
} cnv_bench_opts;

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
    double seconds[CNV_BENCH_MAX_REPEAT];
    double median, min, max; /* of seconds[] */
    double flops;          /* floating-point operations of one repeat, 0 when not counted */
    /* Of the model's convolutions run forward in one repeat (2 x MACs; 0 for gemm): divided by the
     * forward conv kernel's time it is the conv products' rate, to hold against gemm's. */
    double conv_forward_flops;
    /* Of the convolutions' backward to the data in one repeat (2 x MACs; 0 where not counted): a
     * render step takes every conv's backward to the data once, as many products as forward. */
    double conv_backward_data_flops;
    long peak_rss_kb;      /* the child's peak resident memory (isolated runs; -1 otherwise) */
    int n_kernels;         /* kernels seen during the timed repeats, most time first */
    cnv_profile_entry kernels[CNV_BENCH_MAX_KERNELS]; /* totals over the n repeats */
    double kernel_ms_other; /* time of kernels past CNV_BENCH_MAX_KERNELS */
} cnv_bench_result;

/* Number of workloads; the name and one-line description of workload i. */
int cnv_bench_count(void);
const char *cnv_bench_name(int i);
const char *cnv_bench_describe(int i);
/* Index of a workload by name; -1 when unknown. */
int cnv_bench_find(const char *name);

/* Runs workload i in this process (peak_rss_kb -1). The result's status says whether it ran;
 * the return value is that status. */
cnv_status cnv_bench_run(int i, const cnv_bench_opts *opt, cnv_bench_result *res);
/* The same in a forked child; adds the child's peak resident memory. A child that dies is a
 * CNV_ERR_INTERNAL result naming the signal. */
cnv_status cnv_bench_run_isolated(int i, const cnv_bench_opts *opt, cnv_bench_result *res);

#endif
