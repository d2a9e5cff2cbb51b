/* Threaded heaps: counting references from any attached thread
 * (docs/threads.md says why the count is biased to a heap's only thread
 * rather than to each object's maker).
 *
 * Invariants kept here:
 *   - Every object of a threaded heap has RC_HF_SHARED, so rc_incref and
 *     rc_decref leave the plain path on one test of the header they read
 *     anyway.
 *   - A thread whose rc__mt_sharing is 0 counts with plain (relaxed) loads
 *     and stores: every heap it is attached to has it as its only
 *     attached thread (ref.alone), so no other thread touches those counts.
 *     Every other thread counts with atomic read-modify-writes.
 *   - A thread that attaches to a heap counting alone makes the lone
 *     thread's rc__mt_sharing non-zero with RC_MT_ACK set, and waits until
 *     the lone thread clears RC_MT_ACK (at its next refcount, allocation,
 *     container operation, safe point or detach: it has no plain count in flight then) before it
 *     returns and counts; the release and acquire of that bit order the
 *     last plain store before the first atomic one.  ref.converting names
 *     that thread until then, so no thread takes up counting alone while
 *     a plain store may still be in flight.
 *   - A count reaches 0 for good under the heap lock when the death needs
 *     it (a weakref, a finalizer, an object outside the young generations:
 *     thread_heap.c, "deaths"), and the death runs under it, so
 *     rc_weakref_get_ref (under the lock) never revives a dying object.
 *     A decrement counts with one fetch_sub; when two took the count
 *     from 2 to 0 and the death needs the lock, the one that found 1 puts
 *     it back to 1 before any safe point and decrements again under the
 *     lock.  Any other death runs without the lock; no safe point comes
 *     between its count reaching 0 and its unlinking from the collector,
 *     so a collection never meets an object another thread is about to
 *     free.
 */
#include "internal.h"

_Thread_local unsigned rc__mt_sharing __attribute__((tls_model("initial-exec")));

/* ---- counting ------------------------------------------------------------- */

/* No plain count of this thread is in flight: a thread waiting in
 * rc_thread_attach may count now. */
RC_NOINLINE void rc__mt_acknowledge(void)
{
    __atomic_fetch_and(&rc__mt_sharing, ~RC_MT_ACK, __ATOMIC_RELEASE);
}

/* The atomic path's entry (rc__mt_ack_pending): the first count after
 * another thread attached tells that thread so. */
void rc__mt_incref_shared(rc_head *o)
{
    rc__mt_ack_pending();
    if (__atomic_load_n(&o->refcnt, __ATOMIC_RELAXED) != RC_REFCNT_IMMORTAL)
        __atomic_fetch_add(&o->refcnt, 1, __ATOMIC_RELAXED);
}

/* A death that needs the lock (thread_heap.c says which) takes it first,
 * so that the drop to 0 and the death are one step for every other
 * thread; the count may have grown meanwhile (rc_weakref_get_ref). */
static void decref_locked(rc_head *o)
{
    rc_heap *h = rc__object_heap(o);
    rc__mt_lock(h);
    if (__atomic_fetch_sub(&o->refcnt, 1, __ATOMIC_ACQ_REL) == 1)
        rc__dealloc(o);
    rc__mt_unlock(h);
}

/* The last reference, its count still 1.  The lone thread drops it with a
 * plain store; the others decrement atomically, since a weakref's holder
 * may revive it until the heap lock says otherwise.  The fence pairs with
 * the release of the other threads' decrements, so that flags they set
 * while they held references (a weakref) are seen. */
