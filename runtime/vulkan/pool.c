/* Pool geometry shared by maxpool.c and avgpool.c (see pool.h). */
#include "pool.h"

#include "core/status.h"

cnv_status cnv_vk_pool_geometry(const cnv_op_io *io, const char *what, cnv_vk_pool_push *p) {
    const cnv_shape *x = &io->in_shape[0], *y = &io->out_shape;
    if (x->ndim != 4 || y->ndim != 4 || x->d[0] != y->d[0] || x->d[1] != y->d[1] || x->d[2] * x->d[3] == 0)
        return cnv_fail(CNV_ERR_SHAPE, "%s '%s': input and output must be non-empty NCHW with the same N, C", what,
                        io->node->name);
    const cnv_attrs *a = &io->node->attrs;
    *p = (cnv_vk_pool_push){
        .h = x->d[2], .w = x->d[3], .oh = y->d[2], .ow = y->d[3],
        .kh = a->kernel[0], .kw = a->kernel[1], .sh = a->stride[0], .sw = a->stride[1],
        .ph = a->pads[0], .pw = a->pads[1], .dh = a->dilation[0], .dw = a->dilation[1],
        .ph_hi = a->pads[2], .pw_hi = a->pads[3], .include_pad = a->count_include_pad,
    };
    if (p->sh < 1 || p->sw < 1 || p->dh < 1 || p->dw < 1)
        return cnv_fail(CNV_ERR_ARG, "%s '%s': strides and dilations must be positive", what, io->node->name);
    return CNV_OK;
}

size_t cnv_vk_pool_planes(const cnv_op_io *io) { return (size_t)io->in_shape[0].d[0] * io->in_shape[0].d[1]; }
