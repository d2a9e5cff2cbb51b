/* The gc module's control surface: switches, thresholds, statistics,
 * freeze, object queries, gc.garbage and callbacks. */
#include "gc_impl.h"
#include "gc_workers.h"

#include <stdlib.h>

/* A switch is where a program's phases meet (a peak built with the
 * collector off, then dropped): the young vector shrinks if it can. */
void rc_gc_enable(rc_heap *h)
{
    RC_STOP_WORLD(h);
    h->gc.enabled = true;
    rc__gc_young_trim(&h->gc);
}

void rc_gc_disable(rc_heap *h)
{
    RC_STOP_WORLD(h);
    h->gc.enabled = false;
    rc__gc_young_trim(&h->gc);
}

bool rc_gc_isenabled(const rc_heap *h) { return h->gc.enabled; }
void rc_gc_set_debug(rc_heap *h, unsigned flags) { RC_LOCK_HEAP(h); h->gc.debug = flags; }
unsigned rc_gc_get_debug(const rc_heap *h) { return h->gc.debug; }

/* A threaded heap's threads count their objects apart: the stop of the
 * world adds their counts up (thread_heap.c, "young segments"). */
void rc_gc_get_count(const rc_heap *h, size_t count[3])
{
    RC_STOP_WORLD((rc_heap *)(uintptr_t)h);
    memcpy(count, h->gc.count, sizeof h->gc.count);
}

void rc_gc_get_threshold(const rc_heap *h, size_t threshold[3])
{
    memcpy(threshold, h->gc.threshold, sizeof h->gc.threshold);
}

void rc_gc_set_threshold(rc_heap *h, size_t t0, size_t t1, size_t t2)
{
    RC_STOP_WORLD(h);
    h->gc.threshold[0] = t0;
    h->gc.threshold[1] = t1;
    h->gc.threshold[2] = t2;
}

rc_gc_stats rc_gc_get_stats(const rc_heap *h, int generation)
{
    if (generation < 0 || generation > 2)
        return (rc_gc_stats){0};
    RC_LOCK_HEAP((rc_heap *)(uintptr_t)h);
    return h->gc.stats[generation];
}

/* Rewrites the gc word of every object in gen 2 whose word is `from`. */
static size_t retag_old(rc_heap *h, uint32_t from, uint32_t to)
{
    size_t n = 0;
    RC_FOR_EACH_TRACKABLE(h, o, {
        if (o->gc == from) {
            o->gc = to;
            n++;
        }
    });
    return n;
}

/* Freeze and unfreeze rewrite generations: not while a collection runs
 * or deaths wait in the queue (the pools cannot be walked then). */
static int refuse_busy(rc_heap *h, const char *fn)
{
    if (h->gc.collecting)
        return rc__error(h, RC_ESTATE, "%s: not during a collection", fn);
    if (rc__deaths_queued(h))
        return rc__error(h, RC_ESTATE, "%s: not while deaths wait in the queue", fn);
    return 0;
}

int rc_gc_freeze(rc_heap *h)
{
    RC_STOP_WORLD(h);
    rc_gc_state *gc = &h->gc;
    int busy = refuse_busy(h, "rc_gc_freeze");
    if (busy)
        return busy;
    for (size_t i = 0; i < gc->young_len; i++)
        if (gc->young[i]) {
            gc->young[i]->gc = RC_GC_FROZEN;
            gc->frozen_count++;
        }
    gc->young_len = gc->gen0_start = gc->holes0 = 0;
    rc__gc_young_trim(gc);
    gc->frozen_count += retag_old(h, RC_GC_OLD, RC_GC_FROZEN);
    gc->old_count = 0;
    gc->count[0] = 0;
    return 0;
}

int rc_gc_unfreeze(rc_heap *h)
{
    RC_STOP_WORLD(h);
    rc_gc_state *gc = &h->gc;
    int busy = refuse_busy(h, "rc_gc_unfreeze");
    if (busy)
        return busy;
    gc->old_count += retag_old(h, RC_GC_FROZEN, RC_GC_OLD);
    gc->frozen_count = 0;
    rc__gc_set_dirty(h, 2);     /* what only frozen objects held is no longer held from outside */
    return 0;
}

size_t rc_gc_get_freeze_count(const rc_heap *h) { return h->gc.frozen_count; }

/* What a query found, each object held by a reference while the caller's
 * function runs, as Python holds the list gc.get_objects returns: fn may
 * allocate, drop references or collect without disturbing the walk, which
 * is over by then. */
typedef struct found {
    void  **v;
    size_t  len, cap;
    bool    nomem;
} found;

static void found_add(found *f, rc_head *o)
{
    if (f->nomem)
        return;
    if (f->len == f->cap && !rc__vec_reserve(&f->v, &f->cap, f->len + 1, sizeof *f->v, 64, SIZE_MAX)) {
        f->nomem = true;
        return;
    }
    rc_incref(rc__body(o));
    f->v[f->len++] = rc__body(o);
}

static int found_deliver(rc_heap *h, found *f, rc_visit fn, void *arg)
{
    int rv = f->nomem ? rc__error(h, RC_ENOMEM, "no memory for the list of objects found") : 0;
    for (size_t i = 0; i < f->len && !f->nomem && rv == 0; i++)
        rv = fn(f->v[i], arg);
    for (size_t i = 0; i < f->len; i++)
        rc_decref(f->v[i]);
    free(f->v);
    return rv;
}

