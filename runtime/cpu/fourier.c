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
 * products over all channels at once (by_products below), 4.7x faster at 227, and with the
 * kernels' symmetry (dft_work) faster again: SqueezeNet's Lucid step at batch 8 took 9.5 and
 * 10.0 ms forward and backward with the full tables, 5.7 and 6.2 ms with the halves. */
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

/* The matrix-product path. A DFT of length n with the kernel e^{i t k j}, t = 2 pi / n, pairs j
 * with n - j, where cos is even and sin odd: with E_j = z_j + z_{n-j} and O_j = z_j - z_{n-j},
 *   sum_j z_j e^{i t k j} = sum_{j <= n/2} E_j cos(t k j) + i sum_{0 < j < n/2} O_j sin(t k j)
 * (E_0 = z_0, and for even n E_{n/2} = z_{n/2}), and outputs k and n - k share both sums, the
 * sine's sign flipped. So the columns' complex DFT is two real products of about (H/2)^2 by the
 * columns of every channel at once, a quarter of the full [2H, 2H] product it was; the rows'
 * sums, whose results are real, are computed for w <= W/2 and mirrored, half the products.
 * Scratch: the tables, then `a` and `b` [channels, 2, H, Wf] each, then pq [2 hh, cols]. */
typedef struct dft_work {
    int hh, ls;     /* outputs h <= H/2 (also the cosine terms u <= H/2); sine terms 0 < u < H/2 */
    size_t cols;    /* channels * 2 Wf: every channel's real and imaginary columns side by side */
    float *cu, *su; /* [hh, hh] and [hh, ls]: cos(2 pi u h / H), sin(2 pi (1 + j) h / H) */
    float *cw, *sw; /* [Wf, Wf]: cos and sin of 2 pi v w / W, w <= W/2 */
    float *turns;   /* cos then sin of 2 pi k / n, k < n, for the current table */
    float *a, *b, *pq;
} dft_work;

static size_t dft_floats(int H, int W, size_t channels) {
    const size_t Wf = (size_t)W / 2 + 1, hh = (size_t)H / 2 + 1, ls = (size_t)(H - 1) / 2, plane = (size_t)H * Wf;
    return hh * (hh + ls) + 2 * Wf * Wf + 2 * (size_t)(H > W ? H : W) + 4 * channels * plane + 4 * hh * channels * Wf;
}

size_t cnv_cpu_fourier_workspace(const cnv_cpu_args *a) {
    if (a->out_shape.ndim != 4 || !by_products(a->out_shape.d[2], a->out_shape.d[3])) return 0;
    return dft_floats(a->out_shape.d[2], a->out_shape.d[3], (size_t)a->out_shape.d[0] * a->out_shape.d[1]);
}

/* cos and sin of 2 pi k / n for k < n, into d->turns. */
static void turns(const dft_work *d, int n) {
    for (int k = 0; k < n; k++) d->turns[k] = (float)cos(TWO_PI * k / n), d->turns[n + k] = (float)sin(TWO_PI * k / n);
}

/* t[r, c] = cos (or sin) of 2 pi (r (c + c0) mod n) / n for r < rows, c < cols: the angle reduced
 * to whole turns, so that the trigonometry is done n times, not for every entry, and stepped by
 * r along a row, with no division per entry. */
static void table(const dft_work *d, int n, int sine, float *t, int rows, int cols, int c0) {
    const float *f = d->turns + (size_t)sine * n;
    for (int r = 0; r < rows; r++) {
        const int step = r % n;
        int k = (int)((long)r * c0 % n);
        for (int c = 0; c < cols; c++) {
            t[(size_t)r * cols + c] = f[k];
            k += step;
            if (k >= n) k -= n;
        }
    }
}

static void dft_tables(const fourier_plan *p, float *base, dft_work *d) {
    const int H = p->H, W = p->W, Wf = p->Wf;
    *d = (dft_work){.hh = H / 2 + 1, .ls = (H - 1) / 2, .cols = p->channels * 2 * (size_t)Wf, .cu = base};
    d->su = d->cu + (size_t)d->hh * d->hh;
    d->cw = d->su + (size_t)d->hh * d->ls;
    d->sw = d->cw + (size_t)Wf * Wf;
    d->turns = d->sw + (size_t)Wf * Wf;
    d->a = d->turns + 2 * (H > W ? H : W);
    d->b = d->a + 2 * p->channels * H * Wf;
    d->pq = d->b + 2 * p->channels * H * Wf;
    turns(d, H);
    table(d, H, 0, d->cu, d->hh, d->hh, 0);
    table(d, H, 1, d->su, d->hh, d->ls, 1);
    turns(d, W);
    table(d, W, 0, d->cw, Wf, Wf, 0);
    table(d, W, 1, d->sw, Wf, Wf, 0);
}

