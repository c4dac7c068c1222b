/* cnnvis train: trains a classifier (a named architecture or an ONNX model) on a data set
 * folder (IDX files or one subfolder of images per class) and writes it as ONNX, with a JSON
 * log of every epoch. With --evaluate it only measures a model's accuracy on the test split.
 * Inputs are pixels / 255 (0..1, no mean): the fashion-mnist preset feeds the saved model the
 * same way. The library part is cnnvis/train.h (runtime/vis/train.c). */
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

enum {
    OPT_DATA = CLI_VERB_ID, OPT_ARCH, OPT_MODEL, OPT_OUTPUT, OPT_EPOCHS, OPT_BATCH, OPT_OPTIMIZER, OPT_LR,
    OPT_MOMENTUM, OPT_WD, OPT_SEED, OPT_DEVICE, OPT_LOG, OPT_LIMIT, OPT_INPUT_NAME, OPT_EVALUATE, OPT_JSON, OPT_HELP
};

static const cli_option train_options[] = {
    {"data", "DIR", "data set: IDX files (train-/t10k-images-idx3-ubyte[.gz], ...) or one image subfolder per class",
     NULL, OPT_DATA},
    {"arch", "NAME", "architecture to train from seeded He-uniform weights (cnnvis convert --help lists them)", NULL,
     OPT_ARCH},
    {"model", "FILE", "an ONNX model to train further (or, with --evaluate, to measure)", NULL, OPT_MODEL},
    {"output", "FILE", "the trained model (.onnx, written atomically)", NULL, OPT_OUTPUT},
    {"epochs", "E", "passes over the training set", "5", OPT_EPOCHS},
    {"batch", "B", "images per step (the last incomplete batch of an epoch is left out)", "64", OPT_BATCH},
    {"optimizer", "NAME", "sgd or adam (beta1 0.9, beta2 0.999, eps 1e-8)", "adam", OPT_OPTIMIZER},
    {"lr", "LR", "learning rate", "0.001 for adam, 0.01 for sgd", OPT_LR},
    {"momentum", "M", "SGD momentum", "0.9", OPT_MOMENTUM},
    {"weight-decay", "WD", "L2 weight decay on every weight and bias", "0", OPT_WD},
    {"seed", "S", "seed of the initial weights (--arch) and of the shuffling", "1", OPT_SEED},
    {"device", "NAME", "cpu, or a Vulkan device by index or name (cnnvis devices)", "auto: the best GPU, else cpu",
     OPT_DEVICE},
    {"log", "FILE", "JSON log: the command line, options, and per epoch loss, accuracies and seconds", "none", OPT_LOG},
    {"limit", "N", "use at most N training and N test images", "all", OPT_LIMIT},
    {"input-name", "NAME", "name of the saved model's input tensor (presets recognize models by it)", "input",
     OPT_INPUT_NAME},
    {"evaluate", NULL, "only measure --model's accuracy on the test split of --data", "off", OPT_EVALUATE},
    {"json", NULL, "machine-readable results (the log) on stdout", "off", OPT_JSON},
    {"help", NULL, "show this help", NULL, OPT_HELP},
};
#define N_TRAIN_OPTIONS ((int)(sizeof train_options / sizeof train_options[0]))

static const cli_verb train_verb = {
    .name = "train",
    .synopsis = "--data DIR (--arch NAME | --model FILE) -o MODEL.onnx [options]\n"
                "       cnnvis train --evaluate --model FILE --data DIR",
    .summary = "Train a classifier with softmax cross-entropy; save it as ONNX; log every epoch.",
    .options = train_options,
    .n_options = N_TRAIN_OPTIONS,
};

typedef struct train_args {
    const char *data, *arch, *model, *output, *device, *log, *input_name;
    int limit, evaluate, json, lr_given;
    cnv_train_options opt;
    char *command; /* the command line as typed, for the log */
} train_args;

