/* Constants that define a penalty the same way on every backend (and in the test oracles). */
#ifndef CNV_CORE_PENALTY_H
#define CNV_CORE_PENALTY_H

/* Regularize: the constant inside the TV power, (dv^2 + dh^2 + CNV_TV_EPS)^(beta/2), so that
 * beta < 2 stays differentiable where the image is flat. */
#define CNV_TV_EPS 1e-8f

#endif
