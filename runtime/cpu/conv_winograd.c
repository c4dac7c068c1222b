/* Winograd's F(2x2, 3x3) for Conv (Lavin and Gray, "Fast Algorithms for Convolutional Neural
 * Networks", 2016): every 2x2 block of output pixels is
 *   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
 * from the 4x4 input tile d under it and each 3x3 kernel g. Summed over the input channels, the
 * 16 positions ξ of the transformed 4x4 tiles are 16 independent matrix products
 *   M_ξ [co x tiles] = U_ξ [co x ci] · V_ξ [ci x tiles],  U = G g Gᵀ, V = Bᵀ d B,
 * which multiply 16 times per block and channel pair where im2col's product multiplies 36: 2.25x
 * less work for VGG's and SqueezeNet's 3x3 layers, and no im2col matrix (115 MB for VGG16's
 * conv1_2). The tiles of the whole batch are numbered in one sequence and processed in blocks
 * whose V and M fit a few MB, so the transforms and products stay in cache and the workspace is
 * small; a batch of small planes makes longer products than one image does.
 * The error stays at the direct product's level: the transforms' coefficients are 0, ±1 and ±1/2. */
#include "conv_winograd.h"

#include "cpu_ops.h"

#include <cblas.h>
#include <pthread.h>
#include <string.h>

#define TILE 4 /* input tile edge: 2 outputs + 3 taps - 1; output tiles overlap by 2 */
#define POS (TILE * TILE)
/* Floats in each block of V and of M: about 4 MB, within the L2/L3 share of a core. */
#define BLOCK_FLOATS ((size_t)1 << 20)
/* Fewest tiles per block, so that short blocks do not make the products inefficient. */
#define MIN_BLOCK_TILES 64
/* The weight transform writes the 16 positions of CHUNK input channels at a time, one cache line
 * per position: the 16 positions lie a power of two apart and would else fight over the same
 * cache sets. */
#define CHUNK 16

typedef struct geometry {
    const cnv_winograd_conv *s;
    int th, tw;        /* output tiles per plane: rows, columns */
    size_t rows;       /* tile rows over the whole batch: image n's row ty is n * th + ty */
    size_t block_rows; /* tile rows per block */
} geometry;

static geometry geometry_of(const cnv_winograd_conv *s) {
    geometry g = {.s = s, .th = (s->oh + 1) / 2, .tw = (s->ow + 1) / 2};
    g.rows = (size_t)s->n * (size_t)g.th;
    const size_t widest = (size_t)(s->ci > s->co ? s->ci : s->co);
    g.block_rows = BLOCK_FLOATS / ((size_t)POS * widest * (size_t)g.tw);
    const size_t fewest = (MIN_BLOCK_TILES + (size_t)g.tw - 1) / (size_t)g.tw;
    if (g.block_rows < fewest) g.block_rows = fewest;
    if (g.block_rows > g.rows) g.block_rows = g.rows;
    return g;
}

size_t cnv_cpu_winograd_workspace(const cnv_winograd_conv *s) {
    const geometry g = geometry_of(s);
    const size_t block = g.block_rows * (size_t)g.tw;
    return (size_t)POS * block * ((size_t)s->ci + s->co);
}

/* U_ξ[o][i] = (G g Gᵀ)_ξ for kernel g of output channel o and input channel i, with
 *   G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]. */
typedef struct weight_job {
    const float *w;
    int co, ci;
    float *u;
} weight_job;

static void transform_weights(void *ctx, size_t lo, size_t hi) {
    const weight_job *j = ctx;
    const size_t plane = (size_t)j->co * j->ci;
    for (size_t o = lo; o < hi; o++) {
        for (int i0 = 0; i0 < j->ci; i0 += CHUNK) {
            const int n = j->ci - i0 < CHUNK ? j->ci - i0 : CHUNK;
            float u[POS][CHUNK];
            for (int e = 0; e < n; e++) {
                const float *k = j->w + (o * j->ci + (size_t)(i0 + e)) * 9; /* row-major 3x3 */
                float gk[4][3]; /* G k */
                for (int c = 0; c < 3; c++) {
                    gk[0][c] = k[c];
                    gk[1][c] = 0.5f * (k[c] + k[3 + c] + k[6 + c]);
                    gk[2][c] = 0.5f * (k[c] - k[3 + c] + k[6 + c]);
                    gk[3][c] = k[6 + c];
                }
                for (int r = 0; r < 4; r++) { /* (G k) Gᵀ */
                    u[r * 4 + 0][e] = gk[r][0];
                    u[r * 4 + 1][e] = 0.5f * (gk[r][0] + gk[r][1] + gk[r][2]);
                    u[r * 4 + 2][e] = 0.5f * (gk[r][0] - gk[r][1] + gk[r][2]);
                    u[r * 4 + 3][e] = gk[r][2];
                }
            }
            for (int xi = 0; xi < POS; xi++) memcpy(j->u + xi * plane + o * j->ci + i0, u[xi], (size_t)n * sizeof(float));
        }
    }
}

size_t cnv_cpu_winograd_weights_floats(int co, int ci) { return (size_t)POS * (size_t)co * (size_t)ci; }

