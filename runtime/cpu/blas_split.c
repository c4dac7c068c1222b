/* Matrix products split among the pool's threads, each running OpenBLAS on one thread.
 *
 * OpenBLAS's own workers, once woken for a product, spin (sched_yield in a loop) for a while
 * after it before they sleep. On a 2-core machine they then share the cores with the pool's
 * threads running the next ReLU or pooling loop: SqueezeNet's batch-8 step, whose im2col
 * products are many and small, came out either 0.23 or 0.32 s from one repeat to the next, and
 * steadily 0.25 s with OPENBLAS_THREAD_TIMEOUT=4 (docs/BENCHMARKS.md, session 11). Split here,
 * with a 1x1 conv's products for the whole batch handed to the pool in one wake, the products
 * never wake OpenBLAS's threads: the step's median went to 0.23-0.24 s in 8 runs, against
 * 0.24-0.32 s. The Winograd path's products are split the same way (conv_winograd.c). */
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
/* Below CNV_CPU_SPLIT_MIN_WORK multiply-adds the products run on the calling thread, OpenBLAS on
 * one thread too. Handed to OpenBLAS's own workers instead, those spun beside the pool's next
 * loop; with the im2col path's products over several images at once (conv.c) and the Gemm op's
 * here as well, a fashion-cnn training step came out at 0.0150-0.0200 s from run to run with the
 * workers, a steady 0.0159 s without. */

/* Columns per product call where the Relu of C is taken too (relu_c): few enough that the block
 * (m rows of them) is still in cache when the Relu reads it, enough that A's repacking per call
 * stays a small share. */
#define RELU_BLOCK_COLS 1024

/* relu_c = max(c, 0) over rows x cols of two matrices with row stride ld. */
CNV_CPU_CLONES static void relu_block(const float *c, float *relu_c, int rows, size_t cols, int ld) {
    for (int r = 0; r < rows; r++) cnv_cpu_relu_copy(c + (size_t)r * ld, relu_c + (size_t)r * ld, cols);
}

/* Column blocks [j0, j1) of product i: bias rows first where asked, then op(B)'s same columns,
 * which sit at B + j (B stored [K, N]) or at B + j * ldb (stored [N, K], read transposed). */
static void block_run(const cnv_cpu_products *p, size_t i, size_t j0, size_t j1) {
    const size_t at = i % (size_t)p->a_period, step = p->relu_c ? RELU_BLOCK_COLS : j1 - j0;
    for (size_t s0 = j0; s0 < j1; s0 += step) {
        const size_t s1 = j1 - s0 < step ? j1 : s0 + step, offset = i * p->c_stride + s0;
        float *c = p->c + offset;
        if (p->bias)
            for (int r = 0; r < p->m; r++)
                for (size_t j = 0; j < s1 - s0; j++) c[(size_t)r * p->ldc + j] = p->bias[at * (size_t)p->m + (size_t)r];
        const float *b = p->b + i * p->b_stride + (p->tb ? s0 * (size_t)p->ldb : s0);
        cblas_sgemm(CblasRowMajor, p->ta ? CblasTrans : CblasNoTrans, p->tb ? CblasTrans : CblasNoTrans, p->m,
                    (int)(s1 - s0), p->k, p->alpha, p->a + at * p->a_stride, p->lda, b, p->ldb,
                    p->bias ? 1.0f : p->beta, c, p->ldc);
        if (p->relu_c) relu_block(c, p->relu_c + offset, p->m, s1 - s0, p->ldc);
    }
}

/* Row blocks [r0, r1) of product i, all its columns: A's rows sit at A + r * lda (stored
 * [M, K]) or A + r (stored [K, M], read transposed). */
static void rows_run(const cnv_cpu_products *p, size_t i, size_t r0, size_t r1) {
    cnv_cpu_products q = *p;
    const size_t at = i % (size_t)p->a_period;
    q.m = (int)(r1 - r0);
    q.a = p->a + at * p->a_stride + (p->ta ? r0 : r0 * (size_t)p->lda);
    q.a_stride = 0, q.a_period = 1;
    q.bias = p->bias ? p->bias + at * (size_t)p->m + r0 : NULL;
    q.b = p->b + i * p->b_stride, q.b_stride = 0;
    q.c = p->c + i * p->c_stride + r0 * (size_t)p->ldc;
    q.relu_c = p->relu_c ? p->relu_c + (q.c - p->c) : NULL;
    block_run(&q, 0, 0, (size_t)p->n);
}

/* A product split by columns (SPLIT_COLS), or by rows (SPLIT_ROWS) where it has too few columns
 * to give each thread some (ResNet-50's 7x7 layers: 49 columns, 2048 rows). */
typedef struct split {
    const cnv_cpu_products *p;
    size_t block, blocks; /* per product: rows or columns per item, items */
    int by_rows;
} split;

/* Items [lo, hi) of count x blocks, each thread's run of blocks within one product in one call. */
static void items(void *ctx, size_t lo, size_t hi) {
    const split *sp = ctx;
    const size_t blocks = sp->blocks, extent = sp->by_rows ? (size_t)sp->p->m : (size_t)sp->p->n;
    while (lo < hi) {
        const size_t i = lo / blocks, first = lo % blocks, last = hi - i * blocks < blocks ? hi - i * blocks : blocks;
        const size_t end = last * sp->block < extent ? last * sp->block : extent;
        if (sp->by_rows)
            rows_run(sp->p, i, first * sp->block, end);
        else
            block_run(sp->p, i, first * sp->block, end);
        lo = (i + 1) * blocks;
    }
}

/* Rows per item where a product is split by rows: a multiple of OpenBLAS's register blocks. */
#define SPLIT_ROWS 64

void cnv_cpu_products_here(const cnv_cpu_products *p) {
    for (int i = 0; i < p->count; i++) block_run(p, (size_t)i, 0, (size_t)p->n);
}

void cnv_cpu_products_run(const cnv_cpu_products *p) {
    split sp = {p, SPLIT_COLS, ((size_t)p->n + SPLIT_COLS - 1) / SPLIT_COLS, 0};
    if (sp.blocks * (size_t)p->count < 2 && p->m >= 2 * SPLIT_ROWS)
        sp = (split){p, SPLIT_ROWS, ((size_t)p->m + SPLIT_ROWS - 1) / SPLIT_ROWS, 1};
    const size_t n_items = sp.blocks * (size_t)p->count;
    cnv_cpu_blas_single_begin();
    if ((size_t)p->count * p->m * p->n * p->k < CNV_CPU_SPLIT_MIN_WORK || n_items < 2)
        cnv_cpu_products_here(p);
    else
        cnv_cpu_parallel(n_items, 2, items, &sp);
    cnv_cpu_blas_single_end();
}
