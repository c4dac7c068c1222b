/* cnnvis <verb> [options]: dispatches to cli/cmd_<verb>.c. Each verb runs in one output
 * transaction (cnnvis/files.h): its files appear together when it succeeds, none when it
 * fails or is interrupted, and an interrupt removes its temporary files. */
#include "commands.h"

#include <stdio.h>
#include <string.h>

#include "cnnvis/cnnvis.h"
#include "cnnvis/files.h"

static int run_verb(const cnv_command *c, int argc, char **argv) {
    cnv_atomic_cleanup_on_signals();
    cnv_atomic_begin();
    int code = c->run(argc, argv);
    if (cnv_atomic_finish(code == 0) != CNV_OK) {
        fprintf(stderr, "cnnvis %s: %s\n", c->name, cnv_last_error());
        return 1;
    }
    return code;
}

static const cnv_command commands[] = {
    {"devices", cmd_devices, "list Vulkan devices with their capabilities, and the CPU backend"},
    {"info", cmd_info, "list every layer: index, name, op, shape, parameters, receptive field"},
    {"forward", cmd_forward, "run a model to a layer; save the tensor, print top classes"},
    {"grad", cmd_grad, "gradient of an objective (logit or channel mean) w.r.t. the input"},
    {"classify", cmd_classify, "top-k predictions with labels"},
    {"convert", cmd_convert, "write ONNX: from any model cnnvis reads, or a named architecture"},
    {"class", cmd_class, "synthesize images that maximize a class"},
    {"filter", cmd_filter, "synthesize images that maximize a channel of a layer (grids of many)"},
    {"neuron", cmd_neuron, "synthesize an image that maximizes one unit, with its receptive field"},
    {"demo", cmd_demo, "render the bundled model's classes, filters, maps, Grad-CAM and deconv into index.html"},
    {"bench", cmd_bench, "time named workloads (built-in VGG16, ResNet-50, SqueezeNet, training, gemm) on a device"},
    {"check", cmd_check, "check a GPU against the CPU backend on a model, forward and backward"},
    {"maps", cmd_maps, "activation maps of an image: every channel of a layer as a grid"},
    {"gradcam", cmd_gradcam, "Grad-CAM / CAM heatmap of a class over the image, with the top predictions"},
    {"topk", cmd_topk, "the images of a folder that most activate each channel, as receptive-field patches"},
    {"deconv", cmd_deconv, "Zeiler & Fergus deconvnet: a layer's features projected back to pixels"},
    {"saliency", cmd_saliency, "saliency of a class: gradient, guided backprop, SmoothGrad, gradient x input"},
    {"invert", cmd_invert, "reconstruct an image from a layer's activations (from noise, TV and L2 priors)"},
    {"dream", cmd_dream, "DeepDream: amplify what layers see in an image, over octaves; infinite-zoom frames"},
    {"style", cmd_style, "style transfer: Gram matrices of style layers plus a content layer"},
    {"atlas", cmd_atlas, "every channel of a model's layers and its top images: sharded, resumable, with a viewer"},
    {"train", cmd_train, "train a classifier on IDX files or image folders; save ONNX and a JSON log"},
};
static const int n_commands = (int)(sizeof commands / sizeof commands[0]);

static void usage(FILE *f) {
    fprintf(f, "cnnvis %s — see what a convolutional network has learned\n\n", CNNVIS_VERSION);
    fprintf(f, "usage: cnnvis <verb> [options]   (cnnvis <verb> --help for each verb's options)\n\nverbs:\n");
    for (int i = 0; i < n_commands; i++) fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("cnnvis %s\n", CNNVIS_VERSION);
        return 0;
    }
    for (int i = 0; i < n_commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return run_verb(&commands[i], argc - 1, argv + 1);
    fprintf(stderr, "cnnvis: unknown verb '%s' (cnnvis --help lists them)\n", argv[1]);
    return 2;
}
