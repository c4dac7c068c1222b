/* TEMPORARY STUB: replaced by the real kernel in this session. */
#include "cpu_ops.h"
#include "core/status.h"
cnv_status cnv_cpu_activation_forward(const cnv_cpu_args *a) { return cnv_fail(CNV_ERR_UNSUPPORTED, "activation: not yet"); }
cnv_status cnv_cpu_activation_backward(const cnv_cpu_args *a) { return cnv_fail(CNV_ERR_UNSUPPORTED, "activation: not yet"); }
