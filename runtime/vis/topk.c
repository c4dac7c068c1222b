#include "vis/topk.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

cnv_status cnv_topk_init(cnv_topk *t, int n_channels, int k) {
    memset(t, 0, sizeof *t);
    if (n_channels < 1 || k < 1) return cnv_fail(CNV_ERR_ARG, "top-k: needs channels and k >= 1 (got %d, %d)", n_channels, k);
    t->count = calloc((size_t)n_channels, sizeof *t->count);
    t->best = calloc((size_t)n_channels * k, sizeof *t->best);
    if (!t->count || !t->best) {
        cnv_topk_free(t);
        return cnv_fail(CNV_ERR_NOMEM, "top-k: out of memory for %d channels x %d", n_channels, k);
    }
    t->n_channels = n_channels;
    t->k = k;
    return CNV_OK;
}

void cnv_topk_free(cnv_topk *t) {
    free(t->count);
    free(t->best);
    memset(t, 0, sizeof *t);
}

/* Inserts e into a list sorted by descending score, after every entry of an equal score (so the
 * earlier item stays first), dropping what falls past k. */
static void insert(cnv_topk_entry *list, int *count, int k, cnv_topk_entry e) {
    int pos = *count;
    while (pos > 0 && list[pos - 1].score < e.score) pos--;
    if (pos >= k) return;
    int last = *count < k ? *count : k - 1;
    memmove(&list[pos + 1], &list[pos], sizeof *list * (size_t)(last - pos));
    list[pos] = e;
    if (*count < k) (*count)++;
}

void cnv_topk_offer(cnv_topk *t, int channel, cnv_topk_entry e) {
    insert(t->best + (size_t)channel * t->k, &t->count[channel], t->k, e);
}

void cnv_topk_add(cnv_topk *t, const float *maps, int h, int w, int item) {
    size_t plane = (size_t)h * w;
    for (int c = 0; c < t->n_channels; c++) {
        const float *m = maps + c * plane;
        size_t arg = plane;
        for (size_t i = 0; i < plane; i++)
            if (isfinite(m[i]) && (arg == plane || m[i] > m[arg])) arg = i;
        if (arg == plane) continue;
        cnv_topk_entry e = {m[arg], item, (int)(arg / w), (int)(arg % w)};
        cnv_topk_offer(t, c, e);
    }
}

/* Where position 0's window starts on the input, per axis, for every node up to `last`: the
 * offset recurrence beside cnv_graph_receptive_fields' size and stride (a window starts pads
 * input steps before its input's position 0). */
static void field_offsets(const cnv_graph *g, const cnv_receptive_field *rf, int last, int (*off)[2]) {
    for (int i = 0; i <= last; i++) {
        const cnv_node *n = &g->nodes[i];
        off[i][0] = off[i][1] = 0;
        int from = -1; /* the data input with the widest field, as the size recurrence takes */
        for (int j = 0; j < n->n_in; j++) {
            int p = g->values[n->in[j]].producer;
            if (p >= 0 && p < i && (from < 0 || rf[p].size[0] * rf[p].size[1] > rf[from].size[0] * rf[from].size[1]))
                from = p;
        }
        int in_off[2] = {0, 0}, in_stride[2] = {1, 1};
        if (from >= 0)
            for (int a = 0; a < 2; a++) in_off[a] = off[from][a], in_stride[a] = rf[from].stride[a];
        int windowed = n->op == CNV_OP_CONV || n->op == CNV_OP_MAXPOOL || n->op == CNV_OP_AVGPOOL;
        for (int a = 0; a < 2; a++) off[i][a] = in_off[a] - (windowed ? n->attrs.pads[a] * in_stride[a] : 0);
    }
}

cnv_status cnv_receptive_box(const cnv_graph *g, int node, int y, int x, cnv_box *box) {
    if (node < 0 || node >= g->n_nodes) return cnv_fail(CNV_ERR_ARG, "receptive box: no node %d", node);
    cnv_receptive_field *rf = malloc(sizeof *rf * (size_t)g->n_nodes);
    int (*off)[2] = malloc(sizeof *off * (size_t)g->n_nodes);
    if (!rf || !off) {
        free(rf), free(off);
        return cnv_fail(CNV_ERR_NOMEM, "receptive box: out of memory");
    }
    cnv_graph_receptive_fields(g, rf);
    field_offsets(g, rf, node, off);
    const cnv_receptive_field *f = &rf[node];
    /* Layers that mix every position (after Flatten, Gemm, global pooling) see the whole input. */
    const cnv_shape *in = &g->values[g->input].shape;
    int whole = in->ndim == 4 && f->size[0] == in->d[2] && f->stride[0] == in->d[2];
    box->y0 = whole ? 0 : y * f->stride[0] + off[node][0];
    box->x0 = whole ? 0 : x * f->stride[1] + off[node][1];
    box->y1 = box->y0 + f->size[0];
    box->x1 = box->x0 + f->size[1];
    free(rf);
    free(off);
    return CNV_OK;
}

cnv_status cnv_topk_patch(const cnv_image *seen, const cnv_box *b, const unsigned char bg[3], cnv_image *out) {
    int fw = b->x1 - b->x0, fh = b->y1 - b->y0;
    memset(out, 0, sizeof *out);
    out->px = fw > 0 && fh > 0 ? malloc((size_t)fw * fh * 3) : NULL;
    if (!out->px) return cnv_fail(CNV_ERR_NOMEM, "topk: out of memory for a %dx%d patch", fw, fh);
    out->w = fw;
    out->h = fh;
    out->c = 3;
    for (int y = 0; y < fh; y++)
        for (int x = 0; x < fw; x++) {
            int sy = b->y0 + y, sx = b->x0 + x;
            unsigned char *d = out->px + ((size_t)y * fw + x) * 3;
            int inside = sy >= 0 && sy < seen->h && sx >= 0 && sx < seen->w;
            for (int k = 0; k < 3; k++)
                d[k] = inside ? seen->px[((size_t)sy * seen->w + sx) * seen->c + (seen->c == 3 ? k : 0)] : bg[k];
        }
    return CNV_OK;
}

cnv_box cnv_box_clamp(cnv_box b, int h, int w) {
    b.y0 = b.y0 < 0 ? 0 : b.y0;
    b.x0 = b.x0 < 0 ? 0 : b.x0;
    b.y1 = b.y1 > h ? h : b.y1;
    b.x1 = b.x1 > w ? w : b.x1;
    return b;
}
