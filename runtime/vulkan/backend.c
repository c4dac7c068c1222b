/* The Vulkan backend: cnv_backend_vtable over the runtime in context/memory/pipeline/command. */
#include "vk_backend.h"

#include "core/log.h"
#include "core/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Dispatches one immediate command buffer holds before it is submitted to make room. */
#define IMMEDIATE_CAPACITY 1024
/* Dispatches a recorded program may hold (a SqueezeNet forward + backward needs about 300). */
#define PROGRAM_CAPACITY 8192
/* Buffers of at most this many floats live in host-visible memory (see vk_buf_alloc). */
#define SMALL_BUFFER_FLOATS 64

typedef struct scratch_entry {
    cnv_vk_buffer *buf;
    struct scratch_entry *next;
} scratch_entry;

typedef struct kernel_entry {
    char key[256];
    cnv_vk_pipeline *pipe;
    struct kernel_entry *next;
} kernel_entry;

/* The pipeline of every dispatch of a recording, in order, to book GPU timestamps to kernels. */
typedef struct dispatch_log {
    const cnv_vk_pipeline **pipes;
    size_t n, cap;
} dispatch_log;

/* Recorded programs run without the host waiting for them: a run is waited for only when the
 * host next touches a buffer it binds (a write, a read, a free), at sync, or when this many are
 * already in flight. */
#define IN_FLIGHT_MAX 4

struct cnv_program {
    cnv_vk_recorder *rec;
    dispatch_log log;
    cnv_buf **snapshots; /* data of writes recorded into the program */
    size_t n_snapshots, cap_snapshots;
};

struct cnv_vk_backend {
    cnv_backend base;
    cnv_vk_context *ctx;
    cnv_vk_recorder *immediate;
    int immediate_open;     /* immediate holds recorded, unsubmitted dispatches */
    cnv_program *recording; /* non-NULL between program_begin and program_end */
    kernel_entry *kernels;
    cnv_vk_buffer *placeholder;
    scratch_entry *scratch; /* cnv_vkb_scratch's, largest first */
    dispatch_log immediate_log; /* with profiling on */
    char device_name[1024];
    cnv_profile profile;
    /* Programs submitted and not yet waited for, oldest first (vk_program_run). */
    cnv_program *in_flight[IN_FLIGHT_MAX];
    int n_in_flight;
};

static void log_dispatch(dispatch_log *log, const cnv_vk_pipeline *pipe) {
    if (log->n == log->cap) {
        size_t cap = log->cap ? 2 * log->cap : 256;
        const cnv_vk_pipeline **grown = realloc(log->pipes, cap * sizeof *grown);
        if (!grown) return; /* profiling never fails a run: later timings are just not booked */
        log->pipes = grown;
        log->cap = cap;
    }
    log->pipes[log->n++] = pipe;
}

/* After a submit of rec: adds each dispatch's GPU time to its kernel. */
static void book_timings(cnv_vk_backend *vb, cnv_vk_recorder *rec, const dispatch_log *log) {
    if (!vb->ctx->profiling || log->n == 0) return;
    double *ms = malloc(log->n * sizeof *ms);
    uint32_t got = 0;
    if (ms && cnv_vk_recorder_timings(rec, ms, (uint32_t)log->n, &got) == CNV_OK)
        for (uint32_t i = 0; i < got; i++) cnv_profile_add(&vb->profile, log->pipes[i]->name, ms[i]);
    free(ms);
}

const cnv_vk_caps *cnv_vkb_caps(const cnv_vk_backend *vb) { return &vb->ctx->caps; }

uint32_t cnv_vkb_local_1d(const cnv_vk_backend *vb) {
    const cnv_vk_caps *c = &vb->ctx->caps;
    uint32_t n = c->workarounds.preferred_workgroup_size ? c->workarounds.preferred_workgroup_size : 256;
    if (n > c->max_workgroup_invocations) n = c->max_workgroup_invocations;
    if (n > c->max_workgroup_size[0]) n = c->max_workgroup_size[0];
    return n;
}

/* Everything a pipeline is made from, the written bindings included: a kernel that writes a
 * binding only in some calls (conv2d_fwd's fused Relu) gets a pipeline for each, so the barriers
 * follow the buffers it really writes. */
