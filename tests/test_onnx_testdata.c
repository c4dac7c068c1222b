/* ONNX's own operator test suite (Debian libonnx-testdata): every case is attempted: imported
 * and run forward on the CPU backend, and output_0 compared with the recorded one. Graph inputs
 * after the first (weights, shapes, and the second operand of binary ops) are bound as constants
 * from their input_k.pb. A case the importer rejects as CNV_ERR_UNSUPPORTED (an op or a feature
 * cnnvis does not claim, such as a 3-D Conv input) is a SKIP with the reason; any other failure
 * of a case is a FAIL, and one FAIL fails the suite. The end of the output counts PASS, FAIL and
 * SKIP and groups the SKIPs by reason (the unsupported op, or the message without its file and
 * node). No case of a 2-D CNN op may be skipped for its opset. */
#include "test_util.h"
#include "model_run.h"

#include "models/onnx.h"
#include "core/status.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TESTDATA_ROOT "/usr/share/libonnx-testdata/data"
#define MAX_INPUTS 8
#define TOLERANCE 1e-4

typedef struct tally {
    int pass, fail, skip, tight; /* tight: passes with rel err < 1e-5 */
    int opset_skips;             /* SKIPs because of the model's opset */
} tally;

static int is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The ops of the model, space separated, for the case's line. */
static void list_ops(const char *model, char *ops_out, size_t cap) {
    char *ops = NULL;
    snprintf(ops_out, cap, "?");
    if (cnv_onnx_list_ops(model, &ops) != CNV_OK) return;
    snprintf(ops_out, cap, "%s", ops);
    free(ops);
}

/* SKIP reasons and how many cases gave each. */
#define MAX_REASONS 400
typedef struct reason {
    char text[160];
    int count;
} reason;
static reason reasons[MAX_REASONS];
static int n_reasons, reasons_dropped;

/* The reason of a SKIP message without the file and node that are different for every case:
 * "unsupported op 'X'", or the text after the last "): " (the node's op and the problem). */
static void count_reason(const char *why) {
    char key[160];
    const char *op = strstr(why, "unsupported op '");
    const char *tail = why;
    for (const char *p = why; (p = strstr(p, "): ")) != NULL; p += 3) tail = p + 3;
    if (op) {
        const char *end = strchr(op + 16, '\'');
        snprintf(key, sizeof key, "%.*s", end ? (int)(end + 1 - op) : (int)strlen(op), op);
    } else {
        const char *colon = strstr(why, ".onnx: ");
        const char *node_op = colon ? strstr(colon, " (") : NULL;
        /* "(Op): problem" when the message names a node, else the problem alone. */
        if (node_op && node_op < tail)
            snprintf(key, sizeof key, "%.*s %.120s", (int)(strchr(node_op, ')') + 1 - node_op - 1), node_op + 1, tail);
        else
            snprintf(key, sizeof key, "%.150s", colon ? colon + 7 : tail);
    }
    for (int k = 0; k < n_reasons; k++)
        if (!strcmp(reasons[k].text, key)) {
            reasons[k].count++;
            return;
        }
    if (n_reasons == MAX_REASONS) {
        reasons_dropped++;
        return;
    }
    snprintf(reasons[n_reasons].text, sizeof reasons[n_reasons].text, "%s", key);
    reasons[n_reasons++].count = 1;
}

static int by_count(const void *a, const void *b) {
    const reason *ra = a, *rb = b;
    return rb->count != ra->count ? rb->count - ra->count : strcmp(ra->text, rb->text);
}

/* The SKIP reasons, most frequent first. */
static void print_reasons(void) {
    qsort(reasons, (size_t)n_reasons, sizeof reasons[0], by_count);
    printf("SKIP reasons (cases each):\n");
    for (int k = 0; k < n_reasons; k++) printf("  %4d  %s\n", reasons[k].count, reasons[k].text);
    if (reasons_dropped) printf("  %4d  (further distinct reasons not listed)\n", reasons_dropped);
}

