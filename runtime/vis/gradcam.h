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

/* Grad-CAM (cnv_gradcam, its default layer cnv_graph_last_map_node) and CAM (cnv_cam_head,
 * cnv_cam_head_find, cnv_cam) are public: cnnvis/attribution.h. vis/gradcam.c implements them
 * over the executor's internals. */
#include "cnnvis/attribution.h"

#endif
