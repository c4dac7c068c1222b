/* The named workloads of cnnvis/tools.h (`cnnvis bench`). */
#include "cnnvis/tools.h"

#include <cblas.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/exec.h"
#include "core/profile.h"
#include "core/rng.h"
#include "core/status.h"
#include "models/arch.h"
#include "models/arch_build.h"
#include "vis/render.h"
#include "cnnvis/train.h"

/* The matrix size of the gemm workload (the product of two n x n matrices). */
#define GEMM_N 1024
/* Seeds of the weights, the inputs and the training data: fixed, so every run measures the same
 * numbers. */
#define BENCH_SEED 1

typedef enum { W_RENDER, W_FORWARD, W_TRAIN, W_GEMM } workload_kind;

typedef struct workload {
    const char *name;
    const char *description;
    workload_kind kind;
    const char *arch;
    int size, batch;
    const char *recipe; /* W_RENDER: the recipe, as `cnnvis class` takes it */
    /* W_RENDER: preprocessing (the ResNet uses torchvision's ImageNet mean/std, as VGG16 does). */
    const char *preset;
    const char *layer;  /* W_RENDER: the objective's layer; W_FORWARD: the layer run to */
    int channel;        /* W_RENDER: 1 = the mean of a channel, 0 = a class logit */
} workload;

#define VGG_LOGITS "/classifier/classifier.6/Gemm"
#define VGG_CONV5_3 "/features/features.28/Conv"

/* The plain recipe without its L2 penalty: a class step is forward, logit, backward to the
 * pixels and Adam, nothing else (what the PyTorch peer computes). */
static const workload workloads[] = {
    {"vgg16-class-224", "VGG16 224: class step (logit, backward to the pixels, Adam)", W_RENDER, "vgg16", 224, 1,
     "plain", "vgg16-torchvision", VGG_LOGITS, 0},
    {"vgg16-class-128", "VGG16 128: class step (logit, backward to the pixels, Adam)", W_RENDER, "vgg16", 128, 1,
     "plain", "vgg16-torchvision", VGG_LOGITS, 0},
    {"vgg16-conv5_3-224", "VGG16 224: channel step (mean of conv5_3 channel 0, backward, Adam)", W_RENDER, "vgg16",
     224, 1, "plain", "vgg16-torchvision", VGG_CONV5_3, 1},
    {"vgg16-forward-224", "VGG16 224: forward to conv5_3", W_FORWARD, "vgg16", 224, 1, NULL, NULL, VGG_CONV5_3, 0},
    {"resnet50-class-224", "ResNet-50 224 (BN folded): class step (logit, backward to the pixels, Adam)", W_RENDER,
     "resnet50", 224, 1, "plain", "vgg16-torchvision", "fc", 0},
    {"squeezenet-lucid-b1", "SqueezeNet 1.1 227: Lucid class step (the class recipe's default), batch 1", W_RENDER,
     "squeezenet1.1", 227, 1, "lucid", "squeezenet", "pool10", 0},
    {"squeezenet-lucid-b8", "SqueezeNet 1.1 227: Lucid class step, batch 8 (eight classes)", W_RENDER,
     "squeezenet1.1", 227, 8, "lucid", "squeezenet", "pool10", 0},
    {"fashion-train-b32", "fashion-cnn 28x28: training step, batch 32 (cross-entropy, backward, Adam)", W_TRAIN,
     "fashion-cnn", 0, 32, NULL, NULL, NULL, 0},
    {"gemm", "matrix-product ceiling, 1024^3: OpenBLAS sgemm on the CPU, the Gemm op's kernel on Vulkan", W_GEMM,
     NULL, 0, 1, NULL, NULL, NULL, 0},
};
static const int n_workloads = (int)(sizeof workloads / sizeof workloads[0]);

int cnv_bench_count(void) { return n_workloads; }
const char *cnv_bench_name(int i) { return i >= 0 && i < n_workloads ? workloads[i].name : NULL; }
const char *cnv_bench_describe(int i) { return i >= 0 && i < n_workloads ? workloads[i].description : NULL; }

int cnv_bench_find(const char *name) {
    for (int i = 0; i < n_workloads; i++)
        if (strcmp(workloads[i].name, name) == 0) return i;
    return -1;
}

/* ---- timing: one tick after every repeat of `per` steps, the first `warmup` ticks not counted ---- */

enum { WARMUP = 1 };

