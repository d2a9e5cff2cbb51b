/* Dropping many references at once: the items of a list that clears or
 * dies (seed 001's experiment frees ten million ints this way).
 *
 * Most items that die there are leaves (ints, floats, strings): untracked,
 * no finalizer, clear, release or weakrefs, so nothing can see them once
 * their count is 0, and their deaths may wait.  Consecutive leaf deaths
 * in one pool form a run; when the run ends and its deaths were all of
 * the pool's objects (items appended in order die in order) the pool goes
 * back in one step (rc__free_pool_objects), else its leaves are freed one
 * by one.  Any other death ends the run first, so every death happens in
 * the order of the items, as a decref per item would do them. */
#include "internal.h"

/* Leaf deaths not freed yet, all in one span (a pool: at most this many
 * blocks, or the run is cut and its deaths are freed one by one).  Their
 * counts are never written: a block that goes back with its pool is not
 * read again, so the pass over ten million ints only reads them. */
#define RUN_MAX 1024

/* The pass is bound by memory, not by its instructions: a header asked
 * for this many items ahead is on its way (its page walk too) when its
 * turn comes.  Seed 001's lists: 27 instructions per item against 23, and
 * 10 % less CPU time (docs/design-gc.md). */
#define PREFETCH_AHEAD 16

typedef struct leaf_run {
    char    *start, *end;   /* the span */
    size_t   dead;
    rc_head *o[RUN_MAX];
} leaf_run;

/* Whether o dies as a leaf: RC_HF_PLAIN (noted at rc_new: no finalize,
 * clear, traverse or release), no weakrefs, in a pool. */
RC_INLINE bool dies_as_leaf(const rc_head *o)
{
    return (o->tw & (RC_HF_PLAIN | RC_HF_WEAKREFS | RC_HF_LARGE)) == RC_HF_PLAIN;
}

/* The run's leaves: at once when they are their pool's only objects,
 * else one by one. */
static void run_free(rc_heap *h, leaf_run *run)
{
    if (!run->dead)
        return;
    if (!rc__free_pool_objects(h, run->start, run->dead)) {
        for (size_t i = 0; i < run->dead; i++) {
            run->o[i]->refcnt = 0;
            rc__release_and_free(h, run->o[i]);
        }
    }
    run->dead = 0;
}

RC_INLINE void run_add(rc_heap *h, leaf_run *run, rc_head *o)
{
    if (RC_UNLIKELY(!run->dead || (char *)o < run->start || (char *)o >= run->end || run->dead == RUN_MAX)) {
        run_free(h, run);
        rc_span s;
        rc__span_of(o, &s);
        run->start = s.start;
        run->end = s.start + s.count * s.stride;
    }
    run->o[run->dead++] = o;
}

/* A threaded heap's items may be shared with other threads: each takes
 * rc_decref's atomic path. */
static RC_NOINLINE void decref_each(void *const *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rc_decref(items[i]);
}

void rc__decref_many(rc_heap *h, void *const *items, size_t n)
{
    if (RC_UNLIKELY(h->mt != NULL)) {
        decref_each(items, n);
        return;
    }
    leaf_run run;
    run.dead = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + PREFETCH_AHEAD < n)
            __builtin_prefetch(rc__head(items[i + PREFETCH_AHEAD]));
        rc_head *o = rc__head(items[i]);
        uint32_t count = o->refcnt;
        rc_assert(o->tw && count != 0, "refcount underflow", items[i], "a list's item is already dead");
        if (count != 1) {
            if (count != RC_REFCNT_IMMORTAL) {
                o->refcnt = count - 1;
                rc__gc_decref_kept(o);      /* it may live on in a cycle */
            }
            continue;
        }
        if (RC_LIKELY(dies_as_leaf(o))) {
            run_add(h, &run, o);
            continue;
        }
        run_free(h, &run);
        o->refcnt = 0;
        rc__dealloc(o);
    }
    run_free(h, &run);
}
