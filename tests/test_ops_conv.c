/* Every backend (argument: cpu, vulkan, vulkan-forced): Conv, MaxPool, AveragePool, GlobalAveragePool, Gemm and MatMul against the float64
 * oracle (forward) and central finite differences (backward to the data, backward to the
 * weights), on small random shapes chosen to reach every branch: odd sizes, strides 1-3,
 * dilation 2, asymmetric pads, groups and depthwise, 1x1 kernels (the no-im2col path), batch 2,
 * ceil_mode windows that overhang, count_include_pad, each Gemm transpose and C broadcast.
 * Larger cases span several tiles of the Vulkan tiled products without dividing them, and on
 * the Vulkan backends every tile shape (CNNVIS_VK_TILES, runtime/vulkan/tiles.c) runs a conv
 * and a Gemm whatever the device would pick by itself. */
#include "opcheck.h"
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOL 1e-5

typedef struct conv_spec {
    const char *label;
    int n, c, h, w, m, kh, kw;
    int stride[2], dilation[2], pads[4];
    int group, bias;
} conv_spec;

static const conv_spec conv_specs[] = {
    {"conv 3x3 7x5 c3", 1, 3, 7, 5, 4, 3, 3, .bias = 1},
    {"conv 3x3 s2 p1 batch 2", 2, 3, 7, 5, 4, 3, 3, .stride = {2, 2}, .pads = {1, 1, 1, 1}, .bias = 1},
    {"conv 3x2 s3x2 asym pads", 1, 3, 8, 7, 2, 3, 2, .stride = {3, 2}, .pads = {0, 1, 2, 0}, .bias = 1},
    {"conv 3x3 dilation 2 p2", 1, 2, 9, 7, 3, 3, 3, .dilation = {2, 2}, .pads = {2, 2, 2, 2}, .bias = 1},
    {"conv 3x3 dil 2x1 s2 no bias", 1, 3, 9, 8, 2, 3, 3, .stride = {2, 2}, .dilation = {2, 1}, .pads = {1, 0, 0, 1}},
    {"conv group 2 p1", 2, 4, 6, 5, 6, 3, 3, .pads = {1, 1, 1, 1}, .group = 2, .bias = 1},
    {"conv depthwise s2 p1", 1, 3, 7, 6, 3, 3, 3, .stride = {2, 2}, .pads = {1, 1, 1, 1}, .group = 3, .bias = 1},
    {"conv depthwise x2 mult", 1, 3, 5, 5, 6, 3, 3, .pads = {1, 1, 1, 1}, .group = 3},
    {"conv 1x1 batch 2", 2, 5, 4, 3, 3, 1, 1, .bias = 1},
    /* Few channels each side: the CPU's loop over the pixels (conv.c, few_channels). */
    {"conv 1x1 3->3 batch 2", 2, 3, 5, 4, 3, 1, 1, .bias = 1},
    {"conv 1x1 group 2 4->6 no bias", 1, 4, 3, 5, 6, 1, 1, .group = 2},
    {"conv 1x1 s2", 1, 4, 5, 7, 3, 1, 1, .stride = {2, 2}, .bias = 1},
    {"conv 1x1 asym pad", 1, 3, 4, 5, 2, 1, 1, .pads = {1, 0, 0, 1}},
    {"conv 5x5 p2 s3", 1, 2, 9, 8, 3, 5, 5, .stride = {3, 3}, .pads = {2, 2, 2, 2}, .bias = 1},
    {"conv group 2 dil 2 s2", 1, 4, 9, 9, 4, 3, 3, .stride = {2, 2}, .dilation = {2, 2}, .pads = {2, 1, 1, 2},
     .group = 2, .bias = 1},
    {"conv 2x3 stride 3x1", 2, 3, 7, 5, 2, 2, 3, .stride = {3, 1}, .pads = {0, 1, 0, 1}, .bias = 1},
    /* 1,056 columns an image: the CPU's im2col path puts images 0-1 in one col matrix, 2 in a second. */
    {"conv 3x3 p1 batch 3 in two chunks", 3, 1, 32, 33, 2, 3, 3, .pads = {1, 1, 1, 1}, .bias = 1},
    /* Several tiles, none dividing: 37 output channels over 143 pixels, reductions of 45 and 333. */
    {"conv 37ch 13x11 p1", 1, 5, 13, 11, 37, 3, 3, .pads = {1, 1, 1, 1}, .bias = 1},
    {"conv 20ch c12 s2 dil 2 batch 2", 2, 12, 11, 9, 20, 3, 3, .stride = {2, 2}, .dilation = {2, 2},
     .pads = {2, 1, 1, 2}, .bias = 1},
    {"conv depthwise 16ch 9x10 batch 2", 2, 16, 9, 10, 16, 3, 3, .pads = {1, 1, 1, 1}, .group = 16, .bias = 1},
    /* the CPU's direct depthwise walk: ConvNeXt's 7x7, stride 2 with uneven pads, a stride of 3 */
    {"conv depthwise 7x7 p3", 1, 4, 9, 11, 4, 7, 7, .pads = {3, 3, 3, 3}, .group = 4, .bias = 1},
    {"conv depthwise 5x5 s2 asym", 2, 3, 11, 10, 3, 5, 5, .stride = {2, 2}, .pads = {1, 2, 2, 1}, .group = 3},
    {"conv depthwise 3x2 s1x3", 1, 2, 9, 8, 2, 3, 2, .stride = {1, 3}, .pads = {0, 1, 1, 0}, .group = 2, .bias = 1},
    {"conv group 4 24->36 s2x1 asym", 1, 24, 8, 7, 36, 3, 2, .stride = {2, 1}, .pads = {0, 1, 2, 0}, .group = 4,
     .bias = 1},
    /* One 9-column block for 130 output channels: the CPU's im2col forward splits the channels
     * among its threads, each unrolling the block itself (conv.c, plan_forward's row parts). */
    {"conv 130ch 3x3 p1 in row parts", 1, 2, 3, 3, 130, 3, 3, .pads = {1, 1, 1, 1}, .bias = 1},
    /* The CPU's Winograd path (3x3, stride 1, constant weights; main forces it at these sizes): odd planes that end in half tiles, no padding, pads of 2 (the backward's window then
     * starts inside dY) and asymmetric ones, a batch whose tiles share one sequence, and a 1-row
     * output. */
    {"winograd 8->12 9x7 p1 batch 2", 2, 8, 9, 7, 12, 3, 3, .pads = {1, 1, 1, 1}, .bias = 1},
    {"winograd 10->8 11x10 p0", 1, 10, 11, 10, 8, 3, 3, .bias = 1},
    {"winograd 9->9 6x7 p2 asym no bias", 1, 9, 6, 7, 9, 3, 3, .pads = {2, 0, 1, 2}},
    {"winograd 16->8 5x13 p1 batch 3", 3, 16, 5, 13, 8, 3, 3, .pads = {1, 1, 1, 1}, .bias = 1},
    {"winograd 8->8 3x9 p0 one row", 1, 8, 3, 9, 8, 3, 3, .pads = {0, 0, 0, 0}, .bias = 1},
};

