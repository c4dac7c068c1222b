/* Fourier (spectral) image parameterization, CNV_OP_FOURIER (Olah et al., Lucid): coefficients
 * [N, 2C, H, Wf = W/2+1] (planes 2c and 2c+1 hold the real and imaginary parts of channel c) to
 * an image [N, C, H, W]:
 *   x[h,w] = Re sum_{u<H, v<Wf} q[u,v] e^{i a} e^{i b},  a = 2 pi u h / H,  b = 2 pi v w / W,
 *   q[u,v] = s(u,v) (re + i im) / sqrt(HW),  s = 1 / max(f(u,v), 1/max(H,W))^decay.
 * Through FFTW (single precision), in two passes per channel:
 *   r[h,v] = sum_u q[u,v] e^{i a}: an inverse complex DFT down each column v;
 *   x[h,w] = Re sum_{v<Wf} r[h,v] e^{i b}: an inverse complex DFT along each row of r padded
 *     with zeros to W. (FFTW's real c2r transform would halve that work, but for odd prime
 *     sizes such as SqueezeNet's 227 it has no fast algorithm and took 4x longer.)
 * The backward is the adjoint: with G[u,v] = sum_{h,w} dy[h,w] e^{i (a+b)}, d re = s Re G and
 *   d im = -s Im G; the same two inverse DFTs in the other order compute G, the rows' kept to
 *   v < Wf.
 * Where H or W has a prime factor above DFT_MAX_FACTOR, FFTW's estimated plans fall back to slow
 * general algorithms (227: 2.2 ms a channel, against 0.21 ms at 224; measured plans are faster
 * but their choice, and so the rounding, varies from run to run): the two DFTs are then matrix
 * products over all channels at once (by_products below), 4.7x faster at 227. */
#include "cpu_ops.h"

#include "core/status.h"

#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

/* FFTW's planner is not thread-safe (its execute functions are): plans are made and destroyed
 * under this lock, since several backends may run at once in one process. */
static pthread_mutex_t planner = PTHREAD_MUTEX_INITIALIZER;

typedef struct fourier_plan {
    int H, W, Wf;
    int products;    /* the DFTs as matrix products (by_products), not FFTW's */
    size_t channels; /* N * C */
    float *scale;    /* [H, Wf]: s(u,v) / sqrt(HW) */
    /* Made on template arrays and run on each thread's own (same alignment: fftwf_malloc);
     * inverse complex DFTs in place. */
    fftwf_plan columns; /* length H down each of the Wf columns of the spectrum [H, Wf] */
    fftwf_plan rows;    /* length W along each row of the image plane [H, W] */
    const cnv_cpu_args *a;
} fourier_plan;

static void plan_free(fourier_plan *p) {
    pthread_mutex_lock(&planner);
    if (p->columns) fftwf_destroy_plan(p->columns);
    if (p->rows) fftwf_destroy_plan(p->rows);
    pthread_mutex_unlock(&planner);
    fftwf_free(p->scale);
}

/* One thread's arrays: the spectrum [H, Wf] and the image plane [H, W], both complex. */
typedef struct scratch {
    fftwf_complex *spec, *img;
} scratch;

static int scratch_alloc(const fourier_plan *p, scratch *s) {
    s->spec = fftwf_malloc((size_t)p->H * p->Wf * sizeof(fftwf_complex));
    s->img = fftwf_malloc((size_t)p->H * p->W * sizeof(fftwf_complex));
    return s->spec && s->img;
}

static void scratch_free(scratch *s) {
    fftwf_free(s->spec);
    fftwf_free(s->img);
}

/* FFTW's codelets cover factors up to 16 (and some composites); a larger prime factor takes its
 * general algorithms. */
#define DFT_MAX_FACTOR 16
#define TWO_PI 6.28318530717958647692

static int largest_prime_factor(int n) {
    int f = 1;
    for (int d = 2; (long)d * d <= n; d++)
        while (n % d == 0) n /= d, f = d;
    return n > f ? n : f;
}

static int by_products(int H, int W) {
    return largest_prime_factor(H) > DFT_MAX_FACTOR || largest_prime_factor(W) > DFT_MAX_FACTOR;
}

