/* What every verb shares: options (parsed from one table that also prints --help), loading
 * the model with its preset, labels and backend, running an input, and reporting errors as
 * one line "cnnvis <verb>: <message>" with the exit status of the CLI contract. */
#ifndef CNV_CLI_COMMON_H
#define CNV_CLI_COMMON_H

#include <stdio.h>

#include <jansson.h>

#include "cnnvis/cnnvis.h"
#include "cnnvis/files.h"
#include "cnnvis/model.h"
#include "cnnvis/picture.h"

enum { CLI_EXIT_OK = 0, CLI_EXIT_RUNTIME = 1, CLI_EXIT_USAGE = 2 };

/* What an option's value is, when it names something the verb writes. Every verb names its
 * outputs alike (-o/--output, --save-tensor, --gif, --log: files; --frames: a folder), so
 * cli_parse checks them by name before anything runs (cli_check_output). */
enum { CLI_OUT_NONE = 0, CLI_OUT_FILE, CLI_OUT_DIR };

/* A verb's own option. `id` is passed back to the verb's handler; use values >= CLI_VERB_ID. */
typedef struct cli_option {
    const char *name;    /* long name, without "--" */
    const char *arg;     /* argument name for --help, or NULL for a flag */
    const char *help;
    const char *def;     /* default shown in --help, or NULL */
    int id;
} cli_option;
enum { CLI_VERB_ID = 1000 };

/* How a verb is called: its own options, and how many IMAGE|NPY inputs it takes. */
typedef struct cli_verb {
    const char *name;
    const char *synopsis; /* after "cnnvis <verb> " */
    const char *summary;
    const cli_option *options;
    int n_options;
    int min_inputs, max_inputs; /* max_inputs -1: any number */
    /* Called for each of the verb's options; returns 0 or an exit status (after an error). */
    int (*on_option)(void *state, int id, const char *arg);
    /* The verb's record names the model by its SHA-256: cli_load takes it while reading the file. */
    int records_model;
} cli_verb;

typedef struct cli_ctx {
    const cli_verb *verb;
    /* common options */
    const char *model_path;
    const char *arch; /* architecture of a weights-only Keras file (--arch), or NULL */
    const char *preset_name;
    const char *labels_path;
    const char *device;
    int profile;
    int json;
    const char **inputs;
    int n_inputs;
    int size; /* square input side a verb asks for (--size; 0: the model's, or the first .npy's) */
    /* loaded by cli_load */
    cnv_graph *g;
    const cnv_preset *preset;
    const char *preset_origin; /* "--preset", "no preset matched" or preset_why */
    char preset_why[320];      /* "detected: <what was recognized>" */
    cnv_labels labels;
    char labels_origin[4096];
    cnv_backend *be;
} cli_ctx;

/* Parses argv (argv[0] is the verb). Returns -1 to go on, or the exit status to return now
 * (0 after --help, 2 after a usage error, already reported). */
int cli_parse(cli_ctx *ctx, const cli_verb *verb, int argc, char **argv, void *state);
/* Loads the model, preset, labels and (when want_backend) the backend. 0 or an exit status. The
 * model is loaded at ctx->size when set, else at the size of a 4-D .npy input: a model whose
 * input size is free (ONNX symbolic height and width, a VGG trunk without its classifier) runs
 * at it, a fixed one refuses it in one line naming the size it expects (exit 2). */
int cli_load(cli_ctx *ctx, int want_backend);
void cli_free(cli_ctx *ctx);

