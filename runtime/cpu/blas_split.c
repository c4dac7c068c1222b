/* Matrix products split among the pool's threads, each running OpenBLAS on one thread.
 *
 * OpenBLAS's own workers, once woken for a product, spin (sched_yield in a loop) for a while
 * after it before they sleep. On a 2-core machine they then share the cores with the pool's
 * threads running the next ReLU or pooling loop: SqueezeNet's batch-8 step, whose im2col
 * products are many and small, came out either 0.23 or 0.32 s from one repeat to the next, and
 * steadily 0.25 s with OPENBLAS_THREAD_TIMEOUT=4 (docs/BENCHMARKS.md, session 11). Split here,
 * the products never wake OpenBLAS's threads (the step's median: 0.25-0.27 s in 9 runs, against
 * 0.24-0.33 s); the Winograd path's products are split the same way (conv_winograd.c). Small
 * products (training's 28x28 planes) stay with OpenBLAS and its own choice of threads. */
#include "cpu_ops.h"

#include <cblas.h>
#include <pthread.h>

/* OpenBLAS's thread count is one setting for the whole process: while any split product runs it
 * is 1, and the last one to finish puts back what the first one found, so that products on
 * several threads (two backends at once) cannot leave it at 1. */
static pthread_mutex_t blas_lock = PTHREAD_MUTEX_INITIALIZER;
static int blas_users, blas_threads;

void cnv_cpu_blas_single_begin(void) {
    pthread_mutex_lock(&blas_lock);
    if (blas_users++ == 0) {
        blas_threads = openblas_get_num_threads();
        openblas_set_num_threads(1);
    }
    pthread_mutex_unlock(&blas_lock);
}

void cnv_cpu_blas_single_end(void) {
    pthread_mutex_lock(&blas_lock);
    if (--blas_users == 0) openblas_set_num_threads(blas_threads);
    pthread_mutex_unlock(&blas_lock);
}

/* Columns of C per item: a multiple of OpenBLAS's register blocks, wide enough that a thread's
 * share repacks A rarely. */
#define SPLIT_COLS 64
/* Below this many multiply-adds a product stays on the calling thread (about 10 us of work). */
#define SPLIT_MIN_WORK ((size_t)1 << 19)

typedef struct split_job {
    int ta, tb, m, n, k;
    float alpha, beta;
    const float *a, *b;
    int lda, ldb, ldc;
    float *c;
} split_job;

/* Column blocks [lo, hi) of C: op(B)'s same columns, which sit at B + j (B stored [K, N]) or at
 * B + j * ldb (stored [N, K], read transposed). */
static void columns(void *ctx, size_t lo, size_t hi) {
    const split_job *s = ctx;
    const int j0 = (int)lo * SPLIT_COLS, j1 = (size_t)s->n < hi * SPLIT_COLS ? s->n : (int)hi * SPLIT_COLS;
    const float *b = s->b + (s->tb ? (size_t)j0 * s->ldb : (size_t)j0);
    cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans, s->m, j1 - j0,
                s->k, s->alpha, s->a, s->lda, b, s->ldb, s->beta, s->c + j0, s->ldc);
}

void cnv_cpu_sgemm_split(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
                         int ldb, float beta, float *c, int ldc) {
    split_job s = {ta, tb, m, n, k, alpha, beta, a, b, lda, ldb, ldc, c};
    const size_t blocks = ((size_t)n + SPLIT_COLS - 1) / SPLIT_COLS;
    if ((size_t)m * (size_t)n * (size_t)k < SPLIT_MIN_WORK || blocks < 2) {
        columns(&s, 0, blocks); /* OpenBLAS's own choice of threads */
        return;
    }
    cnv_cpu_blas_single_begin();
    cnv_cpu_parallel(blocks, 2, columns, &s);
    cnv_cpu_blas_single_end();
}