static cnv_status plan_make(const cnv_cpu_args *a, fourier_plan *p) {
    const int H = a->out_shape.d[2], W = a->out_shape.d[3], Wf = W / 2 + 1;
    *p = (fourier_plan){.H = H, .W = W, .Wf = Wf, .products = by_products(H, W), .a = a};
    if (a->in_shape[0].d[2] != H || a->in_shape[0].d[3] != Wf || a->in_shape[0].d[1] != 2 * a->out_shape.d[1])
        return cnv_fail(CNV_ERR_SHAPE, "%s: Fourier coefficients do not fit a %dx%d image", a->node->name, H, W);
    p->channels = (size_t)a->out_shape.d[0] * a->out_shape.d[1];
    p->scale = fftwf_malloc((size_t)H * Wf * sizeof(float));
    scratch t = {0};
    int ok = p->scale && (p->products || scratch_alloc(p, &t));
    if (ok) {
        const double floor_f = 1.0 / (H > W ? H : W), norm = 1.0 / sqrt((double)H * W);
        for (int u = 0; u < H; u++)
            for (int v = 0; v < Wf; v++) {
                const double fu = (double)(u < H - u ? u : H - u) / H, fv = (double)v / W;
                p->scale[u * Wf + v] = (float)(norm / pow(fmax(sqrt(fu * fu + fv * fv), floor_f), a->a->decay));
            }
    }
    if (ok && !p->products) {
        pthread_mutex_lock(&planner);
        p->columns = fftwf_plan_many_dft(1, &H, Wf, t.spec, NULL, Wf, 1, t.spec, NULL, Wf, 1, FFTW_BACKWARD,
                                         FFTW_ESTIMATE);
        p->rows = fftwf_plan_many_dft(1, &W, H, t.img, NULL, 1, W, t.img, NULL, 1, W, FFTW_BACKWARD, FFTW_ESTIMATE);
        pthread_mutex_unlock(&planner);
        ok = p->columns && p->rows;
    }
    scratch_free(&t);
    if (!ok) {
        plan_free(p);
        return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory planning a %dx%d Fourier transform", a->node->name, H, W);
    }
    return CNV_OK;
}

/* One channel nc through the transforms, in a thread's own scratch. */
typedef void (*channel_fn)(const fourier_plan *p, const scratch *s, size_t nc);

static void forward_channel(const fourier_plan *p, const scratch *s, size_t nc) {
    const size_t plane_in = (size_t)p->H * p->Wf, plane_out = (size_t)p->H * p->W;
    const float *re = p->a->in[0] + 2 * nc * plane_in, *im = re + plane_in;
    for (size_t i = 0; i < plane_in; i++) {
        s->spec[i][0] = p->scale[i] * re[i];
        s->spec[i][1] = p->scale[i] * im[i];
    }
    fftwf_execute_dft(p->columns, s->spec, s->spec);
    for (int h = 0; h < p->H; h++) {
        fftwf_complex *row = s->img + (size_t)h * p->W;
        memcpy(row, s->spec + (size_t)h * p->Wf, (size_t)p->Wf * sizeof *row);
        memset(row + p->Wf, 0, (size_t)(p->W - p->Wf) * sizeof *row);
    }
    fftwf_execute_dft(p->rows, s->img, s->img);
    float *x = p->a->out + nc * plane_out;
    for (size_t i = 0; i < plane_out; i++) x[i] = s->img[i][0];
}

static void backward_channel(const fourier_plan *p, const scratch *s, size_t nc) {
    const size_t plane_in = (size_t)p->H * p->Wf, plane_out = (size_t)p->H * p->W;
    const float *dy = p->a->grad_out + nc * plane_out;
    for (size_t i = 0; i < plane_out; i++) s->img[i][0] = dy[i], s->img[i][1] = 0.0f;
    fftwf_execute_dft(p->rows, s->img, s->img); /* sum_w dy e^{i b} */
    for (int h = 0; h < p->H; h++)
        memcpy(s->spec + (size_t)h * p->Wf, s->img + (size_t)h * p->W, (size_t)p->Wf * sizeof *s->spec);
    fftwf_execute_dft(p->columns, s->spec, s->spec); /* G */
    float *d_re = p->a->grad_in[0] + 2 * nc * plane_in, *d_im = d_re + plane_in;
    const int assign = cnv_cpu_assigns(p->a, 0);
    for (size_t i = 0; i < plane_in; i++) {
        d_re[i] = (assign ? 0.0f : d_re[i]) + p->scale[i] * s->spec[i][0];
        d_im[i] = (assign ? 0.0f : d_im[i]) - p->scale[i] * s->spec[i][1];
    }
}

typedef struct channel_job {
    const fourier_plan *p;
    channel_fn one;
    atomic_int failed; /* a thread's scratch could not be allocated */
} channel_job;

