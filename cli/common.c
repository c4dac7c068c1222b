#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cnnvis/picture.h"

#define MAX_OPTIONS 72

enum { OPT_MODEL = 1, OPT_ARCH, OPT_PRESET, OPT_LABELS, OPT_INPUT, OPT_DEVICE, OPT_MAX_PIXELS, OPT_PROFILE, OPT_JSON, OPT_HELP };

static const cli_option common_options[] = {
    {"model", "FILE", "the model (.onnx, Keras .h5); or give it as the first argument", NULL, OPT_MODEL},
    {"arch", "NAME",
     "with MODEL, the architecture of a Keras weights-only .h5 (save_weights): vgg16 or vgg19; without MODEL, a "
     "built-in architecture with seeded weights (cnnvis convert --help lists them)",
     "none: the file holds the whole model", OPT_ARCH},
    {"preset", "NAME", "input size, channel order, value range, mean/std, logits, labels", "detected from the model",
     OPT_PRESET},
    {"labels", "FILE", "class names, one per line (\"n01440764 tench, ...\" shows as \"tench\")",
     "the preset's, else class numbers", OPT_LABELS},
    {"input", "FILE", "an image (PNG, JPEG, BMP) or an NCHW float32 .npy; or give it as an argument", NULL,
     OPT_INPUT},
    {"device", "NAME", "cpu, or a Vulkan device by index or name (cnnvis devices)",
     "auto: the best GPU, else cpu", OPT_DEVICE},
    {"max-pixels", "N", "refuse pictures with more pixels than this (read from the header, before decoding)",
     "64000000", OPT_MAX_PIXELS},
    {"profile", NULL, "print the time spent in each kernel on stderr", "off", OPT_PROFILE},
    {"json", NULL, "machine-readable results on stdout", "off", OPT_JSON},
    {"help", NULL, "show this help", NULL, OPT_HELP},
};
static const int n_common = (int)(sizeof common_options / sizeof common_options[0]);

int cli_error(const cli_ctx *ctx, int code, const char *fmt, ...) {
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    fprintf(stderr, "cnnvis %s: %s\n", ctx->verb->name, msg);
    return code;
}

int cli_status_error(const cli_ctx *ctx, cnv_status s) {
    const char *msg = cnv_last_error();
    return cli_error(ctx, cnv_status_is_input_error(s) ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME, "%s",
                     *msg ? msg : cnv_status_str(s));
}

static int takes_inputs(const cli_verb *v) { return v->max_inputs != 0; }

/* Whether a verb offers a common option: --input only to verbs with inputs, and none that the
 * verb defines itself (cnnvis train's --arch names an architecture to build). */
static int offers_common(const cli_verb *v, const cli_option *o) {
    if (o->id == OPT_INPUT && !takes_inputs(v)) return 0;
    for (int i = 0; i < v->n_options; i++)
        if (strcmp(v->options[i].name, o->name) == 0) return 0;
    return 1;
}

static void print_option(const cli_option *o) {
    char left[64];
    const char *short_name = o->id == OPT_HELP ? "-h, " : strcmp(o->name, "output") == 0 ? "-o, " : "";
    snprintf(left, sizeof left, "%s--%s%s%s", short_name, o->name, o->arg ? " " : "",
             o->arg ? o->arg : "");
    printf("  %-22s %s", left, o->help);
    if (o->def) printf(" (default: %s)", o->def);
    putchar('\n');
}

static void print_help(const cli_verb *v) {
    char presets[256];
    cnv_preset_list(presets, sizeof presets);
    printf("usage: cnnvis %s %s\n%s\n\noptions:\n", v->name, v->synopsis, v->summary);
    for (int i = 0; i < v->n_options; i++) print_option(&v->options[i]);
    for (int i = 0; i < n_common; i++)
        if (offers_common(v, &common_options[i])) print_option(&common_options[i]);
    printf("\npresets: %s\n", presets);
}

static int handle_common(cli_ctx *ctx, int id, const char *arg) {
    int n = 0;
    switch (id) {
    case OPT_MODEL: ctx->model_path = arg; break;
    case OPT_ARCH: ctx->arch = arg; break;
    case OPT_PRESET: ctx->preset_name = arg; break;
    case OPT_LABELS: ctx->labels_path = arg; break;
    case OPT_INPUT: ctx->inputs[ctx->n_inputs++] = arg; break;
    case OPT_DEVICE: ctx->device = arg; break;
    case OPT_MAX_PIXELS:
        if (cli_parse_int(ctx, "max-pixels", arg, 1, &n)) return CLI_EXIT_USAGE;
        cnv_image_set_max_pixels((size_t)n);
        break;
    case OPT_PROFILE: ctx->profile = 1; break;
    case OPT_JSON: ctx->json = 1; break;
    }
    return 0;
}

