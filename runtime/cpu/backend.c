/* The CPU backend: buffers are host arrays; ops run at once, one file per op. */
#include "cpu_ops.h"

#include "core/backend.h"
#include "core/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* data is the buffer's own array, or (borrowed) the caller's memory of buf_wrap, read in place
 * until the first write gives the buffer an array of its own (copy on write). */
struct cnv_buf {
    float *data;
    size_t n;
    int borrowed;
    cnv_cpu_derived derived; /* kept only while borrowed: the backend never wrote the data */
};

/* A recorded program: the calls made between program_begin and program_end, replayed in
 * order. Writes keep a copy of their data. */
typedef enum { REC_FILL, REC_WRITE, REC_FORWARD, REC_BACKWARD, REC_OPTIM } rec_kind;

typedef struct rec_entry {
    rec_kind kind;
    cnv_buf *buf;
    size_t offset, n;
    float value;
    float *data;
    cnv_op_io io;
    cnv_optim_io optim;
} rec_entry;

struct cnv_program {
    rec_entry *entries;
    size_t n, cap;
};

typedef struct cpu_backend {
    cnv_backend base;
    cnv_program *recording; /* non-NULL between program_begin and program_end */
    cnv_profile profile;
    /* The ops' scratch (im2col columns...), one block as large as the largest call needs. It is
     * grown while a program is recorded, so replaying one never allocates. */
    float *work;
    size_t work_n;
    int exact; /* cnv_backend_cpu_create_reference */
} cpu_backend;

/* Runs one kernel and books its time under "<Op> <direction>". */
static cnv_status timed(cnv_backend *be, cnv_cpu_fn fn, const cnv_cpu_args *a, const char *direction) {
    double t0 = cnv_now_ms();
    const unsigned mode = cnv_cpu_flush_begin();
    cnv_status s = fn(a);
    cnv_cpu_flush_end(mode);
    char name[64];
    snprintf(name, sizeof name, "%s %s", cnv_op_name(a->node->op), direction);
    cnv_profile_add(&((cpu_backend *)be)->profile, name, cnv_now_ms() - t0);
    return s;
}

static cnv_program *recording(cnv_backend *be) { return ((cpu_backend *)be)->recording; }

static cnv_status record(cnv_backend *be, const rec_entry *e) {
    cnv_program *p = recording(be);
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        rec_entry *grown = realloc(p->entries, cap * sizeof *grown);
        if (!grown) return cnv_fail(CNV_ERR_NOMEM, "cpu: out of memory recording a program");
        p->entries = grown;
        p->cap = cap;
    }
    p->entries[p->n++] = *e;
    return CNV_OK;
}

/* The elementwise ops (a CNV_UNARY_* or CNV_BINARY_* number in their descriptor) all share one
 * kernel of each kind; every other op has its entry here. */
static const cnv_cpu_op unary_op = {cnv_cpu_unary_forward, cnv_cpu_unary_backward, NULL, NULL, .assigns = 1};
static const cnv_cpu_op binary_op = {cnv_cpu_binary_forward, cnv_cpu_binary_backward, NULL, NULL, .assigns = 1};

