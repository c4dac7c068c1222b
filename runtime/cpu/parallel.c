/* The CPU kernels' thread pool: one worker per core but the caller's, asleep on a condition
 * variable between loops.
 *
 * Why not OpenMP: OpenBLAS (Debian's pthread build) keeps its own threads for the matrix
 * products, and libgomp's workers spin after each loop; on this project's 2-core machines the
 * spinning workers took the cores from OpenBLAS, and under load a run took 8x longer (measured
 * in docs/BENCHMARKS.md). Sleeping workers cost a futex wake per loop (tens of microseconds),
 * which is why loops under CNV_CPU_PARALLEL_MIN items stay on the calling thread. */
#include "cpu_ops.h"

#include <pthread.h>
#include <unistd.h>

#define MAX_THREADS 64

static struct {
    pthread_mutex_t setup; /* guards started */
    int started;
    pthread_mutex_t busy; /* held by the caller of the loop in flight; others run theirs alone */
    pthread_mutex_t lock;
    pthread_cond_t start, finish;
    int threads;         /* workers + the caller */
    unsigned long round; /* bumped once per loop; a worker runs each round once */
    int done;            /* workers finished with this round */
    size_t n;
    cnv_cpu_range_fn fn;
    void *ctx;
} pool = {.setup = PTHREAD_MUTEX_INITIALIZER, .busy = PTHREAD_MUTEX_INITIALIZER, .lock = PTHREAD_MUTEX_INITIALIZER,
          .start = PTHREAD_COND_INITIALIZER, .finish = PTHREAD_COND_INITIALIZER};

/* Thread i's share of n items among t: contiguous, sizes differing by at most one. */
static void run_share(int i, int t, size_t n, cnv_cpu_range_fn fn, void *ctx) {
    const size_t per = n / (size_t)t, extra = n % (size_t)t, k = (size_t)i;
    const size_t lo = k * per + (k < extra ? k : extra), hi = lo + per + (k < extra);
    if (lo < hi) fn(ctx, lo, hi);
}

static void *worker(void *arg) {
    const int i = (int)(intptr_t)arg;
    unsigned long seen = 0;
    (void)cnv_cpu_flush_begin(); /* for good: this thread runs only kernels */
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        while (pool.round == seen) pthread_cond_wait(&pool.start, &pool.lock);
        seen = pool.round;
        const size_t n = pool.n;
        const cnv_cpu_range_fn fn = pool.fn;
        void *ctx = pool.ctx;
        const int t = pool.threads;
        pthread_mutex_unlock(&pool.lock);
        run_share(i, t, n, fn, ctx);
        pthread_mutex_lock(&pool.lock);
        if (++pool.done == t - 1) pthread_cond_signal(&pool.finish);
    }
    return NULL;
}

/* A child of fork has none of the workers: it starts a pool of its own on its first loop. */
static void forget_pool_after_fork(void) {
    pthread_mutex_init(&pool.setup, NULL);
    pthread_mutex_init(&pool.busy, NULL);
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.start, NULL);
    pthread_cond_init(&pool.finish, NULL);
    pool.started = 0;
    pool.threads = 1;
    pool.round = 0;
}

/* Starts the workers (setup held); a worker that cannot be created leaves the pool smaller. */
static void start_pool(void) {
    static int fork_handler;
    if (!fork_handler) fork_handler = pthread_atfork(NULL, NULL, forget_pool_after_fork) == 0;
    pool.started = 1;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int want = cores < 1 ? 1 : cores > MAX_THREADS ? MAX_THREADS : (int)cores;
    pool.threads = 1;
    for (int i = 1; i < want; i++) {
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int ok = pthread_create(&th, &attr, worker, (void *)(intptr_t)i) == 0;
        pthread_attr_destroy(&attr);
        if (!ok) break;
        pool.threads++;
    }
}

int cnv_cpu_threads(void) {
    pthread_mutex_lock(&pool.setup);
    if (!pool.started) start_pool();
    pthread_mutex_unlock(&pool.setup);
    return pool.threads;
}

void cnv_cpu_parallel(size_t n, size_t min_n, cnv_cpu_range_fn fn, void *ctx) {
    if (n == 0) return;
    if (n < min_n) {
        fn(ctx, 0, n);
        return;
    }
    /* One loop at a time: a second caller (another thread's backend) runs its loop alone. */
    if (cnv_cpu_threads() < 2 || pthread_mutex_trylock(&pool.busy) != 0) {
        fn(ctx, 0, n);
        return;
    }
    pthread_mutex_lock(&pool.lock);
    pool.n = n;
    pool.fn = fn;
    pool.ctx = ctx;
    pool.done = 0;
    pool.round++;
    pthread_cond_broadcast(&pool.start);
    pthread_mutex_unlock(&pool.lock);
    run_share(0, pool.threads, n, fn, ctx);
    pthread_mutex_lock(&pool.lock);
    while (pool.done < pool.threads - 1) pthread_cond_wait(&pool.finish, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
    pthread_mutex_unlock(&pool.busy);
}