void cnv_cpu_winograd_weights(const float *w, int co, int ci, float *u) {
    weight_job j = {w, co, ci, u};
    cnv_cpu_parallel((size_t)co, cnv_cpu_min_items((size_t)POS * ci), transform_weights, &j);
}

/* One block: tile rows [row0, row0 + rows) of the batch, count = rows * tw tiles, numbered row by
 * row; V and M hold each position's count values side by side per channel. */
typedef struct block_job {
    const geometry *g;
    const float *x, *bias;
    float *v, *m, *y;
    size_t row0, rows, count;
    int accumulate;
} block_job;

/* Inside one tile row, columns of tiles are worked SPAN at a time: their input rows and the
 * products' rows then live in small arrays on the stack, and every loop below runs along a row
 * (vectorized) instead of tile by tile. */
#define SPAN 64

/* V_ξ[i][t] = (Bᵀ d B)_ξ for input channels [lo, hi), with Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
 * Bᵀ d combines the tile's 4 input rows, which the tiles of a tile row share: it is computed once
 * along those rows, then B combines each tile's 4 columns of it. */
static void transform_inputs(void *ctx, size_t lo, size_t hi) {
    const block_job *j = ctx;
    const geometry *g = j->g;
    const cnv_winograd_conv *s = g->s;
    const size_t plane = (size_t)s->h * s->w, stride = (size_t)s->ci * j->count;
    for (size_t i = lo; i < hi; i++) {
        for (size_t r = 0; r < j->rows; r++) {
            const size_t row = j->row0 + r;
            const int n = (int)(row / (size_t)g->th), iy0 = 2 * (int)(row % (size_t)g->th) - s->pt;
            const float *p = j->x + ((size_t)n * s->ci + i) * plane;
            for (int tx0 = 0; tx0 < g->tw; tx0 += SPAN) {
                const int tiles = g->tw - tx0 < SPAN ? g->tw - tx0 : SPAN, cols = 2 * tiles + 2;
                const int ix0 = 2 * tx0 - s->pl;
                float d[4][2 * SPAN + 2], bd[4][2 * SPAN + 2];
                for (int k = 0; k < 4; k++) { /* the input rows under these tiles, 0 outside */
                    const int y = iy0 + k, a = ix0 < 0 ? -ix0 : 0, b = s->w - ix0 < cols ? s->w - ix0 : cols;
                    memset(d[k], 0, sizeof d[k]);
                    if (y >= 0 && y < s->h && a < b)
                        memcpy(d[k] + a, p + (size_t)y * s->w + ix0 + a, (size_t)(b - a) * sizeof(float));
                }
                for (int c = 0; c < cols; c++) { /* Bᵀ d */
                    bd[0][c] = d[0][c] - d[2][c];
                    bd[1][c] = d[1][c] + d[2][c];
                    bd[2][c] = d[2][c] - d[1][c];
                    bd[3][c] = d[1][c] - d[3][c];
                }
                float *v = j->v + i * j->count + r * (size_t)g->tw + tx0;
                for (int k = 0; k < 4; k++) { /* (Bᵀ d) B: positions (k, 0..3) */
                    const float *e = bd[k];
                    float *v0 = v + (size_t)(k * 4) * stride, *v1 = v0 + stride, *v2 = v1 + stride, *v3 = v2 + stride;
                    for (int t = 0; t < tiles; t++) v0[t] = e[2 * t] - e[2 * t + 2];
                    for (int t = 0; t < tiles; t++) v1[t] = e[2 * t + 1] + e[2 * t + 2];
                    for (int t = 0; t < tiles; t++) v2[t] = e[2 * t + 2] - e[2 * t + 1];
                    for (int t = 0; t < tiles; t++) v3[t] = e[2 * t + 1] - e[2 * t + 3];
                }
            }
        }
    }
}

/* The 2x2 outputs Aᵀ M A of every tile for output channels [lo, hi), with
 * Aᵀ = [1 1 1 0; 0 1 -1 -1]; an odd plane's last row or column drops the tile's second. */
