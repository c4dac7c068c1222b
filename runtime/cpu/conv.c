/* Conv (ONNX): X [N, C, H, W] * W [M, C/group, kH, kW] (+ B [M]) -> Y [N, M, OH, OW].
 *
 * Lowered to matrix products per image and group: im2col unrolls the receptive fields of one
 * group's input channels into a [C/group * kH * kW, OH * OW] matrix, so that
 *   forward:          Y_g  = W_g · col
 *   backward to data: col  = W_gᵀ · dY_g, folded back onto dX by col2im (accumulating)
 *   backward to W:    dW_g += dY_g · colᵀ,   dB += the row sums of dY
 * The col matrix is made and used a cache-sized block at a time, each thread in its own scratch
 * (plan_cols). A 1x1 kernel with stride 1 and no padding needs no unrolling: its col matrix is
 * the input itself, which is common enough (SqueezeNet's squeeze and expand layers) to be worth
 * the path; with at most 4 channels each side it is a loop over the pixels (few_channels).
 * 3x3 kernels at stride 1 (VGG's, ResNet's, SqueezeNet's expand3x3) with constant weights take
 * Winograd's F(2x2, 3x3) or F(4x4, 3x3) instead, forward and backward to the data (conv_winograd.c). */
#include "conv_depthwise.h"
#include "conv_winograd.h"
#include "cpu_ops.h"

#include "core/status.h"

#include <stdlib.h>
#include <string.h>

typedef struct conv_geom {
    int n, c, h, w;      /* input */
    int m, oh, ow;       /* output channels and size */
    int kh, kw;          /* kernel */
    int sh, sw, dh, dw;  /* strides, dilations */
    int pt, pl;          /* top and left padding (bottom/right are implied by the output size) */
    int group, cg, mg;   /* groups, input and output channels per group */
    int rows, cols;      /* col matrix: cg*kh*kw rows, oh*ow columns */
    int identity_cols;   /* 1x1, stride 1, no padding: col == input */
    int exact;           /* the reference backend: no Winograd F(4x4) (cnv_backend_cpu_create_reference) */
} conv_geom;

static cnv_status conv_geom_init(const cnv_cpu_args *a, conv_geom *g) {
    const cnv_shape *x = &a->in_shape[0], *wt = &a->in_shape[1], *y = &a->out_shape;
    const cnv_attrs *at = a->a;
    if (a->n_in < 2 || x->ndim != 4 || wt->ndim != 4 || y->ndim != 4 || at->group < 1 ||
        x->d[1] % at->group || y->d[1] % at->group)
        return cnv_fail(CNV_ERR_SHAPE, "conv '%s': inputs do not fit a 2-D convolution", a->node->name);
    *g = (conv_geom){
        .n = x->d[0], .c = x->d[1], .h = x->d[2], .w = x->d[3],
        .m = y->d[1], .oh = y->d[2], .ow = y->d[3],
        .kh = wt->d[2], .kw = wt->d[3],
        .sh = at->stride[0], .sw = at->stride[1], .dh = at->dilation[0], .dw = at->dilation[1],
        .pt = at->pads[0], .pl = at->pads[1],
        .group = at->group, .cg = x->d[1] / at->group, .mg = y->d[1] / at->group,
        .exact = a->exact,
    };
    g->rows = g->cg * g->kh * g->kw;
    g->cols = g->oh * g->ow;
    g->identity_cols = g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 &&
                       g->pl == 0 && g->oh == g->h && g->ow == g->w;
    return CNV_OK;
}

/* The columns ox of one output row whose tap ix = ox * sw - pl + j * dw lies inside [0, w):
 * [*lo, *hi), computed once per kernel column instead of tested per pixel. */
static void inside_columns(const conv_geom *g, int j, int *lo, int *hi) {
    const int first = g->pl - j * g->dw;  /* ix >= 0  <=>  ox * sw >= first */
    const int last = g->w - 1 + first;    /* ix < w   <=>  ox * sw <= last */
    int a = first <= 0 ? 0 : (first + g->sw - 1) / g->sw;
    int b = last < 0 ? 0 : last / g->sw + 1;
    if (b > g->ow) b = g->ow;
    if (a > b) a = b;
    *lo = a;
    *hi = b;
}

/* The col matrix is written (im2col) or read back onto the image (col2im) through one walk, so
 * that both directions agree on the layout by construction. */
typedef enum { UNROLL, FOLD } col_direction;

/* Row r = (c * kh + i) * kw + j of the col matrix, its columns p = oy * ow + ox in [p0, p1),
 * row[p - p0] for column p. UNROLL: row[p - p0] = x at that tap (0 in the padding). FOLD: x at
 * that tap += row[p - p0]. plane is channel c's. */
static void col_row(const conv_geom *g, col_direction dir, float *plane, float *row, int i, int j, int p0, int p1) {
    int lo, hi;
    inside_columns(g, j, &lo, &hi);
    for (int oy = p0 / g->ow; oy < g->oh && oy * g->ow < p1; oy++) {
        /* This output row's columns [a, b) within the range, and the inside ones [l, h) of them. */
        const int a = p0 > oy * g->ow ? p0 - oy * g->ow : 0, b = p1 - oy * g->ow < g->ow ? p1 - oy * g->ow : g->ow;
        const int l = lo < a ? a : lo > b ? b : lo, h = hi < l ? l : hi > b ? b : hi;
        const int iy = oy * g->sh - g->pt + i * g->dh;
        float *out = row + ((size_t)oy * g->ow + (size_t)a - (size_t)p0);
        if (iy < 0 || iy >= g->h || l == h) {
            if (dir == UNROLL) memset(out, 0, (size_t)(b - a) * sizeof *out);
            continue;
        }
        float *src = plane + (size_t)iy * g->w + (l * g->sw - g->pl + j * g->dw);
        out += l - a;
        if (dir == UNROLL) {
            memset(out - (l - a), 0, (size_t)(l - a) * sizeof *out);
            if (g->sw == 1)
                memcpy(out, src, (size_t)(h - l) * sizeof *out);
            else
                for (int ox = 0; ox < h - l; ox++) out[ox] = src[(size_t)ox * g->sw];
            memset(out + (h - l), 0, (size_t)(b - h) * sizeof *out);
        } else {
            for (int ox = 0; ox < h - l; ox++) src[(size_t)ox * g->sw] += out[ox];
        }
    }
}

