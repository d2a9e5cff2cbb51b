/* Threaded heaps: attached threads, the heap lock, stopping the world,
 * sleeping for a container's stripe (design and rules: docs/threads.md).
 *
 * Invariants kept here:
 *   - attached counts the threads attached to the heap (a thread counts
 *     once however often it nests attach calls); parked counts those of
 *     them that are waiting: at a safe point while the world is stopped,
 *     for the heap lock, for a container's stripe, or to finish an
 *     attach.  Both change only under mu, and every change is broadcast
 *     on cv.
 *   - A thread that waits here holds no container stripe: it suspends its
 *     sections first and resumes the innermost after (internal.h,
 *     "Container locks"), so whoever it waits for never waits for it.
 *   - stop is set only by the holder of the heap lock (the stopper), so a
 *     thread that holds the lock never finds a stop it must obey, and a
 *     thread that waits for the lock counts as parked: the stopper never
 *     waits for a thread that waits for it.
 *   - The world is stopped when attached - parked is 1 (the stopper, when
 *     attached) or 0: every other attached thread is between two calls
 *     into the heap, or blocked before it changes anything.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

struct rc_mt {
    _Atomic uintptr_t owner;    /* the heap lock: its holder's token (0: free) */
    unsigned depth;             /* the holder's nesting */
    unsigned stop_depth;        /* the stopper's nesting of stop_world */
    _Atomic unsigned waiters;   /* threads asleep on lock_cv */

    rc__os_mutex mu;            /* guards the counts below and the sleeps */
    rc__os_cond cv;             /* attached or parked changed */
    rc__os_cond lock_cv;        /* the heap lock was let go */
    rc__os_cond stripe_cv;      /* a stripe with RC_MT_WAITERS was let go */
    unsigned attached, parked;
    unsigned parked_dying;      /* of the parked, those inside a death without the lock */
    _Atomic bool stop;          /* safe points park while set */
    struct rc_mt_ref ref;       /* who counts references how (thread_ref.c) */
    struct young_seg *youngs;   /* every attached thread's segment ("young segments") */
};

struct rc_mt_ref *rc__mt_ref(rc_heap *h)
{
    return &h->mt->ref;
}

/* The heaps this thread is attached to, with how deeply it nests attach
 * calls: a few heaps per thread is the use, so a small array serves.  Read
 * off the fast paths only, so it stays in the default TLS model (static
 * TLS is scarce for a library loaded with dlopen). */
#define RC_MT_HEAPS_PER_THREAD 16
static _Thread_local struct attachment {
    rc_heap *h;
    unsigned n;
    struct rc_alloc_state *pools;   /* this thread's pools of h (NULL: out of memory) */
    struct young_seg *young;        /* this thread's segment of h (NULL: out of memory) */
} attached_to[RC_MT_HEAPS_PER_THREAD];

/* A token per live thread, cheaper than asking the OS. */
static uintptr_t self(void)
{
    return rc__mt_self();
}

static struct attachment *attachment_of(const rc_heap *h)
{
    for (int i = 0; i < RC_MT_HEAPS_PER_THREAD; i++)
        if (attached_to[i].h == h)
            return &attached_to[i];
    return NULL;
}

static bool is_attached(const rc_heap *h)
{
    return attachment_of(h) != NULL;
}

#if RC_DEBUG >= 1
void rc__mt_check_attached(rc_heap *h, const char *fn)
{
    if (RC_UNLIKELY(!is_attached(h))) {
        char what[128];
        snprintf(what, sizeof what, "called %s without rc_thread_attach", fn);
        rc__debug_thread_misuse(h, what);
    }
}
#endif

/* ---- parking -------------------------------------------------------------- */

/* Under mu: the calling thread counts as parked, and apart as well when
 * it waits inside a death that runs without the lock (its object is
 * half gone: rc_heap_check refuses to run beside it). */
static void parked_in(struct rc_mt *mt)
{
    mt->parked++;
    mt->parked_dying += rc__deaths.unlocked > 0;
    rc__os_cond_broadcast(&mt->cv);
}