int cli_output_problem(int kind, const char *path, char *msg, size_t size) {
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (kind == CLI_OUT_DIR && exists) {
        if (!S_ISDIR(st.st_mode)) return snprintf(msg, size, "%s: exists and is not a folder", path), 1;
        if (access(path, W_OK | X_OK) != 0) return snprintf(msg, size, "%s: the folder is not writable", path), 1;
        return 0;
    }
    if (kind == CLI_OUT_FILE && exists && S_ISDIR(st.st_mode))
        return snprintf(msg, size, "%s: is a folder, not a file", path), 1;
    /* The file (or the folder to create) goes into its parent folder, which must exist. */
    size_t end = strlen(path);
    while (end > 1 && path[end - 1] == '/') end--; /* "frames/" is the folder "frames" */
    while (end > 0 && path[end - 1] != '/') end--;
    while (end > 1 && path[end - 1] == '/') end--;
    char parent[4096];
    if (end == 0) snprintf(parent, sizeof parent, ".");
    else snprintf(parent, sizeof parent, "%.*s", (int)end, path);
    if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode))
        return snprintf(msg, size, "%s: the folder %s does not exist", path, parent), 1;
    if (access(parent, W_OK | X_OK) != 0) return snprintf(msg, size, "%s: the folder %s is not writable", path, parent), 1;
    return 0;
}

int cli_check_output(const cli_ctx *ctx, const char *option, int kind, const char *path) {
    char msg[4200];
    return cli_output_problem(kind, path, msg, sizeof msg) ? cli_error(ctx, CLI_EXIT_USAGE, "--%s %s", option, msg) : 0;
}

static const cli_option *verb_option(const cli_verb *v, int id) {
    for (int i = 0; i < v->n_options; i++)
        if (v->options[i].id == id) return &v->options[i];
    return NULL;
}

/* CLI_OUT_* of an option, by the names every verb uses for what it writes. */
static int output_kind(const cli_option *o) {
    static const char *const files[] = {"output", "save-tensor", "gif", "log"};
    if (!o || !o->arg) return CLI_OUT_NONE;
    /* An output the verb declares as a folder (atlas -o DIR) may exist: it is resumed into. */
    if (strcmp(o->name, "output") == 0 && strcmp(o->arg, "DIR") == 0) return CLI_OUT_DIR;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (strcmp(o->name, files[i]) == 0) return CLI_OUT_FILE;
    return strcmp(o->name, "frames") == 0 ? CLI_OUT_DIR : CLI_OUT_NONE;
}

/* The id of the verb's own option `name`, or -1 (a verb with an "output" option also takes -o). */
static int verb_option_id(const cli_verb *v, const char *name) {
    for (int i = 0; i < v->n_options; i++)
        if (strcmp(v->options[i].name, name) == 0) return v->options[i].id;
    return -1;
}

static void add_long_option(struct option *table, int *n, const cli_option *o) {
    table[*n].name = o->name;
    table[*n].has_arg = o->arg ? required_argument : no_argument;
    table[*n].flag = NULL;
    table[*n].val = o->id;
    (*n)++;
}

/* Positional arguments: the model first (unless --model was given), then the inputs. */
static int take_positionals(cli_ctx *ctx, int argc, char **argv) {
    const cli_verb *v = ctx->verb;
    for (int i = optind; i < argc; i++) {
        if (!ctx->model_path) {
            ctx->model_path = argv[i];
            continue;
        }
        if (v->max_inputs >= 0 && ctx->n_inputs >= v->max_inputs)
            return cli_error(ctx, CLI_EXIT_USAGE, "unexpected argument '%s' (see --help)", argv[i]);
        ctx->inputs[ctx->n_inputs++] = argv[i];
    }
    if (!ctx->model_path && !(ctx->arch && cnv_arch_describe(ctx->arch)))
        return cli_error(ctx, CLI_EXIT_USAGE, "no MODEL given (usage: cnnvis %s %s)", v->name, v->synopsis);
    if (ctx->n_inputs < v->min_inputs)
        return cli_error(ctx, CLI_EXIT_USAGE, "no IMAGE|NPY given (usage: cnnvis %s %s)", v->name, v->synopsis);
    if (v->max_inputs >= 0 && ctx->n_inputs > v->max_inputs)
        return cli_error(ctx, CLI_EXIT_USAGE, "takes at most %d input%s", v->max_inputs, v->max_inputs == 1 ? "" : "s");
    return 0;
}

