/* cnnvis filter MODEL --layer L --channel C | --channels LIST|all: images that maximize the mean
 * of one channel of a layer; several channels render in batches into one grid, in the order
 * listed, with the channel index under each tile. */
#include <stdio.h>
#include <stdlib.h>

#include "channel_list.h"
#include "commands.h"
#include "vis_cli.h"

enum { OPT_LAYER = CLI_VERB_ID, OPT_CHANNEL, OPT_CHANNELS };

static const cli_option own_options[] = {
    {"layer", "L", "layer by node name, output-tensor name or index", NULL, OPT_LAYER},
    {"channel", "C", "one channel", NULL, OPT_CHANNEL},
    {"channels", "LIST|all", "channels as one grid: items a or a-b, comma-separated (0-8,10-16), or all of them",
     NULL, OPT_CHANNELS},
};

typedef struct filter_args {
    vis_cli vis;
    const char *layer;
    cli_channel_list channels;
    int channel;
} filter_args;

static int on_option(void *state, int id, const char *arg) {
    filter_args *a = state;
    switch (id) {
    case OPT_LAYER: a->layer = arg; return 0;
    case OPT_CHANNEL: return cli_parse_int(a->vis.ctx, "channel", arg, 0, &a->channel);
    case OPT_CHANNELS: a->channels.spec = arg; return 0;
    }
    return vis_cli_on_option(&a->vis, id, arg);
}

/* The channels to render: the --channels list, or the one --channel. */
static int pick_channels(const cli_ctx *ctx, filter_args *a, int node, int n_channels, const int **index, int *n) {
    if (a->channels.spec) {
        int code = cli_channel_list_resolve(ctx, &a->channels, n_channels, cnv_model_layer_name(ctx->g, node));
        *index = a->channels.index;
        *n = a->channels.n;
        return code;
    }
    if (a->channel >= n_channels)
        return cli_error(ctx, CLI_EXIT_USAGE, "layer %s has %d channels (0..%d): no channel %d", a->layer, n_channels,
                         n_channels - 1, a->channel);
    *index = &a->channel;
    *n = 1;
    return 0;
}

static int run(cli_ctx *ctx, filter_args *a) {
    int node, n = 0, code = cli_find_layer(ctx, a->layer, &node);
    if (code) return code;
    int d[CNV_MAX_RANK];
    if (cnv_model_layer_shape(ctx->g, node, d) != 4)
        return cli_error(ctx, CLI_EXIT_USAGE, "layer %s has no channels of maps (shape is not NCHW)", a->layer);
    const int *channels = NULL;
    if ((code = pick_channels(ctx, a, node, d[1], &channels, &n))) return code;
    cnv_vis_item *items = calloc((size_t)n, sizeof *items);
    if (!items) return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    for (int i = 0; i < n; i++) {
        items[i] = (cnv_vis_item){.type = CNV_VIS_CHANNEL, .index = channels[i]};
        snprintf(items[i].caption, sizeof items[i].caption, "%d", channels[i]);
    }
    code = vis_cli_run(&a->vis, node, items, n, "filter", NULL, NULL, NULL);
    free(items);
    return code;
}

int cmd_filter(int argc, char **argv) {
    cli_option table[64];
    cli_verb verb = {
        .name = "filter",
        .synopsis = "MODEL --layer L (--channel C | --channels LIST|all) -o OUT.png [options]",
        .summary = "Synthesize images that maximize a channel (a filter) of a layer; several channels as a grid.",
        .options = table,
        .n_options = vis_cli_options(own_options, 3, table, 64),
        .on_option = on_option,
        .records_model = 1,
    };
    cli_ctx ctx;
    filter_args a = {.vis = {.ctx = &ctx}, .channel = -1};
    int code = cli_parse(&ctx, &verb, argc, argv, &a);
    if (code < 0) {
        code = !a.layer ? cli_error(&ctx, CLI_EXIT_USAGE, "give --layer L") : 0;
        if (!code && a.channel < 0 && !a.channels.spec)
            code = cli_error(&ctx, CLI_EXIT_USAGE, "give --channel C or --channels LIST|all");
        if (!code) code = cli_load(&ctx, 1);
        if (!code) code = vis_cli_prepare(&a.vis);
        if (!code) code = run(&ctx, &a);
    }
    cli_channel_list_free(&a.channels);
    vis_cli_free(&a.vis);
    cli_free(&ctx);
    return code;
}