static void kernel_key(const cnv_vk_kernel_desc *d, char *key, size_t cap) {
    int pos = snprintf(key, cap, "%s/%u/%u/%u/w%x/t%x", d->shader, d->local_size[0], d->local_size[1],
                       d->local_size[2], d->written, d->texel);
    for (uint32_t i = 0; i < d->spec_count && pos > 0 && (size_t)pos < cap; i++)
        pos += snprintf(key + pos, cap - (size_t)pos, ":%08x", d->spec[i]);
}

cnv_status cnv_vkb_kernel(cnv_vk_backend *vb, const cnv_vk_kernel_desc *desc, const cnv_vk_pipeline **out) {
    char key[256];
    kernel_key(desc, key, sizeof key);
    for (kernel_entry *e = vb->kernels; e; e = e->next)
        if (strcmp(e->key, key) == 0) {
            *out = e->pipe;
            return CNV_OK;
        }
    kernel_entry *e = calloc(1, sizeof *e);
    if (!e) return cnv_fail(CNV_ERR_NOMEM, "vulkan: out of memory");
    cnv_status s = cnv_vk_pipeline_create(vb->ctx, desc, &e->pipe);
    if (s != CNV_OK) {
        free(e);
        return s;
    }
    snprintf(e->key, sizeof e->key, "%s", key);
    e->next = vb->kernels;
    vb->kernels = e;
    *out = e->pipe;
    return CNV_OK;
}

static cnv_status flush_immediate(cnv_vk_backend *vb) {
    if (!vb->immediate_open) return CNV_OK;
    vb->immediate_open = 0;
    CNV_TRY(cnv_vk_recorder_end(vb->immediate));
    CNV_TRY(cnv_vk_recorder_submit(vb->immediate));
    book_timings(vb, vb->immediate, &vb->immediate_log);
    vb->immediate_log.n = 0;
    return CNV_OK;
}

static cnv_vk_recorder *active_recorder(cnv_vk_backend *vb) {
    return vb->recording ? vb->recording->rec : vb->immediate;
}

cnv_status cnv_vkb_dispatch(cnv_vk_backend *vb, const cnv_vk_pipeline *pipe, cnv_buf *const *bufs, const void *push,
                            const uint32_t groups[3]) {
    cnv_vk_binding bind[CNV_VK_MAX_BINDINGS];
    for (uint32_t i = 0; i < pipe->bindings; i++) {
        const cnv_vk_buffer *b = cnv_vkb_buffer_of(vb, bufs[i]);
        if (!(pipe->texel >> i & 1) && b->size > vb->ctx->caps.max_storage_buffer_range)
            return cnv_fail(CNV_ERR_UNSUPPORTED,
                            "vulkan: kernel %s: a tensor of %llu bytes exceeds this device's storage buffer range "
                            "(%llu bytes)",
                            pipe->name, (unsigned long long)b->size,
                            (unsigned long long)vb->ctx->caps.max_storage_buffer_range);
        bind[i] = (cnv_vk_binding){b, 0, 0};
    }
    return cnv_vkb_dispatch_ranges(vb, pipe, bind, push, groups);
}

const cnv_vk_buffer *cnv_vkb_buffer_of(const cnv_vk_backend *vb, const cnv_buf *b) {
    return b ? b->vb : vb->placeholder;
}

cnv_status cnv_vkb_scratch(cnv_vk_backend *vb, VkDeviceSize bytes, const cnv_vk_buffer **out) {
    if (vb->scratch && vb->scratch->buf->size >= bytes) {
        *out = vb->scratch->buf;
        return CNV_OK;
    }
    scratch_entry *e = calloc(1, sizeof *e);
    if (!e) return cnv_fail(CNV_ERR_NOMEM, "vulkan: out of memory");
    cnv_status s = cnv_vk_buffer_create(vb->ctx, bytes, CNV_VK_MEM_DEVICE, &e->buf);
    if (s != CNV_OK) {
        free(e);
        return s;
    }
    e->next = vb->scratch;
    vb->scratch = e;
    *out = e->buf;
    return CNV_OK;
}