typedef struct pool_spec {
    const char *label;
    cnv_op_type op;
    int n, c, h, w;
    int kernel[2], stride[2], dilation[2], pads[4];
    int ceil_mode, count_include_pad;
} pool_spec;

static const pool_spec pool_specs[] = {
    {"maxpool 2x2 s2 7x5", CNV_OP_MAXPOOL, 1, 3, 7, 5, .kernel = {2, 2}, .stride = {2, 2}},
    {"maxpool 3x3 s2 ceil", CNV_OP_MAXPOOL, 2, 2, 7, 5, .kernel = {3, 3}, .stride = {2, 2}, .ceil_mode = 1},
    {"maxpool 3x3 s1 p1", CNV_OP_MAXPOOL, 1, 3, 6, 5, .kernel = {3, 3}, .stride = {1, 1}, .pads = {1, 1, 1, 1}},
    {"maxpool 3x3 s2 ceil asym pads", CNV_OP_MAXPOOL, 1, 2, 8, 7, .kernel = {3, 3}, .stride = {2, 2}, .pads = {1, 0, 0, 1},
     .ceil_mode = 1},
    {"maxpool 2x2 dilation 2", CNV_OP_MAXPOOL, 1, 2, 7, 6, .kernel = {2, 2}, .stride = {1, 1},
     .dilation = {2, 2}},
    {"maxpool 3x2 s3 ceil", CNV_OP_MAXPOOL, 2, 3, 8, 7, .kernel = {3, 2}, .stride = {3, 3}, .ceil_mode = 1},
    {"avgpool 3x3 s2", CNV_OP_AVGPOOL, 1, 3, 7, 5, .kernel = {3, 3}, .stride = {2, 2}},
    {"avgpool 3x3 p1 exclude pad", CNV_OP_AVGPOOL, 2, 2, 6, 5, .kernel = {3, 3}, .stride = {1, 1},
     .pads = {1, 1, 1, 1}},
    {"avgpool 3x3 p1 include pad", CNV_OP_AVGPOOL, 2, 2, 6, 5, .kernel = {3, 3}, .stride = {1, 1},
     .pads = {1, 1, 1, 1}, .count_include_pad = 1},
    {"avgpool 3x3 s2 ceil", CNV_OP_AVGPOOL, 1, 3, 7, 6, .kernel = {3, 3}, .stride = {2, 2}, .ceil_mode = 1},
    {"avgpool 3x3 s2 ceil p1 incl", CNV_OP_AVGPOOL, 1, 2, 8, 7, .kernel = {3, 3}, .stride = {2, 2},
     .pads = {1, 1, 1, 1}, .ceil_mode = 1, .count_include_pad = 1},
    {"avgpool 2x2 s2 asym ceil incl", CNV_OP_AVGPOOL, 1, 2, 7, 6, .kernel = {2, 2}, .stride = {2, 2},
     .pads = {0, 1, 1, 0}, .ceil_mode = 1, .count_include_pad = 1},
    {"avgpool 2x2 dilation 2", CNV_OP_AVGPOOL, 1, 2, 7, 6, .kernel = {2, 2}, .stride = {1, 2},
     .dilation = {2, 2}, .pads = {1, 0, 1, 1}},
    {"globalavgpool 7x5", CNV_OP_GLOBALAVGPOOL, .n = 2, .c = 3, .h = 7, .w = 5},
    {"globalavgpool 1x1", CNV_OP_GLOBALAVGPOOL, .n = 1, .c = 4, .h = 1, .w = 1},
};

