/* Killed runs never damage what exists: 100 runs of convert, filter and train, each into a folder
 * that already holds their outputs, killed with SIGKILL or SIGTERM at a random moment of the run
 * (or not at all, when the moment falls after its end). Every output must stay complete after
 * every run: the same bytes (the runs are deterministic: fixed seeds, the CPU backend), and the
 * JSON sidecars valid JSON. SIGTERM must leave no temporary file; SIGKILL may, and the next run
 * in the folder must remove it: after a last uninterrupted run of each verb none is left. */
#include "cli_check.h"
#include "test_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUNS 100
#define MAX_ARGS 32

typedef struct job {
    const char *name;
    const char *argv[MAX_ARGS];
    const char *outputs[3]; /* compared byte for byte */
    const char *sidecars[3]; /* must stay valid JSON */
    double seconds;          /* one uninterrupted run */
    unsigned char *bytes[3];
    size_t size[3];
} job;

static char dir[600], model[600], paths[8][700];

static const char *out_path(int k, const char *name) {
    snprintf(paths[k], sizeof paths[k], "%s/%s", dir, name);
    return paths[k];
}

static double seconds_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static pid_t start(const job *j) {
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execv(CNNVIS_CLI, (char *const *)j->argv);
        _exit(127);
    }
    return pid;
}

static int finish(pid_t pid) {
    int status;
    while (waitpid(pid, &status, 0) < 0) assert_int_equal(errno, EINTR);
    return status;
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("%s is gone", path);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    unsigned char *b = malloc(*n ? *n : 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

static int count_temps(void) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += strstr(e->d_name, ".tmp-") != NULL;
    closedir(d);
    return n;
}

static void expect_intact(const job *j, int run, const char *how) {
    for (int k = 0; k < 3 && j->outputs[k]; k++) {
        size_t n;
        unsigned char *b = slurp(j->outputs[k], &n);
        if (n != j->size[k] || memcmp(b, j->bytes[k], n) != 0)
            fail_msg("run %d (%s %s): %s changed (%zu bytes, %zu before)", run, j->name, how, j->outputs[k], n, j->size[k]);
        free(b);
    }
    for (int k = 0; k < 3 && j->sidecars[k]; k++) {
        json_error_t e;
        json_t *root = json_load_file(j->sidecars[k], 0, &e);
        if (!root) fail_msg("run %d (%s %s): %s is not valid JSON: %s", run, j->name, how, j->sidecars[k], e.text);
        json_decref(root);
    }
}

static void killed_runs_leave_outputs_intact(void **state) {
    (void)state;
    snprintf(model, sizeof model, "%s/models/smallnet.onnx", CNNVIS_BINARY_DIR);
    snprintf(dir, sizeof dir, "%s", tu_scratch_dir());
    job jobs[3] = {
        {.name = "convert", .argv = {"cnnvis", "convert", model, "-o", out_path(0, "model.onnx"), NULL},
         .outputs = {paths[0]}},
        {.name = "filter",
         .argv = {"cnnvis", "filter", model, "--layer", "0", "--channels", "0-3", "--steps", "48", "--device", "cpu",
                  "--frames", out_path(1, "frames"), "--frame-every", "16", "-o", out_path(2, "f.png"), NULL},
         .outputs = {paths[2]},
         .sidecars = {out_path(3, "f.json")}},
        {.name = "train",
         .argv = {"cnnvis", "train", "--data", "/usr/share/datasets/fashion-mnist", "--arch", "fashion-cnn", "--epochs",
                  "1", "--limit", "128", "--batch", "32", "--device", "cpu", "-o", out_path(4, "t.onnx"), "--log",
                  out_path(5, "t.json"), NULL},
         .outputs = {paths[4]},
         .sidecars = {paths[5]}},
    };
    /* The outputs as they exist before the killing starts, and how long each run takes. */
    for (int i = 0; i < 3; i++) {
        double t0 = seconds_now();
        int status = finish(start(&jobs[i]));
        jobs[i].seconds = seconds_now() - t0;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail_msg("cnnvis %s failed before the test", jobs[i].name);
        for (int k = 0; k < 3 && jobs[i].outputs[k]; k++) jobs[i].bytes[k] = slurp(jobs[i].outputs[k], &jobs[i].size[k]);
        printf("  %s: %.2f s a run\n", jobs[i].name, jobs[i].seconds);
    }
    assert_int_equal(count_temps(), 0);

    cnv_rng rng;
    cnv_rng_seed(&rng, 14);
    int killed = 0, completed = 0, kills = 0, prev_left = 0, most_left = 0;
    for (int run = 0; run < RUNS; run++) {
        job *j = &jobs[run % 3];
        int sig = cnv_rng_below(&rng, 2) ? SIGKILL : SIGTERM;
        /* A moment within the run, or a little after its end (then the run completes). */
        double delay = j->seconds * 1.1 * (double)cnv_rng_below(&rng, 1000) / 1000.0;
        pid_t pid = start(j);
        struct timespec ts = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
        nanosleep(&ts, NULL);
        kill(pid, sig);
        int status = finish(pid);
        int was_killed = WIFSIGNALED(status);
        killed += was_killed;
        completed += !was_killed;
        kills += was_killed && sig == SIGKILL;
        const char *how = !was_killed ? "completed" : sig == SIGKILL ? "SIGKILL" : "SIGTERM";
        if (!was_killed && WEXITSTATUS(status) != 0) fail_msg("run %d (%s) exited %d", run, j->name, WEXITSTATUS(status));
        expect_intact(j, run, how);
        int left = count_temps();
        if (was_killed && sig == SIGTERM && left > prev_left)
            fail_msg("run %d (%s, SIGTERM after %.3f s) left %d temporary files (%d before)", run, j->name, delay, left,
                     prev_left);
        prev_left = left;
        if (left > most_left) most_left = left;
    }
    /* One uninterrupted run of each verb sweeps what the SIGKILLed runs left. */
    for (int i = 0; i < 3; i++) assert_int_equal(finish(start(&jobs[i])), 0);
    int left = count_temps();
    printf("  %d runs: %d killed (%d by SIGKILL), %d completed; temporary files at most %d after a kill, %d after the "
           "last runs\n", RUNS, killed, kills, completed, most_left, left);
    assert_int_equal(left, 0);
    assert_true(killed >= RUNS / 2); /* the moments must really fall inside the runs */
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 3; k++) free(jobs[i].bytes[k]);
}

static int setup(void **state) {
    (void)state;
    return tu_scratch_create("kill");
}

static int teardown(void **state) {
    (void)state;
    return tu_scratch_remove();
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(killed_runs_leave_outputs_intact)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
