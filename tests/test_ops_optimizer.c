/* The optimizer steps (SGD with momentum, Adam) of the backend under test against a float64
 * reference over several steps, with hyper-parameters rewritten between steps as programs do;
 * without and with weight decay. */
#include "test_util.h"

#include "core/backend.h"
#include "core/optim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define N 1037 /* not a multiple of any workgroup size */
#define STEPS 3

static const char *backend_name = "cpu";

static void reference_step(cnv_optim_kind kind, double *x, const float *g, double *m, double *v, const float *h) {
    for (int i = 0; i < N; i++) {
        double ge = g[i] + (double)h[CNV_HYPER_WD] * x[i];
        if (kind == CNV_OPTIM_SGD) {
            m[i] = h[CNV_HYPER_BETA1] * m[i] + ge;
            x[i] += h[CNV_HYPER_LR] * m[i];
            continue;
        }
        m[i] = h[CNV_HYPER_BETA1] * m[i] + (1.0 - h[CNV_HYPER_BETA1]) * ge;
        v[i] = h[CNV_HYPER_BETA2] * v[i] + (1.0 - h[CNV_HYPER_BETA2]) * ge * ge;
        x[i] += h[CNV_HYPER_LR] * (m[i] * h[CNV_HYPER_C1]) / (sqrt(v[i] * h[CNV_HYPER_C2]) + h[CNV_HYPER_EPS]);
    }
}

/* wd: the weight decay of every step (0: none). */
static void check_kind(cnv_optim_kind kind, float wd) {
    cnv_backend *be = tu_backend_create(backend_name);
    const cnv_backend_vtable *vt = be->vt;
    cnv_rng r;
    cnv_rng_seed(&r, 11 + kind);
    float x0[N], g[N], got[N];
    double x[N], m[N] = {0}, v[N] = {0};
    tu_fill_uniform(&r, x0, N, -1, 1);
    for (int i = 0; i < N; i++) x[i] = x0[i];
    cnv_buf *bx, *bg, *bm, *bv, *bh;
    assert_int_equal(vt->buf_alloc(be, N, &bx), CNV_OK);
    assert_int_equal(vt->buf_alloc(be, N, &bg), CNV_OK);
    assert_int_equal(vt->buf_alloc(be, N, &bm), CNV_OK);
    assert_int_equal(vt->buf_alloc(be, N, &bv), CNV_OK);
    assert_int_equal(vt->buf_alloc(be, CNV_HYPER_COUNT, &bh), CNV_OK);
    assert_int_equal(vt->buf_write(be, bx, 0, x0, N), CNV_OK);
    assert_int_equal(vt->buf_fill(be, bm, 0.0f, N), CNV_OK);
    assert_int_equal(vt->buf_fill(be, bv, 0.0f, N), CNV_OK);
    double err = 0;
    for (int t = 1; t <= STEPS; t++) {
        float h[CNV_HYPER_COUNT];
        cnv_optim_hyper(0.05f * t, 0.9f, 0.999f, 1e-8f, t, h);
        assert_true(h[CNV_HYPER_WD] == 0.0f); /* no decay unless asked for */
        h[CNV_HYPER_WD] = wd;
        tu_fill_uniform(&r, g, N, -2, 2);
        assert_int_equal(vt->buf_write(be, bg, 0, g, N), CNV_OK);
        assert_int_equal(vt->buf_write(be, bh, 0, h, CNV_HYPER_COUNT), CNV_OK);
        cnv_optim_io io = {kind, bx, bg, bm, kind == CNV_OPTIM_ADAM ? bv : NULL, bh, N};
        assert_int_equal(vt->optim_step(be, &io), CNV_OK);
        reference_step(kind, x, g, m, v, h);
        assert_int_equal(vt->buf_read(be, bx, 0, got, N), CNV_OK);
        double num = 0, den = 0;
        for (int i = 0; i < N; i++) {
            num += (got[i] - x[i]) * (got[i] - x[i]);
            den += x[i] * x[i];
        }
        err = sqrt(num / den);
        printf("%s %s wd %g step %d: rel error %.2e\n", backend_name, kind == CNV_OPTIM_ADAM ? "adam" : "sgd", wd, t,
               err);
        assert_true(err < 1e-5);
        /* x really moved (the reference did): guards against comparing two unchanged copies. */
        assert_true(fabs(got[0] - x0[0]) > 1e-3);
    }
    vt->buf_free(be, bx);
    vt->buf_free(be, bg);
    vt->buf_free(be, bm);
    vt->buf_free(be, bv);
    vt->buf_free(be, bh);
    tu_backend_free(be);
}

static void test_sgd(void **state) { check_kind(CNV_OPTIM_SGD, 0.0f); }
static void test_adam(void **state) { check_kind(CNV_OPTIM_ADAM, 0.0f); }
/* Decay large enough that ignoring it would miss the reference by far more than the tolerance. */
static void test_sgd_weight_decay(void **state) { check_kind(CNV_OPTIM_SGD, 0.5f); }
static void test_adam_weight_decay(void **state) { check_kind(CNV_OPTIM_ADAM, 0.5f); }

int main(int argc, char **argv) {
    backend_name = tu_backend_arg(argc, argv);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_sgd), cmocka_unit_test(test_adam),
                                       cmocka_unit_test(test_sgd_weight_decay), cmocka_unit_test(test_adam_weight_decay)};
    return cmocka_run_group_tests_name(backend_name, tests, NULL, NULL);
}
