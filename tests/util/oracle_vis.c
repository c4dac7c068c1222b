/* Float64 oracles of the image-space ops of feature visualization, straight from their
 * definitions (runtime/core/op.h): no separable tricks, no tables, so they check the kernels'
 * factorizations rather than repeat them. */
#include "oracle.h"

#include "core/penalty.h" /* CNV_TV_EPS */

#include <math.h>
#include <stdlib.h>

/* CNV_OP_FOURIER: x[n,c,h,w] = (1/sqrt(HW)) sum_{u<H, v<W/2+1} s(u,v) (Re cos t - Im sin t),
 * t = 2 pi (u h / H + v w / W), s = 1 / max(f, 1/max(H,W))^decay, f = |(min(u, H-u)/H, v/W)|. */
static double fourier_scale(const cnv_attrs *a, int H, int W, int u, int v) {
    const double fu = (double)(u < H - u ? u : H - u) / H, fv = (double)v / W;
    return 1.0 / (sqrt((double)H * W) * pow(fmax(sqrt(fu * fu + fv * fv), 1.0 / (H > W ? H : W)), a->decay));
}

static double fourier_angle(int H, int W, int u, int v, int h, int w) {
    return 2.0 * acos(-1.0) * ((double)u * h / H + (double)v * w / W);
}

double tu_oracle_fourier_at(const cnv_attrs *a, const double *coef, const cnv_shape *coef_shape, int n, int c, int h,
                            int w) {
    const int H = a->out_hw[0], W = a->out_hw[1], Wf = coef_shape->d[3];
    const double *re = coef + ((size_t)n * coef_shape->d[1] + 2 * c) * H * Wf, *im = re + (size_t)H * Wf;
    double sum = 0.0;
    for (int u = 0; u < H; u++)
        for (int v = 0; v < Wf; v++) {
            const double t = fourier_angle(H, W, u, v, h, w);
            sum += fourier_scale(a, H, W, u, v) * (re[u * Wf + v] * cos(t) - im[u * Wf + v] * sin(t));
        }
    return sum;
}

double tu_oracle_fourier_adjoint_at(const cnv_attrs *a, const double *dimg, const cnv_shape *img_shape, int n,
                                    int plane, int u, int v) {
    const int C = img_shape->d[1], H = img_shape->d[2], W = img_shape->d[3];
    const double *dy = dimg + ((size_t)n * C + plane / 2) * H * W;
    double sum = 0.0;
    for (int h = 0; h < H; h++)
        for (int w = 0; w < W; w++) {
            const double t = fourier_angle(H, W, u, v, h, w);
            sum += dy[h * W + w] * (plane % 2 ? -sin(t) : cos(t));
        }
    return fourier_scale(a, H, W, u, v) * sum;
}

/* O((HW)^2) per channel: small shapes only (tu_oracle_fourier_at samples large ones). */
void tu_oracle_fourier(cnv_op_type op, const cnv_attrs *a, int n_in, const double *const *in,
                       const cnv_shape *in_shape, double *out, const cnv_shape *out_shape) {
    (void)op, (void)n_in;
    const int N = out_shape->d[0], C = out_shape->d[1], H = out_shape->d[2], W = out_shape->d[3];
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int h = 0; h < H; h++)
                for (int w = 0; w < W; w++)
                    out[(((size_t)n * C + c) * H + h) * W + w] =
                        tu_oracle_fourier_at(a, in[0], &in_shape[0], n, c, h, w);
}

static int clamp_index(int i, int n) { return i < 0 ? 0 : i >= n ? n - 1 : i; }

/* CNV_OP_BLUR: y[h,w] = sum_{i,j in [-r, r]} g(i) g(j) x[clamp(h+i), clamp(w+j)], with
 * g(k) = exp(-k^2 / (2 sigma^2)) / sum_k exp(...), r = ceil(3 sigma); sigma <= 0: identity. */
void tu_oracle_blur(cnv_op_type op, const cnv_attrs *a, int n_in, const double *const *in,
                    const cnv_shape *in_shape, double *out, const cnv_shape *out_shape) {
    (void)op, (void)n_in, (void)in_shape;
    const int planes = out_shape->d[0] * out_shape->d[1], H = out_shape->d[2], W = out_shape->d[3];
    const double sigma = a->sigma;
    const int r = sigma > 0.0 ? (int)ceil(3.0 * sigma) : 0;
    double *g = malloc((size_t)(2 * r + 1) * sizeof(double));
    if (!g) abort();
    double total = 0.0;
    for (int k = -r; k <= r; k++) total += g[k + r] = r ? exp(-(double)k * k / (2.0 * sigma * sigma)) : 1.0;
    for (int k = 0; k <= 2 * r; k++) g[k] /= total;
    for (int p = 0; p < planes; p++)
        for (int h = 0; h < H; h++)
            for (int w = 0; w < W; w++) {
                double sum = 0.0;
                for (int i = -r; i <= r; i++)
                    for (int j = -r; j <= r; j++)
                        sum += g[i + r] * g[j + r] *
                               in[0][((size_t)p * H + clamp_index(h + i, H)) * W + clamp_index(w + j, W)];
                out[((size_t)p * H + h) * W + w] = sum;
            }
    free(g);
}

/* Bilinear weight of a tap at distance d from the sample point. */
static double tent(double d) { return fmax(0.0, 1.0 - fabs(d)); }