typedef struct gemm_spec {
    const char *label;
    cnv_op_type op;
    int m, n, k, trans_a, trans_b;
    int has_c;
    cnv_shape c_shape;
    float alpha, beta;
} gemm_spec;

#define SHAPE1(a) ((cnv_shape){1, {a}})
#define SHAPE2(a, b) ((cnv_shape){2, {a, b}})

static const gemm_spec gemm_specs[] = {
    {"gemm C [M,N]", CNV_OP_GEMM, 5, 7, 9, 0, 0, 1, SHAPE2(5, 7), 1.0f, 1.0f},
    {"gemm transA", CNV_OP_GEMM, 5, 7, 9, 1, 0, 1, SHAPE2(5, 7), 0.5f, 2.0f},
    {"gemm transB", CNV_OP_GEMM, 6, 4, 11, 0, 1, 1, SHAPE1(4), 1.5f, 1.0f},
    {"gemm transA transB", CNV_OP_GEMM, 3, 8, 5, 1, 1, 1, SHAPE2(3, 8), -0.7f, 0.3f},
    {"gemm C scalar", CNV_OP_GEMM, 4, 6, 7, 0, 1, 1, {0, {0}}, 1.0f, 0.5f},
    {"gemm C [N]", CNV_OP_GEMM, 4, 6, 7, 0, 0, 1, SHAPE1(6), 1.0f, 1.0f},
    {"gemm C [1,N]", CNV_OP_GEMM, 4, 6, 7, 1, 0, 1, SHAPE2(1, 6), 2.0f, -1.0f},
    {"gemm C [M,1]", CNV_OP_GEMM, 4, 6, 7, 0, 1, 1, SHAPE2(4, 1), 1.0f, 1.5f},
    {"gemm C [1]", CNV_OP_GEMM, 4, 6, 7, 1, 1, 1, SHAPE1(1), 0.25f, 1.0f},
    {"gemm no C", CNV_OP_GEMM, 2, 10, 16, 0, 1, 0, {0}, 1.0f, 1.0f},
    /* One row or one column: the CPU takes matrix-vector products (a batch-1 classifier). */
    {"gemm one row transB C [N]", CNV_OP_GEMM, 1, 9, 13, 0, 1, 1, SHAPE1(9), 1.0f, 1.0f},
    {"gemm one row transA C [1,N]", CNV_OP_GEMM, 1, 9, 13, 1, 0, 1, SHAPE2(1, 9), -0.5f, 2.0f},
    {"gemm one column C [M,1]", CNV_OP_GEMM, 8, 1, 11, 0, 0, 1, SHAPE2(8, 1), 1.5f, 1.0f},
    {"gemm one column tA tB C scalar", CNV_OP_GEMM, 8, 1, 11, 1, 1, 1, {0, {0}}, 1.0f, 0.5f},
    {"gemm 1x1 no C", CNV_OP_GEMM, 1, 1, 7, 0, 0, 0, {0}, 2.0f, 1.0f},
    {"matmul 5x9 9x7", CNV_OP_MATMUL, .m = 5, .n = 7, .k = 9},
    {"matmul 1x16 16x10", CNV_OP_MATMUL, .m = 1, .n = 10, .k = 16},
    /* Several tiles, none dividing. */
    {"gemm 70x45x33 C [M,N]", CNV_OP_GEMM, 70, 45, 33, 0, 0, 1, SHAPE2(70, 45), 1.0f, 0.5f},
    {"gemm 70x45x33 transA transB C [N]", CNV_OP_GEMM, 70, 45, 33, 1, 1, 1, SHAPE1(45), -0.5f, 2.0f},
    {"matmul 40x70x37", CNV_OP_MATMUL, .m = 40, .n = 70, .k = 37},
};

static void print_row(const char *label, const tu_opcheck_result *r) {
    printf("| %-32s | %9.2e | %9.2e | %9.2e |\n", label, r->fwd_err, r->bwd_data_err, r->bwd_weights_err);
    fflush(stdout);
}

static void run_case(void **state, const tu_opcase *c, uint64_t seed) {
    tu_opcheck_result r;
    tu_opcheck(c, *state, seed, TOL, &r);
    print_row(c->label, &r);
}

static void run_conv(void **state, const conv_spec *s, uint64_t seed, int wrap_weights) {
    int group = s->group ? s->group : 1;
    tu_opcase c = {.label = s->label, .op = CNV_OP_CONV, .n_in = s->bias ? 3 : 2, .n_weights = s->bias ? 2 : 1,
                   .wrap_weights = wrap_weights};
    cnv_attrs_default(CNV_OP_CONV, &c.attrs);
    for (int a = 0; a < 2; a++) {
        if (s->stride[a]) c.attrs.stride[a] = s->stride[a];
        if (s->dilation[a]) c.attrs.dilation[a] = s->dilation[a];
    }
    for (int p = 0; p < 4; p++) c.attrs.pads[p] = s->pads[p];
    c.attrs.group = group;
    c.in_shape[0] = cnv_shape4(s->n, s->c, s->h, s->w);
    c.in_shape[1] = cnv_shape4(s->m, s->c / group, s->kh, s->kw);
    c.in_shape[2] = SHAPE1(s->m);
    run_case(state, &c, seed);
}

