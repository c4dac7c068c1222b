#include "vis_graph.h"

#include "core/status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Square root of ImageNet's colour correlation (Lucid's color_correlation_svd_sqrt), scaled so
 * its largest column norm is 1: the Fourier/pixel parameters live in a decorrelated space. */
static const float color_sqrt[3][3] = {
    {0.26f, 0.09f, 0.02f},
    {0.27f, 0.00f, -0.05f},
    {0.27f, -0.09f, 0.03f},
};

cnv_shape cnv_vis_param_shape(const cnv_vis_head *h, int channels) {
    if (h->prior) return (cnv_shape){2, {h->batch, h->prior->k}};
    if (h->fourier) return cnv_shape4(h->batch, 2 * channels, h->size[0], h->size[1] / 2 + 1);
    return cnv_shape4(h->batch, channels, h->size[0], h->size[1]);
}

/* Appends a node with a fresh output value named after it. Returns the output value or -1. */
static int add(cnv_graph *g, const char *name, cnv_op_type op, const cnv_attrs *attrs, int n_in, const int *in,
               const cnv_shape *out_shape) {
    int v = cnv_graph_add_value(g, name, out_shape, NULL);
    if (v < 0 || cnv_graph_add_node(g, name, op, attrs, n_in, in, v) < 0) return -1;
    return v;
}

/* A 1x1 convolution with fixed weights W [co, ci] and bias B [co]. */
static int add_pointwise(cnv_graph *g, const char *name, int in, int n, int ci, int co, int h, int w,
                         const float *weights, const float *bias) {
    char wname[96], bname[96];
    snprintf(wname, sizeof wname, "%s.weight", name);
    snprintf(bname, sizeof bname, "%s.bias", name);
    cnv_shape ws = cnv_shape4(co, ci, 1, 1), bs = {1, {co}};
    int wv = cnv_graph_add_value(g, wname, &ws, weights), bv = cnv_graph_add_value(g, bname, &bs, bias);
    if (wv < 0 || bv < 0) return -1;
    cnv_attrs a;
    cnv_attrs_default(CNV_OP_CONV, &a);
    a.kernel[0] = a.kernel[1] = 1;
    cnv_shape out = cnv_shape4(n, co, h, w);
    return add(g, name, CNV_OP_CONV, &a, 3, (int[]){in, wv, bv}, &out);
}

/* Model input = (image * 255 * scale - mean) / std, channels reordered (BGR models read the
 * image's channel 2 first). */
static int add_preprocess(cnv_graph *g, const cnv_preset *p, int in, int n, int c, int h, int w) {
    float weights[9] = {0}, bias[3];
    for (int o = 0; o < c; o++) {
        int src = (p->order == CNV_ORDER_BGR) ? c - 1 - o : o;
        weights[o * c + src] = 255.0f * p->scale / p->std[o];
        bias[o] = -p->mean[o] / p->std[o];
    }
    return add_pointwise(g, "cnnvis/preprocess", in, n, c, c, h, w, weights, bias);
}

