/* The deconvnet of Zeiler & Fergus ("Visualizing and Understanding Convolutional Networks",
 * 2014): one feature of a layer projected back to pixel space. Everything but the chosen
 * activations of the layer is set to zero, and the result goes back down through the network
 * with the executor's backward under the deconvnet rule: convolutions by their transposed
 * filters (the backward to the data), max pools unpooled through the switches recorded by the
 * forward (or by filling each window), and rectification of the signal itself (Relu passes
 * relu(dy), whatever the forward input was).
 *
 * Its calls are public (cnnvis/attribution.h: cnv_deconv_project, cnv_deconv_strongest_channels,
 * cnv_signal_picture); vis/deconv.c implements them over the executor's internals. */
#ifndef CNV_VIS_DECONV_H
#define CNV_VIS_DECONV_H

#include "core/exec.h"
#include "cnnvis/attribution.h"

#endif
