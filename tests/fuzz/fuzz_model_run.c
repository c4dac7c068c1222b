/* An ONNX model loaded and run on the CPU backend: forward to the output, then backward to the
 * input and every weight. Models whose tensors would exceed a few MB are skipped (their cost,
 * not their shape, would be fuzzed); the loader has already checked the shapes. */
#include "fuzz_file.h"

#include <string.h>

#include "core/checked.h"
#include "core/exec.h"
#include "core/graph.h"
#include "models/onnx.h"

#define MAX_VALUE_FLOATS (1u << 18)

static int small_enough(const cnv_graph *g) {
    for (int i = 0; i < g->n_values; i++) {
        size_t n;
        if (!cnv_shape_numel_checked(&g->values[i].shape, &n) || n > MAX_VALUE_FLOATS) return 0;
    }
    return g->n_nodes <= 64;
}

static void run(cnv_graph *g, cnv_backend *be) {
    cnv_exec *ex = NULL;
    if (cnv_exec_create(g, be, 1, &ex) != CNV_OK) return;
    size_t n_in = cnv_shape_numel(&ex->shapes[g->input]), n_out = cnv_shape_numel(&ex->shapes[g->output]);
    float *x = calloc(n_in ? n_in : 1, sizeof *x), *seed = calloc(n_out ? n_out : 1, sizeof *seed);
    for (size_t i = 0; x && i < n_in; i++) x[i] = (float)((i * 7919u) % 17u) / 17.0f - 0.5f;
    for (size_t i = 0; seed && i < n_out; i++) seed[i] = 1.0f;
    int producer = g->values[g->output].producer;
    if (x && seed && producer >= 0 && cnv_exec_set_input(ex, x) == CNV_OK && cnv_exec_forward(ex, producer) == CNV_OK)
        cnv_exec_backward(ex, g->output, seed, 1);
    free(x);
    free(seed);
    cnv_exec_free(ex);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static cnv_backend *be;
    if (!be && cnv_backend_cpu_create(&be) != CNV_OK) abort();
    cnv_graph *g = NULL;
    if (cnv_onnx_load(fuzz_file(data, size, ".onnx"), &g) != CNV_OK) return 0;
    if (small_enough(g)) run(g, be);
    cnv_model_free(g);
    return 0;
}
