/* The heap's collector threads: helpers made at the first full collection
 * that wants them and kept for the heap's life, parked on a condition
 * variable between jobs (no spinning while the program runs).  A job is
 * one pass of a full collection (gc_par.c): the collecting thread runs it
 * as worker 0 and each helper as worker i, and rc__gc_workers_run returns
 * once all of them have finished it, so passes never overlap. */
#include "gc_workers.h"
#include "../prim/proc_mem.h"

#include <stdlib.h>

typedef struct helper {
    struct rc_gc_workers *pool;
    unsigned              index;
    rc__os_thread         thread;
} helper;

struct rc_gc_workers {
    rc__os_mutex lock;
    rc__os_cond  wake;       /* a job was posted, or stop */
    rc__os_cond  done;       /* the last helper finished the job */
    helper      *helpers;
    unsigned     nhelpers;   /* threads running */
    long         pid;        /* the process that made them (a forked child has none) */
    uint64_t     jobs;       /* jobs posted: a helper runs each once */
    rc_gc_job    job;
    void        *arg;
    unsigned     width;      /* workers of the posted job */
    unsigned     busy;       /* helpers still in it */
    bool         stop;
    rc_gc_scratch scratch;
};

/* Runs the posted job if this helper is one of its workers. */
static void helper_job(struct rc_gc_workers *w, unsigned index)
{
    if (index >= w->width)
        return;
    rc_gc_job job = w->job;
    void *arg = w->arg;
    rc__os_unlock(&w->lock);
    job(arg, index);
    rc__os_lock(&w->lock);
    if (--w->busy == 0)
        rc__os_cond_broadcast(&w->done);
}

static void *helper_main(void *p)
{
    helper *me = p;
    struct rc_gc_workers *w = me->pool;
    rc__os_lock(&w->lock);
    for (uint64_t seen = 0;;) {      /* every helper is made before the first job */
        while (!w->stop && w->jobs == seen)
            rc__os_cond_wait(&w->wake, &w->lock);
        if (w->stop)
            break;
        seen = w->jobs;
        helper_job(w, me->index);
    }
    rc__os_unlock(&w->lock);
    return NULL;
}

static void stop_helpers(struct rc_gc_workers *w)
{
    rc__os_lock(&w->lock);
    w->stop = true;
    rc__os_cond_broadcast(&w->wake);
    rc__os_unlock(&w->lock);
    for (unsigned i = 0; i < w->nhelpers; i++)
        rc__os_thread_join(w->helpers[i].thread);
}

static void scratch_free(rc_gc_scratch *s)
{
    rc__mapvec_free(&s->spans, &s->spans_cap, sizeof *s->spans);
    rc__mapvec_free(&s->dead_in, &s->dead_in_cap, sizeof *s->dead_in);
}

static void pool_free(struct rc_gc_workers *w)
{
    scratch_free(&w->scratch);
    rc__os_cond_destroy(&w->done);
    rc__os_cond_destroy(&w->wake);
    rc__os_mutex_destroy(&w->lock);
    free(w->helpers);
    free(w);
}

static struct rc_gc_workers *pool_new(unsigned nhelpers)
{
    struct rc_gc_workers *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->helpers = calloc(nhelpers, sizeof *w->helpers);
    bool lock = rc__os_mutex_init(&w->lock);
    bool wake = lock && rc__os_cond_init(&w->wake);
    bool done = wake && rc__os_cond_init(&w->done);
    if (!w->helpers || !done) {
        if (wake)
            rc__os_cond_destroy(&w->wake);
        if (lock)
            rc__os_mutex_destroy(&w->lock);
        free(w->helpers);
        free(w);
        return NULL;
    }
    w->pid = rc__proc_self();
    return w;
}

/* As many helpers as the OS gives, up to n. */
static void start_helpers(struct rc_gc_workers *w, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        w->helpers[i] = (helper){w, i + 1, 0};
        if (!rc__os_thread_start(&w->helpers[i].thread, helper_main, &w->helpers[i]))
            break;
        w->nhelpers++;
    }
}

unsigned rc__gc_workers_get(rc_heap *h, unsigned want)
{
    struct rc_gc_workers *w = h->gc.workers;
    if (w && w->pid != rc__proc_self()) {
        /* fork() copied the pool but not its threads: the copy is left
         * alone (its lock may be held by a thread that is not here). */
        w = h->gc.workers = NULL;
    }
    if (!w && want > 1) {
        w = pool_new(want - 1);
        if (w)
            start_helpers(w, want - 1);
        if (w && w->nhelpers == 0) {
            pool_free(w);
            w = NULL;
        }
        h->gc.workers = w;
    }
    unsigned have = w ? w->nhelpers + 1 : 1;
    return want < have ? want : have;
}

void rc__gc_workers_run(rc_heap *h, unsigned n, rc_gc_job job, void *arg)
{
    struct rc_gc_workers *w = h->gc.workers;
    if (n > 1) {
        rc__os_lock(&w->lock);
        w->job = job;
        w->arg = arg;
        w->width = n;
        w->busy = n - 1;
        w->jobs++;
        rc__os_cond_broadcast(&w->wake);
        rc__os_unlock(&w->lock);
    }
    job(arg, 0);
    if (n > 1) {
        rc__os_lock(&w->lock);
        while (w->busy > 0)
            rc__os_cond_wait(&w->done, &w->lock);
        rc__os_unlock(&w->lock);
    }
}

rc_gc_scratch *rc__gc_workers_scratch(rc_heap *h)
{
    return &h->gc.workers->scratch;
}

void rc__gc_workers_scratch_free(rc_heap *h)
{
    struct rc_gc_workers *w = h->gc.workers;
    if (w && w->pid == rc__proc_self())
        scratch_free(&w->scratch);
}

void rc__gc_workers_destroy(rc_heap *h)
{
    struct rc_gc_workers *w = h->gc.workers;
    if (!w || w->pid != rc__proc_self())
        return;
    stop_helpers(w);
    pool_free(w);
    h->gc.workers = NULL;
}
