/* A recorded program: forward + objective + backward + optimizer step on the input, recorded
 * twice (as cnv_render does: two step slots, each with its own small buffer of per-step
 * parameters) and replayed 100 times, alternating, with a learning rate drawn from a seeded
 * RNG written into the slot's buffer before each run. On Vulkan every step is exactly one queue
 * submit, and the host never leaves the device idle waiting for a step: a run is waited for only
 * when the host touches a buffer it binds, and then while the other slot's run is queued
 * (cnv_backend_host_waits counts only waits for the newest run). Two Adam runs from the same seed are bit-identical; the CPU backend replaying the
 * same program with SGD agrees with the GPU (SGD, because Adam's per-element normalization
 * turns float rounding in near-zero gradients into full-size steps, so two backends' Adam
 * trajectories drift apart by design). The model is the small VGG-like PyTorch fixture. */
#include "test_util.h"

#include "core/exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEPS 100
#define CLASS 3

typedef struct replay_result {
    float *image;      /* the input after STEPS steps */
    float logit_start, logit_end;
    uint64_t submits;  /* queue submits during the STEPS runs */
    uint64_t waits;    /* host waits that left the device idle during the STEPS runs */
} replay_result;

static float read_logit(cnv_exec *ex, int node) {
    float logits[10];
    assert_int_equal(cnv_exec_forward(ex, node), CNV_OK);
    assert_int_equal(cnv_exec_read(ex, ex->g->nodes[node].out, logits), CNV_OK);
    return logits[CLASS];
}

static void run_replay(cnv_backend *be, cnv_optim_kind kind, uint64_t seed, replay_result *res) {
    cnv_graph *g = NULL;
    assert_int_equal(cnv_model_load(tu_fixture_path("torch/vgg_small.onnx"), &g), CNV_OK);
    cnv_exec *ex = NULL;
    assert_int_equal(cnv_exec_create(g, be, 1, &ex), CNV_OK);
    const int out = g->output, node = g->values[out].producer;
    const size_t n = cnv_shape_numel(&ex->shapes[g->input]);

    cnv_rng rng;
    cnv_rng_seed(&rng, seed);
    float *image = malloc(n * sizeof(float));
    assert_non_null(image);
    for (size_t i = 0; i < n; i++) image[i] = 0.1f * cnv_rng_normal(&rng);
    assert_int_equal(cnv_exec_set_input(ex, image), CNV_OK);
    res->logit_start = read_logit(ex, node);

    cnv_buf *m, *v, *hyper[2];
    const cnv_backend_vtable *vt = be->vt;
    assert_int_equal(vt->buf_alloc(be, n, &m), CNV_OK);
    assert_int_equal(vt->buf_alloc(be, n, &v), CNV_OK);
    assert_int_equal(vt->buf_fill(be, m, 0.0f, n), CNV_OK);
    assert_int_equal(vt->buf_fill(be, v, 0.0f, n), CNV_OK);

    /* The objective: the logit of CLASS, i.e. a one-hot seed gradient at the output. */
    float seed_grad[10] = {0};
    seed_grad[CLASS] = 1.0f;
    cnv_program *prog[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++) {
        assert_int_equal(vt->buf_alloc(be, CNV_HYPER_COUNT, &hyper[k]), CNV_OK);
        assert_int_equal(vt->program_begin(be), CNV_OK);
        assert_int_equal(cnv_exec_forward(ex, node), CNV_OK);
        assert_int_equal(cnv_exec_backward(ex, out, seed_grad, 0), CNV_OK);
        cnv_optim_io step = {kind, ex->vals[g->input], ex->grads[g->input], m, v, hyper[k], n};
        assert_int_equal(vt->optim_step(be, &step), CNV_OK);
        assert_int_equal(vt->program_end(be, &prog[k]), CNV_OK);
    }

    const uint64_t before = cnv_backend_submit_count(be), waits = cnv_backend_host_waits(be);
    for (int t = 1; t <= STEPS; t++) {
        float h[CNV_HYPER_COUNT];
        float lr = (kind == CNV_OPTIM_ADAM ? 0.02f : 10.0f) * (0.5f + cnv_rng_uniform(&rng));
        cnv_optim_hyper(lr, 0.9f, 0.999f, 1e-8f, t, h);
        assert_int_equal(vt->buf_write(be, hyper[t % 2], 0, h, CNV_HYPER_COUNT), CNV_OK);
        assert_int_equal(vt->program_run(be, prog[t % 2]), CNV_OK);
    }
    res->waits = cnv_backend_host_waits(be) - waits;
    res->submits = cnv_backend_submit_count(be) - before;

    res->image = malloc(n * sizeof(float));
    assert_non_null(res->image);
    assert_int_equal(cnv_exec_read(ex, g->input, res->image), CNV_OK);
    res->logit_end = read_logit(ex, node);

    for (int k = 0; k < 2; k++) {
        vt->program_free(be, prog[k]);
        vt->buf_free(be, hyper[k]);
    }
    vt->buf_free(be, m);
    vt->buf_free(be, v);
    free(image);
    cnv_exec_free(ex);
    cnv_graph_free(g);
}

static void test_replay(void **state) {
    const size_t n = 3 * 32 * 32;
    cnv_backend *gpu = tu_backend_create("vulkan");
    replay_result a, b, c, d;
    run_replay(gpu, CNV_OPTIM_ADAM, 42, &a);
    run_replay(gpu, CNV_OPTIM_ADAM, 42, &b);
    printf("vulkan adam: %d steps, %llu submits, %llu host waits leaving the device idle, logit %d: %.4f -> %.4f\n", STEPS,
           (unsigned long long)a.submits, (unsigned long long)a.waits, CLASS, a.logit_start, a.logit_end);
    assert_int_equal(a.submits, STEPS);
    assert_int_equal(b.submits, STEPS);
    assert_int_equal(a.waits, 0);
    assert_int_equal(b.waits, 0);
    assert_true(a.logit_end > a.logit_start + 0.25f); /* gradient ascent raised the logit */
    assert_memory_equal(a.image, b.image, n * sizeof(float));

    run_replay(gpu, CNV_OPTIM_SGD, 7, &c);
    tu_backend_free(gpu);
    cnv_backend *cpu = tu_backend_create("cpu");
    run_replay(cpu, CNV_OPTIM_SGD, 7, &d);
    cnv_backend_free(cpu);
    double err = tu_rel_error(c.image, d.image, n);
    printf("sgd: logit %d: vulkan %.4f -> %.4f, cpu %.4f -> %.4f; image rel error vulkan vs cpu %.2e\n", CLASS,
           c.logit_start, c.logit_end, d.logit_start, d.logit_end, err);
    assert_true(c.logit_end > c.logit_start + 0.25f);
    assert_true(err < 1e-4);
    free(a.image);
    free(b.image);
    free(c.image);
    free(d.image);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_replay)};
    return cmocka_run_group_tests_name("program_replay", tests, NULL, NULL);
}
