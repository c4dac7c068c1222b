/* cnnvis demo [-o DIR]: the first thing a new user runs. On the bundled Fashion-MNIST model
 * (models/, trained by `cnnvis train`) it renders class images for the ten classes, filter
 * grids of every conv layer, and for a few test images of the data set their activation maps,
 * Grad-CAM and a deconvnet projection, then writes index.html showing them all with captions.
 * Every picture comes from the ordinary verbs, run here in sequence, so the demo is also a
 * worked example of the command line. */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "commands.h"
#include "common.h"
#include "cnnvis/files.h"
#include "cnnvis/model.h"
#include "cnnvis/picture.h"

#define N_SAMPLES 4

typedef struct demo {
    const char *dir, *model, *data, *device, *steps;
    char html[1 << 16];
    size_t used;
    int pictures;
} demo;

static void usage(FILE *f) {
    fprintf(f, "usage: cnnvis demo [-o DIR] [options]\n\n"
               "Renders class images, filter grids, activation maps, Grad-CAM and deconvnet projections of the\n"
               "bundled Fashion-MNIST model, and an index.html showing them.\n\n"
               "options:\n"
               "  -o, --output DIR   where to write                       (default: cnnvis-demo)\n"
               "  --model FILE       the model                            (default: %s)\n"
               "  --data DIR         Fashion-MNIST IDX files for the test images (default: "
               "/usr/share/datasets/fashion-mnist)\n"
               "  --device NAME      cpu, or a Vulkan device               (default: auto: the best GPU, else cpu)\n"
               "  --steps N          optimization steps per image          (default: 256)\n"
               "  -h, --help         this help\n",
               CNNVIS_BUNDLED_MODEL);
}

static void html(demo *d, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(d->html + d->used, sizeof d->html - d->used, fmt, ap);
    va_end(ap);
    if (n > 0 && d->used + (size_t)n < sizeof d->html) d->used += (size_t)n;
}

/* Runs one verb with argv built from a NULL-terminated list; a failure stops the demo. */
static int run(int (*verb)(int, char **), const char *first, ...) {
    char *argv[48];
    int argc = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 47; a = va_arg(ap, const char *)) argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    return verb(argc, argv);
}

static void figure(demo *d, const char *file, const char *caption) {
    html(d, "<figure><img src=\"%s\" alt=\"%s\"><figcaption>%s</figcaption></figure>\n", file, caption, caption);
    d->pictures++;
}

/* The first test image of each wanted class, written as PNG into DIR/inputs. */
static int write_samples(demo *d, char paths[N_SAMPLES][4096], int classes[N_SAMPLES]) {
    static const int wanted[N_SAMPLES] = {0, 1, 7, 8}; /* T-shirt/top, Trouser, Sneaker, Bag */
    char images[4096], labels[4096], dir[4096];
    snprintf(images, sizeof images, "%s/t10k-images-idx3-ubyte.gz", d->data);
    snprintf(labels, sizeof labels, "%s/t10k-labels-idx1-ubyte.gz", d->data);
    snprintf(dir, sizeof dir, "%s/inputs", d->dir);
    cnv_idx im, lb;
    if (cnv_idx_read(images, 3, 200, &im) != CNV_OK || cnv_idx_read(labels, 1, 200, &lb) != CNV_OK) {
        fprintf(stderr, "cnnvis demo: %s (install dataset-fashion-mnist, or give --data)\n", cnv_last_error());
        return 2;
    }
    int code = mkdir(dir, 0777) != 0 && errno != EEXIST ? 2 : 0;
    for (int k = 0; k < N_SAMPLES && !code; k++) {
        int i = 0;
        while (i < lb.dims[0] && lb.data[i] != wanted[k]) i++;
        if (i == lb.dims[0]) {
            code = 2;
            break;
        }
        cnv_image img = {.w = im.dims[2], .h = im.dims[1], .c = 1, .px = im.data + (size_t)i * im.dims[1] * im.dims[2]};
        snprintf(paths[k], 4096, "%.4000s/test_%d.png", dir, i);
        classes[k] = wanted[k];
        if (cnv_image_save_png(paths[k], &img) != CNV_OK) code = 1;
    }
    /* The verbs below read these pictures: they go into place now, not at the demo's end. */
    if (!code && cnv_atomic_publish() != CNV_OK) code = 1;
    if (code) fprintf(stderr, "cnnvis demo: cannot write the test images into %s\n", dir);
    cnv_idx_free(&im);
    cnv_idx_free(&lb);
    return code;
}

