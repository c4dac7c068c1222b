/* Float64 oracles for Conv, MaxPool, AveragePool, GlobalAveragePool, Gemm and MatMul: one
 * direct loop nest per op, written from the ONNX definitions and sharing nothing with the CPU
 * kernels (no im2col, no BLAS, no switches). */
#include "oracle.h"

/* Spatial position of tap k of output position o along one axis (may fall in the padding). */
static int tap(int o, int stride, int pad_lo, int k, int dilation) { return o * stride - pad_lo + k * dilation; }

void tu_oracle_conv(cnv_op_type op, const cnv_attrs *a, int n_in, const double *const *in,
                    const cnv_shape *in_shape, double *out, const cnv_shape *out_shape) {
    const int N = in_shape[0].d[0], C = in_shape[0].d[1], H = in_shape[0].d[2], W = in_shape[0].d[3];
    const int M = out_shape->d[1], OH = out_shape->d[2], OW = out_shape->d[3];
    const int KH = in_shape[1].d[2], KW = in_shape[1].d[3];
    const int cg = C / a->group, mg = M / a->group;
    const double *x = in[0], *w = in[1], *b = n_in > 2 ? in[2] : NULL;
    for (int n = 0; n < N; n++)
        for (int m = 0; m < M; m++)
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++) {
                    double s = b ? b[m] : 0.0;
                    int g = m / mg;
                    for (int c = 0; c < cg; c++)
                        for (int i = 0; i < KH; i++)
                            for (int j = 0; j < KW; j++) {
                                int iy = tap(oy, a->stride[0], a->pads[0], i, a->dilation[0]);
                                int ix = tap(ox, a->stride[1], a->pads[1], j, a->dilation[1]);
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                s += x[((n * C + g * cg + c) * H + iy) * W + ix] * w[((m * cg + c) * KH + i) * KW + j];
                            }
                    out[((n * M + m) * OH + oy) * OW + ox] = s;
                }
}

/* ConvTranspose as ONNX defines it: each input element, times the kernel, scattered onto the
 * output at (input position * stride + tap * dilation - pad begin); the rest (output_padding,
 * or an output_shape past the full size) stays 0. */
void tu_oracle_convtranspose(cnv_op_type op, const cnv_attrs *a, int n_in, const double *const *in,
                             const cnv_shape *in_shape, double *out, const cnv_shape *out_shape) {
    (void)op, (void)n_in;
    const int N = in_shape[0].d[0], C = in_shape[0].d[1], H = in_shape[0].d[2], W = in_shape[0].d[3];
    const int M = out_shape->d[1], OH = out_shape->d[2], OW = out_shape->d[3];
    const int KH = in_shape[1].d[2], KW = in_shape[1].d[3];
    const int cg = C / a->group, mg = M / a->group;
    const double *x = in[0], *w = in[1];
    for (int k = 0; k < N * M * OH * OW; k++) out[k] = 0.0;
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int iy = 0; iy < H; iy++)
                for (int ix = 0; ix < W; ix++)
                    for (int m = 0; m < mg; m++)
                        for (int i = 0; i < KH; i++)
                            for (int j = 0; j < KW; j++) {
                                int oy = tap(iy, a->stride[0], a->pads[0], i, a->dilation[0]);
                                int ox = tap(ix, a->stride[1], a->pads[1], j, a->dilation[1]);
                                if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
                                int mo = (c / cg) * mg + m;
                                out[((n * M + mo) * OH + oy) * OW + ox] +=
                                    x[((n * C + c) * H + iy) * W + ix] * w[((c * mg + m) * KH + i) * KW + j];
                            }
}

/* Shared by both pools: visits every tap of every window, reporting whether it lies inside the
 * input and inside the padded input. */
typedef void (*window_visit)(void *state, double value, int inside_input, int inside_padded);

static void pool_windows(const cnv_attrs *a, const double *x, const cnv_shape *is, double *out,
                         const cnv_shape *os, void *state, window_visit visit, double (*finish)(void *state)) {
    const int H = is->d[2], W = is->d[3], OH = os->d[2], OW = os->d[3];
    for (int p = 0; p < is->d[0] * is->d[1]; p++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                for (int i = 0; i < a->kernel[0]; i++)
                    for (int j = 0; j < a->kernel[1]; j++) {
                        int iy = tap(oy, a->stride[0], a->pads[0], i, a->dilation[0]);
                        int ix = tap(ox, a->stride[1], a->pads[1], j, a->dilation[1]);
                        int inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
                        int padded = iy >= -a->pads[0] && iy < H + a->pads[2] && ix >= -a->pads[1] && ix < W + a->pads[3];
                        visit(state, inside ? x[(p * H + iy) * W + ix] : 0.0, inside, padded);
                    }
                out[(p * OH + oy) * OW + ox] = finish(state);
            }
}

typedef struct max_state {
    double best;
    int seen;
} max_state;

static void max_visit(void *st, double v, int inside, int padded) {
    max_state *s = st;
    if (inside && (!s->seen || v > s->best)) s->best = v, s->seen = 1;
}

