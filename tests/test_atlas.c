/* cnnvis atlas on the bundled model: bad input refused before anything is written; a real
 * single-node Slurm (Debian's slurm-wlm and munge, started here by tests/atlas/slurm_cluster.sh)
 * runs a 4-task job array, one task killed with SIGKILL mid-item and requeued, then the indexing
 * step: every picture, partial list and index.json equals a single-process run byte for byte,
 * and the work log shows every item finished exactly once; the viewer opened in headless
 * Chromium with every view clicked through (tests/atlas/viewer_check.html). */
#include "test_util.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MODEL CNNVIS_SOURCE_DIR "/models/fashion_mnist.onnx"
#define FASHION "/usr/share/datasets/fashion-mnist"
/* Small enough to be quick, big enough that a task is still at work when it is killed: 12
 * render items of 8 channels, 4 rank items of 16 images. */
#define ATLAS_ARGS "--layers conv1,conv2 --steps 32 --batch 8 --images " FASHION \
                   " --images-limit 64 --rank-chunk 16 --k 4 --device cpu"
#define N_ITEMS 16

static char reference[1024]; /* the single-process atlas every other run is compared with */
static char out[1 << 16], err[1 << 16];

static void path_join(char *buf, size_t size, const char *dir, const char *name) {
    if (snprintf(buf, size, "%s/%s", dir, name) >= (int)size) fail_msg("path too long: %s/%s", dir, name);
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* Runs a shell command; its stdout into buf (may be NULL). Returns the exit status. */
static int shell(const char *cmd, char *buf, size_t size) {
    FILE *p = popen(cmd, "r");
    if (!p) fail_msg("popen %s: %s", cmd, strerror(errno));
    size_t n = 0;
    char sink[4096];
    for (size_t got; (got = fread(buf ? buf + n : sink, 1, buf ? size - 1 - n : sizeof sink, p)) > 0;)
        if (buf) n += got;
    if (buf) buf[n] = '\0';
    int rc = pclose(p);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
}

static int one_line(const char *text) {
    const char *nl = strchr(text, '\n');
    return nl && nl[1] == '\0';
}

/* Every file under dir with its size and modification time, sorted: equal listings mean nothing
 * was written. */
static void snapshot(const char *dir, char *buf, size_t size) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd '%s' && find . -printf '%%p %%s %%T@\\n' | sort", dir);
    assert_int_equal(shell(cmd, buf, size), 0);
}

static int setup(void **state) {
    path_join(reference, sizeof reference, CNNVIS_BINARY_DIR, "atlas_reference");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", reference);
    if (shell(cmd, NULL, 0)) return -1;
    snprintf(cmd, sizeof cmd, "atlas %s -o %s %s", MODEL, reference, ATLAS_ARGS);
    int rc = tu_run_cli(cmd, out, sizeof out, err, sizeof err);
    if (rc) printf("reference atlas: %d\n%s\n%s\n", rc, out, err);
    else printf("reference: %s", out);
    return rc;
}

static void expect_refused(const char *args, const char *dir, const char *needle) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "atlas %s -o %s %s", MODEL, dir, args);
    int rc = tu_run_cli(cmd, out, sizeof out, err, sizeof err);
    printf("%s -> %d: %s", args, rc, err);
    assert_int_equal(rc, 2);
    assert_true(one_line(err));
    assert_non_null(strstr(err, needle));
    assert_string_equal(out, "");
}