/* A chunk of `images` consecutive images side by side in one col matrix: image j's columns
 * start at column j * cols, rows are ld = images * cols apart (chunk_images says why). */
typedef struct walk_job {
    const conv_geom *g;
    col_direction dir;
    int zero_first; /* FOLD: each plane is zeroed before its rows add onto it */
    int images;
    size_t ld;
    const float *x; /* the first image's group's first channel */
    float *col;
} walk_job;

static float *image_plane(const walk_job *j, size_t image, size_t c) {
    return (float *)j->x + (image * j->g->c + c) * j->g->h * j->g->w;
}

/* UNROLL: rows [lo, hi) of the images' (image-major), each written by one thread. */
static void unroll_rows(void *ctx, size_t lo, size_t hi) {
    const walk_job *j = ctx;
    const size_t rows = (size_t)j->g->rows, taps = (size_t)j->g->kh * j->g->kw;
    for (size_t item = lo; item < hi; item++) {
        const size_t image = item / rows, r = item % rows;
        col_row(j->g, UNROLL, image_plane(j, image, r / taps), j->col + r * j->ld + image * j->g->cols,
                (int)(r % taps) / j->g->kw, (int)(r % j->g->kw), 0, j->g->cols);
    }
}

/* FOLD: channels [lo, hi) of the images': the rows of one channel add onto the same plane, so a
 * thread takes them all. */
static void fold_channels(void *ctx, size_t lo, size_t hi) {
    const walk_job *j = ctx;
    const size_t cg = (size_t)j->g->cg, taps = (size_t)j->g->kh * j->g->kw;
    for (size_t item = lo; item < hi; item++) {
        const size_t image = item / cg, c = item % cg;
        float *plane = image_plane(j, image, c);
        if (j->zero_first) memset(plane, 0, (size_t)j->g->h * j->g->w * sizeof(float));
        for (size_t t = 0; t < taps; t++)
            col_row(j->g, FOLD, plane, j->col + (c * taps + t) * j->ld + image * j->g->cols, (int)t / j->g->kw,
                    (int)t % j->g->kw, 0, j->g->cols);
    }
}

/* A whole chunk's col matrix, for the backward to the weights (UNROLL) and to the data where it
 * does not go in blocks (FOLD): x points at the group's first channel of the chunk's first
 * image, and the images' rows or channels go to the pool in one wake. */
static void col_walk(const conv_geom *g, col_direction dir, int zero_first, int images, const float *x, float *col) {
    walk_job job = {g, dir, zero_first, images, (size_t)images * g->cols, x, col};
    if (dir == UNROLL)
        cnv_cpu_parallel((size_t)images * g->rows, cnv_cpu_min_items((size_t)g->cols), unroll_rows, &job);
    else
        cnv_cpu_parallel((size_t)images * g->cg, cnv_cpu_min_items((size_t)g->kh * g->kw * g->cols), fold_channels,
                         &job);
}

/* Images per col matrix of the backward's whole chunks: the weights' gradient, and the data's at
 * batch 1 without groups (the forward and the rest of the backward to the data go in blocks,
 * plan_cols below). One image's products are narrow where the images are
 * small (a Fashion-MNIST conv's 196 columns, batch 32): run one by one they stayed far below the
 * matrix-product rate, and the weight gradient was read and written once per image. A chunk
 * side by side gives them CHUNK_COLS columns or more, within CHUNK_FLOATS of scratch; its
 * outputs (or output gradients) then pass through the scratch too, [mg, images * cols]. Groups
 * and the identity path keep one image (the latter's col matrix is the input itself). */
#define CHUNK_COLS 2048
#define CHUNK_FLOATS ((size_t)1 << 22)

static int chunk_images(const conv_geom *g) {
    if (g->identity_cols || g->group != 1 || g->cols == 0) return 1;
    int k = (CHUNK_COLS + g->cols - 1) / g->cols;
    if (k > g->n) k = g->n;
    while (k > 1 && (size_t)k * g->cols * ((size_t)g->rows + g->mg) > CHUNK_FLOATS) k--;
    return k;
}

static size_t work_floats(const conv_geom *g) {
    if (g->identity_cols) return 0;
    const size_t k = (size_t)chunk_images(g), ld = k * g->cols;
    return (size_t)g->rows * ld + (k > 1 ? (size_t)g->mg * ld : 0);
}

/* A chunk [n0, n0 + k) of one group gi: its im2col columns and its outputs' (or output
 * gradients') rows, [mg, k * cols]; for one image, the tensor itself. */
typedef struct conv_chunk {
    int n0, k, gi;
    size_t ld;     /* k * cols */
    float *col;    /* [rows, ld] in the scratch */
    float *y;      /* [mg, ld]: the tensor's rows for one image, else the scratch's copy */
} conv_chunk;

