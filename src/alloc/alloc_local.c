/* Per-thread pools of threaded heaps: mimalloc's thread-owned pages with
 * delayed frees, on this allocator's pools (design: docs/threads.md,
 * "Allocation").
 *
 * Invariants kept here:
 *   - A per-thread state ("local") is an rc_alloc_state whose home is the
 *     heap's state, listed in home->locals.  Its class lists hold object
 *     pools it owns (p->owner == loc).  Only its thread allocates from
 *     them, frees into their free lists and moves them between lists --
 *     or another thread holding the heap lock while loc's thread is
 *     stopped or detached.
 *   - A block of an owned pool freed on another thread gets tw == 0 and
 *     is pushed onto its owner's remote list (one compare-and-swap); it
 *     stays counted in its pool's used until drained into the pool: by
 *     the owner when a class list runs dry, by a detach, or by
 *     rc__alloc_settle with the world stopped.
 *   - p->owner changes only while p holds no live block (taken from or
 *     given back to the heap, under the lock), so whoever frees a live
 *     block reads a stable owner.
 *   - An owned pool that empties stays first in its class list, or waits
 *     in loc->empties (owned, used 0, in no class list) until loc's
 *     thread next holds the lock (a refill, a detach) or rc__alloc_settle
 *     runs: so no free and no drain takes the lock.
 *   - loc->on_free is home's free hook, which changes only with the world
 *     stopped and is copied into every local before it restarts
 *     (rc__alloc_resume): a free of an owned block reads it from the
 *     owner instead of looking up the heap.
 *   - A local's room, room_low, countdown and event_at count its bytes and
 *     attempts since its last fold into home (under the lock: at a refill,
 *     a detach, each stop of the world).  Requested bytes, attempts and
 *     live blocks are exact once every local is drained and folded, which
 *     the statistics ensure by stopping the world.  The peak takes, at
 *     each fold, the heap's total then plus the local's own high-water
 *     mark since its last fold: exact while one thread allocates, and
 *     with several, off by at most what the others allocated or freed
 *     since their own last fold.
 *   - Locals serve allocations only while rc__locals_allowed(home): the
 *     cap, fault injection and the allocation hook need the heap's own
 *     counters at each attempt.  Otherwise a fold leaves a local's
 *     countdown at 1, so each allocation takes the lock and the heap's
 *     pools (alloc.c, new_object_local_slow).
 *   - A detaching thread's local is abandoned: its empty pools go back to
 *     the heap, the others keep their live blocks and their owner until
 *     the next thread to attach adopts the local.  Attach and abandon do
 *     not take the heap lock (a collection holds it while finalizers run,
 *     and a thread attaching then must not wait for it): the core runs
 *     them under its own mutex, and never while the world is stopped.
 *     The heap frees its locals with itself.
 */
#include "alloc_impl.h"

#include <stdatomic.h>
#include <stdlib.h>

_Thread_local struct rc_alloc_tls rc__alloc_tls __attribute__((tls_model("initial-exec")));

/* A local's room at each fold: what it allocates or frees until the next
 * one cannot wrap it. */
#define LOCAL_ROOM (SIZE_MAX / 2)

bool rc__locals_allowed(const struct rc_alloc_state *st)
{
    return st->cap == SIZE_MAX && !st->fail_at && !st->on_alloc;
}

static void local_restart(struct rc_alloc_state *loc)
{
    loc->cap = loc->room = loc->room_low = LOCAL_ROOM;
    loc->countdown = loc->event_at = 1;   /* no attempt; the next one needs a look */
    if (loc->on_free != loc->home->on_free)  /* only with the world stopped: other threads read it */
        loc->on_free = loc->home->on_free;
    if (rc__locals_allowed(loc->home))
        rc__arm_fault(loc);               /* fail_at is 0: no event for 2^62 attempts */
}

void rc__local_fold(struct rc_alloc_state *loc)
{
    struct rc_alloc_state *st = loc->home;
    size_t before = st->room, high = LOCAL_ROOM - loc->room_low;
    st->room = before + loc->room - LOCAL_ROOM;     /* the local's bytes, either way */
    if (high <= before && before - high < st->room_low)
        st->room_low = before - high;
    st->countdown -= rc__attempts(loc);
    local_restart(loc);
}

