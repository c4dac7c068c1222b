#include "cli_check.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char scratch[256];

int tu_scratch_create(const char *tag) {
    snprintf(scratch, sizeof scratch, "/tmp/cnnvis_%s_XXXXXX", tag);
    return mkdtemp(scratch) ? 0 : -1;
}

int tu_scratch_remove(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    return system(cmd) == 0 ? 0 : -1;
}

const char *tu_scratch_dir(void) { return scratch; }

tu_path tu_scratch_path(const char *name) {
    tu_path p;
    snprintf(p.s, sizeof p.s, "%s/%s", scratch, name);
    return p;
}

int tu_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

char tu_cli_out[TU_CLI_CAP], tu_cli_err[TU_CLI_CAP];

void tu_cli_expect(int want, const char *fmt, ...) {
    char args[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    int rc = tu_run_cli(args, tu_cli_out, sizeof tu_cli_out, tu_cli_err, sizeof tu_cli_err);
    if (rc != want) fail_msg("cnnvis %s: exit %d, expected %d; stderr: %s", args, rc, want, tu_cli_err);
}

json_t *tu_cli_json(void) {
    json_error_t e;
    json_t *j = json_loads(tu_cli_out, 0, &e);
    if (!j) fail_msg("stdout is not JSON (%s at line %d): %.200s", e.text, e.line, tu_cli_out);
    return j;
}

const json_t *tu_sidecar_run(const char *png, json_t **root) {
    char sidecar[4096];
    snprintf(sidecar, sizeof sidecar, "%.*s.json", (int)(strlen(png) - 4), png);
    json_error_t e;
    *root = json_load_file(sidecar, 0, &e);
    if (!*root) fail_msg("%s: %s", sidecar, e.text);
    const json_t *run = json_array_get(json_object_get(*root, "runs"), 0);
    if (!run) fail_msg("%s: no runs", sidecar);
    return run;
}

double tu_run_value(const json_t *run, const char *key) {
    return json_number_value(json_array_get(json_object_get(run, key), 0));
}
