/* Conv's depthwise path on the CPU (conv_depthwise.c), used by conv.c where every group holds
 * one input and one output channel (MobileNet's, EfficientNet's and ConvNeXt's k x k depthwise
 * layers), dilation 1: a direct correlation per plane, forward and backward to the data. */
#ifndef CNV_CPU_CONV_DEPTHWISE_H
#define CNV_CPU_CONV_DEPTHWISE_H

/* Plane p = image * c + channel of y (forward) or of dx (backward) against the same plane of x
 * or dy, weights [c][kh][kw]. */
typedef struct cnv_depthwise_conv {
    int n, c, h, w, oh, ow; /* input planes h x w, output planes oh x ow */
    int kh, kw, sh, sw;     /* kernel and strides */
    int pt, pl;             /* top and left padding */
    const float *wt;
} cnv_depthwise_conv;

/* y = bias + x ⋆ w per plane (bias may be NULL), and max(y, 0) into relu_y too where it is not
 * NULL (it may be y itself). Threaded over planes. */
void cnv_cpu_depthwise_forward(const cnv_depthwise_conv *d, const float *x, const float *bias, float *y,
                               float *relu_y);

/* dx = (assign) or += the transposed correlation of dy with w. Threaded over planes. */
void cnv_cpu_depthwise_backward_data(const cnv_depthwise_conv *d, const float *dy, int assign, float *dx);

#endif
