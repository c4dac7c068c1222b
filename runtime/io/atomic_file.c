#include "io/atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/status.h"

/* The process's temporary files: written, or committed and waiting for the transaction's end.
 * The signal handler reads this list, so entries are complete before `n_temps` counts them. */
#define MAX_TEMPS 4096
typedef struct temp_entry {
    char *tmp_path, *path;
    int queued; /* committed inside the transaction: rename at its end */
} temp_entry;
static temp_entry temps[MAX_TEMPS];
static volatile sig_atomic_t n_temps;
static pid_t owner; /* the process the list belongs to (a forked child must not touch it) */
static int in_transaction;
#define MAX_DIRS 64
static char *created_dirs[MAX_DIRS];
static int n_created_dirs;
/* Folders already swept for stale temporary files (once per process and folder). */
static char *swept[MAX_DIRS];
static int n_swept;

static int track(char *tmp_path, char *path) {
    if (owner != getpid()) {
        owner = getpid();
        n_temps = 0;
    }
    for (int i = 0; i < n_temps; i++)
        if (!temps[i].tmp_path) {
            temps[i].path = path;
            temps[i].queued = 0;
            temps[i].tmp_path = tmp_path;
            return i;
        }
    if (n_temps == MAX_TEMPS) return -1;
    temps[n_temps] = (temp_entry){tmp_path, path, 0};
    n_temps = n_temps + 1;
    return n_temps - 1;
}

static void untrack(const char *tmp_path) {
    for (int i = 0; i < n_temps; i++)
        if (temps[i].tmp_path == tmp_path) temps[i].tmp_path = NULL;
}

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

/* The folder of a path ("." for a bare name), malloc'ed. */
static char *folder_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return dup_str(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, path, n);
    d[n] = '\0';
    return d;
}

/* "<anything>.tmp-<pid>-XXXXXX" with pid a process that no longer exists. */
static int is_stale_temp(const char *name) {
    const char *p = strstr(name, ".tmp-");
    if (!p) return 0;
    char *end;
    long pid = strtol(p + 5, &end, 10);
    if (end == p + 5 || *end != '-' || strlen(end + 1) != 6 || pid <= 0) return 0;
    if ((pid_t)pid == getpid()) return 0;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

static void sweep_folder(const char *path) {
    char *dir = folder_of(path);
    if (!dir) return;
    for (int i = 0; i < n_swept; i++)
        if (strcmp(swept[i], dir) == 0) {
            free(dir);
            return;
        }
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!is_stale_temp(e->d_name)) continue;
        char full[4096];
        if (snprintf(full, sizeof full, "%s/%s", dir, e->d_name) < (int)sizeof full) unlink(full);
    }
    if (d) closedir(d);
    if (n_swept < MAX_DIRS) swept[n_swept++] = dir;
    else free(dir);
}

static void release(cnv_atomic_file *af) {
    free(af->path);
    free(af->tmp_path);
    af->path = af->tmp_path = NULL;
    af->f = NULL;
}

