/* rc__alloc_check: walks every arena, pool, free list, class list and
 * large block and checks the invariants of src/alloc/alloc_impl.h, so tests (and
 * rc_heap_check) can catch a corrupt heap at the step that corrupted it. */
#include "alloc_impl.h"

#include <stdatomic.h>

#define FAIL(...) return rc__alloc_error(h, RC_EINVAL, "allocator check: " __VA_ARGS__)

static bool in_reserve(rc_pool *head, const rc_pool *p, size_t max)
{
    for (size_t n = 0; head && n <= max; head = head->next, n++)
        if (head == p)
            return true;
    return false;
}

static bool in_list(rc_pool *head, const rc_pool *p)
{
    for (; head; head = head->next)
        if (head == p)
            return true;
    return false;
}

/* A pool a thread owns (alloc_local.c): an object pool of one of the
 * heap's per-thread states, in its class list exactly when not full. */
static int check_owned_pool(rc_heap *h, rc_pool *p, size_t *requested)
{
    struct rc_alloc_state *st = rc__alloc_state(h), *loc = st->locals;
    while (loc && loc != p->owner)
        loc = loc->locals;
    void *at = p;
    if (!loc || p->kind != RC_KIND_OBJ)
        FAIL("pool %p: owner %p is not a thread's pools of this heap", at, (void *)p->owner);
    rc_pool *head = loc->usedpools[RC_KIND_INDEX(RC_KIND_OBJ)][p->cls];
    if (in_list(head, p) != (p->free != NULL))
        FAIL("pool %p of thread pools %p (%zu used, %s) is out of its class list", at, (void *)loc,
             (size_t)p->used, p->free ? "not full" : "full");
    *requested += (size_t)p->used * p->size;
    return 0;
}

static int check_pool(rc_heap *h, const rc_arena *a, rc_pool *p, size_t *requested)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    void *at = p;
    if (p->heap != h || p->arena != a)
        FAIL("pool %p belongs to heap %p, arena %p", at, (void *)p->heap, (void *)p->arena);
    if ((p->kind != RC_KIND_OBJ && p->kind != RC_KIND_RAW) || p->cls >= RC_NCLASSES ||
        p->size != rc__class_size(p->cls))
        FAIL("pool %p has kind %d, class %d, size %d", at, p->kind, p->cls, p->size);
    char *first = rc__pool_first(p), *end = rc__pool_end(p);
    if (p->top < first || p->top > end || (size_t)(p->top - first) % p->size)
        FAIL("pool %p: top %p outside [%p, %p]", at, (void *)p->top, (void *)first, (void *)end);
    size_t carved = (size_t)(p->top - first) / p->size, nfree = 0;
    for (char *b = p->free; b; b = *rc__link_of(b)) {
        if (b < first || b >= p->top || (size_t)(b - first) % p->size || ++nfree > carved)
            FAIL("pool %p: free-list entry %p is not one of its free blocks", at, (void *)b);
        if (p->kind == RC_KIND_OBJ && *(uintptr_t *)(void *)b != 0)
            FAIL("pool %p: free object block %p has tw != 0", at, (void *)b);
    }
    if (nfree + p->used != carved)
        FAIL("pool %p: %zu used + %zu free != %zu carved blocks", at, (size_t)p->used, nfree, carved);
    if (p->owner)
        return check_owned_pool(h, p, requested);
    rc_pool *head = st->usedpools[RC_KIND_INDEX(p->kind)][p->cls];
    bool listed = in_list(head, p), reserved = in_reserve(st->reserve[RC_KIND_INDEX(p->kind)][p->cls], p, RC_RESERVE_POOLS);
    if (p->used == 0 ? !reserved || listed : reserved || listed != (p->free != NULL))
        FAIL("pool %p (%zu used, %s) is %slisted and %sreserved", at, (size_t)p->used,
             p->free ? "not full" : "full", listed ? "" : "not ", reserved ? "" : "not ");
    *requested += (size_t)p->used * p->size;
    return 0;
}

