/* The op check of every backend (the ggml test-backend-ops model): random inputs, forward
 * against the float64 oracle, backward to the data inputs and backward to the weights against
 * central finite differences of the oracle in float64 (of sum(g * oracle(x)) plus the op's
 * scalar term, tu_oracle_loss_term: Regularize's -penalty). */
#ifndef CNV_TEST_OPCHECK_H
#define CNV_TEST_OPCHECK_H

#include "core/backend.h"

typedef struct tu_opcase {
    const char *label;
    cnv_op_type op;
    cnv_attrs attrs;
    int n_in;
    cnv_shape in_shape[CNV_MAX_INPUTS];
    /* Inputs come in this order: data, then n_weights weights, then n_const constants. */
    int n_weights; /* weights: their gradient is checked on its own */
    int n_const;   /* constants (Resample's T): never differentiated, their grad slot stays NULL */
    const float *const_data[CNV_MAX_INPUTS]; /* values of constant input i (required for each) */
    float lo, hi;  /* range of random inputs (default [-1, 1) when both 0) */
    /* Weights handed over as a graph's are (buf_wrap, read in place where the backend can),
     * not written: the CPU backend then keeps derived forms of them (conv's Winograd weights). */
    int wrap_weights;
} tu_opcase;

typedef struct tu_opcheck_result {
    double fwd_err;     /* ‖backend − oracle‖ / ‖oracle‖ */
    double bwd_data_err;    /* backward to the data inputs vs finite differences */
    double bwd_weights_err; /* backward to the weights vs finite differences (0 without weights) */
} tu_opcheck_result;

/* Runs the case on `be` and fills res; asserts (cmocka) each error is below tol. */
void tu_opcheck(const tu_opcase *c, cnv_backend *be, uint64_t seed, double tol, tu_opcheck_result *res);

/* Checks each case in turn (case i with seed + i) and prints a table under title, one row per
 * case: the forward and data-backward errors, and the weights-backward error when any case has
 * weights. */
void tu_opcheck_table(cnv_backend *be, const char *title, const tu_opcase *cases, size_t n, uint64_t seed,
                      double tol);

#endif
