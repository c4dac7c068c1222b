/* Fourier (spectral) image parameterization, CNV_OP_FOURIER (Olah et al., Lucid): coefficients
 * [N, 2C, H, Wf = W/2+1] (planes 2c and 2c+1 hold the real and imaginary parts of channel c) to
 * an image [N, C, H, W]:
 *   x[h,w] = Re sum_{u<H, v<Wf} q[u,v] e^{i a} e^{i b},  a = 2 pi u h / H,  b = 2 pi v w / W,
 *   q[u,v] = s(u,v) (re + i im) / sqrt(HW),  s = 1 / max(f(u,v), 1/max(H,W))^decay.
 * The double sum factorizes, so each channel costs two matrix products instead of (HW)^2 terms:
 * first along u (r[h,v] = sum_u e^{i a} q[u,v]), then along v (x[h,w] = Re sum_v r[h,v] e^{i b}).
 * The tables of e^{i a}, e^{i b} and s are built in double from the angles 2 pi k / H, k < H
 * (indices reduced modulo H, so no large angles lose precision), and the products run in double
 * through CBLAS. The backward is the transpose of the same map. */
#include "cpu_ops.h"

#include "core/status.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

typedef struct fourier_plan {
    int H, W, Wf;
    double *rot_u;   /* [2H, 2H]: [[cos a, -sin a], [sin a, cos a]], a = 2 pi (h u mod H) / H */
    double *cos_vw;  /* [Wf, W]: cos b, b = 2 pi (v w mod W) / W */
    double *sin_vw;  /* [Wf, W] */
    double *scale;   /* [H, Wf]: s(u,v) / sqrt(HW) */
    double *q, *r;   /* scratch: [2H, Wf] each */
    double *img, *t; /* scratch: [H, W] and [2H, W] */
} fourier_plan;

static void plan_free(fourier_plan *p) {
    free(p->rot_u), free(p->cos_vw), free(p->sin_vw), free(p->scale);
    free(p->q), free(p->r), free(p->img), free(p->t);
}

static double *alloc_doubles(size_t n) { return malloc((n ? n : 1) * sizeof(double)); }

/* cos and sin of 2 pi k / n for k < n. */
static int unit_circle(int n, double **c, double **s) {
    *c = alloc_doubles((size_t)n);
    *s = alloc_doubles((size_t)n);
    if (!*c || !*s) return 0;
    const double step = 2.0 * acos(-1.0) / n;
    for (int k = 0; k < n; k++) (*c)[k] = cos(step * k), (*s)[k] = sin(step * k);
    return 1;
}

static cnv_status plan_make(const cnv_cpu_args *a, fourier_plan *p) {
    const int H = a->out_shape.d[2], W = a->out_shape.d[3], Wf = W / 2 + 1;
    *p = (fourier_plan){.H = H, .W = W, .Wf = Wf};
    if (a->in_shape[0].d[2] != H || a->in_shape[0].d[3] != Wf || a->in_shape[0].d[1] != 2 * a->out_shape.d[1])
        return cnv_fail(CNV_ERR_SHAPE, "%s: Fourier coefficients do not fit a %dx%d image", a->node->name, H, W);
    const size_t hh = (size_t)H, wf = (size_t)Wf, ww = (size_t)W;
    double *ch = NULL, *sh = NULL, *cw = NULL, *sw = NULL;
    p->rot_u = alloc_doubles(4 * hh * hh);
    p->cos_vw = alloc_doubles(wf * ww);
    p->sin_vw = alloc_doubles(wf * ww);
    p->scale = alloc_doubles(hh * wf);
    p->q = alloc_doubles(2 * hh * wf);
    p->r = alloc_doubles(2 * hh * wf);
    p->img = alloc_doubles(hh * ww);
    p->t = alloc_doubles(2 * hh * ww);
    const int ok = unit_circle(H, &ch, &sh) && unit_circle(W, &cw, &sw) && p->rot_u && p->cos_vw && p->sin_vw &&
                   p->scale && p->q && p->r && p->img && p->t;
    if (ok) {
        for (size_t h = 0; h < hh; h++)
            for (size_t u = 0; u < hh; u++) {
                const size_t k = h * u % hh;
                p->rot_u[h * 2 * hh + u] = ch[k];
                p->rot_u[h * 2 * hh + hh + u] = -sh[k];
                p->rot_u[(hh + h) * 2 * hh + u] = sh[k];
                p->rot_u[(hh + h) * 2 * hh + hh + u] = ch[k];
            }
        for (size_t v = 0; v < wf; v++)
            for (size_t w = 0; w < ww; w++) {
                const size_t k = v * w % ww;
                p->cos_vw[v * ww + w] = cw[k];
                p->sin_vw[v * ww + w] = sw[k];
            }
        const double floor_f = 1.0 / (H > W ? H : W), norm = 1.0 / sqrt((double)H * W);
        const double decay = a->a->decay;
        for (int u = 0; u < H; u++)
            for (int v = 0; v < Wf; v++) {
                const double fu = (double)(u < H - u ? u : H - u) / H, fv = (double)v / W;
                p->scale[u * wf + v] = norm / pow(fmax(sqrt(fu * fu + fv * fv), floor_f), decay);
            }
    }
    free(ch), free(sh), free(cw), free(sw);
    if (!ok) {
        plan_free(p);
        return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory planning a %dx%d Fourier transform", a->node->name, H, W);
    }
    return CNV_OK;
}