static const cnv_cpu_op op_table[CNV_OP_COUNT] = {
    [CNV_OP_CONV] = {cnv_cpu_conv_forward, cnv_cpu_conv_backward, cnv_cpu_conv_workspace, cnv_cpu_conv_derived, .assigns = 1},
    [CNV_OP_MAXPOOL] = {cnv_cpu_maxpool_forward, cnv_cpu_maxpool_backward, .assigns = 1},
    [CNV_OP_AVGPOOL] = {cnv_cpu_avgpool_forward, cnv_cpu_avgpool_backward},
    [CNV_OP_GLOBALAVGPOOL] = {cnv_cpu_globalavgpool_forward, cnv_cpu_globalavgpool_backward, .assigns = 1},
    [CNV_OP_GEMM] = {cnv_cpu_gemm_forward, cnv_cpu_gemm_backward},
    [CNV_OP_MATMUL] = {cnv_cpu_gemm_forward, cnv_cpu_gemm_backward},
    [CNV_OP_CONCAT] = {cnv_cpu_concat_forward, cnv_cpu_concat_backward, .assigns = 1},
    [CNV_OP_FLATTEN] = {cnv_cpu_copy_forward, cnv_cpu_copy_backward, .assigns = 1},
    [CNV_OP_RESHAPE] = {cnv_cpu_copy_forward, cnv_cpu_copy_backward, .assigns = 1},
    [CNV_OP_DROPOUT] = {cnv_cpu_copy_forward, cnv_cpu_copy_backward, .assigns = 1},
    [CNV_OP_PAD] = {cnv_cpu_pad_forward, cnv_cpu_pad_backward},
    [CNV_OP_LRN] = {cnv_cpu_lrn_forward, cnv_cpu_lrn_backward},
    [CNV_OP_SOFTMAX] = {cnv_cpu_softmax_forward, cnv_cpu_softmax_backward},
    [CNV_OP_BATCHNORM] = {cnv_cpu_batchnorm_forward, cnv_cpu_batchnorm_backward},
    [CNV_OP_TRANSPOSE] = {cnv_cpu_transpose_forward, cnv_cpu_transpose_backward},
    [CNV_OP_REDUCEMEAN] = {cnv_cpu_reduce_forward, cnv_cpu_reduce_backward},
    [CNV_OP_REDUCESUM] = {cnv_cpu_reduce_forward, cnv_cpu_reduce_backward},
    [CNV_OP_REDUCEMAX] = {cnv_cpu_reduce_forward, cnv_cpu_reduce_backward},
    [CNV_OP_SLICE] = {cnv_cpu_slice_forward, cnv_cpu_slice_backward},
    [CNV_OP_FOURIER] = {cnv_cpu_fourier_forward, cnv_cpu_fourier_backward, cnv_cpu_fourier_workspace, .assigns = 1},
    [CNV_OP_BLUR] = {cnv_cpu_blur_forward, cnv_cpu_blur_backward},
    [CNV_OP_RESAMPLE] = {cnv_cpu_resample_forward, cnv_cpu_resample_backward},
    [CNV_OP_RESIZE] = {cnv_cpu_resize_forward, cnv_cpu_resize_backward},
    [CNV_OP_CONVTRANSPOSE] = {cnv_cpu_convtranspose_forward, cnv_cpu_convtranspose_backward},
    [CNV_OP_REGULARIZE] = {cnv_cpu_regularize_forward, cnv_cpu_regularize_backward},
    [CNV_OP_GRADNORM] = {cnv_cpu_gradnorm_forward, cnv_cpu_gradnorm_backward},
    [CNV_OP_GRAM] = {cnv_cpu_gram_forward, cnv_cpu_gram_backward},
    [CNV_OP_SQDIST] = {cnv_cpu_sqdist_forward, cnv_cpu_sqdist_backward},
};

const cnv_cpu_op *cnv_cpu_op_get(cnv_op_type op) {
    if (cnv_op_unary_number(op) >= 0) return &unary_op;
    if (cnv_op_binary_number(op) >= 0) return &binary_op;
    if ((int)op < 0 || op >= CNV_OP_COUNT || !op_table[op].forward) return NULL;
    return &op_table[op];
}

static cnv_status cpu_buf_alloc(cnv_backend *be, size_t n, cnv_buf **out) {
    cnv_buf *b = malloc(sizeof *b);
    /* At least one element so empty tensors still have a valid pointer. */
    float *data = calloc(n ? n : 1, sizeof(float));
    if (!b || !data) {
        free(b);
        free(data);
        return cnv_fail(CNV_ERR_NOMEM, "cpu: out of memory allocating %zu floats", n);
    }
    *b = (cnv_buf){.data = data, .n = n, .borrowed = 0};
    *out = b;
    return CNV_OK;
}

static cnv_status cpu_buf_wrap(cnv_backend *be, const float *host, size_t n, cnv_buf **out) {
    cnv_buf *b = malloc(sizeof *b);
    if (!b) return cnv_fail(CNV_ERR_NOMEM, "cpu: out of memory");
    *b = (cnv_buf){.data = (float *)host, .n = n, .borrowed = 1}; /* never written through: see own() */
    *out = b;
    return CNV_OK;
}

