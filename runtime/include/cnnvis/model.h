/* cnnvis — public C API: what a model expects and what its outputs mean. Presets (how a model
 * wants its input: size, channel order, value range, mean/std; where its logits are; what its
 * classes are called), labels, inputs preprocessed for a preset and their pictures back, class
 * vectors, and the facts about a loaded model that a caller of the executor calls (cnnvis.h)
 * needs: value indices, output names, parameter counts, receptive fields.
 *
 * Rules of cnnvis.h. Presets are the library's (a static table: the pointers live forever).
 * cnv_labels is a plain value filled by a call and released by cnv_labels_free. Arrays marked
 * malloc'ed are the caller's, released with free() (or cnv_free). */
#ifndef CNNVIS_MODEL_H
#define CNNVIS_MODEL_H

#include <stddef.h>

#include "cnnvis/cnnvis.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An 8-bit picture, defined in cnnvis/picture.h (declared here too, so that either header may
 * be included first). */
typedef struct cnv_image cnv_image;

/* ---- presets ---- */
typedef enum cnv_channel_order { CNV_ORDER_RGB, CNV_ORDER_BGR, CNV_ORDER_GRAY } cnv_channel_order;

/* How a model wants its input, read-only. A pixel p (0..255) of channel k in the model's order
 * becomes (p * scale - mean[k]) / std[k]. */
typedef struct cnv_preset {
    const char *name;        /* "squeezenet", "fashion-mnist", ..., "generic" */
    const char *description; /* one line for people */
    int channels, height, width; /* the input it wants (0: any; the model's own) */
    cnv_channel_order order;
    float scale;      /* applied to 0..255 pixels first: 1 or 1/255 */
    float mean[3];    /* subtracted after scaling, in the model's channel order */
    float std[3];     /* then divided by */
    const char *logits_layer; /* layer (name) before softmax; NULL: the graph output */
    const char *labels_file;  /* a file name searched beside the model and in its parent folders */
    const char *const *builtin_labels; /* class names used when labels_file is NULL (may be NULL) */
    int n_builtin_labels;
    const char *default_layers; /* comma-separated layers worth visualizing (may be NULL) */
} cnv_preset;

/* The preset called `name`; NULL when there is none (cnv_preset_list names them). */
CNV_API const cnv_preset *cnv_preset_find(const char *name);
/* Recognizes a known model by its input shape and names; NULL when unknown (use "generic"). */
CNV_API const cnv_preset *cnv_preset_detect(const cnv_graph *g);
/* The same, also writing into why (size bytes) what was recognized, "detected: <reason>" (""
 * when nothing matched): what `cnnvis info` prints after the preset's name. */
CNV_API const cnv_preset *cnv_preset_detect_why(const cnv_graph *g, char *why, size_t size);
/* The names of every preset, comma-separated, into buf (size bytes, truncated to fit). */
CNV_API void cnv_preset_list(char *buf, size_t size);
/* The layer holding p's logits in g: the preset's logits layer, else the layer computing the
 * output, or the layer before it when that is a Softmax or a Sigmoid (a segmentation mask's
 * logits are the values before its Sigmoid). CNV_ERR_NOT_FOUND when g has no layer of
 * the preset's logits name, CNV_ERR_UNSUPPORTED when the output is not computed by a layer (each
 * with its message). */
CNV_API cnv_status cnv_preset_logits_layer(const cnv_preset *p, const cnv_graph *g, int *layer);

/* ---- labels: class names ----
 * A labels file has one class per line, in class-index order. A line may start with a WordNet
 * id and list synonyms ("n01440764 tench, Tinca tinca", Caffe's synset_words.txt): it displays
 * as its first name ("tench"); every synonym and the id also find the class. Classes past the
 * end of the list display as their index. */
typedef struct cnv_labels {
    int n;          /* number of named classes (0: none loaded) */
    char **display; /* first name of each class */
    char **line;    /* the whole line (without a trailing newline), for lookups */
} cnv_labels;

