/* Conv's Winograd path on the CPU (conv_winograd.c), used by conv.c for 3x3 kernels at stride 1
 * and dilation 1 without groups, forward and backward to the data. */
#ifndef CNV_CPU_CONV_WINOGRAD_H
#define CNV_CPU_CONV_WINOGRAD_H

#include <stddef.h>

/* One 3x3 stride-1 correlation over a batch: output pixel (oy, ox) of channel o sums the 3x3
 * window of every input channel whose top-left tap is at (oy - pt, ox - pl); taps outside the
 * input read 0. pt and pl may be anything, negative included (the backward's 2 - pad). */
typedef struct cnv_winograd_conv {
    int n;          /* images */
    int ci, h, w;   /* input planes */
    int co, oh, ow; /* output planes */
    int pt, pl;
    /* The weights as given to Conv, [co][ci][3][3]; or, for the backward to the data, the
     * forward conv's [ci][co][3][3], used flipped (the correlation of dY with the rotated
     * kernel is the transposed convolution). */
    int transposed;
} cnv_winograd_conv;

/* Floats of scratch cnv_cpu_winograd_run needs for s. */
size_t cnv_cpu_winograd_workspace(const cnv_winograd_conv *s);

/* y = bias + x ⋆ w (bias may be NULL: y = x ⋆ w); or, with accumulate, y += x ⋆ w.
 * work holds cnv_cpu_winograd_workspace(s) floats. */
void cnv_cpu_winograd_run(const cnv_winograd_conv *s, const float *x, const float *w, const float *bias,
                          int accumulate, float *y, float *work);

#endif