static void drop_derived(cnv_buf *b) {
    free(b->derived.data);
    b->derived = (cnv_cpu_derived){0};
}

/* Before a write: a borrowed buffer takes a copy of its data (and its derived form, which the
 * write makes stale, goes). Done when a write is recorded too, so that replaying a program never
 * allocates. */
static cnv_status own(cnv_buf *b) {
    if (!b->borrowed) return CNV_OK;
    float *data = malloc((b->n ? b->n : 1) * sizeof(float));
    if (!data) return cnv_fail(CNV_ERR_NOMEM, "cpu: out of memory allocating %zu floats", b->n);
    memcpy(data, b->data, b->n * sizeof(float));
    b->data = data;
    b->borrowed = 0;
    drop_derived(b);
    return CNV_OK;
}

static void cpu_buf_free(cnv_backend *be, cnv_buf *b) {
    if (!b) return;
    if (!b->borrowed) free(b->data);
    drop_derived(b);
    free(b);
}

static cnv_status check_range(const cnv_buf *b, size_t offset, size_t n) {
    if (offset > b->n || n > b->n - offset)
        return cnv_fail(CNV_ERR_INTERNAL, "cpu: buffer access [%zu, +%zu) outside %zu floats", offset, n, b->n);
    return CNV_OK;
}

static cnv_status cpu_buf_write(cnv_backend *be, cnv_buf *b, size_t offset, const float *src, size_t n) {
    CNV_TRY(check_range(b, offset, n));
    CNV_TRY(own(b));
    if (recording(be)) {
        rec_entry e = {.kind = REC_WRITE, .buf = b, .offset = offset, .n = n, .data = malloc((n ? n : 1) * sizeof(float))};
        if (!e.data) return cnv_fail(CNV_ERR_NOMEM, "cpu: out of memory recording a program");
        memcpy(e.data, src, n * sizeof(float));
        cnv_status s = record(be, &e);
        if (s != CNV_OK) free(e.data);
        return s;
    }
    memcpy(b->data + offset, src, n * sizeof(float));
    return CNV_OK;
}

static cnv_status cpu_buf_read(cnv_backend *be, cnv_buf *b, size_t offset, float *dst, size_t n) {
    CNV_TRY(check_range(b, offset, n));
    if (recording(be)) return cnv_fail(CNV_ERR_INTERNAL, "cpu: buffer read while recording a program");
    if (dst != b->data + offset) memcpy(dst, b->data + offset, n * sizeof(float)); /* a borrowed buffer read back onto its source */
    return CNV_OK;
}

typedef struct fill_job {
    float *data, value;
} fill_job;

static void fill_range(void *ctx, size_t lo, size_t hi) {
    const fill_job *j = ctx;
    for (size_t i = lo; i < hi; i++) j->data[i] = j->value;
}

/* Split among the cores, and booked in the profile like a kernel: a backward pass zeroes every
 * activation's gradient first. */
static cnv_status cpu_buf_fill(cnv_backend *be, cnv_buf *b, float value, size_t n) {
    CNV_TRY(check_range(b, 0, n));
    CNV_TRY(own(b));
    if (recording(be)) return record(be, &(rec_entry){.kind = REC_FILL, .buf = b, .n = n, .value = value});
    const double t0 = cnv_now_ms();
    fill_job j = {.data = b->data, .value = value};
    cnv_cpu_parallel(n, CNV_CPU_PARALLEL_MIN, fill_range, &j);
    cnv_profile_add(&((cpu_backend *)be)->profile, "buffer fill", cnv_now_ms() - t0);
    return CNV_OK;
}

