/* The allocator's self-check for rc_heap_check (src/check.c): recomputes
 * every counter and list of struct rc_alloc_state from the arenas, pools
 * and large blocks themselves and compares (the invariants are those of
 * src/alloc_impl.h).  Read-only; O(blocks). */
#include "alloc_impl.h"

#include <stdio.h>

typedef struct tally {
    size_t live[2], live_large[2], nlarge[2];
    size_t requested, large_bytes, large_dead, large_objects;
    size_t pools_with_free;       /* used pools that must be in a class list */
} tally;

#define FAIL(...) do { snprintf(msg, n, __VA_ARGS__); return RC_EINVAL; } while (0)

/* A used pool: its geometry, its free list and (objects) its headers. */
static int check_pool(const rc_heap *h, const rc_arena *a, const rc_pool *p, tally *t,
                      size_t *empty, char *msg, size_t n)
{
    const char *first = rc__pool_first(p), *end = (const char *)p + RC_POOL_SIZE;
    if (p->heap != h || p->arena != a)
        FAIL("allocator: pool %p: belongs to heap %p / arena %p", (const void *)p,
             (const void *)p->heap, (const void *)p->arena);
    if (p->cls >= RC_NCLASSES || p->size != rc__class_size(p->cls))
        FAIL("allocator: pool %p: block size %u does not match class %u", (const void *)p, p->size, p->cls);
    if (p->top < first || p->top > end || (size_t)(p->top - first) % p->size || p->limit != end - p->size)
        FAIL("allocator: pool %p: top %p or limit %p out of place", (const void *)p, (void *)p->top,
             (void *)p->limit);
    size_t blocks = (size_t)(p->top - first) / p->size, nfree = 0;
    for (const char *b = p->free; b; b = *(char *const *)(const void *)(b + RC_LINK_OFF)) {
        if (b < first || b >= p->top || (size_t)(b - first) % p->size || ++nfree > blocks)
            FAIL("allocator: pool %p: free list reaches %p (not a free block of the pool)",
                 (const void *)p, (const void *)b);
        if (p->kind == RC_KIND_OBJ && *(const uintptr_t *)(const void *)b != 0)
            FAIL("allocator: pool %p: block %p is on the free list but its header is not cleared",
                 (const void *)p, (const void *)b);
    }
    if (p->used + nfree != blocks)
        FAIL("allocator: pool %p: %u blocks used + %zu free != %zu handed out", (const void *)p, p->used,
             nfree, blocks);
    if (p->kind == RC_KIND_OBJ) {
        size_t live = 0;
        for (const char *b = first; b < p->top; b += p->size)
            live += *(const uintptr_t *)(const void *)b != 0;
        if (live != p->used)
            FAIL("allocator: pool %p: %zu objects have a header but %u blocks are used", (const void *)p,
                 live, p->used);
    }
    t->live[RC_KIND_INDEX(p->kind)] += p->used;
    t->requested += (size_t)p->used * p->size;
    t->pools_with_free += p->free != NULL;
    *empty += p->used == 0;
    return 0;
}

static int check_arena(const rc_heap *h, const struct rc_alloc_state *st, size_t i, tally *t,
                       char *msg, size_t n)
{
    const rc_arena *a = st->arenas[i];
    if ((uintptr_t)a->base & (RC_ARENA_SIZE - 1) || (i > 0 && st->arenas[i - 1]->base >= a->base))
        FAIL("allocator: arena %p: misaligned or out of address order", (void *)a->base);
    if (rc__amap_get(&st->arena_map, (uintptr_t)a->base) != a)
        FAIL("allocator: arena %p: missing from the arena map", (void *)a->base);
    if (a->nextpool > RC_POOLS_PER_ARENA)
        FAIL("allocator: arena %p: nextpool %u", (void *)a->base, a->nextpool);
    size_t free_pools = 0, empty = 0, listed = 0;
    for (size_t k = 0; k < a->nextpool; k++) {
        const rc_pool *p = (const rc_pool *)(const void *)(a->base + k * RC_POOL_SIZE);
        if (p->kind == RC_KIND_FREE)
            free_pools++;
        else if (p->kind != RC_KIND_OBJ && p->kind != RC_KIND_RAW)
            FAIL("allocator: pool %p: kind %u", (const void *)p, p->kind);
        else if (check_pool(h, a, p, t, &empty, msg, n) < 0)
            return RC_EINVAL;
    }
    for (const rc_pool *p = a->freepools; p; p = p->next)
        if (p->kind != RC_KIND_FREE || p->arena != a || ++listed > free_pools)
            FAIL("allocator: arena %p: free pool list reaches pool %p (kind %u)", (void *)a->base,
                 (const void *)p, p->kind);
    if (listed != free_pools || a->nfree != free_pools + (RC_POOLS_PER_ARENA - a->nextpool))
        FAIL("allocator: arena %p: nfree %u but %zu pools are free (%zu listed)", (void *)a->base, a->nfree,
             free_pools + (RC_POOLS_PER_ARENA - a->nextpool), listed);
    if (a->nempty != empty)
        FAIL("allocator: arena %p: nempty %u but %zu pools hold no block", (void *)a->base, a->nempty, empty);
    return 0;
}

