/* The Vulkan runtime layer on a real device (lavapipe here, chosen by name), with the
 * validation layer on: every test ends by asserting that no validation message was seen,
 * including those reported while the context is destroyed. Skips when no Vulkan device exists. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "test_util.h"
#include "core/backend_open.h"
#include "core/op.h"
#include "vulkan/command.h"
#include "vulkan/context.h"
#include "vulkan/memory.h"
#include "vulkan/pipeline.h"

/* The unary kernels this test runs (shaders/unary.glsl, constant 3: numbers from
 * shaders/elementwise_ops.h). */
static const int tested[] = {CNV_UNARY_RELU, CNV_UNARY_LEAKYRELU, CNV_UNARY_CLIP,
                             CNV_UNARY_SIGMOID, CNV_UNARY_TANH, CNV_UNARY_ELU};
#define ACT_COUNT ((int)(sizeof tested / sizeof tested[0]))

typedef struct act_push {
    uint32_t n;
    float p0, p1;
} act_push;

#define N_VALUES 1000

/* The device the tests run on: llvmpipe by name when present, else device 0. */
static const char *test_device(void) {
    static char spec[16];
    cnv_vk_instance *inst = NULL;
    if (cnv_vk_instance_create(0, &inst) != CNV_OK || inst->device_count == 0) {
        cnv_vk_instance_free(inst);
        return NULL;
    }
    uint32_t index;
    snprintf(spec, sizeof spec, "%s", cnv_vk_choose_device(inst, "llvmpipe", &index) == CNV_OK ? "llvmpipe" : "0");
    cnv_vk_instance_free(inst);
    return spec;
}

static cnv_vk_context *open_context(cnv_vk_options opt) {
    const char *device = test_device();
    if (!device) {
        printf("SKIP: no Vulkan device: %s\n", *cnv_last_error() ? cnv_last_error() : "none listed");
        skip();
    }
    opt.device = device;
    opt.validation = 1;
    cnv_vk_context *ctx = NULL;
    cnv_status s = cnv_vk_context_create(&opt, &ctx);
    if (s != CNV_OK) fail_msg("context: %s", cnv_last_error());
    /* The layer is a test dependency (vulkan-validationlayers): without it nothing is checked. */
    assert_true(ctx->inst->validation);
    return ctx;
}

/* Frees the context, then asserts that the whole test produced no validation message. */
static void close_context(cnv_vk_context *ctx, unsigned messages_before) {
    cnv_vk_context_free(ctx);
    assert_int_equal(cnv_vk_validation_messages_total(), messages_before);
}

static cnv_vk_pipeline *activation_pipeline(cnv_vk_context *ctx, uint32_t act, uint32_t local) {
    cnv_vk_kernel_desc d = {
        .shader = "unary_fwd",
        .bindings = 2,
        .written = 1u << 1,
        .push_size = sizeof(act_push),
        .local_size = {local, 1, 1},
        .spec = &act,
        .spec_count = 1,
    };
    cnv_vk_pipeline *p = NULL;
    if (cnv_vk_pipeline_create(ctx, &d, &p) != CNV_OK) fail_msg("pipeline: %s", cnv_last_error());
    return p;
}

static float host_act(int act, float x, float p0, float p1) {
    switch (act) {
    case CNV_UNARY_RELU: return x > 0 ? x : 0;
    case CNV_UNARY_LEAKYRELU: return x >= 0 ? x : p0 * x;
    case CNV_UNARY_CLIP: return x < p0 ? p0 : x > p1 ? p1 : x;
    case CNV_UNARY_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case CNV_UNARY_TANH: return tanhf(x);
    default: return x >= 0 ? x : p0 * (expf(x) - 1.0f);
    }
}

