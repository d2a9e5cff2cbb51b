/* Arenas and pools: the allocator's slow paths.  Everything here runs once
 * per pool (16 KiB of blocks) or per arena, never per block.  Invariants:
 * src/alloc/alloc_impl.h. */
#include "alloc_impl.h"

#include <stdlib.h>

RC_INLINE int kind_index(int kind) { return RC_KIND_INDEX(kind); }

/* ------------------------------------------------------------------------
 * Arena lists by free-pool count
 * ---------------------------------------------------------------------- */

static void arena_unlink(struct rc_alloc_state *st, rc_arena *a)
{
    if (a->nfree == 0)
        return;                           /* full arenas are in no list */
    if (a->prev)
        a->prev->next = a->next;
    else {
        st->by_free[a->nfree] = a->next;
        if (!a->next && a->nfree < RC_POOLS_PER_ARENA)
            st->by_free_mask &= ~((uint64_t)1 << (a->nfree - 1));
    }
    if (a->next)
        a->next->prev = a->prev;
    if (a->nfree == RC_POOLS_PER_ARENA)
        st->nspare--;
}

static void arena_link(struct rc_alloc_state *st, rc_arena *a)
{
    if (a->nfree == 0)
        return;
    a->prev = NULL;
    a->next = st->by_free[a->nfree];
    if (a->next)
        a->next->prev = a;
    st->by_free[a->nfree] = a;
    if (a->nfree < RC_POOLS_PER_ARENA)
        st->by_free_mask |= (uint64_t)1 << (a->nfree - 1);
    else
        st->nspare++;
}

/* ------------------------------------------------------------------------
 * Arenas: the OS, the address bitmap, the address-sorted array
 * ---------------------------------------------------------------------- */