static void unpack(const cnv_op_io *io, cnv_cpu_args *a) {
    memset(a, 0, sizeof *a);
    a->node = io->node;
    a->a = &io->node->attrs;
    a->n_in = io->n_in;
    for (int i = 0; i < io->n_in; i++) {
        a->in[i] = io->in[i] ? io->in[i]->data : NULL;
        a->in_shape[i] = io->in_shape[i];
        a->grad_in[i] = io->grad_in[i] ? io->grad_in[i]->data : NULL;
    }
    a->relu_out = io->relu_out ? io->relu_out->data : NULL;
    /* A Conv asked for its Relu alone computes it in place, in relu_out. */
    a->out = io->out ? io->out->data : a->relu_out;
    a->out_shape = io->out_shape;
    a->aux = io->aux ? (int32_t *)io->aux->data : NULL;
    a->grad_out = io->grad_out ? io->grad_out->data : NULL;
    a->rule = io->rule;
    a->unpool_fill = io->unpool_fill;
}

static cnv_status kernel_for(const cnv_op_io *io, const cnv_cpu_op **op) {
    *op = cnv_cpu_op_get(io->node->op);
    if (!*op)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "cpu: node '%s': op %s has no CPU kernel", io->node->name,
                        cnv_op_name(io->node->op));
    return CNV_OK;
}

/* The block for in[1]'s derived form where the op has one and the buffer is constant (borrowed);
 * a failed allocation leaves the op without it (Conv then takes im2col, as for weights that
 * change). */
static void prepare_derived(const cnv_cpu_op *op, const cnv_op_io *io, cnv_cpu_args *a) {
    cnv_buf *b = io->n_in > 1 ? io->in[1] : NULL;
    const size_t need = op->derived && b && b->borrowed ? op->derived(a) : 0;
    if (!need) return;
    if (b->derived.n != need) {
        drop_derived(b);
        b->derived.data = malloc(need * sizeof(float));
        if (!b->derived.data) return;
        b->derived.n = need;
    }
    a->derived = &b->derived;
}

/* Unpacks io and hands the call the backend's scratch, grown first if the op needs more. A
 * failed growth leaves the op to allocate for itself (and report it if that fails too). */
static void prepare(cnv_backend *be, const cnv_cpu_op *op, const cnv_op_io *io, cnv_cpu_args *a) {
    cpu_backend *cb = (cpu_backend *)be;
    unpack(io, a);
    a->exact = cb->exact;
    prepare_derived(op, io, a);
    const size_t need = op->workspace ? op->workspace(a) : 0;
    if (need > cb->work_n) {
        free(cb->work);
        cb->work = malloc(need * sizeof(float));
        cb->work_n = cb->work ? need : 0;
    }
    a->work = cb->work;
    a->work_n = cb->work_n;
}

static cnv_status cpu_forward(cnv_backend *be, const cnv_op_io *io) {
    const cnv_cpu_op *op;
    cnv_cpu_args a;
    CNV_TRY(kernel_for(io, &op));
    prepare(be, op, io, &a);
    if (recording(be)) return record(be, &(rec_entry){.kind = REC_FORWARD, .io = *io});
    return timed(be, op->forward, &a, "forward");
}

static cnv_status cpu_backward(cnv_backend *be, const cnv_op_io *io) {
    const cnv_cpu_op *op;
    cnv_cpu_args a;
    CNV_TRY(kernel_for(io, &op));
    prepare(be, op, io, &a);
    if (recording(be)) return record(be, &(rec_entry){.kind = REC_BACKWARD, .io = *io});
    /* A gradient the op cannot write outright starts at zero, and the op adds to it. */
    if (op->assigns)
        a.assign = io->grad_assign;
    else
        for (int i = 0; i < io->n_in; i++)
            if (io->grad_in[i] && (io->grad_assign >> i & 1))
                CNV_TRY(cpu_buf_fill(be, io->grad_in[i], 0.0f, cnv_shape_numel(&io->in_shape[i])));
    return timed(be, op->backward, &a, "backward");
}