static cnv_vk_buffer *new_buffer(cnv_vk_context *ctx, size_t bytes) {
    cnv_vk_buffer *b = NULL;
    if (cnv_vk_buffer_create(ctx, bytes, CNV_VK_MEM_DEVICE, &b) != CNV_OK) fail_msg("buffer: %s", cnv_last_error());
    return b;
}

static void random_values(float *x, size_t n, uint64_t seed) {
    cnv_rng r;
    cnv_rng_seed(&r, seed);
    tu_fill_uniform(&r, x, n, -3.0f, 3.0f);
}

static uint32_t groups_for(uint32_t n, uint32_t local) { return (n + local - 1) / local; }

/* ---- tests ---- */

static void test_validation_messages_are_counted(void **state) {
    unsigned before = cnv_vk_validation_messages_total();
    cnv_vk_context *ctx = open_context((cnv_vk_options){0});
    /* A message injected through the messenger must reach the counter, or the zero checks of
     * every other test would prove nothing. */
    VkDebugUtilsMessengerCallbackDataEXT data = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CALLBACK_DATA_EXT,
        .pMessage = "test_vulkan_runtime: an injected message (expected)",
    };
    vkSubmitDebugUtilsMessageEXT(ctx->inst->instance, VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT,
                                 VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT, &data);
    assert_int_equal(cnv_vk_validation_messages(ctx), 1);
    close_context(ctx, before + 1);
}

static void test_enumerate_and_choose(void **state) {
    unsigned before = cnv_vk_validation_messages_total();
    cnv_vk_context *ctx = open_context((cnv_vk_options){0});
    const cnv_vk_instance *inst = ctx->inst;
    assert_true(inst->device_count >= 1);
    assert_true(cnv_device_spec_is_cpu("cpu") && cnv_device_spec_is_cpu("CPU") && !cnv_device_spec_is_cpu("cpux"));

    uint32_t index = 99;
    assert_int_equal(cnv_vk_choose_device(inst, "0", &index), CNV_OK);
    assert_int_equal(index, 0);
    char spec[16];
    snprintf(spec, sizeof spec, "%u", inst->device_count);
    assert_int_equal(cnv_vk_choose_device(inst, spec, &index), CNV_ERR_NOT_FOUND);
    assert_int_equal(cnv_vk_choose_device(inst, "no such device anywhere", &index), CNV_ERR_NOT_FOUND);
    assert_int_equal(cnv_vk_choose_device(inst, "cpu", &index), CNV_ERR_NOT_FOUND);

    /* By name, case-insensitively: the context's own device. */
    assert_int_equal(cnv_vk_choose_device(inst, "LLVMPIPE", &index),
                     strstr(ctx->caps.device_name, "llvmpipe") ? CNV_OK : CNV_ERR_NOT_FOUND);
    /* The default never picks a CPU-type device. */
    int any_gpu = 0;
    for (uint32_t i = 0; i < inst->device_count; i++) {
        VkPhysicalDeviceProperties p;
        vkGetPhysicalDeviceProperties(inst->devices[i], &p);
        any_gpu |= p.deviceType != VK_PHYSICAL_DEVICE_TYPE_CPU;
    }
    cnv_status s = cnv_vk_choose_device(inst, NULL, &index);
    assert_int_equal(s, any_gpu ? CNV_OK : CNV_ERR_NOT_FOUND);
    if (s == CNV_OK) {
        VkPhysicalDeviceProperties p;
        vkGetPhysicalDeviceProperties(inst->devices[index], &p);
        assert_int_not_equal(p.deviceType, VK_PHYSICAL_DEVICE_TYPE_CPU);
    }
    close_context(ctx, before);
}

