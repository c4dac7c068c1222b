/* TEMPORARY STUB: replaced by the real kernels in this session. */
#include "vk_backend.h"
#include "core/status.h"
cnv_status cnv_vk_avgpool_forward(cnv_vk_backend *vb, const cnv_op_io *io) { return cnv_fail(CNV_ERR_UNSUPPORTED, "vulkan avgpool: not yet"); }
cnv_status cnv_vk_avgpool_backward(cnv_vk_backend *vb, const cnv_op_io *io) { return cnv_fail(CNV_ERR_UNSUPPORTED, "vulkan avgpool: not yet"); }
