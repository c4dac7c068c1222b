/* --channels for verbs that show many channels of a layer: "all", or a comma-separated list of
 * items, each a channel "a" or an inclusive range "a-b", e.g. "0-8,10-16" or "3,17,42". */
#ifndef CNV_CLI_CHANNEL_LIST_H
#define CNV_CLI_CHANNEL_LIST_H

#include "common.h"

typedef struct cli_channel_list {
    const char *spec; /* as given; NULL = all */
    int *index;       /* resolved: the channels in the order given, each once */
    int n;
} cli_channel_list;

/* Resolves the spec against a layer of n_channels (again on every call: verbs that visit several
 * layers resolve once per layer). 0 or an exit status (one-line error). */
int cli_channel_list_resolve(const cli_ctx *ctx, cli_channel_list *l, int n_channels, const char *layer_name);

/* The selection for one-line reports: the spec as given, or "0-15" for all of 16 channels
 * (written into buf). */
const char *cli_channel_list_text(const cli_channel_list *l, char buf[24]);

void cli_channel_list_free(cli_channel_list *l);

#endif