static void test_caps(void **state) {
    unsigned before = cnv_vk_validation_messages_total();
    cnv_vk_context *ctx = open_context((cnv_vk_options){0});
    const cnv_vk_caps *c = &ctx->caps;
    assert_true(c->device_name[0]);
    assert_true(c->api_version >= VK_API_VERSION_1_1);
    /* The minimums every Vulkan device guarantees. */
    assert_true(c->max_storage_buffer_range >= (1u << 27));
    assert_true(c->max_workgroup_invocations >= 128);
    assert_true(c->max_workgroup_size[0] >= 128 && c->max_workgroup_size[2] >= 64);
    assert_true(c->max_workgroup_count[0] >= 65535);
    assert_true(c->max_shared_memory >= 16384);
    assert_true(c->max_push_constants_size >= 128);
    assert_true(c->min_storage_buffer_offset_alignment >= 1);
    assert_true(c->heap_count >= 1 && c->heaps[0].size > 0);
    assert_true(c->compute_queue_family != UINT32_MAX);
    assert_true(c->workarounds.preferred_workgroup_size >= 1 &&
                c->workarounds.preferred_workgroup_size <= c->max_workgroup_invocations);
    if (c->timestamps) assert_true(c->timestamp_period_ns > 0);
    if (c->driver_id == VK_DRIVER_ID_MESA_LLVMPIPE) {
        assert_int_equal(c->type, VK_PHYSICAL_DEVICE_TYPE_CPU);
        assert_true(c->workarounds.slow_shared_memory);
        assert_true(c->subgroup_size >= 1);
        if (!getenv("CNNVIS_VK_TEXEL")) assert_true(c->workarounds.texel_reads);
    }
    /* A kernel with CNV_INPUT operands is built from its texel build exactly where the table
     * says so, and binds those operands as texel buffers; a written binding never is one. */
    assert_true(c->max_texel_buffer_elements >= 65536 && c->min_texel_buffer_offset_alignment >= 1);
    {
        /* RM RN TK, memory orders, DIRECT, SPLIT, REDUCE, ACCUMULATE; binding 4: the split partials */
        const uint32_t spec[9] = {1, 1, 1, 0, 0, 1, 1, 0, 0};
        cnv_vk_kernel_desc g = {.shader = "gemm_fwd", .bindings = 5, .written = 0x18, .texel = 0x7,
                                .push_size = 4 * 21, .local_size = {8, 1, 1}, .spec = spec, .spec_count = 9};
        cnv_vk_pipeline *gp = NULL;
        assert_int_equal(cnv_vk_pipeline_create(ctx, &g, &gp), CNV_OK);
        assert_int_equal(gp->texel, c->workarounds.texel_reads ? 0x7u : 0u);
        cnv_vk_pipeline_free(ctx, gp);
        g.written = 0x19; /* binding 0 both written and texel: refused */
        assert_int_equal(cnv_vk_pipeline_create(ctx, &g, &gp), c->workarounds.texel_reads ? CNV_ERR_INTERNAL : CNV_OK);
        if (gp) cnv_vk_pipeline_free(ctx, gp);
    }
    /* A 256-wide workgroup is within the real limits (1024 on lavapipe)... */
    const uint32_t wide = 256;
    int wide_fits = c->max_workgroup_invocations >= wide;
    if (wide_fits) cnv_vk_pipeline_free(ctx, activation_pipeline(ctx, CNV_UNARY_RELU, wide));
    close_context(ctx, before);

    /* ...but not within the forced ones. */
    ctx = open_context((cnv_vk_options){.forced_limits = 1});
    c = &ctx->caps;
    assert_true(c->limits_forced);
    assert_true(c->max_workgroup_invocations <= 128 && c->max_workgroup_size[0] <= 128);
    assert_true(c->max_shared_memory <= 16384);
    assert_true(c->max_storage_buffer_range <= (64u << 20));
    assert_true(c->workarounds.preferred_workgroup_size <= 128);
    assert_false(c->workarounds.texel_reads); /* the forced table runs the storage-buffer builds */
    cnv_vk_kernel_desc d = {.shader = "unary_fwd", .bindings = 2, .written = 2, .push_size = 12,
                            .local_size = {wide, 1, 1}};
    cnv_vk_pipeline *p = NULL;
    assert_int_equal(cnv_vk_pipeline_create(ctx, &d, &p), CNV_ERR_UNSUPPORTED);
    assert_null(p);
    d.shader = "no_such_kernel";
    d.local_size[0] = 64;
    assert_int_equal(cnv_vk_pipeline_create(ctx, &d, &p), CNV_ERR_NOT_FOUND);
    close_context(ctx, before);
}