static void parked_out(struct rc_mt *mt)
{
    mt->parked--;
    mt->parked_dying -= rc__deaths.unlocked > 0;
}

/* Under mu, counted as parked: sleeps while a stop is in force. */
static void wait_for_restart(struct rc_mt *mt)
{
    while (atomic_load_explicit(&mt->stop, memory_order_relaxed))
        rc__os_cond_wait(&mt->cv, &mt->mu);
}

/* Waits, counted as parked, until the stopper restarts the world. */
static void park(struct rc_mt *mt)
{
    rc__sections_suspend();
    rc__os_lock(&mt->mu);
    parked_in(mt);
    wait_for_restart(mt);
    parked_out(mt);
    rc__os_unlock(&mt->mu);
    rc__sections_resume();
}

void rc_safepoint(rc_heap *h)
{
    if (!h || !h->mt)
        return;
    struct rc_mt *mt = h->mt;
#if RC_DEBUG >= 1
    rc__mt_check_attached(h, "rc_safepoint");
#endif
    rc__mt_ref_settle(h);
    if (RC_UNLIKELY(atomic_load_explicit(&mt->stop, memory_order_acquire)) &&
        atomic_load_explicit(&mt->owner, memory_order_relaxed) != self())
        park(mt);
}

/* ---- the heap lock --------------------------------------------------------
 * The lock word is the holder's token: taking it free is one
 * compare-and-swap, letting it go one store (a pthread mutex cost twice
 * that, and the owner had to be kept beside it anyway).  A thread that
 * finds it held sleeps on lock_cv, counted as parked; the holder that lets
 * go wakes the sleepers when it sees any.  Both the store of 0 and the
 * look at waiters are sequentially consistent, as are the sleeper's count
 * and its retry: either the holder sees the sleeper, or the sleeper's
 * retry sees the lock free. */

static bool try_take(struct rc_mt *mt, uintptr_t me)
{
    uintptr_t free_word = 0;
    return atomic_compare_exchange_strong(&mt->owner, &free_word, me);
}

static RC_NOINLINE void lock_slow(struct rc_mt *mt, uintptr_t me)
{
    rc__sections_suspend();
    rc__os_lock(&mt->mu);
    parked_in(mt);
    atomic_fetch_add(&mt->waiters, 1);
    while (!try_take(mt, me))
        rc__os_cond_wait(&mt->lock_cv, &mt->mu);
    atomic_fetch_sub(&mt->waiters, 1);
    parked_out(mt);               /* no stop is in force: its stopper held the lock */
    rc__os_unlock(&mt->mu);
    mt->depth = 1;
    rc__sections_resume();        /* the heap lock's holder may wait for a stripe */
}

static RC_NOINLINE void wake_waiters(struct rc_mt *mt)
{
    rc__os_lock(&mt->mu);
    rc__os_cond_broadcast(&mt->lock_cv);
    rc__os_unlock(&mt->mu);
}

void rc__mt_lock(rc_heap *h)
{
    struct rc_mt *mt = h->mt;
    uintptr_t me = self();
    if (atomic_load_explicit(&mt->owner, memory_order_relaxed) == me) {
        mt->depth++;
        return;
    }
#if RC_DEBUG >= 1
    rc__mt_check_attached(h, "a heap operation");
#endif
    if (RC_UNLIKELY(!try_take(mt, me))) {
        lock_slow(mt, me);
        return;
    }
    mt->depth = 1;
}

void rc__mt_unlock(rc_heap *h)
{
    struct rc_mt *mt = h->mt;
    if (--mt->depth > 0)
        return;
    atomic_store(&mt->owner, 0);
    if (atomic_load(&mt->waiters))
        wake_waiters(mt);
}

static bool lock_enter(rc_heap *h)
{
    if (atomic_load_explicit(&h->mt->owner, memory_order_relaxed) == self())
        return false;
    rc__mt_lock(h);
    return true;
}