static size_t arena_slot(const struct rc_alloc_state *st, const char *base)
{
    size_t lo = 0, hi = st->narenas;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (st->arenas[mid]->base < base)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const uint64_t rc__no_arenas[((size_t)1 << RC_BITS_L2_SHIFT) / 64];

static bool arena_bit_set(struct rc_alloc_state *st, const char *base, bool on)
{
    uintptr_t k = (uintptr_t)base >> RC_ARENA_SHIFT;
    uintptr_t hi = k >> RC_BITS_L2_SHIFT;
    if (hi >= RC_BITS_L1)
        return false;                    /* beyond the bitmap: refuse the arena */
    uint64_t *bits = (uint64_t *)(uintptr_t)st->arena_bits[hi];
    if (bits == rc__no_arenas) {
        if (!on || !(bits = calloc(((size_t)1 << RC_BITS_L2_SHIFT) / 64, sizeof *bits)))
            return false;
        st->arena_bits[hi] = bits;
    }
    k &= ((uintptr_t)1 << RC_BITS_L2_SHIFT) - 1;
    if (on)
        bits[k >> 6] |= (uint64_t)1 << (k & 63);
    else
        bits[k >> 6] &= ~((uint64_t)1 << (k & 63));
    return true;
}

/* With cfg.arena_huge a big heap's arenas come from huge-page regions: a
 * fault maps 2 MiB at once, and freeing them whole costs a small fraction
 * of freeing 512 small pages each (docs/design-alloc.md).  A small heap
 * keeps small pages, so it does not fault in 2 MiB for a few objects. */
static char *arena_map(struct rc_alloc_state *st)
{
    char *base = rc__os_unmap_reclaim(st->unmapper, RC_ARENA_SIZE, 0);
    if (base) {
        memset(base, 0, RC_ARENA_HEADER);   /* its pools never used, as in a fresh mapping */
        return base;
    }
    if (st->narenas < st->region_from)
        return rc__os_map(RC_ARENA_SIZE, RC_ARENA_SIZE);
    if (st->region == st->region_end) {
        char *r = rc__os_map_huge(RC_REGION_SIZE);
        if (!r)
            return rc__os_map(RC_ARENA_SIZE, RC_ARENA_SIZE);
        st->region = r;
        st->region_end = r + RC_REGION_SIZE;
    }
    base = st->region;
    st->region += RC_ARENA_SIZE;
    return base;
}

static rc_arena *arena_new(rc_heap *h, struct rc_alloc_state *st)
{
    if (st->narenas == st->arenas_cap) {
        size_t cap = st->arenas_cap ? st->arenas_cap * 2 : 16;
        rc_arena **arr = realloc(st->arenas, cap * sizeof *arr);
        if (!arr) {
            rc__alloc_error(h, RC_ENOMEM, "cannot grow the arena table to %zu entries", cap);
            return NULL;
        }
        st->arenas = arr;
        st->arenas_cap = cap;
    }
    rc_arena *a = calloc(1, sizeof *a);
    char *base = a ? arena_map(st) : NULL;
    if (!base || !arena_bit_set(st, base, true)) {
        rc__os_unmap(base, RC_ARENA_SIZE);
        free(a);
        rc__alloc_error(h, RC_ENOMEM, "cannot map a %zu-byte arena", RC_ARENA_SIZE);
        return NULL;
    }
    a->base = base;
    a->nfree = RC_POOLS_PER_ARENA;
    size_t at = arena_slot(st, base);
    memmove(st->arenas + at + 1, st->arenas + at, (st->narenas - at) * sizeof *st->arenas);
    st->arenas[at] = a;
    st->narenas++;
    st->arenas_total++;
    if (st->narenas > st->arenas_highwater)
        st->arenas_highwater = st->narenas;
    if (st->narenas > st->arenas_peak)
        st->arenas_peak = st->narenas;
    arena_link(st, a);
    return a;
}

/* The table of a heap that fell from a peak: to twice what it holds,
 * never below 16 entries (out of memory it stays as it is). */
static void arena_table_shrink(struct rc_alloc_state *st)
{
    size_t cap = st->narenas > 8 ? st->narenas * 2 : 16;
    if (cap >= st->arenas_cap)
        return;
    rc_arena **arr = realloc(st->arenas, cap * sizeof *arr);
    if (arr) {
        st->arenas = arr;
        st->arenas_cap = cap;
    }
}

/* ------------------------------------------------------------------------
 * Decay: emptied arenas kept a while, with the unmapper
 * ---------------------------------------------------------------------- */

/* How many arenas may decay now: as many as the heap has in use, and
 * RC_DECAY_MIN more; none with arena_spare 0. */
static size_t decay_max(const struct rc_alloc_state *st)
{
    return st->spare_max ? st->narenas - st->nspare - st->nidle + RC_DECAY_MIN : 0;
}

size_t rc__arenas_decaying(const struct rc_alloc_state *st)
{
    return rc__os_unmap_kept(st->unmapper);
}

/* base, out of every table, goes to the unmapper's thread (later) or is
 * unmapped here. */
static void arena_to_os(struct rc_alloc_state *st, char *base, bool later)
{
    if (!later || !rc__os_unmap_later(st->unmapper, base, RC_ARENA_SIZE))
        rc__os_unmap(base, RC_ARENA_SIZE);
}

/* base decays if it may (false: it did not). */
static bool arena_decay(struct rc_alloc_state *st, char *base, bool may)
{
    if (!may || !decay_max(st) || !rc__unmapper(st))
        return false;
    return rc__os_unmap_delay(st->unmapper, base, RC_ARENA_SIZE, RC_DECAY_NS);
}

/* In bulk an arena out of every table waits in doomed, to go with the
 * rest at the end; false when not in bulk, or should doomed not grow. */
static bool arena_doom(struct rc_alloc_state *st, char *base)
{
    if (!st->bulk ||
        !rc__vec_reserve(&st->doomed, &st->doomed_cap, st->ndoomed + 1, sizeof *st->doomed, 64, SIZE_MAX))
        return false;
    st->doomed[st->ndoomed++] = base;
    return true;
}

/* The oldest decaying arenas beyond `keep` go now, or in bulk with the
 * rest. */
static void decay_trim(struct rc_alloc_state *st, size_t keep, bool later)
{
    for (char *base; (base = rc__os_unmap_reclaim(st->unmapper, RC_ARENA_SIZE, keep * RC_ARENA_SIZE));)
        if (!arena_doom(st, base))
            arena_to_os(st, base, later);
}

/* An arena leaves the heap: it decays, or it goes now (later: through
 * the unmapper's thread); so do the decaying arenas a heap smaller by it
 * may no longer keep. */
static void arena_retire(struct rc_alloc_state *st, char *base, bool may_decay, bool later)
{
    if (!arena_decay(st, base, may_decay))
        arena_to_os(st, base, later);
    decay_trim(st, may_decay ? decay_max(st) : 0, later);
}

static void arena_unmap(struct rc_alloc_state *st, char *base)
{
    if (!arena_doom(st, base))
        arena_retire(st, base, true, false);
}

void rc__alloc_bulk_begin(rc_heap *h)
{
    rc__alloc_state(h)->bulk++;
}

static bool arenas_fall(struct rc_alloc_state *st);

/* Each arena given back keeps the caller about 0.1 ms in munmap here (the
 * 32 of a dead set of 10^6 rings, a fifth of its collection): from
 * RC_UNMAP_LATER_MIN arenas on they go to the unmapper's thread
 * (prim/unmap.c); fewer, or without a thread, here. */
void rc__alloc_bulk_end(rc_heap *h)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    bool fell = st->bulk == 1 && arenas_fall(st);   /* what it releases goes with the rest */
    if (--st->bulk)
        return;
    bool later = st->ndoomed >= RC_UNMAP_LATER_MIN && rc__unmapper(st);
    for (size_t i = 0; i < st->ndoomed; i++)
        arena_retire(st, st->doomed[i], !fell, later);
    st->ndoomed = 0;
    free(st->doomed);              /* 8 bytes per arena of the last peak */
    st->doomed = NULL;
    st->doomed_cap = 0;
    /* The trim comes after every free of the peak's bookkeeping: a block
     * freed after it keeps its pages. */
    if (fell && !(later && rc__os_unmap_later_trim(st->unmapper)))
        rc__os_malloc_trim();
}