int cli_parse(cli_ctx *ctx, const cli_verb *verb, int argc, char **argv, void *state) {
    memset(ctx, 0, sizeof *ctx);
    ctx->verb = verb;
    ctx->device = "auto";
    ctx->inputs = calloc((size_t)argc + 1, sizeof *ctx->inputs);
    if (!ctx->inputs) return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");

    struct option table[MAX_OPTIONS + 1];
    int n = 0;
    for (int i = 0; i < verb->n_options && n < MAX_OPTIONS; i++) add_long_option(table, &n, &verb->options[i]);
    for (int i = 0; i < n_common && n < MAX_OPTIONS; i++)
        if (offers_common(verb, &common_options[i])) add_long_option(table, &n, &common_options[i]);
    memset(&table[n], 0, sizeof table[n]);

    int output_id = verb_option_id(verb, "output");
    opterr = 0; /* errors are reported here, as one line */
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, output_id >= 0 ? ":ho:" : ":h", table, NULL);
        if (c == -1) break;
        int code = 0;
        if (c == 'h' || c == OPT_HELP) {
            print_help(verb);
            return CLI_EXIT_OK;
        } else if (c == '?') {
            code = cli_error(ctx, CLI_EXIT_USAGE, "unknown option '%s' (see --help)", argv[optind - 1]);
        } else if (c == ':') {
            code = cli_error(ctx, CLI_EXIT_USAGE, "option '%s' needs a value", argv[optind - 1]);
        } else if (c >= CLI_VERB_ID || c == 'o') {
            const cli_option *o = verb_option(verb, c == 'o' ? output_id : c);
            code = verb->on_option(state, c == 'o' ? output_id : c, optarg);
            if (!code && output_kind(o)) code = cli_check_output(ctx, o->name, output_kind(o), optarg);
        } else {
            code = handle_common(ctx, c, optarg);
        }
        if (code) return code;
    }
    int code = take_positionals(ctx, argc, argv);
    return code ? code : -1;
}

cnv_shape cli_input_shape(const cli_ctx *ctx) {
    cnv_shape s;
    s.ndim = cnv_model_input_shape(ctx->g, s.d);
    return s;
}

cnv_shape cli_layer_shape(const cli_ctx *ctx, int node) {
    cnv_shape s;
    s.ndim = cnv_model_layer_shape(ctx->g, node, s.d);
    return s;
}

static int choose_preset(cli_ctx *ctx) {
    cnv_shape in = cli_input_shape(ctx);
    if (ctx->preset_name) {
        ctx->preset = cnv_preset_find(ctx->preset_name);
        if (!ctx->preset) {
            char names[256];
            cnv_preset_list(names, sizeof names);
            return cli_error(ctx, CLI_EXIT_USAGE, "unknown preset '%s' (known: %s)", ctx->preset_name, names);
        }
        ctx->preset_origin = "--preset";
        const cnv_preset *p = ctx->preset;
        cnv_shape want = cnv_shape4(1, p->channels, p->height, p->width);
        if (p->channels && !cnv_shape_equal(&in, &want)) {
            char a[64], b[64];
            return cli_error(ctx, CLI_EXIT_USAGE, "preset %s wants input %s but %s takes %s", p->name,
                             cnv_shape_str(&want, a, sizeof a), ctx->model_path, cnv_shape_str(&in, b, sizeof b));
        }
        return 0;
    }
    ctx->preset = cnv_preset_detect_why(ctx->g, ctx->preset_why, sizeof ctx->preset_why);
    ctx->preset_origin = ctx->preset_why;
    if (!ctx->preset) {
        ctx->preset = cnv_preset_find("generic");
        ctx->preset_origin = "no preset matched";
    }
    return 0;
}

