#include "cnnvis/train.h"
#include "core/backend.h"
#include "core/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/exec.h"
#include "core/rng.h"
#include "core/status.h"

/* Adam's moment decays and epsilon: PyTorch's defaults, so runs compare with it. */
#define ADAM_BETA1 0.9f
#define ADAM_BETA2 0.999f
#define ADAM_EPS 1e-8f
/* A mean batch loss above this is divergence, not learning: chance is ln(classes), 2.3 for 10
 * and 6.9 for 1000, and a diverged run climbs to 1e29. */
#define TRAIN_EXPLODED_LOSS 100.0

/* Everything one training or evaluation run holds: the executor, the optimizer state of each
 * weight on the device, and the host buffers of one batch. */
typedef struct trainer {
    cnv_graph *g;
    cnv_backend *be;
    cnv_exec *ex;
    int batch, n_classes;
    int logits_node, logits_value;
    int n_weights;
    int *weights;           /* value indices of the trained initializers */
    cnv_buf **m, **v;       /* per weight: first moment / velocity, second moment (Adam) */
    cnv_buf *hyper;
    float *x, *logits, *seed; /* one batch: input, logits read back, loss gradient */
} trainer;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The logits: the graph output, or what a final Softmax reads. */
static int find_logits(const cnv_graph *g) {
    int node = g->values[g->output].producer;
    if (node >= 0 && g->nodes[node].op == CNV_OP_SOFTMAX) {
        int before = g->values[g->nodes[node].in[0]].producer;
        if (before >= 0) node = before;
    }
    return node;
}

static cnv_status check_fit(const cnv_graph *g, const cnv_dataset *d, int logits_node, int *n_classes) {
    const cnv_shape *in = &g->values[g->input].shape;
    cnv_shape want = cnv_shape4(1, d->c, d->h, d->w);
    if (!cnv_shape_equal(in, &want)) {
        char a[64], b[64];
        return cnv_fail(CNV_ERR_SHAPE, "%s: the model takes %s but the images are %s", g->source,
                        cnv_shape_str(in, a, sizeof a), cnv_shape_str(&want, b, sizeof b));
    }
    if (logits_node < 0) return cnv_fail(CNV_ERR_SHAPE, "%s: the graph output is not computed by a layer", g->source);
    const cnv_shape *out = &g->values[g->nodes[logits_node].out].shape;
    if (out->ndim != 2 || out->d[0] != 1) {
        char a[64];
        return cnv_fail(CNV_ERR_SHAPE, "%s: the logits (%s) are %s, not a class vector", g->source,
                        g->nodes[logits_node].name, cnv_shape_str(out, a, sizeof a));
    }
    if (out->d[1] < d->n_classes)
        return cnv_fail(CNV_ERR_SHAPE, "%s: %d outputs for %d classes in the data", g->source, out->d[1], d->n_classes);
    *n_classes = out->d[1];
    return CNV_OK;
}

static void trainer_free(trainer *t) {
    for (int i = 0; i < t->n_weights; i++) {
        if (t->m) t->be->vt->buf_free(t->be, t->m[i]);
        if (t->v) t->be->vt->buf_free(t->be, t->v[i]);
    }
    if (t->hyper) t->be->vt->buf_free(t->be, t->hyper);
    cnv_exec_free(t->ex);
    free(t->weights);
    free(t->m);
    free(t->v);
    free(t->x);
    free(t->logits);
    free(t->seed);
    memset(t, 0, sizeof *t);
}

static cnv_status trainer_init(trainer *t, cnv_graph *g, cnv_backend *be, const cnv_dataset *d, int batch) {
    memset(t, 0, sizeof *t);
    t->g = g;
    t->be = be;
    t->batch = batch;
    t->logits_node = find_logits(g);
    CNV_TRY(check_fit(g, d, t->logits_node, &t->n_classes));
    t->logits_value = g->nodes[t->logits_node].out;
    size_t in_numel = (size_t)batch * cnv_dataset_image_numel(d), out_numel = (size_t)batch * t->n_classes;
    t->x = malloc(in_numel * sizeof *t->x);
    t->logits = malloc(out_numel * sizeof *t->logits);
    t->seed = malloc(out_numel * sizeof *t->seed);
    if (!t->x || !t->logits || !t->seed) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    CNV_TRY(cnv_exec_create(g, be, batch, &t->ex));
    cnv_exec_drop_pre_activations(t->ex); /* a step reads its logits alone */
    return CNV_OK;
}