static void test_conv(void **state) {
    for (size_t i = 0; i < sizeof conv_specs / sizeof conv_specs[0]; i++) run_conv(state, &conv_specs[i], 100 + i, 0);
    /* Again with the weights handed over as a model's, constant: the CPU then takes its Winograd
     * path, which transforms them once and keeps them with the buffer, forward and backward
     * (written weights, above, take im2col), with each of its two tiles in both directions and
     * with the pair it picks for large shapes (4x4 forward, 2x2 backward, two transforms kept).
     * The cases are far below the sizes where the CPU picks that path by itself (wider ones would
     * make the finite differences slow), so the tiles are forced. */
    static const char *const tiles[] = {"f2", "f4", "f4/f2"};
    for (size_t t = 0; t < sizeof tiles / sizeof tiles[0]; t++) {
        printf("CNNVIS_CPU_WINOGRAD=%s\n", tiles[t]);
        setenv("CNNVIS_CPU_WINOGRAD", tiles[t], 1);
        for (size_t i = 0; i < sizeof conv_specs / sizeof conv_specs[0]; i++)
            if (!strncmp(conv_specs[i].label, "winograd", 8)) run_conv(state, &conv_specs[i], 100 + i, 1);
    }
    unsetenv("CNNVIS_CPU_WINOGRAD");
    /* The CPU's im2col forward goes in blocks of columns (conv.c, plan_forward), far wider than
     * these images: forced to 5 columns and to 1, blocks start and end mid-row, an image takes
     * several, and the last is short. */
    if (strcmp(tu_backend_name, "cpu") != 0) return;
    static const char *const widths[] = {"5", "1"};
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        printf("CNNVIS_CPU_IM2COL_COLS=%s\n", widths[w]);
        setenv("CNNVIS_CPU_IM2COL_COLS", widths[w], 1);
        for (size_t i = 0; i < sizeof conv_specs / sizeof conv_specs[0]; i++)
            if (strncmp(conv_specs[i].label, "winograd", 8) != 0) run_conv(state, &conv_specs[i], 100 + i, 0);
    }
    unsetenv("CNNVIS_CPU_IM2COL_COLS");
}

static void test_pools(void **state) {
    for (size_t i = 0; i < sizeof pool_specs / sizeof pool_specs[0]; i++) {
        const pool_spec *s = &pool_specs[i];
        tu_opcase c = {.label = s->label, .op = s->op, .n_in = 1};
        cnv_attrs_default(s->op, &c.attrs);
        for (int a = 0; a < 2; a++) {
            c.attrs.kernel[a] = s->kernel[a];
            if (s->stride[a]) c.attrs.stride[a] = s->stride[a];
            if (s->dilation[a]) c.attrs.dilation[a] = s->dilation[a];
        }
        for (int p = 0; p < 4; p++) c.attrs.pads[p] = s->pads[p];
        c.attrs.ceil_mode = s->ceil_mode;
        c.attrs.count_include_pad = s->count_include_pad;
        c.in_shape[0] = cnv_shape4(s->n, s->c, s->h, s->w);
        run_case(state, &c, 200 + i);
    }
}

static void run_gemm(void **state, const gemm_spec *s, uint64_t seed) {
    tu_opcase c = {.label = s->label, .op = s->op, .n_in = s->has_c ? 3 : 2, .n_weights = s->has_c ? 2 : 1};
    cnv_attrs_default(s->op, &c.attrs);
    if (s->op == CNV_OP_GEMM) {
        c.attrs.alpha = s->alpha;
        c.attrs.beta = s->beta;
        c.attrs.trans_a = s->trans_a;
        c.attrs.trans_b = s->trans_b;
    }
    c.in_shape[0] = s->trans_a ? SHAPE2(s->k, s->m) : SHAPE2(s->m, s->k);
    c.in_shape[1] = s->trans_b ? SHAPE2(s->n, s->k) : SHAPE2(s->k, s->n);
    c.in_shape[2] = s->c_shape;
    run_case(state, &c, seed);
}

static void test_gemm(void **state) {
    for (size_t i = 0; i < sizeof gemm_specs / sizeof gemm_specs[0]; i++) run_gemm(state, &gemm_specs[i], 300 + i);
}

/* Tile shapes TMxTNxTK/RMxRN[/direct|/shared]: the ladders of tiles.c, plus shapes they never
 * pick (non-square workgroups, RM != RN, tiles that are no power of two) to catch indexing that
 * mixes the axes. */