typedef struct step_clock {
    const cnv_backend *be;
    int repeat, ticks;
    int per, warmup; /* steps per repeat; ticks before the timed ones */
    double last_ms;
    cnv_bench_result *res;
    cnv_profile_entry *before; /* the profile when the timed steps began */
    int n_before;
    uint64_t submits, host_waits; /* the backend's counts then */
} step_clock;

static void clock_start(step_clock *c) { c->last_ms = cnv_now_ms(); }

static const cnv_profile *backend_profile(const cnv_backend *be) {
    return be->vt->profile ? be->vt->profile(be) : NULL;
}

static void snapshot_profile(step_clock *c) {
    const cnv_profile *p = backend_profile(c->be);
    if (!p || p->n == 0) return;
    c->before = malloc((size_t)p->n * sizeof *c->before);
    if (!c->before) return; /* the breakdown then covers the warm-up too; the timings stand */
    memcpy(c->before, p->entries, (size_t)p->n * sizeof *c->before);
    c->n_before = p->n;
}

static int by_ms_desc(const void *a, const void *b) {
    double d = ((const cnv_profile_entry *)b)->ms - ((const cnv_profile_entry *)a)->ms;
    return (d > 0) - (d < 0);
}

/* The kernels' time since the snapshot, most first, into the result. */
static void profile_since_snapshot(step_clock *c) {
    const cnv_profile *p = backend_profile(c->be);
    cnv_bench_result *r = c->res;
    if (!p) return;
    cnv_profile_entry *diff = malloc((size_t)(p->n ? p->n : 1) * sizeof *diff);
    if (!diff) return;
    int n = 0;
    for (int i = 0; i < p->n; i++) {
        cnv_profile_entry e = p->entries[i];
        for (int k = 0; k < c->n_before; k++)
            if (strcmp(c->before[k].name, e.name) == 0) {
                e.ms -= c->before[k].ms;
                e.calls -= c->before[k].calls;
            }
        e.ms /= c->per; /* per step: every step of a render makes the same calls */
        e.calls /= (uint64_t)c->per;
        if (e.calls > 0) diff[n++] = e;
    }
    qsort(diff, (size_t)n, sizeof *diff, by_ms_desc);
    r->n_kernels = n < CNV_BENCH_MAX_KERNELS ? n : CNV_BENCH_MAX_KERNELS;
    memcpy(r->kernels, diff, (size_t)r->n_kernels * sizeof *diff);
    for (int i = r->n_kernels; i < n; i++) r->kernel_ms_other += diff[i].ms;
    free(diff);
}

static void clock_tick(step_clock *c) {
    double now = cnv_now_ms();
    c->ticks++;
    cnv_bench_result *r = c->res;
    if (c->ticks > c->warmup && r->n < c->repeat) r->seconds[r->n++] = (now - c->last_ms) / 1000.0 / c->per;
    if (c->ticks == c->warmup) {
        snapshot_profile(c);
        c->submits = cnv_backend_submit_count(c->be);
        c->host_waits = cnv_backend_host_waits(c->be);
    }
    if (c->ticks == c->warmup + c->repeat) {
        profile_since_snapshot(c);
        const double steps = (double)c->repeat * c->per;
        r->submits_per_step = (double)(cnv_backend_submit_count(c->be) - c->submits) / steps;
        r->host_waits_per_step = (double)(cnv_backend_host_waits(c->be) - c->host_waits) / steps;
    }
    c->last_ms = cnv_now_ms(); /* the bookkeeping above is not a step's time */
}

/* 2 x multiply-adds of the convolutions among nodes 0..last (topological order: what a forward to
 * `last` runs, for these architectures) at batch `batch`. */
static double conv_forward_flops(const cnv_graph *g, int last, int batch) {
    double flops = 0;
    for (int n = 0; n <= last && n < g->n_nodes; n++) {
        const cnv_node *node = &g->nodes[n];
        if (node->op != CNV_OP_CONV) continue;
        const cnv_shape *w = &g->values[node->in[1]].shape;
        flops += 2.0 * (double)cnv_shape_numel(&g->values[node->out].shape) * w->d[1] * w->d[2] * w->d[3] * batch;
    }
    return flops;
}

/* The first conv node (the one that reads the image, in these architectures); -1 when none. */
static int first_conv(const cnv_graph *g) {
    for (int n = 0; n < g->n_nodes; n++)
        if (g->nodes[n].op == CNV_OP_CONV) return n;
    return -1;
}

static void on_render_step(void *user, int step, int steps, const double *values, int n) { clock_tick(user); }
static void on_train_batch(void *user, int epoch, int batch, int n_batches, double loss) { clock_tick(user); }

