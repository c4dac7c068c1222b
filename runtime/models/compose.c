/* Steps of a composed node (compose.h): naming, shape inference and the normalization both
 * importers' LayerNormalization and ONNX's InstanceNormalization are made of. */
#include "models/compose.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/status.h"

cnv_status compose_refuse(const compose *c, cnv_status s, const char *problem) {
    return cnv_fail(s, "%s: %s: %s", c->path, c->what, problem);
}

cnv_status compose_step(const compose *c, const char *step, const char *out_name, cnv_op_type op, const cnv_attrs *a,
                        int n_in, const int *in, int *out) {
    char node[512], value[512];
    if (out_name) {
        snprintf(node, sizeof node, "%s%s%s", c->node, step[0] ? "/" : "", step);
        snprintf(value, sizeof value, "%s", out_name);
    } else {
        snprintf(node, sizeof node, "%s/%s", c->node, step);
        snprintf(value, sizeof value, "%s/%s", c->value, step);
    }
    if (cnv_graph_find_value(c->g, value) >= 0 || (c->taken && c->taken(c->user, value)))
        return compose_refuse(c, CNV_ERR_FORMAT, "an output is defined twice");
    cnv_shape shapes[CNV_MAX_INPUTS], shape;
    for (int k = 0; k < n_in; k++) shapes[k] = c->g->values[in[k]].shape;
    cnv_attrs attrs = *a;
    cnv_status st = cnv_op_infer_shape(op, &attrs, n_in, shapes, &shape, node);
    if (st != CNV_OK) {
        cnv_error_prefix(c->path);
        return st;
    }
    *out = cnv_graph_add_value(c->g, value, &shape, NULL);
    if (*out < 0 || cnv_graph_add_node(c->g, node, op, &attrs, n_in, in, *out) < 0)
        return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", c->path);
    return CNV_OK;
}

cnv_status compose_unary(const compose *c, const char *step, const char *out_name, cnv_op_type op, int x, int *out) {
    cnv_attrs a;
    cnv_attrs_default(op, &a);
    return compose_step(c, step, out_name, op, &a, 1, &x, out);
}

cnv_status compose_binary(const compose *c, const char *step, const char *out_name, cnv_op_type op, int x, int y,
                          int *out) {
    cnv_attrs a;
    cnv_attrs_default(op, &a);
    const int in[2] = {x, y};
    return compose_step(c, step, out_name, op, &a, 2, in, out);
}

cnv_status compose_reduce(const compose *c, const char *step, const char *out_name, cnv_op_type op, int x, int axes,
                          int *out) {
    cnv_attrs a;
    cnv_attrs_default(op, &a);
    a.reduce_axes = axes;
    a.keepdims = 1;
    return compose_step(c, step, out_name, op, &a, 1, &x, out);
}

cnv_status compose_weight(const compose *c, const char *what, const cnv_shape *shape, const float *data, float fill,
                          int *out) {
    const size_t count = cnv_shape_numel(shape);
    float *buf = NULL;
    if (!data) {
        buf = malloc(count * sizeof *buf);
        if (!buf) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", c->path);
        for (size_t i = 0; i < count; i++) buf[i] = fill;
    }
    char name[512];
    snprintf(name, sizeof name, "%s/%s", c->node, what);
    *out = cnv_graph_add_value(c->g, name, shape, data ? data : buf);
    free(buf);
    return *out < 0 ? cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", c->path) : CNV_OK;
}

cnv_status compose_normalize(const compose *c, int x, int axes, float eps, int gamma, int beta, const char *mean_name,
                             const char *out_name, int *out, int *sd) {
    const cnv_shape one = {1, {1}};
    int mean, centred, two, sq, var, e, ve;
    CNV_TRY(compose_reduce(c, "mean", mean_name, CNV_OP_REDUCEMEAN, x, axes, &mean));
    CNV_TRY(compose_binary(c, "centred", NULL, CNV_OP_SUB, x, mean, &centred));
    CNV_TRY(compose_weight(c, "two", &one, NULL, 2.0f, &two));
    CNV_TRY(compose_binary(c, "square", NULL, CNV_OP_POW, centred, two, &sq));
    CNV_TRY(compose_reduce(c, "variance", NULL, CNV_OP_REDUCEMEAN, sq, axes, &var));
    CNV_TRY(compose_weight(c, "epsilon", &one, NULL, eps, &e));
    CNV_TRY(compose_binary(c, "variance_eps", NULL, CNV_OP_ADD, var, e, &ve));
    CNV_TRY(compose_unary(c, "std", NULL, CNV_OP_SQRT, ve, sd));
    const int last_div = gamma < 0 && beta < 0, last_mul = beta < 0;
    CNV_TRY(compose_binary(c, last_div ? "" : "normalized", last_div ? out_name : NULL, CNV_OP_DIV, centred, *sd, out));
    if (gamma >= 0)
        CNV_TRY(compose_binary(c, last_mul ? "" : "scaled", last_mul ? out_name : NULL, CNV_OP_MUL, *out, gamma, out));
    if (beta >= 0) CNV_TRY(compose_binary(c, "", out_name, CNV_OP_ADD, *out, beta, out));
    return CNV_OK;
}
