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
 *   v < Wf. */
#include "cpu_ops.h"

#include "core/status.h"

#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

/* FFTW's planner is not thread-safe (its execute functions are): plans are made and destroyed
 * under this lock, since several backends may run at once in one process. */
static pthread_mutex_t planner = PTHREAD_MUTEX_INITIALIZER;

typedef struct fourier_plan {
    int H, W, Wf;
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

static cnv_status plan_make(const cnv_cpu_args *a, fourier_plan *p) {
    const int H = a->out_shape.d[2], W = a->out_shape.d[3], Wf = W / 2 + 1;
    *p = (fourier_plan){.H = H, .W = W, .Wf = Wf, .a = a};
    if (a->in_shape[0].d[2] != H || a->in_shape[0].d[3] != Wf || a->in_shape[0].d[1] != 2 * a->out_shape.d[1])
        return cnv_fail(CNV_ERR_SHAPE, "%s: Fourier coefficients do not fit a %dx%d image", a->node->name, H, W);
    p->channels = (size_t)a->out_shape.d[0] * a->out_shape.d[1];
    p->scale = fftwf_malloc((size_t)H * Wf * sizeof(float));
    scratch t = {0};
    int ok = p->scale && scratch_alloc(p, &t);
    if (ok) {
        const double floor_f = 1.0 / (H > W ? H : W), norm = 1.0 / sqrt((double)H * W);
        for (int u = 0; u < H; u++)
            for (int v = 0; v < Wf; v++) {
                const double fu = (double)(u < H - u ? u : H - u) / H, fv = (double)v / W;
                p->scale[u * Wf + v] = (float)(norm / pow(fmax(sqrt(fu * fu + fv * fv), floor_f), a->a->decay));
            }
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
    for (size_t i = 0; i < plane_in; i++) {
        d_re[i] += p->scale[i] * s->spec[i][0];
        d_im[i] -= p->scale[i] * s->spec[i][1];
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

/* Every channel through one, the channels split among the cores. */
static cnv_status run(const cnv_cpu_args *a, channel_fn one) {
    fourier_plan p;
    CNV_TRY(plan_make(a, &p));
    channel_job j = {.p = &p, .one = one};
    atomic_init(&j.failed, 0);
    cnv_cpu_parallel(p.channels, cnv_cpu_min_items((size_t)p.H * p.W * 8), channels, &j);
    plan_free(&p);
    if (j.failed)
        return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory for a %dx%d Fourier transform", a->node->name, p.H, p.W);
    return CNV_OK;
}

cnv_status cnv_cpu_fourier_forward(const cnv_cpu_args *a) { return run(a, forward_channel); }

cnv_status cnv_cpu_fourier_backward(const cnv_cpu_args *a) {
    return a->grad_in[0] ? run(a, backward_channel) : CNV_OK;
}
