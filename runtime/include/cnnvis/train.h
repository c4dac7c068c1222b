/* cnnvis — public C API: training a classifier and measuring it. Labelled image sets (IDX files
 * or folders of pictures) held in memory, minibatch softmax cross-entropy training on a backend
 * with a callback per batch and per epoch, and the accuracy of a model on a data set. What
 * `cnnvis train` runs; save the trained model with cnv_onnx_save (cnnvis/convert.h). */
#ifndef CNNVIS_TRAIN_H
#define CNNVIS_TRAIN_H

#include "cnnvis/cnnvis.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- data sets ---- */

/* A data set is a folder in one of two layouts:
 * - IDX (MNIST, Fashion-MNIST): train-images-idx3-ubyte and train-labels-idx1-ubyte for
 *   training, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte for testing, each maybe .gz.
 * - Images (PNG, JPEG, BMP) in one subfolder per class; class names are the subfolder names,
 *   sorted (byte order), numbered from 0. With subfolders train/ and test/ (each holding the
 *   same class subfolders) those are the splits; otherwise every 10th image of each class, in
 *   file-name order, is held out as the test split. Images are converted to the model's
 *   channels (gray or RGB) and resized (bilinear) to its input size.
 * Pixels become floats pixel / 255 (0..1: no mean, no std), which is what training feeds the
 * model. */
typedef enum cnv_split { CNV_SPLIT_TRAIN, CNV_SPLIT_TEST } cnv_split;

/* One split in memory. A plain value: cnv_dataset_load fills it, its arrays are malloc'ed by
 * the library and released by cnv_dataset_free (the caller's to call). */
typedef struct cnv_dataset {
    int n;              /* number of images */
    int c, h, w;        /* each image: c x h x w floats, NCHW */
    float *images;      /* n * c * h * w values in 0..1 */
    int *labels;        /* n class indices */
    int n_classes;      /* 1 + the largest label (IDX) or the number of class folders */
    char **class_names; /* n_classes names for image folders; NULL for IDX */
} cnv_dataset;

/* Loads one split of the data set in `dir` for a model taking c x h x w inputs, keeping at most
 * `limit` images (limit <= 0: all; IDX: the first ones; folders: taken from each class in turn,
 * so a small limit still covers every class). Errors name the folder or file: CNV_ERR_IO (no
 * such folder, unreadable file), CNV_ERR_FORMAT (neither layout, malformed file, empty split),
 * CNV_ERR_SHAPE (IDX images of another size than the model's input). */
CNV_API cnv_status cnv_dataset_load(const char *dir, cnv_split split, int c, int h, int w, int limit,
                                    cnv_dataset *out);
/* Frees the arrays and zeroes the struct (a zeroed struct is accepted). */
CNV_API void cnv_dataset_free(cnv_dataset *d);
/* Size of one image in floats. */
CNV_API size_t cnv_dataset_image_numel(const cnv_dataset *d);

/* ---- training ---- */

/* Minibatch softmax cross-entropy on the logits, reshuffled (seeded) every epoch, weight
 * gradients from the backend's backward pass, the update by the backend's optimizer step over
 * every weight. Per batch the logits are read back, the loss and its gradient
 * (softmax - onehot) / B are computed on the host in double, and that gradient seeds the
 * backward pass. The last incomplete batch of each epoch is dropped (the shuffle leaves other
 * images out every epoch). */

typedef struct cnv_epoch_result {
    int epoch;             /* 1-based */
    double loss;           /* mean cross-entropy over the epoch's training batches */
    double train_accuracy; /* fraction of those images the net got right, each before its batch's step */
    double test_accuracy;  /* on the test set after the epoch; negative when there is none */
    double train_seconds;  /* wall time of the epoch's training steps */
    double seconds;        /* wall time of the epoch, evaluation included */
} cnv_epoch_result;

typedef struct cnv_train_options {
    int epochs, batch;          /* both >= 1 */
    cnv_optim_kind optimizer;
    float lr;           /* step size, > 0 (the step descends) */
    float momentum;     /* SGD momentum, below 1 (Adam uses beta1 0.9, beta2 0.999, eps 1e-8, as PyTorch) */
    float weight_decay; /* L2, on every weight and bias (as PyTorch's weight_decay) */
    uint64_t seed;      /* of the shuffling */
    /* Optional callbacks: after every batch (the running mean loss of the epoch), after every
     * epoch (r is valid during the call). */
    void (*on_batch)(void *user, int epoch, int batch, int n_batches, double mean_loss);
    void (*on_epoch)(void *user, const cnv_epoch_result *r);
    void *user;
} cnv_train_options;

/* Trains g in place: on success its weights are the trained ones (write them with
 * cnv_onnx_save). The logits are the model's output (or the input of a final Softmax); the
 * output must have at least as many classes as the data's labels, and the input must be the
 * data's image size (else CNV_ERR_SHAPE or CNV_ERR_ARG saying which). `test` may be NULL. */
CNV_API cnv_status cnv_train(cnv_graph *g, cnv_backend *be, const cnv_dataset *train, const cnv_dataset *test,
                             const cnv_train_options *opt);

/* Fraction of d's images whose largest logit is their label, run `batch` images at a time,
 * into *accuracy (0..1). */
CNV_API cnv_status cnv_evaluate(cnv_graph *g, cnv_backend *be, const cnv_dataset *d, int batch, double *accuracy);

#ifdef __cplusplus
}
#endif
#endif
