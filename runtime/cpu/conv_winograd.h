/* Conv's Winograd path on the CPU (conv_winograd.c), used by conv.c for 3x3 kernels at stride 1
 * and dilation 1 without groups, forward and backward to the data, with 2x2 or 4x4 output tiles. */
#ifndef CNV_CPU_CONV_WINOGRAD_H
#define CNV_CPU_CONV_WINOGRAD_H

#include <stddef.h>

/* One 3x3 stride-1 correlation over a batch: output pixel (oy, ox) of channel o sums the 3x3
 * window of every input channel whose top-left tap is at (oy - pt, ox - pl); taps outside the
 * input read 0. pt and pl may be anything, negative included (the backward's 2 - pad). */
typedef struct cnv_winograd_conv {
    int m;          /* the tile: F(2x2, 3x3) or F(4x4, 3x3) (conv_winograd.c) */
    int n;          /* images */
    int ci, h, w;   /* input planes */
    int co, oh, ow; /* output planes */
    int pt, pl;
    /* The backward to the data: the kernels are the forward conv's (from co to ci channels),
     * rotated by 180 degrees and transposed. Its transformed weights are then the forward's,
     * of the same tile, read transposed at mirrored positions. */
    int transposed;
    float *relu_y; /* forward (not accumulating): max(y, 0) here too, laid out as y; NULL: not */
} cnv_winograd_conv;

/* Floats of a Conv weight [co][ci][3][3] once transformed for tile m. */
size_t cnv_cpu_winograd_weights_floats(int m, int co, int ci);
/* Transforms a Conv weight [co][ci][3][3] for cnv_cpu_winograd_run with tile m (threaded). */
void cnv_cpu_winograd_weights(int m, const float *w, int co, int ci, float *u);

/* Floats of scratch cnv_cpu_winograd_run needs for s (its transformed weights apart). */
size_t cnv_cpu_winograd_workspace(const cnv_winograd_conv *s);

/* y = bias + x ⋆ w (bias may be NULL: y = x ⋆ w); or, with accumulate, y += x ⋆ w; u is w
 * transformed (of the forward conv where s is transposed). work holds
 * cnv_cpu_winograd_workspace(s) floats. */
void cnv_cpu_winograd_run(const cnv_winograd_conv *s, const float *x, const float *u, const float *bias,
                          int accumulate, float *y, float *work);

#endif
