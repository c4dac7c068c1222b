/* Every op has every piece: a CPU kernel, a Vulkan kernel, a float64 oracle, op-suite cases
 * (tests/util/op_cases.c), and, unless it is an image-space op of cnnvis (exempt: ONNX has no
 * such op, and export refuses them), ONNX import and export, checked by writing a one-node
 * graph of the op's first case and reading it back: the same op must come back and compute
 * the same output. The oracle must compute the op's first case (finite values). The elementwise ops' numbers (shaders/elementwise_ops.h) must be in range
 * and not shared. One line per op, then a failure listing every gap. */
#include "model_run.h"
#include "op_cases.h"
#include "oracle.h"
#include "test_util.h"

#include "core/graph.h"
#include "cpu/cpu_ops.h"
#include "cnnvis/convert.h"
#include "vulkan/vk_backend.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define OUT_DIR CNNVIS_BINARY_DIR "/test_op_coverage"

/* The registry's cases of op: *any the first, *onnx the first whose data input the ONNX importer
 * takes as a graph input (4-D or 2-D); NULL when none. Returns their count. */
static int find_cases(cnv_op_type op, const tu_opcase **any, const tu_opcase **onnx) {
    static tu_opcase cases[TU_MAX_TABLE_CASES], first, importable;
    size_t n_tables;
    const tu_case_table *tables = tu_case_tables(&n_tables);
    int count = 0;
    *any = *onnx = NULL;
    for (size_t t = 0; t < n_tables; t++) {
        const size_t n = tables[t].build(cases);
        for (size_t i = 0; i < n; i++) {
            if (cases[i].op != op) continue;
            count++;
            const int rank = cases[i].in_shape[0].ndim;
            if (!*any) first = cases[i], *any = &first;
            if (!*onnx && (rank == 4 || rank == 2)) importable = cases[i], *onnx = &importable;
        }
    }
    return count;
}

/* The oracle runs on the case and gives finite values (an elementwise op missing from
 * tu_oracle_unary / tu_oracle_binary gives NaN). */
static int oracle_computes(const tu_opcase *c) {
    if (!tu_oracle_of(c->op)) return 0;
    cnv_attrs attrs = c->attrs;
    cnv_shape out_shape;
    if (cnv_op_infer_shape(c->op, &attrs, c->n_in, c->in_shape, &out_shape, c->label) != CNV_OK) return 0;
    double *in[CNV_MAX_INPUTS];
    const float lo = c->lo || c->hi ? c->lo : -1.0f, hi = c->lo || c->hi ? c->hi : 1.0f;
    for (int i = 0; i < c->n_in; i++) {
        const size_t n = cnv_shape_numel(&c->in_shape[i]);
        in[i] = tu_calloc(n, sizeof(double));
        for (size_t j = 0; j < n; j++)
            in[i][j] = c->const_data[i] ? c->const_data[i][j] : lo + (hi - lo) * ((double)j + 0.5) / (double)n;
    }
    const size_t n_out = cnv_shape_numel(&out_shape);
    double *out = tu_calloc(n_out, sizeof(double));
    tu_oracle_forward(c->op, &attrs, c->n_in, (const double *const *)in, c->in_shape, out, &out_shape);
    int finite = 1;
    for (size_t j = 0; j < n_out; j++) finite &= isfinite(out[j]);
    for (int i = 0; i < c->n_in; i++) free(in[i]);
    free(out);
    return finite;
}

/* The case as a one-node graph: input 0 the graph input, the others initializers of random
 * values. NULL (with the reason in why) when its shapes do not fit. */
static cnv_graph *one_node_graph(const tu_opcase *c, cnv_rng *r, char *why, size_t cap) {
    cnv_graph *g = cnv_graph_new("coverage");
    if (!g) return snprintf(why, cap, "out of memory"), NULL;
    int in[CNV_MAX_INPUTS];
    for (int i = 0; i < c->n_in; i++) {
        char name[32];
        snprintf(name, sizeof name, "in%d", i);
        const size_t n = cnv_shape_numel(&c->in_shape[i]);
        float *data = i ? tu_calloc(n, sizeof(float)) : NULL;
        if (data) tu_fill_uniform(r, data, n, c->lo || c->hi ? c->lo : -1.0f, c->lo || c->hi ? c->hi : 1.0f);
        in[i] = cnv_graph_add_value(g, name, &c->in_shape[i], data);
        free(data);
    }
    g->input = in[0];
    cnv_attrs attrs = c->attrs;
    cnv_shape out_shape;
    if (cnv_op_infer_shape(c->op, &attrs, c->n_in, c->in_shape, &out_shape, c->label) != CNV_OK) {
        snprintf(why, cap, "shape inference: %s", cnv_last_error());
        cnv_graph_free(g);
        return NULL;
    }
    g->output = cnv_graph_add_value(g, "out", &out_shape, NULL);
    cnv_graph_add_node(g, "node", c->op, &attrs, c->n_in, in, g->output);
    return g;
}

/* Writes the case's one-node graph, reads it back, and compares op and output. Returns NULL or
 * what went wrong. */