static cnv_status cpu_optim_step(cnv_backend *be, const cnv_optim_io *io) {
    if (!io->x || !io->g || !io->m || !io->hyper || (io->kind == CNV_OPTIM_ADAM && !io->v))
        return cnv_fail(CNV_ERR_INTERNAL, "cpu: optimizer step without its buffers");
    CNV_TRY(own(io->x));
    if (recording(be)) return record(be, &(rec_entry){.kind = REC_OPTIM, .optim = *io});
    const unsigned mode = cnv_cpu_flush_begin();
    cnv_cpu_optim_step(io->kind, io->x->data, io->g->data, io->m->data, io->v ? io->v->data : NULL, io->hyper->data,
                       io->n);
    cnv_cpu_flush_end(mode);
    return CNV_OK;
}

static cnv_status cpu_sync(cnv_backend *be) { return CNV_OK; }

static void cpu_program_free(cnv_backend *be, cnv_program *p) {
    if (!p) return;
    for (size_t i = 0; i < p->n; i++) free(p->entries[i].data);
    free(p->entries);
    free(p);
}

static cnv_status cpu_program_begin(cnv_backend *be) {
    cpu_backend *cb = (cpu_backend *)be;
    if (cb->recording) return cnv_fail(CNV_ERR_INTERNAL, "cpu: a program is already being recorded");
    cb->recording = calloc(1, sizeof *cb->recording);
    return cb->recording ? CNV_OK : cnv_fail(CNV_ERR_NOMEM, "cpu: out of memory");
}

static cnv_status cpu_program_end(cnv_backend *be, cnv_program **out) {
    cpu_backend *cb = (cpu_backend *)be;
    if (!cb->recording) return cnv_fail(CNV_ERR_INTERNAL, "cpu: no program is being recorded");
    *out = cb->recording;
    cb->recording = NULL;
    return CNV_OK;
}

static cnv_status cpu_program_run(cnv_backend *be, cnv_program *p) {
    for (size_t i = 0; i < p->n; i++) {
        const rec_entry *e = &p->entries[i];
        switch (e->kind) {
        case REC_FILL: CNV_TRY(cpu_buf_fill(be, e->buf, e->value, e->n)); break;
        case REC_WRITE: CNV_TRY(cpu_buf_write(be, e->buf, e->offset, e->data, e->n)); break;
        case REC_FORWARD: CNV_TRY(cpu_forward(be, &e->io)); break;
        case REC_BACKWARD: CNV_TRY(cpu_backward(be, &e->io)); break;
        case REC_OPTIM: CNV_TRY(cpu_optim_step(be, &e->optim)); break;
        }
    }
    return CNV_OK;
}

static const cnv_profile *cpu_profile(const cnv_backend *be) { return &((const cpu_backend *)be)->profile; }

static void cpu_destroy(cnv_backend *be) {
    cpu_program_free(be, ((cpu_backend *)be)->recording);
    cnv_profile_free(&((cpu_backend *)be)->profile);
    free(((cpu_backend *)be)->work);
    free(be);
}

static const cnv_backend_vtable cpu_vtable = {
    .name = "cpu",
    .buf_alloc = cpu_buf_alloc,
    .buf_free = cpu_buf_free,
    .buf_wrap = cpu_buf_wrap,
    .buf_write = cpu_buf_write,
    .buf_read = cpu_buf_read,
    .buf_fill = cpu_buf_fill,
    .forward = cpu_forward,
    .backward = cpu_backward,
    .optim_step = cpu_optim_step,
    .sync = cpu_sync,
    .program_begin = cpu_program_begin,
    .program_end = cpu_program_end,
    .program_run = cpu_program_run,
    .program_free = cpu_program_free,
    .profile = cpu_profile,
    .destroy = cpu_destroy,
};

cnv_status cnv_backend_cpu_create(cnv_backend **out) {
    cpu_backend *cb = calloc(1, sizeof *cb);
    if (!cb) return cnv_fail(CNV_ERR_NOMEM, "cpu: out of memory");
    cb->base.vt = &cpu_vtable;
    *out = &cb->base;
    return CNV_OK;
}

cnv_status cnv_backend_cpu_create_reference(cnv_backend **out) {
    CNV_TRY(cnv_backend_cpu_create(out));
    ((cpu_backend *)*out)->exact = 1;
    return CNV_OK;
}
