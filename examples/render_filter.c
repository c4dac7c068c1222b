/* render_filter MODEL OUT.png [STEPS]: a filter visualization of the model's first conv layer,
 * channel 0, through libcnnvis's public API, written as a PNG (lucid recipe, seed 1, on the
 * best device). Build: cc render_filter.c $(pkg-config --cflags --libs cnnvis) */
#include <cnnvis/cnnvis.h>
#include <cnnvis/visualize.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void progress(void *user, int step, int steps, double objective) {
    if (step == steps) fprintf(stderr, "%s: %d steps, objective %.4g\n", (const char *)user, steps, objective);
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: render_filter MODEL OUT.png [STEPS]\n");
        return 2;
    }
    cnv_graph *model = NULL;
    cnv_backend *be = NULL;
    float *image = NULL;
    cnv_render_params p;
    cnv_render_params_default(&p);
    p.steps = argc == 4 ? atoi(argv[3]) : 0;
    p.progress = progress;
    p.user = argv[0];
    int conv = -1, c, h, w;
    cnv_status s = cnv_model_load(argv[1], &model);
    for (int i = 0; s == CNV_OK && i < cnv_model_layer_count(model) && conv < 0; i++)
        if (strcmp(cnv_model_layer_op(model, i), "Conv") == 0) conv = i;
    if (s == CNV_OK && conv < 0) {
        fprintf(stderr, "render_filter: %s has no Conv layer\n", argv[1]);
        cnv_model_free(model);
        return 2;
    }
    if (s == CNV_OK) s = cnv_backend_open(NULL, NULL, &be);
    if (s == CNV_OK) s = cnv_render_shape(model, &p, &c, &h, &w);
    if (s == CNV_OK && !(image = malloc(sizeof *image * (size_t)c * h * w))) s = CNV_ERR_NOMEM;
    if (s == CNV_OK) s = cnv_render_filter(model, be, conv, 0, &p, image);
    if (s == CNV_OK) s = cnv_save_png(argv[2], image, c, h, w);
    if (s == CNV_OK)
        printf("%s: layer %s channel 0, %dx%d on %s\n", argv[2], cnv_model_layer_name(model, conv), w, h,
               cnv_backend_device(be));
    else
        fprintf(stderr, "render_filter: %s (%s)\n", cnv_last_error(), cnv_status_str(s));
    free(image);
    cnv_backend_free(be);
    cnv_model_free(model);
    return s == CNV_OK ? 0 : cnv_status_is_input_error(s) ? 2 : 1;
}