static const struct {
    const char *tiles;
    unsigned invocations;
} tile_shapes[] = {
    {"128x128x16/8x8", 256}, {"64x64x16/4x4", 256}, {"64x32x16/4x4", 128}, {"32x32x16/4x4", 64},
    {"16x16x16/2x2", 64},    {"8x8x8/1x1", 64},     {"32x16x8/2x4", 64},   {"24x40x4/3x5", 64},
    /* Both walks over K (gemm_tile.glsl: DIRECT or shared slabs) whatever the device prefers. */
    {"32x32x16/4x4/shared", 64}, {"24x40x4/3x5/shared", 64}, {"32x32x1/4x4/direct", 64},
    /* 128-bit slab words (gemm_tile.glsl VEC4: RM and RN multiples of 4), square and not; the
     * first and the last with a slab of B of one word per invocation (SLAB_PREPARED). */
    {"128x128x8/8x8/shared", 256}, {"32x64x8/4x8/shared", 64}, {"32x32x8/4x4/shared", 64},
    {"24x40x1/3x5/direct", 64},  {"8x8x1/1x1/direct", 64},
};

/* Spans several column tiles in the backward to the data (80 and 64 input pixels per channel in
 * its two stride phases) for every shape but the 128-wide, with groups, unequal strides and
 * dilations and asymmetric pads; the Gemm spans two 128-column tiles. */
static const conv_spec tile_conv = {"conv g2 s2x1 dil 1x2 batch 2", 2, 6, 9, 8, 10, 3, 3, {2, 1}, {1, 2}, {1, 2, 0, 1},
                                    2, 1};
static const gemm_spec tile_gemm = {"gemm 20x150x20 tA tB C [M,1]", CNV_OP_GEMM, 20, 150, 20, 1, 1, 1, SHAPE2(20, 1),
                                    0.5f, -1.5f};

/* The override is really read: a malformed one makes a MatMul fail instead of running with the
 * device's own choice (which would leave the tile shapes above untested). */
static void expect_bad_tiles_refused(cnv_backend *be) {
    cnv_node node = {.name = "bad tiles", .op = CNV_OP_MATMUL, .n_in = 2};
    cnv_attrs_default(CNV_OP_MATMUL, &node.attrs);
    cnv_buf *a, *b, *y;
    assert_int_equal(be->vt->buf_alloc(be, 6, &a), CNV_OK);
    assert_int_equal(be->vt->buf_alloc(be, 6, &b), CNV_OK);
    assert_int_equal(be->vt->buf_alloc(be, 4, &y), CNV_OK);
    cnv_op_io io = {.node = &node, .n_in = 2, .in = {a, b}, .in_shape = {SHAPE2(2, 3), SHAPE2(3, 2)}, .out = y,
                    .out_shape = SHAPE2(2, 2)};
    setenv("CNNVIS_VK_TILES", "7x8x8/2x2", 1); /* RM does not divide TM */
    assert_int_equal(be->vt->forward(be, &io), CNV_ERR_ARG);
    setenv("CNNVIS_VK_TILES", "8x8x8/2x2/fast", 1); /* no such walk */
    assert_int_equal(be->vt->forward(be, &io), CNV_ERR_ARG);
    unsetenv("CNNVIS_VK_TILES");
    assert_int_equal(be->vt->forward(be, &io), CNV_OK);
    assert_int_equal(be->vt->sync(be), CNV_OK);
    be->vt->buf_free(be, a);
    be->vt->buf_free(be, b);
    be->vt->buf_free(be, y);
}

static void test_tile_shapes(void **state) {
    if (strncmp(tu_backend_name, "vulkan", 6) != 0) skip();
    expect_bad_tiles_refused(*state);
    /* The forced table allows 128 invocations (its 16 KiB of shared memory fits every shape here). */
    const unsigned max_invocations = strcmp(tu_backend_name, "vulkan-forced") == 0 ? 128 : 1024;
    for (size_t i = 0; i < sizeof tile_shapes / sizeof tile_shapes[0]; i++) {
        if (tile_shapes[i].invocations > max_invocations) continue;
        printf("| tiles %-26s |\n", tile_shapes[i].tiles);
        setenv("CNNVIS_VK_TILES", tile_shapes[i].tiles, 1);
        run_conv(state, &tile_conv, 400 + i, 0);
        run_gemm(state, &tile_gemm, 500 + i);
    }
    unsetenv("CNNVIS_VK_TILES");
    /* Split reductions (gemm_tile.glsl SPLIT, two dispatches: slices, then their sum through each
     * kernel's own store), which tiles.c takes only where a GPU's compute units are known: forced
     * here on both walks, with slice counts that do not divide the depths (the conv's forward
     * reduces over 27 (c, tap) rows, its backward to the weights over 56 pixels). */
    static const char *const split_walks[] = {"32x32x16/4x4/shared", "24x40x4/3x5/shared", "32x64x8/4x8/shared",
                                              "32x32x8/4x4/shared", NULL};
    static const char *const splits[] = {"2", "5"};
    for (size_t w = 0; w < sizeof split_walks / sizeof split_walks[0]; w++)
        for (size_t k = 0; k < sizeof splits / sizeof splits[0]; k++) {
            printf("| split %s, tiles %-18s |\n", splits[k], split_walks[w] ? split_walks[w] : "(the device's)");
            if (split_walks[w]) setenv("CNNVIS_VK_TILES", split_walks[w], 1);
            setenv("CNNVIS_VK_SPLITK", splits[k], 1);
            run_conv(state, &tile_conv, 600 + 2 * w + k, 0);
            run_gemm(state, &tile_gemm, 700 + 2 * w + k);
            unsetenv("CNNVIS_VK_SPLITK");
            unsetenv("CNNVIS_VK_TILES");
        }
}

