/* cnnvis convert: writes ONNX, either from any model cnnvis reads or from a named architecture
 * with freshly initialized (seeded) weights. */
#include "commands.h"
#include "common.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnvis/cnnvis.h"

#define DEFAULT_SEED 1

static void usage(FILE *f) {
    char archs[256];
    cnv_arch_list(archs, sizeof archs);
    fprintf(f,
            "usage: cnnvis convert MODEL -o OUT.onnx\n"
            "       cnnvis convert --arch NAME [--seed S] -o OUT.onnx\n\n"
            "Writes an ONNX model (opset %d, IR version %d) that cnnvis, onnx.checker and OpenCV DNN read:\n"
            "either MODEL (any model cnnvis loads) or a new model of a named architecture.\n\n"
            "  -o, --output FILE  the .onnx to write (required; written atomically)\n"
            "      --arch NAME    architecture to build instead of reading MODEL: %s\n"
            "      --seed S       seed of the He-uniform initial weights with --arch (default %d)\n"
            "  -h, --help         this help\n",
            CNV_ONNX_EXPORT_OPSET, CNV_ONNX_EXPORT_IR_VERSION, archs, DEFAULT_SEED);
}

static int fail(cnv_status s) {
    fprintf(stderr, "cnnvis convert: %s\n", cnv_last_error());
    return cnv_status_is_input_error(s) ? 2 : 1;
}

static int parse_seed(const char *text, uint64_t *seed) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-') return 0;
    *seed = (uint64_t)v;
    return 1;
}

int cmd_convert(int argc, char **argv) {
    static const struct option options[] = {
        {"output", required_argument, NULL, 'o'},
        {"arch", required_argument, NULL, 'a'},
        {"seed", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *output = NULL, *arch = NULL;
    uint64_t seed = DEFAULT_SEED;
    int seed_given = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case 'a': arch = optarg; break;
        case 's':
            if (!parse_seed(optarg, &seed)) {
                fprintf(stderr, "cnnvis convert: --seed '%s' is not a non-negative integer\n", optarg);
                return 2;
            }
            seed_given = 1;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    const char *input = optind < argc ? argv[optind] : NULL;
    const char *problem = NULL;
    if (!output)
        problem = "-o OUT.onnx is required";
    else if (optind + 1 < argc)
        problem = "more than one input model given";
    else if (!input == !arch)
        problem = "give either a MODEL or --arch NAME";
    else if (seed_given && !arch)
        problem = "--seed applies only with --arch";
    if (problem) {
        fprintf(stderr, "cnnvis convert: %s (cnnvis convert --help)\n", problem);
        return 2;
    }
    char out_problem[4200];
    if (cli_output_problem(CLI_OUT_FILE, output, out_problem, sizeof out_problem)) {
        fprintf(stderr, "cnnvis convert: -o %s\n", out_problem);
        return 2;
    }

    cnv_graph *g = NULL;
    cnv_status s = arch ? cnv_arch_build(arch, seed, &g) : cnv_model_load(input, &g);
    if (s != CNV_OK) return fail(s);
    s = cnv_onnx_save(g, output);
    if (s == CNV_OK) {
        printf("wrote %s: %d nodes, %zu parameters\n", output, cnv_model_layer_count(g), cnv_model_param_count(g));
    }
    cnv_model_free(g);
    return s == CNV_OK ? 0 : fail(s);
}
