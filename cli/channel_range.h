/* --channels for verbs that show many channels of a layer: "all", "a-b" (inclusive) or "a". */
#ifndef CNV_CLI_CHANNEL_RANGE_H
#define CNV_CLI_CHANNEL_RANGE_H

#include "common.h"

typedef struct cli_channel_range {
    const char *spec; /* as given; NULL = all */
    int first, last;  /* resolved, inclusive */
} cli_channel_range;

/* Resolves the range against a layer of n_channels; 0 or an exit status (one-line error). */
int cli_channel_range_resolve(const cli_ctx *ctx, cli_channel_range *r, int n_channels, const char *layer_name);

#endif