/* ---- the workloads ---- */

static cnv_status run_render(const workload *w, cnv_graph *g, cnv_backend *be, step_clock *c) {
    const cnv_preset *preset = cnv_preset_find(w->preset);
    const cnv_recipe *recipe = cnv_recipe_find(w->recipe);
    if (!preset || !recipe) return cnv_fail(CNV_ERR_INTERNAL, "%s: no preset %s or recipe %s", w->name, w->preset, w->recipe);
    int node;
    CNV_TRY(cnv_model_find_layer(g, w->layer, &node));
    cnv_objective objectives[8];
    if (w->batch > 8) return cnv_fail(CNV_ERR_INTERNAL, "%s: batch %d above 8", w->name, w->batch);
    for (int i = 0; i < w->batch; i++)
        objectives[i] = (cnv_objective){.kind = w->channel ? CNV_OBJ_CHANNEL : CNV_OBJ_UNIT, .channel = i};
    const cnv_shape *in = &g->values[g->input].shape;
    cnv_render_opts o = {
        .recipe = *recipe,
        .batch = w->batch,
        .size = {in->d[2], in->d[3]},
        .seed = BENCH_SEED,
        .objective_node = node,
        .objectives = objectives,
        .log_every = c->per,
        .progress = on_render_step,
        .user = c,
    };
    o.recipe.l2 = 0;
    /* The render reads the objective at step 1 and every per steps: step 1 is the warm-up, and
     * with per > 1 steps 2..per too, so that every timed repeat is per steps. */
    c->warmup = c->per > 1 ? 2 : WARMUP;
    o.recipe.steps = c->per > 1 ? c->per * (c->repeat + 1) : WARMUP + c->repeat;
    c->res->conv_forward_flops = conv_forward_flops(g, node, w->batch);
    c->res->conv_backward_data_flops = c->res->conv_forward_flops;
    cnv_render_result res;
    clock_start(c);
    CNV_TRY(cnv_render(g, preset, be, &o, &res));
    cnv_render_result_free(&res);
    return CNV_OK;
}

static cnv_status fill_random(cnv_exec *ex, int value, cnv_rng *rng) {
    size_t n = cnv_shape_numel(&ex->shapes[value]);
    float *x = malloc(n * sizeof *x);
    if (!x) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) x[i] = cnv_rng_normal(rng);
    cnv_status s = cnv_exec_set_input(ex, x);
    free(x);
    return s;
}

/* Runs the executor to `node` WARMUP + repeat times, waiting for the device after each. */
static cnv_status time_forward(cnv_graph *g, cnv_backend *be, int batch, int node, step_clock *c) {
    cnv_exec *ex;
    CNV_TRY(cnv_exec_create(g, be, batch, &ex));
    cnv_rng rng;
    cnv_rng_seed(&rng, BENCH_SEED);
    cnv_status s = fill_random(ex, g->input, &rng);
    clock_start(c);
    for (int k = 0; s == CNV_OK && k < WARMUP + c->repeat; k++) {
        s = cnv_exec_forward(ex, node);
        if (s == CNV_OK) s = be->vt->sync(be);
        clock_tick(c);
    }
    cnv_exec_free(ex);
    return s;
}

static cnv_status run_forward(const workload *w, cnv_graph *g, cnv_backend *be, step_clock *c) {
    int node;
    CNV_TRY(cnv_model_find_layer(g, w->layer, &node));
    c->res->conv_forward_flops = conv_forward_flops(g, node, w->batch);
    return time_forward(g, be, w->batch, node, c);
}