/* Channels [lo, hi) on this thread, in scratch of its own. */
static void channels(void *ctx, size_t lo, size_t hi) {
    channel_job *j = ctx;
    scratch s;
    if (scratch_alloc(j->p, &s))
        for (size_t nc = lo; nc < hi; nc++) j->one(j->p, &s, nc);
    else
        j->failed = 1;
    scratch_free(&s);
}

/* The matrix-product path's scratch: A [2H, 2H] = [[Fr, -Fi], [Fi, Fr]] with F[u,h] =
 * e^{2 pi i u h / H} (symmetric, so the forward's columns DFT and the backward's share it);
 * C, S [Wf, W]: cos and sin of 2 pi v w / W; t0 and t1: [2H, Wf] per channel (real rows over
 * imaginary ones, the layout of a channel's coefficients). */
typedef struct dft_work {
    float *A, *C, *S, *t0, *t1;
} dft_work;

static size_t dft_floats(int H, int W, size_t channels) {
    const size_t Wf = (size_t)W / 2 + 1;
    return 4 * (size_t)H * H + 2 * Wf * W + 4 * channels * H * Wf;
}

size_t cnv_cpu_fourier_workspace(const cnv_cpu_args *a) {
    if (a->out_shape.ndim != 4 || !by_products(a->out_shape.d[2], a->out_shape.d[3])) return 0;
    return dft_floats(a->out_shape.d[2], a->out_shape.d[3], (size_t)a->out_shape.d[0] * a->out_shape.d[1]);
}

/* cos and sin of 2 pi k / n for k < n, into c and s. */
static void turns(int n, float *c, float *s) {
    for (int k = 0; k < n; k++) c[k] = (float)cos(TWO_PI * k / n), s[k] = (float)sin(TWO_PI * k / n);
}

/* The tables, each entry's angle reduced to whole turns (u h mod H), so that the trigonometry is
 * done H + W times, not for every entry. The turns sit in t0 and t1's room (4 channels H Wf
 * floats, at least 2 H and 2 W) until the products use it. */
static void dft_tables(const fourier_plan *p, float *base, dft_work *d) {
    const int H = p->H, W = p->W, Wf = p->Wf;
    *d = (dft_work){.A = base};
    d->C = d->A + 4 * (size_t)H * H;
    d->S = d->C + (size_t)Wf * W;
    d->t0 = d->S + (size_t)Wf * W;
    d->t1 = d->t0 + 2 * p->channels * H * Wf;
    float *c = d->t0, *s = c + H;
    turns(H, c, s);
    const size_t n = 2 * (size_t)H;
    for (int u = 0; u < H; u++)
        for (int h = 0; h < H; h++) {
            const int k = (int)((long)u * h % H);
            d->A[u * n + h] = c[k], d->A[u * n + H + h] = -s[k];
            d->A[(H + u) * n + h] = s[k], d->A[(H + u) * n + H + h] = c[k];
        }
    s = c + W;
    turns(W, c, s);
    for (int v = 0; v < Wf; v++)
        for (int w = 0; w < W; w++) {
            const int k = (int)((long)v * w % W);
            d->C[(size_t)v * W + w] = c[k], d->S[(size_t)v * W + w] = s[k];
        }
}

/* [Rr; Ri] = A t0 for every channel (the columns' DFT). */
static void columns_product(const fourier_plan *p, const dft_work *d, const float *t0, float *t1) {
    const int n2 = 2 * p->H;
    const size_t plane2 = (size_t)n2 * p->Wf;
    const cnv_cpu_products q = {.m = n2, .n = p->Wf, .k = n2, .count = (int)p->channels, .alpha = 1.0f, .a = d->A,
                                .lda = n2, .a_period = 1, .b = t0, .ldb = p->Wf, .b_stride = plane2, .c = t1,
                                .ldc = p->Wf, .c_stride = plane2};
    cnv_cpu_products_run(&q);
}

typedef struct scale_job {
    const fourier_plan *p;
    const float *from;
    float *to;
    float sign_im; /* the imaginary rows' factor */
    int add;
} scale_job;

/* to = (or, add, +=) s * from over channels [lo, hi) of [2H, Wf] planes, the imaginary half
 * times sign_im. */
