/* Helpers of the suites that run the cnnvis CLI: a scratch folder per suite, a run that must end
 * with a given exit status, and its stdout read as JSON. Include after cmocka's required headers. */
#ifndef CNV_TEST_CLI_CHECK_H
#define CNV_TEST_CLI_CHECK_H

#include <jansson.h>
#include <stddef.h>

/* A path, returned by value so that many can be held at once. */
typedef struct tu_path {
    char s[512];
} tu_path;

/* The suite's scratch folder /tmp/cnnvis_<tag>_XXXXXX: tu_scratch_create makes it (0, or -1 when
 * it cannot: a group setup's return value), tu_scratch_remove deletes it with all it holds. */
int tu_scratch_create(const char *tag);
int tu_scratch_remove(void);
const char *tu_scratch_dir(void);
tu_path tu_scratch_path(const char *name);

int tu_file_exists(const char *path);

/* What the last tu_cli_expect printed, each NUL-terminated (truncated to TU_CLI_CAP - 1 bytes). */
#define TU_CLI_CAP 200000
extern char tu_cli_out[TU_CLI_CAP], tu_cli_err[TU_CLI_CAP];

/* Runs the CLI with printf-style arguments (shell-quoted by the caller); fails the test, showing
 * stderr, unless it exits with `want`. */
void tu_cli_expect(int want, const char *fmt, ...);
/* The last run's stdout as JSON; fails the test when it is not. The caller frees it (json_decref). */
json_t *tu_cli_json(void);

/* The record of an optimization verb's run, the sidecar OUT.json beside OUT.png: its first run
 * (runs[0]); *root is the whole record, which the caller frees (json_decref). Fails the test when
 * the sidecar cannot be read. */
const json_t *tu_sidecar_run(const char *png, json_t **root);
/* Item 0's value of a run's list `key` ("start", "final", "grad_max_abs"). */
double tu_run_value(const json_t *run, const char *key);

#endif
