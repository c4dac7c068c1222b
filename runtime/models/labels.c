#include "models/labels.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/status.h"

static char *copy_range(const char *s, size_t n) {
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

/* "n01440764 " at the start of a line: WordNet ids are 'n' and eight digits. */
static size_t wordnet_id_length(const char *s) {
    if (s[0] != 'n') return 0;
    for (int i = 1; i <= 8; i++)
        if (!isdigit((unsigned char)s[i])) return 0;
    return s[9] == ' ' || s[9] == '\t' ? 9 : 0;
}

/* The text after an optional WordNet id, up to the first comma, trimmed. */
static char *display_name(const char *line) {
    const char *s = line + wordnet_id_length(line);
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strcspn(s, ",");
    while (n > 0 && isspace((unsigned char)s[n - 1])) n--;
    return copy_range(s, n);
}

static cnv_status append(cnv_labels *l, int *cap, const char *line, const char *source) {
    if (l->n == *cap) {
        int new_cap = *cap ? 2 * *cap : 64;
        char **d = realloc(l->display, sizeof *d * (size_t)new_cap);
        if (d) l->display = d;
        char **ln = d ? realloc(l->line, sizeof *ln * (size_t)new_cap) : NULL;
        if (ln) l->line = ln;
        if (!d || !ln) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", source);
        *cap = new_cap;
    }
    char *whole = copy_range(line, strlen(line));
    char *shown = display_name(line);
    if (!whole || !shown) {
        free(whole);
        free(shown);
        return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", source);
    }
    l->line[l->n] = whole;
    l->display[l->n] = shown;
    l->n++;
    return CNV_OK;
}

cnv_status cnv_labels_load(const char *path, cnv_labels *out) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    if (!f) return cnv_fail(CNV_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char buf[4096];
    int cap = 0;
    cnv_status s = CNV_OK;
    while (s == CNV_OK && fgets(buf, sizeof buf, f)) {
        size_t n = strlen(buf);
        if (n == sizeof buf - 1 && buf[n - 1] != '\n') {
            s = cnv_fail(CNV_ERR_FORMAT, "%s: line %d is too long for a label list", path, out->n + 1);
            break;
        }
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = '\0';
        s = append(out, &cap, buf, path);
    }
    if (s == CNV_OK && ferror(f)) s = cnv_fail(CNV_ERR_IO, "%s: read error", path);
    fclose(f);
    /* A final empty line is the file's last newline doubled, not a class. */
    while (s == CNV_OK && out->n > 0 && out->line[out->n - 1][0] == '\0') {
        out->n--;
        free(out->line[out->n]);
        free(out->display[out->n]);
    }
    if (s == CNV_OK && out->n == 0) s = cnv_fail(CNV_ERR_FORMAT, "%s: no labels in the file", path);
    if (s != CNV_OK) cnv_labels_free(out);
    return s;
}

cnv_status cnv_labels_from_list(const char *const *names, int n, cnv_labels *out) {
    memset(out, 0, sizeof *out);
    int cap = 0;
    for (int i = 0; i < n; i++) {
        cnv_status s = append(out, &cap, names[i], "labels");
        if (s != CNV_OK) {
            cnv_labels_free(out);
            return s;
        }
    }
    return CNV_OK;
}

void cnv_labels_free(cnv_labels *l) {
    for (int i = 0; i < l->n; i++) {
        free(l->display[i]);
        free(l->line[i]);
    }
    free(l->display);
    free(l->line);
    memset(l, 0, sizeof *l);
}

const char *cnv_labels_name(const cnv_labels *l, int index, char *buf, size_t size) {
    if (l && index >= 0 && index < l->n && l->display[index][0]) return l->display[index];
    snprintf(buf, size, "%d", index);
    return buf;
}

/* True when `name` equals one of the comma-separated synonyms of `list` (spaces trimmed). */
static int among_synonyms(const char *list, const char *name) {
    size_t want = strlen(name);
    for (const char *s = list; *s;) {
        while (*s == ' ' || *s == '\t') s++;
        size_t n = strcspn(s, ",");
        size_t trimmed = n;
        while (trimmed > 0 && isspace((unsigned char)s[trimmed - 1])) trimmed--;
        if (trimmed == want && strncasecmp(s, name, want) == 0) return 1;
        s += n;
        if (*s == ',') s++;
    }
    return 0;
}

int cnv_labels_find(const cnv_labels *l, const char *name) {
    if (!l || !*name) return -1;
    for (int i = 0; i < l->n; i++) {
        size_t id_len = wordnet_id_length(l->line[i]);
        if (id_len && strlen(name) == id_len && strncasecmp(l->line[i], name, id_len) == 0) return i;
        if (among_synonyms(l->line[i] + id_len, name)) return i;
    }
    return -1;
}

static int is_regular_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

cnv_status cnv_labels_locate(const char *near_path, const char *file_name, int max_up, char *out, size_t size) {
    /* Folder of near_path, then each parent by appending "/..": no path rewriting needed. */
    const char *slash = strrchr(near_path, '/');
    char dir[4096];
    int n = slash ? snprintf(dir, sizeof dir, "%.*s", (int)(slash - near_path), near_path)
                  : snprintf(dir, sizeof dir, ".");
    if (slash == near_path) n = snprintf(dir, sizeof dir, "/");
    for (int up = 0; up <= max_up && n > 0 && (size_t)n < sizeof dir; up++) {
        if ((size_t)snprintf(out, size, "%s/%s", dir, file_name) < size && is_regular_file(out)) {
            /* Show "/a/models/x.txt" rather than "/a/models/net/derived/../../x.txt". */
            char *clean = realpath(out, NULL);
            if (clean && strlen(clean) < size) strcpy(out, clean);
            free(clean);
            return CNV_OK;
        }
        n += snprintf(dir + n, sizeof dir - (size_t)n, "/..");
    }
    return cnv_fail(CNV_ERR_NOT_FOUND, "%s: no %s beside it or in its %d parent folders", near_path, file_name,
                    max_up);
}

/* How far up from the model's folder a preset's labels file is looked for. */
#define LABELS_MAX_UP 3

cnv_status cnv_labels_for_preset(const cnv_preset *p, const char *model_path, cnv_labels *out, char *origin,
                                 size_t size) {
    char path[4096];
    memset(out, 0, sizeof *out);
    if (origin && size) origin[0] = '\0';
    if (p->labels_file) {
        CNV_TRY(cnv_labels_locate(model_path, p->labels_file, LABELS_MAX_UP, path, sizeof path));
        CNV_TRY(cnv_labels_load(path, out));
        if (origin) snprintf(origin, size, "%s", path);
    } else if (p->builtin_labels) {
        CNV_TRY(cnv_labels_from_list(p->builtin_labels, p->n_builtin_labels, out));
        if (origin) snprintf(origin, size, "built into preset %s", p->name);
    }
    return CNV_OK;
}
