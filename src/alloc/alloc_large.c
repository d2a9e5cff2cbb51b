/* Large blocks (bigger than RC_SMALL_MAX) from malloc, or mapped with huge
 * pages from RC_HUGE_BLOCK on, with an rc_large prefix, and the span walk
 * over object pools and large objects that the collector streams through.  Invariants: src/alloc/alloc_impl.h. */
#include "alloc_impl.h"

#include <stddef.h>
#include <stdlib.h>

/* malloc's blocks suit max_align_t, so prefix + block stay 16-aligned. */
_Static_assert(_Alignof(max_align_t) >= 16, "malloc must return 16-aligned blocks");

RC_INLINE int kind_index(int kind) { return RC_KIND_INDEX(kind); }

static void large_link(struct rc_alloc_state *st, rc_large *l)
{
    rc_large **head = &st->large[kind_index((int)l->kind)];
    l->prev = NULL;
    l->next = *head;
    if (l->next)
        l->next->prev = l;
    *head = l;
}

static void large_unlink(struct rc_alloc_state *st, rc_large *l)
{
    if (l->prev)
        l->prev->next = l->next;
    else
        st->large[kind_index((int)l->kind)] = l->next;
    if (l->next)
        l->next->prev = l->prev;
}

/* A huge block is its own mapping: first touch of its memory costs a
 * fault per 2 MiB instead of per 4 KiB (the big tables of dicts, sets and
 * lists are written soon after they are made), and freeing it returns the
 * memory at once, whatever malloc's trim thresholds. */
static bool is_huge(size_t usable)
{
    return RC_LARGE_PREFIX + usable >= RC_HUGE_BLOCK;
}

static void block_free(rc_large *l)
{
    if (l->mapped)
        rc__os_unmap(l, l->mapped);
    else
        free(l);
}

static void large_release(struct rc_alloc_state *st, rc_large *l)
{
    large_unlink(st, l);
    st->nlarge[kind_index((int)l->kind)]--;
    st->large_bytes -= RC_LARGE_PREFIX + l->size;
    block_free(l);
}

/* A block with room for the prefix and usable bytes, zeroed if asked
 * (mapped memory always is). */
static rc_large *block_new(size_t usable, bool zero)
{
    size_t n = RC_LARGE_PREFIX + usable;
    if (!is_huge(usable)) {
        rc_large *l = zero ? calloc(1, n) : malloc(n);
        if (l)
            l->mapped = 0;
        return l;
    }
    rc_large *l = rc__os_map_huge(n);
    if (l)
        l->mapped = n;
    return l;
}

rc_large *rc__large_get(rc_heap *h, int kind, size_t usable)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    if (st->walking)
        rc__walk_end(st);
    rc_large *l = block_new(usable, kind == RC_KIND_OBJ);
    if (!l) {
        rc__alloc_error(h, RC_ENOMEM, "allocation of a %zu-byte block failed", usable);
        return NULL;
    }
    l->heap = h;
    l->size = usable;
    l->kind = (uint32_t)kind;
    l->dead = 0;
    if (kind == RC_KIND_OBJ && rc__amap_put(&st->large_map, (uintptr_t)(l + 1), l) < 0) {
        block_free(l);
        rc__alloc_error(h, RC_ENOMEM, "cannot index a %zu-byte object", usable);
        return NULL;
    }
    large_link(st, l);
    st->nlarge[kind_index(kind)]++;
    st->live_large[kind_index(kind)]++;
    st->large_bytes += RC_LARGE_PREFIX + usable;
    return l;
}

void rc__large_put(struct rc_alloc_state *st, rc_large *l)
{
    st->live_large[kind_index((int)l->kind)]--;
    if (l->kind == RC_KIND_OBJ) {
        rc__amap_del(&st->large_map, (uintptr_t)(l + 1));
        ((rc_head *)(void *)(l + 1))->tw = 0;
        if (st->walking) {               /* the walk may still read it */
            l->dead = 1;
            st->large_dead++;
            return;
        }
    }
    large_release(st, l);
}