/* Visits the tracked objects of one generation (or all of 0..2 with -1). */
int rc_gc_get_objects(rc_heap *h, int generation, rc_visit fn, void *arg)
{
    RC_STOP_WORLD(h);
    rc_gc_state *gc = &h->gc;
    if (generation < -1 || generation > 2)
        return rc__error(h, RC_EINVAL, "generation must be -1..2, got %d", generation);
    if (rc__deaths_queued(h))
        return rc__error(h, RC_ESTATE, "rc_gc_get_objects: not while deaths wait in the queue");
    found f = {NULL, 0, 0, false};
    if (generation == 0 || generation == 1 || generation == -1) {
        size_t lo = generation == 0 ? gc->gen0_start : 0;
        size_t hi = generation == 1 ? gc->gen0_start : gc->young_len;
        for (size_t i = lo; i < hi; i++)
            if (gc->young[i])
                found_add(&f, gc->young[i]);
    }
    if (generation == 2 || generation == -1) {
        RC_FOR_EACH_TRACKABLE(h, o, {
            if (o->gc == RC_GC_OLD)
                found_add(&f, o);
        });
    }
    return found_deliver(h, &f, fn, arg);
}

typedef struct target_search {
    const void *target;
    bool        found;
} target_search;

RC_INLINE int visit_find_target(void *child, void *arg)
{
    target_search *s = arg;
    s->found = child == s->target;
    return s->found;
}

/* gc.get_referrers: one address-ordered walk, children visited inline. */
int rc_gc_get_referrers(rc_heap *h, const void *target, rc_visit fn, void *arg)
{
    RC_STOP_WORLD(h);
    if (rc__deaths_queued(h))
        return rc__error(h, RC_ESTATE, "rc_gc_get_referrers: not while deaths wait in the queue");
    found f = {NULL, 0, 0, false};
    RC_FOR_EACH_TRACKABLE(h, o, {
        /* Frozen objects are not searched, as CPython's permanent
         * generation is not; a running collection's candidates (a finalizer
         * asking) are not either, as CPython's unreachable list is not. */
        if (o->gc == RC_GC_UNTRACKED || o->gc == RC_GC_FROZEN || is_cand(o->gc))
            continue;
        target_search s = {target, false};
        RC_FOR_EACH_CHILD(o, visit_find_target, &s);
        if (s.found)
            found_add(&f, o);
    });
    return found_deliver(h, &f, fn, arg);
}

int rc_gc_get_referents(void *o, rc_visit fn, void *arg)
{
    rc__check_arg(o);
    RC_STOP_WORLD_OBJECT(o);
    return rc__traverse(rc__head(o), fn, arg);
}

/* ---- gc.garbage and callbacks ---------------------------------------------------------- */

int rc_gc_garbage(rc_heap *h, rc_visit fn, void *arg)
{
    RC_LOCK_HEAP(h);
    for (size_t i = 0; i < h->gc.garbage_len; i++) {
        int rv = fn(h->gc.garbage[i], arg);
        if (rv)
            return rv;
    }
    return 0;
}

size_t rc_gc_garbage_count(const rc_heap *h) { return h->gc.garbage_len; }

void rc_gc_garbage_clear(rc_heap *h)
{
    RC_LOCK_HEAP(h);
    rc_gc_state *gc = &h->gc;
    /* Decrefs may run finalizers that append again: take the list first. */
    void **v = gc->garbage;
    size_t n = gc->garbage_len;
    gc->garbage = NULL;
    gc->garbage_len = gc->garbage_cap = 0;
    for (size_t i = 0; i < n; i++)
        rc_decref(v[i]);
    free(v);
}

int rc_gc_callback_add(rc_heap *h, rc_gc_callback cb, void *ctx)
{
    RC_LOCK_HEAP(h);
    rc_gc_state *gc = &h->gc;
    if (!cb)
        return rc__error(h, RC_EINVAL, "rc_gc_callback_add: NULL callback");
    if (!rc__vec_reserve(&gc->callbacks, &gc->callbacks_cap, gc->ncallbacks + 1, sizeof *gc->callbacks, 4, SIZE_MAX))
        return rc__error(h, RC_ENOMEM, "rc_gc_callback_add: out of memory");
    gc->callbacks[gc->ncallbacks++] = (struct rc_gc_cb){cb, ctx};
    return 0;
}

int rc_gc_callback_remove(rc_heap *h, rc_gc_callback cb, void *ctx)
{
    RC_LOCK_HEAP(h);
    rc_gc_state *gc = &h->gc;
    for (size_t i = 0; i < gc->ncallbacks; i++) {
        if (gc->callbacks[i].fn == cb && gc->callbacks[i].ctx == ctx) {
            memmove(&gc->callbacks[i], &gc->callbacks[i + 1],
                    (gc->ncallbacks - i - 1) * sizeof gc->callbacks[0]);
            gc->ncallbacks--;
            return 0;
        }
    }
    return rc__error(h, RC_ENOENT, "rc_gc_callback_remove: callback not registered");
}

void rc__gc_destroy(rc_heap *h)
{
    rc_gc_state *gc = &h->gc;
    rc__gc_workers_destroy(h);
    rc__mapvec_free(&gc->young, &gc->young_cap, sizeof *gc->young);
    free(gc->garbage);
    free(gc->callbacks);
    rc__weak_destroy(h);
    memset(gc, 0, sizeof *gc);
}