/* The chunk starting at image n0, of k images or the batch's rest. */
static conv_chunk chunk_at(const conv_geom *g, int n0, int k, int gi, float *tensor, float *work) {
    if (k > g->n - n0) k = g->n - n0;
    conv_chunk c = {n0, k, gi, (size_t)k * g->cols, work, NULL};
    c.y = k == 1 ? tensor + ((size_t)n0 * g->m + (size_t)gi * g->mg) * g->cols : work + (size_t)g->rows * c.ld;
    return c;
}

/* Between the tensor's [n, m, cols] and the chunk's [mg, k * cols]: in (tensor -> chunk) or out,
 * where relu (when not NULL, laid out as the tensor) gets max(y, 0) too. */
static void chunk_copy(const conv_geom *g, const conv_chunk *c, float *tensor, float *relu, int in) {
    if (c->k == 1) return;
    for (int j = 0; j < c->k; j++)
        for (int m = 0; m < g->mg; m++) {
            const size_t at = ((size_t)(c->n0 + j) * g->m + (size_t)c->gi * g->mg + m) * g->cols;
            float *y = c->y + (size_t)m * c->ld + (size_t)j * g->cols;
            memcpy(in ? y : tensor + at, in ? tensor + at : y, (size_t)g->cols * sizeof(float));
            if (relu) cnv_cpu_relu_copy(y, relu + at, (size_t)g->cols);
        }
}

/* The chunk's group gi's input channels. */
/* Channel c of group gi in image n of an [n, c, h, w] tensor. */
static float *input_plane(const conv_geom *g, const float *x, int n, int gi, size_t c) {
    return (float *)x + ((size_t)n * g->c + (size_t)gi * g->cg + c) * g->h * g->w;
}

static float *chunk_x(const conv_geom *g, const conv_chunk *c, const float *x) {
    return input_plane(g, x, c->n0, c->gi, 0);
}

/* The im2col path goes tile by tile in cache, forward and backward to the data. The output's
 * columns are cut into blocks of about BLOCK_FLOATS floats of col matrix (part of one image's
 * columns, or several small images side by side), and each of the pool's threads takes a run of
 * them in a slot of the scratch of its own: the forward unrolls a block and multiplies it, the
 * backward multiplies dY's block into it and folds it onto dX, while it is in that core's cache.
 * Unrolled whole first, a col matrix went out to memory and was read back by the product: a
 * SqueezeNet expand3x3's is 1.7 MB an image, its conv1's 1.4 MB (batch 8's forward: fire2-3's
 * expand3x3 5.4-5.6 -> 3.7-4.3 ms each, conv1 9.2 -> 7.4 ms). Every group of a grouped conv goes
 * in the same wake of the pool, not one wake per group. */
#define BLOCK_FLOATS ((size_t)1 << 18) /* 1 MB: half of this Xeon's L2 */
#define BLOCK_MIN_COLS 512             /* narrower, a product repacked its weights too often */
#define BLOCK_MAX_COLS 4096
/* The slots together at most (256 MB): a conv with a very deep reduction on a many-core machine
 * takes fewer slots than threads rather than a slot of rows x BLOCK_MIN_COLS floats per thread. */
#define SLOTS_MAX_FLOATS ((size_t)1 << 26)

/* Output channels per part of a forward block at least, where its channels go to several
 * threads: OpenBLAS's register blocks, and a product worth the unrolling each part repeats. */
#define PART_MIN_CHANNELS 64

typedef struct col_plan {
    int width;     /* columns of one image in a block */
    int per_image; /* blocks per image and group: its columns split evenly */
    int images;    /* images per block: 1 unless per_image is 1 */
    int chunks;    /* ceil(n / images) */
    /* Forward, where the blocks are fewer than the threads: the output channels split in this
     * many parts (ResNet-50's 7x7 layers at batch 1 are one block of 49 columns). */
    int parts;
    int items;     /* what the threads share: forward blocks (chunk, group, part, channel part);
                    * backward (chunk, group), each with all its column parts, whose folds onto
                    * dX overlap (backward_in_blocks says where there are too few) */
    int slots;     /* scratch slots, one per share of the items */
    size_t slot;   /* floats of a slot: the col matrix [its rows, images * width], then for
                    * several images their outputs or output gradients [mg, images * width] */
} col_plan;

/* Columns per block forced by CNNVIS_CPU_IM2COL_COLS (so that the op suites' small cases cut
 * images mid-row), or 0. Read on every call so that a test can run each. */
static int forced_block_cols(void) {
    const char *env = getenv("CNNVIS_CPU_IM2COL_COLS");
    const int n = env ? atoi(env) : 0;
    return n > 0 ? n : 0;
}