static void test_bad_input(void **state) {
    char dir[1024], cmd[4096];
    path_join(dir, sizeof dir, CNNVIS_BINARY_DIR, "atlas_refused");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(shell(cmd, NULL, 0), 0);
    /* A malformed --shard, a layer that does not exist: one line, exit 2, no folder. */
    const char *shards[] = {"3/2", "x/4", "1", "1/0", "-1/4", "1/4/2", "/4", "2/"};
    for (size_t i = 0; i < sizeof shards / sizeof *shards; i++) {
        snprintf(cmd, sizeof cmd, "--layers conv1 --shard %s", shards[i]);
        expect_refused(cmd, dir, "--shard");
        assert_false(exists(dir));
    }
    setenv("SLURM_ARRAY_TASK_ID", "seven", 1);
    expect_refused("--layers conv1 --shard auto", dir, "SLURM_ARRAY_TASK_ID");
    unsetenv("SLURM_ARRAY_TASK_ID");
    setenv("JOB_COMPLETION_INDEX", "3", 1);
    expect_refused("--layers conv1 --shard auto", dir, "JOB_COMPLETIONS");
    setenv("JOB_COMPLETIONS", "3", 1);
    expect_refused("--layers conv1 --shard auto", dir, "does not exist");
    unsetenv("JOB_COMPLETION_INDEX");
    unsetenv("JOB_COMPLETIONS");
    assert_false(exists(dir));
    expect_refused("--layers conv1,no_such_layer", dir, "no_such_layer");
    assert_false(exists(dir));

    /* The reference folder holds this model's atlas: another model, or other settings, are
     * refused and leave every file as it was. */
    static char before[1 << 16], after[1 << 16];
    snapshot(reference, before, sizeof before);
    snprintf(cmd, sizeof cmd, "atlas %s/models/smallnet.onnx -o %s --steps 32 --device cpu", CNNVIS_BINARY_DIR,
             reference);
    int rc = tu_run_cli(cmd, out, sizeof out, err, sizeof err);
    printf("another model -> %d: %s", rc, err);
    assert_int_equal(rc, 2);
    assert_true(one_line(err));
    assert_non_null(strstr(err, "another model"));
    snprintf(cmd, sizeof cmd, "%s --steps 33", ATLAS_ARGS);
    expect_refused(cmd, reference, "another recipe");
    snapshot(reference, after, sizeof after);
    assert_string_equal(before, after);
}

/* ---- Slurm ---- */

static char cluster[64]; /* the cluster's folder (short: munge's socket path has a length limit) */
static int cluster_started;

static int slurm(const char *command, char *buf, size_t size) {
    char cmd[8192 + 256];
    snprintf(cmd, sizeof cmd, "export SLURM_CONF=%s/slurm.conf PATH=$PATH:/usr/sbin; %s", cluster, command);
    return shell(cmd, buf, size);
}

static int stop_cluster(void **state) {
    if (!cluster_started) return 0;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "sh '%s/tests/atlas/slurm_cluster.sh' stop %s && rm -rf %s", CNNVIS_SOURCE_DIR, cluster,
             cluster);
    int rc = shell(cmd, NULL, 0);
    cluster_started = 0;
    return rc;
}

/* The work log's lines, and questions about them. */
typedef struct log_line {
    char event[8], item[32];
    int shard;
    long pid;
} log_line;

static int read_log(const char *dir, log_line *lines, int cap) {
    char path[1200], text[256];
    path_join(path, sizeof path, dir, "work.log");
    FILE *f = fopen(path, "r");
    int n = 0;
    while (f && n < cap && fgets(text, sizeof text, f)) {
        log_line *l = &lines[n];
        int count;
        if (sscanf(text, "%*s %7s %31s shard %d/%d host %*s pid %ld", l->event, l->item, &l->shard, &count, &l->pid) == 5)
            n++;
    }
    if (f) fclose(f);
    return n;
}