/* Several sub-allocated buffers hold independent data: a wrong offset would overlap them. */
static void round_trip_many(cnv_vk_context *ctx) {
    enum { COUNT = 5 };
    const size_t sizes[COUNT] = {4, 1000, 4096 + 12, 3 << 20, 256};
    cnv_vk_buffer *bufs[COUNT];
    for (int i = 0; i < COUNT; i++) {
        bufs[i] = new_buffer(ctx, sizes[i]);
        assert_int_equal(cnv_vk_buffer_range_count(bufs[i]), 1);
        assert_true((cnv_vk_buffer_map(bufs[i]) != NULL) == !ctx->force_staging);
    }
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < COUNT; i++) {
            unsigned char *src = malloc(sizes[i]);
            assert_non_null(src);
            for (size_t k = 0; k < sizes[i]; k++) src[k] = (unsigned char)(k * 7 + i * 31 + round);
            assert_int_equal(cnv_vk_buffer_write(ctx, bufs[i], 0, src, sizes[i]), CNV_OK);
            free(src);
        }
        for (int i = 0; i < COUNT; i++) {
            unsigned char *dst = malloc(sizes[i]);
            assert_non_null(dst);
            assert_int_equal(cnv_vk_buffer_read(ctx, bufs[i], 0, dst, sizes[i]), CNV_OK);
            size_t bad = 0;
            for (size_t k = 0; k < sizes[i]; k++) bad += dst[k] != (unsigned char)(k * 7 + i * 31 + round);
            assert_int_equal(bad, 0);
            free(dst);
        }
        /* Free one in the middle and allocate again: the hole is reused without overlap. */
        cnv_vk_buffer_free(ctx, bufs[2]);
        bufs[2] = new_buffer(ctx, sizes[2]);
    }
    unsigned char byte = 1;
    assert_int_equal(cnv_vk_buffer_write(ctx, bufs[0], 4, &byte, 1), CNV_ERR_ARG);
    for (int i = 0; i < COUNT; i++) cnv_vk_buffer_free(ctx, bufs[i]);
}

static void test_buffers_round_trip(void **state) {
    unsigned before = cnv_vk_validation_messages_total();
    cnv_vk_context *ctx = open_context((cnv_vk_options){0});
    round_trip_many(ctx);
    close_context(ctx, before);
    /* The staging path of devices whose memory the host cannot map. */
    ctx = open_context((cnv_vk_options){.force_staging = 1});
    uint64_t submits = ctx->submits;
    round_trip_many(ctx);
    assert_true(ctx->submits > submits);
    close_context(ctx, before);
}

