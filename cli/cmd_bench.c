/* cnnvis bench [WORKLOAD...]: times named workloads (cnnvis/tools.h) on a device, each in a
 * fresh process, and prints the median and spread of the timed repeats, the peak memory and,
 * with --profile, the time per kernel; --json for the compare script (bench/compare.py). */
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cnnvis/tools.h"

#define DEFAULT_REPEAT 5

static int fail(int code, const char *fmt, const char *arg) {
    fprintf(stderr, "cnnvis bench: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return code;
}

static void list_names(char *buf, size_t size) {
    buf[0] = '\0';
    for (int i = 0; i < cnv_bench_count(); i++) {
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s%s", i ? ", " : "", cnv_bench_name(i));
    }
}

static void usage(void) {
    printf("usage: cnnvis bench [WORKLOAD...] [--device D] [--repeat N] [--size S] [--read-every K] [--profile] [--json]\n"
           "Times named workloads on built-in architectures with seeded weights (nothing is downloaded), each in\n"
           "its own process: a warm-up step, then N timed repeats; prints their median, min and max, the peak\n"
           "resident memory of the process and, with --profile, the time per kernel over the timed repeats.\n\n"
           "options:\n"
           "  --device NAME          cpu, or a Vulkan device by index or name (default: auto: the best GPU, else cpu)\n"
           "  --repeat N             timed repeats after the warm-up, 1..%d (default: %d)\n"
           "  --size S               image size of the ImageNet workloads, >= 32 (default: each workload's own)\n"
           "  --read-every K         render workloads: read the objective back every K steps, 1..%d; a repeat is\n"
           "                         then K steps and every figure is per step (default: 1, every step)\n"
           "  --profile              print the time per kernel; on Vulkan also turns on GPU timestamps (default: off)\n"
           "  --json                 machine-readable results on stdout, kernels included (default: off)\n"
           "  --list                 list the workloads and exit\n"
           "  -h, --help             show this help\n\n"
           "GFLOP/s: gemm's product; elsewhere (marked *) the forward convolutions' rate in their kernel; with\n"
           "--profile, Vulkan workloads also print the backward passes' rates in their kernels (to the data:\n"
           "render and training steps; to the weights: training steps)\n\n"
           "workloads (default: all):\n",
           CNV_BENCH_MAX_REPEAT, DEFAULT_REPEAT, CNV_BENCH_MAX_REPEAT);
    for (int i = 0; i < cnv_bench_count(); i++) printf("  %-22s %s\n", cnv_bench_name(i), cnv_bench_describe(i));
}

static json_t *number(double v) { return v == v ? json_real(v) : json_null(); }

/* Milliseconds over the repeats of the kernel `name`; -1 if absent. */
static double kernel_ms(const cnv_bench_result *r, const char *name) {
    for (int k = 0; k < r->n_kernels; k++)
        if (!strcmp(r->kernels[k].name, name)) return r->kernels[k].ms;
    return -1;
}

/* The forward conv kernel's milliseconds over the repeats: "Conv forward" on the CPU, the
 * conv2d_fwd shader on Vulkan (the visualization head's small 1x1 convs included); -1 if absent. */
static double conv_forward_ms(const cnv_bench_result *r) {
    double ms = kernel_ms(r, "Conv forward");
    return ms >= 0 ? ms : kernel_ms(r, "conv2d_fwd");
}

/* A backward pass's rate in its Vulkan kernel (the CPU's conv backward is one entry for the data
 * and the weights), GFLOP/s; NaN when not counted or not timed. */
static double kernel_gflops(const cnv_bench_result *r, const char *kernel, double flops) {
    double ms = kernel_ms(r, kernel);
    if (!(flops > 0) || !(ms > 0)) return NAN;
    return flops / (ms / r->n) * 1e-6;
}

static double conv_backward_data_gflops(const cnv_bench_result *r) {
    return kernel_gflops(r, "conv2d_bwd_data", r->conv_backward_data_flops);
}

static double conv_backward_weights_gflops(const cnv_bench_result *r) {
    return kernel_gflops(r, "conv2d_bwd_weights", r->conv_backward_weights_flops);
}

static json_t *result_json(const cnv_bench_result *r) {
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:i}", "workload", r->workload, "backend", r->backend,
                          "device", r->device, "unit", r->unit, "size", r->size, "batch", r->batch, "repeat", r->n);
    json_t *secs = json_array();
    for (int k = 0; k < r->n; k++) json_array_append_new(secs, number(r->seconds[k]));
    json_object_set_new(o, "seconds", secs);
    json_object_set_new(o, "median_s", number(r->median));
    json_object_set_new(o, "min_s", number(r->min));
    json_object_set_new(o, "max_s", number(r->max));
    json_object_set_new(o, "gflops", r->flops > 0 && r->median > 0 ? number(r->flops / r->median * 1e-9) : json_null());
    double conv_ms = conv_forward_ms(r);
    json_object_set_new(o, "conv_forward_gflop", r->conv_forward_flops > 0 ? number(r->conv_forward_flops * 1e-9) : json_null());
    json_object_set_new(o, "conv_forward_gflops", r->conv_forward_flops > 0 && conv_ms > 0
                                                      ? number(r->conv_forward_flops / (conv_ms / r->n) * 1e-6)
                                                      : json_null());
    json_object_set_new(o, "conv_backward_data_gflops", number(conv_backward_data_gflops(r)));
    json_object_set_new(o, "conv_backward_weights_gflops", number(conv_backward_weights_gflops(r)));
    json_object_set_new(o, "peak_rss_mb", r->peak_rss_kb >= 0 ? number(r->peak_rss_kb / 1024.0) : json_null());
    json_object_set_new(o, "submits_per_step", number(r->submits_per_step));
    json_object_set_new(o, "host_waits_per_step", number(r->host_waits_per_step));
    json_object_set_new(o, "read_every", json_integer(r->read_every));
    json_t *kernels = json_array();
    double total = r->kernel_ms_other;
    for (int k = 0; k < r->n_kernels; k++) total += r->kernels[k].ms;
    for (int k = 0; k < r->n_kernels; k++) {
        const cnv_profile_entry *e = &r->kernels[k];
        json_array_append_new(kernels, json_pack("{s:s, s:o, s:o, s:o}", "name", e->name, "ms_per_repeat",
                                                 number(e->ms / r->n), "calls_per_repeat",
                                                 number((double)e->calls / r->n), "share",
                                                 number(total > 0 ? e->ms / total : 0)));
    }
    json_object_set_new(o, "kernels", kernels);
    json_object_set_new(o, "kernel_ms_per_repeat", number(total / r->n));
    return o;
}