/* Training steps on seeded random images and labels: the arithmetic of a real data set's. */
static cnv_status run_train(const workload *w, cnv_graph *g, cnv_backend *be, step_clock *c) {
    const cnv_shape *in = &g->values[g->input].shape;
    cnv_dataset d = {.n = w->batch * (WARMUP + c->repeat), .c = in->d[1], .h = in->d[2], .w = in->d[3], .n_classes = 10};
    size_t numel = (size_t)d.n * d.c * d.h * d.w;
    d.images = malloc(numel * sizeof *d.images);
    d.labels = malloc((size_t)d.n * sizeof *d.labels);
    cnv_status s = d.images && d.labels ? CNV_OK : cnv_fail(CNV_ERR_NOMEM, "out of memory");
    cnv_rng rng;
    cnv_rng_seed(&rng, BENCH_SEED);
    for (size_t i = 0; s == CNV_OK && i < numel; i++) d.images[i] = cnv_rng_uniform(&rng);
    for (int i = 0; s == CNV_OK && i < d.n; i++) d.labels[i] = (int)cnv_rng_below(&rng, (uint32_t)d.n_classes);
    cnv_train_options opt = {.epochs = 1, .batch = w->batch, .optimizer = CNV_OPTIM_ADAM, .lr = 1e-3f, .seed = BENCH_SEED,
                             .on_batch = on_train_batch, .user = c};
    c->res->conv_forward_flops = conv_forward_flops(g, g->n_nodes - 1, w->batch);
    /* Every conv's weights get a gradient; every conv's input but the image's does. */
    c->res->conv_backward_weights_flops = c->res->conv_forward_flops;
    c->res->conv_backward_data_flops = c->res->conv_forward_flops - conv_forward_flops(g, first_conv(g), w->batch);
    clock_start(c);
    if (s == CNV_OK) s = cnv_train(g, be, &d, NULL, &opt);
    free(d.images);
    free(d.labels);
    return s;
}

/* The CPU's ceiling: OpenBLAS's own sgemm on two n x n matrices. */
static cnv_status time_sgemm(int n, step_clock *c) {
    size_t nn = (size_t)n * n;
    float *a = malloc(3 * nn * sizeof *a);
    if (!a) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    cnv_rng rng;
    cnv_rng_seed(&rng, BENCH_SEED);
    for (size_t i = 0; i < 2 * nn; i++) a[i] = cnv_rng_uniform(&rng);
    clock_start(c);
    for (int k = 0; k < WARMUP + c->repeat; k++) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, a + nn, n, 0.0f, a + 2 * nn, n);
        clock_tick(c);
    }
    free(a);
    return CNV_OK;
}

/* A device's ceiling: the Gemm op (a dense layer over a batch of n rows) through the executor. */
static cnv_status time_gemm_op(int n, cnv_backend *be, step_clock *c) {
    cnv_arch_builder b = {.g = cnv_graph_new("bench:gemm"), .status = CNV_OK};
    if (!b.g) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    cnv_rng_seed(&b.rng, BENCH_SEED);
    cnv_shape row = {2, {1, n}};
    int x = b.g->input = cnv_graph_add_value(b.g, "input", &row, NULL);
    b.g->output = cnv_ab_dense(&b, "gemm", x, n);
    cnv_status s = b.status;
    if (s == CNV_OK) s = time_forward(b.g, be, n, 0, c);
    cnv_graph_free(b.g);
    return s;
}

static cnv_status run_gemm(cnv_backend *be, step_clock *c) {
    c->res->flops = 2.0 * GEMM_N * GEMM_N * GEMM_N;
    return strcmp(cnv_backend_name(be), "cpu") == 0 ? time_sgemm(GEMM_N, c) : time_gemm_op(GEMM_N, be, c);
}