/* a is wholly free and unlinked. */
static void arena_release(struct rc_alloc_state *st, rc_arena *a)
{
    for (int k = 0; k < 2; k++)
        for (unsigned c = 0; c < RC_NCLASSES; c++)
            if (st->hint[k][c] && rc__arena_of(st->hint[k][c]) == a->base)
                st->hint[k][c] = NULL;
    size_t at = arena_slot(st, a->base);
    memmove(st->arenas + at, st->arenas + at + 1, (st->narenas - at - 1) * sizeof *st->arenas);
    st->narenas--;
    arena_bit_set(st, a->base, false);
    arena_unmap(st, a->base);
    free(a);
    st->arenas_freed++;
}

/* Releases wholly free arenas beyond `keep` (those a walk kept in the
 * heap's tables); with all, every decaying arena goes too. */
static void arenas_trim_to(struct rc_alloc_state *st, size_t keep, bool all)
{
    if (st->walking)
        return;
    while (st->nspare && st->nspare + st->nidle > keep) {
        rc_arena *a = st->by_free[RC_POOLS_PER_ARENA];
        arena_unlink(st, a);
        arena_release(st, a);
    }
    if (all)
        decay_trim(st, 0, false);
}

void rc__arenas_trim(struct rc_alloc_state *st, bool all)
{
    arenas_trim_to(st, st->spare_max, all);
}

void rc__arenas_destroy(struct rc_alloc_state *st)
{
    for (size_t i = 0; i < st->narenas; i++) {
        rc__os_unmap(st->arenas[i]->base, RC_ARENA_SIZE);
        free(st->arenas[i]);
    }
    free(st->arenas);
    if (st->region != st->region_end)
        rc__os_unmap(st->region, (size_t)(st->region_end - st->region));
    rc__os_unmapper_free(st->unmapper);
    free(st->doomed);
    for (size_t i = 0; i < RC_BITS_L1; i++)
        if (st->arena_bits[i] != rc__no_arenas)
            free((void *)(uintptr_t)st->arena_bits[i]);
}

/* ------------------------------------------------------------------------
 * Pools
 * ---------------------------------------------------------------------- */

/* True when every pool of a is free or reserved, some reserved: an idle
 * arena, counted with the spares. */
static bool arena_idle(const rc_arena *a)
{
    return a->nempty && a->nfree + a->nempty == RC_POOLS_PER_ARENA;
}

