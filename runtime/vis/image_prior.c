#include "image_prior.h"

#include "core/status.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK's symmetric eigen-solver (divide and conquer), from the BLAS library cnnvis links. */
extern void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda, float *w, float *work,
                    const int *lwork, int *iwork, const int *liwork, int *info);

/* Rows of centred images per covariance update: bounds the scratch to a few MB. */
enum { CHUNK = 2048 };

/* The upper triangle of the covariance [p, p] of n images (the mean in `mean`). */
static cnv_status covariance(const float *images, int n, int p, const float *mean, float *cov) {
    float *block = malloc((size_t)CHUNK * p * sizeof *block);
    if (!block) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    memset(cov, 0, (size_t)p * p * sizeof *cov);
    for (int first = 0; first < n; first += CHUNK) {
        int rows = n - first < CHUNK ? n - first : CHUNK;
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < p; j++) block[(size_t)r * p + j] = images[(size_t)(first + r) * p + j] - mean[j];
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, p, rows, 1.0f / (float)(n - 1), block, p, 1.0f, cov, p);
    }
    free(block);
    return CNV_OK;
}

/* Eigenvalues (ascending) into w and eigenvectors into the rows of a (row-major a is LAPACK's
 * column-major transpose; the matrix is symmetric, so its eigenvectors land in the rows). */
static cnv_status eigen(float *a, int p, float *w) {
    int lwork = -1, liwork = -1, info = 0, iwork_size = 0;
    float work_size = 0;
    ssyevd_("V", "L", &p, a, &p, w, &work_size, &lwork, &iwork_size, &liwork, &info);
    if (info != 0) return cnv_fail(CNV_ERR_INTERNAL, "image prior: the eigen-solver's workspace query failed (%d)", info);
    lwork = (int)work_size;
    liwork = iwork_size;
    float *work = malloc((size_t)lwork * sizeof *work);
    int *iwork = malloc((size_t)liwork * sizeof *iwork);
    if (!work || !iwork) {
        free(work);
        free(iwork);
        return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    }
    /* Row-major upper = column-major lower. */
    ssyevd_("V", "L", &p, a, &p, w, work, &lwork, iwork, &liwork, &info);
    free(work);
    free(iwork);
    return info == 0 ? CNV_OK : cnv_fail(CNV_ERR_INTERNAL, "image prior: the eigen-solver failed (%d)", info);
}

cnv_status cnv_image_prior_fit(const float *images, int n, int c, int h, int w, int k, cnv_image_prior *out) {
    memset(out, 0, sizeof *out);
    const int p = c * h * w;
    if (p < 1 || k < 1 || k > p || k > n - 1)
        return cnv_fail(CNV_ERR_ARG, "image prior: %d components from %d images of %d values", k, n, p);
    float *cov = malloc((size_t)p * p * sizeof *cov), *eig = malloc((size_t)p * sizeof *eig);
    out->mean = calloc((size_t)p, sizeof *out->mean);
    out->basis = malloc((size_t)k * p * sizeof *out->basis);
    out->sd = malloc((size_t)k * sizeof *out->sd);
    cnv_status s = cov && eig && out->mean && out->basis && out->sd ? CNV_OK : cnv_fail(CNV_ERR_NOMEM, "out of memory");
    if (s == CNV_OK) {
        double *sum = calloc((size_t)p, sizeof *sum);
        if (!sum) s = cnv_fail(CNV_ERR_NOMEM, "out of memory");
        for (int i = 0; sum && i < n; i++)
            for (int j = 0; j < p; j++) sum[j] += images[(size_t)i * p + j];
        for (int j = 0; sum && j < p; j++) out->mean[j] = (float)(sum[j] / n);
        free(sum);
    }
    if (s == CNV_OK) s = covariance(images, n, p, out->mean, cov);
    if (s == CNV_OK) s = eigen(cov, p, eig);
    for (int r = 0; r < k && s == CNV_OK; r++) {
        int src = p - 1 - r; /* the largest eigenvalues come last */
        float sd = sqrtf(eig[src] > 0 ? eig[src] : 0);
        out->sd[r] = sd;
        for (int j = 0; j < p; j++) out->basis[(size_t)r * p + j] = sd * cov[(size_t)src * p + j];
    }
    free(cov);
    free(eig);
    if (s != CNV_OK) {
        cnv_image_prior_free(out);
        return s;
    }
    out->k = k;
    out->c = c;
    out->h = h;
    out->w = w;
    return CNV_OK;
}

void cnv_image_prior_free(cnv_image_prior *p) {
    free(p->mean);
    free(p->basis);
    free(p->sd);
    memset(p, 0, sizeof *p);
}
