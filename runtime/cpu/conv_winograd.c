/* Winograd's minimal filtering for Conv (Lavin and Gray, "Fast Algorithms for Convolutional
 * Neural Networks", 2016): every m x m block of output pixels is
 *   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
 * from the t x t input tile d under it (t = m + 2) and each 3x3 kernel g. Summed over the input
 * channels, the t² positions ξ of the transformed tiles are t² independent matrix products
 *   M_ξ [co x tiles] = U_ξ [co x ci] · V_ξ [ci x tiles],  U = G g Gᵀ, V = Bᵀ d B,
 * with no im2col matrix (115 MB for VGG16's conv1_2). Two tile sizes:
 *   F(2x2, 3x3): 16 multiplications per 4 outputs where im2col's product makes 36 (2.25x less),
 *     coefficients 0, ±1, ±1/2: the error stays at the direct product's (about 3e-7 relative);
 *   F(4x4, 3x3): 36 per 16 outputs (4x less), error about 3e-6, and 2.25x the transformed
 *     weights; its rounding does not cancel where the exact result is 0, which is why conv.c
 *     takes it for the forward only (the backward to the data stays exact there with F(2x2)).
 * The tiles of the whole batch are numbered in one sequence and processed in blocks whose V and M
 * fit a few MB, so the transforms and products stay in cache and the workspace is small; a batch
 * of small planes makes longer products than one image does. */
#include "conv_winograd.h"

#include "cpu_ops.h"

#include <cblas.h>
#include <string.h>

#define MAX_M 4
#define MAX_T (MAX_M + 2)
#define MAX_POS (MAX_T * MAX_T)

/* One tile size: its matrices, and the mirror that serves the backward. The kernel rotated by
 * 180 degrees (J g J, J the 3x3 reversal) has G J = P G for a permutation P of G's rows (the
 * interpolation points come in pairs a, 1/a, with 0 and ∞, and the rows of each pair are scaled
 * alike), so its transform is the forward's at mirrored positions: U'_(a,b) = U_(p(a),p(b)). */
typedef struct variant {
    int m, t;
    float at[MAX_M][MAX_T]; /* Aᵀ */
    float g[MAX_T][3];      /* G */
    float bt[MAX_T][MAX_T]; /* Bᵀ */
    int mirror[MAX_T];      /* p */
} variant;

/* Points 0, 1, -1, ∞. */
static const variant f2 = {
    .m = 2, .t = 4,
    .at = {{1, 1, 1, 0}, {0, 1, -1, -1}},
    .g = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}},
    .bt = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}},
    .mirror = {3, 1, 2, 0},
};

/* Points 0, 1, -1, 2, 1/2, ∞ (the pair 2, 1/2 where the usual ±2 has no mirror); Bᵀ's rows are
 * scaled to small integers and halves, G's rows by the inverse. */
static const variant f4 = {
    .m = 4, .t = 6,
    .at = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, 0.5f, 0}, {0, 1, 1, 4, 0.25f, 0}, {0, 1, -1, 8, 0.125f, 1}},
    .g = {{1, 0, 0},
          {1, 1, 1},
          {1.0f / 18, -1.0f / 18, 1.0f / 18},
          {1.0f / 18, 1.0f / 9, 2.0f / 9},
          {2.0f / 9, 1.0f / 9, 1.0f / 18},
          {0, 0, 1}},
    .bt = {{1, -2.5f, 0, 2.5f, -1, 0},
           {0, -1, 1.5f, 1.5f, -1, 0},
           {0, -2, 7, -7, 2, 0},
           {0, 1, -2, -1, 2, 0},
           {0, 16, -8, -16, 8, 0},
           {0, -1, 2.5f, 0, -2.5f, 1}},
    .mirror = {5, 1, 2, 4, 3, 0},
};

static const variant *variant_of(int m) { return m == 4 ? &f4 : &f2; }

/* The transforms below loop over a variant's matrices; they are inlined into one copy per
 * variant (the entry points at the end), where the loops unroll and the zero coefficients drop
 * out, so each copy computes only its own matrices' terms. */