void rc__local_remote_free(struct rc_alloc_state *loc, char *b)
{
    char *head = atomic_load_explicit(&loc->remote, memory_order_relaxed);
    do
        *rc__link_of(b) = head;
    while (!atomic_compare_exchange_weak_explicit(&loc->remote, &head, b, memory_order_release,
                                                  memory_order_relaxed));
}

/* Gives the pools waiting in loc->empties back to the heap (under the
 * lock). */
static void flush_empties(rc_heap *h, struct rc_alloc_state *loc)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    while (loc->empties) {
        rc_pool *p = loc->empties;
        loc->empties = p->next;
        p->owner = NULL;
        rc__pool_relink(st, p);           /* rc__pool_emptied takes it off the heap's list */
        rc__pool_emptied(st, p);
    }
}

/* The empty pool p leaves loc's class list for loc->empties. */
static void wait_empty(struct rc_alloc_state *loc, rc_pool *p)
{
    rc__pool_unlink(loc, p);
    p->next = loc->empties;
    loc->empties = p;
}

/* Keeps p if it is the pool loc allocates its class from, so that a
 * thread allocating and freeing in turn does not churn pools (it may then
 * sink in the list, empty, as other pools come first); else p waits in
 * loc->empties for the next time loc's thread holds the lock, so that no
 * free takes it. */
void rc__local_emptied(struct rc_alloc_state *loc, rc_pool *p)
{
    if (loc->usedpools[RC_KIND_INDEX(RC_KIND_OBJ)][p->cls] != p)
        wait_empty(loc, p);
}

/* ---- raw buffers ----------------------------------------------------------
 * A kept buffer stays a used block of its pool (no thread owns raw
 * pools: they change only under the lock), counted freed in its keeper's
 * bytes; every fold of the world's counts (rc__alloc_settle) and each
 * detach give the kept blocks back, so the statistics and the pools'
 * checks see them free.  Only while the local serves allocations
 * (countdown > 1: no cap, fault or hook to see each attempt). */
#define RAW_KEPT_MAX 4

static struct rc_alloc_state *raw_local(rc_heap *h)
{
    struct rc_alloc_state *loc = rc__alloc_tls.loc;
    return rc__alloc_tls_is(h) && loc && loc->countdown > 1 && !loc->on_free ? loc : NULL;
}

void *rc__raw_take_cached(rc_heap *h, size_t n)
{
    struct rc_alloc_state *loc = raw_local(h);
    if (!loc || n - 1 >= RC_SMALL_MAX)
        return NULL;
    unsigned cls = rc__class_of(n);
    char *b = loc->raw_cache[cls];
    size_t size = rc__class_size(cls);
    if (!b || size > loc->room)
        return NULL;
    loc->raw_cache[cls] = *rc__link_of(b);
    loc->nraw_cache[cls]--;
    loc->countdown--;
    loc->room -= size;
    if (loc->room < loc->room_low)
        loc->room_low = loc->room;
    return b;
}

bool rc__raw_keep_cached(rc_heap *h, void *p)
{
    struct rc_alloc_state *loc = raw_local(h);
    if (!loc || !p || !rc__in_arena(loc->home, p))
        return false;
    rc_pool *pool = rc__pool_of(p);
    if (pool->kind != RC_KIND_RAW || pool->heap != h || loc->nraw_cache[pool->cls] == RAW_KEPT_MAX)
        return false;
    *rc__link_of(p) = loc->raw_cache[pool->cls];
    loc->raw_cache[pool->cls] = p;
    loc->nraw_cache[pool->cls]++;
    loc->room += pool->size;
    return true;
}

/* Under the lock or with the world stopped. */
static void raw_give_back(struct rc_alloc_state *loc)
{
    for (unsigned c = 0; c < RC_NCLASSES; c++) {
        while (loc->raw_cache[c]) {
            char *b = loc->raw_cache[c];
            loc->raw_cache[c] = *rc__link_of(b);
            if (rc__push_block(loc->home, rc__pool_of(b), b))
                rc__pool_emptied(loc->home, rc__pool_of(b));
        }
        loc->nraw_cache[c] = 0;
    }
}