cnv_status cnv_vkb_dispatch_ranges(cnv_vk_backend *vb, const cnv_vk_pipeline *pipe, const cnv_vk_binding *bind,
                                   const void *push, const uint32_t groups[3]) {
    for (int d = 0; d < 3; d++)
        if (groups[d] > vb->ctx->caps.max_workgroup_count[d])
            return cnv_fail(CNV_ERR_UNSUPPORTED, "vulkan: kernel %s: %u workgroups exceed the device's limit %u",
                            pipe->name, groups[d], vb->ctx->caps.max_workgroup_count[d]);
    if (groups[0] == 0 || groups[1] == 0 || groups[2] == 0) return CNV_OK;
    if (!vb->recording) {
        if (vb->immediate_open && cnv_vk_recorder_dispatches(vb->immediate) >= IMMEDIATE_CAPACITY)
            CNV_TRY(flush_immediate(vb));
        if (!vb->immediate_open) {
            CNV_TRY(cnv_vk_recorder_begin(vb->immediate));
            vb->immediate_open = 1;
        }
    }
    CNV_TRY(cnv_vk_recorder_dispatch(active_recorder(vb), pipe, bind, push, groups));
    if (vb->ctx->profiling) log_dispatch(vb->recording ? &vb->recording->log : &vb->immediate_log, pipe);
    return CNV_OK;
}

cnv_status cnv_vkb_dispatch_1d(cnv_vk_backend *vb, const cnv_vk_pipeline *pipe, cnv_buf *const *bufs,
                               const void *push, size_t n) {
    size_t local = pipe->local_size[0] ? pipe->local_size[0] : 1;
    size_t total = (n + local - 1) / local;
    size_t max_x = vb->ctx->caps.max_workgroup_count[0];
    uint32_t groups[3] = {(uint32_t)(total < max_x ? total : max_x), 1, 1};
    if (total > max_x) groups[1] = (uint32_t)((total + max_x - 1) / max_x);
    return cnv_vkb_dispatch(vb, pipe, bufs, push, groups);
}

static cnv_status kernel_1d(cnv_vk_backend *vb, const char *shader, uint32_t bindings, uint32_t written,
                            uint32_t push_size, const cnv_vk_pipeline **out) {
    cnv_vk_kernel_desc d = {.shader = shader, .bindings = bindings, .written = written, .push_size = push_size,
                            .local_size = {cnv_vkb_local_1d(vb), 1, 1}};
    return cnv_vkb_kernel(vb, &d, out);
}

cnv_status cnv_vkb_fill(cnv_vk_backend *vb, cnv_buf *b, float value, size_t n) {
    const cnv_vk_pipeline *p;
    CNV_TRY(kernel_1d(vb, "fill", 1, 0x1, 8, &p));
    struct {
        uint32_t n;
        float value;
    } push = {(uint32_t)n, value};
    return cnv_vkb_dispatch_1d(vb, p, &b, &push, n);
}

/* ---- vtable ---- */

static cnv_vk_backend *as_vk(cnv_backend *be) { return (cnv_vk_backend *)be; }

static cnv_status vk_buf_alloc(cnv_backend *be, size_t n, cnv_buf **out) {
    cnv_buf *b = calloc(1, sizeof *b);
    if (!b) return cnv_fail(CNV_ERR_NOMEM, "vulkan: out of memory");
    /* Small buffers hold per-step parameters the host rewrites between runs of a program: in
     * host-visible memory that costs no copy and no submit on any device. */
    cnv_vk_mem_kind kind = n <= SMALL_BUFFER_FLOATS ? CNV_VK_MEM_HOST : CNV_VK_MEM_DEVICE;
    cnv_status s = cnv_vk_buffer_create(as_vk(be)->ctx, (VkDeviceSize)(n ? n : 1) * sizeof(float), kind, &b->vb);
    if (s != CNV_OK) {
        free(b);
        return s;
    }
    b->n = n;
    *out = b;
    return CNV_OK;
}

/* Waits for the programs in flight that bind b (every one when b is NULL) and drops them from
 * the list. */
