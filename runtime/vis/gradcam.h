/* Class activation maps of one input, given an executor whose input is set (batch 1).
 *
 * Grad-CAM (Selvaraju et al. 2017): with A the output of a layer (C x H x W) and y the logit of
 * class k, w_c = mean over positions of dy/dA_c, and cam = relu(sum_c w_c A_c).
 * CAM (Zhou et al. 2016): for a model that ends in GlobalAveragePool and then a linear layer
 * (Gemm/MatMul, possibly through Flatten/Reshape and a bias Add) or directly in the logits,
 * cam = sum_c W[k, c] A_c with A the pooled map (or cam = A_k without a linear layer). CAM is
 * left unrectified, as in the paper; its display is min-max normalized anyway. */
#ifndef CNV_VIS_GRADCAM_H
#define CNV_VIS_GRADCAM_H

#include "core/exec.h"

/* The default layer is cnv_graph_last_map_node(g, logits_node) (core/graph.h). */

/* Grad-CAM of class cls at `layer` (a node); cam receives H*W floats of the layer's output.
 * Runs forward to logits_node and backward from its logit cls. */
cnv_status cnv_gradcam(cnv_exec *ex, int layer, int logits_node, int cls, float *cam);

/* The part of a model CAM needs: the map that is globally pooled and the weights after it. */
typedef struct cnv_cam_head {
    int layer;              /* the node whose output is pooled */
    const float *weights;   /* linear weights (graph-owned); NULL: the logits are the pooled map */
    int trans_b;            /* weights are [classes, C] (Gemm transB=1) rather than [C, classes] */
    float alpha;            /* Gemm alpha (1 for MatMul) */
    int n_channels, n_classes;
} cnv_cam_head;

/* Finds the CAM head ending at logits_node; CNV_ERR_UNSUPPORTED (saying why) when the model does
 * not end in GlobalAveragePool [+ linear]. */
cnv_status cnv_cam_head_find(const cnv_graph *g, int logits_node, cnv_cam_head *head);

/* CAM of class cls; cam receives H*W floats of the head layer's output. Runs forward to the
 * head's layer. */
cnv_status cnv_cam(cnv_exec *ex, const cnv_cam_head *head, int cls, float *cam);

#endif