#define INLINE CNV_CPU_INLINE
#define UNROLL _Pragma("GCC unroll 6")

/* Floats in each block of V and of M: about 4 MB, within the L2/L3 share of a core. */
#define BLOCK_FLOATS ((size_t)1 << 20)
/* Fewest tiles per block, so that short blocks do not make the products inefficient. */
#define MIN_BLOCK_TILES 64
/* The weight transform writes the positions of CHUNK input channels at a time, one cache line
 * per position: the positions lie a power of two apart and would else fight over the same cache
 * sets. */
#define CHUNK 16
/* The transforms work SPAN consecutive tiles of a block at a time (across tile rows and images
 * as the numbering goes): every array below holds one value per tile of the chunk, so each term
 * of a transform is a vector operation over the whole chunk, of a constant length that the
 * compiler unrolls without remainder loops. */
#define SPAN 32

typedef struct geometry {
    const cnv_winograd_conv *s;
    const variant *f;
    int th, tw;        /* output tiles per plane: rows, columns */
    size_t rows;       /* tile rows over the whole batch: image n's row ty is n * th + ty */
    size_t block_rows; /* tile rows per block */
} geometry;

static geometry geometry_of(const cnv_winograd_conv *s) {
    const variant *f = variant_of(s->m);
    geometry g = {.s = s, .f = f, .th = (s->oh + f->m - 1) / f->m, .tw = (s->ow + f->m - 1) / f->m};
    g.rows = (size_t)s->n * (size_t)g.th;
    const size_t widest = (size_t)(s->ci > s->co ? s->ci : s->co);
    g.block_rows = BLOCK_FLOATS / ((size_t)f->t * f->t * widest * (size_t)g.tw);
    const size_t fewest = (MIN_BLOCK_TILES + (size_t)g.tw - 1) / (size_t)g.tw;
    if (g.block_rows < fewest) g.block_rows = fewest;
    if (g.block_rows > g.rows) g.block_rows = g.rows;
    return g;
}

size_t cnv_cpu_winograd_workspace(const cnv_winograd_conv *s) {
    const geometry g = geometry_of(s);
    const size_t block = g.block_rows * (size_t)g.tw;
    return (size_t)g.f->t * g.f->t * block * ((size_t)s->ci + s->co);
}

size_t cnv_cpu_winograd_weights_floats(int m, int co, int ci) {
    const variant *f = variant_of(m);
    return (size_t)f->t * f->t * (size_t)co * (size_t)ci;
}

/* U_ξ[o][i] = (G g Gᵀ)_ξ for kernel g of output channel o and input channel i. */
typedef struct weight_job {
    const float *w;
    int co, ci;
    float *u;
} weight_job;

