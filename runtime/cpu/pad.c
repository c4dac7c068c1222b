/* TEMPORARY STUB: replaced by the real kernel in this session. */
#include "cpu_ops.h"
#include "core/status.h"
cnv_status cnv_cpu_pad_forward(const cnv_cpu_args *a) { return cnv_fail(CNV_ERR_UNSUPPORTED, "pad: not yet"); }
cnv_status cnv_cpu_pad_backward(const cnv_cpu_args *a) { return cnv_fail(CNV_ERR_UNSUPPORTED, "pad: not yet"); }