/* A pool from the arena with the fewest free pools, so others drain. */
/* a's free pools form a list doubly linked through next/prev. */
static void free_pool_unlink(rc_arena *a, rc_pool *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        a->freepools = p->next;
    if (p->next)
        p->next->prev = p->prev;
}

static bool carved_for(const rc_pool *p, int kind, unsigned cls)
{
    return p->kind == RC_KIND_FREE && p->last_kind == kind && p->cls == cls;
}

/* Takes a pool off a's free list, preferring one carved for the same kind
 * and class (it keeps its blocks and free list, so it needs no carving):
 * the one last given back, else one among the first few, else the first. */
static rc_pool *take_free_pool(struct rc_alloc_state *st, rc_arena *a, int kind, unsigned cls)
{
    rc_pool *p = st->hint[kind_index(kind)][cls];
    if (!p || p->arena != a || !carved_for(p, kind, cls)) {
        p = a->freepools;
        int looked = 0;
        for (rc_pool *q = p; q && looked < 16; q = q->next, looked++)
            if (carved_for(q, kind, cls)) {
                p = q;
                break;
            }
    }
    free_pool_unlink(a, p);
    return p;
}

static rc_pool *pool_take(rc_heap *h, struct rc_alloc_state *st, int kind, unsigned cls)
{
    rc_arena *a;
    if (st->nspare + st->nidle > st->spare_max)
        rc__arenas_trim(st, false);
    if (st->by_free_mask)
        a = st->by_free[__builtin_ctzll(st->by_free_mask) + 1];
    else if (st->by_free[RC_POOLS_PER_ARENA])
        a = st->by_free[RC_POOLS_PER_ARENA];
    else if (!(a = arena_new(h, st)))
        return NULL;
    arena_unlink(st, a);
    st->nidle -= arena_idle(a);
    rc_pool *p = a->freepools ? take_free_pool(st, a, kind, cls) : rc__pool_at(a->base, a->nextpool++);
    a->nfree--;
    arena_link(st, a);
    p->heap = h;
    p->arena = a;
    return p;
}

static void pool_give_back(struct rc_alloc_state *st, rc_pool *p)
{
    rc_arena *a = p->arena;
    st->hint[kind_index(p->kind)][p->cls] = p;
    p->kind = RC_KIND_FREE;
    a->back_at = ++st->pools_back;
    arena_unlink(st, a);
    p->prev = NULL;
    p->next = a->freepools;
    if (p->next)
        p->next->prev = p;
    a->freepools = p;
    a->nfree++;
    if (a->nfree < RC_POOLS_PER_ARENA) {
        arena_link(st, a);
        return;
    }
    if (!st->walking && st->nspare + st->nidle >= st->spare_max) {
        arena_release(st, a);
        return;
    }
    arena_link(st, a);
}

static void pool_init(struct rc_alloc_state *into, rc_pool *p, int kind, unsigned cls)
{
    size_t size = rc__class_size(cls);
    char *first = rc__pool_first(p);
    uint64_t since = rc__alloc_state(p->heap)->pools_back - p->arena->back_at;
    if (p->cls == cls && p->size == size && p->last_kind == kind && since < RC_RECARVE_AFTER) {
        /* Given back empty and untouched since: its free list and top
         * still hold, so its blocks need no bumping again. */
        p->kind = (uint8_t)kind;
        rc__pool_relink(into, p);
        return;
    }
    p->kind = p->last_kind = (uint8_t)kind;
    p->tracked = 0;
    p->cls = (uint8_t)cls;
    p->size = (uint16_t)size;
    p->used = 0;
    RC_ASAN_UNPOISON(first, (size_t)(rc__pool_end(p) - first));   /* the old layout's freed blocks */
    rc__mark_free(first, NULL);
    p->free = first;
    p->top = first + size;
    rc__pool_relink(into, p);
}

/* Gives back the reserved pools of a, whose other pools are all free. */
static void arena_drop_reserve(struct rc_alloc_state *st, rc_arena *a)
{
    for (int k = 0; k < 2; k++)
        for (unsigned c = 0; c < RC_NCLASSES; c++)
            for (rc_pool **link = &st->reserve[k][c]; *link;) {
                rc_pool *r = *link;
                if (r->arena != a) {
                    link = &r->next;
                    continue;
                }
                *link = r->next;
                st->nreserve[k][c]--;
                bool last = --a->nempty == 0;
                pool_give_back(st, r);    /* the last one may release a */
                if (last)
                    return;
            }
}

