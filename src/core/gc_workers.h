/* The heap's collector threads (gc_workers.c), for the parallel passes of
 * a full collection (gc_par.c). */
#ifndef RC_GC_WORKERS_H
#define RC_GC_WORKERS_H

#include "internal.h"

/* One pass: worker runs it as worker number `worker`, of however many
 * rc__gc_workers_run was given. */
typedef void (*rc_gc_job)(void *arg, unsigned worker);

/* How many workers h can run a job on now, the calling thread included:
 * want or fewer (1 when no helper thread could be made).  Makes the
 * helpers the first time more than one is wanted. */
unsigned rc__gc_workers_get(rc_heap *h, unsigned want);
/* Runs job(arg, i) for each i < n (n at most what rc__gc_workers_get
 * gave), 0 on the calling thread, and returns when every one has. */
void rc__gc_workers_run(rc_heap *h, unsigned n, rc_gc_job job, void *arg);
/* What a parallel collection keeps for the next one (gc_par.c): the span
 * list and the dead members per span, which would otherwise be mapped,
 * faulted in and unmapped again by the collecting thread alone while the
 * helpers wait.  Freed with the helpers. */
typedef struct rc_gc_scratch {
    rc_span *spans;
    size_t   spans_cap;
    size_t  *dead_in;
    size_t   dead_in_cap;
} rc_gc_scratch;

/* h's scratch; h has helpers (rc__gc_workers_get gave more than 1). */
rc_gc_scratch *rc__gc_workers_scratch(rc_heap *h);
/* Frees it, when a full collection keeps to one thread: a heap that has
 * shrunk below gc_parallel_min keeps no scratch of its peak. */
void rc__gc_workers_scratch_free(rc_heap *h);
/* Stops and joins the helpers (rc_heap_free). */
void rc__gc_workers_destroy(rc_heap *h);

#endif /* RC_GC_WORKERS_H */