static int parse_float(const cli_ctx *ctx, const char *name, const char *arg, float *out) {
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (end == arg || *end || errno || !isfinite(v) || v < 0)
        return cli_error(ctx, CLI_EXIT_USAGE, "--%s: '%s' is not a number >= 0", name, arg);
    *out = (float)v;
    return 0;
}

static int parse_option(const cli_ctx *ctx, train_args *a, int id, const char *arg) {
    int seed;
    switch (id) {
    case OPT_DATA: a->data = arg; break;
    case OPT_ARCH: a->arch = arg; break;
    case OPT_MODEL: a->model = arg; break;
    case OPT_OUTPUT: a->output = arg; break;
    case OPT_EPOCHS: return cli_parse_int(ctx, "epochs", arg, 1, &a->opt.epochs);
    case OPT_BATCH: return cli_parse_int(ctx, "batch", arg, 1, &a->opt.batch);
    case OPT_OPTIMIZER:
        if (strcmp(arg, "sgd") == 0) a->opt.optimizer = CNV_OPTIM_SGD;
        else if (strcmp(arg, "adam") == 0) a->opt.optimizer = CNV_OPTIM_ADAM;
        else return cli_error(ctx, CLI_EXIT_USAGE, "--optimizer: '%s' is neither sgd nor adam", arg);
        break;
    case OPT_LR: a->lr_given = 1; return parse_float(ctx, "lr", arg, &a->opt.lr);
    case OPT_MOMENTUM: return parse_float(ctx, "momentum", arg, &a->opt.momentum);
    case OPT_WD: return parse_float(ctx, "weight-decay", arg, &a->opt.weight_decay);
    case OPT_SEED:
        if (cli_parse_int(ctx, "seed", arg, 0, &seed)) return CLI_EXIT_USAGE;
        a->opt.seed = (uint64_t)seed;
        break;
    case OPT_DEVICE: a->device = arg; break;
    case OPT_LOG: a->log = arg; break;
    case OPT_LIMIT: return cli_parse_int(ctx, "limit", arg, 1, &a->limit);
    case OPT_INPUT_NAME: a->input_name = arg; break;
    case OPT_EVALUATE: a->evaluate = 1; break;
    case OPT_JSON: a->json = 1; break;
    }
    return 0;
}