/* Moves the blocks other threads freed into loc's pools. */
static void drain(struct rc_alloc_state *loc)
{
    char *b = atomic_exchange_explicit(&loc->remote, NULL, memory_order_acquire);
    while (b) {
        char *next = *rc__link_of(b);
        rc_pool *p = rc__pool_of(b);
        loc->room += p->size;
        if (rc__push_block(loc, p, b))
            rc__local_emptied(loc, p);
        b = next;
    }
}

bool rc__local_drain(struct rc_alloc_state *loc, int kind, unsigned cls)
{
    drain(loc);
    return loc->usedpools[RC_KIND_INDEX(kind)][cls] != NULL;
}

char *rc__local_refill(rc_heap *h, struct rc_alloc_state *loc, int kind, unsigned cls)
{
    bool took = rc__alloc_lock_enter(h);
    rc__local_fold(loc);
    flush_empties(h, loc);
    char *b = rc__pool_refill(h, loc, kind, cls);
    if (b)
        rc__pool_of(b)->owner = loc;      /* NULL while the heap held it */
    rc__alloc_lock_leave(h, took);
    return b;
}

struct rc_alloc_state *rc__alloc_local_attach(rc_heap *h)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    for (struct rc_alloc_state *loc = st->locals; loc; loc = loc->locals)
        if (loc->abandoned) {
            loc->abandoned = false;       /* folded when abandoned, and at each settle since */
            return loc;
        }
    struct rc_alloc_state *loc = calloc(1, sizeof *loc);
    if (!loc)
        return NULL;
    for (size_t i = 0; i < RC_BITS_L1; i++)
        loc->arena_bits[i] = rc__no_arenas;
    loc->home = st;
    loc->err = st->err;
    loc->locals = st->locals;
    st->locals = loc;
    local_restart(loc);
    return loc;
}

void rc__alloc_local_select(struct rc_alloc_state *loc)
{
    rc__alloc_tls = (struct rc_alloc_tls){loc ? loc->home : NULL, loc};
}

void rc__alloc_local_detach(rc_heap *h, struct rc_alloc_state *loc)
{
    if (rc__alloc_tls.loc == loc)
        rc__alloc_local_select(NULL);
    if (!loc)
        return;
    drain(loc);
    for (unsigned c = 0; c < RC_NCLASSES; c++)
        for (rc_pool *p = loc->usedpools[RC_KIND_INDEX(RC_KIND_OBJ)][c], *next; p; p = next) {
            next = p->next;
            if (!p->used)
                wait_empty(loc, p);
        }
    flush_empties(h, loc);
    raw_give_back(loc);
    rc__local_fold(loc);
}

void rc__alloc_local_abandon(struct rc_alloc_state *loc)
{
    if (loc)
        loc->abandoned = true;
}

void rc__alloc_settle(rc_heap *h)
{
    for (struct rc_alloc_state *loc = rc__alloc_state(h)->locals; loc; loc = loc->locals) {
        drain(loc);
        flush_empties(h, loc);
        raw_give_back(loc);
        rc__local_fold(loc);
    }
}

void rc__alloc_quiesce(rc_heap *h)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    if (st->stop) {
        st->stop(h);
        rc__alloc_settle(h);
    }
}

void rc__alloc_resume(rc_heap *h)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    if (!st->stop)
        return;
    for (struct rc_alloc_state *loc = st->locals; loc; loc = loc->locals)
        local_restart(loc);               /* folded at the stop: only the settings may have changed */
    st->start(h);
}

/* The heap's locals go with it (alloc.c, rc__alloc_destroy). */
void rc__alloc_locals_destroy(struct rc_alloc_state *st)
{
    while (st->locals) {
        struct rc_alloc_state *loc = st->locals;
        st->locals = loc->locals;
        if (rc__alloc_tls.loc == loc)
            rc__alloc_local_select(NULL);
        free(loc);
    }
}