INLINE void transform_weights(const weight_job *j, const variant *f, size_t lo, size_t hi) {
    const int t = f->t;
    const size_t plane = (size_t)j->co * j->ci;
    for (size_t o = lo; o < hi; o++) {
        for (int i0 = 0; i0 < j->ci; i0 += CHUNK) {
            const int n = j->ci - i0 < CHUNK ? j->ci - i0 : CHUNK;
            float u[MAX_POS][CHUNK];
            for (int e = 0; e < n; e++) {
                const float *k = j->w + (o * j->ci + (size_t)(i0 + e)) * 9; /* row-major 3x3 */
                float gk[MAX_T][3];                                         /* G k */
                UNROLL for (int r = 0; r < t; r++) UNROLL for (int c = 0; c < 3; c++)
                    gk[r][c] = f->g[r][0] * k[c] + f->g[r][1] * k[3 + c] + f->g[r][2] * k[6 + c];
                UNROLL for (int r = 0; r < t; r++) UNROLL for (int c = 0; c < t; c++) /* (G k) Gᵀ */
                    u[r * t + c][e] = gk[r][0] * f->g[c][0] + gk[r][1] * f->g[c][1] + gk[r][2] * f->g[c][2];
            }
            for (int xi = 0; xi < t * t; xi++)
                memcpy(j->u + xi * plane + o * j->ci + i0, u[xi], (size_t)n * sizeof(float));
        }
    }
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

/* The tiles [first, first + tiles) of a block as runs of consecutive tiles along one tile row:
 * run r is tiles [at, at + len) of the chunk, in image n, whose outputs start at row oy and
 * column ox (its input window at oy - pt, ox - pl). */
typedef struct chunk {
    int tiles, runs;
    struct run {
        int at, len, n, oy, ox;
    } run[SPAN];
} chunk;

static void chunk_of(const block_job *j, size_t first, chunk *c) {
    const geometry *g = j->g;
    const size_t left = j->count - first;
    c->tiles = left < SPAN ? (int)left : SPAN;
    c->runs = 0;
    for (int x = 0; x < c->tiles;) {
        const size_t tile = first + (size_t)x, row = j->row0 + tile / (size_t)g->tw;
        const int col = (int)(tile % (size_t)g->tw), len = g->tw - col < c->tiles - x ? g->tw - col : c->tiles - x;
        c->run[c->runs++] = (struct run){x, len, (int)(row / (size_t)g->th), g->f->m * (int)(row % (size_t)g->th),
                                         g->f->m * col};
        x += len;
    }
}

/* V_ξ[i][x] = (Bᵀ d B)_ξ for input channels [lo, hi). d holds the t x t input windows of the
 * chunk's tiles, tile index last: a run's windows share their t input rows, each read once into
 * a line (0 outside the plane) and split by column phase (column m x + l of row k is d[k][l][x]).
 * d B is then a sum of whole rows of d, and Bᵀ (d B) a sum of whole rows of that. */
INLINE void transform_inputs(const block_job *j, const variant *f, size_t lo, size_t hi) {
    const geometry *g = j->g;
    const cnv_winograd_conv *s = g->s;
    const int m = f->m, t = f->t;
    const size_t plane = (size_t)s->h * s->w, stride = (size_t)s->ci * j->count;
    for (size_t first = 0; first < j->count; first += SPAN) {
        chunk c;
        chunk_of(j, first, &c);
        for (size_t i = lo; i < hi; i++) {
            float d[MAX_T][MAX_T][SPAN], db[MAX_T][MAX_T][SPAN], spill[MAX_POS][SPAN];
            if (c.tiles < SPAN) memset(d, 0, sizeof d);
            for (int r = 0; r < c.runs; r++) {
                const struct run *u = &c.run[r];
                const float *p = j->x + ((size_t)u->n * s->ci + i) * plane;
                const int y0 = u->oy - s->pt, x0 = u->ox - s->pl, cols = m * u->len + 2;
                const int a = x0 < 0 ? -x0 : 0, b = s->w - x0 < cols ? s->w - x0 : cols;
                for (int k = 0; k < t; k++) {
                    float line[MAX_M * SPAN + 2];
                    const int y = y0 + k;
                    const float *src = line;
                    if (y < 0 || y >= s->h || a >= b) {
                        memset(line, 0, (size_t)cols * sizeof(float));
                    } else if (a == 0 && b == cols) {
                        src = p + (size_t)y * s->w + x0; /* inside the plane: read in place */
                    } else {
                        memset(line, 0, (size_t)cols * sizeof(float));
                        memcpy(line + a, p + (size_t)y * s->w + x0 + a, (size_t)(b - a) * sizeof(float));
                    }
                    UNROLL for (int l = 0; l < t; l++) {
                        float *dl = d[k][l] + u->at;
                        for (int x = 0; x < u->len; x++) dl[x] = src[m * x + l];
                    }
                }
            }
            UNROLL for (int k = 0; k < t; k++) UNROLL for (int q = 0; q < t; q++) /* d B */
                for (int x = 0; x < SPAN; x++) {
                    float acc = 0.0f;
                    UNROLL for (int l = 0; l < t; l++) if (f->bt[q][l] != 0.0f) acc += f->bt[q][l] * d[k][l][x];
                    db[k][q][x] = acc;
                }
            float *v = j->v + i * j->count + first;
            UNROLL for (int e = 0; e < t; e++) UNROLL for (int q = 0; q < t; q++) { /* Bᵀ (d B) */
                float *vx = c.tiles == SPAN ? v + (size_t)(e * t + q) * stride : spill[e * t + q];
                for (int x = 0; x < SPAN; x++) {
                    float acc = 0.0f;
                    UNROLL for (int k = 0; k < t; k++) if (f->bt[e][k] != 0.0f) acc += f->bt[e][k] * db[k][q][x];
                    vx[x] = acc;
                }
            }
            if (c.tiles < SPAN)
                for (int xi = 0; xi < t * t; xi++)
                    memcpy(v + (size_t)xi * stride, spill[xi], (size_t)c.tiles * sizeof(float));
        }
    }
}

/* The m x m outputs Aᵀ M A of every tile for output channels [lo, hi), the tile index last as in
 * the input transform; each run's output rows are put back in column order in a line and written
 * up to the plane's edge. */
INLINE void transform_outputs(const block_job *j, const variant *f, size_t lo, size_t hi) {
    const geometry *g = j->g;
    const cnv_winograd_conv *s = g->s;
    const int m = f->m, t = f->t;
    const size_t plane = (size_t)s->oh * s->ow, stride = (size_t)s->co * j->count;
    for (size_t first = 0; first < j->count; first += SPAN) {
        chunk c;
        chunk_of(j, first, &c);
        for (size_t o = lo; o < hi; o++) {
            const float bias = j->bias ? j->bias[o] : 0.0f;
            const float *mp = j->m + o * j->count + first;
            size_t mstride = stride;
            float staged[MAX_POS][SPAN], am[MAX_M][MAX_T][SPAN], out[MAX_M][MAX_M][SPAN];
            if (c.tiles < SPAN) { /* a short last chunk: its M rows, 0 past the block's tiles */
                memset(staged, 0, sizeof staged);
                for (int xi = 0; xi < t * t; xi++)
                    memcpy(staged[xi], mp + (size_t)xi * stride, (size_t)c.tiles * sizeof(float));
                mp = staged[0];
                mstride = SPAN;
            }
            UNROLL for (int q = 0; q < m; q++) UNROLL for (int k = 0; k < t; k++) /* Aᵀ M */
                for (int x = 0; x < SPAN; x++) {
                    float acc = 0.0f;
                    UNROLL for (int a = 0; a < t; a++)
                        if (f->at[q][a] != 0.0f) acc += f->at[q][a] * mp[(size_t)(a * t + k) * mstride + x];
                    am[q][k][x] = acc;
                }
            UNROLL for (int q = 0; q < m; q++) UNROLL for (int r = 0; r < m; r++) /* (Aᵀ M) A */
                for (int x = 0; x < SPAN; x++) {
                    float acc = 0.0f;
                    UNROLL for (int k = 0; k < t; k++) if (f->at[r][k] != 0.0f) acc += f->at[r][k] * am[q][k][x];
                    out[q][r][x] = acc;
                }
            for (int r = 0; r < c.runs; r++) {
                const struct run *u = &c.run[r];
                float *y0 = j->y + ((size_t)u->n * s->co + o) * plane + (size_t)u->oy * s->ow + u->ox;
                const int width = s->ow - u->ox < m * u->len ? s->ow - u->ox : m * u->len;
                for (int q = 0; q < m && u->oy + q < s->oh; q++) {
                    float line[MAX_M * SPAN];
                    UNROLL for (int e = 0; e < m; e++) {
                        const float *oe = out[q][e] + u->at;
                        for (int x = 0; x < u->len; x++) line[m * x + e] = oe[x];
                    }
                    float *y = y0 + (size_t)q * s->ow;
                    if (j->accumulate)
                        for (int x = 0; x < width; x++) y[x] += line[x];
                    else
                        for (int x = 0; x < width; x++) y[x] = bias + line[x];
                    if (s->relu_y) cnv_cpu_relu_copy(y, s->relu_y + (y - j->y), (size_t)width);
                }
            }
        }
    }
}

/* The entry points of each variant, for the thread pool. */
#define VARIANT_ENTRIES(F)                                                                                            \
    CNV_CPU_CLONES static void weights_##F(void *ctx, size_t lo, size_t hi) { transform_weights(ctx, &F, lo, hi); } \
    CNV_CPU_CLONES static void inputs_##F(void *ctx, size_t lo, size_t hi) { transform_inputs(ctx, &F, lo, hi); }   \
    CNV_CPU_CLONES static void outputs_##F(void *ctx, size_t lo, size_t hi) { transform_outputs(ctx, &F, lo, hi); }
VARIANT_ENTRIES(f2)
VARIANT_ENTRIES(f4)

typedef struct entries {
    cnv_cpu_range_fn weights, inputs, outputs;
} entries;

static const entries *entries_of(const variant *f) {
    static const entries e2 = {weights_f2, inputs_f2, outputs_f2}, e4 = {weights_f4, inputs_f4, outputs_f4};
    return f == &f4 ? &e4 : &e2;
}

void cnv_cpu_winograd_weights(int m, const float *w, int co, int ci, float *u) {
    const variant *f = variant_of(m);
    weight_job j = {w, co, ci, u};
    cnv_cpu_parallel((size_t)co, cnv_cpu_min_items((size_t)f->t * f->t * ci), entries_of(f)->weights, &j);
}

/* The t² products of one block, [lo, hi) of them on this thread. */
typedef struct product_job {
    const geometry *g;
    const float *u, *v;
    float *m;
    size_t count;
} product_job;

static void products(void *ctx, size_t lo, size_t hi) {
    const product_job *j = ctx;
    const cnv_winograd_conv *s = j->g->s;
    const int t = j->g->f->t;
    const size_t plane = (size_t)s->co * s->ci;
    for (size_t xi = lo; xi < hi; xi++) {
        /* forward: U_ξ [co x ci]; backward: the forward's U at the mirrored position is
         * [ci x co] (its own channels swapped), read transposed. */
        const int *p = j->g->f->mirror;
        const size_t at = s->transposed ? (size_t)(p[xi / t] * t + p[xi % t]) : xi;
        cblas_sgemm(CblasRowMajor, s->transposed ? CblasTrans : CblasNoTrans, CblasNoTrans, s->co, (int)j->count,
                    s->ci, 1.0f, j->u + at * plane, s->transposed ? s->co : s->ci, j->v + xi * s->ci * j->count,
                    (int)j->count, 0.0f, j->m + xi * s->co * j->count, (int)j->count);
    }
}

void cnv_cpu_winograd_run(const cnv_winograd_conv *s, const float *x, const float *u, const float *bias,
                          int accumulate, float *y, float *work) {
    const geometry g = geometry_of(s);
    const int pos = g.f->t * g.f->t;
    const entries *e = entries_of(g.f);
    const size_t block = g.block_rows * (size_t)g.tw;
    float *v = work, *m = v + (size_t)pos * s->ci * block;
    /* The products are split among the pool's threads, each running OpenBLAS on its own:
     * OpenBLAS's threads, woken for each of the products per block and yielding between, cost
     * more time in the scheduler than a product takes on one core. */
    cnv_cpu_blas_single_begin();
    for (size_t row0 = 0; row0 < g.rows; row0 += g.block_rows) {
        const size_t rows = g.rows - row0 < g.block_rows ? g.rows - row0 : g.block_rows;
        const size_t count = rows * (size_t)g.tw;
        block_job j = {&g, x, bias, v, m, y, row0, rows, count, accumulate};
        cnv_cpu_parallel((size_t)s->ci, cnv_cpu_min_items((size_t)pos * count), e->inputs, &j);
        product_job pj = {&g, u, v, m, count};
        cnv_cpu_parallel((size_t)pos, 1, products, &pj);
        cnv_cpu_parallel((size_t)s->co, cnv_cpu_min_items((size_t)pos * count), e->outputs, &j);
    }
    cnv_cpu_blas_single_end();
}