static void print_help(void) {
    printf("usage: cnnvis train %s\n%s\n\noptions:\n", train_verb.synopsis, train_verb.summary);
    for (int i = 0; i < N_TRAIN_OPTIONS; i++) {
        const cli_option *o = &train_options[i];
        char left[64];
        snprintf(left, sizeof left, "%s--%s%s%s", o->id == OPT_OUTPUT ? "-o, " : o->id == OPT_HELP ? "-h, " : "",
                 o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        printf("  %-24s %s", left, o->help);
        if (o->def) printf(" (default: %s)", o->def);
        putchar('\n');
    }
    char archs[256];
    cnv_arch_list(archs, sizeof archs);
    printf("\narchitectures: %s\ninputs are pixels / 255 (0..1), gray or RGB as the model takes them\n", archs);
}

/* "cnnvis train ARG ...", each argument quoted when the shell would need it. */
static char *join_command(int argc, char **argv) {
    size_t size = strlen("cnnvis") + 1;
    for (int i = 0; i < argc; i++) size += 3 + 4 * strlen(argv[i]);
    char *s = malloc(size), *p = s;
    if (!s) return NULL;
    p += sprintf(p, "cnnvis");
    for (int i = 0; i < argc; i++) {
        int plain = argv[i][0] != '\0' && strspn(argv[i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                          "0123456789-_./=:,+") == strlen(argv[i]);
        *p++ = ' ';
        if (plain) {
            p += sprintf(p, "%s", argv[i]);
            continue;
        }
        *p++ = '\'';
        for (const char *c = argv[i]; *c; c++) p += *c == '\'' ? sprintf(p, "'\\''") : sprintf(p, "%c", *c);
        *p++ = '\'';
    }
    *p = '\0';
    return s;
}

/* Parses argv (argv[0] is "train"); -1 to go on, else the exit status. */
static int parse_args(cli_ctx *ctx, train_args *a, int argc, char **argv) {
    struct option table[N_TRAIN_OPTIONS + 1];
    for (int i = 0; i < N_TRAIN_OPTIONS; i++)
        table[i] = (struct option){train_options[i].name, train_options[i].arg ? required_argument : no_argument, NULL,
                                   train_options[i].id};
    memset(&table[N_TRAIN_OPTIONS], 0, sizeof table[0]);
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, ":ho:", table, NULL)) != -1;) {
        int code = 0;
        if (c == 'h' || c == OPT_HELP) {
            print_help();
            return CLI_EXIT_OK;
        }
        if (c == '?') code = cli_error(ctx, CLI_EXIT_USAGE, "unknown option '%s' (see --help)", argv[optind - 1]);
        else if (c == ':') code = cli_error(ctx, CLI_EXIT_USAGE, "option '%s' needs a value", argv[optind - 1]);
        else code = parse_option(ctx, a, c == 'o' ? OPT_OUTPUT : c, optarg);
        if (code) return code;
    }
    if (optind < argc) return cli_error(ctx, CLI_EXIT_USAGE, "unexpected argument '%s' (see --help)", argv[optind]);
    if (!a->data) return cli_error(ctx, CLI_EXIT_USAGE, "--data DIR is required");
    if (a->evaluate) {
        if (!a->model || a->arch || a->output)
            return cli_error(ctx, CLI_EXIT_USAGE, "--evaluate takes --model FILE and --data DIR only");
        return -1;
    }
    if (!a->arch == !a->model) return cli_error(ctx, CLI_EXIT_USAGE, "give either --arch NAME or --model FILE");
    if (!a->output) return cli_error(ctx, CLI_EXIT_USAGE, "-o MODEL.onnx is required");
    /* Refused before training, which an empty name would otherwise lose at the end. */
    if (a->input_name && !*a->input_name)
        return cli_error(ctx, CLI_EXIT_USAGE, "--input-name: an empty name for the input tensor");
    if (!a->lr_given) a->opt.lr = a->opt.optimizer == CNV_OPTIM_ADAM ? 0.001f : 0.01f;
    if (!(a->opt.lr > 0)) return cli_error(ctx, CLI_EXIT_USAGE, "--lr must be positive");
    if (a->opt.momentum >= 1) return cli_error(ctx, CLI_EXIT_USAGE, "--momentum must be below 1");
    a->command = join_command(argc, argv);
    return a->command ? -1 : cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
}

/* ---- progress and log ---- */

typedef struct run_state {
    const cli_ctx *ctx;
    const train_args *a;
    int tty;
    json_t *log, *epochs;
    cnv_status log_status;
    char log_error[4200]; /* the message of a failed log write, told after the training */
    int last_permille;
    int n_train, n_test;
    const cnv_backend *be;
} run_state;

static void on_batch(void *user, int epoch, int batch, int n_batches, double mean_loss) {
    run_state *r = user;
    if (!r->tty) return;
    int permille = (int)(1000L * batch / n_batches);
    if (permille == r->last_permille && batch != n_batches) return;
    r->last_permille = permille;
    enum { WIDTH = 30 };
    char bar[WIDTH + 1];
    int filled = (int)((long)WIDTH * batch / n_batches);
    for (int i = 0; i < WIDTH; i++) bar[i] = i < filled ? '#' : '.';
    bar[WIDTH] = '\0';
    fprintf(stderr, "\repoch %d/%d [%s] %d/%d loss %.4f ", epoch, r->a->opt.epochs, bar, batch, n_batches, mean_loss);
    fflush(stderr);
}