/* A buffer over maxStorageBufferRange (forced to 64 MiB) splits into ranges a kernel can bind. */
static void test_split_buffer(void **state) {
    unsigned before = cnv_vk_validation_messages_total();
    cnv_vk_context *ctx = open_context((cnv_vk_options){.forced_limits = 1});
    const VkDeviceSize range = ctx->caps.max_storage_buffer_range;
    const VkDeviceSize size = range + N_VALUES * sizeof(float);
    cnv_vk_buffer *big = new_buffer(ctx, size);
    uint32_t n = cnv_vk_buffer_range_count(big);
    assert_int_equal(n, 2);
    VkDeviceSize expect = 0;
    for (uint32_t i = 0; i < n; i++) {
        VkDeviceSize off, len;
        cnv_vk_buffer_range(big, i, &off, &len);
        assert_int_equal(off, expect);
        assert_true(len > 0 && len <= range);
        assert_int_equal(off % ctx->caps.min_storage_buffer_offset_alignment, 0);
        expect = off + len;
    }
    assert_int_equal(expect, size);

    /* The second range holds N_VALUES floats; run ReLU on it through a descriptor at its offset. */
    VkDeviceSize off, len;
    cnv_vk_buffer_range(big, 1, &off, &len);
    assert_int_equal(len, N_VALUES * sizeof(float));
    float x[N_VALUES], y[N_VALUES], want[N_VALUES];
    random_values(x, N_VALUES, 7);
    assert_int_equal(cnv_vk_buffer_write(ctx, big, off, x, sizeof x), CNV_OK);
    float head = 42.0f, head_back = 0;
    assert_int_equal(cnv_vk_buffer_write(ctx, big, 0, &head, sizeof head), CNV_OK);
    cnv_vk_buffer *out = new_buffer(ctx, sizeof y);
    uint32_t local = ctx->caps.workarounds.preferred_workgroup_size;
    cnv_vk_pipeline *relu = activation_pipeline(ctx, CNV_UNARY_RELU, local);
    cnv_vk_recorder *rec = NULL;
    assert_int_equal(cnv_vk_recorder_create(ctx, 1, &rec), CNV_OK);
    assert_int_equal(cnv_vk_recorder_begin(rec), CNV_OK);
    act_push push = {N_VALUES, 0, 0};
    cnv_vk_binding whole = {big, 0, 0};
    cnv_vk_binding binds[2] = {{big, off, len}, {out, 0, 0}};
    uint32_t groups[3] = {groups_for(N_VALUES, local), 1, 1};
    /* Binding the whole buffer would exceed the (forced) range: refused. */
    cnv_vk_binding too_big[2] = {whole, {out, 0, 0}};
    assert_int_equal(cnv_vk_recorder_dispatch(rec, relu, too_big, &push, groups), CNV_ERR_UNSUPPORTED);
    assert_int_equal(cnv_vk_recorder_dispatch(rec, relu, binds, &push, groups), CNV_OK);
    assert_int_equal(cnv_vk_recorder_end(rec), CNV_OK);
    assert_int_equal(cnv_vk_recorder_submit(rec), CNV_OK);
    assert_int_equal(cnv_vk_buffer_read(ctx, out, 0, y, sizeof y), CNV_OK);
    for (int i = 0; i < N_VALUES; i++) want[i] = host_act(CNV_UNARY_RELU, x[i], 0, 0);
    assert_true(tu_rel_error(y, want, N_VALUES) == 0.0);
    assert_int_equal(cnv_vk_buffer_read(ctx, big, 0, &head_back, sizeof head_back), CNV_OK);
    assert_true(head_back == head);

    cnv_vk_recorder_free(rec);
    cnv_vk_pipeline_free(ctx, relu);
    cnv_vk_buffer_free(ctx, out);
    cnv_vk_buffer_free(ctx, big);
    close_context(ctx, before);
}

/* Every activation against the host on 1000 random floats, in one recording (independent
 * dispatches: no barrier), then a chain (one barrier), with per-dispatch timestamps. */