/* The optimizer state: zeroed moments for every initializer the logits depend on. */
static cnv_status trainer_init_optim(trainer *t) {
    const cnv_graph *g = t->g;
    t->weights = malloc((size_t)g->n_values * sizeof *t->weights);
    t->m = calloc((size_t)g->n_values, sizeof *t->m);
    t->v = calloc((size_t)g->n_values, sizeof *t->v);
    if (!t->weights || !t->m || !t->v) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    for (int n = 0; n <= t->logits_node; n++)
        for (int i = 0; i < g->nodes[n].n_in; i++) {
            int v = g->nodes[n].in[i];
            int seen = 0;
            for (int k = 0; k < t->n_weights; k++) seen |= t->weights[k] == v;
            if (g->values[v].init && !seen) t->weights[t->n_weights++] = v;
        }
    const cnv_backend_vtable *vt = t->be->vt;
    for (int i = 0; i < t->n_weights; i++) {
        size_t n = cnv_shape_numel(&t->ex->shapes[t->weights[i]]);
        CNV_TRY(vt->buf_alloc(t->be, n, &t->m[i]));
        CNV_TRY(vt->buf_alloc(t->be, n, &t->v[i]));
        CNV_TRY(vt->buf_fill(t->be, t->m[i], 0.0f, n));
        CNV_TRY(vt->buf_fill(t->be, t->v[i], 0.0f, n));
    }
    return vt->buf_alloc(t->be, CNV_HYPER_COUNT, &t->hyper);
}

/* Copies images order[first .. first+count) into the batch input; the rest of the batch is
 * zeros (a partial evaluation batch). */
static void gather(trainer *t, const cnv_dataset *d, const int *order, int first, int count) {
    size_t numel = cnv_dataset_image_numel(d);
    for (int b = 0; b < count; b++) {
        int i = order ? order[first + b] : first + b;
        memcpy(t->x + (size_t)b * numel, d->images + (size_t)i * numel, numel * sizeof *t->x);
    }
    memset(t->x + (size_t)count * numel, 0, (size_t)(t->batch - count) * numel * sizeof *t->x);
}

static cnv_status forward_logits(trainer *t) {
    CNV_TRY(cnv_exec_set_input(t->ex, t->x));
    CNV_TRY(cnv_exec_forward(t->ex, t->logits_node));
    return cnv_exec_read(t->ex, t->logits_value, t->logits);
}

static int argmax(const float *v, int n) {
    int best = 0;
    for (int k = 1; k < n; k++)
        if (v[k] > v[best]) best = k;
    return best;
}

/* Softmax cross-entropy of the batch's logits: returns the summed loss, counts the right
 * answers, and writes d(mean loss)/d(logits) = (softmax - onehot) / B into t->seed. */
static double softmax_xent(trainer *t, const int *labels, int *correct) {
    const int K = t->n_classes;
    double total = 0;
    for (int b = 0; b < t->batch; b++) {
        const float *z = t->logits + (size_t)b * K;
        float *grad = t->seed + (size_t)b * K;
        double zmax = z[argmax(z, K)], sum = 0;
        for (int k = 0; k < K; k++) sum += exp((double)z[k] - zmax);
        double log_sum = log(sum);
        for (int k = 0; k < K; k++) {
            double p = exp((double)z[k] - zmax - log_sum);
            grad[k] = (float)((p - (k == labels[b])) / t->batch);
        }
        total += log_sum - ((double)z[labels[b]] - zmax);
        *correct += argmax(z, K) == labels[b];
    }
    return total;
}

static cnv_status optim_steps(trainer *t, const cnv_train_options *opt, int step) {
    float h[CNV_HYPER_COUNT];
    float beta1 = opt->optimizer == CNV_OPTIM_ADAM ? ADAM_BETA1 : opt->momentum;
    cnv_optim_hyper(-opt->lr, beta1, ADAM_BETA2, ADAM_EPS, step, h);
    h[CNV_HYPER_WD] = opt->weight_decay;
    CNV_TRY(t->be->vt->buf_write(t->be, t->hyper, 0, h, CNV_HYPER_COUNT));
    for (int i = 0; i < t->n_weights; i++) {
        int w = t->weights[i];
        cnv_optim_io io = {opt->optimizer, t->ex->vals[w], t->ex->grads[w], t->m[i],
                           opt->optimizer == CNV_OPTIM_ADAM ? t->v[i] : NULL, t->hyper,
                           cnv_shape_numel(&t->ex->shapes[w])};
        CNV_TRY(t->be->vt->optim_step(t->be, &io));
    }
    return CNV_OK;
}

static cnv_status evaluate_with(trainer *t, const cnv_dataset *d, double *accuracy) {
    long correct = 0;
    for (int first = 0; first < d->n; first += t->batch) {
        int count = d->n - first < t->batch ? d->n - first : t->batch;
        gather(t, d, NULL, first, count);
        CNV_TRY(forward_logits(t));
        for (int b = 0; b < count; b++)
            correct += argmax(t->logits + (size_t)b * t->n_classes, t->n_classes) == d->labels[first + b];
    }
    *accuracy = d->n ? (double)correct / d->n : 0.0;
    return CNV_OK;
}

static void shuffle(cnv_rng *rng, int *order, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)cnv_rng_below(rng, (uint32_t)i + 1);
        int tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
}

