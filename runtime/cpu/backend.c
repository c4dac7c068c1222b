/* The CPU backend: buffers are host arrays; ops run at once, one file per op. */
#include "cpu_ops.h"

#include "core/backend.h"
#include "core/status.h"

#include <stdlib.h>
#include <string.h>

struct cnv_buf {
    float *data;
    size_t n;
};

static const cnv_cpu_op op_table[CNV_OP_COUNT] = {
    [CNV_OP_CONV] = {cnv_cpu_conv_forward, cnv_cpu_conv_backward},
    [CNV_OP_MAXPOOL] = {cnv_cpu_maxpool_forward, cnv_cpu_maxpool_backward},
    [CNV_OP_AVGPOOL] = {cnv_cpu_avgpool_forward, cnv_cpu_avgpool_backward},
    [CNV_OP_GLOBALAVGPOOL] = {cnv_cpu_globalavgpool_forward, cnv_cpu_globalavgpool_backward},
    [CNV_OP_RELU] = {cnv_cpu_activation_forward, cnv_cpu_activation_backward},
    [CNV_OP_LEAKYRELU] = {cnv_cpu_activation_forward, cnv_cpu_activation_backward},
    [CNV_OP_CLIP] = {cnv_cpu_activation_forward, cnv_cpu_activation_backward},
    [CNV_OP_SIGMOID] = {cnv_cpu_activation_forward, cnv_cpu_activation_backward},
    [CNV_OP_TANH] = {cnv_cpu_activation_forward, cnv_cpu_activation_backward},
    [CNV_OP_ELU] = {cnv_cpu_activation_forward, cnv_cpu_activation_backward},
    [CNV_OP_GEMM] = {cnv_cpu_gemm_forward, cnv_cpu_gemm_backward},
    [CNV_OP_MATMUL] = {cnv_cpu_gemm_forward, cnv_cpu_gemm_backward},
    [CNV_OP_ADD] = {cnv_cpu_add_forward, cnv_cpu_add_backward},
    [CNV_OP_CONCAT] = {cnv_cpu_concat_forward, cnv_cpu_concat_backward},
    [CNV_OP_FLATTEN] = {cnv_cpu_copy_forward, cnv_cpu_copy_backward},
    [CNV_OP_RESHAPE] = {cnv_cpu_copy_forward, cnv_cpu_copy_backward},
    [CNV_OP_DROPOUT] = {cnv_cpu_copy_forward, cnv_cpu_copy_backward},
    [CNV_OP_PAD] = {cnv_cpu_pad_forward, cnv_cpu_pad_backward},
    [CNV_OP_LRN] = {cnv_cpu_lrn_forward, cnv_cpu_lrn_backward},
    [CNV_OP_SOFTMAX] = {cnv_cpu_softmax_forward, cnv_cpu_softmax_backward},
    [CNV_OP_BATCHNORM] = {cnv_cpu_batchnorm_forward, cnv_cpu_batchnorm_backward},
};

const cnv_cpu_op *cnv_cpu_op_get(cnv_op_type op) {
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
    b->data = data;
    b->n = n;
    *out = b;
    return CNV_OK;
}

static void cpu_buf_free(cnv_backend *be, cnv_buf *b) {
    if (!b) return;
    free(b->data);
    free(b);
}

static cnv_status check_range(const cnv_buf *b, size_t offset, size_t n) {
    if (offset > b->n || n > b->n - offset)
        return cnv_fail(CNV_ERR_INTERNAL, "cpu: buffer access [%zu, +%zu) outside %zu floats", offset, n, b->n);
    return CNV_OK;
}

static cnv_status cpu_buf_write(cnv_backend *be, cnv_buf *b, size_t offset, const float *src, size_t n) {
    CNV_TRY(check_range(b, offset, n));
    memcpy(b->data + offset, src, n * sizeof(float));
    return CNV_OK;
}

static cnv_status cpu_buf_read(cnv_backend *be, cnv_buf *b, size_t offset, float *dst, size_t n) {
    CNV_TRY(check_range(b, offset, n));
    memcpy(dst, b->data + offset, n * sizeof(float));
    return CNV_OK;
}

static cnv_status cpu_buf_fill(cnv_backend *be, cnv_buf *b, float value, size_t n) {
    CNV_TRY(check_range(b, 0, n));
    for (size_t i = 0; i < n; i++) b->data[i] = value;
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
    a->out = io->out ? io->out->data : NULL;
    a->out_shape = io->out_shape;
    a->aux = io->aux ? (int32_t *)io->aux->data : NULL;
    a->grad_out = io->grad_out ? io->grad_out->data : NULL;
}

static cnv_status cpu_forward(cnv_backend *be, const cnv_op_io *io) {
    const cnv_cpu_op *op = cnv_cpu_op_get(io->node->op);
    if (!op)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "cpu: node '%s': op %s has no CPU kernel", io->node->name,
                        cnv_op_name(io->node->op));
    cnv_cpu_args a;
    unpack(io, &a);
    return op->forward(&a);
}

static cnv_status cpu_backward(cnv_backend *be, const cnv_op_io *io) {
    const cnv_cpu_op *op = cnv_cpu_op_get(io->node->op);
    if (!op)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "cpu: node '%s': op %s has no CPU kernel", io->node->name,
                        cnv_op_name(io->node->op));
    cnv_cpu_args a;
    unpack(io, &a);
    return op->backward(&a);
}

static cnv_status cpu_sync(cnv_backend *be) { return CNV_OK; }

static void cpu_destroy(cnv_backend *be) { free(be); }

static const cnv_backend_vtable cpu_vtable = {
    .name = "cpu",
    .buf_alloc = cpu_buf_alloc,
    .buf_free = cpu_buf_free,
    .buf_write = cpu_buf_write,
    .buf_read = cpu_buf_read,
    .buf_fill = cpu_buf_fill,
    .forward = cpu_forward,
    .backward = cpu_backward,
    .sync = cpu_sync,
    .destroy = cpu_destroy,
};

cnv_status cnv_backend_cpu_create(cnv_backend **out) {
    cnv_backend *be = malloc(sizeof *be);
    if (!be) return cnv_fail(CNV_ERR_NOMEM, "cpu: out of memory");
    be->vt = &cpu_vtable;
    *out = be;
    return CNV_OK;
}

void cnv_backend_free(cnv_backend *be) {
    if (be) be->vt->destroy(be);
}