_Thread_local bool rc__mt_again __attribute__((tls_model("initial-exec")));

/* ---- sleeping for a container's stripe -------------------------------------
 * The sleeper sets RC_MT_WAITERS under mu, so the holder, which sees the
 * bit when it lets go, broadcasts after the sleeper waits.  The heap
 * lock's holder keeps the lock while it sleeps (the stripe's holder never
 * waits for it) and is not counted as parked: nobody else can stop the
 * world meanwhile, and it must not wait for a restart of its own stop. */

static void sleep_on_stripe(struct rc_mt *mt, rc__stripe *s)
{
    for (;;) {
        uintptr_t w = atomic_load(&s->word);
        if (w == 0)
            return;
        if ((w & RC_MT_WAITERS) || atomic_compare_exchange_strong(&s->word, &w, w | RC_MT_WAITERS))
            rc__os_cond_wait(&mt->stripe_cv, &mt->mu);
    }
}

void rc__mt_stripe_wait(rc_heap *h, rc__stripe *s)
{
    struct rc_mt *mt = h->mt;
    bool parks = atomic_load_explicit(&mt->owner, memory_order_relaxed) != self();
    rc__os_lock(&mt->mu);
    if (parks)
        parked_in(mt);
    sleep_on_stripe(mt, s);
    if (parks) {
        wait_for_restart(mt);
        parked_out(mt);
    }
    rc__os_unlock(&mt->mu);
}

void rc__mt_stripe_wake(rc_heap *h)
{
    struct rc_mt *mt = h->mt;
    rc__os_lock(&mt->mu);
    rc__os_cond_broadcast(&mt->stripe_cv);
    rc__os_unlock(&mt->mu);
}

/* ---- stopping the world --------------------------------------------------- */

void rc__mt_stop_world(rc_heap *h)
{
    struct rc_mt *mt = h->mt;
    if (mt->stop_depth++ > 0) {
        rc__mt_young_close(h);
        return;
    }
    unsigned me = is_attached(h) ? 1 : 0;
    rc__os_lock(&mt->mu);
    atomic_store_explicit(&mt->stop, true, memory_order_release);
    while (mt->attached - mt->parked > me)
        rc__os_cond_wait(&mt->cv, &mt->mu);
    rc__os_unlock(&mt->mu);
    rc__mt_young_close(h);
}

/* Nested or not: the stopper may have filled a segment meanwhile. */
void rc__mt_start_world(rc_heap *h)
{
    struct rc_mt *mt = h->mt;
    rc__mt_young_close(h);
    if (--mt->stop_depth > 0)
        return;
    rc__os_lock(&mt->mu);
    atomic_store_explicit(&mt->stop, false, memory_order_release);
    rc__os_cond_broadcast(&mt->cv);
    rc__os_unlock(&mt->mu);
}

/* ---- young segments -------------------------------------------------------
 * A tracked object enters gen 0 without the heap lock, in a segment of the
 * young vector its thread reserved under the lock.
 *
 * Invariants (threaded heaps; the young vector itself: gc.c):
 *   - Each attached thread has a record per heap, listed in mt->youngs
 *     (under mu, by join and leave).  Its segment young[next..end) is
 *     part of gen 0: those slots are NULL, counted in holes0, until the
 *     thread fills them in order.
 *   - A record's count0 and holes0 are what its thread's entries and
 *     deaths changed in gc.count[0] and gc.holes0 since its last fold.  A
 *     fold runs under the lock (the thread's own, on its slow path) or
 *     with the world stopped (every record, at each stop and restart):
 *     count[0] and holes0 are exact whenever the world is stopped.
 *   - The young vector is squeezed, grown, shrunk or rewritten only with
 *     the world stopped, and every segment is closed (next == end) at
 *     each stop: the slot a running thread holds stays its own.  A slot
 *     is written without the lock only by the thread filling it, or by
 *     the death of the object in it (a word each, in a vector that does
 *     not move meanwhile).
 *   - A thread enters objects without the lock while count0 <= budget,
 *     what the threshold leaves of count[0] at its last fold, and its
 *     deaths take count0 no lower than floor, -count[0] then: with one
 *     thread, collections start at the same allocation as on a plain
 *     heap and count[0] is a plain heap's; with more, each thread's view
 *     of the others' counts is as of its last fold, as free-threaded
 *     CPython's per-thread allocation counts are. */