/* Moves l's block to one of usable bytes, contents kept: a mapped block by
 * moving its pages, a malloc'd one by realloc -- also past RC_HUGE_BLOCK: a
 * block grown in steps touches each new range before it spans 2 MiB, so a
 * mapping would not give it huge pages, and malloc keeps what a freed big
 * block leaves for the next one (lists built again and again).  NULL, l
 * untouched, on failure. */
static rc_large *resize_block(rc_large *l, size_t usable)
{
    size_t n = RC_LARGE_PREFIX + usable;
    if (!l->mapped)
        return realloc(l, n);
    rc_large *m = rc__os_remap_huge(l, l->mapped, n);
    if (m)
        m->mapped = n;
    return m;
}

void *rc__large_resize(rc_heap *h, rc_large *l, size_t usable)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    rc_large *prev = l->prev, *next = l->next;
    size_t old = l->size;
    rc_large *m = resize_block(l, usable);
    if (!m) {
        rc__alloc_error(h, RC_ENOMEM, "resizing a block to %zu bytes failed", usable);
        return NULL;
    }
    if (prev)
        prev->next = m;
    else
        st->large[kind_index(RC_KIND_RAW)] = m;
    if (next)
        next->prev = m;
    m->size = usable;
    st->large_bytes = st->large_bytes - old + usable;
    return m + 1;
}

void rc__large_destroy(struct rc_alloc_state *st)
{
    for (int k = 0; k < 2; k++)
        while (st->large[k])
            large_release(st, st->large[k]);
    rc__amap_free(&st->large_map);
}

/* ------------------------------------------------------------------------
 * Span walks
 * ---------------------------------------------------------------------- */

void rc__walk_end(struct rc_alloc_state *st)
{
    st->walking = false;
    if (st->large_dead) {
        rc_large *l = st->large[kind_index(RC_KIND_OBJ)];
        while (l) {
            rc_large *next = l->next;
            if (l->dead)
                large_release(st, l);
            l = next;
        }
        st->large_dead = 0;
    }
    rc__arenas_trim(st, false);
}

void rc__span_iter_init(const rc_heap *h, rc_span_iter *it)
{
    it->heap = h;
    it->arena = NULL;
    it->pool = 0;
    it->large = NULL;
    it->phase = 0;
    it->trackable = false;
    rc__alloc_state(h)->walking = true;
}

void rc__span_iter_stop(rc_span_iter *it)
{
    if (it->phase != 2) {
        it->phase = 2;
        rc__walk_end(rc__alloc_state(it->heap));
    }
}

void rc__span_iter_init_trackable(const rc_heap *h, rc_span_iter *it)
{
    rc__span_iter_init(h, it);
    it->trackable = true;
}

/* Phase 0: object pools, arenas in address order, pools in address order
 * (it->pool counts pools across arenas).  Phase 1: large objects. */
bool rc__span_next(rc_span_iter *it, rc_span *s)
{
    struct rc_alloc_state *st = rc__alloc_state(it->heap);
    if (it->phase == 0) {
        while (it->pool < st->narenas * RC_POOLS_PER_ARENA) {
            rc_arena *a = st->arenas[it->pool / RC_POOLS_PER_ARENA];
            size_t i = it->pool % RC_POOLS_PER_ARENA;
            if (i >= a->nextpool) {
                it->pool += RC_POOLS_PER_ARENA - i;
                continue;
            }
            it->pool++;
            rc_pool *p = rc__pool_at(a->base, i);
            if (p->kind != RC_KIND_OBJ || (it->trackable && !p->tracked))
                continue;
            s->start = rc__pool_first(p);
            s->stride = p->size;
            s->count = (size_t)(p->top - s->start) / p->size;
            it->arena = a;
            return true;
        }
        it->phase = 1;
        it->large = st->large[kind_index(RC_KIND_OBJ)];
    }
    if (it->phase == 1) {
        rc_large *l = it->large;
        if (l) {
            it->large = l->next;         /* dead ones stay linked until the walk ends */
            s->start = (char *)(l + 1);
            s->stride = l->size;
            s->count = 1;
            return true;
        }
        it->phase = 2;
        rc__walk_end(st);
    }
    return false;
}