static void print_header(void) {
    printf("%-22s %-8s %12s %12s %12s %10s %10s\n", "workload", "backend", "median s", "min s", "max s", "GFLOP/s",
           "peak MB");
}

static void print_result(const cnv_bench_result *r, int profile) {
    char gflops[32] = "-";
    double conv_ms = conv_forward_ms(r);
    if (r->flops > 0 && r->median > 0) snprintf(gflops, sizeof gflops, "%.1f", r->flops / r->median * 1e-9);
    else if (r->conv_forward_flops > 0 && conv_ms > 0)
        snprintf(gflops, sizeof gflops, "%.1f*", r->conv_forward_flops / (conv_ms / r->n) * 1e-6);
    printf("%-22s %-8s %12.4f %12.4f %12.4f %10s %10.0f\n", r->workload, r->backend, r->median, r->min, r->max, gflops,
           r->peak_rss_kb / 1024.0);
    if (!strcmp(r->backend, "vulkan"))
        printf("    %.2f queue submits and %.2f host waits a step\n", r->submits_per_step, r->host_waits_per_step);
    if (!profile) return;
    double total = r->kernel_ms_other;
    for (int k = 0; k < r->n_kernels; k++) total += r->kernels[k].ms;
    if (r->n_kernels == 0) printf("    (no kernel times for this workload on this backend)\n");
    double bwd = conv_backward_data_gflops(r);
    if (bwd == bwd) printf("    conv backward to the data: %.2f GFLOP/s in its kernel\n", bwd);
    double bwd_w = conv_backward_weights_gflops(r);
    if (bwd_w == bwd_w) printf("    conv backward to the weights: %.2f GFLOP/s in its kernel\n", bwd_w);
    for (int k = 0; k < r->n_kernels; k++)
        printf("    %-40s %10.3f ms %8.1f calls %6.1f%%\n", r->kernels[k].name, r->kernels[k].ms / r->n,
               (double)r->kernels[k].calls / r->n, total > 0 ? 100.0 * r->kernels[k].ms / total : 0.0);
}

