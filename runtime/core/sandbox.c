#include "core/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/status.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0 /* ASan reserves terabytes of shadow memory: an address-space limit breaks it */
#endif

/* The process's current address-space size (Linux /proc), 0 when unknown. */
static size_t address_space_now(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (!f) return 0;
    if (fscanf(f, "%lu", &pages) != 1) pages = 0;
    fclose(f);
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

cnv_status cnv_sandbox_start(const char *path, const char *what, size_t memory, unsigned seconds,
                             void (*reader)(int fd, void *user), void *user, cnv_sandbox *sb) {
    int fds[2];
    if (pipe(fds) != 0) return cnv_fail(CNV_ERR_INTERNAL, "%s: cannot create a pipe: %s", path, strerror(errno));
    const size_t base = address_space_now();
    fflush(NULL); /* nothing buffered twice */
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return cnv_fail(CNV_ERR_INTERNAL, "%s: cannot start the %s process: %s", path, what, strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        /* The parent's handlers (temporary-file cleanup) are not the child's business. */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        /* Whatever the reader prints (libhdf5, a sanitizer's allocation warnings) is not for the
         * user: the parent's one line is the report. The fuzz harnesses show it, in-process. */
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, STDERR_FILENO);
        if (!UNDER_ASAN && base) {
            struct rlimit as = {base + memory, base + memory};
            setrlimit(RLIMIT_AS, &as);
        }
        struct rlimit cpu = {seconds, seconds + 1};
        setrlimit(RLIMIT_CPU, &cpu);
        reader(fds[1], user);
        _exit(0);
    }
    close(fds[1]);
    sb->pid = pid;
    sb->fd = fds[0];
    return CNV_OK;
}

int cnv_sandbox_finish(cnv_sandbox *sb, int kill_it) {
    close(sb->fd);
    if (kill_it) kill(sb->pid, SIGKILL);
    int ws = 0;
    while (waitpid(sb->pid, &ws, 0) < 0 && errno == EINTR) {
    }
    return ws;
}