static void test_activation_kernels(void **state) {
    unsigned before = cnv_vk_validation_messages_total();
    cnv_vk_context *ctx = open_context((cnv_vk_options){.profiling = 1});
    const float p0[ACT_COUNT] = {0, 0.1f, -0.5f, 0, 0, 0.7f}, p1[ACT_COUNT] = {0, 0, 0.5f, 0, 0, 0};
    uint32_t local = ctx->caps.workarounds.preferred_workgroup_size;
    float x[N_VALUES], y[N_VALUES], want[N_VALUES];
    random_values(x, N_VALUES, 1);
    cnv_vk_buffer *in = new_buffer(ctx, sizeof x), *outs[ACT_COUNT], *chain = new_buffer(ctx, sizeof x);
    cnv_vk_pipeline *pipes[ACT_COUNT];
    assert_int_equal(cnv_vk_buffer_write(ctx, in, 0, x, sizeof x), CNV_OK);
    cnv_vk_recorder *rec = NULL;
    assert_int_equal(cnv_vk_recorder_create(ctx, ACT_COUNT + 1, &rec), CNV_OK);
    assert_int_equal(cnv_vk_recorder_begin(rec), CNV_OK);
    uint32_t groups[3] = {groups_for(N_VALUES, local), 1, 1};
    for (int a = 0; a < ACT_COUNT; a++) {
        outs[a] = new_buffer(ctx, sizeof y);
        pipes[a] = activation_pipeline(ctx, (uint32_t)tested[a], local);
        act_push push = {N_VALUES, p0[a], p1[a]};
        cnv_vk_binding b[2] = {{in, 0, 0}, {outs[a], 0, 0}};
        assert_int_equal(cnv_vk_recorder_dispatch(rec, pipes[a], b, &push, groups), CNV_OK);
    }
    assert_int_equal(cnv_vk_recorder_barriers(rec), 0);
    /* tanh(relu(x)): reads what the first dispatch wrote. */
    act_push push = {N_VALUES, 0, 0};
    cnv_vk_binding b[2] = {{outs[CNV_UNARY_RELU], 0, 0}, {chain, 0, 0}};
    assert_int_equal(cnv_vk_recorder_dispatch(rec, pipes[CNV_UNARY_TANH], b, &push, groups), CNV_OK);
    assert_int_equal(cnv_vk_recorder_barriers(rec), 1);
    assert_int_equal(cnv_vk_recorder_end(rec), CNV_OK);
    assert_int_equal(cnv_vk_recorder_submit(rec), CNV_OK);

    for (int a = 0; a < ACT_COUNT; a++) {
        assert_int_equal(cnv_vk_buffer_read(ctx, outs[a], 0, y, sizeof y), CNV_OK);
        for (int i = 0; i < N_VALUES; i++) want[i] = host_act(tested[a], x[i], p0[a], p1[a]);
        double err = tu_rel_error(y, want, N_VALUES);
        if (err >= 1e-5) fail_msg("activation %d: relative error %g", a, err);
    }
    assert_int_equal(cnv_vk_buffer_read(ctx, chain, 0, y, sizeof y), CNV_OK);
    for (int i = 0; i < N_VALUES; i++) want[i] = tanhf(host_act(CNV_UNARY_RELU, x[i], 0, 0));
    assert_true(tu_rel_error(y, want, N_VALUES) < 1e-5);

    double ms[ACT_COUNT + 1];
    uint32_t timed = 0;
    assert_int_equal(cnv_vk_recorder_timings(rec, ms, ACT_COUNT + 1, &timed), CNV_OK);
    assert_int_equal(timed, ctx->profiling ? ACT_COUNT + 1 : 0);
    for (uint32_t i = 0; i < timed; i++) assert_true(ms[i] >= 0 && ms[i] < 10000);

    cnv_vk_recorder_free(rec);
    for (int a = 0; a < ACT_COUNT; a++) {
        cnv_vk_pipeline_free(ctx, pipes[a]);
        cnv_vk_buffer_free(ctx, outs[a]);
    }
    cnv_vk_buffer_free(ctx, in);
    cnv_vk_buffer_free(ctx, chain);
    close_context(ctx, before);
}

/* Recorded once, submitted 100 times: b = leaky(a), a = leaky(b) with slope 1.01 on negatives,
 * so the result tells how many replays really ran. */