/* Complex planes [H, Wf] in one of two layouts: plane (nc, part) at base + nc cs + part ps (part
 * 0 real, 1 imaginary): a channel's coefficients (cs = 2 H Wf, ps = H Wf), or every channel's
 * real planes before every imaginary one (cs = H Wf, ps = channels H Wf), rows of all channels
 * one matrix for the rows' products. */
typedef struct planes {
    float *base;
    size_t cs, ps;
} planes;

static planes coefficient_layout(const fourier_plan *p, float *base) {
    return (planes){base, 2 * (size_t)p->H * p->Wf, (size_t)p->H * p->Wf};
}

static planes split_layout(const fourier_plan *p, float *base) {
    return (planes){base, (size_t)p->H * p->Wf, p->channels * p->H * p->Wf};
}

static float *row_of(const fourier_plan *p, const planes *z, size_t nc, int part, int h) {
    return z->base + nc * z->cs + (size_t)part * z->ps + (size_t)h * p->Wf;
}

typedef struct column_job {
    const fourier_plan *p;
    const dft_work *d;
    planes z;
} column_job;

/* Channels [lo, hi) of z folded into b: rows u <= H/2 of E (one pq column block per channel and
 * part), then rows 0 < u < H/2 of O. */
static void fold_channels(void *ctx, size_t lo, size_t hi) {
    const column_job *j = ctx;
    const int H = j->p->H, Wf = j->p->Wf;
    for (size_t nc = lo; nc < hi; nc++)
        for (int part = 0; part < 2; part++)
            for (int r = 0; r < H; r++) {
                const int odd = r >= j->d->hh, u = odd ? r - j->d->hh + 1 : r, paired = u > 0 && 2 * u != H;
                const float *z = row_of(j->p, &j->z, nc, part, u);
                const float *m = paired ? row_of(j->p, &j->z, nc, part, H - u) : z;
                float *e = j->d->b + (size_t)r * j->d->cols + (2 * nc + (size_t)part) * Wf;
                for (int v = 0; v < Wf; v++) e[v] = !paired ? z[v] : odd ? z[v] - m[v] : z[v] + m[v];
            }
}

/* Channels [lo, hi) of the DFT into z from P (pq's first hh rows) and Q (the rest): row h is
 * P + iQ, row H - h is P - iQ. */
static void unfold_channels(void *ctx, size_t lo, size_t hi) {
    const column_job *j = ctx;
    const int H = j->p->H, Wf = j->p->Wf;
    const size_t q_at = (size_t)j->d->hh * j->d->cols;
    for (size_t nc = lo; nc < hi; nc++)
        for (int h = 0; h < j->d->hh; h++) {
            const float *pr = j->d->pq + (size_t)h * j->d->cols + 2 * nc * Wf, *pi = pr + Wf;
            const float *qr = pr + q_at, *qi = pi + q_at;
            float *re = row_of(j->p, &j->z, nc, 0, h), *im = row_of(j->p, &j->z, nc, 1, h);
            for (int v = 0; v < Wf; v++) re[v] = pr[v] - qi[v], im[v] = pi[v] + qr[v];
            if (h == 0 || 2 * h == H) continue;
            re = row_of(j->p, &j->z, nc, 0, H - h), im = row_of(j->p, &j->z, nc, 1, H - h);
            for (int v = 0; v < Wf; v++) re[v] = pr[v] + qi[v], im[v] = pi[v] - qr[v];
        }
}

/* to = the columns' DFT of from (sum_u z[u] e^{2 pi i u h / H} down every column), through b and
 * pq. */
