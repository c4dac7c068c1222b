/* Colormap tables. magma and viridis are given by ten evenly spaced anchor colours of the
 * published maps (the values R's viridisLite prints for magma(10) and viridis(10)); the 256
 * entries are linear interpolation between them, which keeps luminance rising monotonically
 * because it rises at every anchor. */
#include "cnnvis/picture.h"

#include <stdlib.h>
#include <string.h>

#include "core/status.h"

#define N_ANCHORS 10

static const unsigned char magma_anchors[N_ANCHORS][3] = {
    {0x00, 0x00, 0x04}, {0x18, 0x0f, 0x3e}, {0x45, 0x10, 0x77}, {0x72, 0x1f, 0x81}, {0x9f, 0x2f, 0x7f},
    {0xcd, 0x40, 0x71}, {0xf1, 0x60, 0x5d}, {0xfd, 0x95, 0x67}, {0xfe, 0xc9, 0x8d}, {0xfc, 0xfd, 0xbf},
};
static const unsigned char viridis_anchors[N_ANCHORS][3] = {
    {0x44, 0x01, 0x54}, {0x48, 0x28, 0x78}, {0x3e, 0x4a, 0x89}, {0x31, 0x68, 0x8e}, {0x26, 0x82, 0x8e},
    {0x1f, 0x9e, 0x89}, {0x35, 0xb7, 0x79}, {0x6d, 0xcd, 0x59}, {0xb4, 0xde, 0x2c}, {0xfd, 0xe7, 0x25},
};
static const unsigned char gray_anchors[2][3] = {{0, 0, 0}, {255, 255, 255}};

static const char *const names[CNV_CMAP_COUNT] = {"magma", "viridis", "gray"};

/* Entry v of a map given by n evenly spaced anchors. */
static void interpolate(const unsigned char (*anchors)[3], int n, unsigned char v, unsigned char rgb[3]) {
    double pos = v * (double)(n - 1) / 255.0;
    int i = (int)pos;
    if (i >= n - 1) i = n - 2;
    double t = pos - i;
    for (int k = 0; k < 3; k++) {
        double x = anchors[i][k] + t * (anchors[i + 1][k] - anchors[i][k]);
        rgb[k] = (unsigned char)(x + 0.5);
    }
}

void cnv_colormap_rgb(cnv_colormap c, unsigned char v, unsigned char rgb[3]) {
    switch (c) {
    case CNV_CMAP_MAGMA: interpolate(magma_anchors, N_ANCHORS, v, rgb); break;
    case CNV_CMAP_VIRIDIS: interpolate(viridis_anchors, N_ANCHORS, v, rgb); break;
    default: interpolate(gray_anchors, 2, v, rgb); break;
    }
}

cnv_status cnv_colormap_parse(const char *name, cnv_colormap *out) {
    for (int i = 0; i < CNV_CMAP_COUNT; i++)
        if (name && strcmp(name, names[i]) == 0) {
            *out = (cnv_colormap)i;
            return CNV_OK;
        }
    return cnv_fail(CNV_ERR_ARG, "unknown colormap '%s' (known: %s)", name ? name : "", cnv_colormap_names());
}

const char *cnv_colormap_name(cnv_colormap c) { return c >= 0 && c < CNV_CMAP_COUNT ? names[c] : "?"; }

const char *cnv_colormap_names(void) { return "magma, viridis, gray"; }

cnv_status cnv_colormap_apply(cnv_colormap c, const unsigned char *values, int w, int h, cnv_image *out) {
    memset(out, 0, sizeof *out);
    if (w <= 0 || h <= 0) return cnv_fail(CNV_ERR_ARG, "colormap: bad size %dx%d", w, h);
    unsigned char table[256][3];
    for (int v = 0; v < 256; v++) cnv_colormap_rgb(c, (unsigned char)v, table[v]);
    size_t n = (size_t)w * h;
    out->px = malloc(n * 3);
    if (!out->px) return cnv_fail(CNV_ERR_NOMEM, "colormap: out of memory for %dx%d", w, h);
    out->w = w;
    out->h = h;
    out->c = 3;
    for (size_t i = 0; i < n; i++) memcpy(out->px + 3 * i, table[values[i]], 3);
    return CNV_OK;
}