static void test_replay_100(void **state) {
    unsigned before = cnv_vk_validation_messages_total();
    cnv_vk_context *ctx = open_context((cnv_vk_options){0});
    enum { REPLAYS = 100 };
    const float slope = 1.01f;
    uint32_t local = ctx->caps.workarounds.preferred_workgroup_size;
    float x[N_VALUES], y[N_VALUES];
    random_values(x, N_VALUES, 3);
    cnv_vk_buffer *a = new_buffer(ctx, sizeof x), *b = new_buffer(ctx, sizeof x);
    assert_int_equal(cnv_vk_buffer_write(ctx, a, 0, x, sizeof x), CNV_OK);
    cnv_vk_pipeline *leaky = activation_pipeline(ctx, CNV_UNARY_LEAKYRELU, local);
    cnv_vk_recorder *rec = NULL;
    assert_int_equal(cnv_vk_recorder_create(ctx, 2, &rec), CNV_OK);
    assert_int_equal(cnv_vk_recorder_begin(rec), CNV_OK);
    act_push push = {N_VALUES, slope, 0};
    uint32_t groups[3] = {groups_for(N_VALUES, local), 1, 1};
    cnv_vk_binding ab[2] = {{a, 0, 0}, {b, 0, 0}}, ba[2] = {{b, 0, 0}, {a, 0, 0}};
    assert_int_equal(cnv_vk_recorder_dispatch(rec, leaky, ab, &push, groups), CNV_OK);
    assert_int_equal(cnv_vk_recorder_dispatch(rec, leaky, ba, &push, groups), CNV_OK);
    assert_int_equal(cnv_vk_recorder_barriers(rec), 1);
    assert_int_equal(cnv_vk_recorder_end(rec), CNV_OK);
    uint64_t submits = ctx->submits;
    for (int r = 0; r < REPLAYS; r++) assert_int_equal(cnv_vk_recorder_submit(rec), CNV_OK);
    assert_int_equal(ctx->submits - submits, REPLAYS);
    assert_int_equal(cnv_vk_recorder_dispatches(rec), 2);

    assert_int_equal(cnv_vk_buffer_read(ctx, a, 0, y, sizeof y), CNV_OK);
    for (int i = 0; i < N_VALUES; i++)
        for (int k = 0; k < 2 * REPLAYS; k++) x[i] = host_act(CNV_UNARY_LEAKYRELU, x[i], slope, 0);
    assert_true(tu_rel_error(y, x, N_VALUES) < 1e-5);

    cnv_vk_recorder_free(rec);
    cnv_vk_pipeline_free(ctx, leaky);
    cnv_vk_buffer_free(ctx, a);
    cnv_vk_buffer_free(ctx, b);
    close_context(ctx, before);
}

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* The first context writes the cache file under $XDG_CACHE_HOME/cnnvis; the second loads it. */
static void test_pipeline_cache(void **state) {
    unsigned before = cnv_vk_validation_messages_total();
    char dir[] = "/tmp/cnnvis-cache-XXXXXX";
    assert_non_null(mkdtemp(dir));
    setenv("XDG_CACHE_HOME", dir, 1);

    cnv_vk_context *ctx = open_context((cnv_vk_options){0});
    char path[sizeof ctx->pipeline_cache_path];
    snprintf(path, sizeof path, "%s", ctx->pipeline_cache_path);
    assert_int_equal(strncmp(path, dir, strlen(dir)), 0);
    assert_int_equal(ctx->pipeline_cache_loaded, 0);
    cnv_vk_pipeline_free(ctx, activation_pipeline(ctx, CNV_UNARY_SIGMOID, 64));
    close_context(ctx, before);
    long size = file_size(path);
    assert_true(size > 0);

    ctx = open_context((cnv_vk_options){0});
    assert_string_equal(ctx->pipeline_cache_path, path);
    assert_int_equal(ctx->pipeline_cache_loaded, size);
    cnv_vk_pipeline *p = activation_pipeline(ctx, CNV_UNARY_SIGMOID, 64);
    printf("pipeline cache: %ld bytes; creation feedback says cache hit = %d (-1: not reported)\n", size,
           p->cache_hit);
    cnv_vk_pipeline_free(ctx, p);
    close_context(ctx, before);

    /* A damaged file is ignored, not trusted. */
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("not a pipeline cache", f);
    fclose(f);
    ctx = open_context((cnv_vk_options){0});
    assert_int_equal(ctx->pipeline_cache_loaded, 0);
    close_context(ctx, before);

    remove(path);
    char sub[sizeof dir + 16];
    snprintf(sub, sizeof sub, "%s/cnnvis", dir);
    rmdir(sub);
    rmdir(dir);
    unsetenv("XDG_CACHE_HOME");
}

