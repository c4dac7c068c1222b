/* A Gaussian image prior fitted to a data set (principal component analysis): an image is
 * mean + sum_k z_k * sqrt(lambda_k) * u_k over the K leading eigenvectors u_k of the images'
 * covariance, so z ~ N(0, I) spans the images the data set makes likely. Optimizing z with an
 * L2 penalty on it (the prior's log-density) keeps a visualization among plausible images of
 * the data, where pixels alone drift into strokes and textures the model also responds to;
 * for small grey data sets such as Fashion-MNIST this is what makes class images look like the
 * garments (a linear, data-fitted stand-in for the learned generators of Nguyen et al. 2016). */
#ifndef CNV_VIS_IMAGE_PRIOR_H
#define CNV_VIS_IMAGE_PRIOR_H

#include "cnnvis/cnnvis.h"

typedef struct cnv_image_prior {
    int k;        /* components */
    int c, h, w;  /* image size */
    float *mean;  /* [c*h*w] */
    float *basis; /* [k, c*h*w]: row k is u_k * sqrt(lambda_k), the largest first */
    float *sd;    /* [k]: sqrt(lambda_k) */
} cnv_image_prior;

/* Fits the prior to n images [n, c, h, w] (values 0..1) with k components (k <= c*h*w,
 * k <= n - 1). CNV_ERR_ARG for bad sizes, CNV_ERR_INTERNAL if the eigen-solver fails. */
cnv_status cnv_image_prior_fit(const float *images, int n, int c, int h, int w, int k, cnv_image_prior *out);
void cnv_image_prior_free(cnv_image_prior *p);

#endif