/* Reads a labels file into out (freed with cnv_labels_free). CNV_ERR_IO, CNV_ERR_FORMAT. */
CNV_API cnv_status cnv_labels_load(const char *path, cnv_labels *out);
/* Labels from n names (copied), e.g. a preset's builtin_labels. */
CNV_API cnv_status cnv_labels_from_list(const char *const *names, int n, cnv_labels *out);
/* Frees what a load filled and zeroes l (a zeroed cnv_labels is accepted). */
CNV_API void cnv_labels_free(cnv_labels *l);
/* The display name of class `index`, or its decimal index (written into buf, size bytes) when
 * unnamed. The name belongs to l. */
CNV_API const char *cnv_labels_name(const cnv_labels *l, int index, char *buf, size_t size);
/* Class index whose id, display name or any synonym equals `name` (case-insensitive); -1. */
CNV_API int cnv_labels_find(const cnv_labels *l, const char *name);
/* Looks for `file_name` beside the file `near_path`, then in up to `max_up` parent folders.
 * Writes the path found into out (size bytes); CNV_ERR_NOT_FOUND, naming where it looked, when
 * there is none. */
CNV_API cnv_status cnv_labels_locate(const char *near_path, const char *file_name, int max_up, char *out,
                                     size_t size);
/* The class names preset p gives a model loaded from model_path: the preset's labels_file found
 * by cnv_labels_locate beside the model or up to 3 parent folders up, else its builtin_labels,
 * else none (out->n = 0). origin (size bytes; may be NULL) receives where they came from: the
 * file's path, "built into preset <name>", or "" for none and on failure. CNV_ERR_NOT_FOUND
 * when the labels file is nowhere to be found; the errors of cnv_labels_load. */
CNV_API cnv_status cnv_labels_for_preset(const cnv_preset *p, const char *model_path, cnv_labels *out, char *origin,
                                         size_t size);

/* ---- inputs: from a file to the tensor a model takes, and back to a picture ----
 * An image is loaded, resized (plain bilinear, no crop) to the input size, put in the preset's
 * channel order, scaled and normalized; a .npy is taken as already preprocessed and must have
 * exactly the model's input shape (input_shape: 1xCxHxW, cnv_model_input_shape). */

/* *data (malloc'ed) receives cnv_shape_numel(input_shape) floats, NCHW. */
CNV_API cnv_status cnv_preprocess_file(const char *path, const cnv_preset *p, const cnv_shape *input_shape,
                                       float **data);
/* A batch: a .npy of *n items, each the input shape past its first axis, or an image (*n = 1).
 * *data (malloc'ed) receives *n x cnv_shape_numel(input_shape) floats, NCHW. */
CNV_API cnv_status cnv_preprocess_batch(const char *path, const cnv_preset *p, const cnv_shape *input_shape,
                                        float **data, int *n);
/* An 8-bit image whose size and channels already match input_shape (1xCxHxW, C = 1 or 3),
 * converted to the model's values into dst (cnv_shape_numel(input_shape) floats). */
CNV_API void cnv_preprocess_pixels(const cnv_image *img, const cnv_preset *p, float *dst);
/* True when the file is a .npy (by its magic bytes, or by its name when it cannot be read). */
CNV_API int cnv_is_npy_path(const char *path);
/* The 8-bit picture of one preprocessed input (1xCxHxW floats, C = 1 or 3, as the calls above
 * make them for preset p): normalization undone, channel order back to RGB, clamped. out is the
 * caller's (cnv_image_free). */
CNV_API cnv_status cnv_image_from_input(const float *data, const cnv_shape *shape, const cnv_preset *p,
                                        cnv_image *out);
/* The picture of an input file as a person should see it: an image file as loaded (at its own
 * size, with the model's channel count: input_shape is 1xCxHxW), or a .npy tensor preprocessed
 * back by cnv_image_from_input. out is the caller's (cnv_image_free). */
