/* Class names. A labels file has one class per line, in class-index order. A line may start
 * with a WordNet id and list synonyms ("n01440764 tench, Tinca tinca", Caffe's
 * synset_words.txt): it displays as its first name ("tench"); every synonym and the id also
 * find the class. Classes past the end of the list display as their index. */
#ifndef CNV_MODELS_LABELS_H
#define CNV_MODELS_LABELS_H

#include <stddef.h>

#include "cnnvis/cnnvis.h"

typedef struct cnv_labels {
    int n;
    char **display; /* first name of each class */
    char **line;    /* the whole line (without a trailing newline), for lookups */
} cnv_labels;

cnv_status cnv_labels_load(const char *path, cnv_labels *out);
cnv_status cnv_labels_from_list(const char *const *names, int n, cnv_labels *out);
void cnv_labels_free(cnv_labels *l);

/* The display name of class `index`, or its decimal index (written into buf) when unnamed. */
const char *cnv_labels_name(const cnv_labels *l, int index, char *buf, size_t size);
/* Class index whose id, display name or any synonym equals `name` (case-insensitive); -1. */
int cnv_labels_find(const cnv_labels *l, const char *name);

/* Looks for `file_name` beside the file `near_path`, then in up to `max_up` parent folders.
 * Writes the path found into out; CNV_ERR_NOT_FOUND when there is none. */
cnv_status cnv_labels_locate(const char *near_path, const char *file_name, int max_up, char *out, size_t size);

#endif
