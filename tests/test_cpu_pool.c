/* The CPU backend's thread pool (runtime/cpu/parallel.c): every item of a loop is run exactly
 * once whatever its length, and a child of fork (cnnvis bench forks one per workload) runs
 * loops on a pool of its own instead of waiting on workers it does not have. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cpu/cpu_ops.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_items_once),
        cmocka_unit_test(test_fork_after_use),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