static RC_NOINLINE void decref_last(rc_head *o)
{
    if (rc__mt_counts_alone() && rc__mt_dies_unlocked(o)) {
        __atomic_store_n(&o->refcnt, 0, __ATOMIC_RELAXED);
        rc__mt_die_unlocked(o);
        return;
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (!rc__mt_dies_unlocked(o)) {
        decref_locked(o);
        return;
    }
    if (__atomic_fetch_sub(&o->refcnt, 1, __ATOMIC_ACQ_REL) == 1)
        rc__mt_die_unlocked(o);
}

/* Another thread's decrement and this one took the count from 2 to 0
 * without seeing 1.  A death without the lock goes on; one that needs it
 * puts the count back to 1 first (no safe point comes between, so no
 * collection sees the 0, and a weakref's holder that revived the object
 * meanwhile keeps it alive) and decrements under the lock. */
static RC_NOINLINE void decref_raced(rc_head *o)
{
    if (rc__mt_dies_unlocked(o)) {
        rc__mt_die_unlocked(o);
        return;
    }
    __atomic_fetch_add(&o->refcnt, 1, __ATOMIC_RELAXED);
    decref_locked(o);
}

/* One load to tell an immortal object and the last reference apart, then
 * one atomic subtraction (an uncontended compare-and-swap costs twice a
 * fetch_sub on x86).  Its acquire half, free on x86, orders the other
 * threads' decrements before a death in decref_raced. */
void rc__mt_decref_shared(rc_head *o)
{
    rc__mt_ack_pending();
    uint32_t n = __atomic_load_n(&o->refcnt, __ATOMIC_RELAXED);
    if (n == RC_REFCNT_IMMORTAL)
        return;
    if (n == 1) {
        decref_last(o);
        return;
    }
    if (RC_UNLIKELY(__atomic_fetch_sub(&o->refcnt, 1, __ATOMIC_ACQ_REL) == 1))
        decref_raced(o);
}

/* ---- who counts how ---------------------------------------------------------
 * ref.counting, ref.alone and ref.converting change under the heap lock;
 * rc__mt_sharing changes by atomic read-modify-writes, its own thread's or
 * (when a heap stops being counted alone) the attaching thread's. */

static unsigned *mine(void)
{
    return &rc__mt_sharing;
}

static void share_more(unsigned *sharing_of, unsigned bits)
{
    __atomic_fetch_add(sharing_of, bits, __ATOMIC_RELAXED);
}

static void share_less(void)
{
    __atomic_fetch_sub(mine(), 1, __ATOMIC_RELAXED);
}

/* Written under the lock; read without it only by settle, which asks
 * whether the caller is the one (so it needs no lock to say no). */
static void set_alone(struct rc_mt_ref *r, unsigned *sharing_of)
{
    __atomic_store_n(&r->alone, sharing_of, __ATOMIC_RELAXED);
}

/* The lone thread counts atomically from its next refcount on; the
 * attaching thread waits for it to say so (wait_converted). */
static void stop_counting_alone(struct rc_mt_ref *r)
{
    share_more(r->alone, 1);
    __atomic_fetch_or(r->alone, RC_MT_ACK, __ATOMIC_RELAXED);
    r->converting = r->alone;
    set_alone(r, NULL);
}

static bool converted(struct rc_mt_ref *r)
{
    if (r->converting && (__atomic_load_n(r->converting, __ATOMIC_ACQUIRE) & RC_MT_ACK))
        return false;
    r->converting = NULL;
    return true;
}

/* Until the thread that counted alone has acknowledged.  The caller is
 * attached: it passes safe points while it waits, so that a collection the
 * other thread starts meanwhile does not wait for it. */
static void wait_converted(rc_heap *h, struct rc_mt_ref *r)
{
    for (;;) {
        rc__mt_lock(h);
        bool done = converted(r);
        rc__mt_unlock(h);
        if (done)
            return;
        rc_safepoint(h);
        rc__os_yield();
    }
}

void rc__mt_ref_attach(rc_heap *h)
{
    struct rc_mt_ref *r = rc__mt_ref(h);
    rc__mt_lock(h);
    bool first = __atomic_fetch_add(&r->counting, 1, __ATOMIC_RELAXED) == 0;
    if (first && !r->converting) {
        set_alone(r, mine());
    } else {
        if (r->alone)
            stop_counting_alone(r);
        share_more(mine(), 1);
    }
    rc__mt_unlock(h);
    wait_converted(h, r);
}

/* A detaching thread has no plain count in flight: it acknowledges any
 * change to atomic counting asked of it, on every heap. */
void rc__mt_ref_detach(rc_heap *h)
{
    struct rc_mt_ref *r = rc__mt_ref(h);
    rc__mt_lock(h);
    __atomic_fetch_sub(&r->counting, 1, __ATOMIC_RELAXED);
    if (r->alone == mine())
        set_alone(r, NULL);
    else
        share_less();
    if (r->converting == mine())
        r->converting = NULL;
    rc__mt_acknowledge();
    rc__mt_unlock(h);
}

/* The caller is attached to h and shares it, or has a change to
 * acknowledge: see whether it is the last thread attached. */
void rc__mt_ref_settle_slow(rc_heap *h)
{
    rc__mt_ack_pending();
    struct rc_mt_ref *r = rc__mt_ref(h);
    if (__atomic_load_n(&r->counting, __ATOMIC_RELAXED) != 1 ||
        __atomic_load_n(&r->alone, __ATOMIC_RELAXED) == mine())
        return;
    rc__mt_lock(h);
    if (r->counting == 1 && !r->alone && converted(r)) {
        set_alone(r, mine());
        share_less();
    }
    rc__mt_unlock(h);
}