/* A Gemm whose weight exceeds the storage-buffer range runs in pieces (runtime/vulkan/gemm.c), as
 * VGG16's fc6 (392 MiB) must on llvmpipe: the weight here is 4100 x 4100 (64.1 MiB), beyond the
 * forced table's 64 MiB, so on vulkan-forced the forward with transB splits the output columns,
 * without transB the reduction (C added by the first piece only), the backward to A the
 * reduction and the backward to B that gradient's rows. Checked against float64 sums. */
#define BIG 4100
#define BIG_M 3

static float big_value(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(*s >> 40) / (double)(1ull << 24) - 0.5);
}

/* |got - want| within float accumulation error of a sum whose terms' magnitudes add to `mag`. */
static void expect_near(const char *what, size_t i, float got, double want, double mag) {
    if (fabs(got - want) > 1e-5 * mag + 1e-6) fail_msg("%s[%zu]: %.8g, want %.8g", what, i, (double)got, want);
}

static void run_gemm_beyond_range(cnv_backend *be, int trans_b) {
    const size_t nb = (size_t)BIG * BIG, na = (size_t)BIG_M * BIG, ny = (size_t)BIG_M * BIG;
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *c = malloc(ny * sizeof *c);
    float *y = malloc(ny * sizeof *y), *dy = malloc(ny * sizeof *dy), *da = malloc(na * sizeof *da);
    float *db = calloc(nb, sizeof *db);
    assert_non_null(a && b && c && y && dy && da && db);
    uint64_t seed = 0xb16u + (uint64_t)trans_b;
    for (size_t i = 0; i < na; i++) a[i] = big_value(&seed);
    for (size_t i = 0; i < nb; i++) b[i] = big_value(&seed);
    for (size_t i = 0; i < ny; i++) c[i] = big_value(&seed), dy[i] = big_value(&seed);
    /* op(B)(k, n) as stored: B [N, K] with transB, else [K, N]. */
#define OPB(k, n) (trans_b ? b[(size_t)(n) * BIG + (k)] : b[(size_t)(k) * BIG + (n)])
    cnv_node node = {.name = "big gemm", .op = CNV_OP_GEMM, .n_in = 3};
    cnv_attrs_default(CNV_OP_GEMM, &node.attrs);
    node.attrs.alpha = 0.75f;
    node.attrs.beta = -1.25f;
    node.attrs.trans_b = trans_b;
    cnv_buf *bufs[7];
    const size_t sizes[7] = {na, nb, ny, ny, ny, na, nb};
    for (int i = 0; i < 7; i++) assert_int_equal(be->vt->buf_alloc(be, sizes[i], &bufs[i]), CNV_OK);
    assert_int_equal(be->vt->buf_write(be, bufs[0], 0, a, na), CNV_OK);
    assert_int_equal(be->vt->buf_write(be, bufs[1], 0, b, nb), CNV_OK);
    assert_int_equal(be->vt->buf_write(be, bufs[2], 0, c, ny), CNV_OK);
    assert_int_equal(be->vt->buf_write(be, bufs[4], 0, dy, ny), CNV_OK);
    assert_int_equal(be->vt->buf_fill(be, bufs[5], 0.0f, na), CNV_OK);
    /* Written rather than filled: the fill kernel binds the whole buffer (no pieces). */
    assert_int_equal(be->vt->buf_write(be, bufs[6], 0, db, nb), CNV_OK);
    cnv_op_io io = {.node = &node, .n_in = 3, .in = {bufs[0], bufs[1], bufs[2]},
                    .in_shape = {SHAPE2(BIG_M, BIG), SHAPE2(BIG, BIG), SHAPE2(BIG_M, BIG)}, .out = bufs[3],
                    .out_shape = SHAPE2(BIG_M, BIG), .grad_out = bufs[4], .grad_in = {bufs[5], bufs[6]}};
    assert_int_equal(be->vt->forward(be, &io), CNV_OK);
    assert_int_equal(be->vt->backward(be, &io), CNV_OK);
    assert_int_equal(be->vt->sync(be), CNV_OK);
    assert_int_equal(be->vt->buf_read(be, bufs[3], 0, y, ny), CNV_OK);
    assert_int_equal(be->vt->buf_read(be, bufs[5], 0, da, na), CNV_OK);
    assert_int_equal(be->vt->buf_read(be, bufs[6], 0, db, nb), CNV_OK);
    for (int m = 0; m < BIG_M; m++)
        for (int n = 0; n < BIG; n++) { /* Y = alpha A op(B) + beta C */
            double sum = 0, mag = fabs(node.attrs.beta * c[m * BIG + n]);
            for (int k = 0; k < BIG; k++) {
                const double t = (double)a[m * BIG + k] * OPB(k, n);
                sum += t;
                mag += fabs(t);
            }
            expect_near("Y", (size_t)m * BIG + n, y[m * BIG + n], node.attrs.alpha * sum + node.attrs.beta * c[m * BIG + n], mag);
        }
    for (int m = 0; m < BIG_M; m++)
        for (int k = 0; k < BIG; k++) { /* dA = alpha dY op(B)^T */
            double sum = 0, mag = 0;
            for (int n = 0; n < BIG; n++) {
                const double t = (double)dy[m * BIG + n] * OPB(k, n);
                sum += t;
                mag += fabs(t);
            }
            expect_near("dA", (size_t)m * BIG + k, da[m * BIG + k], node.attrs.alpha * sum, mag);
        }
    for (int k = 0; k < BIG; k++)
        for (int n = 0; n < BIG; n++) { /* d op(B) = alpha A^T dY, stored as B is */
            double sum = 0, mag = 0;
            for (int m = 0; m < BIG_M; m++) {
                const double t = (double)a[m * BIG + k] * dy[m * BIG + n];
                sum += t;
                mag += fabs(t);
            }
            const size_t at = trans_b ? (size_t)n * BIG + k : (size_t)k * BIG + n;
            expect_near("dB", at, db[at], node.attrs.alpha * sum, mag);
        }
#undef OPB
    for (int i = 0; i < 7; i++) be->vt->buf_free(be, bufs[i]);
    free(a), free(b), free(c), free(y), free(dy), free(da), free(db);
}

