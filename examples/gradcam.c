/* gradcam MODEL IMAGE OUT.png: the Grad-CAM map of the image's top class at the default layer,
 * min-max normalized and enlarged to the input's size as a grey PNG, through libcnnvis's public
 * API. Prints the class and the map's size. Build: cc gradcam.c $(pkg-config --cflags --libs cnnvis) */
#include <cnnvis/cnnvis.h>
#include <cnnvis/visualize.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: gradcam MODEL IMAGE OUT.png\n");
        return 2;
    }
    cnv_graph *model = NULL;
    cnv_backend *be = NULL;
    float *input = NULL, *cam = NULL, *picture = NULL, prob;
    int in[CNV_MAX_RANK], map[CNV_MAX_RANK], cls, layer = -1;
    cnv_status s = cnv_model_load(argv[1], &model);
    if (s == CNV_OK && (cnv_model_input_shape(model, in) != 4 || (layer = cnv_gradcam_default_layer(model)) < 0 ||
                        cnv_model_layer_shape(model, layer, map) != 4)) {
        fprintf(stderr, "gradcam: %s is not an image model with a map layer before its logits\n", argv[1]);
        cnv_model_free(model);
        return 2;
    }
    int h = s == CNV_OK ? in[2] : 0, w = s == CNV_OK ? in[3] : 0;
    if (s == CNV_OK) {
        input = malloc(sizeof *input * (size_t)in[1] * h * w);
        cam = malloc(sizeof *cam * (size_t)map[2] * map[3]);
        picture = malloc(sizeof *picture * (size_t)h * w);
        if (!input || !cam || !picture) s = CNV_ERR_NOMEM;
    }
    if (s == CNV_OK) s = cnv_model_load_input(model, argv[2], input);
    if (s == CNV_OK) s = cnv_backend_open(NULL, NULL, &be);
    if (s == CNV_OK) s = cnv_classify(model, be, input, 1, &cls, &prob);
    if (s == CNV_OK) s = cnv_gradcam_map(model, be, input, cls, layer, cam);
    if (s == CNV_OK) {
        /* Nearest-neighbour enlargement of the min-max normalized map. */
        float lo = cam[0], hi = cam[0];
        for (int i = 1; i < map[2] * map[3]; i++) {
            lo = cam[i] < lo ? cam[i] : lo;
            hi = cam[i] > hi ? cam[i] : hi;
        }
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                float v = cam[(y * map[2] / h) * map[3] + x * map[3] / w];
                picture[y * w + x] = hi > lo ? (v - lo) / (hi - lo) : 0.0f;
            }
        s = cnv_save_png(argv[3], picture, 1, h, w);
    }
    if (s == CNV_OK)
        printf("class %d (p %.4f), layer %s, map %dx%d\n", cls, prob, cnv_model_layer_name(model, layer), map[3],
               map[2]);
    else
        fprintf(stderr, "gradcam: %s (%s)\n", cnv_last_error(), cnv_status_str(s));
    free(input);
    free(cam);
    free(picture);
    cnv_backend_free(be);
    cnv_model_free(model);
    return s == CNV_OK ? 0 : cnv_status_is_input_error(s) ? 2 : 1;
}