static const char *unit_of(const workload *w) {
    switch (w->kind) {
    case W_RENDER: return "step";
    case W_FORWARD: return "forward";
    case W_TRAIN: return "training step";
    case W_GEMM: return "product";
    }
    return "";
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void summarize(cnv_bench_result *r) {
    if (r->n == 0) return;
    double sorted[CNV_BENCH_MAX_REPEAT];
    memcpy(sorted, r->seconds, (size_t)r->n * sizeof *sorted);
    qsort(sorted, (size_t)r->n, sizeof *sorted, cmp_double);
    r->min = sorted[0];
    r->max = sorted[r->n - 1];
    r->median = r->n % 2 ? sorted[r->n / 2] : 0.5 * (sorted[r->n / 2 - 1] + sorted[r->n / 2]);
}

static cnv_status run_workload(const workload *w, const cnv_bench_opts *opt, cnv_bench_result *r) {
    if (opt->repeat < 1 || opt->repeat > CNV_BENCH_MAX_REPEAT)
        return cnv_fail(CNV_ERR_ARG, "--repeat must be within 1..%d (got %d)", CNV_BENCH_MAX_REPEAT, opt->repeat);
    if (opt->size != 0 && opt->size < 32) return cnv_fail(CNV_ERR_ARG, "--size must be at least 32 (got %d)", opt->size);
    if (opt->read_every < 0 || opt->read_every > CNV_BENCH_MAX_REPEAT)
        return cnv_fail(CNV_ERR_ARG, "--read-every must be within 1..%d (got %d)", CNV_BENCH_MAX_REPEAT, opt->read_every);
    cnv_vulkan_options vopt = {.profiling = opt->profile};
    cnv_backend *be = NULL;
    CNV_TRY(cnv_backend_open(opt->device, &vopt, &be));
    snprintf(r->backend, sizeof r->backend, "%s", cnv_backend_name(be));
    snprintf(r->device, sizeof r->device, "%s", cnv_backend_device(be));
    const int per = w->kind == W_RENDER && opt->read_every > 1 ? opt->read_every : 1;
    r->read_every = per;
    step_clock c = {.be = be, .repeat = opt->repeat, .res = r, .per = per, .warmup = WARMUP};
    cnv_graph *g = NULL;
    cnv_status s = CNV_OK;
    if (w->arch) {
        r->size = w->size && opt->size ? opt->size : w->size;
        s = cnv_arch_build_sized(w->arch, BENCH_SEED, r->size, &g);
    }
    if (s == CNV_OK) {
        switch (w->kind) {
        case W_RENDER: s = run_render(w, g, be, &c); break;
        case W_FORWARD: s = run_forward(w, g, be, &c); break;
        case W_TRAIN: s = run_train(w, g, be, &c); break;
        case W_GEMM: s = run_gemm(be, &c); break;
        }
    }
    if (s == CNV_OK && r->n != opt->repeat)
        s = cnv_fail(CNV_ERR_INTERNAL, "%s: %d of %d repeats were timed", w->name, r->n, opt->repeat);
    free(c.before);
    cnv_model_free(g);
    cnv_backend_free(be);
    return s;
}

cnv_status cnv_bench_run(int i, const cnv_bench_opts *opt, cnv_bench_result *res) {
    memset(res, 0, sizeof *res);
    res->peak_rss_kb = -1;
    if (i < 0 || i >= n_workloads) return res->status = cnv_fail(CNV_ERR_NOT_FOUND, "no workload %d", i);
    const workload *w = &workloads[i];
    snprintf(res->workload, sizeof res->workload, "%s", w->name);
    snprintf(res->unit, sizeof res->unit, "%s", unit_of(w));
    res->batch = w->batch;
    res->status = run_workload(w, opt, res);
    if (res->status != CNV_OK) snprintf(res->error, sizeof res->error, "%s", cnv_last_error());
    summarize(res);
    return res->status;
}

/* ---- isolation: one child process per workload ---- */

static int write_all(int fd, const void *buf, size_t n) {
    const char *p = buf;
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static size_t read_all(int fd, void *buf, size_t n) {
    char *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, p + got, n - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
    }
    return got;
}

/* ru_maxrss is in kilobytes on Linux and the BSDs, in bytes on macOS. */
static long maxrss_kb(const struct rusage *ru) {
#ifdef __APPLE__
    return (long)(ru->ru_maxrss / 1024);
#else
    return (long)ru->ru_maxrss;
#endif
}

cnv_status cnv_bench_run_isolated(int i, const cnv_bench_opts *opt, cnv_bench_result *res) {
    memset(res, 0, sizeof *res);
    res->peak_rss_kb = -1;
    int fds[2];
    if (pipe(fds) != 0) return res->status = cnv_fail(CNV_ERR_INTERNAL, "pipe: %s", strerror(errno));
    fflush(NULL); /* the child must not write the parent's buffered output again */
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return res->status = cnv_fail(CNV_ERR_INTERNAL, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        cnv_bench_result *mine = malloc(sizeof *mine);
        int ok = mine != NULL;
        if (ok) cnv_bench_run(i, opt, mine);
        ok = ok && write_all(fds[1], mine, sizeof *mine) == 0;
        _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    size_t got = read_all(fds[0], res, sizeof *res);
    close(fds[0]);
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
    }
    const char *name = cnv_bench_name(i) ? cnv_bench_name(i) : "?";
    if (got != sizeof *res || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        memset(res, 0, sizeof *res);
        snprintf(res->workload, sizeof res->workload, "%s", name);
        if (WIFSIGNALED(status))
            res->status = cnv_fail(CNV_ERR_INTERNAL, "workload %s: its process died of signal %d", name, WTERMSIG(status));
        else
            res->status = cnv_fail(CNV_ERR_INTERNAL, "workload %s: its process ended without a result", name);
        snprintf(res->error, sizeof res->error, "%s", cnv_last_error());
        res->peak_rss_kb = maxrss_kb(&ru);
        return res->status;
    }
    res->peak_rss_kb = maxrss_kb(&ru);
    if (res->status != CNV_OK) cnv_fail(res->status, "%s", res->error);
    return res->status;
}
