/* classify MODEL IMAGE [K]: the K (default 5) most probable classes of an image, as
 * "rank class probability" lines, through libcnnvis's public API (the model's preset
 * preprocesses the image). Build: cc classify.c $(pkg-config --cflags --libs cnnvis) */
#include <cnnvis/cnnvis.h>
#include <cnnvis/visualize.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: classify MODEL IMAGE [K]\n");
        return 2;
    }
    int k = argc == 4 ? atoi(argv[3]) : 5, dims[CNV_MAX_RANK];
    cnv_graph *model = NULL;
    cnv_backend *be = NULL;
    float *input = NULL, *prob = malloc(sizeof *prob * (size_t)(k > 0 ? k : 1));
    int *cls = malloc(sizeof *cls * (size_t)(k > 0 ? k : 1));
    cnv_status s = prob && cls ? cnv_model_load(argv[1], &model) : CNV_ERR_NOMEM;
    if (s == CNV_OK) {
        size_t n = 1;
        for (int i = 0, rank = cnv_model_input_shape(model, dims); i < rank; i++) n *= (size_t)dims[i];
        if (!(input = malloc(sizeof *input * n))) s = CNV_ERR_NOMEM;
    }
    if (s == CNV_OK) s = cnv_model_load_input(model, argv[2], input);
    if (s == CNV_OK) s = cnv_backend_open(NULL, NULL, &be);
    if (s == CNV_OK) s = cnv_classify(model, be, input, k, cls, prob);
    for (int i = 0; s == CNV_OK && i < k; i++) printf("%d %d %.6f\n", i + 1, cls[i], prob[i]);
    if (s != CNV_OK) fprintf(stderr, "classify: %s (%s)\n", cnv_last_error(), cnv_status_str(s));
    free(input);
    free(prob);
    free(cls);
    cnv_backend_free(be);
    cnv_model_free(model);
    return s == CNV_OK ? 0 : cnv_status_is_input_error(s) ? 2 : 1;
}
