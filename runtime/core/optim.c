#include "optim.h"

#include <math.h>

void cnv_optim_hyper(float lr, float beta1, float beta2, float eps, int t, float hyper[CNV_HYPER_COUNT]) {
    hyper[CNV_HYPER_LR] = lr;
    hyper[CNV_HYPER_BETA1] = beta1;
    hyper[CNV_HYPER_BETA2] = beta2;
    hyper[CNV_HYPER_EPS] = eps;
    /* Computed in double on the host so every backend applies the same corrections. */
    hyper[CNV_HYPER_C1] = (float)(1.0 / (1.0 - pow(beta1, t)));
    hyper[CNV_HYPER_C2] = (float)(1.0 / (1.0 - pow(beta2, t)));
    hyper[CNV_HYPER_WD] = 0.0f;
}
