/* CPU backend: one file per op (conv.c, maxpool.c, ...), each exporting a forward and a
 * backward over plain float arrays. backward accumulates (+=) into every non-NULL grad_in, or
 * writes those its assign bits mark. */
#ifndef CNV_CPU_OPS_H
#define CNV_CPU_OPS_H

#include "core/backend.h"
#include "core/graph.h"
#include "core/optim.h"
#include "core/penalty.h"

#include <stdint.h>

/* A form of a constant input an op prepares once and keeps with that input's buffer (conv's
 * Winograd-transformed weights): valid while the buffer's data is unchanged, dropped when it is
 * written. The block is allocated when the call is prepared (so that replaying a program never
 * allocates) and filled by the op's first call (ready). */
typedef struct cnv_cpu_derived {
    float *data;
    size_t n;
    int ready;
} cnv_cpu_derived;

typedef struct cnv_cpu_args {
    const cnv_node *node;
    const cnv_attrs *a;
    int n_in;
    const float *in[CNV_MAX_INPUTS];
    cnv_shape in_shape[CNV_MAX_INPUTS];
    float *out;
    cnv_shape out_shape;
    float *relu_out;       /* forward, Conv: also max(out, 0) here (cnv_op_io's relu_out), or NULL */
    int32_t *aux;          /* MaxPool: flat index into the input plane of each output's argmax */
    const float *grad_out; /* backward only */
    float *grad_in[CNV_MAX_INPUTS];
    /* backward only: bit i set: grad_in[i] holds no gradient yet, and the op writes it instead
     * of adding (cnv_cpu_assigns); only ops whose entry sets `assigns` see a bit set. */
    uint64_t assign;
    cnv_backward_rule rule; /* backward only: see core/backend.h */
    int unpool_fill;        /* backward only: MaxPool fill unpooling */
    int exact;              /* the reference backend's: only kernels that keep exact zeros */
    /* Scratch the backend owns, at least the op's workspace() floats, kept from call to call so
     * no step allocates; NULL where a caller builds its own args (the op then allocates). */
    float *work;
    size_t work_n;
    /* in[1]'s derived form, of the op's derived() floats; NULL where in[1] may change (a
     * buffer the backend has written, such as weights in training) or the op has none. */
    cnv_cpu_derived *derived;
} cnv_cpu_args;

/* Whether the backward writes grad_in[i] (it holds no gradient yet) rather than adding to it. */
static inline int cnv_cpu_assigns(const cnv_cpu_args *a, int i) { return (int)(a->assign >> i & 1); }

/* Loops over fewer elements than this run on the calling thread: below it, waking the pool costs
 * more than the loop (a 64x64 plane of floats, about 10 us of work). */
#define CNV_CPU_PARALLEL_MIN ((size_t)1 << 15)

/* Items [lo, hi) of a loop whose items are independent. */
typedef void (*cnv_cpu_range_fn)(void *ctx, size_t lo, size_t hi);

/* Runs fn over [0, n) split among the cores (runtime/cpu/parallel.c), or on the calling thread
 * alone when n < min_n: min_n is CNV_CPU_PARALLEL_MIN over the floats one item touches (1 for an
 * element-wise loop, a plane's size for a loop over planes); cnv_cpu_min_items computes it. */
void cnv_cpu_parallel(size_t n, size_t min_n, cnv_cpu_range_fn fn, void *ctx);

/* The threads cnv_cpu_parallel splits a loop among (the pool's workers and the caller), the pool
 * started if it was not: a loop that gives each thread scratch of its own sizes it by this. */
int cnv_cpu_threads(void);

/* OpenBLAS on one thread between begin and end (nested and concurrent calls counted). */
void cnv_cpu_blas_single_begin(void);
void cnv_cpu_blas_single_end(void);

/* count products C_i = alpha op(A_i) op(B_i) + beta C_i (row-major, cblas_sgemm's arguments; ta,
 * tb nonzero for transposed), all the same shape: A_i = a + (i % a_period) * a_stride (the
 * weights of group i % a_period), B_i = b + i * b_stride, C_i = c + i * c_stride. With bias, C_i's
 * row r starts as bias[(i % a_period) * m + r] and the product adds onto it (beta unused). Their
 * columns are split among the pool's threads, with OpenBLAS on one thread, in one wake of the
 * pool for the whole batch (runtime/cpu/blas_split.c). */
typedef struct cnv_cpu_products {
    int ta, tb, m, n, k, count;
    float alpha, beta;
    const float *a, *b, *bias;
    int lda, ldb, ldc, a_period;
    size_t a_stride, b_stride, c_stride;
    float *c;
    /* Optional: max(C_i, 0) written here too, laid out as c (a conv's fused Relu), each block
     * while it is still in cache. */
    float *relu_c;
} cnv_cpu_products;
void cnv_cpu_products_run(const cnv_cpu_products *p);

/* The same products on the calling thread alone, for a caller that splits its own work among the
 * pool's threads (between cnv_cpu_blas_single_begin and end). */
void cnv_cpu_products_here(const cnv_cpu_products *p);

/* Below this many multiply-adds (about 0.1 ms of work) products run on the calling thread: a pool
 * wake costs more than they do (runtime/cpu/blas_split.c says what was measured). */
#define CNV_CPU_SPLIT_MIN_WORK ((size_t)1 << 23)

/* dst = max(src, 0) as the Relu op computes it (NaN and -0 give 0): the epilogue of a conv that
 * computes its Relu (cnv_cpu_args' relu_out). */
static inline void cnv_cpu_relu_copy(const float *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = src[i] > 0.0f ? src[i] : 0.0f;
}

