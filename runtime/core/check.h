/* A backend checked against another on a whole model (cnnvis/tools.h: cnv_check_backends), and
 * the two pieces of it other code reuses. */
#ifndef CNV_CORE_CHECK_H
#define CNV_CORE_CHECK_H

#include "cnnvis/tools.h"
#include "exec.h"

/* ‖a−b‖/‖b‖ in double; 0 when both are zero, +inf when only b is. */
double cnv_rel_error(const float *a, const float *b, size_t n);

/* The seed gradient of "mean of channel c" of a tensor of shape s (N x C x ...): 1/(N*H*W) on
 * that channel's elements, 0 elsewhere. seed holds numel(s) floats. */
void cnv_channel_mean_seed(const cnv_shape *s, int channel, float *seed);

#endif
