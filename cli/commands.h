/* One function per verb, each in cli/cmd_<verb>.c. Each returns the process exit status:
 * 0 success, 1 runtime failure, 2 bad usage or bad input. */
#ifndef CNV_CLI_COMMANDS_H
#define CNV_CLI_COMMANDS_H

typedef int (*cnv_cmd_fn)(int argc, char **argv);

typedef struct cnv_command {
    const char *name;
    cnv_cmd_fn run;
    const char *summary;
} cnv_command;

int cmd_devices(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_forward(int argc, char **argv);
int cmd_grad(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_class(int argc, char **argv);
int cmd_filter(int argc, char **argv);
int cmd_neuron(int argc, char **argv);
int cmd_gradcam(int argc, char **argv);
int cmd_maps(int argc, char **argv);
int cmd_topk(int argc, char **argv);
int cmd_deconv(int argc, char **argv);
int cmd_saliency(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_invert(int argc, char **argv);
int cmd_dream(int argc, char **argv);
int cmd_style(int argc, char **argv);
int cmd_atlas(int argc, char **argv);

#endif