static col_plan plan_cols(const conv_geom *g, int backward) {
    col_plan f = {0};
    if (g->n == 0 || g->cols == 0) return f;
    int want = forced_block_cols();
    if (!want) {
        const size_t fit = BLOCK_FLOATS / (size_t)g->rows;
        want = fit < BLOCK_MIN_COLS ? BLOCK_MIN_COLS : fit > BLOCK_MAX_COLS ? BLOCK_MAX_COLS : (int)fit;
    }
    const int threads = cnv_cpu_threads();
    f.per_image = (g->cols + want - 1) / want;
    f.width = (g->cols + f.per_image - 1) / f.per_image;
    f.chunks = g->n;
    if (f.per_image == 1 && want / g->cols > 1) {
        /* Small images side by side, as many chunks as threads or a multiple, so that each thread
         * gets the same number (a fashion-cnn batch of 32 in 7 chunks left one thread idle for one). */
        f.chunks = (g->n + want / g->cols - 1) / (want / g->cols);
        f.chunks = (f.chunks + threads - 1) / threads * threads;
        if (f.chunks > g->n) f.chunks = g->n;
    }
    f.images = (g->n + f.chunks - 1) / f.chunks;
    f.chunks = (g->n + f.images - 1) / f.images;
    const int items = f.chunks * g->group * (backward ? 1 : f.per_image);
    f.parts = 1;
    if (!backward && items < threads && f.images == 1) {
        const int most = g->mg / PART_MIN_CHANNELS, need = (threads + items - 1) / items;
        f.parts = most < 1 ? 1 : most < need ? most : need;
    }
    f.items = items * f.parts;
    const size_t ld = (size_t)f.images * f.width;
    f.slot = (size_t)g->rows * ld + (f.images > 1 ? (size_t)g->mg * ld : 0);
    const size_t fit = SLOTS_MAX_FLOATS / f.slot;
    f.slots = f.items < threads ? f.items : threads;
    if ((size_t)f.slots > fit) f.slots = fit ? (int)fit : 1;
    return f;
}

typedef struct col_job {
    const cnv_cpu_args *a;
    const conv_geom *g;
    col_plan f;
    float *work;
    void (*item)(const struct col_job *j, size_t item, float *slot);
} col_job;

/* Slots [lo, hi): each its share of the items, in its own scratch. */
static void col_slots(void *ctx, size_t lo, size_t hi) {
    const col_job *j = ctx;
    const size_t items = (size_t)j->f.items, slots = (size_t)j->f.slots;
    for (size_t s = lo; s < hi; s++)
        for (size_t i = s * items / slots; i < (s + 1) * items / slots; i++) j->item(j, i, j->work + s * j->f.slot);
}

static size_t col_floats(const col_plan *f) { return (size_t)f->slots * f->slot; }

static void col_run(col_job *j) {
    const size_t macs = (size_t)j->g->n * j->g->m * j->g->rows * j->g->cols;
    cnv_cpu_blas_single_begin();
    cnv_cpu_parallel((size_t)j->f.slots, macs < CNV_CPU_SPLIT_MIN_WORK ? (size_t)j->f.slots + 1 : 1, col_slots, j);
    cnv_cpu_blas_single_end();
}

/* A block's place: images [n0, n0 + k) of group gi, columns [p0, p1) of each. */
typedef struct col_block {
    int n0, k, gi, p0, p1;
    size_t ld; /* k * (p1 - p0) */
} col_block;

static col_block block_at(const conv_geom *g, const col_plan *f, int chunk, int gi, int part) {
    col_block b = {chunk * f->images, 0, gi, part * f->width, 0, 0};
    b.k = f->images < g->n - b.n0 ? f->images : g->n - b.n0;
    b.p1 = b.p0 + f->width < g->cols ? b.p0 + f->width : g->cols;
    b.ld = (size_t)b.k * (size_t)(b.p1 - b.p0);
    return b;
}

/* The block's col matrix and x (UNROLL: from x, FOLD: onto it). */
static void block_walk(const conv_geom *g, const col_block *b, col_direction dir, const float *x, float *col) {
    const size_t taps = (size_t)g->kh * g->kw, w = (size_t)(b->p1 - b->p0);
    for (int i = 0; i < b->k; i++)
        for (size_t r = 0; r < (size_t)g->rows; r++)
            col_row(g, dir, input_plane(g, x, b->n0 + i, b->gi, r / taps), col + r * b->ld + (size_t)i * w,
                    (int)(r % taps) / g->kw, (int)(r % g->kw), b->p0, b->p1);
}

/* Forward block `item`: its columns unrolled into the slot, then Y = W_g · col for its part of
 * the output channels, the bias first and the Relu after where asked, straight into the tensor
 * for one image, else through the slot. */
static void forward_item(const col_job *j, size_t item, float *col) {
    const conv_geom *g = j->g;
    const col_plan *f = &j->f;
    const int cp = (int)(item % (size_t)f->parts), part = (int)(item / f->parts % (size_t)f->per_image);
    const size_t rest = item / f->parts / (size_t)f->per_image;
    const col_block b = block_at(g, f, (int)(rest / (size_t)g->group), (int)(rest % (size_t)g->group), part);
    const int m0 = g->mg * cp / f->parts, m1 = g->mg * (cp + 1) / f->parts;
    block_walk(g, &b, UNROLL, j->a->in[0], col);
    const size_t first = (size_t)b.gi * g->mg + (size_t)m0; /* the part's first output channel */
    float *y = j->a->out + ((size_t)b.n0 * g->m + first) * g->cols + b.p0;
    cnv_cpu_products p = {.m = m1 - m0, .n = (int)b.ld, .k = g->rows, .count = 1, .alpha = 1.0f,
                          .a = j->a->in[1] + first * g->rows, .lda = g->rows, .b = col, .ldb = (int)b.ld,
                          .bias = j->a->n_in > 2 ? j->a->in[2] + first : NULL, .a_period = 1, .c = y,
                          .ldc = g->cols};
    if (b.k == 1) {
        p.relu_c = j->a->relu_out ? j->a->relu_out + (y - j->a->out) : NULL;
        cnv_cpu_products_here(&p);
        return;
    }
    const conv_chunk c = {b.n0, b.k, b.gi, b.ld, col, col + (size_t)g->rows * b.ld}; /* one part */
    p.c = c.y, p.ldc = (int)b.ld;
    cnv_cpu_products_here(&p);
    chunk_copy(g, &c, j->a->out, j->a->relu_out, 0);
}

/* Backward item `item`: for each of its blocks, col = W_gᵀ · dY folded onto dX (zeroed first
 * where assigned). */