/* Outcome of one test_data_set: 'P', 'F' or 'S', with the reason or error in `why`. */
static char run_data_set(const char *model, const char *set_dir, char *why, size_t cap, double *err_out) {
    char inputs[MAX_INPUTS][1200];
    const char *bound[MAX_INPUTS];
    int n_inputs = 0;
    while (n_inputs < MAX_INPUTS) {
        snprintf(inputs[n_inputs], sizeof inputs[0], "%s/input_%d.pb", set_dir, n_inputs);
        if (!is_file(inputs[n_inputs])) break;
        if (n_inputs > 0) bound[n_inputs - 1] = inputs[n_inputs];
        n_inputs++;
    }
    if (n_inputs == 0) return snprintf(why, cap, "no input_0.pb"), 'S';

    cnv_graph *g = NULL;
    cnv_status st = cnv_onnx_load_bound(model, n_inputs - 1, bound, &g);
    if (st != CNV_OK) {
        snprintf(why, cap, "%s", cnv_last_error());
        return st == CNV_ERR_UNSUPPORTED ? 'S' : 'F';
    }
    char expected_path[1200];
    snprintf(expected_path, sizeof expected_path, "%s/output_0.pb", set_dir);
    float *input = NULL, *expected = NULL, *out = NULL;
    cnv_shape in_shape, exp_shape, out_shape;
    char result = 'F';
    if ((st = cnv_onnx_read_tensor(inputs[0], &input, &in_shape)) != CNV_OK ||
        (st = cnv_onnx_read_tensor(expected_path, &expected, &exp_shape)) != CNV_OK) {
        snprintf(why, cap, "%s", cnv_last_error());
        result = st == CNV_ERR_UNSUPPORTED ? 'S' : 'F';
        goto done;
    }
    cnv_shape want = g->values[g->input].shape;
    want.d[0] = in_shape.d[0];
    if (!cnv_shape_equal(&want, &in_shape)) {
        snprintf(why, cap, "input_0 does not have the model's input shape");
        goto done;
    }
    st = tu_model_forward(g, input, in_shape.d[0], g->output, &out, &out_shape);
    if (st != CNV_OK) {
        snprintf(why, cap, "forward: %s", cnv_last_error());
        result = st == CNV_ERR_UNSUPPORTED ? 'S' : 'F';
        goto done;
    }
    if (cnv_shape_numel(&out_shape) != cnv_shape_numel(&exp_shape)) {
        char a[64], b[64];
        snprintf(why, cap, "output %s, expected %s", cnv_shape_str(&out_shape, a, sizeof a),
                 cnv_shape_str(&exp_shape, b, sizeof b));
        goto done;
    }
    /* A NaN the recorded output holds (Sqrt or Pow of a negative number) must be NaN here too;
     * the other elements are compared as usual. */
    size_t n = cnv_shape_numel(&exp_shape), nans = 0, misplaced = 0;
    for (size_t k = 0; k < n; k++)
        if (isnan(expected[k]) || isnan(out[k])) {
            misplaced += !(isnan(expected[k]) && isnan(out[k]));
            nans++;
            expected[k] = out[k] = 0.0f;
        }
    *err_out = misplaced ? 1.0 : tu_rel_error(out, expected, n);
    if (nans)
        snprintf(why, cap, "rel err %.2g, %zu NaN (%zu not where recorded)", *err_out, nans, misplaced);
    else
        snprintf(why, cap, "rel err %.2g", *err_out);
    result = *err_out < TOLERANCE ? 'P' : 'F';
done:
    free(input);
    free(expected);
    free(out);
    cnv_graph_free(g);
    return result;
}

static int compare_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Runs every case under root/<suite>; prints one line per case. */
static void run_suite(const char *suite, tally *t) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", TESTDATA_ROOT, suite);
    DIR *d = opendir(dir);
    if (!d) fail_msg("%s: cannot open (is libonnx-testdata installed?)", dir);
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        char **grown = realloc(names, (n + 1) * sizeof *names);
        assert_non_null(grown);
        names = grown;
        names[n] = malloc(strlen(e->d_name) + 1);
        assert_non_null(names[n]);
        strcpy(names[n++], e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, compare_names);

    for (size_t k = 0; k < n; k++) {
        char model[1024], ops[512];
        snprintf(model, sizeof model, "%s/%s/model.onnx", dir, names[k]);
        if (!is_file(model)) continue;
        list_ops(model, ops, sizeof ops);
        for (int set = 0;; set++) {
            char set_dir[1100], why[600];
            snprintf(set_dir, sizeof set_dir, "%s/%s/test_data_set_%d", dir, names[k], set);
            struct stat st;
            if (stat(set_dir, &st) != 0) break;
            double err = 1.0;
            char r = run_data_set(model, set_dir, why, sizeof why, &err);
            const char *label = r == 'P' ? "PASS" : r == 'F' ? "FAIL" : "SKIP";
            printf("%s %s/%s[%d] (%s): %s\n", label, suite, names[k], set, ops, why);
            if (r == 'P') t->pass++, t->tight += err < 1e-5;
            if (r == 'F') t->fail++;
            if (r == 'S') t->skip++, count_reason(why);
            /* Opsets 1..6 are accepted: an opset refusal of a case is a gap to fix. */
            if (r == 'S' && strstr(why, "opset") && strstr(why, "is not supported")) t->opset_skips++;
        }
    }
    for (size_t k = 0; k < n; k++) free(names[k]);
    free(names);
}

static void test_onnx_operator_suites(void **state) {
    (void)state;
    tally t = {0};
    run_suite("node", &t);
    run_suite("pytorch-operator", &t);
    run_suite("pytorch-converted", &t);
    print_reasons();
    printf("ONNX test data: %d PASS (%d with rel err < 1e-5), %d FAIL, %d SKIP (%d for the opset)\n", t.pass, t.tight,
           t.fail, t.skip, t.opset_skips);
    fflush(stdout);
    assert_true(t.pass > 0);
    assert_int_equal(t.fail, 0);
    assert_int_equal(t.opset_skips, 0);
}

/* An op cnnvis lacks is refused by name, naming the file and the node. */
static void test_unsupported_op_is_named(void **state) {
    (void)state;
    const char *model = TESTDATA_ROOT "/node/test_depthtospace_example/model.onnx";
    cnv_graph *g = NULL;
    assert_int_equal(cnv_onnx_load(model, &g), CNV_ERR_UNSUPPORTED);
    assert_null(g);
    const char *msg = cnv_last_error();
    assert_non_null(strstr(msg, model));
    assert_non_null(strstr(msg, "node '"));
    assert_non_null(strstr(msg, "unsupported op 'DepthToSpace'"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unsupported_op_is_named),
        cmocka_unit_test(test_onnx_operator_suites),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
