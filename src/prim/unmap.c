/* Unmapping on a thread of one's own.  munmap frees the pages there and
 * then, about 0.35 µs per 4 KiB page here: giving back the 320 MB of a
 * dead list of ten million ints costs 25-35 ms of CPU.  A heap that
 * gives back that much at once hands the ranges to its unmapper instead;
 * its thread unmaps them while the program goes on, and the resident
 * memory falls as soon as it has (a few tens of milliseconds on a spare
 * core).  The ranges are out of every table by then: nothing reads them.
 * A heap that has fallen from a peak also asks the thread to trim malloc
 * after the batch: the queue, which grew with the batch, is freed only
 * then, and a trim before it would leave its pages resident. */
#include "prim.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct range {
    void  *p;
    size_t size;
} range;

struct rc__os_unmapper {
    pthread_t       thread;
    pid_t           pid;          /* a forked child has no thread: it unmaps itself */
    pthread_mutex_t lock;
    pthread_cond_t  wake, idle;
    range          *q;            /* ranges waiting, under lock */
    size_t          len, cap;
    bool            busy, stop;
    bool            trim;         /* rc__os_malloc_trim after the batch */
};

static int range_order(const void *a, const void *b)
{
    const char *x = ((const range *)a)->p, *y = ((const range *)b)->p;
    return (x > y) - (x < y);
}

/* Adjacent ranges (arenas mapped one after the other) go in one call: each
 * munmap interrupts the program's threads on the other cores to flush
 * their TLBs, once per call however long the range, and two arenas
 * sharing a huge page (alloc's arena_huge) free it whole, unsplit. */
static void unmap_all(range *q, size_t n)
{
    if (n)
        qsort(q, n, sizeof *q, range_order);
    for (size_t i = 0; i < n;) {
        range run = q[i++];
        while (i < n && q[i].p == (char *)run.p + run.size)
            run.size += q[i++].size;
        munmap(run.p, run.size);
    }
}

/* Takes everything waiting, unmaps it outside the lock, until stopped. */
static void *unmapper_main(void *arg)
{
    rc__os_unmapper *u = arg;
    pthread_mutex_lock(&u->lock);
    for (;;) {
        while (!u->len && !u->trim && !u->stop) {
            u->busy = false;
            pthread_cond_broadcast(&u->idle);
            pthread_cond_wait(&u->wake, &u->lock);
        }
        if (!u->len && !u->trim)
            break;
        range *q = u->q;
        size_t n = u->len;
        bool trim = u->trim;
        u->q = NULL;
        u->len = u->cap = 0;
        u->trim = false;
        u->busy = true;
        pthread_mutex_unlock(&u->lock);
        unmap_all(q, n);
        free(q);
        if (trim)
            rc__os_malloc_trim();
        pthread_mutex_lock(&u->lock);
    }
    u->busy = false;
    pthread_cond_broadcast(&u->idle);
    pthread_mutex_unlock(&u->lock);
    return NULL;
}

/* The thread blocks every signal: the program's handlers (a sampler's
 * timer, the tracer's) must run on the program's own threads. */
static bool start_thread(rc__os_unmapper *u)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    bool ok = pthread_create(&u->thread, NULL, unmapper_main, u) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return ok;
}

rc__os_unmapper *rc__os_unmapper_new(void)
{
    rc__os_unmapper *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->pid = getpid();
    pthread_mutex_init(&u->lock, NULL);
    pthread_cond_init(&u->wake, NULL);
    pthread_cond_init(&u->idle, NULL);
    if (!start_thread(u)) {
        pthread_cond_destroy(&u->idle);
        pthread_cond_destroy(&u->wake);
        pthread_mutex_destroy(&u->lock);
        free(u);
        return NULL;
    }
    return u;
}

static bool queue_push(rc__os_unmapper *u, void *p, size_t size)
{
    if (!rc__vec_reserve(&u->q, &u->cap, u->len + 1, sizeof *u->q, 64, SIZE_MAX))
        return false;
    u->q[u->len++] = (range){p, size};
    return true;
}

bool rc__os_unmap_later(rc__os_unmapper *u, void *p, size_t size)
{
    if (!u || u->pid != getpid())
        return false;
    RC_ASAN_UNPOISON(p, size);   /* the next mapping here must not inherit poison */
    pthread_mutex_lock(&u->lock);
    bool ok = queue_push(u, p, size);
    if (ok)
        pthread_cond_signal(&u->wake);
    pthread_mutex_unlock(&u->lock);
    return ok;
}

bool rc__os_unmap_later_trim(rc__os_unmapper *u)
{
    if (!u || u->pid != getpid())
        return false;
    pthread_mutex_lock(&u->lock);
    u->trim = true;
    pthread_cond_signal(&u->wake);
    pthread_mutex_unlock(&u->lock);
    return true;
}

void rc__os_unmapper_wait(rc__os_unmapper *u)
{
    if (!u || u->pid != getpid())
        return;
    pthread_mutex_lock(&u->lock);
    while (u->len || u->trim || u->busy)
        pthread_cond_wait(&u->idle, &u->lock);
    pthread_mutex_unlock(&u->lock);
}

/* What is waiting is unmapped before this returns: by the thread, or in
 * a forked child (which has no thread) here.  A child leaves the lock and
 * conditions alone: the parent's thread may have held or waited on them
 * when it forked. */
void rc__os_unmapper_free(rc__os_unmapper *u)
{
    if (!u)
        return;
    if (u->pid == getpid()) {
        pthread_mutex_lock(&u->lock);
        u->stop = true;
        pthread_cond_signal(&u->wake);
        pthread_mutex_unlock(&u->lock);
        pthread_join(u->thread, NULL);
        pthread_cond_destroy(&u->idle);
        pthread_cond_destroy(&u->wake);
        pthread_mutex_destroy(&u->lock);
    }
    unmap_all(u->q, u->len);
    free(u->q);
    free(u);
}