static inline size_t cnv_cpu_min_items(size_t floats_per_item) {
    return floats_per_item ? CNV_CPU_PARALLEL_MIN / floats_per_item + 1 : CNV_CPU_PARALLEL_MIN;
}

/* The CPU kernels run with denormal floats flushed to zero, inputs and results (x86's MXCSR FTZ
 * and DAZ bits; elsewhere a no-op): values under 1.2e-38 take microcode assists costing about a
 * hundred cycles each, and a training's late batches are full of them (a fashion-cnn epoch took
 * 49 s, 35 s flushed, with the same test accuracy). The caller's mode is put back after each
 * kernel (flush_begin/flush_end); the pool's workers keep it. */
#if defined(__SSE2__)
#include <xmmintrin.h>
static inline unsigned cnv_cpu_flush_begin(void) {
    const unsigned old = _mm_getcsr();
    _mm_setcsr(old | 0x8040u); /* FTZ (bit 15) and DAZ (bit 6) */
    return old;
}
static inline void cnv_cpu_flush_end(unsigned old) { _mm_setcsr(old); }
#else
static inline unsigned cnv_cpu_flush_begin(void) { return 0; }
static inline void cnv_cpu_flush_end(unsigned old) { (void)old; }
#endif

/* For a loop body specialized by a constant argument (the op number): forced inline so that
 * the constant reaches it and the per-element switch folds away. */
#if defined(__GNUC__)
#define CNV_CPU_INLINE static inline __attribute__((always_inline))
#else
#define CNV_CPU_INLINE static inline
#endif

/* For the hottest loops outside OpenBLAS: one copy compiled per x86-64 level (AVX-512, AVX2 with
 * FMA, the baseline SSE2 the rest of the library is built for), the widest the CPU runs picked
 * once at load (an ifunc). Where the toolchain cannot (not x86-64, not ELF), the one copy. */
#if defined(__GNUC__) && defined(__x86_64__) && defined(__ELF__) && !defined(CNNVIS_NO_CLONES)
#define CNV_CPU_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CNV_CPU_CLONES
#endif

typedef cnv_status (*cnv_cpu_fn)(const cnv_cpu_args *a);

/* Floats of scratch one call needs (forward or backward: the larger); NULL: none. */
typedef size_t (*cnv_cpu_workspace_fn)(const cnv_cpu_args *a);

typedef struct cnv_cpu_op {
    cnv_cpu_fn forward;
    cnv_cpu_fn backward;
    cnv_cpu_workspace_fn workspace;
    cnv_cpu_workspace_fn derived; /* floats of in[1]'s derived form (0: none); NULL: none */
    /* The backward honours cnv_cpu_args' assign bits, writing every element of each marked
     * gradient; for the other ops the backend zeroes those buffers first. */
    int assigns;
} cnv_cpu_op;

/* The op table, indexed by cnv_op_type. */
const cnv_cpu_op *cnv_cpu_op_get(cnv_op_type op);

#define CNV_CPU_DECLARE(name)                                                                   \
    cnv_status cnv_cpu_##name##_forward(const cnv_cpu_args *a);                                 \
    cnv_status cnv_cpu_##name##_backward(const cnv_cpu_args *a)

CNV_CPU_DECLARE(conv);
size_t cnv_cpu_conv_workspace(const cnv_cpu_args *a);
size_t cnv_cpu_conv_derived(const cnv_cpu_args *a); /* the Winograd path's transformed weights */
CNV_CPU_DECLARE(maxpool);
CNV_CPU_DECLARE(avgpool);
CNV_CPU_DECLARE(globalavgpool);
CNV_CPU_DECLARE(unary);      /* every op with a CNV_UNARY_* number: one elementwise file */
CNV_CPU_DECLARE(gemm);       /* Gemm and MatMul */
CNV_CPU_DECLARE(binary);     /* every op with a CNV_BINARY_* number: one broadcasting file */
CNV_CPU_DECLARE(concat);
CNV_CPU_DECLARE(copy);       /* Flatten, Reshape, Dropout: same data, new shape */
CNV_CPU_DECLARE(pad);
CNV_CPU_DECLARE(lrn);
CNV_CPU_DECLARE(softmax);
CNV_CPU_DECLARE(batchnorm);
CNV_CPU_DECLARE(transpose);
CNV_CPU_DECLARE(reduce); /* ReduceMean, ReduceSum, ReduceMax */
CNV_CPU_DECLARE(slice);     /* Slice (Split imports as Slices) */
CNV_CPU_DECLARE(fourier); /* spectral image parameterization */
size_t cnv_cpu_fourier_workspace(const cnv_cpu_args *a);
CNV_CPU_DECLARE(blur);
CNV_CPU_DECLARE(resample);
CNV_CPU_DECLARE(regularize); /* Regularize and GradNorm: runtime/cpu/regularize.c */
CNV_CPU_DECLARE(gradnorm);
CNV_CPU_DECLARE(gram);   /* Gram matrix of feature maps (style) */
CNV_CPU_DECLARE(sqdist); /* SquaredDistance to a constant target */
CNV_CPU_DECLARE(resize); /* Resize (and imported Upsample) of H, W */
CNV_CPU_DECLARE(convtranspose); /* on the Conv kernel */

/* Regularize's CNV_TV_EPS is in core/penalty.h: the Vulkan kernel receives the same value. */

/* One optimizer step over n floats (runtime/cpu/optimizer.c). */
void cnv_cpu_optim_step(cnv_optim_kind kind, float *x, const float *g, float *m, float *v, const float *hyper,
                        size_t n);

#endif