/* Rewrites the log; on failure the message goes to r->log_error. */
static cnv_status write_log(run_state *r, const char *path) {
    cnv_atomic_file af;
    cnv_status s = cnv_atomic_open(path, &af);
    if (s == CNV_OK &&
        (json_dumpf(r->log, af.f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(8)) != 0 ||
         fputc('\n', af.f) == EOF)) {
        cnv_atomic_abort(&af);
        snprintf(r->log_error, sizeof r->log_error, "%s: cannot write the log", path);
        return CNV_ERR_IO;
    }
    if (s == CNV_OK) s = cnv_atomic_commit(&af);
    if (s != CNV_OK)
        snprintf(r->log_error, sizeof r->log_error, "%s", *cnv_last_error() ? cnv_last_error() : cnv_status_str(s));
    return s;
}

/* Prints the epoch and rewrites the log, so an interrupted run keeps the epochs it finished. */
static void on_epoch(void *user, const cnv_epoch_result *e) {
    run_state *r = user;
    if (r->tty) fputc('\n', stderr);
    if (!r->a->json) {
        if (e->epoch == 1) /* not before: a run refused at the start prints nothing on stdout */
            printf("training on %d images, testing on %d, %s\n", r->n_train, r->n_test, cnv_backend_device(r->be));
        printf("epoch %d/%d: loss %.4f, train accuracy %.2f%%", e->epoch, r->a->opt.epochs, e->loss,
               100 * e->train_accuracy);
        if (e->test_accuracy >= 0) printf(", test accuracy %.2f%%", 100 * e->test_accuracy);
        printf(" (%.1f s, %.1f s training)\n", e->seconds, e->train_seconds);
        fflush(stdout);
    }
    json_array_append_new(r->epochs, json_pack("{s:i, s:f, s:f, s:o, s:f, s:f}", "epoch", e->epoch, "loss", e->loss,
                                               "train_accuracy", e->train_accuracy, "test_accuracy",
                                               e->test_accuracy >= 0 ? json_real(e->test_accuracy) : json_null(),
                                               "seconds", e->seconds, "train_seconds", e->train_seconds));
    if (r->a->log && r->log_status == CNV_OK) r->log_status = write_log(r, r->a->log);
}

static json_t *new_log(const train_args *a, const cnv_backend *be, const cnv_dataset *train, const cnv_dataset *test,
                       const cnv_graph *g) {
    size_t params = cnv_model_param_count(g);
    json_t *log = json_object();
    if (!log) return NULL;
    json_object_set_new(log, "command", json_string(a->command));
    json_object_set_new(log, a->arch ? "arch" : "model", json_string(a->arch ? a->arch : a->model));
    json_object_set_new(log, "parameters", json_integer((json_int_t)params));
    json_object_set_new(log, "data", json_string(a->data));
    json_object_set_new(log, "train_images", json_integer(train->n));
    json_object_set_new(log, "test_images", json_integer(test->n));
    json_object_set_new(log, "input_scaling", json_string("pixels / 255 (0..1), no mean or std"));
    json_object_set_new(log, "device", json_string(cnv_backend_device(be)));
    json_object_set_new(log, "backend", json_string(cnv_backend_name(be)));
    json_object_set_new(log, "options",
                        json_pack("{s:i, s:i, s:s, s:f, s:f, s:f, s:I}", "epochs", a->opt.epochs, "batch",
                                  a->opt.batch, "optimizer", a->opt.optimizer == CNV_OPTIM_ADAM ? "adam" : "sgd", "lr",
                                  (double)a->opt.lr, "momentum", (double)a->opt.momentum, "weight_decay",
                                  (double)a->opt.weight_decay, "seed", (json_int_t)a->opt.seed));
    json_object_set_new(log, "epochs", json_array());
    return log;
}

/* ---- the two modes ---- */

static int load_data(const cli_ctx *ctx, const train_args *a, const cnv_graph *g, cnv_dataset *train,
                     cnv_dataset *test) {
    int in[CNV_MAX_RANK];
    if (cnv_model_input_shape(g, in) != 4 || in[0] != 1)
        return cli_error(ctx, CLI_EXIT_USAGE, "the model's input is not one NCHW image");
    cnv_status s = CNV_OK;
    if (train) s = cnv_dataset_load(a->data, CNV_SPLIT_TRAIN, in[1], in[2], in[3], a->limit, train);
    if (s == CNV_OK) s = cnv_dataset_load(a->data, CNV_SPLIT_TEST, in[1], in[2], in[3], a->limit, test);
    return s == CNV_OK ? 0 : cli_status_error(ctx, s);
}