static int check_arena(rc_heap *h, const rc_arena *a, size_t *requested, size_t *nempty)
{
    size_t freepools = 0, reserved = 0;
    for (rc_pool *p = a->freepools; p; p = p->next) {
        if (rc__arena_of(p) != a->base || p->kind != RC_KIND_FREE || ++freepools > RC_POOLS_PER_ARENA)
            FAIL("arena %p: bad entry %p in its free pools", (void *)a->base, (void *)p);
    }
    if (a->nextpool > RC_POOLS_PER_ARENA || a->nfree != freepools + RC_POOLS_PER_ARENA - a->nextpool)
        FAIL("arena %p: nfree %u, but %zu free and %zu never-used pools", (void *)a->base,
             (unsigned)a->nfree, freepools, (size_t)(RC_POOLS_PER_ARENA - a->nextpool));
    if (!rc__in_arena(rc__alloc_state(h), a->base) || !rc__in_arena(rc__alloc_state(h), a->base + RC_ARENA_SIZE - 1))
        FAIL("arena %p is missing from the address bitmap", (void *)a->base);
    if (a->nextpool && rc__pool_at(a->base, 0)->heap != h)
        FAIL("arena %p: pool 0 does not name the heap", (void *)a->base);
    for (size_t i = 0; i < a->nextpool; i++) {
        rc_pool *p = rc__pool_at(a->base, i);
        if (p->kind == RC_KIND_FREE)
            continue;
        int rv = check_pool(h, a, p, requested);
        if (rv)
            return rv;
        reserved += p->used == 0 && !p->owner;   /* check_pool: the heap's empty pools are reserved */
    }
    if (reserved != a->nempty)
        FAIL("arena %p: nempty %u but %zu reserved pools", (void *)a->base, (unsigned)a->nempty, reserved);
    *nempty += reserved;
    return 0;
}

/* Kept blocks: whole huge pages, apart, counted, within RC_KEPT_MAX. */
static int check_kept(rc_heap *h, const struct rc_alloc_state *st)
{
    size_t bytes = rc__os_kept_blocks(st->unmapper);
    if (!rc__os_kept_blocks_whole(st->unmapper, RC_HUGE_BLOCK))
        FAIL("kept blocks are not whole huge pages apart, or not as counted (%zu bytes)", bytes);
    if (bytes > RC_KEPT_MAX)
        FAIL("kept blocks hold %zu bytes, more than %zu", bytes, RC_KEPT_MAX);
    return 0;
}

static int check_large(rc_heap *h, size_t *requested)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    size_t bytes = 0;
    for (int k = 0; k < 2; k++) {
        size_t n = 0, live = 0;
        for (rc_large *l = st->large[k], *prev = NULL; l; prev = l, l = l->next) {
            if (l->heap != h || l->kind != (uint32_t)(k + 1) || l->prev != prev || ++n > st->nlarge[k])
                FAIL("large block %p is corrupt or in the wrong list", (void *)(l + 1));
            bytes += RC_LARGE_PREFIX + l->size;
            if (!l->dead) {
                live++;
                *requested += l->size;
            }
        }
        if (n != st->nlarge[k] || live != st->live_large[k])
            FAIL("%zu large blocks of kind %d linked, %zu counted (%zu live, %zu counted)", n, k + 1,
                 st->nlarge[k], live, st->live_large[k]);
    }
    if (bytes != st->large_bytes)
        FAIL("large blocks hold %zu bytes, %zu counted", bytes, st->large_bytes);
    return 0;
}

/* The class lists of st (the heap's or a thread's) hold pools of their
 * kind and class with a free block, doubly linked. */
static int check_class_lists(rc_heap *h, const struct rc_alloc_state *st)
{
    for (int k = 0; k < 2; k++)
        for (unsigned c = 0; c < RC_NCLASSES; c++)
            for (rc_pool *p = st->usedpools[k][c], *prev = NULL; p; prev = p, p = p->next)
                if (p->prev != prev || p->kind != k + 1 || p->cls != c || !p->free ||
                    p->owner != (st->home ? st : NULL))
                    FAIL("class list %d/%u: pool %p is out of place", k + 1, c, (void *)p);
    return 0;
}

/* A block another thread freed into loc's pools, not drained yet: a
 * freed block (tw 0) that was handed out of one of loc's pools. */
