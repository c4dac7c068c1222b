/* Top-k inputs per channel: over a stream of inputs, keep for each channel the k inputs whose
 * activation (the maximum of the channel over its positions) is largest, with where the
 * maximum was; and the box of input pixels that position sees (its receptive field). The
 * entries, the boxes and the ranking of a list of files are public (cnnvis/attribution.h:
 * cnv_topk_entry, cnv_box, cnv_receptive_box, cnv_receptive_patch, cnv_topk_files); the running
 * lists below are what they and the atlas's shards are built on. */
#ifndef CNV_VIS_TOPK_H
#define CNV_VIS_TOPK_H

#include "core/graph.h"
#include "cnnvis/attribution.h"

typedef struct cnv_topk {
    int n_channels, k;
    int *count;           /* per channel: entries kept so far (<= k) */
    cnv_topk_entry *best; /* per channel k entries, best first; ties keep the earlier item first */
} cnv_topk;

cnv_status cnv_topk_init(cnv_topk *t, int n_channels, int k);
void cnv_topk_free(cnv_topk *t);
/* One input's maps of the tracked channels: n_channels planes of h x w floats. Non-finite
 * values never win. */
void cnv_topk_add(cnv_topk *t, const float *maps, int h, int w, int item);

/* Offers one entry to a channel's list (merging partial lists: offered in the order of their
 * items, the result equals one pass over all the inputs). */
void cnv_topk_offer(cnv_topk *t, int channel, cnv_topk_entry e);

/* The patch of input pixels a box covers on the picture the model saw (at its input size), as
 * RGB, drawn into a canvas of the whole box so that a box clamped at the border keeps its
 * scale (outside the picture: bg). out->px is malloc'ed. */
cnv_status cnv_topk_patch(const cnv_image *seen, const cnv_box *b, const unsigned char bg[3], cnv_image *out);

#endif