static void backward_data_item(const col_job *j, size_t item, float *col) {
    const conv_geom *g = j->g;
    const col_plan *f = &j->f;
    const int gi = (int)(item % (size_t)g->group), chunk = (int)(item / (size_t)g->group);
    float *dx = j->a->grad_in[0];
    const col_block whole = block_at(g, f, chunk, gi, 0);
    if (cnv_cpu_assigns(j->a, 0))
        for (int i = 0; i < whole.k; i++)
            memset(input_plane(g, dx, whole.n0 + i, gi, 0), 0, (size_t)g->cg * g->h * g->w * sizeof(float));
    for (int part = 0; part < f->per_image; part++) {
        const col_block b = block_at(g, f, chunk, gi, part);
        const float *dy = j->a->grad_out + ((size_t)b.n0 * g->m + (size_t)gi * g->mg) * g->cols + b.p0;
        int ldb = g->cols;
        if (b.k > 1) { /* the images' dY side by side in the slot */
            const conv_chunk c = {b.n0, b.k, gi, b.ld, col, col + (size_t)g->rows * b.ld};
            chunk_copy(g, &c, (float *)j->a->grad_out, NULL, 1);
            dy = c.y, ldb = (int)b.ld;
        }
        const cnv_cpu_products p = {.ta = 1, .m = g->rows, .n = (int)b.ld, .k = g->mg, .count = 1, .alpha = 1.0f,
                                    .a = j->a->in[1] + (size_t)gi * g->mg * g->rows, .lda = g->rows, .b = dy,
                                    .ldb = ldb, .c = col, .ldc = (int)b.ld, .a_period = 1};
        cnv_cpu_products_here(&p);
        block_walk(g, &b, FOLD, dx, col);
    }
}

/* Whether the backward to the data goes in blocks: where each thread gets a chunk (an image, or
 * a group) at least. Below that (batch 1, no groups), the whole col matrix is made by one product
 * split among the threads and folded a channel per thread, as the block path cannot split one
 * image's folds without them overlapping: splitting its channels instead left VGG16's conv1_1
 * (3 channels) with products of 9 and 18 rows, one thread doing twice the other's share
 * (vgg16-class-128's step 0.104-0.112 -> 0.127-0.130 s). */
static int backward_in_blocks(const col_plan *f) { return f->items >= cnv_cpu_threads(); }

/* One input and one output channel a group, dilation 1, beyond 1x1 (those take few_channels):
 * the direct per-plane correlation of conv_depthwise.c. */
static int depthwise(const conv_geom *g) {
    return g->cg == 1 && g->mg == 1 && g->dh == 1 && g->dw == 1 && !g->identity_cols;
}

static cnv_depthwise_conv depthwise_of(const cnv_cpu_args *a, const conv_geom *g) {
    return (cnv_depthwise_conv){.n = g->n, .c = g->c, .h = g->h, .w = g->w, .oh = g->oh, .ow = g->ow, .kh = g->kh,
                                .kw = g->kw, .sh = g->sh, .sw = g->sw, .pt = g->pt, .pl = g->pl, .wt = a->in[1]};
}

/* 1x1 convs with a handful of channels on each side (the vis graph's preprocessing and colour
 * decorrelation, 3 -> 3 over the whole image): OpenBLAS ran products that small at 18 GFLOP/s,
 * 1.1-1.2 ms each of a SqueezeNet batch-8 step, so they are loops over the pixels, a plane an item. */
#define FEW_CHANNELS 4

static int few_channels(const conv_geom *g) {
    return g->identity_cols && g->cg <= FEW_CHANNELS && g->mg <= FEW_CHANNELS;
}

typedef struct few_job {
    const cnv_cpu_args *a;
    const conv_geom *g;
} few_job;

/* Output planes [lo, hi) of the batch: bias, then each input plane's share, then the Relu. */
CNV_CPU_CLONES static void few_forward(void *ctx, size_t lo, size_t hi) {
    const few_job *j = ctx;
    const conv_geom *g = j->g;
    const cnv_cpu_args *a = j->a;
    const size_t cols = (size_t)g->cols;
    for (size_t item = lo; item < hi; item++) {
        const size_t oc = item % (size_t)g->m, n = item / (size_t)g->m, gi = oc / (size_t)g->mg;
        const float *w = a->in[1] + oc * g->cg, *x = a->in[0] + (n * g->c + gi * g->cg) * cols;
        float *y = a->out + item * cols;
        const float b = a->n_in > 2 ? a->in[2][oc] : 0.0f;
        for (size_t p = 0; p < cols; p++) y[p] = b;
        for (int k = 0; k < g->cg; k++)
            for (size_t p = 0; p < cols; p++) y[p] += w[k] * x[(size_t)k * cols + p];
        if (a->relu_out) cnv_cpu_relu_copy(y, a->relu_out + item * cols, cols);
    }
}

/* Input planes [lo, hi) of dX: W_gᵀ · dY_g a plane at a time, written or added. */
CNV_CPU_CLONES static void few_backward_data(void *ctx, size_t lo, size_t hi) {
    const few_job *j = ctx;
    const conv_geom *g = j->g;
    const cnv_cpu_args *a = j->a;
    const size_t cols = (size_t)g->cols;
    for (size_t item = lo; item < hi; item++) {
        const size_t ic = item % (size_t)g->c, n = item / (size_t)g->c, gi = ic / (size_t)g->cg;
        float *dx = a->grad_in[0] + item * cols;
        if (cnv_cpu_assigns(a, 0)) memset(dx, 0, cols * sizeof *dx);
        for (int m = 0; m < g->mg; m++) {
            const size_t oc = gi * g->mg + (size_t)m;
            const float w = a->in[1][oc * g->cg + ic % (size_t)g->cg], *dy = a->grad_out + (n * g->m + oc) * cols;
            for (size_t p = 0; p < cols; p++) dx[p] += w * dy[p];
        }
    }
}

