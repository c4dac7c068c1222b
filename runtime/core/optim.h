/* Optimizer steps (SGD with momentum, Adam) over a tensor and its gradient, run by the backend
 * so a whole visualization step stays on the device. Hyper-parameters live in a small buffer
 * (CNV_HYPER_COUNT floats) that the host rewrites between steps: a recorded program then
 * picks up each step's values without being recorded again. */
#ifndef CNV_CORE_OPTIM_H
#define CNV_CORE_OPTIM_H

#include <stddef.h>

#include "cnnvis/cnnvis.h" /* cnv_optim_kind */

/* Slots of the hyper buffer. x moves along +g (gradient ascent) by lr; a negative lr descends. */
enum {
    CNV_HYPER_LR,    /* step size */
    CNV_HYPER_BETA1, /* SGD: momentum; Adam: first-moment decay */
    CNV_HYPER_BETA2, /* Adam: second-moment decay */
    CNV_HYPER_EPS,   /* Adam: denominator epsilon */
    CNV_HYPER_C1,    /* Adam: 1 / (1 - beta1^t), bias correction of step t */
    CNV_HYPER_C2,    /* Adam: 1 / (1 - beta2^t) */
    CNV_HYPER_WD,    /* L2 weight decay: the step follows g + WD * x, the gradient of the objective plus
                      * WD/2 |x|^2 (as PyTorch's weight_decay); with a descending (negative) lr it pulls
                      * x toward zero. cnv_optim_hyper sets it to 0. */
    CNV_HYPER_COUNT
};

typedef struct cnv_buf cnv_buf;

typedef struct cnv_optim_io {
    cnv_optim_kind kind;
    cnv_buf *x;     /* updated in place */
    cnv_buf *g;     /* gradient of the objective w.r.t. x */
    cnv_buf *m;     /* SGD: velocity; Adam: first moment (zero at start) */
    cnv_buf *v;     /* Adam: second moment (zero at start); unused by SGD (may be NULL) */
    cnv_buf *hyper; /* CNV_HYPER_COUNT floats */
    size_t n;
} cnv_optim_io;

/* Fills the hyper slots for step t (1-based). */
void cnv_optim_hyper(float lr, float beta1, float beta2, float eps, int t, float hyper[CNV_HYPER_COUNT]);

#endif
