/* Float64 oracles of the image-space ops of feature visualization, straight from their
 * definitions (runtime/core/op.h): no separable tricks, no tables, so they check the kernels'
 * factorizations rather than repeat them. */
#include "oracle.h"

#include <math.h>
#include <stdlib.h>

/* CNV_OP_FOURIER: x[n,c,h,w] = (1/sqrt(HW)) sum_{u<H, v<W/2+1} s(u,v) (Re cos t - Im sin t),
 * t = 2 pi (u h / H + v w / W), s = 1 / max(f, 1/max(H,W))^decay, f = |(min(u, H-u)/H, v/W)|.
 * O((HW)^2) per channel: small shapes only. */
void tu_oracle_fourier(cnv_op_type op, const cnv_attrs *a, int n_in, const double *const *in,
                       const cnv_shape *in_shape, double *out, const cnv_shape *out_shape) {
    (void)op, (void)n_in;
    const int N = out_shape->d[0], C = out_shape->d[1], H = out_shape->d[2], W = out_shape->d[3];
    const int Wf = in_shape[0].d[3];
    const double pi = acos(-1.0), floor_f = 1.0 / (H > W ? H : W), norm = 1.0 / sqrt((double)H * W);
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            const double *re = in[0] + ((size_t)n * 2 * C + 2 * c) * H * Wf;
            const double *im = re + (size_t)H * Wf;
            for (int h = 0; h < H; h++)
                for (int w = 0; w < W; w++) {
                    double sum = 0.0;
                    for (int u = 0; u < H; u++)
                        for (int v = 0; v < Wf; v++) {
                            const double fu = (double)(u < H - u ? u : H - u) / H, fv = (double)v / W;
                            const double s = 1.0 / pow(fmax(sqrt(fu * fu + fv * fv), floor_f), a->decay);
                            const double t = 2.0 * pi * ((double)u * h / H + (double)v * w / W);
                            sum += s * (re[u * Wf + v] * cos(t) - im[u * Wf + v] * sin(t));
                        }
                    out[(((size_t)n * C + c) * H + h) * W + w] = norm * sum;
                }
        }
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
                        sum += g[i + r] * g[j + r] * in[0][((size_t)p * H + clamp_index(h + i, H)) * W + clamp_index(w + j, W)];
                out[((size_t)p * H + h) * W + w] = sum;
            }
    free(g);
}