/* Winograd takes 3x3 stride-1 convolutions without groups whose weights are constant (kept
 * transformed with their buffer: in training, where they change every step, im2col is faster)
 * and whose products are each large enough: both channel counts 64 or more and channels x
 * channels x 2x2 tiles at least 2^22. Below that the narrow products (their depth is the input
 * channels, against 9x that for im2col) and the transforms cost more than im2col's one product:
 * SqueezeNet's fire4-5 expand3x3 (32 -> 128 channels, batch 8) took 2.4-2.8 ms forward with the
 * 4x4 tile against 2.25 ms by im2col.
 * The forward takes the 4x4 tile, 2.25x fewer multiplications again, where a product has at
 * least WINOGRAD_F4_MIN_TILES 4x4 tiles (below that, its larger transformed weights cost more to
 * read than the multiplications it saves). The backward to the data always takes the 2x2 tile:
 * there every input pixel's terms reach only the outputs that depend on it (Bᵀ and Aᵀ hold 0 and
 * ±1), so an output whose exact gradient is 0 comes out 0, while the 4x4 tile makes it a sum of
 * terms that cancel only up to rounding. A neuron objective's gradient then leaked ~1e-10
 * values outside the receptive field, which Adam's normalized step turned into visible changes
 * there (test_vis's test_neuron_stays_in_field: fire9's neuron changed 26,466 pixels outside its
 * field). Where im2col's backward goes in blocks (a batch, backward_in_blocks), the backward
 * takes Winograd only onto WINOGRAD_BLOCKED_MIN_CHANNELS input channels or more: its output
 * transform and products are on that side, and onto fewer the blocks were faster (SqueezeNet
 * batch 8: fire8-9's 64 channels 2.2 against 3.0-3.3 ms; VGG16 at 128, batch 2: conv1_2's 64
 * 14.7 against 17.4 ms, conv2_1's 128 10.5 against 12.1 ms the other way). CNNVIS_CPU_WINOGRAD
 * takes the tiles it names wherever the shape allows (the op suites' small cases, and
 * measurements). */
#define WINOGRAD_MIN_CHANNELS 64
#define WINOGRAD_MIN_WORK ((size_t)1 << 22)
#define WINOGRAD_F4_MIN_TILES 48
#define WINOGRAD_BLOCKED_MIN_CHANNELS 128

/* The tile forced for the forward or the backward (2 or 4), or 0: CNNVIS_CPU_WINOGRAD is f2, f4
 * (both directions) or FORWARD/BACKWARD (f4/f2: the automatic choice, on any shape). Read on
 * every call so that a test can run each. */
static int winograd_forced(int backward) {
    const char *env = getenv("CNNVIS_CPU_WINOGRAD");
    if (!env) return 0;
    const char *slash = strchr(env, '/'), *tile = backward && slash ? slash + 1 : env;
    return !strncmp(tile, "f2", 2) ? 2 : !strncmp(tile, "f4", 2) ? 4 : 0;
}

/* m x m output tiles over the batch. */
static size_t tiles_of(const conv_geom *g, int m) {
    return (size_t)g->n * (size_t)((g->oh + m - 1) / m) * (size_t)((g->ow + m - 1) / m);
}

/* Whether g takes the Winograd path at all. */
static int winograd_fits(const conv_geom *g) {
    if (g->kh != 3 || g->kw != 3 || g->sh != 1 || g->sw != 1 || g->dh != 1 || g->dw != 1 || g->group != 1) return 0;
    if (winograd_forced(0)) return 1;
    return g->c >= WINOGRAD_MIN_CHANNELS && g->m >= WINOGRAD_MIN_CHANNELS &&
           (size_t)g->c * (size_t)g->m * tiles_of(g, 2) >= WINOGRAD_MIN_WORK;
}

/* The forward's tile (2 or 4), or 0 for im2col. */
static int forward_tile(const conv_geom *g) {
    if (!winograd_fits(g)) return 0;
    if (g->exact) return 2; /* F(2x2)'s transforms keep exact zeros */
    const int forced = winograd_forced(0);
    return forced ? forced : tiles_of(g, 4) >= WINOGRAD_F4_MIN_TILES ? 4 : 2;
}

/* The backward-to-data's tile, or 0 for col2im. */
static int backward_tile(const conv_geom *g) {
    if (!winograd_fits(g)) return 0;
    if (g->exact) return 2;
    const int forced = winograd_forced(1);
    if (forced) return forced;
    if (g->c >= WINOGRAD_BLOCKED_MIN_CHANNELS) return 2;
    const col_plan f = plan_cols(g, 1);
    return backward_in_blocks(&f) ? 0 : 2;
}

/* The forward as a Winograd correlation of X, if it takes that path. */
static int winograd_forward(const cnv_cpu_args *a, const conv_geom *g, cnv_winograd_conv *s) {
    *s = (cnv_winograd_conv){.m = forward_tile(g), .n = g->n, .ci = g->c, .h = g->h, .w = g->w, .co = g->m,
                             .oh = g->oh, .ow = g->ow, .pt = g->pt, .pl = g->pl};
    return a->derived && s->m;
}

/* The backward to the data as one: dY correlated with the rotated, transposed kernel, whose
 * window for input pixel y starts at dY row y - (2 - pt) (the same for columns). It reads the
 * transformed weights of its tile, at mirrored positions. */