static cnv_status build_head(cnv_vis_graph *vg, const cnv_graph *model, const cnv_preset *p, const cnv_vis_head *h,
                             int *head_out) {
    cnv_graph *g = vg->g;
    const cnv_shape *ms = &model->values[model->input].shape;
    const int n = h->batch, c = ms->d[1], H = h->size[0], W = h->size[1];
    cnv_shape ps = cnv_vis_param_shape(h, c), img = cnv_shape4(n, c, H, W);
    cnv_attrs a;
    int v = vg->param = cnv_graph_add_value(g, "cnnvis/param", &ps, NULL);
    if (v < 0) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    g->input = v;

    /* Nodes nearer the parameter act last on the gradient: clipping happens after normalizing. */
    if (h->gradclip > 0) {
        cnv_attrs_default(CNV_OP_GRADNORM, &a);
        a.gradnorm_clip = 1;
        a.clip = h->gradclip;
        v = add(g, "cnnvis/gradclip", CNV_OP_GRADNORM, &a, 1, &v, &ps);
    }
    if (v >= 0 && h->gradnorm) {
        cnv_attrs_default(CNV_OP_GRADNORM, &a);
        v = add(g, "cnnvis/gradnorm", CNV_OP_GRADNORM, &a, 1, &v, &ps);
    }
    if (v >= 0 && h->prior) {
        const cnv_image_prior *pr = h->prior;
        if (pr->c != c || pr->h != H || pr->w != W || h->fourier || h->sigmoid)
            return cnv_fail(CNV_ERR_ARG, "the image prior (%dx%dx%d) needs pixels without a sigmoid at the model's "
                            "input size %dx%dx%d", pr->c, pr->h, pr->w, c, H, W);
        int p = c * H * W;
        cnv_shape bs = {2, {pr->k, p}}, ms1 = {1, {p}}, flat = {2, {n, p}};
        int bv = cnv_graph_add_value(g, "cnnvis/prior.basis", &bs, pr->basis),
            mv = cnv_graph_add_value(g, "cnnvis/prior.mean", &ms1, pr->mean);
        if (bv < 0 || mv < 0) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
        cnv_attrs_default(CNV_OP_GEMM, &a);
        v = add(g, "cnnvis/prior", CNV_OP_GEMM, &a, 3, (int[]){v, bv, mv}, &flat);
        cnv_attrs_default(CNV_OP_RESHAPE, &a);
        a.shape_n = 4;
        a.shape[0] = -1;
        a.shape[1] = c;
        a.shape[2] = H;
        a.shape[3] = W;
        if (v >= 0) v = add(g, "cnnvis/prior_image", CNV_OP_RESHAPE, &a, 1, &v, &img);
        /* Clipped to the displayable range, so the model sees exactly the picture that is saved. */
        cnv_attrs_default(CNV_OP_CLIP, &a);
        a.min = 0.0f;
        a.max = 1.0f;
        if (v >= 0) v = add(g, "cnnvis/prior_clip", CNV_OP_CLIP, &a, 1, &v, &img);
    }
    if (v >= 0 && h->fourier) {
        cnv_attrs_default(CNV_OP_FOURIER, &a);
        a.out_hw[0] = H;
        a.out_hw[1] = W;
        a.decay = h->decay;
        v = add(g, "cnnvis/fourier", CNV_OP_FOURIER, &a, 1, &v, &img);
    }
    /* Lucid divides its spectral images by 4 so that Adam's steps in coefficient space move
     * pixels about as much as in pixel space; the factor rides on the decorrelation (or on
     * a plain 1x1 scaling when there is none). */
    const float spectral_gain = h->fourier ? 0.25f : 1.0f;
    if (v >= 0 && h->decorrelate && c == 3) {
        float max_norm = 0, weights[9], bias[3] = {0};
        for (int j = 0; j < 3; j++) {
            float s = 0;
            for (int i = 0; i < 3; i++) s += color_sqrt[i][j] * color_sqrt[i][j];
            if (s > max_norm) max_norm = s;
        }
        max_norm = sqrtf(max_norm);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) weights[i * 3 + j] = spectral_gain * color_sqrt[i][j] / max_norm;
        v = add_pointwise(g, "cnnvis/decorrelate", v, n, 3, 3, H, W, weights, bias);
    } else if (v >= 0 && h->fourier) {
        float weights[9] = {0}, bias[3] = {0};
        for (int i = 0; i < c; i++) weights[i * c + i] = spectral_gain;
        v = add_pointwise(g, "cnnvis/spectral_gain", v, n, c, c, H, W, weights, bias);
    }
    if (v >= 0 && h->sigmoid) {
        cnv_attrs_default(CNV_OP_SIGMOID, &a);
        v = add(g, "cnnvis/sigmoid", CNV_OP_SIGMOID, &a, 1, &v, &img);
    }
    if (v < 0) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    /* Without any head op the parameter is the image; an identity Dropout names it. */
    if (v == vg->param) {
        cnv_attrs_default(CNV_OP_DROPOUT, &a);
        v = add(g, "cnnvis/image", CNV_OP_DROPOUT, &a, 1, &v, &img);
    }
    vg->image = v;
    if (v >= 0 && (h->tv > 0 || h->l1 > 0 || h->l2 > 0)) {
        cnv_attrs_default(CNV_OP_REGULARIZE, &a);
        a.tv = h->tv;
        a.l1 = h->l1;
        a.l2 = h->l2;
        a.l_center = h->l_center;
        v = add(g, "cnnvis/regularize", CNV_OP_REGULARIZE, &a, 1, &v, &img);
    }
    int ch = H, cw = W;
    if (v >= 0 && h->pad > 0) {
        cnv_attrs_default(CNV_OP_PAD, &a);
        a.pad_mode = CNV_PAD_CONSTANT;
        a.pad_value = 0.5f;
        cnv_pad_set(&a, 2, h->pad, h->pad);
        cnv_pad_set(&a, 3, h->pad, h->pad);
        ch += 2 * h->pad;
        cw += 2 * h->pad;
        cnv_shape padded = cnv_shape4(n, c, ch, cw);
        v = add(g, "cnnvis/pad", CNV_OP_PAD, &a, 1, &v, &padded);
    }
    vg->transform = -1;
    if (v >= 0 && (h->transforms || ch != ms->d[2] || cw != ms->d[3])) {
        /* The affine starts as the identity mapping centre to centre (a plain resize when the
         * sizes differ); the runner rewrites it every step. */
        cnv_shape ts = {2, {n, 6}};
        float *t = calloc((size_t)n * 6, sizeof *t);
        if (!t) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
        for (int i = 0; i < n; i++) {
            t[i * 6 + 0] = (float)W / (float)ms->d[3];
            t[i * 6 + 4] = (float)H / (float)ms->d[2];
        }
        vg->transform = cnv_graph_add_value(g, "cnnvis/transform", &ts, t);
        free(t);
        if (vg->transform < 0) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
        cnv_attrs_default(CNV_OP_RESAMPLE, &a);
        a.out_hw[0] = ms->d[2];
        a.out_hw[1] = ms->d[3];
        cnv_shape rs = cnv_shape4(n, c, ms->d[2], ms->d[3]);
        v = add(g, "cnnvis/resample", CNV_OP_RESAMPLE, &a, 2, (int[]){v, vg->transform}, &rs);
    }
    if (v >= 0) v = add_preprocess(g, p, v, n, c, ms->d[2], ms->d[3]);
    if (v < 0) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    *head_out = v;
    return CNV_OK;
}

