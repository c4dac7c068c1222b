#include "channel_list.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Numbers saturate here: any channel this large is past every layer's last one anyway. */
#define SATURATE 100000000L

static const char NOT_AN_ITEM[] = "is not a channel a or a range a-b";

/* A decimal number at *p (before end), with an optional '-' so that negative channels get their
 * own message; no '+', no spaces. Advances *p; 0 when there is no number. */
static int read_number(const char **p, const char *end, long *v) {
    const char *s = *p;
    int negative = s < end && *s == '-';
    s += negative;
    if (s == end || !isdigit((unsigned char)*s)) return 0;
    long x = 0;
    for (; s < end && isdigit((unsigned char)*s); s++) x = x < SATURATE ? 10 * x + (*s - '0') : SATURATE;
    *v = negative ? -x : x;
    *p = s;
    return 1;
}

/* The item [s, end) as "a" or "a-b" into *lo, *hi; NULL, or why it is neither. */
static const char *parse_item(const char *s, const char *end, long *lo, long *hi) {
    if (s == end) return "is empty";
    if (!read_number(&s, end, lo)) return NOT_AN_ITEM;
    *hi = *lo;
    if (s < end && *s == '-') {
        s++;
        if (!read_number(&s, end, hi)) return NOT_AN_ITEM;
    }
    if (s != end) return NOT_AN_ITEM;
    if (*lo < 0 || *hi < 0) return "is negative";
    if (*hi < *lo) return "ends before it starts";
    return NULL;
}

/* Appends the item's channels to the list; taken[] marks those already in it. */
static int add_item(const cli_ctx *ctx, cli_channel_list *l, const char *item, const char *end, int n_channels,
                    const char *layer_name, unsigned char *taken) {
    char repeat[48];
    long lo, hi;
    const char *why = parse_item(item, end, &lo, &hi);
    if (!why && hi >= n_channels) why = "is past the last channel";
    for (long c = lo; !why && c <= hi; c++) {
        if (taken[c]) {
            snprintf(repeat, sizeof repeat, "repeats channel %ld", c);
            why = repeat;
        } else {
            taken[c] = 1;
            l->index[l->n++] = (int)c;
        }
    }
    if (!why) return 0;
    return cli_error(ctx, CLI_EXIT_USAGE, "--channels '%s': item '%.*s' %s (layer %s has channels 0..%d)", l->spec,
                     (int)(end - item), item, why, layer_name, n_channels - 1);
}

int cli_channel_list_resolve(const cli_ctx *ctx, cli_channel_list *l, int n_channels, const char *layer_name) {
    /* No item repeats, so n_channels entries always suffice. */
    free(l->index);
    l->index = malloc(sizeof *l->index * (size_t)n_channels);
    l->n = 0;
    if (!l->index) return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    if (!l->spec || strcmp(l->spec, "all") == 0) {
        for (int c = 0; c < n_channels; c++) l->index[c] = c;
        l->n = n_channels;
        return 0;
    }
    unsigned char *taken = calloc((size_t)n_channels, 1);
    int code = taken ? 0 : cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    for (const char *item = l->spec, *end; !code; item = end + 1) {
        end = item + strcspn(item, ",");
        code = add_item(ctx, l, item, end, n_channels, layer_name, taken);
        if (!*end) break;
    }
    free(taken);
    return code;
}

const char *cli_channel_list_text(const cli_channel_list *l, char buf[24]) {
    if (l->spec && strcmp(l->spec, "all") != 0) return l->spec;
    snprintf(buf, 24, "0-%d", l->n - 1);
    return buf;
}

void cli_channel_list_free(cli_channel_list *l) {
    free(l->index);
    l->index = NULL;
    l->n = 0;
}