static int winograd_backward(const cnv_cpu_args *a, const conv_geom *g, cnv_winograd_conv *s) {
    *s = (cnv_winograd_conv){.m = backward_tile(g), .n = g->n, .ci = g->m, .h = g->oh, .w = g->ow, .co = g->c,
                             .oh = g->h, .ow = g->w, .pt = 2 - g->pt, .pl = 2 - g->pl, .transposed = 1};
    return a->derived && s->m;
}

/* Scratch floats of a forward call (no grad_out) or of a backward call (the gradients it asks for). */
static size_t call_floats(const cnv_cpu_args *a, const conv_geom *g) {
    cnv_winograd_conv s;
    if (!a->grad_out) {
        if (winograd_forward(a, g, &s)) return cnv_cpu_winograd_workspace(&s);
        if (g->identity_cols || depthwise(g)) return 0;
        const col_plan f = plan_cols(g, 0);
        return col_floats(&f);
    }
    size_t n = 0;
    if (a->grad_in[0] && winograd_backward(a, g, &s))
        n = cnv_cpu_winograd_workspace(&s);
    else if (a->grad_in[0] && !g->identity_cols && !depthwise(g)) {
        const col_plan f = plan_cols(g, 1);
        n = backward_in_blocks(&f) ? col_floats(&f) : work_floats(g);
    }
    if (a->grad_in[1] && work_floats(g) > n) n = work_floats(g);
    return n;
}

size_t cnv_cpu_conv_workspace(const cnv_cpu_args *a) {
    conv_geom g = {0};
    /* A shape error is reported by the call itself. */
    return conv_geom_init(a, &g) == CNV_OK ? call_floats(a, &g) : 0;
}

/* The derived block: the weights transformed for the forward's tile, then, where the backward
 * takes the other tile, for the backward's. */
static size_t backward_weights_at(const conv_geom *g) {
    const int f = forward_tile(g), b = backward_tile(g);
    return f && b != f ? cnv_cpu_winograd_weights_floats(f, g->m, g->c) : 0;
}

size_t cnv_cpu_conv_derived(const cnv_cpu_args *a) {
    conv_geom g = {0};
    if (conv_geom_init(a, &g) != CNV_OK) return 0;
    const int f = forward_tile(&g);
    if (!f) return 0;
    const size_t second = backward_weights_at(&g);
    return second + cnv_cpu_winograd_weights_floats(second ? backward_tile(&g) : f, g.m, g.c);
}

/* The transformed weights for tile s->m, all made on the first call and kept with the weight
 * buffer (whose derived block has the size cnv_cpu_conv_derived gives). */
static const float *winograd_weights(const cnv_cpu_args *a, const conv_geom *g, const cnv_winograd_conv *s) {
    const size_t second = backward_weights_at(g);
    if (!a->derived->ready) {
        cnv_cpu_winograd_weights(forward_tile(g), a->in[1], g->m, g->c, a->derived->data);
        if (second) cnv_cpu_winograd_weights(backward_tile(g), a->in[1], g->m, g->c, a->derived->data + second);
    }
    a->derived->ready = 1;
    return a->derived->data + (s->m == forward_tile(g) ? 0 : second);
}

/* The backend's scratch when it is large enough (so no step allocates), else a fresh block that
 * the caller frees (*owned). */
static cnv_status get_work(const cnv_cpu_args *a, const conv_geom *g, float **work, float **owned) {
    const size_t n = call_floats(a, g);
    *work = *owned = NULL;
    if (!n) return CNV_OK;
    if (a->work && a->work_n >= n) {
        *work = a->work;
        return CNV_OK;
    }
    *work = *owned = malloc(n * sizeof(float));
    if (!*work) return cnv_fail(CNV_ERR_NOMEM, "conv '%s': out of memory for its workspace", a->node->name);
    return CNV_OK;
}

cnv_status cnv_cpu_conv_forward(const cnv_cpu_args *a) {
    conv_geom g;
    float *work, *owned;
    CNV_TRY(conv_geom_init(a, &g));
    CNV_TRY(get_work(a, &g, &work, &owned));
    const float *x = a->in[0], *wt = a->in[1], *bias = a->n_in > 2 ? a->in[2] : NULL;
    cnv_winograd_conv s;
    if (winograd_forward(a, &g, &s)) {
        s.relu_y = a->relu_out;
        cnv_cpu_winograd_run(&s, x, winograd_weights(a, &g, &s), bias, 0, a->out, work);
        free(owned);
        return CNV_OK;
    }
    if (depthwise(&g)) {
        const cnv_depthwise_conv d = depthwise_of(a, &g);
        cnv_cpu_depthwise_forward(&d, x, bias, a->out, a->relu_out);
    } else if (few_channels(&g)) {
        few_job j = {a, &g};
        cnv_cpu_parallel((size_t)g.n * g.m, cnv_cpu_min_items((size_t)g.cols * (g.cg + 1)), few_forward, &j);
    } else if (!g.identity_cols) {
        col_job j = {a, &g, plan_cols(&g, 0), work, forward_item};
        col_run(&j);
    } else { /* Y_g = W_g · X_g, every image's products in one wake of the pool; the bias written
              * first and the product added onto it (one pass over Y fewer than adding it after) */
        const cnv_cpu_products p = {.m = g.mg, .n = g.cols, .k = g.rows, .count = g.n * g.group, .alpha = 1.0f,
                                    .a = wt, .lda = g.rows, .ldb = g.cols, .ldc = g.cols, .bias = bias,
                                    .a_period = g.group, .a_stride = (size_t)g.mg * g.rows, .b = x,
                                    .b_stride = (size_t)g.cg * g.h * g.w, .c = a->out,
                                    .c_stride = (size_t)g.mg * g.cols, .relu_c = a->relu_out};
        cnv_cpu_products_run(&p);
    }
    free(owned);
    return CNV_OK;
}