static void transform_outputs(void *ctx, size_t lo, size_t hi) {
    const block_job *j = ctx;
    const geometry *g = j->g;
    const cnv_winograd_conv *s = g->s;
    const size_t plane = (size_t)s->oh * s->ow, stride = (size_t)s->co * j->count;
    for (size_t o = lo; o < hi; o++) {
        const float bias = j->bias ? j->bias[o] : 0.0f;
        for (size_t r = 0; r < j->rows; r++) {
            const size_t row = j->row0 + r;
            const int n = (int)(row / (size_t)g->th), oy = 2 * (int)(row % (size_t)g->th);
            float *dst = j->y + ((size_t)n * s->co + o) * plane + (size_t)oy * s->ow;
            for (int tx0 = 0; tx0 < g->tw; tx0 += SPAN) {
                const int tiles = g->tw - tx0 < SPAN ? g->tw - tx0 : SPAN;
                const float *m = j->m + o * j->count + r * (size_t)g->tw + tx0;
                float am[2][4][SPAN]; /* Aᵀ M of each tile */
                for (int k = 0; k < 4; k++) {
                    const float *m0 = m + (size_t)k * stride, *m1 = m0 + 4 * stride, *m2 = m1 + 4 * stride,
                                *m3 = m2 + 4 * stride;
                    for (int t = 0; t < tiles; t++) am[0][k][t] = m0[t] + m1[t] + m2[t];
                    for (int t = 0; t < tiles; t++) am[1][k][t] = m1[t] - m2[t] - m3[t];
                }
                for (int q = 0; q < 2 && oy + q < s->oh; q++) {
                    float out[2 * SPAN]; /* the output row's pixels under these tiles */
                    const float *a0 = am[q][0], *a1 = am[q][1], *a2 = am[q][2], *a3 = am[q][3];
                    for (int t = 0; t < tiles; t++) {
                        out[2 * t] = a0[t] + a1[t] + a2[t];
                        out[2 * t + 1] = a1[t] - a2[t] - a3[t];
                    }
                    const int x0 = 2 * tx0, width = s->ow - x0 < 2 * tiles ? s->ow - x0 : 2 * tiles;
                    float *y = dst + (size_t)q * s->ow + x0;
                    if (j->accumulate)
                        for (int x = 0; x < width; x++) y[x] += out[x];
                    else
                        for (int x = 0; x < width; x++) y[x] = bias + out[x];
                }
            }
        }
    }
}

/* The kernel rotated by 180 degrees is G's rows 0 and 3 swapped (G J = P G for the 3x3 reversal
 * J and the 4x4 swap P), so its transform is the forward's at mirrored positions:
 * U'_(a,b) = U_(p(a),p(b)). */
static int mirrored(int xi) {
    static const int p[4] = {3, 1, 2, 0};
    return p[xi / 4] * 4 + p[xi % 4];
}

/* The 16 products of one block, [lo, hi) of them on this thread. */
typedef struct product_job {
    const cnv_winograd_conv *s;
    const float *u, *v;
    float *m;
    size_t count;
} product_job;

static void products(void *ctx, size_t lo, size_t hi) {
    const product_job *j = ctx;
    const cnv_winograd_conv *s = j->s;
    const size_t plane = (size_t)s->co * s->ci;
    for (size_t xi = lo; xi < hi; xi++) {
        /* forward: U_ξ [co x ci]; backward: the forward's U at the mirrored position is
         * [ci x co] (its own channels swapped), read transposed. */
        const float *ux = j->u + (size_t)(s->transposed ? mirrored((int)xi) : (int)xi) * plane;
        cblas_sgemm(CblasRowMajor, s->transposed ? CblasTrans : CblasNoTrans, CblasNoTrans, s->co, (int)j->count,
                    s->ci, 1.0f, ux, s->transposed ? s->co : s->ci, j->v + xi * s->ci * j->count, (int)j->count, 0.0f,
                    j->m + xi * s->co * j->count, (int)j->count);
    }
}

/* OpenBLAS's thread count is one setting for the whole process: while any Winograd call runs it
 * is 1, and the last call to finish puts back what the first one found, so that calls on several
 * threads (two backends at once) cannot leave it at 1. */
static pthread_mutex_t blas_lock = PTHREAD_MUTEX_INITIALIZER;
static int blas_users, blas_threads;

static void blas_single_begin(void) {
    pthread_mutex_lock(&blas_lock);
    if (blas_users++ == 0) {
        blas_threads = openblas_get_num_threads();
        openblas_set_num_threads(1);
    }
    pthread_mutex_unlock(&blas_lock);
}

static void blas_single_end(void) {
    pthread_mutex_lock(&blas_lock);
    if (--blas_users == 0) openblas_set_num_threads(blas_threads);
    pthread_mutex_unlock(&blas_lock);
}

void cnv_cpu_winograd_run(const cnv_winograd_conv *s, const float *x, const float *u, const float *bias,
                          int accumulate, float *y, float *work) {
    const geometry g = geometry_of(s);
    const size_t block = g.block_rows * (size_t)g.tw;
    float *v = work, *m = v + (size_t)POS * s->ci * block;
    /* The 16 independent products are split among the pool's threads, each running OpenBLAS on
     * its own: OpenBLAS's threads, woken for each of 16 products per block and yielding between,
     * cost more time in the scheduler than a product takes on one core. */
    blas_single_begin();
    for (size_t row0 = 0; row0 < g.rows; row0 += g.block_rows) {
        const size_t rows = g.rows - row0 < g.block_rows ? g.rows - row0 : g.block_rows;
        const size_t count = rows * (size_t)g.tw;
        block_job j = {&g, x, bias, v, m, y, row0, rows, count, accumulate};
        cnv_cpu_parallel((size_t)s->ci, cnv_cpu_min_items((size_t)POS * count), transform_inputs, &j);
        product_job pj = {s, u, v, m, count};
        cnv_cpu_parallel(POS, 1, products, &pj);
        cnv_cpu_parallel((size_t)s->co, cnv_cpu_min_items((size_t)POS * count), transform_outputs, &j);
    }
    blas_single_end();
}