static int run_evaluate(const cli_ctx *ctx, const train_args *a, cnv_graph *g, cnv_backend *be) {
    cnv_dataset test;
    int code = load_data(ctx, a, g, NULL, &test);
    if (code) return code;
    double acc = 0;
    cnv_status s = cnv_evaluate(g, be, &test, a->opt.batch, &acc);
    if (s != CNV_OK) code = cli_status_error(ctx, s);
    else if (a->json)
        code = cli_print_json(ctx, json_pack("{s:s, s:s, s:i, s:f, s:s}", "model", a->model, "data", a->data, "images",
                                             test.n, "accuracy", acc, "device", cnv_backend_device(be)));
    else
        printf("test accuracy: %.2f%% (%d images, %s)\n", 100 * acc, test.n, cnv_backend_device(be));
    cnv_dataset_free(&test);
    return code;
}

static int rename_input(const cli_ctx *ctx, cnv_graph *g, const char *name) {
    cnv_status s = cnv_model_rename_input(g, name);
    if (s == CNV_ERR_ARG) return cli_error(ctx, CLI_EXIT_USAGE, "--input-name: %s", cnv_last_error());
    return s == CNV_OK ? 0 : cli_status_error(ctx, s);
}

static int run_train(const cli_ctx *ctx, train_args *a, cnv_graph *g, cnv_backend *be) {
    cnv_dataset train, test;
    int code = load_data(ctx, a, g, &train, &test);
    if (code) return code;
    run_state r = {.ctx = ctx, .a = a, .tty = isatty(2), .last_permille = -1, .n_train = train.n, .n_test = test.n,
                   .be = be};
    r.log = new_log(a, be, &train, &test, g);
    r.epochs = r.log ? json_object_get(r.log, "epochs") : NULL;
    if (!r.epochs) code = cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    a->opt.on_batch = on_batch;
    a->opt.on_epoch = on_epoch;
    a->opt.user = &r;
    cnv_status s = code ? CNV_OK : cnv_train(g, be, &train, &test, &a->opt);
    if (!code && s != CNV_OK) code = cli_status_error(ctx, s);
    if (!code && r.log_status != CNV_OK)
        code = cli_error(ctx, cnv_status_is_input_error(r.log_status) ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME, "%s",
                         r.log_error);
    if (!code && a->input_name) code = rename_input(ctx, g, a->input_name);
    if (!code && (s = cnv_onnx_save(g, a->output)) != CNV_OK) code = cli_status_error(ctx, s);
    if (!code) {
        if (a->json) code = cli_print_json(ctx, json_incref(r.log));
        else printf("wrote %s\n", a->output);
    }
    json_decref(r.log);
    cnv_dataset_free(&train);
    cnv_dataset_free(&test);
    return code;
}

int cmd_train(int argc, char **argv) {
    cli_ctx ctx = {.verb = &train_verb};
    train_args a = {.device = "auto", .opt = {.epochs = 5, .batch = 64, .optimizer = CNV_OPTIM_ADAM, .momentum = 0.9f,
                                             .seed = 1}};
    int code = parse_args(&ctx, &a, argc, argv);
    if (code >= 0) {
        free(a.command);
        return code;
    }
    cnv_graph *g = NULL;
    cnv_backend *be = NULL;
    cnv_status s = a.model ? cnv_model_load(a.model, &g) : cnv_arch_build(a.arch, a.opt.seed, &g);
    if (s == CNV_OK) s = cnv_backend_open(a.device, NULL, &be);
    if (s != CNV_OK) code = cli_status_error(&ctx, s);
    else code = a.evaluate ? run_evaluate(&ctx, &a, g, be) : run_train(&ctx, &a, g, be);
    if (be) cnv_backend_free(be);
    cnv_model_free(g);
    free(a.command);
    return code;
}