/* Copies the model's values and nodes after the head, its weights borrowed (the model outlives
 * the visualization graph); the model's input becomes head_out. */
static cnv_status append_model(cnv_vis_graph *vg, const cnv_graph *model, int head_out) {
    cnv_graph *g = vg->g;
    int *map = malloc((size_t)model->n_values * sizeof *map);
    if (!map) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    cnv_status s = CNV_OK;
    for (int i = 0; i < model->n_values && s == CNV_OK; i++) {
        const cnv_value *mv = &model->values[i];
        if (i == model->input) {
            map[i] = head_out;
            continue;
        }
        map[i] = cnv_graph_add_borrowed_value(g, mv);
        if (map[i] < 0) s = cnv_fail(CNV_ERR_NOMEM, "out of memory");
    }
    vg->node_offset = g->n_nodes;
    for (int i = 0; i < model->n_nodes && s == CNV_OK; i++) {
        const cnv_node *mn = &model->nodes[i];
        int in[CNV_MAX_INPUTS];
        for (int j = 0; j < mn->n_in; j++) in[j] = map[mn->in[j]];
        if (cnv_graph_add_node(g, mn->name, mn->op, &mn->attrs, mn->n_in, in, map[mn->out]) < 0)
            s = cnv_fail(CNV_ERR_NOMEM, "out of memory");
    }
    if (s == CNV_OK) g->output = map[model->output];
    vg->model_input = head_out;
    free(map);
    return s;
}

cnv_status cnv_vis_graph_build(const cnv_graph *model, const cnv_preset *preset, const cnv_vis_head *head,
                               cnv_vis_graph *out) {
    memset(out, 0, sizeof *out);
    const cnv_shape *ms = &model->values[model->input].shape;
    if (ms->ndim != 4 || (ms->d[1] != 1 && ms->d[1] != 3))
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: visualizations need an image input (1 or 3 channels), not this %d-D one",
                        model->source, ms->ndim);
    /* A smaller image is upscaled to the model's input (the coarse octaves of a render). */
    if (head->batch < 1 || head->size[0] < 1 || head->size[1] < 1)
        return cnv_fail(CNV_ERR_ARG, "%s: no image size %dx%d (batch %d)", model->source, head->size[0], head->size[1],
                        head->batch);
    out->g = cnv_graph_new(model->source);
    if (!out->g) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    out->g->opset = model->opset;
    int head_out;
    cnv_status s = build_head(out, model, preset, head, &head_out);
    if (s == CNV_OK) s = append_model(out, model, head_out);
    if (s == CNV_OK) {
        cnv_shape *shapes = malloc((size_t)out->g->n_values * sizeof *shapes);
        s = shapes ? cnv_graph_infer_shapes(out->g, &out->g->values[out->param].shape, shapes)
                   : cnv_fail(CNV_ERR_NOMEM, "out of memory");
        free(shapes);
    }
    if (s != CNV_OK) cnv_vis_graph_free(out);
    return s;
}

void cnv_vis_graph_free(cnv_vis_graph *vg) {
    cnv_graph_free(vg->g);
    vg->g = NULL;
}