static cnv_status settle(cnv_vk_backend *vb, const cnv_buf *b) {
    cnv_status s = CNV_OK;
    int kept = 0;
    for (int i = 0; i < vb->n_in_flight; i++) {
        cnv_program *p = vb->in_flight[i];
        if (!b || cnv_vk_recorder_uses(p->rec, b->vb)) {
            cnv_status w = cnv_vk_recorder_wait(p->rec);
            if (s == CNV_OK) s = w;
        }
        if (cnv_vk_recorder_running(p->rec)) vb->in_flight[kept++] = p;
    }
    vb->n_in_flight = kept;
    return s;
}

static void vk_buf_free(cnv_backend *be, cnv_buf *b) {
    if (!b) return;
    settle(as_vk(be), b); /* a lost device has nothing left to wait for */
    cnv_vk_buffer_free(as_vk(be)->ctx, b->vb);
    free(b);
}

static cnv_status check_range(const cnv_buf *b, size_t offset, size_t n) {
    if (offset > b->n || n > b->n - offset)
        return cnv_fail(CNV_ERR_INTERNAL, "vulkan: buffer access [%zu, +%zu) outside %zu floats", offset, n, b->n);
    return CNV_OK;
}

/* Inside a program a write becomes a copy from a snapshot of the data taken now. */
static cnv_status record_write(cnv_vk_backend *vb, cnv_buf *b, size_t offset, const float *src, size_t n) {
    cnv_program *p = vb->recording;
    if (p->n_snapshots == p->cap_snapshots) {
        size_t cap = p->cap_snapshots ? 2 * p->cap_snapshots : 16;
        cnv_buf **grown = realloc(p->snapshots, cap * sizeof *grown);
        if (!grown) return cnv_fail(CNV_ERR_NOMEM, "vulkan: out of memory recording a program");
        p->snapshots = grown;
        p->cap_snapshots = cap;
    }
    cnv_buf *snap = NULL;
    CNV_TRY(vk_buf_alloc(&vb->base, n, &snap));
    p->snapshots[p->n_snapshots++] = snap;
    CNV_TRY(cnv_vk_buffer_write(vb->ctx, snap->vb, 0, src, n * sizeof(float)));
    const cnv_vk_pipeline *pipe;
    CNV_TRY(kernel_1d(vb, "copy", 2, 0x2, 12, &pipe));
    struct {
        uint32_t n, src_offset, dst_offset;
    } push = {(uint32_t)n, 0, (uint32_t)offset};
    cnv_buf *bufs[2] = {snap, b};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, n);
}

static cnv_status vk_buf_write(cnv_backend *be, cnv_buf *b, size_t offset, const float *src, size_t n) {
    cnv_vk_backend *vb = as_vk(be);
    CNV_TRY(check_range(b, offset, n));
    if (vb->recording) return record_write(vb, b, offset, src, n);
    /* Earlier recorded work may still read or write these bytes: run it first. */
    CNV_TRY(flush_immediate(vb));
    CNV_TRY(settle(vb, b));
    return cnv_vk_buffer_write(vb->ctx, b->vb, offset * sizeof(float), src, n * sizeof(float));
}

static cnv_status vk_buf_read(cnv_backend *be, cnv_buf *b, size_t offset, float *dst, size_t n) {
    cnv_vk_backend *vb = as_vk(be);
    CNV_TRY(check_range(b, offset, n));
    if (vb->recording) return cnv_fail(CNV_ERR_INTERNAL, "vulkan: buffer read while recording a program");
    CNV_TRY(flush_immediate(vb));
    CNV_TRY(settle(vb, b));
    return cnv_vk_buffer_read(vb->ctx, b->vb, offset * sizeof(float), dst, n * sizeof(float));
}

static cnv_status vk_buf_fill(cnv_backend *be, cnv_buf *b, float value, size_t n) {
    CNV_TRY(check_range(b, 0, n));
    return cnv_vkb_fill(as_vk(be), b, value, n);
}

static cnv_status op_for(const cnv_op_io *io, const cnv_vk_op **op) {
    *op = cnv_vk_op_get(io->node->op);
    if (!*op)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "vulkan: node '%s': op %s has no Vulkan kernel", io->node->name,
                        cnv_op_name(io->node->op));
    return CNV_OK;
}