cnv_status cnv_atomic_open(const char *path, cnv_atomic_file *af) {
    memset(af, 0, sizeof *af);
    sweep_folder(path);
    char suffix[48];
    snprintf(suffix, sizeof suffix, ".tmp-%ld-XXXXXX", (long)getpid());
    size_t n = strlen(path), ns = strlen(suffix);
    af->path = malloc(n + 1);
    af->tmp_path = malloc(n + ns + 1);
    if (!af->path || !af->tmp_path) {
        release(af);
        return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(af->path, path, n + 1);
    memcpy(af->tmp_path, path, n);
    memcpy(af->tmp_path + n, suffix, ns + 1);
    /* Registered before it exists, so that a signal between mkstemp and here cannot miss it. */
    if (track(af->tmp_path, af->path) < 0) {
        release(af);
        return cnv_fail(CNV_ERR_IO, "%s: too many files open for writing", path);
    }
    int fd = mkstemp(af->tmp_path);
    if (fd < 0) {
        cnv_status s = cnv_fail(CNV_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        untrack(af->tmp_path);
        release(af);
        return s;
    }
    /* mkstemp creates mode 0600; an output file should be as readable as any other. */
    fchmod(fd, 0644);
    af->f = fdopen(fd, "wb");
    if (!af->f) {
        cnv_status s = cnv_fail(CNV_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
        remove(af->tmp_path);
        untrack(af->tmp_path);
        release(af);
        return s;
    }
    return CNV_OK;
}

/* Makes a rename in `path`'s folder durable. */
static void sync_folder(const char *path) {
    char *dir = folder_of(path);
    int fd = dir ? open(dir, O_RDONLY) : -1;
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

static cnv_status rename_into_place(const char *tmp_path, const char *path) {
    if (rename(tmp_path, path) != 0) {
        cnv_status s = cnv_fail(CNV_ERR_IO, "%s: cannot rename into place: %s", path, strerror(errno));
        remove(tmp_path);
        return s;
    }
    sync_folder(path);
    return CNV_OK;
}

cnv_status cnv_atomic_commit(cnv_atomic_file *af) {
    int write_error = ferror(af->f) || fflush(af->f) != 0 || fsync(fileno(af->f)) != 0;
    int saved_errno = errno;
    if (fclose(af->f) != 0 && !write_error) {
        write_error = 1;
        saved_errno = errno;
    }
    af->f = NULL;
    if (write_error) {
        cnv_status s = cnv_fail(CNV_ERR_IO, "%s: write failed: %s", af->path, strerror(saved_errno));
        remove(af->tmp_path);
        untrack(af->tmp_path);
        release(af);
        return s;
    }
    if (in_transaction) {
        /* The list now owns both names; renamed or removed by cnv_atomic_finish. */
        for (int i = 0; i < n_temps; i++)
            if (temps[i].tmp_path == af->tmp_path) temps[i].queued = 1;
        af->path = af->tmp_path = NULL;
        return CNV_OK;
    }
    cnv_status s = rename_into_place(af->tmp_path, af->path);
    untrack(af->tmp_path);
    release(af);
    return s;
}

void cnv_atomic_abort(cnv_atomic_file *af) {
    if (af->f) {
        fclose(af->f);
        remove(af->tmp_path);
        untrack(af->tmp_path);
    }
    release(af);
}

cnv_status cnv_write_text_file(const char *path, const char *text) {
    cnv_atomic_file af;
    CNV_TRY(cnv_atomic_open(path, &af));
    if (fputs(text, af.f) == EOF || fputc('\n', af.f) == EOF) {
        cnv_atomic_abort(&af);
        return cnv_fail(CNV_ERR_IO, "%s: write error", path);
    }
    return cnv_atomic_commit(&af);
}

void cnv_atomic_begin(void) { in_transaction = 1; }

void cnv_atomic_note_dir(const char *path) {
    if (n_created_dirs < MAX_DIRS && (created_dirs[n_created_dirs] = dup_str(path))) n_created_dirs++;
}

/* Renames (commit) or removes every queued file; the first failure is returned. */
static cnv_status settle(int commit) {
    cnv_status first = CNV_OK;
    for (int i = 0; i < n_temps && owner == getpid(); i++) {
        temp_entry *t = &temps[i];
        if (!t->tmp_path || !t->queued) continue;
        char *tmp_path = t->tmp_path, *path = t->path;
        if (commit) {
            cnv_status s = rename_into_place(tmp_path, path);
            if (first == CNV_OK) first = s;
        } else {
            remove(tmp_path);
        }
        t->tmp_path = NULL;
        free(tmp_path);
        free(path);
    }
    return first;
}

cnv_status cnv_atomic_publish(void) { return settle(1); }

cnv_status cnv_atomic_finish(int commit) {
    in_transaction = 0;
    cnv_status first = settle(commit);
    for (int i = n_created_dirs - 1; i >= 0; i--) {
        if (!commit) rmdir(created_dirs[i]); /* only when empty: never anyone else's files */
        free(created_dirs[i]);
    }
    n_created_dirs = 0;
    return first;
}

static void on_signal(int sig) {
    if (owner == getpid())
        for (int i = 0; i < n_temps; i++)
            if (temps[i].tmp_path) unlink(temps[i].tmp_path);
    signal(sig, SIG_DFL);
    raise(sig);
}

void cnv_atomic_cleanup_on_signals(void) {
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}
