/* The CPU backend's thread pool (runtime/cpu/parallel.c): every item of a loop is run exactly
 * once whatever its length, and a child of fork (cnnvis bench forks one per workload) runs
 * loops on a pool of its own instead of waiting on workers it does not have. Also the matrix
 * products split among its threads (runtime/cpu/blas_split.c), by columns and by rows, against a
 * plain triple loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cpu/cpu_ops.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <string.h>
#include <unistd.h>

static void count(void *ctx, size_t lo, size_t hi) {
    int *seen = ctx;
    for (size_t i = lo; i < hi; i++) seen[i]++;
}

/* Each item once: short loops (fewer items than threads), loops at the threshold, long ones. */
static void test_items_once(void **state) {
    const size_t sizes[] = {1, 2, 3, 7, CNV_CPU_PARALLEL_MIN - 1, CNV_CPU_PARALLEL_MIN, CNV_CPU_PARALLEL_MIN + 5,
                            (size_t)1 << 20};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        const size_t n = sizes[k];
        int *seen = calloc(n, sizeof *seen);
        assert_non_null(seen);
        for (int round = 0; round < 3; round++) cnv_cpu_parallel(n, round == 0 ? 1 : CNV_CPU_PARALLEL_MIN, count, seen);
        for (size_t i = 0; i < n; i++)
            if (seen[i] != 3) fail_msg("n = %zu: item %zu run %d times, not 3", n, i, seen[i]);
        free(seen);
    }
}

static int loops_in_child(void) {
    alarm(30); /* a child waiting on its parent's workers would hang: fail instead */
    const size_t n = (size_t)1 << 18;
    int *seen = calloc(n, sizeof *seen);
    if (!seen) return 2;
    for (int round = 0; round < 50; round++) cnv_cpu_parallel(n, 1, count, seen);
    for (size_t i = 0; i < n; i++)
        if (seen[i] != 50) return 1;
    free(seen);
    return 0;
}

static void test_fork_after_use(void **state) {
    cnv_cpu_parallel(4, 1, count, (int[4]){0}); /* the parent's pool is running */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(loops_in_child());
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) fail_msg("the forked child was killed by signal %d (hung on the pool?)", WTERMSIG(status));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

typedef struct product_shape {
    const char *label;
    int ta, tb, m, n, k, count, a_period, bias;
    float beta;
} product_shape;

static float element(const float *x, int transposed, int ld, int r, int c) {
    return transposed ? x[(size_t)c * ld + r] : x[(size_t)r * ld + c];
}

/* Every shape against float64 sums of the same products: C_i = op(A_i) op(B_i) (+ beta C_i, or
 * from the bias rows). */
static void check_products(const product_shape *s) {
    const int lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n, ldc = s->n;
    const size_t a_n = (size_t)s->m * s->k, b_n = (size_t)s->k * s->n, c_n = (size_t)s->m * s->n;
    float *a = malloc(a_n * s->a_period * sizeof *a), *b = malloc(b_n * s->count * sizeof *b);
    float *c = malloc(c_n * s->count * sizeof *c), *bias = malloc((size_t)s->m * s->a_period * sizeof *bias);
    assert_true(a && b && c && bias);
    uint32_t r = 12345u;
    for (size_t i = 0; i < a_n * s->a_period; i++) a[i] = (float)((r = r * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
    for (size_t i = 0; i < b_n * s->count; i++) b[i] = (float)((r = r * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
    for (size_t i = 0; i < c_n * s->count; i++) c[i] = (float)(i % 7) - 3.0f;
    for (int i = 0; i < s->m * s->a_period; i++) bias[i] = 0.25f * (float)(i % 5);
    float *c0 = malloc(c_n * s->count * sizeof *c0);
    assert_non_null(c0);
    memcpy(c0, c, c_n * s->count * sizeof *c);
    const cnv_cpu_products p = {.ta = s->ta, .tb = s->tb, .m = s->m, .n = s->n, .k = s->k, .count = s->count,
                                .alpha = 1.0f, .beta = s->beta, .a = a, .b = b, .bias = s->bias ? bias : NULL,
                                .lda = lda, .ldb = ldb, .ldc = ldc, .a_period = s->a_period, .a_stride = a_n,
                                .b_stride = b_n, .c_stride = c_n, .c = c};
    cnv_cpu_products_run(&p);
    double worst = 0.0;
    for (int i = 0; i < s->count; i++)
        for (int row = 0; row < s->m; row++)
            for (int col = 0; col < s->n; col++) {
                const float *ai = a + (size_t)(i % s->a_period) * a_n, *bi = b + (size_t)i * b_n;
                double want = s->bias ? bias[(i % s->a_period) * s->m + row]
                                      : s->beta * c0[(size_t)i * c_n + (size_t)row * ldc + col];
                for (int q = 0; q < s->k; q++)
                    want += (double)element(ai, s->ta, lda, row, q) * element(bi, s->tb, ldb, q, col);
                const double err = fabs(c[(size_t)i * c_n + (size_t)row * ldc + col] - want);
                if (!(err <= worst)) worst = err;
            }
    print_message("%-40s max error %.2e\n", s->label, worst);
    assert_true(worst < 1e-3);
    free(a), free(b), free(c), free(c0), free(bias);
}

static void test_products_split(void **state) {
    (void)state;
    const product_shape shapes[] = {
        {"small (calling thread)", 0, 0, 7, 9, 5, 3, 1, 0, 1.0f},
        {"columns, bias, 2 weight groups", 0, 0, 64, 700, 300, 4, 2, 1, 0.0f},
        {"columns, A and B transposed, beta 1", 1, 1, 96, 513, 200, 1, 1, 0, 1.0f},
        {"rows (49 columns), bias", 0, 0, 2048, 49, 512, 1, 1, 1, 0.0f},
        {"rows, A transposed, beta 1", 1, 0, 1000, 30, 400, 1, 1, 0, 1.0f},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) check_products(&shapes[i]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_items_once),
        cmocka_unit_test(test_fork_after_use),
        cmocka_unit_test(test_products_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