static int load_labels(cli_ctx *ctx) {
    cnv_status s;
    if (ctx->labels_path) {
        s = cnv_labels_load(ctx->labels_path, &ctx->labels);
        if (s != CNV_OK) return cli_status_error(ctx, s);
        snprintf(ctx->labels_origin, sizeof ctx->labels_origin, "%s", ctx->labels_path);
        return 0;
    }
    s = cnv_labels_for_preset(ctx->preset, ctx->model_path, &ctx->labels, ctx->labels_origin, sizeof ctx->labels_origin);
    /* Names from a file beside the model are a convenience: say why they are missing and go on
     * with numbers. */
    if (s != CNV_OK && ctx->preset->labels_file) {
        fprintf(stderr, "cnnvis %s: warning: %s; classes are shown as numbers\n", ctx->verb->name, cnv_last_error());
        return 0;
    }
    return s == CNV_OK ? 0 : cli_status_error(ctx, s);
}

/* The weights of a built-in architecture named without a MODEL (as cnnvis convert --arch). */
#define BUILTIN_ARCH_SEED 1

/* The height and width of the first input when it is a 4-D .npy (0 x 0 otherwise): a model
 * exported with a symbolic height and width is loaded at that size. */
static void npy_input_size(const cli_ctx *ctx, int *h, int *w) {
    *h = *w = 0;
    const char *path = ctx->n_inputs > 0 ? ctx->inputs[0] : NULL;
    size_t n = path ? strlen(path) : 0;
    float *data = NULL;
    cnv_shape shape;
    if (n < 4 || strcmp(path + n - 4, ".npy") != 0 || cnv_npy_read(path, &data, &shape) != CNV_OK) return;
    free(data);
    if (shape.ndim == 4) {
        *h = shape.d[2];
        *w = shape.d[3];
    }
}

int cli_load(cli_ctx *ctx, int want_backend) {
    int h = ctx->size, w = ctx->size;
    /* Refused before a model is built at that size. */
    if (ctx->size && (double)ctx->size * ctx->size > (double)cnv_image_max_pixels())
        return cli_error(ctx, CLI_EXIT_USAGE, "--size %d: %dx%d pixels is above the limit of %zu pixels (raise it "
                         "with --max-pixels)", ctx->size, ctx->size, ctx->size, cnv_image_max_pixels());
    if (!ctx->size) npy_input_size(ctx, &h, &w);
    cnv_load_opts opts = {.arch = ctx->arch, .height = h, .width = w, .sha256 = ctx->verb->records_model};
    cnv_status s = !ctx->model_path ? cnv_arch_build(ctx->arch, BUILTIN_ARCH_SEED, &ctx->g)
                                    : cnv_model_load_with(ctx->model_path, &opts, &ctx->g);
    /* A fixed model renders a --size larger than its input as a canvas resampled down to it. */
    if (s == CNV_ERR_SHAPE && ctx->size && ctx->model_path) {
        char why[1024];
        snprintf(why, sizeof why, "%s", cnv_last_error());
        opts.height = opts.width = 0;
        s = cnv_model_load_with(ctx->model_path, &opts, &ctx->g);
        cnv_shape in = s == CNV_OK ? cli_input_shape(ctx) : (cnv_shape){0};
        if (s == CNV_OK && (in.ndim != 4 || in.d[2] > ctx->size || in.d[3] > ctx->size))
            return cli_error(ctx, CLI_EXIT_USAGE, "--size %d: %s", ctx->size, why);
    }
    if (s == CNV_ERR_SHAPE && h > 0)
        return cli_error(ctx, CLI_EXIT_USAGE, "%s: %s", ctx->inputs[0], cnv_last_error());
    if (s != CNV_OK) return cli_status_error(ctx, s);
    if (!ctx->model_path) ctx->model_path = cnv_model_source(ctx->g);
    cnv_shape in = cli_input_shape(ctx);
    if (ctx->size && (in.ndim != 4 || in.d[2] > ctx->size || in.d[3] > ctx->size)) {
        char fixed[64];
        return cli_error(ctx, CLI_EXIT_USAGE, "--size %d: %s: the model's input is fixed at %s", ctx->size,
                         ctx->model_path, cnv_shape_str(&in, fixed, sizeof fixed));
    }
    int code = choose_preset(ctx);
    if (!code) code = load_labels(ctx);
    if (code) return code;
    if (want_backend) {
        cnv_vulkan_options opt = {.profiling = ctx->profile};
        s = cnv_backend_open(ctx->device, &opt, &ctx->be);
        if (s != CNV_OK) return cli_status_error(ctx, s);
    }
    return 0;
}