/* usedpools[kind][cls]: pools of that kind and class that have a free block. */
static int check_class_lists(const struct rc_alloc_state *st, const tally *t, char *msg, size_t n)
{
    size_t total = 0;
    for (int k = 0; k < 2; k++)
        for (unsigned c = 0; c < RC_NCLASSES; c++)
            for (const rc_pool *p = st->usedpools[k][c], *prev = NULL; p; prev = p, p = p->next) {
                if (p->kind != k + 1 || p->cls != c || !p->free || p->prev != prev || ++total > t->pools_with_free)
                    FAIL("allocator: class list %d/%u holds pool %p (kind %u, class %u, %s)", k, c,
                         (const void *)p, p->kind, p->cls, p->free ? "bad links" : "full");
            }
    if (total != t->pools_with_free)
        FAIL("allocator: %zu pools have a free block but %zu are in class lists", t->pools_with_free, total);
    return 0;
}

/* by_free[k]: the arenas with exactly k free pools; mask and spare count. */
static int check_arena_lists(const struct rc_alloc_state *st, char *msg, size_t n)
{
    size_t total = 0, expected = 0;
    for (size_t i = 0; i < st->narenas; i++)
        expected += st->arenas[i]->nfree > 0;
    for (size_t k = 1; k <= RC_POOLS_PER_ARENA; k++) {
        size_t len = 0;
        for (const rc_arena *a = st->by_free[k], *prev = NULL; a; prev = a, a = a->next, len++)
            if (a->nfree != k || a->prev != prev || ++total > expected)
                FAIL("allocator: by_free[%zu] holds arena %p with %u free pools", k, (void *)a->base, a->nfree);
        if (k < RC_POOLS_PER_ARENA && ((st->by_free_mask >> (k - 1)) & 1) != (len > 0))
            FAIL("allocator: by_free_mask bit %zu disagrees with its list", k - 1);
        if (k == RC_POOLS_PER_ARENA && len != st->nspare)
            FAIL("allocator: nspare %zu but %zu wholly free arenas", st->nspare, len);
    }
    if (total != expected)
        FAIL("allocator: %zu arenas have free pools but %zu are listed", expected, total);
    return 0;
}

static int check_large(const rc_heap *h, const struct rc_alloc_state *st, tally *t, char *msg, size_t n)
{
    for (int k = 0; k < 2; k++)
        for (const rc_large *l = st->large[k], *prev = NULL; l; prev = l, l = l->next) {
            if (l->heap != h || l->kind != (uint32_t)(k + 1) || l->prev != prev || ((uintptr_t)(l + 1) & 15))
                FAIL("allocator: large block %p: heap %p, kind %u, bad links or alignment", (const void *)(l + 1),
                     (const void *)l->heap, l->kind);
            bool in_map = rc__amap_get(&st->large_map, (uintptr_t)(l + 1)) == l;
            if (k == 0 && in_map == (bool)l->dead)
                FAIL("allocator: large object %p: %s the object map", (const void *)(l + 1),
                     l->dead ? "freed but still in" : "missing from");
            t->nlarge[k]++;
            t->large_bytes += RC_LARGE_PREFIX + l->size;
            if (l->dead) {
                t->large_dead++;
                continue;
            }
            t->live_large[k]++;
            t->requested += l->size;
            t->large_objects += k == 0;
        }
    return 0;
}

static int compare_counters(const struct rc_alloc_state *st, const tally *t, char *msg, size_t n)
{
    for (int k = 0; k < 2; k++) {
        const char *kind = k ? "buffers" : "objects";
        if (st->live[k] != t->live[k])
            FAIL("allocator: live small %s %zu, pools hold %zu", kind, st->live[k], t->live[k]);
        if (st->live_large[k] != t->live_large[k] || st->nlarge[k] != t->nlarge[k])
            FAIL("allocator: large %s: live %zu / listed %zu, found %zu / %zu", kind, st->live_large[k],
                 st->nlarge[k], t->live_large[k], t->nlarge[k]);
    }
    if (st->requested != t->requested || st->peak < st->requested)
        FAIL("allocator: requested %zu (peak %zu) but live blocks add up to %zu", st->requested, st->peak,
             t->requested);
    if (st->large_bytes != t->large_bytes || st->large_dead != t->large_dead)
        FAIL("allocator: large bytes %zu / dead %zu, found %zu / %zu", st->large_bytes, st->large_dead,
             t->large_bytes, t->large_dead);
    if (st->large_map.len != t->large_objects || st->arena_map.len != st->narenas)
        FAIL("allocator: maps hold %zu large objects / %zu arenas, expected %zu / %zu", st->large_map.len,
             st->arena_map.len, t->large_objects, st->narenas);
    if (st->arenas_total - st->arenas_freed != st->narenas || st->narenas > st->arenas_highwater)
        FAIL("allocator: %zu arenas held, %zu mapped - %zu freed, high-water %zu", st->narenas,
             st->arenas_total, st->arenas_freed, st->arenas_highwater);
    return 0;
}

int rc__alloc_check(const rc_heap *h, char *msg, size_t n)
{
    const struct rc_alloc_state *st = h->alloc;
    tally t = {0};
    for (size_t i = 0; i < st->narenas; i++)
        if (check_arena(h, st, i, &t, msg, n) < 0)
            return RC_EINVAL;
    if (check_class_lists(st, &t, msg, n) < 0 || check_arena_lists(st, msg, n) < 0 ||
        check_large(h, st, &t, msg, n) < 0)
        return RC_EINVAL;
    return compare_counters(st, &t, msg, n);
}