static int check_remote_block(rc_heap *h, const struct rc_alloc_state *loc, char *b)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    void *at = b;
    if ((uintptr_t)b % 16 || !rc__in_arena(st, b))
        FAIL("thread pools %p: remote free %p is not in the heap's arenas", (void *)loc, at);
    rc_pool *p = rc__pool_of(b);
    if (p->owner != loc || p->kind != RC_KIND_OBJ || b < rc__pool_first(p) || b >= p->top ||
        (size_t)(b - rc__pool_first(p)) % p->size || !p->used)
        FAIL("thread pools %p: remote free %p is not a used block of its pools", (void *)loc, at);
    if (((rc_head *)(void *)b)->tw)
        FAIL("thread pools %p: remote free %p still has a type word", (void *)loc, at);
    return 0;
}

/* What each thread's pools hold that is not drained or given back yet:
 * the remote lists (at most as long as the heap has blocks, so a cycle
 * is caught) and the emptied pools due back to the heap. */
static int check_pending(rc_heap *h)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    size_t max = st->narenas * (RC_ARENA_SIZE / 16);
    for (const struct rc_alloc_state *loc = st->locals; loc; loc = loc->locals) {
        size_t n = 0;
        for (char *b = atomic_load_explicit(&((struct rc_alloc_state *)(uintptr_t)loc)->remote, memory_order_acquire);
             b; b = *rc__link_of(b)) {
            int rv = check_remote_block(h, loc, b);
            if (rv)
                return rv;
            if (++n > max)
                FAIL("thread pools %p: the remote list has a cycle", (void *)loc);
        }
        for (rc_pool *p = loc->empties; p; p = p->next)
            if (p->owner != loc || p->used || p->kind != RC_KIND_OBJ)
                FAIL("thread pools %p: pool %p is due back to the heap but not empty", (void *)loc, (void *)p);
    }
    return 0;
}

static int check_all(rc_heap *h);

/* Threaded heaps: with the world stopped, what waits to be drained or
 * given back first, then everything once it is (rc__alloc_settle). */
int rc__alloc_check(rc_heap *h)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    if (st->stop)
        st->stop(h);
    int rv = check_pending(h);
    rc__alloc_settle(h);
    if (!rv)
        rv = check_all(h);
    rc__alloc_resume(h);
    return rv;
}

static int check_all(rc_heap *h)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    size_t requested = 0, nempty = 0, idle = 0;
    for (size_t i = 0; i < st->narenas; i++) {
        if (i && st->arenas[i - 1]->base >= st->arenas[i]->base)
            FAIL("arena table out of address order at %zu", i);
        int rv = check_arena(h, st->arenas[i], &requested, &nempty);
        if (rv)
            return rv;
        const rc_arena *a = st->arenas[i];
        idle += a->nempty && a->nfree + a->nempty == RC_POOLS_PER_ARENA;
    }
    for (const struct rc_alloc_state *loc = st; loc; loc = loc == st ? st->locals : loc->locals) {
        int rv = check_class_lists(h, loc);
        if (rv)
            return rv;
    }
    int rv = check_large(h, &requested);
    if (!rv)
        rv = check_kept(h, st);
    if (rv)
        return rv;
    if (requested != rc__requested(st))
        FAIL("blocks in use hold %zu bytes, %zu counted as requested", requested, rc__requested(st));
    if (st->cap - st->room_low < requested)
        FAIL("peak %zu below requested %zu", st->cap - st->room_low, requested);
    for (int k = 0; k < 2; k++)
        for (unsigned c = 0; c < RC_NCLASSES; c++) {
            size_t n = 0;
            for (rc_pool *p = st->reserve[k][c]; p && n <= RC_RESERVE_POOLS; p = p->next, n++)
                if (p->kind != k + 1 || p->cls != c || p->used)
                    FAIL("reserve %d/%u: pool %p is out of place", k + 1, c, (void *)p);
            if (n != st->nreserve[k][c])
                FAIL("reserve %d/%u holds %zu pools, %u counted", k + 1, c, n, (unsigned)st->nreserve[k][c]);
        }
    if (idle != st->nidle)
        FAIL("%zu idle arenas, %zu counted", idle, st->nidle);
    size_t spare = 0;
    for (rc_arena *a = st->by_free[RC_POOLS_PER_ARENA]; a; a = a->next)
        spare++;
    if (spare != st->nspare)
        FAIL("%zu wholly free arenas listed, %zu counted", spare, st->nspare);
    return 0;
}
