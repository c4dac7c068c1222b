#include "io/atomic_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/status.h"

static void release(cnv_atomic_file *af) {
    free(af->path);
    free(af->tmp_path);
    af->path = af->tmp_path = NULL;
    af->f = NULL;
}

cnv_status cnv_atomic_open(const char *path, cnv_atomic_file *af) {
    memset(af, 0, sizeof *af);
    size_t n = strlen(path);
    af->path = malloc(n + 1);
    af->tmp_path = malloc(n + sizeof ".tmp-XXXXXX");
    if (!af->path || !af->tmp_path) {
        release(af);
        return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(af->path, path, n + 1);
    memcpy(af->tmp_path, path, n);
    memcpy(af->tmp_path + n, ".tmp-XXXXXX", sizeof ".tmp-XXXXXX");
    int fd = mkstemp(af->tmp_path);
    if (fd < 0) {
        cnv_status s = cnv_fail(CNV_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
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
        release(af);
        return s;
    }
    return CNV_OK;
}

cnv_status cnv_atomic_commit(cnv_atomic_file *af) {
    int write_error = ferror(af->f) || fflush(af->f) != 0;
    int saved_errno = errno;
    if (fclose(af->f) != 0 && !write_error) {
        write_error = 1;
        saved_errno = errno;
    }
    af->f = NULL;
    if (write_error) {
        cnv_status s = cnv_fail(CNV_ERR_IO, "%s: write failed: %s", af->path, strerror(saved_errno));
        remove(af->tmp_path);
        release(af);
        return s;
    }
    if (rename(af->tmp_path, af->path) != 0) {
        cnv_status s = cnv_fail(CNV_ERR_IO, "%s: cannot rename into place: %s", af->path, strerror(errno));
        remove(af->tmp_path);
        release(af);
        return s;
    }
    release(af);
    return CNV_OK;
}

void cnv_atomic_abort(cnv_atomic_file *af) {
    if (af->f) {
        fclose(af->f);
        remove(af->tmp_path);
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