static double max_finish(void *st) {
    max_state *s = st;
    double r = s->seen ? s->best : 0.0;
    s->seen = 0;
    return r;
}

void tu_oracle_maxpool(cnv_op_type op, const cnv_attrs *a, int n_in, const double *const *in,
                       const cnv_shape *in_shape, double *out, const cnv_shape *out_shape) {
    max_state s = {0};
    pool_windows(a, in[0], &in_shape[0], out, out_shape, &s, max_visit, max_finish);
}

typedef struct avg_state {
    double sum;
    int count;
    int include_pad;
} avg_state;

/* ONNX reference: explicit pads count as zeros with count_include_pad; the ceil_mode overhang
 * past the padded input never counts. */
static void avg_visit(void *st, double v, int inside, int padded) {
    avg_state *s = st;
    s->sum += v;
    s->count += s->include_pad ? padded : inside;
}

static double avg_finish(void *st) {
    avg_state *s = st;
    double r = s->count ? s->sum / s->count : 0.0;
    s->sum = 0.0;
    s->count = 0;
    return r;
}

void tu_oracle_avgpool(cnv_op_type op, const cnv_attrs *a, int n_in, const double *const *in,
                       const cnv_shape *in_shape, double *out, const cnv_shape *out_shape) {
    avg_state s = {0.0, 0, a->count_include_pad};
    pool_windows(a, in[0], &in_shape[0], out, out_shape, &s, avg_visit, avg_finish);
}

void tu_oracle_globalavgpool(cnv_op_type op, const cnv_attrs *a, int n_in, const double *const *in,
                             const cnv_shape *in_shape, double *out, const cnv_shape *out_shape) {
    const int planes = in_shape[0].d[0] * in_shape[0].d[1], size = in_shape[0].d[2] * in_shape[0].d[3];
    for (int p = 0; p < planes; p++) {
        double s = 0.0;
        for (int i = 0; i < size; i++) s += in[0][p * size + i];
        out[p] = s / size;
    }
}

/* numpy matmul: output batch index j reads batch index j of A and B, 0 along their size-1 (or
 * missing) batch dims. */
static void matmul(const double *const *in, const cnv_shape *in_shape, double *out, const cnv_shape *y) {
    const cnv_shape *sa = &in_shape[0], *sb = &in_shape[1];
    const int M = y->d[y->ndim - 2], N = y->d[y->ndim - 1], K = sa->d[sa->ndim - 1], nb = y->ndim - 2;
    size_t batches = 1;
    for (int k = 0; k < nb; k++) batches *= (size_t)y->d[k];
    for (size_t z = 0; z < batches; z++) {
        size_t rest = z, ia = 0, ib = 0, step_a = 1, step_b = 1;
        for (int k = nb - 1; k >= 0; k--) {
            const size_t idx = rest % (size_t)y->d[k];
            rest /= (size_t)y->d[k];
            const int ka = k - (y->ndim - sa->ndim), kb = k - (y->ndim - sb->ndim);
            if (ka >= 0) {
                ia += (sa->d[ka] == 1 ? 0 : idx) * step_a;
                step_a *= (size_t)sa->d[ka];
            }
            if (kb >= 0) {
                ib += (sb->d[kb] == 1 ? 0 : idx) * step_b;
                step_b *= (size_t)sb->d[kb];
            }
        }
        const double *A = in[0] + ia * M * K, *B = in[1] + ib * K * N;
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                double s = 0.0;
                for (int k = 0; k < K; k++) s += A[i * K + k] * B[k * N + j];
                out[z * M * N + i * N + j] = s;
            }
    }
}

void tu_oracle_gemm(cnv_op_type op, const cnv_attrs *a, int n_in, const double *const *in,
                    const cnv_shape *in_shape, double *out, const cnv_shape *out_shape) {
    if (op == CNV_OP_MATMUL) {
        matmul(in, in_shape, out, out_shape);
        return;
    }
    const int is_gemm = op == CNV_OP_GEMM;
    const int ta = is_gemm && a->trans_a, tb = is_gemm && a->trans_b;
    const double alpha = is_gemm ? a->alpha : 1.0, beta = is_gemm ? a->beta : 0.0;
    const int M = out_shape->d[0], N = out_shape->d[1], K = ta ? in_shape[0].d[0] : in_shape[0].d[1];
    const double *A = in[0], *B = in[1], *C = is_gemm && n_in > 2 ? in[2] : NULL;
    const cnv_shape *cs = &in_shape[2];
    const int c_rows = C && cs->ndim >= 2 ? cs->d[cs->ndim - 2] : 1;
    const int c_cols = C && cs->ndim >= 1 ? cs->d[cs->ndim - 1] : 1;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0.0;
            for (int k = 0; k < K; k++) s += (ta ? A[k * M + i] : A[i * K + k]) * (tb ? B[j * K + k] : B[k * N + j]);
            double c = C ? C[(c_rows == 1 ? 0 : i) * c_cols + (c_cols == 1 ? 0 : j)] : 0.0;
            out[i * N + j] = alpha * s + beta * c;
        }
}