static int render_all(demo *d) {
    const char *m = d->model, *dev = d->device, *steps = d->steps;
    const cnv_preset *p = cnv_preset_find("fashion-mnist");
    char out[4096], file[256];
    int code;

    html(d, "<h2>What each class looks like to the network</h2>\n<p>Activation maximization: the image the model "
            "scores highest for each class. Left, within a Gaussian image prior fitted to the training images "
            "(their 64 principal components): the optimization may only move among images the data set makes "
            "likely, so it draws the garment the network expects. Right, without it (Fourier parameterization and "
            "transformation robustness): the outlines and edges the network detects, drawn anywhere.</p>\n");
    /* A 28x28 grey model: pixel- or Fourier-space optimization draws the white edge strokes the
     * network detects (right-hand picture), and no pixel prior tried (Lucid's transforms and
     * spectrum, Yosinski's L2 decay and blur) turned them into garments. The image prior does:
     * image = clip(mean + z * basis, 0, 1) with Adam on z and the Gaussian penalty 0.2/2 |z|^2. */
    snprintf(out, sizeof out, "%s/classes.png", d->dir);
    if ((code = run(cmd_class, "class", m, "--class", "0,1,2,3,4,5,6,7,8,9", "--image-prior", d->data, "--fourier", "off",
                    "--sigmoid", "off", "--pad", "0", "--jitter", "0", "--jitter2", "0", "--rotate", "0", "--scale",
                    "1-1", "--steps", steps, "--device", dev, "-o", out, NULL)))
        return code;
    figure(d, "classes.png", "The ten classes within the image prior: T-shirt/top, Trouser, Pullover, Dress, Coat, "
                             "Sandal, Shirt, Sneaker, Bag, Ankle boot");
    /* Without the prior: Fourier decay 2.5 at the model's size (smooth, filled regions), random
     * scale 0.7-1.3 (areas over thin lines), small shifts and rotations, no grey padding (the
     * background is black), lr 0.005 and light L2 towards black and TV. */
    snprintf(out, sizeof out, "%s/classes_fourier.png", d->dir);
    if ((code = run(cmd_class, "class", m, "--class", "0,1,2,3,4,5,6,7,8,9", "--size", "28", "--pad", "0", "--decay",
                    "2.5", "--scale", "0.7-1.3", "--jitter", "2", "--jitter2", "1", "--rotate", "5", "--lr", "0.005",
                    "--l2", "0.005", "--tv", "0.05", "--penalties-towards", "black", "--steps", steps, "--device",
                    dev, "-o", out, NULL)))
        return code;
    figure(d, "classes_fourier.png", "The same classes without a prior: what the network's detectors respond to");

    html(d, "<h2>What each filter responds to</h2>\n<p>Every channel of both convolution layers, maximized one by "
            "one (batched).</p>\n");
    const char *layers[2] = {"relu1", "relu2"};
    for (int l = 0; l < 2; l++) {
        snprintf(file, sizeof file, "filters_%s.png", layers[l]);
        snprintf(out, sizeof out, "%s/%s", d->dir, file);
        if ((code = run(cmd_filter, "filter", m, "--layer", layers[l], "--channels", "all", "--size", "56", "--pad",
                        "4", "--jitter", "2", "--jitter2", "1", "--rotate", "5", "--batch", "32", "--steps", steps,
                        "--device", dev, "-o", out, NULL)))
            return code;
        char caption[160];
        snprintf(caption, sizeof caption, "Filters of %s (conv%d after its ReLU), channel index under each", layers[l],
                 l + 1);
        figure(d, file, caption);
    }

    char inputs[N_SAMPLES][4096];
    int classes[N_SAMPLES];
    if ((code = write_samples(d, inputs, classes))) return code;
    html(d, "<h2>Looking at test images</h2>\n<p>Four images of the Fashion-MNIST test set: their activation maps, "
            "Grad-CAM heatmaps with the top predictions, and a deconvnet projection of the strongest features.</p>\n");
    for (int k = 0; k < N_SAMPLES; k++) {
        const char *name = p->builtin_labels[classes[k]];
        char caption[200];
        snprintf(file, sizeof file, "maps_%d.png", k);
        snprintf(out, sizeof out, "%s/%s", d->dir, file);
        if ((code = run(cmd_maps, "maps", m, inputs[k], "--layer", "relu1", "--device", dev, "-o", out, NULL))) return code;
        snprintf(caption, sizeof caption, "%s: the input and the 32 activation maps of relu1", name);
        figure(d, file, caption);
        snprintf(file, sizeof file, "gradcam_%d.png", k);
        snprintf(out, sizeof out, "%s/%s", d->dir, file);
        if ((code = run(cmd_gradcam, "gradcam", m, inputs[k], "--device", dev, "-o", out, NULL))) return code;
        snprintf(caption, sizeof caption, "%s: Grad-CAM of the top class at the last conv layer", name);
        figure(d, file, caption);
        snprintf(file, sizeof file, "deconv_%d.png", k);
        snprintf(out, sizeof out, "%s/%s", d->dir, file);
        if ((code = run(cmd_deconv, "deconv", m, inputs[k], "--layer", "relu2", "--top", "8", "--device", dev, "-o", out,
                        NULL)))
            return code;
        snprintf(caption, sizeof caption, "%s: deconvnet projections of the 8 strongest relu2 channels", name);
        figure(d, file, caption);
    }
    return 0;
}