struct young_seg {
    rc_heap *h;
    size_t next, end;
    ptrdiff_t count0, holes0, budget, floor;
    struct young_seg *link;
} __attribute__((aligned(64)));     /* written at each entry and death: a line of its own */

#if RC_DEBUG >= 1
#define YOUNG_SEG 4     /* the tests reserve and close segments all the time */
#else
#define YOUNG_SEG 256
#endif

/* The calling thread's record of the heap it last allocated from. */
static _Thread_local struct young_seg *my_young __attribute__((tls_model("initial-exec")));

static RC_NOINLINE struct young_seg *young_lookup(const rc_heap *h)
{
    struct attachment *a = attachment_of(h);
    if (a && a->young)
        my_young = a->young;
    return a ? a->young : NULL;
}

/* The calling thread's record of h, NULL when it has none. */
static struct young_seg *young_of(const rc_heap *h)
{
    struct young_seg *y = my_young;
    return RC_LIKELY(y && y->h == h) ? y : young_lookup(h);
}

static ptrdiff_t young_budget(const rc_gc_state *gc)
{
    if (!gc->enabled || gc->threshold[0] == 0)
        return PTRDIFF_MAX;
    size_t t = gc->threshold[0] < PTRDIFF_MAX / 2 ? gc->threshold[0] : PTRDIFF_MAX / 2;
    return (ptrdiff_t)t - (ptrdiff_t)gc->count[0];
}

/* Under the lock, or with the world stopped. */
static void young_fold(rc_gc_state *gc, struct young_seg *y)
{
    ptrdiff_t c = (ptrdiff_t)gc->count[0] + y->count0;
    gc->count[0] = c > 0 ? (size_t)c : 0;
    gc->holes0 = (size_t)((ptrdiff_t)gc->holes0 + y->holes0);
    y->count0 = y->holes0 = 0;
    y->floor = -(ptrdiff_t)gc->count[0];
    y->budget = young_budget(gc);
}

/* Folded, and its unfilled slots left to gen 0 as holes. */
static void young_close_one(rc_gc_state *gc, struct young_seg *y)
{
    young_fold(gc, y);
    y->next = y->end = 0;
}

void rc__mt_young_close(rc_heap *h)
{
    for (struct young_seg *y = h->mt->youngs; y; y = y->link)
        young_close_one(&h->gc, y);
}

static void young_place(rc_gc_state *gc, struct young_seg *y, rc_head *o)
{
    size_t i = y->next++;
    gc->young[i] = o;
    o->gc = rc__gc_young_word(i);
    y->holes0--;
}

/* Under the lock: a new segment at the end of the vector. */
static bool young_reserve(rc_heap *h, struct young_seg *y)
{
    rc_gc_state *gc = &h->gc;
    if (gc->young_cap - gc->young_len < YOUNG_SEG && !rc__gc_young_room(h, YOUNG_SEG))
        return false;
    y->next = gc->young_len;
    y->end = gc->young_len += YOUNG_SEG;
    gc->holes0 += YOUNG_SEG;
    memset(&gc->young[y->next], 0, YOUNG_SEG * sizeof *gc->young);
    return true;
}

/* Under the lock: o enters gen 0, counted. */
static void young_enter_locked(rc_heap *h, struct young_seg *y, rc_head *o)
{
    if (!y) {
        rc__gc_on_new(h, o);
        return;
    }
    y->count0++;
    if (y->next < y->end || young_reserve(h, y))
        young_place(&h->gc, y, o);
    else
        rc__gc_link_young(h, o);    /* out of memory: to gen 2 (gc.c) */
}

