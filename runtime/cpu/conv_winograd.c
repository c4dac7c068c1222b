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
#include <string.h>

#define TILE 4 /* input tile edge: 2 outputs + 3 taps - 1; output tiles overlap by 2 */
#define POS (TILE * TILE)
/* Floats in each block of V and of M: about 4 MB, within the L2/L3 share of a core. */
#define BLOCK_FLOATS ((size_t)1 << 20)
/* Fewest tiles per block, so that short blocks do not make the products inefficient. */
#define MIN_BLOCK_TILES 64
/* The transforms write (read) the 16 positions of CHUNK consecutive items at a time, one cache
 * line per position: the 16 positions lie a power of two apart and would else fight over the same
 * cache sets. */
#define CHUNK 16

typedef struct geometry {
    const cnv_winograd_conv *s;
    int th, tw;         /* output tiles per plane: rows, columns */
    size_t tiles;       /* over the whole batch */
    size_t block;       /* tiles per block */
} geometry;

static geometry geometry_of(const cnv_winograd_conv *s) {
    geometry g = {.s = s, .th = (s->oh + 1) / 2, .tw = (s->ow + 1) / 2};
    g.tiles = (size_t)s->n * (size_t)g.th * (size_t)g.tw;
    const int widest = s->ci > s->co ? s->ci : s->co;
    g.block = BLOCK_FLOATS / ((size_t)POS * (size_t)widest);
    if (g.block < MIN_BLOCK_TILES) g.block = MIN_BLOCK_TILES;
    if (g.block > g.tiles) g.block = g.tiles;
    return g;
}

size_t cnv_cpu_winograd_workspace(const cnv_winograd_conv *s) {
    const geometry g = geometry_of(s);
    return (size_t)POS * ((size_t)s->co * s->ci + g.block * ((size_t)s->ci + s->co));
}

/* Where tile t of the batch lies: image n, output rows 2ty.., columns 2tx... Walked one tile at
 * a time, so no division per tile. */
typedef struct cursor {
    int n, ty, tx;
} cursor;

static cursor cursor_at(const geometry *g, size_t t) {
    const size_t per_image = (size_t)g->th * g->tw, r = t % per_image;
    return (cursor){(int)(t / per_image), (int)(r / g->tw), (int)(r % g->tw)};
}

static void cursor_next(const geometry *g, cursor *c) {
    if (++c->tx < g->tw) return;
    c->tx = 0;
    if (++c->ty < g->th) return;
    c->ty = 0;
    c->n++;
}

/* U_ξ[o][i] = (G g Gᵀ)_ξ for kernel g of output channel o and input channel i, with
 *   G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]. */
typedef struct weight_job {
    const geometry *g;
    const float *w;
    float *u;
} weight_job;

static void transform_weights(void *ctx, size_t lo, size_t hi) {
    const weight_job *j = ctx;
    const cnv_winograd_conv *s = j->g->s;
    const size_t plane = (size_t)s->co * s->ci;
    for (size_t o = lo; o < hi; o++) {
        for (int i0 = 0; i0 < s->ci; i0 += CHUNK) {
            const int n = s->ci - i0 < CHUNK ? s->ci - i0 : CHUNK;
            float u[POS][CHUNK];
            for (int e = 0; e < n; e++) {
                const int i = i0 + e;
                float k[3][3];
                if (!s->transposed) {
                    memcpy(k, j->w + (o * s->ci + i) * 9, sizeof k);
                } else { /* the forward's kernel [i][o], rotated by 180 degrees */
                    const float *src = j->w + ((size_t)i * s->co + o) * 9;
                    for (int r = 0; r < 3; r++)
                        for (int c = 0; c < 3; c++) k[r][c] = src[(2 - r) * 3 + (2 - c)];
                }
                float gk[4][3]; /* G k */
                for (int c = 0; c < 3; c++) {
                    gk[0][c] = k[0][c];
                    gk[1][c] = 0.5f * (k[0][c] + k[1][c] + k[2][c]);
                    gk[2][c] = 0.5f * (k[0][c] - k[1][c] + k[2][c]);
                    gk[3][c] = k[2][c];
                }
                for (int r = 0; r < 4; r++) { /* (G k) Gᵀ */
                    u[r * 4 + 0][e] = gk[r][0];
                    u[r * 4 + 1][e] = 0.5f * (gk[r][0] + gk[r][1] + gk[r][2]);
                    u[r * 4 + 2][e] = 0.5f * (gk[r][0] - gk[r][1] + gk[r][2]);
                    u[r * 4 + 3][e] = gk[r][2];
                }
            }
            for (int xi = 0; xi < POS; xi++) memcpy(j->u + xi * plane + o * s->ci + i0, u[xi], (size_t)n * sizeof(float));
        }
    }
}

/* One block of tiles [t0, t0 + count) of the whole batch. */
typedef struct block_job {
    const geometry *g;
    const float *x, *bias;
    float *v, *m, *y;
    size_t t0, count;
    int accumulate;
} block_job;

/* The 4x4 input tile of channel plane p whose top-left is (iy, ix); 0 outside the plane. */
static void load_tile(const cnv_winograd_conv *s, const float *p, int iy, int ix, float d[4][4]) {
    if (iy >= 0 && ix >= 0 && iy + TILE <= s->h && ix + TILE <= s->w) {
        for (int r = 0; r < 4; r++) memcpy(d[r], p + (size_t)(iy + r) * s->w + ix, sizeof d[r]);
        return;
    }
    for (int r = 0; r < 4; r++) {
        const int y = iy + r;
        for (int c = 0; c < 4; c++) {
            const int x = ix + c;
            d[r][c] = y >= 0 && y < s->h && x >= 0 && x < s->w ? p[(size_t)y * s->w + x] : 0.0f;
        }
    }
}