static const char *onnx_round_trip(const tu_opcase *c, char *why, size_t cap) {
    cnv_rng r;
    cnv_rng_seed(&r, 0xc0fe);
    cnv_graph *g = one_node_graph(c, &r, why, cap);
    if (!g) return why;
    char path[512];
    snprintf(path, sizeof path, OUT_DIR "/%s.onnx", cnv_op_name(c->op));
    cnv_graph *back = NULL;
    const char *problem = NULL;
    float *x = tu_calloc(cnv_shape_numel(&c->in_shape[0]), sizeof(float)), *y0 = NULL, *y1 = NULL;
    tu_fill_uniform(&r, x, cnv_shape_numel(&c->in_shape[0]), c->lo || c->hi ? c->lo : -1.0f,
                    c->lo || c->hi ? c->hi : 1.0f);
    cnv_shape s0, s1;
    if (cnv_onnx_save(g, path) != CNV_OK) {
        snprintf(why, cap, "export: %s", cnv_last_error());
        problem = why;
    } else if (cnv_model_load(path, &back) != CNV_OK) {
        snprintf(why, cap, "import: %s", cnv_last_error());
        problem = why;
    } else if (back->n_nodes < 1 || back->nodes[back->n_nodes - 1].op != c->op) {
        snprintf(why, cap, "import gives %d nodes, the last one %s", back->n_nodes,
                 back->n_nodes ? cnv_op_name(back->nodes[back->n_nodes - 1].op) : "-");
        problem = why;
    } else if (tu_model_forward(g, x, c->in_shape[0].d[0], g->output, &y0, &s0) != CNV_OK ||
               tu_model_forward(back, x, c->in_shape[0].d[0], back->output, &y1, &s1) != CNV_OK) {
        snprintf(why, cap, "forward: %s", cnv_last_error());
        problem = why;
    } else if (!cnv_shape_equal(&s0, &s1) || tu_rel_error(y1, y0, cnv_shape_numel(&s0)) > 1e-6) {
        snprintf(why, cap, "the read-back graph computes another output");
        problem = why;
    }
    free(x), free(y0), free(y1);
    cnv_graph_free(back);
    cnv_graph_free(g);
    return problem;
}

/* Export of an image-space op's one-node graph fails as unsupported. */
static int export_refused(const tu_opcase *c) {
    char why[600];
    cnv_rng r;
    cnv_rng_seed(&r, 0xc0fe);
    cnv_graph *g = one_node_graph(c, &r, why, sizeof why);
    if (!g) return 0;
    const cnv_status st = cnv_onnx_save(g, OUT_DIR "/image-space.onnx");
    cnv_graph_free(g);
    return st == CNV_ERR_UNSUPPORTED;
}

static void test_every_op_has_every_piece(void **state) {
    (void)state;
    if (mkdir(OUT_DIR, 0755) != 0 && errno != EEXIST) fail_msg("cannot create %s: %s", OUT_DIR, strerror(errno));
    int gaps = 0;
    int unary_owner[CNV_UNARY_COUNT], binary_owner[CNV_BINARY_COUNT];
    for (int k = 0; k < CNV_UNARY_COUNT; k++) unary_owner[k] = -1;
    for (int k = 0; k < CNV_BINARY_COUNT; k++) binary_owner[k] = -1;
    printf("%-24s %4s %6s %6s %5s  %s\n", "op", "cpu", "vulkan", "oracle", "cases", "onnx import+export");
    for (int op = 0; op < CNV_OP_COUNT; op++) {
        const cnv_op_desc *d = cnv_op_desc_of((cnv_op_type)op);
        char why[600] = "";
        const int cpu = cnv_cpu_op_get((cnv_op_type)op) != NULL, vk = cnv_vk_op_get((cnv_op_type)op) != NULL;
        const tu_opcase *any, *c;
        const int n_cases = find_cases((cnv_op_type)op, &any, &c);
        const int oracle = any && oracle_computes(any);
        const char *onnx;
        if (d->flags & CNV_OPF_IMAGE) {
            onnx = strncmp(d->name, "cnnvis.", 7) == 0 && d->onnx_in == 0 &&
                           cnv_op_from_name(d->name) == CNV_OP_COUNT && c && export_refused(c)
                       ? "exempt (image-space op of cnnvis; export refuses it)"
                       : "an image-space op must be named cnnvis.*, take no ONNX inputs and be refused by export";
        } else if ((int)cnv_op_from_name(d->name) != op) {
            onnx = "its ONNX name does not parse back to it";
        } else if (!c) {
            onnx = "no case with a 4-D or 2-D data input to write";
        } else {
            onnx = onnx_round_trip(c, why, sizeof why);
            if (!onnx) onnx = "ok";
        }
        /* Elementwise numbers: unary ops (shape SAME) and binary ops (broadcasting) each own theirs. */
        const char *number = "";
        if (d->elementwise >= 0) {
            const int unary = d->shape == CNV_SHAPE_SAME;
            int *owner = unary ? unary_owner : binary_owner;
            const int count = unary ? CNV_UNARY_COUNT : CNV_BINARY_COUNT;
            if (d->elementwise >= count) number = "  elementwise number out of range";
            else if (owner[d->elementwise] >= 0) number = "  elementwise number shared with another op";
            else owner[d->elementwise] = op;
        }
        const int ok = cpu && vk && oracle && n_cases > 0 && (!strcmp(onnx, "ok") || !strncmp(onnx, "exempt", 6)) &&
                       !number[0];
        printf("%-24s %4s %6s %6s %5d  %s%s\n", d->name, cpu ? "yes" : "NO", vk ? "yes" : "NO", oracle ? "yes" : "NO",
               n_cases, onnx, number);
        gaps += !ok;
    }
    for (int k = 0; k < CNV_UNARY_COUNT; k++)
        if (unary_owner[k] < 0) printf("unary number %d has no op\n", k), gaps++;
    for (int k = 0; k < CNV_BINARY_COUNT; k++)
        if (binary_owner[k] < 0) printf("binary number %d has no op\n", k), gaps++;
    fflush(stdout);
    if (gaps) fail_msg("%d ops (or numbers) lack a piece: see the table above", gaps);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_op_has_every_piece)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