/* C = alpha op(A) B + beta C, row-major doubles, op(A) = A [m, k] or its transpose. */
static void gemm(int trans_b, int m, int n, int k, double alpha, const double *A, int lda, const double *B, int ldb,
                 double beta, double *C, int ldc) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, A, lda, B, ldb,
                beta, C, ldc);
}

cnv_status cnv_cpu_fourier_forward(const cnv_cpu_args *a) {
    fourier_plan p;
    CNV_TRY(plan_make(a, &p));
    const int H = p.H, W = p.W, Wf = p.Wf;
    const size_t plane_in = (size_t)H * Wf, plane_out = (size_t)H * W;
    const size_t channels = (size_t)a->out_shape.d[0] * a->out_shape.d[1];
    for (size_t nc = 0; nc < channels; nc++) {
        const float *coef = a->in[0] + 2 * nc * plane_in; /* the re plane, then the im plane */
        for (size_t i = 0; i < 2 * plane_in; i++) p.q[i] = p.scale[i % plane_in] * coef[i];
        /* [r_re; r_im] = [[cos a, -sin a], [sin a, cos a]] [q_re; q_im] */
        gemm(0, 2 * H, Wf, 2 * H, 1.0, p.rot_u, 2 * H, p.q, Wf, 0.0, p.r, Wf);
        /* x = r_re cos b - r_im sin b */
        gemm(0, H, W, Wf, 1.0, p.r, Wf, p.cos_vw, W, 0.0, p.img, W);
        gemm(0, H, W, Wf, -1.0, p.r + plane_in, Wf, p.sin_vw, W, 1.0, p.img, W);
        float *x = a->out + nc * plane_out;
        for (size_t i = 0; i < plane_out; i++) x[i] = (float)p.img[i];
    }
    plan_free(&p);
    return CNV_OK;
}

cnv_status cnv_cpu_fourier_backward(const cnv_cpu_args *a) {
    if (!a->grad_in[0]) return CNV_OK;
    fourier_plan p;
    CNV_TRY(plan_make(a, &p));
    const int H = p.H, W = p.W, Wf = p.Wf;
    const size_t plane_in = (size_t)H * Wf, plane_out = (size_t)H * W;
    const size_t channels = (size_t)a->out_shape.d[0] * a->out_shape.d[1];
    double *t_re = p.t, *t_im = p.t + plane_out, *g_re = p.r, *g_im = p.r + plane_in;
    for (size_t nc = 0; nc < channels; nc++) {
        const float *dy = a->grad_out + nc * plane_out;
        for (size_t i = 0; i < plane_out; i++) p.img[i] = dy[i];
        /* [t_re; t_im][u,w] = sum_h [cos a; sin a] dy[h,w]: the first H columns of rot_u. */
        gemm(0, 2 * H, W, H, 1.0, p.rot_u, 2 * H, p.img, W, 0.0, p.t, W);
        /* g = sum_w t e^{i b}: g_re = t_re cos b - t_im sin b, g_im = t_re sin b + t_im cos b. */
        gemm(1, H, Wf, W, 1.0, t_re, W, p.cos_vw, W, 0.0, g_re, Wf);
        gemm(1, H, Wf, W, -1.0, t_im, W, p.sin_vw, W, 1.0, g_re, Wf);
        gemm(1, H, Wf, W, 1.0, t_re, W, p.sin_vw, W, 0.0, g_im, Wf);
        gemm(1, H, Wf, W, 1.0, t_im, W, p.cos_vw, W, 1.0, g_im, Wf);
        /* x depends on re through cos(a+b) and on im through -sin(a+b). */
        float *d_re = a->grad_in[0] + 2 * nc * plane_in, *d_im = d_re + plane_in;
        for (size_t i = 0; i < plane_in; i++) {
            d_re[i] += (float)(p.scale[i] * g_re[i]);
            d_im[i] -= (float)(p.scale[i] * g_im[i]);
        }
    }
    plan_free(&p);
    return CNV_OK;
}