void cli_free(cli_ctx *ctx) {
    if (ctx->be && ctx->profile) cnv_backend_profile_report(ctx->be, stderr);
    if (ctx->be) cnv_backend_free(ctx->be);
    if (ctx->g) cnv_model_free(ctx->g);
    cnv_labels_free(&ctx->labels);
    free(ctx->inputs);
    ctx->be = NULL;
    ctx->g = NULL;
    ctx->inputs = NULL;
}

int cli_parse_int(const cli_ctx *ctx, const char *name, const char *arg, int min, int *out) {
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (end == arg || *end || errno || v < min || v > INT_MAX)
        return cli_error(ctx, CLI_EXIT_USAGE, "--%s: '%s' is not a whole number >= %d", name, arg, min);
    *out = (int)v;
    return 0;
}

int cli_parse_colormap(const cli_ctx *ctx, const char *arg, cnv_colormap *out) {
    cnv_status s = cnv_colormap_parse(arg, out);
    return s == CNV_OK ? 0 : cli_status_error(ctx, s);
}

int cli_find_layer(const cli_ctx *ctx, const char *spec, int *node) {
    cnv_status s = cnv_model_find_layer(ctx->g, spec, node);
    return s == CNV_OK ? 0 : cli_status_error(ctx, s);
}

int cli_logits_layer(const cli_ctx *ctx, int *node) {
    cnv_status s = cnv_preset_logits_layer(ctx->preset, ctx->g, node);
    if (s == CNV_ERR_NOT_FOUND)
        return cli_error(ctx, CLI_EXIT_USAGE, "%s: no layer '%s', the logits of preset %s (try another --preset)",
                         ctx->model_path, ctx->preset->logits_layer, ctx->preset->name);
    if (s == CNV_ERR_UNSUPPORTED)
        return cli_error(ctx, CLI_EXIT_USAGE, "%s: the graph output is not computed by a layer", ctx->model_path);
    return s == CNV_OK ? 0 : cli_status_error(ctx, s);
}

int cli_find_class(const cli_ctx *ctx, const char *spec, int n_classes, int *cls) {
    char *end;
    errno = 0;
    long v = strtol(spec, &end, 10);
    if (end != spec && *end == '\0' && !errno) {
        if (v < 0 || v >= n_classes)
            return cli_error(ctx, CLI_EXIT_USAGE, "class %s out of range: %s has %d classes (0..%d)", spec,
                             ctx->model_path, n_classes, n_classes - 1);
        *cls = (int)v;
        return 0;
    }
    int found = cnv_labels_find(&ctx->labels, spec);
    if (found < 0)
        return cli_error(ctx, CLI_EXIT_USAGE, "no class named '%s' in the labels%s%s%s", spec,
                         ctx->labels_origin[0] ? " (" : "", ctx->labels_origin, ctx->labels_origin[0] ? ")" : "");
    if (found >= n_classes)
        return cli_error(ctx, CLI_EXIT_USAGE, "class '%s' is number %d, but %s has %d classes", spec, found,
                         ctx->model_path, n_classes);
    *cls = found;
    return 0;
}

int cli_exec_create(const cli_ctx *ctx, cnv_exec **ex) {
    cnv_status s = cnv_exec_create(ctx->g, ctx->be, 1, ex);
    return s == CNV_OK ? 0 : cli_status_error(ctx, s);
}

int cli_set_input(const cli_ctx *ctx, cnv_exec *ex, const char *path) {
    float *data;
    cnv_shape in = cli_input_shape(ctx);
    cnv_status s = cnv_preprocess_file(path, ctx->preset, &in, &data);
    if (s != CNV_OK) return cli_status_error(ctx, s);
    s = cnv_exec_set_input(ex, data);
    free(data);
    return s == CNV_OK ? 0 : cli_status_error(ctx, s);
}

int cli_load_items(const cli_ctx *ctx, const char *path, float **data, int *n) {
    cnv_shape in = cli_input_shape(ctx);
    cnv_status s = cnv_preprocess_batch(path, ctx->preset, &in, data, n);
    return s == CNV_OK ? 0 : cli_status_error(ctx, s);
}

int cli_set_item(const cli_ctx *ctx, cnv_exec *ex, const float *data, int item) {
    cnv_shape in = cli_input_shape(ctx);
    size_t per_item = cnv_shape_numel(&in);
    cnv_status s = cnv_exec_set_input(ex, data + (size_t)item * per_item);
    return s == CNV_OK ? 0 : cli_status_error(ctx, s);
}

