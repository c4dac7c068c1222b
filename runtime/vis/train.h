/* Supervised training of a classifier graph on a backend: minibatch softmax cross-entropy on
 * the logits, reshuffled (seeded) every epoch, weight gradients from the backend's backward
 * pass, the update by the backend's optimizer step (core/optim.h) over every weight buffer.
 *
 * Per batch there is one round trip: the logits are read back, the loss and its gradient
 * (softmax - onehot) / B are computed on the host in double, and that gradient seeds the
 * backward pass. The last incomplete batch of each epoch is dropped (the executor has one fixed
 * batch size; the shuffle picks other left-out images every epoch). */
#ifndef CNV_VIS_TRAIN_H
#define CNV_VIS_TRAIN_H

#include <stdint.h>

#include "core/backend.h"
#include "io/dataset.h"

typedef struct cnv_epoch_result {
    int epoch;             /* 1-based */
    double loss;           /* mean cross-entropy over the epoch's training batches */
    double train_accuracy; /* fraction of those images the net got right, each before its batch's step */
    double test_accuracy;  /* on the test set after the epoch; negative when there is none */
    double train_seconds;  /* wall time of the epoch's training steps */
    double seconds;        /* wall time of the epoch, evaluation included */
} cnv_epoch_result;

typedef struct cnv_train_options {
    int epochs, batch;
    cnv_optim_kind optimizer;
    float lr;           /* step size, > 0 (the step descends) */
    float momentum;     /* SGD momentum (Adam uses beta1 0.9, beta2 0.999, eps 1e-8, as PyTorch) */
    float weight_decay; /* L2, on every weight and bias (as PyTorch's weight_decay) */
    uint64_t seed;      /* of the shuffling */
    /* Optional callbacks: after every batch (the running mean loss of the epoch), after every
     * epoch. */
    void (*on_batch)(void *user, int epoch, int batch, int n_batches, double mean_loss);
    void (*on_epoch)(void *user, const cnv_epoch_result *r);
    void *user;
} cnv_train_options;

/* Trains g in place: on success its initializers hold the trained weights. The logits are the
 * graph output (or the input of a final Softmax); the output must have at least as many classes
 * as the data's labels, and the input must be the data's image size. `test` may be NULL. */
cnv_status cnv_train(cnv_graph *g, cnv_backend *be, const cnv_dataset *train, const cnv_dataset *test,
                     const cnv_train_options *opt);

/* Fraction of d's images whose largest logit is their label, run `batch` images at a time. */
cnv_status cnv_evaluate(cnv_graph *g, cnv_backend *be, const cnv_dataset *d, int batch, double *accuracy);

#endif