/* V_ξ[i][t] = (Bᵀ d B)_ξ for input channels [lo, hi), with Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]. */
static void transform_inputs(void *ctx, size_t lo, size_t hi) {
    const block_job *j = ctx;
    const cnv_winograd_conv *s = j->g->s;
    const size_t plane = (size_t)s->h * s->w, stride = (size_t)s->ci * j->count;
    for (size_t i = lo; i < hi; i++) {
        cursor c = cursor_at(j->g, j->t0);
        for (size_t t0 = 0; t0 < j->count; t0 += CHUNK) {
            const size_t n = j->count - t0 < CHUNK ? j->count - t0 : CHUNK;
            float v[POS][CHUNK];
            for (size_t e = 0; e < n; e++, cursor_next(j->g, &c)) {
                float d[4][4], bd[4][4];
                load_tile(s, j->x + ((size_t)c.n * s->ci + i) * plane, 2 * c.ty - s->pt, 2 * c.tx - s->pl, d);
                for (int k = 0; k < 4; k++) { /* Bᵀ d */
                    bd[0][k] = d[0][k] - d[2][k];
                    bd[1][k] = d[1][k] + d[2][k];
                    bd[2][k] = d[2][k] - d[1][k];
                    bd[3][k] = d[1][k] - d[3][k];
                }
                for (int r = 0; r < 4; r++) { /* (Bᵀ d) B */
                    v[r * 4 + 0][e] = bd[r][0] - bd[r][2];
                    v[r * 4 + 1][e] = bd[r][1] + bd[r][2];
                    v[r * 4 + 2][e] = bd[r][2] - bd[r][1];
                    v[r * 4 + 3][e] = bd[r][1] - bd[r][3];
                }
            }
            for (int xi = 0; xi < POS; xi++) memcpy(j->v + xi * stride + i * j->count + t0, v[xi], n * sizeof(float));
        }
    }
}

/* The 2x2 outputs Aᵀ M A of every tile for output channels [lo, hi), with
 * Aᵀ = [1 1 1 0; 0 1 -1 -1]; an odd plane's last row or column drops the tile's second. */
static void transform_outputs(void *ctx, size_t lo, size_t hi) {
    const block_job *j = ctx;
    const cnv_winograd_conv *s = j->g->s;
    const size_t plane = (size_t)s->oh * s->ow, stride = (size_t)s->co * j->count;
    for (size_t o = lo; o < hi; o++) {
        const float b = j->bias ? j->bias[o] : 0.0f;
        cursor c = cursor_at(j->g, j->t0);
        for (size_t t0 = 0; t0 < j->count; t0 += CHUNK) {
            const size_t n = j->count - t0 < CHUNK ? j->count - t0 : CHUNK;
            float m[POS][CHUNK];
            for (int xi = 0; xi < POS; xi++) memcpy(m[xi], j->m + xi * stride + o * j->count + t0, n * sizeof(float));
            for (size_t e = 0; e < n; e++, cursor_next(j->g, &c)) {
                float am[2][4]; /* Aᵀ M */
                for (int k = 0; k < 4; k++) {
                    am[0][k] = m[0 * 4 + k][e] + m[1 * 4 + k][e] + m[2 * 4 + k][e];
                    am[1][k] = m[1 * 4 + k][e] - m[2 * 4 + k][e] - m[3 * 4 + k][e];
                }
                const int oy = 2 * c.ty, ox = 2 * c.tx;
                float *dst = j->y + ((size_t)c.n * s->co + o) * plane + (size_t)oy * s->ow + ox;
                for (int r = 0; r < 2 && oy + r < s->oh; r++) {
                    const float out[2] = {am[r][0] + am[r][1] + am[r][2], am[r][1] - am[r][2] - am[r][3]};
                    for (int k = 0; k < 2 && ox + k < s->ow; k++) {
                        float *p = dst + (size_t)r * s->ow + k;
                        *p = j->accumulate ? *p + out[k] : b + out[k];
                    }
                }
            }
        }
    }
}

void cnv_cpu_winograd_run(const cnv_winograd_conv *s, const float *x, const float *w, const float *bias,
                          int accumulate, float *y, float *work) {
    const geometry g = geometry_of(s);
    float *u = work, *v = u + (size_t)POS * s->co * s->ci, *m = v + (size_t)POS * s->ci * g.block;
    weight_job wj = {&g, w, u};
    cnv_cpu_parallel((size_t)s->co, cnv_cpu_min_items((size_t)POS * s->ci), transform_weights, &wj);
    for (size_t t0 = 0; t0 < g.tiles; t0 += g.block) {
        const size_t count = g.tiles - t0 < g.block ? g.tiles - t0 : g.block;
        block_job j = {&g, x, bias, v, m, y, t0, count, accumulate};
        cnv_cpu_parallel((size_t)s->ci, cnv_cpu_min_items((size_t)POS * count), transform_inputs, &j);
        for (int xi = 0; xi < POS; xi++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->co, (int)count, s->ci, 1.0f,
                        u + (size_t)xi * s->co * s->ci, s->ci, v + (size_t)xi * s->ci * count, (int)count, 0.0f,
                        m + (size_t)xi * s->co * count, (int)count);
        cnv_cpu_parallel((size_t)s->co, cnv_cpu_min_items((size_t)POS * count), transform_outputs, &j);
    }
}