static cnv_status train_epoch(trainer *t, const cnv_dataset *d, const cnv_train_options *opt, int epoch,
                              const int *order, int *step, cnv_epoch_result *r) {
    int n_batches = d->n / t->batch, correct = 0;
    int *labels = malloc((size_t)t->batch * sizeof *labels);
    if (!labels) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    double loss = 0;
    cnv_status s = CNV_OK;
    for (int i = 0; s == CNV_OK && i < n_batches; i++) {
        int first = i * t->batch;
        gather(t, d, order, first, t->batch);
        for (int b = 0; b < t->batch; b++) labels[b] = d->labels[order[first + b]];
        s = forward_logits(t);
        if (s != CNV_OK) break;
        double batch_loss = softmax_xent(t, labels, &correct) / t->batch;
        loss += batch_loss * t->batch;
        /* Stop before a diverged step reaches the weights: a loss that is not finite, or far above
         * any loss of a network that is learning (chance is ln K; TRAIN_EXPLODED_LOSS is 100). */
        if (!isfinite(batch_loss) || batch_loss > TRAIN_EXPLODED_LOSS) {
            s = cnv_fail(CNV_ERR_NUMERIC, "epoch %d batch %d: the loss is %s%.3g: training diverged (try a lower --lr "
                         "than %g)", epoch, i + 1, isfinite(batch_loss) ? "" : "not finite: ", batch_loss, opt->lr);
            break;
        }
        s = cnv_exec_backward(t->ex, t->logits_value, t->seed, CNV_BACKWARD_WEIGHTS | CNV_BACKWARD_SKIP_INPUT);
        if (s == CNV_OK) s = optim_steps(t, opt, ++*step);
        if (opt->on_batch) opt->on_batch(opt->user, epoch, i + 1, n_batches, loss / ((double)(i + 1) * t->batch));
    }
    free(labels);
    r->loss = loss / ((double)n_batches * t->batch);
    r->train_accuracy = (double)correct / ((double)n_batches * t->batch);
    return s == CNV_OK ? t->be->vt->sync(t->be) : s;
}

/* Copies the trained weights from the device into the graph's initializers. */
static cnv_status read_weights(trainer *t) {
    CNV_TRY(t->be->vt->sync(t->be));
    for (int i = 0; i < t->n_weights; i++) {
        int w = t->weights[i];
        CNV_TRY(t->be->vt->buf_read(t->be, t->ex->vals[w], 0, t->g->values[w].init, cnv_shape_numel(&t->ex->shapes[w])));
    }
    return CNV_OK;
}

static cnv_status check_options(const cnv_dataset *train, const cnv_train_options *opt) {
    if (opt->epochs < 1 || opt->batch < 1) return cnv_fail(CNV_ERR_ARG, "epochs and batch size must be at least 1");
    if (!(opt->lr > 0) || !isfinite(opt->lr)) return cnv_fail(CNV_ERR_ARG, "the learning rate must be positive");
    if (!(opt->momentum >= 0 && opt->momentum < 1)) return cnv_fail(CNV_ERR_ARG, "momentum must be in [0, 1)");
    if (!(opt->weight_decay >= 0) || !isfinite(opt->weight_decay))
        return cnv_fail(CNV_ERR_ARG, "weight decay must be zero or positive");
    if (train->n < opt->batch)
        return cnv_fail(CNV_ERR_ARG, "%d training images are fewer than one batch of %d", train->n, opt->batch);
    return CNV_OK;
}

cnv_status cnv_train(cnv_graph *g, cnv_backend *be, const cnv_dataset *train, const cnv_dataset *test,
                     const cnv_train_options *opt) {
    CNV_TRY(check_options(train, opt));
    trainer t;
    int *order = malloc((size_t)train->n * sizeof *order);
    cnv_status s = order ? trainer_init(&t, g, be, train, opt->batch) : cnv_fail(CNV_ERR_NOMEM, "out of memory");
    if (s == CNV_OK && test) s = check_fit(g, test, t.logits_node, &t.n_classes);
    if (s == CNV_OK) s = trainer_init_optim(&t);
    cnv_rng rng;
    cnv_rng_seed(&rng, opt->seed);
    for (int i = 0; order && i < train->n; i++) order[i] = i;
    int step = 0;
    for (int epoch = 1; s == CNV_OK && epoch <= opt->epochs; epoch++) {
        cnv_epoch_result r = {.epoch = epoch, .test_accuracy = -1};
        double start = now_seconds();
        shuffle(&rng, order, train->n);
        s = train_epoch(&t, train, opt, epoch, order, &step, &r);
        r.train_seconds = now_seconds() - start;
        if (s == CNV_OK && test) s = evaluate_with(&t, test, &r.test_accuracy);
        r.seconds = now_seconds() - start;
        if (s == CNV_OK && opt->on_epoch) opt->on_epoch(opt->user, &r);
    }
    if (s == CNV_OK) s = read_weights(&t);
    if (order) trainer_free(&t);
    free(order);
    return s;
}

cnv_status cnv_evaluate(cnv_graph *g, cnv_backend *be, const cnv_dataset *d, int batch, double *accuracy) {
    if (batch < 1) return cnv_fail(CNV_ERR_ARG, "batch size must be at least 1");
    if (d->n < batch) batch = d->n > 0 ? d->n : 1;
    trainer t;
    cnv_status s = trainer_init(&t, g, be, d, batch);
    if (s == CNV_OK) s = evaluate_with(&t, d, accuracy);
    trainer_free(&t);
    return s;
}