/* The page checks its own pictures once loaded: data-images="loaded/total" on <body>. */
static int write_index(demo *d) {
    char path[4096], *page = malloc(sizeof d->html + 4096);
    if (!page) return 1;
    snprintf(path, sizeof path, "%s/index.html", d->dir);
    snprintf(page, sizeof d->html + 4096,
             "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>cnnvis demo</title>\n"
             "<style>body{font-family:sans-serif;background:#111;color:#ddd;max-width:1200px;margin:auto}"
             "figure{display:inline-block;margin:8px;vertical-align:top}img{image-rendering:pixelated;min-width:320px;max-width:560px;height:auto}"
             "figcaption{max-width:560px}</style></head>\n"
             "<body data-images=\"pending\"><h1>cnnvis demo: a Fashion-MNIST CNN trained by cnnvis</h1>\n"
             "<p>Model: %s. Every picture was written by `cnnvis demo`; the same verbs work on any ONNX or Keras "
             "model.</p>\n%s"
             "<script>window.addEventListener('load',function(){var im=document.images,ok=0;"
             "for(var i=0;i<im.length;i++)if(im[i].complete&&im[i].naturalWidth>0)ok++;"
             "document.body.setAttribute('data-images',ok+'/'+im.length);});</script>\n</body></html>",
             d->model, d->html);
    cnv_status s = cnv_write_text_file(path, page);
    free(page);
    if (s != CNV_OK) {
        fprintf(stderr, "cnnvis demo: %s\n", cnv_last_error());
        return 1;
    }
    printf("cnnvis demo: wrote %d pictures and %s — open it in a browser\n", d->pictures, path);
    return 0;
}

int cmd_demo(int argc, char **argv) {
    demo d = {.dir = "cnnvis-demo", .model = CNNVIS_BUNDLED_MODEL, .data = "/usr/share/datasets/fashion-mnist",
              .device = "auto", .steps = "256"};
    static const struct option options[] = {
        {"output", required_argument, NULL, 'o'}, {"model", required_argument, NULL, 'm'},
        {"data", required_argument, NULL, 'd'},   {"device", required_argument, NULL, 'D'},
        {"steps", required_argument, NULL, 's'},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:h", options, NULL)) != -1) {
        switch (c) {
        case 'o': d.dir = optarg; break;
        case 'm': d.model = optarg; break;
        case 'd': d.data = optarg; break;
        case 'D': d.device = optarg; break;
        case 's': d.steps = optarg; break;
        case 'h': usage(stdout); return 0;
        case ':': fprintf(stderr, "cnnvis demo: option '%s' needs a value\n", argv[optind - 1]); return 2;
        default: fprintf(stderr, "cnnvis demo: unknown option '%s' (see --help)\n", argv[optind - 1]); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cnnvis demo: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    char problem[4200];
    if (cli_output_problem(CLI_OUT_DIR, d.dir, problem, sizeof problem)) {
        fprintf(stderr, "cnnvis demo: -o %s\n", problem);
        return 2;
    }
    if (mkdir(d.dir, 0777) == 0) cnv_atomic_note_dir(d.dir);
    else if (errno != EEXIST) {
        fprintf(stderr, "cnnvis demo: %s: cannot create the folder (%s)\n", d.dir, strerror(errno));
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int code = render_all(&d);
    if (code) return code;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    html(&d, "<p>Rendered in %.0f seconds.</p>\n", (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec));
    return write_index(&d);
}
