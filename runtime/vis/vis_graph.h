/* The visualization graph: a head of image-space ops that turns a parameter tensor into the
 * model's input, followed by the model's own nodes. Forward runs from the parameter through
 * the model; backward brings the objective's gradient back to the parameter, where the
 * optimizer steps. The whole chain is one cnv_graph, so the executor, both backends and
 * recorded programs serve it unchanged.
 *
 *   param -> [GradNorm] -> [Fourier | image prior: Gemm + Reshape] -> [decorrelate: 1x1 Conv] -> [Sigmoid]
 *         = image (0..1, RGB or gray)
 *         -> [Regularize] -> [Pad] -> [Resample (per-step affine)] -> preprocess (1x1 Conv) -> model */
#ifndef CNV_VIS_VIS_GRAPH_H
#define CNV_VIS_VIS_GRAPH_H

#include "image_prior.h"
#include "core/graph.h"
#include "models/preset.h"

typedef struct cnv_vis_head {
    int batch;           /* images optimized together */
    int size[2];         /* image H, W (resampled to the model's input) */
    int fourier;         /* spectral parameterization (else pixels) */
    float decay;         /* Fourier amplitude decay power */
    int decorrelate;     /* ImageNet colour decorrelation (3-channel models only) */
    int sigmoid;         /* squash to 0..1 (else the parameter is the image itself) */
    int pad;             /* pixels of constant 0.5 around the image before resampling */
    int transforms;      /* a Resample node whose per-item affine is set each step */
    float tv, l1, l2;    /* penalties on the image (0: no Regularize node) */
    float l_center;      /* the value L1/L2 pull towards */
    int gradnorm;        /* normalize the parameter's gradient by its mean |g| per item */
    float gradclip;      /* then clip it to [-gradclip, gradclip] (0: no clipping) */
    /* When set (pixels without a sigmoid only): the parameter is the prior's coefficients z
     * [N, k] and the image is mean + z basis, reshaped to the prior's (= the model's) size. */
    const cnv_image_prior *prior;
} cnv_vis_head;

typedef struct cnv_vis_graph {
    cnv_graph *g;
    int param;       /* value: the parameter (the graph input) */
    int image;       /* value: the displayable image [N, C, H, W] */
    int transform;   /* value: the Resample affine [N, 6] (a constant input), -1 without transforms */
    int model_input; /* value that feeds the model */
    int node_offset; /* index in g of the model's first node */
} cnv_vis_graph;

/* Builds the graph for `model` with its preset (channel order, scale, mean/std). */
cnv_status cnv_vis_graph_build(const cnv_graph *model, const cnv_preset *preset, const cnv_vis_head *head,
                               cnv_vis_graph *out);
void cnv_vis_graph_free(cnv_vis_graph *vg);

/* The parameter's shape for a head (pixels: [N, C, H, W]; Fourier: [N, 2C, H, W/2+1]; image
 * prior: [N, k]). */
cnv_shape cnv_vis_param_shape(const cnv_vis_head *head, int channels);

#endif
