#include "core/shape_check.h"

#include <stdint.h>

#include "core/checked.h"
#include "core/status.h"

static cnv_status limit_fail(const cnv_graph *g, const cnv_node *n, const char *what, long long value, long long max) {
    return cnv_fail(CNV_ERR_LIMIT, "%s: node '%s' (%s): %s is %lld, beyond the %lld cnnvis supports", g->source, n->name,
                    cnv_op_name(n->op), what, value, max);
}

static cnv_status check_shape(const cnv_graph *g, const cnv_node *n, const char *what, const cnv_shape *s) {
    char buf[64];
    size_t numel;
    if (s->ndim < 0 || s->ndim > CNV_MAX_DIMS) return limit_fail(g, n, what, s->ndim, CNV_MAX_DIMS);
    for (int i = 0; i < s->ndim; i++)
        if (s->d[i] < 0 || s->d[i] > CNV_MAX_DIM) {
            snprintf(buf, sizeof buf, "dim %d of %s", i, what);
            return limit_fail(g, n, buf, s->d[i], CNV_MAX_DIM);
        }
    if (!cnv_shape_numel_checked(s, &numel) || numel > CNV_MAX_NUMEL) {
        snprintf(buf, sizeof buf, "the element count of %s", what);
        return limit_fail(g, n, buf, (long long)(cnv_shape_numel_checked(s, &numel) ? numel : SIZE_MAX / 2),
                          (long long)CNV_MAX_NUMEL);
    }
    return CNV_OK;
}

static cnv_status check_range(const cnv_graph *g, const cnv_node *n, const char *what, const int *v, int count, int max) {
    for (int i = 0; i < count; i++)
        if (v[i] < -max || v[i] > max) return limit_fail(g, n, what, v[i], max);
    return CNV_OK;
}

static cnv_status check_attrs(const cnv_graph *g, const cnv_node *n, const cnv_shape *in) {
    const cnv_attrs *a = &n->attrs;
    CNV_TRY(check_range(g, n, "a kernel size", a->kernel, 2, CNV_MAX_WINDOW));
    CNV_TRY(check_range(g, n, "a stride", a->stride, 2, CNV_MAX_WINDOW));
    CNV_TRY(check_range(g, n, "a dilation", a->dilation, 2, CNV_MAX_WINDOW));
    CNV_TRY(check_range(g, n, "a padding", a->pads, 4, CNV_MAX_PAD));
    CNV_TRY(check_range(g, n, "a padding", a->pad_full, 8, CNV_MAX_PAD));
    CNV_TRY(check_range(g, n, "an output size", a->out_hw, 2, CNV_MAX_DIM));
    if (n->op == CNV_OP_CONV && n->n_in >= 2) {
        int wd[2] = {in[1].ndim == 4 ? in[1].d[2] : 0, in[1].ndim == 4 ? in[1].d[3] : 0};
        CNV_TRY(check_range(g, n, "a kernel size", wd, 2, CNV_MAX_WINDOW));
        int channels;
        if (a->group < 0 || !cnv_int_mul(in[1].ndim > 1 ? in[1].d[1] : 0, a->group, &channels))
            return limit_fail(g, n, "the group count", a->group, CNV_MAX_DIM);
    }
    if (n->op == CNV_OP_CONCAT) {
        long long sum = 0;
        for (int j = 0; j < n->n_in; j++)
            for (int i = 0; i < in[j].ndim; i++) sum += in[j].d[i]; /* every dim summed: a bound on the axis sum */
        if (sum > CNV_MAX_DIM) return limit_fail(g, n, "the concatenated size", sum, CNV_MAX_DIM);
    }
    if (n->op == CNV_OP_RESHAPE) {
        size_t known = 1;
        for (int i = 0; i < a->shape_n && i < CNV_MAX_DIMS; i++)
            if (a->shape[i] > 0 && (!cnv_size_mul(known, (size_t)a->shape[i], &known) || known > CNV_MAX_NUMEL))
                return limit_fail(g, n, "the target shape's element count", (long long)known, (long long)CNV_MAX_NUMEL);
    }
    return CNV_OK;
}

cnv_status cnv_shape_check_inputs(const cnv_graph *g, const cnv_node *n, const cnv_shape *in) {
    for (int j = 0; j < n->n_in; j++) CNV_TRY(check_shape(g, n, "an input", &in[j]));
    return check_attrs(g, n, in);
}

cnv_status cnv_shape_check_output(const cnv_graph *g, const cnv_node *n, const cnv_shape *out) {
    return check_shape(g, n, "the output", out);
}