static RC_NOINLINE void young_enter_slow(rc_heap *h, struct young_seg *y, rc_head *o)
{
    rc__mt_lock(h);
    young_enter_locked(h, y, o);
    rc__mt_unlock(h);
}

/* ---- allocation ------------------------------------------------------------
 * Objects come from the calling thread's pools without the heap lock
 * (src/alloc/alloc_local.c), and tracked ones enter gen 0 in its segment.
 * Allocation stays a safe point: it parks while a stop is in force.  The
 * lock is taken to reserve a segment, and when the thread's budget is
 * spent: the threshold check may collect then. */

static RC_NOINLINE void alloc_point_slow(rc_heap *h)
{
    rc_safepoint(h);
    if (!rc__alloc_tls_is(h)) {
        struct attachment *a = attachment_of(h);
        rc__alloc_local_select(a ? a->pools : NULL);
    }
}

static RC_NOINLINE void *new_tracked_due(rc_heap *h, const rc_type *t, size_t body, const rc_site *site,
                                        struct young_seg *y)
{
    rc__mt_lock(h);
    if (y)
        young_fold(&h->gc, y);
    rc__gc_maybe_collect(h);
    void *o = rc__new_object_local(h, (uintptr_t)t | RC_HF_SHARED, body, site);
    if (o) {
        rc__alloc_note_tracked(rc__head(o));
        young_enter_locked(h, y, rc__head(o));
    }
    if (y)
        young_fold(&h->gc, y);
    rc__mt_unlock(h);
    return o;
}

/* The segment is read again after the allocation, which may have parked
 * for a stop that closed it. */
static RC_NOINLINE void *new_tracked(rc_heap *h, const rc_type *t, size_t body, const rc_site *site)
{
    struct young_seg *y = young_of(h);
    if (RC_UNLIKELY(!y || y->count0 > y->budget))
        return new_tracked_due(h, t, body, site, y);
    void *o = rc__new_object_local(h, (uintptr_t)t | RC_HF_SHARED, body, site);
    if (RC_UNLIKELY(!o))
        return NULL;
    rc__alloc_note_tracked(rc__head(o));
    if (RC_UNLIKELY(y->next == y->end))
        young_enter_slow(h, y, rc__head(o));
    else {
        y->count0++;
        young_place(&h->gc, y, rc__head(o));
    }
    return o;
}

/* An untracked object's path has no stack frame: it tail-calls the
 * allocator. */
void *rc__mt_new(rc_heap *h, const rc_type *t, size_t body, const rc_site *site)
{
    rc__mt_ref_settle(h);
    if (RC_UNLIKELY(atomic_load_explicit(&h->mt->stop, memory_order_acquire)) || RC_UNLIKELY(!rc__alloc_tls_is(h)))
        alloc_point_slow(h);
#if RC_DEBUG >= 1
    rc__mt_check_attached(h, "rc_new");
#endif
    if (rc__type_tracked(t))
        return new_tracked(h, t, body, site);
    return rc__new_object_local(h, rc__untracked_tw(t) | RC_HF_SHARED, body, site);
}

/* ---- deaths ------------------------------------------------------------------
 * A death runs without the heap lock when nothing in it needs the lock:
 * no weakref to clear (the weakref table, and rc_weakref_get_ref, which
 * must not revive the object), no finalizer (PEP 442's resurrection
 * meets the collector's tables), and an object that is untracked or
 * young, with a segment of the calling thread's to count in.  Gen 2,
 * frozen and untracked objects of tracked types, a running collection's
 * candidates, and a thread with no record (out of memory, or not
 * attached) take the lock.  Its block goes back without the lock either
 * way (alloc_local.c).  Between the count reaching 0 and the unlinking
 * there is no safe point, and what the death drops afterwards is its
 * own thread's business: a collection that stops the world meanwhile
 * (the death waiting for the lock for a child) finds the object
 * untracked, its children still referenced. */