CNV_API cnv_status cnv_input_picture(const char *path, const cnv_preset *p, const cnv_shape *input_shape,
                                     cnv_image *out);

/* ---- class vectors ---- */
/* Number of classes if the shape is a class vector ([N], or [1, N] with any trailing axes of 1),
 * else 0. */
CNV_API int cnv_class_count(const cnv_shape *s);
/* The classes of a logits layer of one item's shape s (batch 1) that the class objective reads
 * (`cnnvis class`, `grad --class`, `saliency`, `gradcam`): cnv_class_count's classes of a class
 * vector, else the C channels of a map 1 x C x H x W (H x W > 1: a segmentation output, one
 * mask per class), a class's score then the mean of its channel over the positions (the mask
 * objective); 0 when s is neither. */
CNV_API int cnv_class_score_count(const cnv_shape *s);
/* The gradient of class cls's score with respect to the layer's output (numel(s) floats): 1 at
 * its logit, or 1 / (H x W) at each position of its channel of a map. */
CNV_API void cnv_class_score_seed(const cnv_shape *s, int cls, float *seed);
/* Every class's score from the layer's output y: cnv_class_score_count(s) floats. */
CNV_API void cnv_class_scores(const float *y, const cnv_shape *s, float *scores);
/* Softmax of x[0..n-1] in place, stable for large logits (shifted by the max). */
CNV_API void cnv_softmax(float *x, int n);
/* The indices of the k largest of v[0..n-1] into idx[k], largest first (ties: the lower index);
 * k <= n. */
CNV_API void cnv_top_k(const float *v, int n, int k, int *idx);

/* ---- a loaded model's values, names, parameters, receptive fields ----
 * The executor calls of cnnvis.h (cnv_exec_set_input, _read, _backward, _read_grad) name
 * tensors by value index: a layer's output value, or the input's. */

/* The input's value index. */
CNV_API int cnv_model_input_value(const cnv_graph *g);
/* The value index of a layer's output; -1 when layer is out of range. */
CNV_API int cnv_model_layer_value(const cnv_graph *g, int layer);
/* The name of the input tensor, and of a layer's output tensor (NULL when out of range); they
 * live as long as g. */
CNV_API const char *cnv_model_input_name(const cnv_graph *g);
CNV_API const char *cnv_model_layer_output_name(const cnv_graph *g, int layer);
/* Bit k set when axis k of the input is symbolic in the file (a dynamic axis: any size loads,
 * see cnv_model_load_sized). */
CNV_API unsigned cnv_model_input_symbolic(const cnv_graph *g);
/* What the model was loaded from, for messages: its path, or "arch:<name>" for a built one. */
CNV_API const char *cnv_model_source(const cnv_graph *g);
/* The SHA-256 of the model's file as 64 hex digits and a NUL: the digest its load took of the
 * bytes the model was built from (cnv_load_opts.sha256), else the file's as it is now.
 * CNV_ERR_IO for a built architecture or a file that cannot be read. */
CNV_API cnv_status cnv_model_sha256(const cnv_graph *g, char hex[65]);
/* The number of parameters (weight elements) of a layer; 0 when out of range. */
CNV_API size_t cnv_model_layer_params(const cnv_graph *g, int layer);
/* The receptive field of every layer's output on the input, in input pixels: size[2 * i] and
 * size[2 * i + 1] the height and width of layer i's, stride[2 * i], stride[2 * i + 1] the step
 * between neighbouring units (both arrays 2 x cnv_model_layer_count, the caller's). Layers past
 * a Flatten or Gemm see the whole input. CNV_ERR_NOMEM. */
CNV_API cnv_status cnv_model_receptive_fields(const cnv_graph *g, int *size, int *stride);
/* The shape of value `value` in an executor (at its batch size); CNV_ERR_ARG when out of range. */
CNV_API cnv_status cnv_exec_shape(const cnv_exec *ex, int value, cnv_shape *out);

#ifdef __cplusplus
}
#endif

#endif