static cnv_status vk_forward(cnv_backend *be, const cnv_op_io *io) {
    const cnv_vk_op *op;
    CNV_TRY(op_for(io, &op));
    return op->forward(as_vk(be), io);
}

static cnv_status vk_backward(cnv_backend *be, const cnv_op_io *io) {
    const cnv_vk_op *op;
    CNV_TRY(op_for(io, &op));
    /* Kernels that only add onto their gradients get one that holds none yet zeroed. */
    for (int i = 0; !op->assigns && i < io->n_in; i++)
        if (io->grad_in[i] && (io->grad_assign >> i & 1))
            CNV_TRY(cnv_vkb_fill(as_vk(be), io->grad_in[i], 0.0f, cnv_shape_numel(&io->in_shape[i])));
    return op->backward(as_vk(be), io);
}

static cnv_status vk_optim_step(cnv_backend *be, const cnv_optim_io *io) { return cnv_vk_optim_step(as_vk(be), io); }

static cnv_status vk_sync(cnv_backend *be) {
    cnv_vk_backend *vb = as_vk(be);
    if (vb->recording) return CNV_OK;
    CNV_TRY(flush_immediate(vb));
    return settle(vb, NULL);
}

static void vk_program_free(cnv_backend *be, cnv_program *p) {
    if (!p) return;
    cnv_vk_backend *vb = as_vk(be);
    int kept = 0;
    for (int i = 0; i < vb->n_in_flight; i++)
        if (vb->in_flight[i] != p) vb->in_flight[kept++] = vb->in_flight[i];
    vb->n_in_flight = kept; /* freeing the recorder waits for its run */
    for (size_t i = 0; i < p->n_snapshots; i++) vk_buf_free(be, p->snapshots[i]);
    free(p->snapshots);
    free(p->log.pipes);
    cnv_vk_recorder_free(p->rec);
    free(p);
}

static cnv_status vk_program_begin(cnv_backend *be) {
    cnv_vk_backend *vb = as_vk(be);
    if (vb->recording) return cnv_fail(CNV_ERR_INTERNAL, "vulkan: a program is already being recorded");
    CNV_TRY(flush_immediate(vb));
    cnv_program *p = calloc(1, sizeof *p);
    if (!p) return cnv_fail(CNV_ERR_NOMEM, "vulkan: out of memory");
    cnv_status s = cnv_vk_recorder_create(vb->ctx, PROGRAM_CAPACITY, &p->rec);
    if (s == CNV_OK) s = cnv_vk_recorder_begin(p->rec);
    if (s != CNV_OK) {
        vk_program_free(be, p);
        return s;
    }
    vb->recording = p;
    return CNV_OK;
}

static cnv_status vk_program_end(cnv_backend *be, cnv_program **out) {
    cnv_vk_backend *vb = as_vk(be);
    cnv_program *p = vb->recording;
    if (!p) return cnv_fail(CNV_ERR_INTERNAL, "vulkan: no program is being recorded");
    vb->recording = NULL;
    cnv_status s = cnv_vk_recorder_end(p->rec);
    if (s != CNV_OK) {
        vk_program_free(be, p);
        return s;
    }
    *out = p;
    return CNV_OK;
}

/* One submit, not waited for (with profiling on it is: the timings are read back at once). */
static cnv_status vk_program_run(cnv_backend *be, cnv_program *p) {
    cnv_vk_backend *vb = as_vk(be);
    CNV_TRY(flush_immediate(vb));
    if (vb->ctx->profiling) {
        CNV_TRY(cnv_vk_recorder_submit(p->rec));
        book_timings(vb, p->rec, &p->log);
        return CNV_OK;
    }
    int listed = 0;
    for (int i = 0; i < vb->n_in_flight; i++) listed |= vb->in_flight[i] == p;
    if (!listed && vb->n_in_flight == IN_FLIGHT_MAX) { /* the oldest run goes */
        CNV_TRY(cnv_vk_recorder_wait(vb->in_flight[0]->rec));
        memmove(vb->in_flight, vb->in_flight + 1, (IN_FLIGHT_MAX - 1) * sizeof *vb->in_flight);
        vb->n_in_flight--;
    }
    CNV_TRY(cnv_vk_recorder_submit_async(p->rec)); /* waits for p's own previous run */
    if (!listed) vb->in_flight[vb->n_in_flight++] = p;
    return CNV_OK;
}