static void scale_channels(void *ctx, size_t lo, size_t hi) {
    const scale_job *j = ctx;
    const size_t plane = (size_t)j->p->H * j->p->Wf;
    for (size_t nc = lo; nc < hi; nc++)
        for (int half = 0; half < 2; half++) {
            const float f = half ? j->sign_im : 1.0f;
            const float *from = j->from + (2 * nc + half) * plane;
            float *to = j->to + (2 * nc + half) * plane;
            for (size_t i = 0; i < plane; i++) to[i] = (j->add ? to[i] : 0.0f) + f * j->p->scale[i] * from[i];
        }
}

static void scale_all(const fourier_plan *p, const float *from, float *to, float sign_im, int add) {
    scale_job j = {p, from, to, sign_im, add};
    cnv_cpu_parallel(p->channels, cnv_cpu_min_items(2 * (size_t)p->H * p->Wf), scale_channels, &j);
}

/* x = Rr C - Ri S. */
static void forward_products(const fourier_plan *p, const dft_work *d) {
    const size_t plane2 = 2 * (size_t)p->H * p->Wf;
    scale_all(p, p->a->in[0], d->t0, 1.0f, 0);
    columns_product(p, d, d->t0, d->t1);
    cnv_cpu_products q = {.m = p->H, .n = p->W, .k = p->Wf, .count = (int)p->channels, .alpha = 1.0f, .a = d->t1,
                          .lda = p->Wf, .a_period = (int)p->channels, .a_stride = plane2, .b = d->C, .ldb = p->W,
                          .c = p->a->out, .ldc = p->W, .c_stride = (size_t)p->H * p->W};
    cnv_cpu_products_run(&q);
    q.a = d->t1 + (size_t)p->H * p->Wf, q.b = d->S, q.alpha = -1.0f, q.beta = 1.0f;
    cnv_cpu_products_run(&q);
}

/* t0 = [dy Cᵀ; dy Sᵀ], G = A t0, then d re = s Gr, d im = -s Gi. */
static void backward_products(const fourier_plan *p, const dft_work *d) {
    const size_t plane = (size_t)p->H * p->Wf;
    cnv_cpu_products q = {.tb = 1, .m = p->H, .n = p->Wf, .k = p->W, .count = (int)p->channels, .alpha = 1.0f,
                          .a = p->a->grad_out, .lda = p->W, .a_period = (int)p->channels,
                          .a_stride = (size_t)p->H * p->W, .b = d->C, .ldb = p->W, .c = d->t0, .ldc = p->Wf,
                          .c_stride = 2 * plane};
    cnv_cpu_products_run(&q);
    q.b = d->S, q.c = d->t0 + plane;
    cnv_cpu_products_run(&q);
    columns_product(p, d, d->t0, d->t1);
    scale_all(p, d->t1, p->a->grad_in[0], -1.0f, !cnv_cpu_assigns(p->a, 0));
}

/* The matrix-product path, in the backend's scratch where it is large enough. */
static cnv_status run_products(const cnv_cpu_args *a, const fourier_plan *p, int backward) {
    const size_t need = dft_floats(p->H, p->W, p->channels);
    float *owned = NULL, *base = a->work && a->work_n >= need ? a->work : (owned = malloc(need * sizeof(float)));
    if (!base) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory for a %dx%d Fourier transform", a->node->name, p->H, p->W);
    dft_work d;
    dft_tables(p, base, &d);
    if (backward)
        backward_products(p, &d);
    else
        forward_products(p, &d);
    free(owned);
    return CNV_OK;
}

/* The forward or the backward: every channel through FFTW (or, for sizes with a large prime
 * factor, the matrix products), the channels split among the cores. */
static cnv_status run(const cnv_cpu_args *a, int backward) {
    fourier_plan p;
    CNV_TRY(plan_make(a, &p));
    if (p.products) {
        cnv_status s = run_products(a, &p, backward);
        plan_free(&p);
        return s;
    }
    channel_job j = {.p = &p, .one = backward ? backward_channel : forward_channel};
    atomic_init(&j.failed, 0);
    cnv_cpu_parallel(p.channels, cnv_cpu_min_items((size_t)p.H * p.W * 8), channels, &j);
    plan_free(&p);
    if (j.failed)
        return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory for a %dx%d Fourier transform", a->node->name, p.H, p.W);
    return CNV_OK;
}

cnv_status cnv_cpu_fourier_forward(const cnv_cpu_args *a) { return run(a, 0); }

cnv_status cnv_cpu_fourier_backward(const cnv_cpu_args *a) {
    return a->grad_in[0] ? run(a, 1) : CNV_OK;
}