bool rc__mt_dies_unlocked_slow(const rc_head *o)
{
    const rc_type *t = rc__type(o);
    if ((o->tw & RC_HF_WEAKREFS) || t->finalize)
        return false;
    if (!rc__type_tracked(t))
        return true;
    return rc__gc_is_young(o->gc) && young_of(rc__object_heap(o));
}

void rc__mt_die_unlocked(rc_head *o)
{
    rc__deaths.unlocked++;
    rc__dealloc(o);
    rc__deaths.unlocked--;
}

bool rc__mt_dying(rc_heap *h)
{
    struct rc_mt *mt = h->mt;
    rc__os_lock(&mt->mu);
    bool dying = mt->parked_dying > 0;
    rc__os_unlock(&mt->mu);
    return dying;
}

/* The thread's own last entry gives its slot back to the segment, so a
 * loop that makes and drops an object reuses one slot.  y: the calling
 * thread's record, or NULL under the lock. */
static void young_empty(rc_heap *h, struct young_seg *y, rc_head *o)
{
    rc_gc_state *gc = &h->gc;
    size_t i = rc__gc_young_index(o->gc);
    gc->young[i] = NULL;
    o->gc = RC_GC_UNTRACKED;
    bool in_gen0 = i >= gc->gen0_start;
    if (!y)
        gc->holes0 += in_gen0;
    else if (i + 1 == y->next && y->end - i <= YOUNG_SEG) {
        y->next = i;
        y->holes0++;
    } else
        y->holes0 += in_gen0;
}

void rc__mt_young_drop(rc_heap *h, rc_head *o)
{
    young_empty(h, young_of(h), o);
}

void rc__mt_gc_on_dealloc(rc_heap *h, rc_head *o)
{
    struct young_seg *y = young_of(h);
    if (y)
        y->count0 -= y->count0 > y->floor;
    else
        h->gc.count[0] -= h->gc.count[0] > 0;      /* under the lock */
    if (RC_LIKELY(rc__gc_is_young(o->gc)))
        young_empty(h, y, o);
    else
        rc__gc_unlink_other(h, o);
}

/* The thread's pools are adopted or made in join and abandoned in leave,
 * under mu: not under the heap lock, which a collection holds while
 * finalizers run, nor while the world is stopped (join waits out a stop,
 * and a joined thread is not parked before it returns). */
static void pools_detach(rc_heap *h, struct attachment *a)
{
    rc__mt_lock(h);
    rc__alloc_local_detach(h, a->pools);
    if (a->young)
        young_close_one(&h->gc, a->young);
    rc__mt_unlock(h);
}

static void stop_for_alloc(rc_heap *h)
{
    rc__mt_lock(h);
    rc__mt_stop_world(h);
}

static void start_for_alloc(rc_heap *h)
{
    rc__mt_start_world(h);
    rc__mt_unlock(h);
}

/* ---- attach and detach ---------------------------------------------------- */

/* Under mu.  A new record has no budget: its first tracked allocation
 * takes the lock and folds. */
static void young_join(struct rc_mt *mt, struct attachment *a, rc_heap *h)
{
    struct young_seg *y = aligned_alloc(_Alignof(struct young_seg), sizeof *y);
    a->young = y;
    if (!y)
        return;
    *y = (struct young_seg){.h = h, .budget = -1, .link = mt->youngs};
    mt->youngs = y;
}

/* Under mu, folded and closed already (pools_detach). */
static void young_leave(struct rc_mt *mt, struct attachment *a)
{
    struct young_seg **p = &mt->youngs;
    while (*p && *p != a->young)
        p = &(*p)->link;
    if (*p)
        *p = a->young->link;
    if (my_young == a->young)
        my_young = NULL;
    free(a->young);
    a->young = NULL;
}

/* Counts the calling thread in; it waits, parked, while a stop is in force.
 * Then it takes pools of its own. */
