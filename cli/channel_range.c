#include "channel_range.h"

#include <stdio.h>
#include <string.h>

int cli_channel_range_resolve(const cli_ctx *ctx, cli_channel_range *r, int n_channels, const char *layer_name) {
    r->first = 0;
    r->last = n_channels - 1;
    if (!r->spec || strcmp(r->spec, "all") == 0) return 0;
    int a, b, used = 0;
    if (sscanf(r->spec, "%d-%d%n", &a, &b, &used) == 2 && r->spec[used] == '\0') {
        /* a-b */
    } else if (sscanf(r->spec, "%d%n", &a, &used) == 1 && r->spec[used] == '\0') {
        b = a;
    } else {
        return cli_error(ctx, CLI_EXIT_USAGE, "--channels: '%s' is not all, a-b or a", r->spec);
    }
    if (a < 0 || b < a || b >= n_channels)
        return cli_error(ctx, CLI_EXIT_USAGE, "--channels %s: layer %s has channels 0..%d", r->spec, layer_name,
                         n_channels - 1);
    r->first = a;
    r->last = b;
    return 0;
}