/* CNV_OP_RESAMPLE: y[n,c,i,j] = sum over input pixels (p, q) of tent(sx - q) tent(sy - p) x[n,c,p,q],
 * sx = T0 x + T1 y + T2 + (Wi-1)/2, sy = T3 x + T4 y + T5 + (Hi-1)/2, x = j - (Wo-1)/2,
 * y = i - (Ho-1)/2, T = in[1][6n ..]: the sum runs over the whole input plane (no tap selection),
 * so pixels outside the input are simply absent. O(Ho Wo Hi Wi) per plane: small shapes only. */
void tu_oracle_resample(cnv_op_type op, const cnv_attrs *a, int n_in, const double *const *in,
                        const cnv_shape *in_shape, double *out, const cnv_shape *out_shape) {
    (void)op, (void)a, (void)n_in;
    const int N = out_shape->d[0], C = out_shape->d[1], Ho = out_shape->d[2], Wo = out_shape->d[3];
    const int Hi = in_shape[0].d[2], Wi = in_shape[0].d[3];
    for (int n = 0; n < N; n++) {
        const double *T = in[1] + (size_t)n * 6;
        for (int c = 0; c < C; c++) {
            const double *x = in[0] + ((size_t)n * C + c) * Hi * Wi;
            for (int i = 0; i < Ho; i++)
                for (int j = 0; j < Wo; j++) {
                    const double xc = j - 0.5 * (Wo - 1), yc = i - 0.5 * (Ho - 1);
                    const double sx = T[0] * xc + T[1] * yc + T[2] + 0.5 * (Wi - 1);
                    const double sy = T[3] * xc + T[4] * yc + T[5] + 0.5 * (Hi - 1);
                    double sum = 0.0;
                    for (int p = 0; p < Hi; p++)
                        for (int q = 0; q < Wi; q++) sum += tent(sx - q) * tent(sy - p) * x[(size_t)p * Wi + q];
                    out[(((size_t)n * C + c) * Ho + i) * Wo + j] = sum;
                }
        }
    }
}

double tu_oracle_regularize_penalty(const cnv_attrs *a, const double *x, const cnv_shape *shape) {
    const int planes = shape->d[0] * shape->d[1], H = shape->d[2], W = shape->d[3];
    double tv = 0.0, l1 = 0.0, l2 = 0.0;
    for (int p = 0; p < planes; p++)
        for (int h = 0; h < H; h++)
            for (int w = 0; w < W; w++) {
                const double *v = x + ((size_t)p * H + h) * W + w;
                const double dv = h + 1 < H ? v[W] - v[0] : 0.0, dh = w + 1 < W ? v[1] - v[0] : 0.0;
                tv += pow(dv * dv + dh * dh + (double)CNV_TV_EPS, 0.5 * a->tv_beta);
                l1 += fabs(v[0] - a->l_center);
                l2 += 0.5 * (v[0] - a->l_center) * (v[0] - a->l_center);
            }
    return a->tv * tv + a->l1 * l1 + a->l2 * l2;
}

void tu_oracle_gradnorm_grad(const cnv_attrs *a, const cnv_shape *shape, const double *dy, double *dx) {
    const size_t items = (size_t)shape->d[0], per_item = cnv_shape_numel(shape) / items;
    for (size_t n = 0; n < items; n++) {
        const double *g = dy + n * per_item;
        double mean = 0.0;
        for (size_t i = 0; i < per_item; i++) mean += fabs(g[i]);
        mean /= (double)per_item;
        for (size_t i = 0; i < per_item; i++)
            dx[n * per_item + i] = a->gradnorm_clip ? fmin(fmax(g[i], -(double)a->clip), (double)a->clip)
                                                    : g[i] / (mean + (double)a->eps);
    }
}

/* CNV_OP_GRAM: G[n,0,i,j] = (1/(H W)) sum over (h, w) of F[n,i,h,w] F[n,j,h,w], every entry
 * summed on its own (no symmetry used). */
void tu_oracle_gram(cnv_op_type op, const cnv_attrs *a, int n_in, const double *const *in,
                    const cnv_shape *in_shape, double *out, const cnv_shape *out_shape) {
    (void)op, (void)a, (void)n_in, (void)out_shape;
    const int N = in_shape[0].d[0], C = in_shape[0].d[1];
    const size_t P = (size_t)in_shape[0].d[2] * in_shape[0].d[3];
    for (int n = 0; n < N; n++)
        for (int i = 0; i < C; i++)
            for (int j = 0; j < C; j++) {
                const double *fi = in[0] + ((size_t)n * C + i) * P, *fj = in[0] + ((size_t)n * C + j) * P;
                double sum = 0.0;
                for (size_t p = 0; p < P; p++) sum += fi[p] * fj[p];
                out[((size_t)n * C + i) * C + j] = sum / (double)P;
            }
}

/* CNV_OP_SQDIST: out[n] = alpha/2 * sum over item n of (X - T)^2, T = in[1]. */
void tu_oracle_sqdist(cnv_op_type op, const cnv_attrs *a, int n_in, const double *const *in,
                      const cnv_shape *in_shape, double *out, const cnv_shape *out_shape) {
    (void)op, (void)n_in, (void)out_shape;
    const size_t items = (size_t)in_shape[0].d[0], per_item = cnv_shape_numel(&in_shape[0]) / items;
    for (size_t n = 0; n < items; n++) {
        double sum = 0.0;
        for (size_t i = 0; i < per_item; i++) {
            const double d = in[0][n * per_item + i] - in[1][n * per_item + i];
            sum += d * d;
        }
        out[n] = 0.5 * (double)a->alpha * sum;
    }
}