/* dX += (or, assigned, =) the Winograd correlation of dY with the rotated kernel, the depthwise
 * walk, or on the identity path W_gᵀ · dY_g, every image's products at once; false where none
 * applies. */
static int backward_data_whole(const cnv_cpu_args *a, const conv_geom *g, float *work) {
    const int assign = cnv_cpu_assigns(a, 0);
    cnv_winograd_conv s;
    if (winograd_backward(a, g, &s)) {
        cnv_cpu_winograd_run(&s, a->grad_out, winograd_weights(a, g, &s), NULL, !assign, a->grad_in[0], work);
        return 1;
    }
    if (depthwise(g)) {
        const cnv_depthwise_conv d = depthwise_of(a, g);
        cnv_cpu_depthwise_backward_data(&d, a->grad_out, assign, a->grad_in[0]);
        return 1;
    }
    if (!g->identity_cols) return 0;
    if (few_channels(g)) {
        few_job j = {a, g};
        cnv_cpu_parallel((size_t)g->n * g->c, cnv_cpu_min_items((size_t)g->cols * (g->mg + 1)), few_backward_data, &j);
        return 1;
    }
    const cnv_cpu_products p = {.ta = 1, .m = g->rows, .n = g->cols, .k = g->mg, .count = g->n * g->group,
                                .alpha = 1.0f, .beta = assign ? 0.0f : 1.0f, .a = a->in[1], .lda = g->rows,
                                .ldb = g->cols, .ldc = g->cols, .a_period = g->group,
                                .a_stride = (size_t)g->mg * g->rows, .b = a->grad_out,
                                .b_stride = (size_t)g->mg * g->cols, .c = a->grad_in[0],
                                .c_stride = (size_t)g->cg * g->h * g->w};
    cnv_cpu_products_run(&p);
    return 1;
}

/* One chunk's share, its output gradient already in c->y: dX (+)= col2im(W_gᵀ · dY_g) when
 * `data`, then dW_g (+)= dY_g · colᵀ and dB (+)= the row sums of dY_g. Assigned, the first
 * chunk writes the weights' gradients and every chunk its own images' dX. */
static void backward_chunk(const cnv_cpu_args *a, const conv_geom *g, const conv_chunk *c, int data) {
    if (data) {
        const cnv_cpu_products p = {.ta = 1, .m = g->rows, .n = (int)c->ld, .k = g->mg, .count = 1, .alpha = 1.0f,
                                    .a = a->in[1] + (size_t)c->gi * g->mg * g->rows, .lda = g->rows, .b = c->y,
                                    .ldb = (int)c->ld, .c = c->col, .ldc = (int)c->ld, .a_period = 1};
        cnv_cpu_products_run(&p);
        col_walk(g, FOLD, cnv_cpu_assigns(a, 0), c->k, chunk_x(g, c, a->grad_in[0]), c->col);
    }
    float *dw = a->grad_in[1], *db = a->n_in > 2 ? a->grad_in[2] : NULL;
    if (dw) {
        const float *col = c->col;
        if (g->identity_cols)
            col = chunk_x(g, c, a->in[0]);
        else
            col_walk(g, UNROLL, 0, c->k, chunk_x(g, c, a->in[0]), c->col);
        const cnv_cpu_products p = {.tb = 1, .m = g->mg, .n = g->rows, .k = (int)c->ld, .count = 1, .alpha = 1.0f,
                                    .beta = c->n0 == 0 && cnv_cpu_assigns(a, 1) ? 0.0f : 1.0f, .a = c->y,
                                    .lda = (int)c->ld, .b = col, .ldb = (int)c->ld,
                                    .c = dw + (size_t)c->gi * g->mg * g->rows, .ldc = g->rows, .a_period = 1};
        cnv_cpu_products_run(&p);
    }
    if (db) {
        const int write = c->n0 == 0 && cnv_cpu_assigns(a, 2);
        for (int m = 0; m < g->mg; m++) {
            float s = 0.0f;
            for (size_t q = 0; q < c->ld; q++) s += c->y[(size_t)m * c->ld + q];
            float *b = db + c->gi * g->mg + m;
            *b = write ? s : *b + s;
        }
    }
}

cnv_status cnv_cpu_conv_backward(const cnv_cpu_args *a) {
    conv_geom g;
    float *work, *owned;
    CNV_TRY(conv_geom_init(a, &g));
    CNV_TRY(get_work(a, &g, &work, &owned));
    int data = a->grad_in[0] && !backward_data_whole(a, &g, work);
    if (data) {
        col_job j = {a, &g, plan_cols(&g, 1), work, backward_data_item};
        if (backward_in_blocks(&j.f)) {
            col_run(&j);
            data = 0;
        }
    }
    if (data || a->grad_in[1] || (a->n_in > 2 && a->grad_in[2])) {
        const int k = chunk_images(&g);
        for (int n0 = 0; n0 < g.n; n0 += k)
            for (int gi = 0; gi < g.group; gi++) {
                const conv_chunk c = chunk_at(&g, n0, k, gi, (float *)a->grad_out, work);
                chunk_copy(&g, &c, (float *)a->grad_out, NULL, 1);
                backward_chunk(a, &g, &c, data);
            }
    }
    free(owned);
    return CNV_OK;
}