static void columns_dft(const fourier_plan *p, const dft_work *d, planes from, planes to) {
    const size_t min = cnv_cpu_min_items(4 * (size_t)p->H * p->Wf);
    column_job j = {p, d, from};
    cnv_cpu_parallel(p->channels, min, fold_channels, &j);
    const cnv_cpu_products cos_sums = {.m = d->hh, .n = (int)d->cols, .k = d->hh, .count = 1, .alpha = 1.0f,
                                       .a = d->cu, .lda = d->hh, .a_period = 1, .b = d->b, .ldb = (int)d->cols,
                                       .c = d->pq, .ldc = (int)d->cols};
    cnv_cpu_products_run(&cos_sums);
    float *q = d->pq + (size_t)d->hh * d->cols;
    if (d->ls) {
        cnv_cpu_products sin_sums = cos_sums;
        sin_sums.k = d->ls, sin_sums.a = d->su, sin_sums.lda = d->ls, sin_sums.b = d->b + (size_t)d->hh * d->cols;
        sin_sums.c = q;
        cnv_cpu_products_run(&sin_sums);
    } else {
        memset(q, 0, (size_t)d->hh * d->cols * sizeof(float)); /* H <= 2: no sine terms */
    }
    j.z = to;
    cnv_cpu_parallel(p->channels, min, unfold_channels, &j);
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

typedef struct rows_job {
    const fourier_plan *p;
    const dft_work *d;
} rows_job;

/* Whether column w <= W/2 has a distinct mirror W - w. */
static int mirrored(int W, int w) { return w > 0 && 2 * w != W; }

/* Channels [lo, hi) of x from b's [Xc; Xs] (Rr cw and Ri sw, every channel's rows): x[w] =
 * Xc - Xs, x[W - w] = Xc + Xs. */
static void image_rows(void *ctx, size_t lo, size_t hi) {
    const rows_job *j = ctx;
    const int H = j->p->H, W = j->p->W, Wf = j->p->Wf;
    const size_t half = j->p->channels * H * Wf;
    for (size_t r = lo * H; r < hi * H; r++) {
        const float *xc = j->d->b + r * Wf, *xs = xc + half;
        float *x = j->p->a->out + r * W;
        for (int w = 0; w < Wf; w++) {
            x[w] = xc[w] - xs[w];
            if (mirrored(W, w)) x[W - w] = xc[w] + xs[w];
        }
    }
}

/* Channels [lo, hi) of dy paired into b: De[w] = dy[w] + dy[W - w] and Do[w] = dy[w] - dy[W - w]
 * for w <= W/2 (dy[w] and 0 where w is its own mirror), every channel's rows of De over Do. */
static void gradient_rows(void *ctx, size_t lo, size_t hi) {
    const rows_job *j = ctx;
    const int H = j->p->H, W = j->p->W, Wf = j->p->Wf;
    const size_t half = j->p->channels * H * Wf;
    for (size_t r = lo * H; r < hi * H; r++) {
        const float *dy = j->p->a->grad_out + r * W;
        float *de = j->d->b + r * Wf, *dd = de + half;
        for (int w = 0; w < Wf; w++) {
            const int m = mirrored(W, w);
            de[w] = m ? dy[w] + dy[W - w] : dy[w];
            dd[w] = m ? dy[w] - dy[W - w] : 0.0f;
        }
    }
}

/* The rows' products, [Xc; Xs] = [Rr cw; Ri sw] forward or [Tr; Ti] = [De cwᵀ; Do swᵀ] backward,
 * every channel's rows one matrix: from and to are [2, channels H, Wf]. */
static void rows_products(const fourier_plan *p, const dft_work *d, const float *from, float *to, int backward) {
    const size_t plane = (size_t)p->H * p->Wf, half = p->channels * plane;
    cnv_cpu_products q = {.tb = backward, .m = p->H, .n = p->Wf, .k = p->Wf, .count = (int)p->channels,
                          .alpha = 1.0f, .a = from, .lda = p->Wf, .a_period = (int)p->channels, .a_stride = plane,
                          .b = d->cw, .ldb = p->Wf, .c = to, .ldc = p->Wf, .c_stride = plane};
    cnv_cpu_products_run(&q);
    q.a = from + half, q.b = d->sw, q.c = to + half;
    cnv_cpu_products_run(&q);
}

/* x from the scaled coefficients: their columns' DFT r (into a, split), then x = Re sum_v r e^{i b}. */
static void forward_products(const fourier_plan *p, const dft_work *d) {
    scale_all(p, p->a->in[0], d->a, 1.0f, 0);
    columns_dft(p, d, coefficient_layout(p, d->a), split_layout(p, d->a));
    rows_products(p, d, d->a, d->b, 0);
    rows_job j = {p, d};
    cnv_cpu_parallel(p->channels, cnv_cpu_min_items(2 * (size_t)p->H * p->W), image_rows, &j);
}

/* T = sum_w dy e^{i b} (into a, split), G = its columns' DFT, then d re = s Gr, d im = -s Gi. */
static void backward_products(const fourier_plan *p, const dft_work *d) {
    rows_job j = {p, d};
    cnv_cpu_parallel(p->channels, cnv_cpu_min_items(2 * (size_t)p->H * p->W), gradient_rows, &j);
    rows_products(p, d, d->b, d->a, 1);
    columns_dft(p, d, split_layout(p, d->a), coefficient_layout(p, d->a));
    scale_all(p, d->a, p->a->grad_in[0], -1.0f, !cnv_cpu_assigns(p->a, 0));
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
