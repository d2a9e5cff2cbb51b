/* Threaded heaps: making objects and counting references from any attached
 * thread (docs/threads.md says why atomics rather than biased counts).
 *
 * Invariants kept here:
 *   - Every object of a threaded heap has RC_HF_SHARED, so rc_incref and
 *     rc_decref leave the plain path on one test of the header they read
 *     anyway.
 *   - A count leaves 1 only under the heap lock: a decref that would reach
 *     0 takes the lock first, and the death runs under it.  So a count of
 *     0 is never seen outside a death, a collection (which holds the lock)
 *     never meets an object another thread is about to free, and
 *     rc_weakref_get_ref (under the lock) never revives a dying object.
 */
#include "internal.h"

/* An allocation is a safe point through its lock: while the world is
 * stopped the stopper holds it, and waiting for it is parking. */
void *rc__mt_new(rc_heap *h, const rc_type *t, size_t body, const rc_site *site)
{
    rc__mt_lock(h);
    void *o = rc__new_checked(h, t, body, site);
    if (o)
        rc__hflag_set(rc__head(o), RC_HF_SHARED);
    rc__mt_unlock(h);
    return o;
}

void rc__mt_incref(rc_head *o)
{
#if RC_DEBUG >= 1
    rc__mt_check_attached(rc__object_heap(o), "rc_incref");
#endif
    if (__atomic_load_n(&o->refcnt, __ATOMIC_RELAXED) != RC_REFCNT_IMMORTAL)
        __atomic_fetch_add(&o->refcnt, 1, __ATOMIC_RELAXED);
}

/* The last reference: under the lock, so that the drop to 0 and the death
 * are one step for every other thread. */
static RC_NOINLINE void decref_last(rc_head *o)
{
    rc_heap *h = rc__object_heap(o);
    rc__mt_lock(h);
    if (__atomic_fetch_sub(&o->refcnt, 1, __ATOMIC_ACQ_REL) == 1)
        rc__dealloc(o);
    rc__mt_unlock(h);
}

void rc__mt_decref(rc_head *o)
{
#if RC_DEBUG >= 1
    rc__mt_check_attached(rc__object_heap(o), "rc_decref");
#endif
    uint32_t n = __atomic_load_n(&o->refcnt, __ATOMIC_RELAXED);
    do {
        if (n == RC_REFCNT_IMMORTAL)
            return;
        if (n == 1) {
            decref_last(o);
            return;
        }
    } while (!__atomic_compare_exchange_n(&o->refcnt, &n, n - 1, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}