int cli_item_picture(const cli_ctx *ctx, const char *path, const float *data, int item, cnv_image *out) {
    cnv_shape in = cli_input_shape(ctx);
    cnv_status s = cnv_is_npy_path(path) ? cnv_image_from_input(data + (size_t)item * cnv_shape_numel(&in), &in, ctx->preset, out)
                                         : cnv_input_picture(path, ctx->preset, &in, out);
    return s == CNV_OK ? 0 : cli_status_error(ctx, s);
}

void cli_item_path(const char *path, int item, int n, char *buf, size_t size) {
    if (n <= 1) {
        snprintf(buf, size, "%s", path);
        return;
    }
    char insert[32];
    snprintf(insert, sizeof insert, "_item%d", item);
    cli_derived_path(path, insert, NULL, buf, size);
}

cnv_status cli_check_finite(const cli_ctx *ctx, int node, const float *data, size_t n) {
    /* Finite weights and inputs can still overflow inside a model: say so rather than print NaN. */
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += !isfinite(data[i]);
    if (!bad) return CNV_OK;
    return cnv_fail(CNV_ERR_NUMERIC, "%s: layer '%s' gave %zu non-finite values of %zu (NaN or infinity: an overflow "
                    "in the model or an extreme input)", ctx->model_path, cnv_model_layer_name(ctx->g, node), bad, n);
}

int cli_read_output(const cli_ctx *ctx, cnv_exec *ex, int node, float **data, cnv_shape *shape) {
    int value = cnv_model_layer_value(ctx->g, node);
    cnv_status s = cnv_exec_shape(ex, value, shape);
    if (s != CNV_OK) return cli_status_error(ctx, s);
    *data = malloc(cnv_shape_numel(shape) * sizeof **data);
    if (!*data) return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    s = cnv_exec_read(ex, value, *data);
    if (s == CNV_OK) s = cli_check_finite(ctx, node, *data, cnv_shape_numel(shape));
    if (s != CNV_OK) {
        free(*data);
        *data = NULL;
        return cli_status_error(ctx, s);
    }
    return 0;
}

void cli_derived_path(const char *path, const char *insert, const char *ext, char *buf, size_t size) {
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/')) dot = path + strlen(path);
    snprintf(buf, size, "%.*s%s%s", (int)(dot - path), path, insert, ext ? ext : dot);
}

int cli_save_tensor(const cli_ctx *ctx, const char *path, const float *data, const cnv_shape *shape) {
    cnv_status s = cnv_npy_write(path, data, shape);
    return s == CNV_OK ? 0 : cli_status_error(ctx, s);
}

void cli_top_k(const float *v, int n, int k, int *idx) { cnv_top_k(v, n, k, idx); }

int cli_class_count(const cnv_shape *s) { return cnv_class_count(s); }

int cli_class_scores_count(const cli_ctx *ctx, int node, const cnv_shape *s, int *n_classes) {
    *n_classes = cnv_class_score_count(s);
    char buf[64];
    if (!*n_classes)
        return cli_error(ctx, CLI_EXIT_USAGE, "the logits layer %s is %s: neither a class vector nor a 1xCxHxW map of "
                         "classes (a segmentation output)",
                         cnv_model_layer_name(ctx->g, node), cnv_shape_str(s, buf, sizeof buf));
    return 0;
}

int cli_read_class_scores(const cli_ctx *ctx, cnv_exec *ex, int node, float **scores, int *n_classes) {
    float *y;
    cnv_shape s;
    *scores = NULL;
    int code = cli_read_output(ctx, ex, node, &y, &s);
    if (!code) code = cli_class_scores_count(ctx, node, &s, n_classes);
    if (!code && !(*scores = malloc(sizeof **scores * (size_t)*n_classes)))
        code = cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    if (!code) cnv_class_scores(y, &s, *scores);
    free(y);
    return code;
}

const char *cli_class_score_kind(const cnv_shape *s) { return cnv_class_count(s) ? "logit" : "mean logit"; }

json_t *cli_json_shape(const cnv_shape *s) {
    json_t *a = json_array();
    for (int i = 0; a && i < s->ndim; i++) json_array_append_new(a, json_integer(s->d[i]));
    return a;
}

json_t *cli_json_number(double v) { return isfinite(v) ? json_real(v) : json_null(); }

int cli_print_json(const cli_ctx *ctx, json_t *root) {
    if (!root) return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory building the JSON result");
    int r = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(8));
    json_decref(root);
    putchar('\n');
    return r == 0 ? 0 : cli_error(ctx, CLI_EXIT_RUNTIME, "cannot write the JSON result");
}