static void join(rc_heap *h, struct attachment *a)
{
    struct rc_mt *mt = h->mt;
    rc__sections_suspend();
    rc__os_lock(&mt->mu);
    mt->attached++;
    mt->parked++;
    wait_for_restart(mt);
    mt->parked--;
    a->pools = rc__alloc_local_attach(h);
    young_join(mt, a, h);
    rc__os_unlock(&mt->mu);
    rc__alloc_local_select(a->pools);
    rc__sections_resume();
}

/* A detached thread may block (that is what detaching is for): it holds
 * no stripe meanwhile, and its next attach takes them back (join). */
static void leave(struct rc_mt *mt, struct attachment *a)
{
    rc__sections_suspend();
    rc__os_lock(&mt->mu);
    rc__alloc_local_abandon(a->pools);
    young_leave(mt, a);
    mt->attached--;
    rc__os_cond_broadcast(&mt->cv);
    rc__os_unlock(&mt->mu);
}

int rc_thread_attach(rc_heap *h)
{
    if (!h)
        return RC_EINVAL;
    if (!h->mt)
        return 0;
    struct attachment *a = attachment_of(h);
    if (a) {
        a->n++;
        rc_safepoint(h);
        return 0;
    }
    if (!(a = attachment_of(NULL)))
        return rc__error_unattached(h, RC_ENOMEM, "rc_thread_attach: this thread is attached to %d heaps already",
                         RC_MT_HEAPS_PER_THREAD);
    *a = (struct attachment){h, 1, NULL, NULL};
    join(h, a);
    rc__mt_ref_attach(h);
    return 0;
}

void rc_thread_detach(rc_heap *h)
{
    if (!h || !h->mt)
        return;
    struct attachment *a = attachment_of(h);
#if RC_DEBUG >= 1
    rc__mt_check_attached(h, "rc_thread_detach");
#endif
    if (!a || --a->n > 0)
        return;
    rc__mt_ref_detach(h);
    pools_detach(h, a);
    a->h = NULL;
    leave(h->mt, a);
}

/* ---- life ------------------------------------------------------------------ */

bool rc_heap_is_threaded(const rc_heap *h)
{
    return h && h->mt;
}

int rc__mt_init(rc_heap *h)
{
    struct rc_mt *mt = calloc(1, sizeof *mt);
    if (!mt)
        return RC_ENOMEM;
    rc__os_mutex_init(&mt->mu);
    rc__os_cond_init(&mt->cv);
    rc__os_cond_init(&mt->lock_cv);
    rc__os_cond_init(&mt->stripe_cv);
    h->mt = mt;
    if (!(h->stripes = calloc(RC_MT_STRIPES, sizeof *h->stripes))) {
        rc__mt_destroy(h);
        return RC_ENOMEM;
    }
    int rv = rc_thread_attach(h);
    if (rv < 0) {
        rc__mt_destroy(h);
        return rv;
    }
    rc__alloc_on_lock(h, lock_enter, rc__mt_unlock);
    rc__alloc_on_stop(h, stop_for_alloc, start_for_alloc);
    return 0;
}

/* The last thread's attachment goes with the heap; any other thread's
 * would be a use of the heap after its free. */
void rc__mt_destroy(rc_heap *h)
{
    struct rc_mt *mt = h->mt;
    struct attachment *a = attachment_of(h);
#if RC_DEBUG >= 1
    if (mt->attached > (a ? 1u : 0u))
        rc__debug_thread_misuse(h, "called rc_heap_free while other threads are attached");
#endif
    if (a) {
        rc__mt_ref_detach(h);
        a->h = NULL;
    }
    while (mt->youngs) {
        struct young_seg *y = mt->youngs;
        mt->youngs = y->link;
        if (my_young == y)
            my_young = NULL;
        if (a && a->young == y)
            a->young = NULL;
        free(y);
    }
    rc__os_cond_destroy(&mt->cv);
    rc__os_cond_destroy(&mt->lock_cv);
    rc__os_cond_destroy(&mt->stripe_cv);
    rc__os_mutex_destroy(&mt->mu);
    free(mt);
    free(h->stripes);
    h->mt = NULL;
    h->stripes = NULL;
}