int cmd_bench(int argc, char **argv) {
    enum { OPT_DEVICE = 1000, OPT_REPEAT, OPT_SIZE, OPT_READ_EVERY, OPT_PROFILE, OPT_JSON, OPT_LIST };
    static const struct option options[] = {
        {"device", required_argument, NULL, OPT_DEVICE}, {"repeat", required_argument, NULL, OPT_REPEAT},
        {"size", required_argument, NULL, OPT_SIZE},     {"profile", no_argument, NULL, OPT_PROFILE},
        {"json", no_argument, NULL, OPT_JSON},           {"list", no_argument, NULL, OPT_LIST},
        {"read-every", required_argument, NULL, OPT_READ_EVERY},
        {"help", no_argument, NULL, 'h'},                {0},
    };
    cnv_bench_opts opt = {.device = "auto", .repeat = DEFAULT_REPEAT};
    int json = 0;
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, ":h", options, NULL)) != -1;) {
        char *end;
        long v;
        switch (c) {
        case OPT_DEVICE: opt.device = optarg; break;
        case OPT_REPEAT:
        case OPT_READ_EVERY:
        case OPT_SIZE:
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (end == optarg || *end || errno || v < (c == OPT_SIZE ? 32 : 1) ||
                v > (c == OPT_SIZE ? 4096 : CNV_BENCH_MAX_REPEAT))
                return fail(2, c == OPT_REPEAT       ? "--repeat: '%s' is not a whole number within 1..1000"
                               : c == OPT_READ_EVERY ? "--read-every: '%s' is not a whole number within 1..1000"
                                                     : "--size: '%s' is not a whole number within 32..4096",
                            optarg);
            *(c == OPT_REPEAT ? &opt.repeat : c == OPT_READ_EVERY ? &opt.read_every : &opt.size) = (int)v;
            break;
        case OPT_PROFILE: opt.profile = 1; break;
        case OPT_JSON: json = 1; break;
        case OPT_LIST:
            for (int i = 0; i < cnv_bench_count(); i++) printf("%s\n", cnv_bench_name(i));
            return 0;
        case 'h': usage(); return 0;
        case ':': return fail(2, "option '%s' needs a value", argv[optind - 1]);
        default: return fail(2, "unknown option '%s' (see --help)", argv[optind - 1]);
        }
    }
    int n = argc - optind, all = n == 0;
    int *chosen = malloc((size_t)(all ? cnv_bench_count() : n) * sizeof *chosen);
    if (!chosen) return fail(1, "%s", "out of memory");
    if (all) n = cnv_bench_count();
    for (int k = 0; k < n; k++) {
        chosen[k] = all ? k : cnv_bench_find(argv[optind + k]);
        if (chosen[k] < 0) {
            char known[512];
            list_names(known, sizeof known);
            fprintf(stderr, "cnnvis bench: unknown workload '%s' (known: %s)\n", argv[optind + k], known);
            free(chosen);
            return 2;
        }
    }
    double load[3] = {-1, -1, -1};
    int have_load = getloadavg(load, 3) == 3;
    json_t *root = json_object(), *results = json_array();
    if (!root || !results) {
        free(chosen);
        return fail(1, "%s", "out of memory");
    }
    json_object_set_new(root, "repeat", json_integer(opt.repeat));
    json_object_set_new(root, "load_average",
                        have_load ? json_pack("[f, f, f]", load[0], load[1], load[2]) : json_null());
    json_object_set_new(root, "results", results);
    cnv_bench_result *r = malloc(sizeof *r);
    int code = r ? 0 : fail(1, "%s", "out of memory");
    for (int k = 0; k < n && code == 0; k++) {
        cnv_status s = cnv_bench_run_isolated(chosen[k], &opt, r);
        if (s != CNV_OK) {
            code = cnv_status_is_input_error(s) ? 2 : 1;
            fflush(stdout);
            fprintf(stderr, "cnnvis bench: %s: %s\n", r->workload, r->error);
        } else if (json) {
            json_array_append_new(results, result_json(r));
        } else {
            if (k == 0) print_header(); /* nothing is printed before the first result */
            print_result(r, opt.profile);
            fflush(stdout);
        }
    }
    if (code == 0 && json) {
        if (json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(8)) != 0) code = fail(1, "%s", "cannot write the JSON result");
        putchar('\n');
    }
    if (code == 0 && !json && have_load) printf("load average before the run: %.2f %.2f %.2f\n", load[0], load[1], load[2]);
    json_decref(root);
    free(r);
    free(chosen);
    return code;
}
