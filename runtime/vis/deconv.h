/* The deconvnet of Zeiler & Fergus ("Visualizing and Understanding Convolutional Networks",
 * 2014): one feature of a layer projected back to pixel space. Everything but the chosen
 * activations of the layer is set to zero, and the result goes back down through the network
 * with the executor's backward under the deconvnet rule: convolutions by their transposed
 * filters (the backward to the data), max pools unpooled through the switches recorded by the
 * forward (or by filling each window), and rectification of the signal itself (Relu passes
 * relu(dy), whatever the forward input was). */
#ifndef CNV_VIS_DECONV_H
#define CNV_VIS_DECONV_H

#include "core/exec.h"
#include "cnnvis/picture.h"
#include "models/preset.h"

typedef struct cnv_deconv_opts {
    int channel;
    int all_positions; /* 0: keep only the channel's strongest activation (Zeiler & Fergus) */
    int unpool_fill;   /* 0: unpool through the switches; 1: copy to the whole window */
} cnv_deconv_opts;

/* Projects a channel of node's output (per batch item) to the input. Needs the input set and a
 * forward to node. out: the graph input's size at the executor's batch. *peak (may be NULL)
 * gets item 0's strongest activation of the channel. Leaves the executor's rules at the
 * gradient. */
cnv_status cnv_deconv_project(cnv_exec *ex, int node, const cnv_deconv_opts *o, float *out, float *peak);

/* The k channels of an N x C x ... activation (batch item 0) with the largest maxima, largest
 * first, and those maxima (peaks may be NULL). k <= C. */
cnv_status cnv_deconv_strongest_channels(const float *act, const cnv_shape *s, int k, int *channels, float *peaks);

/* An input-space signal (1 x C x H x W, C = 1 or 3, in the model's channel order) as a picture:
 * each channel scaled back to pixel units by the preset's std/scale and reordered to RGB, then
 * zero at mid-gray (as in Zeiler & Fergus's figures) and the 99th percentile of the nonzero
 * magnitudes at black or white (larger ones clipped). */
cnv_status cnv_signal_picture(const float *x, const cnv_shape *s, const cnv_preset *p, cnv_image *out);

#endif