static void test_gemm_beyond_range(void **state) {
    run_gemm_beyond_range(*state, 1);
    run_gemm_beyond_range(*state, 0);
}

/* The switches are what the backward and deconvnet unpooling route through: check them, and
 * the routing, on inputs whose answers are known. 5x4 plane, 3x3 windows, stride 2, pads 1:
 * window rows [-1,1], [1,3], [3,5] and columns [-1,1], [1,3], clipped to the plane. */
static void check_switches(cnv_backend *be, const float x[20], const int32_t want[6]) {
    cnv_node node = {.name = "switches", .op = CNV_OP_MAXPOOL, .n_in = 1};
    cnv_attrs_default(CNV_OP_MAXPOOL, &node.attrs);
    node.attrs.kernel[0] = node.attrs.kernel[1] = 3;
    node.attrs.stride[0] = node.attrs.stride[1] = 2;
    for (int i = 0; i < 4; i++) node.attrs.pads[i] = 1;
    cnv_shape in = cnv_shape4(1, 1, 5, 4), out;
    assert_int_equal(cnv_op_infer_shape(CNV_OP_MAXPOOL, &node.attrs, 1, &in, &out, "switches"), CNV_OK);
    assert_int_equal(cnv_shape_numel(&out), 6);
    assert_int_equal(cnv_op_aux_numel(&node, &in, &out), 6);
    cnv_buf *bx, *by, *baux, *bdy, *bdx;
    assert_int_equal(be->vt->buf_alloc(be, 20, &bx), CNV_OK);
    assert_int_equal(be->vt->buf_alloc(be, 6, &by), CNV_OK);
    assert_int_equal(be->vt->buf_alloc(be, 6, &baux), CNV_OK);
    assert_int_equal(be->vt->buf_alloc(be, 6, &bdy), CNV_OK);
    assert_int_equal(be->vt->buf_alloc(be, 20, &bdx), CNV_OK);
    const float dy[6] = {1, 2, 3, 4, 5, 6};
    assert_int_equal(be->vt->buf_write(be, bx, 0, x, 20), CNV_OK);
    assert_int_equal(be->vt->buf_write(be, bdy, 0, dy, 6), CNV_OK);
    assert_int_equal(be->vt->buf_fill(be, bdx, 0.0f, 20), CNV_OK);
    cnv_op_io io = {.node = &node, .n_in = 1, .in = {bx}, .in_shape = {in}, .out = by, .out_shape = out,
                    .aux = baux, .grad_out = bdy, .grad_in = {bdx}};
    assert_int_equal(be->vt->forward(be, &io), CNV_OK);
    assert_int_equal(be->vt->backward(be, &io), CNV_OK);
    assert_int_equal(be->vt->sync(be), CNV_OK);
    int32_t sw[6];
    float dx[20], want_dx[20] = {0};
    assert_int_equal(be->vt->buf_read(be, baux, 0, (float *)sw, 6), CNV_OK);
    assert_int_equal(be->vt->buf_read(be, bdx, 0, dx, 20), CNV_OK);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(sw[i], want[i]);
        want_dx[want[i]] += dy[i];
    }
    for (int i = 0; i < 20; i++) assert_float_equal(dx[i], want_dx[i], 0.0f);
    be->vt->buf_free(be, bx);
    be->vt->buf_free(be, by);
    be->vt->buf_free(be, baux);
    be->vt->buf_free(be, bdy);
    be->vt->buf_free(be, bdx);
}