/* Waits until shard 2 has finished one item and started the next; returns that start's pid. */
static long second_start_of_shard_2(const char *dir, char *item) {
    log_line lines[256];
    for (int tries = 0; tries < 6000; tries++) {
        int n = read_log(dir, lines, 256), done = 0;
        for (int i = 0; i < n; i++) {
            if (lines[i].shard != 2) continue;
            if (!strcmp(lines[i].event, "done")) done++;
            if (!strcmp(lines[i].event, "start") && done == 1) {
                strcpy(item, lines[i].item);
                return lines[i].pid;
            }
        }
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    return -1;
}

static void wait_for_queue(const char *job) {
    char cmd[256], listing[4096];
    snprintf(cmd, sizeof cmd, "squeue -h -j %s -t PD,R,CG,CF -o '%%i %%T %%r'", job);
    for (int tries = 0; tries < 1800; tries++) {
        assert_int_equal(slurm(cmd, listing, sizeof listing), 0);
        if (!*listing) return;
        sleep(1);
    }
    fail_msg("job %s still queued after 30 minutes: %s", job, listing);
}

/* Files under dir/sub are the same bytes as under the reference; returns how many. */
static int same_files(const char *dir, const char *sub) {
    char cmd[4096], listing[1 << 14];
    snprintf(cmd, sizeof cmd, "cd '%s/%s' && find . -type f -name '*.png' -o -type f -name '*.npy' | sort", reference, sub);
    assert_int_equal(shell(cmd, listing, sizeof listing), 0);
    snprintf(cmd, sizeof cmd, "cd '%s/%s' && find . -type f -name '*.png' -o -type f -name '*.npy' | sort", dir, sub);
    static char theirs[1 << 14];
    assert_int_equal(shell(cmd, theirs, sizeof theirs), 0);
    assert_string_equal(listing, theirs);
    int n = 0;
    for (char *line = strtok(listing, "\n"); line; line = strtok(NULL, "\n"), n++) {
        snprintf(cmd, sizeof cmd, "cmp -s '%s/%s/%s' '%s/%s/%s'", reference, sub, line, dir, sub, line);
        if (shell(cmd, NULL, 0)) fail_msg("%s/%s differs from the single-process run", sub, line);
    }
    return n;
}

static void test_slurm_array_killed_and_requeued(void **state) {
    char cmd[8192], text[8192], dir[1024], item[32] = "";
    snprintf(cluster, sizeof cluster, "/tmp/cnnvis-slurm-XXXXXX");
    assert_non_null(mkdtemp(cluster));
    snprintf(cmd, sizeof cmd, "sh '%s/tests/atlas/slurm_cluster.sh' start %s 2>&1", CNNVIS_SOURCE_DIR, cluster);
    cluster_started = 1;
    int rc = shell(cmd, text, sizeof text);
    if (rc) fail_msg("Slurm did not start (slurm-wlm and munge are in the README's test command): %s", text);

    path_join(dir, sizeof dir, CNNVIS_BINARY_DIR, "atlas_slurm");
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s.out'", dir, dir);
    assert_int_equal(shell(cmd, NULL, 0), 0);
    snprintf(cmd, sizeof cmd, "sbatch --parsable --array=0-3 -o '%s.out/task_%%a.txt' --wrap \"exec '%s' atlas %s -o %s "
             "%s --shard auto --json\"", dir, CNNVIS_CLI, MODEL, dir, ATLAS_ARGS);
    assert_int_equal(slurm(cmd, text, sizeof text), 0);
    char job[32];
    assert_int_equal(sscanf(text, "%31[0-9]", job), 1);
    printf("job array %s submitted\n", job);

    long pid = second_start_of_shard_2(dir, item);
    if (pid <= 0) fail_msg("shard 2 never started its second item");
    assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
    printf("SIGKILL to pid %ld (shard 2/4) while it rendered %s\n", pid, item);
    wait_for_queue(job);
    snprintf(cmd, sizeof cmd, "squeue -h -j %s_2 -t all -o %%T", job);
    slurm(cmd, text, sizeof text);
    printf("task 2 after the kill: %s", text);
    assert_non_null(strstr(text, "FAILED"));
    char record[1200];
    snprintf(record, sizeof record, "%s/items/%s.json", dir, item);
    assert_false(exists(record)); /* the item in flight was not committed */

    /* Resubmitted: the same array task again, eligible at once (a requeued job waits otherwise). */
    snprintf(cmd, sizeof cmd, "scontrol requeue %s_2 && scontrol update jobid=%s_2 StartTime=now", job, job);
    assert_int_equal(slurm(cmd, NULL, 0), 0);
    wait_for_queue(job);
    snprintf(cmd, sizeof cmd, "cat '%s.out/task_2.txt'", dir);
    shell(cmd, text, sizeof text);
    printf("task 2, requeued:\n%s", text);
    assert_non_null(strstr(text, "\"skipped\":true"));
    assert_non_null(strstr(text, "\"event\":\"done\""));

    /* The indexing step, as a job of its own: nothing is left to render. */
    snprintf(cmd, sizeof cmd, "sbatch --wait -o '%s.out/index.txt' --wrap \"exec '%s' atlas %s -o %s %s --json\"", dir,
             CNNVIS_CLI, MODEL, dir, ATLAS_ARGS);
    assert_int_equal(slurm(cmd, NULL, 0), 0);
    snprintf(cmd, sizeof cmd, "cat '%s.out/index.txt'", dir);
    shell(cmd, text, sizeof text);
    printf("indexing step: %s", strstr(text, "\"event\":\"done\"") ? strstr(text, "\"event\":\"done\"") : text);
    assert_non_null(strstr(text, "\"rendered\":0"));
    assert_non_null(strstr(text, "\"index\":true"));

    /* Byte for byte what one process made: pictures, partial top-k lists, the index. */
    int pictures = same_files(dir, "layers"), partials = same_files(dir, "rank");
    char a[1200], b[1200];
    path_join(a, sizeof a, reference, "index.json");
    path_join(b, sizeof b, dir, "index.json");
    snprintf(cmd, sizeof cmd, "cmp '%s' '%s'", a, b);
    assert_int_equal(shell(cmd, NULL, 0), 0);
    printf("%d pictures, %d partial lists and index.json equal the single-process run\n", pictures, partials);
    /* The killed process's temporary files were removed when its item was taken up again. */
    snprintf(cmd, sizeof cmd, "find '%s' -name '*.tmp-*'", dir);
    shell(cmd, text, sizeof text);
    assert_string_equal(text, "");
    assert_int_equal(pictures, 96 + 2 + 96); /* every channel, a grid per layer, a top-k strip per channel */
    assert_int_equal(partials, 4);

    /* Nothing lost, nothing done twice: each item finished once, by its own shard; only the
     * killed item started twice, and nothing finished before the kill started again. */
    log_line lines[256];
    int n = read_log(dir, lines, 256), kill_at = -1;
    for (int i = 0; i < n; i++)
        if (lines[i].pid == pid && !strcmp(lines[i].event, "start") && !strcmp(lines[i].item, item)) kill_at = i;
    assert_true(kill_at >= 0);
    int finished = 0;
    for (int i = 0; i < n; i++) {
        int dones = 0, starts = 0;
        for (int j = 0; j < n; j++) {
            if (strcmp(lines[j].item, lines[i].item)) continue;
            dones += !strcmp(lines[j].event, "done");
            starts += !strcmp(lines[j].event, "start");
        }
        if (strcmp(lines[i].event, "done")) continue;
        finished++;
        assert_int_equal(dones, 1);
        assert_int_equal(starts, strcmp(lines[i].item, item) ? 1 : 2);
        if (i < kill_at)
            for (int j = kill_at; j < n; j++)
                if (!strcmp(lines[j].item, lines[i].item) && !strcmp(lines[j].event, "start"))
                    fail_msg("%s finished before the kill and started again", lines[i].item);
    }
    assert_int_equal(finished, N_ITEMS);
    printf("work log: %d lines, %d items finished once each; %s started twice (killed, then requeued)\n", n, finished,
           item);
}

/* ---- the viewer ---- */

static void test_viewer_in_chromium(void **state) {
    if (access("/usr/bin/chromium", X_OK) != 0) fail_msg("/usr/bin/chromium is not installed (apt-get install chromium)");
    char cmd[4096], check[1200];
    path_join(check, sizeof check, reference, "viewer_check.html");
    snprintf(cmd, sizeof cmd, "cp '%s/tests/atlas/viewer_check.html' '%s'", CNNVIS_SOURCE_DIR, check);
    assert_int_equal(shell(cmd, NULL, 0), 0);
    /* The harness navigates hundreds of times within seconds: Chromium throttles that (about 200
     * navigations per 10 s) unless its flooding protection is off. */
    snprintf(cmd, sizeof cmd,
             "timeout 180 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
             "--disable-background-networking --disable-component-update --disable-sync --user-data-dir=%s/chromium "
             "--allow-file-access-from-files --disable-ipc-flooding-protection --virtual-time-budget=120000 "
             "--dump-dom 'file://%s' 2>/dev/null",
             CNNVIS_BINARY_DIR, check);
    static char dom[1 << 20];
    shell(cmd, dom, sizeof dom);
    remove(check);
    const char *result = strstr(dom, "<pre id=\"result\">");
    assert_non_null(result);
    result += strlen("<pre id=\"result\">");
    printf("viewer: %.*s\n", (int)(strstr(result, "</pre>") - result), result);
    int views = 0, pictures = 0;
    assert_int_equal(sscanf(result, "PASS views=%d pictures=%d", &views, &pictures), 2);
    /* The overview, 2 layers, 96 channel pages, 96 layer pages after going back, one jump. */
    assert_int_equal(views, 1 + 2 + 96 + 96 + 1);
    assert_true(pictures >= 96 * 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_viewer_in_chromium),
        cmocka_unit_test_teardown(test_slurm_array_killed_and_requeued, stop_cluster),
    };
    return cmocka_run_group_tests_name("atlas", tests, setup, NULL);
}