static void vk_stats(const cnv_backend *be, uint64_t *submits, uint64_t *host_waits, unsigned *messages) {
    const cnv_vk_backend *vb = (const cnv_vk_backend *)be;
    *submits = vb->ctx->submits;
    *host_waits = vb->ctx->host_waits;
    *messages = cnv_vk_validation_messages(vb->ctx);
}

static const char *vk_device_name(const cnv_backend *be) { return ((const cnv_vk_backend *)be)->device_name; }

static const cnv_profile *vk_profile(const cnv_backend *be) {
    const cnv_vk_backend *vb = (const cnv_vk_backend *)be;
    return vb->ctx->profiling ? &vb->profile : NULL;
}

static void vk_destroy(cnv_backend *be) {
    cnv_vk_backend *vb = as_vk(be);
    if (vb->ctx) flush_immediate(vb);
    if (vb->ctx) settle(vb, NULL);
    free(vb->immediate_log.pipes);
    cnv_profile_free(&vb->profile);
    vk_program_free(be, vb->recording);
    for (kernel_entry *e = vb->kernels, *next; e; e = next) {
        next = e->next;
        cnv_vk_pipeline_free(vb->ctx, e->pipe);
        free(e);
    }
    cnv_vk_recorder_free(vb->immediate);
    if (vb->placeholder) cnv_vk_buffer_free(vb->ctx, vb->placeholder);
    for (scratch_entry *e = vb->scratch, *next; e; e = next) {
        next = e->next;
        cnv_vk_buffer_free(vb->ctx, e->buf);
        free(e);
    }
    cnv_vk_context_free(vb->ctx);
    free(vb);
}

static const cnv_backend_vtable vk_vtable = {
    .name = "vulkan",
    .buf_alloc = vk_buf_alloc,
    .buf_free = vk_buf_free,
    .buf_write = vk_buf_write,
    .buf_read = vk_buf_read,
    .buf_fill = vk_buf_fill,
    .forward = vk_forward,
    .backward = vk_backward,
    .optim_step = vk_optim_step,
    .sync = vk_sync,
    .program_begin = vk_program_begin,
    .program_end = vk_program_end,
    .program_run = vk_program_run,
    .program_free = vk_program_free,
    .stats = vk_stats,
    .device_name = vk_device_name,
    .profile = vk_profile,
    .destroy = vk_destroy,
};

cnv_status cnv_backend_vulkan_create(const cnv_vulkan_options *opt, cnv_backend **out) {
    static const cnv_vulkan_options defaults = {0};
    if (!opt) opt = &defaults;
    cnv_vk_backend *vb = calloc(1, sizeof *vb);
    if (!vb) return cnv_fail(CNV_ERR_NOMEM, "vulkan: out of memory");
    vb->base.vt = &vk_vtable;
    cnv_vk_options vo = {
        .device = opt->device,
        .validation = opt->validation,
        .profiling = opt->profiling,
        .forced_limits = opt->forced_limits,
    };
    cnv_status s = cnv_vk_context_create(&vo, &vb->ctx);
    if (s == CNV_OK) s = cnv_vk_recorder_create(vb->ctx, IMMEDIATE_CAPACITY, &vb->immediate);
    if (s == CNV_OK) s = cnv_vk_buffer_create(vb->ctx, 16, CNV_VK_MEM_DEVICE, &vb->placeholder);
    if (s == CNV_OK) {
        const cnv_vk_caps *c = &vb->ctx->caps;
        snprintf(vb->device_name, sizeof vb->device_name, "%s, driver %s %s", c->device_name,
                 c->driver_name[0] ? c->driver_name : "unknown", c->driver_info);
    }
    if (s != CNV_OK) {
        vk_destroy(&vb->base);
        return s;
    }
    *out = &vb->base;
    return CNV_OK;
}
