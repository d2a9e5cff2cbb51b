/* Raw buffers of a threaded heap: the public calls hold the heap lock,
 * through the hooks the core installs (the allocator never calls up).
 * Each takes the lock, calls the plain function again (which finds the
 * lock held by its caller and goes straight on), and lets go. */
#include "alloc_impl.h"

void *rc__alloc_at_locked(rc_heap *h, size_t n, const rc_site *site)
{
    void *p = rc_alloc_at(h, n, site);
    rc__alloc_state(h)->lock_leave(h);
    return p;
}

void *rc__realloc_at_locked(rc_heap *h, void *p, size_t n, const rc_site *site)
{
    void *q = rc_realloc_at(h, p, n, site);
    rc__alloc_state(h)->lock_leave(h);
    return q;
}

void rc__free_locked(rc_heap *h, void *p)
{
    rc_free(h, p);
    rc__alloc_state(h)->lock_leave(h);
}