/* Prints "cnnvis <verb>: <message>" on stderr; returns `code`. */
int cli_error(const cli_ctx *ctx, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Whether `path` can be written as the output of option `option` (a file: not a folder, in a
 * folder that exists and is writable; a folder: a writable folder, or one that can be created
 * in an existing one). 0, or exit 2 after one line naming the option and the path. */
int cli_check_output(const cli_ctx *ctx, const char *option, int kind, const char *path);
/* The same check for verbs that parse their own options: 0, or 1 with the problem in msg. */
int cli_output_problem(int kind, const char *path, char *msg, size_t size);
/* Reports cnv_last_error(); returns 2 for input errors, 1 for runtime failures. */
int cli_status_error(const cli_ctx *ctx, cnv_status s);

/* Parses a whole number >= min for option `name`. 0 or an exit status. */
int cli_parse_int(const cli_ctx *ctx, const char *name, const char *arg, int min, int *out);

/* A colormap by name (--cmap: magma, viridis, gray). 0 or an exit status. */
int cli_parse_colormap(const cli_ctx *ctx, const char *arg, cnv_colormap *out);

/* A layer by node name, output-tensor name or index. 0 or an exit status. */
int cli_find_layer(const cli_ctx *ctx, const char *spec, int *node);
/* The node whose output holds the logits: the preset's logits layer, else the graph output,
 * or the input of the graph's final Softmax. */
int cli_logits_layer(const cli_ctx *ctx, int *node);
/* A class by index or label name, checked against n_classes. 0 or an exit status. */
int cli_find_class(const cli_ctx *ctx, const char *spec, int n_classes, int *cls);

/* The model's input shape and a layer's output shape, at batch 1. */
cnv_shape cli_input_shape(const cli_ctx *ctx);
cnv_shape cli_layer_shape(const cli_ctx *ctx, int node);

/* Creates the executor (batch 1). 0 or an exit status. */
int cli_exec_create(const cli_ctx *ctx, cnv_exec **ex);
/* Preprocesses `path` and sets it as the executor's input. 0 or an exit status. */
int cli_set_input(const cli_ctx *ctx, cnv_exec *ex, const char *path);
/* Every item of an input file, preprocessed: a .npy of n items of the input shape past its first
 * axis, or an image (n = 1); *data (malloc'ed) holds n x the input shape. 0 or an exit status. */
int cli_load_items(const cli_ctx *ctx, const char *path, float **data, int *n);
/* Sets item `item` of data (from cli_load_items) as a batch-1 executor's input. 0 or an exit status. */
int cli_set_item(const cli_ctx *ctx, cnv_exec *ex, const float *data, int item);
/* The picture of item `item` of data (from cli_load_items of path), as a person should see it:
 * an image file as loaded, a .npy item preprocessed back (cnv_image_from_input). 0 or an exit status. */
int cli_item_picture(const cli_ctx *ctx, const char *path, const float *data, int item, cnv_image *out);
/* The file an output of item `item` of n goes to: path itself when n is 1, else "_item<i>" before
 * the extension (out.png -> out_item3.png). */
void cli_item_path(const char *path, int item, int n, char *buf, size_t size);
/* CNV_ERR_NUMERIC (set, naming the layer) when a layer's output holds a NaN or an infinity. */
cnv_status cli_check_finite(const cli_ctx *ctx, int node, const float *data, size_t n);
/* Reads a node's output into a malloc'ed buffer (*shape gets its shape). 0 or an exit status. */
int cli_read_output(const cli_ctx *ctx, cnv_exec *ex, int node, float **data, cnv_shape *shape);
/* A file name derived from an output path: `insert` goes before the extension, which becomes
 * `ext` unless ext is NULL. ("out.png", "_crop", NULL) -> "out_crop.png";
 * ("out.png", "", ".json") -> "out.json". A dot inside a folder name is not an extension. */
void cli_derived_path(const char *path, const char *insert, const char *ext, char *buf, size_t size);

/* Writes a tensor as .npy (atomically). 0 or an exit status. */
int cli_save_tensor(const cli_ctx *ctx, const char *path, const float *data, const cnv_shape *shape);

/* Indices of the k largest values, largest first (k <= n). */
void cli_top_k(const float *v, int n, int k, int *idx);
/* Number of classes if the shape is a class vector (one axis > 1 after the batch), else 0. */
int cli_class_count(const cnv_shape *s);
/* The classes of logits layer `node` (cnv_class_score_count of its shape s): 0 or a usage error
 * naming the layer and its shape when it is neither a class vector nor a map of classes. */
int cli_class_scores_count(const cli_ctx *ctx, int node, const cnv_shape *s, int *n_classes);
/* After a forward to logits layer `node`: every class's score (cnv_class_scores: its logit, or a
 * map's channel mean) into *scores (malloc'ed, *n_classes of them). 0 or an exit status. */
int cli_read_class_scores(const cli_ctx *ctx, cnv_exec *ex, int node, float **scores, int *n_classes);
/* How a class score of a logits layer of shape s reads: "logit", or "mean logit" of a map. */
const char *cli_class_score_kind(const cnv_shape *s);

/* JSON helpers (jansson): a shape as an array; a number (null when not finite, which JSON
 * cannot hold); printing a value to stdout (takes the reference). */
json_t *cli_json_shape(const cnv_shape *s);
json_t *cli_json_number(double v);
int cli_print_json(const cli_ctx *ctx, json_t *root);

#endif