/* The reserved pools of one idle arena go back, and with them the arena
 * becomes wholly free.  False: no idle arena was found. */
static bool idle_arena_drop(struct rc_alloc_state *st)
{
    for (int k = 0; k < 2; k++)
        for (unsigned c = 0; c < RC_NCLASSES; c++)
            for (rc_pool *r = st->reserve[k][c]; r; r = r->next)
                if (arena_idle(r->arena)) {
                    st->nidle--;
                    arena_drop_reserve(st, r->arena);
                    return true;
                }
    return false;
}

/* At the end of a walk over the whole heap and of a bulk release.  The
 * spares save a steady heap the mmap and the page faults of a new arena,
 * but a heap found fallen from a peak of RC_PEAK_MIN arenas or more to an
 * eighth of it in use has dropped what it held, and a collection is the
 * program's way to ask for that memory: the spare, idle and decaying
 * arenas go too, and the peak starts again from what is left.  True when
 * it fell: the peak's bookkeeping came from malloc, and the caller trims
 * malloc once it has freed its own. */
static bool arenas_fall(struct rc_alloc_state *st)
{
    size_t used = st->narenas - st->nspare - st->nidle;
    if (st->walking || st->arenas_peak < RC_PEAK_MIN || used * RC_PEAK_FALL > st->arenas_peak) {
        rc__arenas_trim(st, false);
        return false;
    }
    while (st->nidle && idle_arena_drop(st)) {
    }
    arenas_trim_to(st, 0, true);
    arena_table_shrink(st);
    st->arenas_peak = st->narenas;
    return true;
}

void rc__arenas_settle(struct rc_alloc_state *st)
{
    if (arenas_fall(st))
        rc__os_malloc_trim();
}

void rc__pool_emptied(struct rc_alloc_state *st, rc_pool *p)
{
    rc_arena *a = p->arena;
    int k = kind_index(p->kind);
    rc__pool_unlink(st, p);
    bool last = a->nfree + a->nempty + 1 == RC_POOLS_PER_ARENA;   /* the arena's last used pool */
    /* Reserve it -- also when it was the arena's last used pool, if the
     * arena may stay as one of the arena_spare spares (it is then idle). */
    if (st->nreserve[k][p->cls] < RC_RESERVE_POOLS && (!last || st->nspare + st->nidle < st->spare_max)) {
        p->next = st->reserve[k][p->cls];
        st->reserve[k][p->cls] = p;
        st->nreserve[k][p->cls]++;
        a->nempty++;
        st->nidle += last;
        return;
    }
    bool drop = last && a->nempty;
    pool_give_back(st, p);
    if (drop)
        arena_drop_reserve(st, a);
}

/* A new or reserved pool, first in into's class list (a per-thread
 * state's caller then makes it the owner). */
static rc_pool *pool_acquire(rc_heap *h, struct rc_alloc_state *into, int kind, unsigned cls)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    if (st->walking)
        rc__walk_end(st);
    rc_pool **reserve = &st->reserve[kind_index(kind)][cls];
    rc_pool *p = *reserve;
    if (p) {
        *reserve = p->next;
        st->nreserve[kind_index(kind)][cls]--;
        st->nidle -= arena_idle(p->arena);
        p->arena->nempty--;
        rc__pool_relink(into, p);
    } else {
        if (!(p = pool_take(h, st, kind, cls)))
            return NULL;
        pool_init(into, p, kind, cls);
    }
    return p;
}

char *rc__pool_refill(rc_heap *h, struct rc_alloc_state *into, int kind, unsigned cls)
{
    rc_pool *p = pool_acquire(h, into, kind, cls);
    if (!p)
        return NULL;
    /* As pool_pop in alloc.c, for a pool known to have two free blocks
     * or room to bump. */
    char *b = p->free;
    char *next = *rc__link_of(b);
    if (!next) {
        next = p->top;
        p->top += p->size;
        rc__mark_free(next, NULL);
    }
    p->free = next;
    p->used++;
    return b;
}
