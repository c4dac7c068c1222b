/* SGD with momentum and Adam steps (core/optim.h) on the CPU; same arithmetic, in the same
 * float order, as shaders/optimizer_step.comp. */
#include "cpu_ops.h"

#include <math.h>

void cnv_cpu_optim_step(cnv_optim_kind kind, float *x, const float *g, float *m, float *v, const float *hyper,
                        size_t n) {
    const float lr = hyper[CNV_HYPER_LR], b1 = hyper[CNV_HYPER_BETA1], wd = hyper[CNV_HYPER_WD];
    if (kind == CNV_OPTIM_SGD) {
        for (size_t i = 0; i < n; i++) {
            m[i] = b1 * m[i] + (g[i] + wd * x[i]);
            x[i] += lr * m[i];
        }
        return;
    }
    const float b2 = hyper[CNV_HYPER_BETA2], eps = hyper[CNV_HYPER_EPS];
    const float c1 = hyper[CNV_HYPER_C1], c2 = hyper[CNV_HYPER_C2];
    for (size_t i = 0; i < n; i++) {
        const float gi = g[i] + wd * x[i];
        m[i] = b1 * m[i] + (1.0f - b1) * gi;
        v[i] = b2 * v[i] + (1.0f - b2) * (gi * gi);
        x[i] += lr * (m[i] * c1) / (sqrtf(v[i] * c2) + eps);
    }
}