/* `cnnvis devices --json` lists what the runtime sees; without any device it still exits 0
 * and offers the CPU backend. */
static void test_devices_verb(void **state) {
    unsigned before = cnv_vk_validation_messages_total();
    cnv_vk_context *ctx = open_context((cnv_vk_options){0});
    uint32_t count = ctx->inst->device_count, index = 0;
    int default_is_cpu = cnv_vk_choose_device(ctx->inst, NULL, &index) != CNV_OK;
    char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
    snprintf(name, sizeof name, "%s", ctx->caps.device_name);
    uint32_t invocations = ctx->caps.max_workgroup_invocations, ctx_index = ctx->device_index;
    close_context(ctx, before);

    static char out[1 << 16], err[1 << 14];
    setenv("CNNVIS_VALIDATION", "1", 1);
    int code = tu_run_cli("devices --json", out, sizeof out, err, sizeof err);
    unsetenv("CNNVIS_VALIDATION");
    assert_int_equal(code, 0);
    assert_null(strstr(err, "vulkan validation"));
    json_error_t jerr;
    json_t *report = json_loads(out, 0, &jerr);
    if (!report) fail_msg("devices --json: %s in %s", jerr.text, out);
    json_t *devices = json_object_get(report, "devices");
    assert_int_equal(json_array_size(devices), count);
    json_t *mine = json_array_get(devices, ctx_index);
    assert_string_equal(json_string_value(json_object_get(mine, "name")), name);
    assert_int_equal(json_integer_value(json_object_get(mine, "max_workgroup_invocations")), invocations);
    assert_string_equal(json_string_value(json_object_get(report, "default")), default_is_cpu ? "cpu" : "0");
    json_decref(report);

    /* No driver at all: said plainly, exit 0, the CPU backend listed. Loaders since 1.3.207 read
     * VK_DRIVER_FILES before VK_ICD_FILENAMES, so both name the missing file (bench/device/run.sh
     * sets a driver through them); what was set before is restored. */
    static const char *const driver_vars[2] = {"VK_DRIVER_FILES", "VK_ICD_FILENAMES"};
    char saved[2][4096];
    int had[2];
    for (int i = 0; i < 2; i++) {
        const char *v = getenv(driver_vars[i]);
        had[i] = v != NULL;
        snprintf(saved[i], sizeof saved[i], "%s", v ? v : "");
        setenv(driver_vars[i], "/nonexistent/cnnvis-no-driver.json", 1);
    }
    code = tu_run_cli("devices", out, sizeof out, err, sizeof err);
    for (int i = 0; i < 2; i++) {
        if (had[i]) setenv(driver_vars[i], saved[i], 1);
        else unsetenv(driver_vars[i]);
    }
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "no Vulkan device found"));
    assert_non_null(strstr(out, "[cpu] CPU backend"));
    assert_non_null(strstr(out, "default device: cpu"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validation_messages_are_counted),
        cmocka_unit_test(test_enumerate_and_choose),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_buffers_round_trip),
        cmocka_unit_test(test_split_buffer),
        cmocka_unit_test(test_activation_kernels),
        cmocka_unit_test(test_replay_100),
        cmocka_unit_test(test_pipeline_cache),
        cmocka_unit_test(test_devices_verb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