static void test_maxpool_switches(void **state) {
    /* Values rising along rows and columns: each max is the window's last tap inside the plane
     * (rows 1, 3, 4; columns 1, 3), never a padded cell although every real value is negative. */
    float ramp[20];
    for (int i = 0; i < 20; i++) ramp[i] = (float)i - 100.0f;
    const int32_t last[6] = {1 * 4 + 1, 1 * 4 + 3, 3 * 4 + 1, 3 * 4 + 3, 4 * 4 + 1, 4 * 4 + 3};
    check_switches(*state, ramp, last);
    /* A constant plane: all ties, so each switch is the window's first tap inside the plane
     * (rows 0, 1, 3; columns 0, 1), and overlapping windows share cells in the backward. */
    float flat[20];
    for (int i = 0; i < 20; i++) flat[i] = -2.0f;
    const int32_t first[6] = {0 * 4 + 0, 0 * 4 + 1, 1 * 4 + 0, 1 * 4 + 1, 3 * 4 + 0, 3 * 4 + 1};
    check_switches(*state, flat, first);
}

/* Output pixels whose 3x3 window reads only zeros are exactly 0 on the reference CPU backend
 * (cnnvis check's), although their Winograd tile reads other values: a 64-channel 64x64 conv
 * with constant weights, which the default backend takes through F(4x4), over an input that is
 * zero but for one pixel in 16 (one position for all channels, as after a ReLU of a sparse map).
 * Returns how many such outputs are not 0. */
static int conv_zero_windows_exact(cnv_backend *be) {
    enum { C = 64, H = 64, W = 64 };
    const size_t nx = (size_t)C * H * W, nw = (size_t)C * C * 9;
    float *x = calloc(nx, sizeof *x), *wt = malloc(nw * sizeof *wt), *y = malloc(nx * sizeof *y);
    assert_non_null(x && wt && y);
    uint64_t seed = 0x2e205u;
    for (size_t i = 0; i < nw; i++) wt[i] = big_value(&seed);
    unsigned char lit[H][W];
    for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++) lit[i][j] = ((uint32_t)(big_value(&seed) * 1e6f) & 15u) == 0;
    for (size_t i = 0; i < nx; i++)
        if (lit[i / W % H][i % W]) x[i] = big_value(&seed);
    cnv_node node = {.name = "zeros", .op = CNV_OP_CONV, .n_in = 2};
    cnv_attrs_default(CNV_OP_CONV, &node.attrs);
    for (int i = 0; i < 4; i++) node.attrs.pads[i] = 1;
    const cnv_shape xs = cnv_shape4(1, C, H, W), ws = cnv_shape4(C, C, 3, 3);
    cnv_buf *bx, *bw, *by;
    assert_int_equal(be->vt->buf_alloc(be, nx, &bx), CNV_OK);
    assert_int_equal(be->vt->buf_wrap(be, wt, nw, &bw), CNV_OK); /* constant: its Winograd form is kept */
    assert_int_equal(be->vt->buf_alloc(be, nx, &by), CNV_OK);
    assert_int_equal(be->vt->buf_write(be, bx, 0, x, nx), CNV_OK);
    cnv_op_io io = {.node = &node, .n_in = 2, .in = {bx, bw}, .in_shape = {xs, ws}, .out = by, .out_shape = xs};
    assert_int_equal(be->vt->forward(be, &io), CNV_OK);
    assert_int_equal(be->vt->buf_read(be, by, 0, y, nx), CNV_OK);
    int residues = 0;
    for (size_t i = 0; i < nx; i++) {
        const int oy = (int)(i / W % H), ox = (int)(i % W);
        int reads = 0;
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                const int iy = oy + dy, ix = ox + dx;
                reads |= iy >= 0 && iy < H && ix >= 0 && ix < W && lit[iy][ix];
            }
        if (!reads && y[i] != 0.0f) residues++;
    }
    be->vt->buf_free(be, bx);
    be->vt->buf_free(be, bw);
    be->vt->buf_free(be, by);
    free(x);
    free(wt);
    free(y);
    return residues;
}

static void test_reference_keeps_zeros(void **state) {
    (void)state;
    if (strcmp(tu_backend_name, "cpu") != 0) skip(); /* the CPU backends' own choice of kernels */
    cnv_backend *ref, *fast;
    assert_int_equal(cnv_backend_cpu_create_reference(&ref), CNV_OK);
    assert_int_equal(cnv_backend_cpu_create(&fast), CNV_OK);
    const int ref_residues = conv_zero_windows_exact(ref), fast_residues = conv_zero_windows_exact(fast);
    printf("outputs over all-zero windows that are not 0: reference %d, default (F(4x4)) %d\n", ref_residues,
           fast_residues);
    assert_int_equal(ref_residues, 0);
    cnv_backend_free(ref);
    cnv_backend_free(fast);
}

int main(int argc, char **argv) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv),
        cmocka_unit_test(test_pools),
        cmocka_unit_test(test_gemm),
        cmocka_unit_test(test_gemm_beyond_range),
        cmocka_unit_test(test_maxpool_switches),
        cmocka_unit_test(test_tile_shapes),
        cmocka_unit_test(test_reference_keeps_zeros),
    };
    printf("| %-32s | %9s | %9s | %9s |\n", "case (tol 1e-5)", "forward", "bwd data", "bwd wts");
    return TU_RUN_BACKEND_SUITE(argc, argv, tests);
}
