/* Large blocks (bigger than RC_SMALL_MAX) from malloc, or mapped with huge
 * pages from RC_HUGE_BLOCK on, with an rc_large prefix, and the span walk
 * over object pools and large objects that the collector streams through.  Invariants: src/alloc/alloc_impl.h. */
#include "alloc_impl.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

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
 * lists are written soon after they are made), and freeing it keeps its
 * pages for the next huge block a while, then returns them whatever
 * malloc's trim thresholds. */
static bool is_huge(size_t usable)
{
    return RC_LARGE_PREFIX + usable >= RC_HUGE_BLOCK;
}

/* The bytes to map for a block that grows: whole 2 MiB pages, so the range
 * it grows into is mapped before it is first touched and that touch maps a
 * huge page (a mapping cut at the block's end would fault the partial 2
 * MiB range with small pages, and it would stay small when the block grew
 * over it). */
static size_t grown_length(size_t n)
{
    return (n + RC_HUGE_BLOCK - 1) & ~(RC_HUGE_BLOCK - 1);
}

/* ------------------------------------------------------------------------
 * Kept pages of freed huge blocks (the invariants: alloc_impl.h, "kept").
 * A table of megabytes built again and again -- a dict per request, a list
 * per batch -- would otherwise fault all its pages in each time, and a
 * host that takes freed guest memory back makes those faults cost several
 * times what the work on the table does (docs/design-alloc.md).
 * ---------------------------------------------------------------------- */

/* Keeps [p, p + len), whole huge pages of a freed block, with the heap's
 * unmapper (started on first need), which gives them back RC_DECAY_NS
 * after the heap last kept or took back a range, with the decaying
 * arenas.  A heap without spare arenas keeps nothing, and neither does a
 * collection's delete step (st->bulk): what a collection frees goes back
 * with its arenas. */
static void kept_add(struct rc_alloc_state *st, char *p, size_t len)
{
    bool keep = st->spare_max && !st->bulk && rc__unmapper(st) &&
                rc__os_keep_block(st->unmapper, p, len, RC_KEPT_MAX, RC_DECAY_NS);
    if (!keep)
        rc__os_unmap(p, len);
}

/* A mapping of len bytes (a multiple of RC_HUGE_BLOCK), kept pages
 * first: from the front of the longest kept range, which leaves the block
 * the most room to grow in place. */
static rc_large *map_huge(struct rc_alloc_state *st, size_t len)
{
    void *p = rc__os_take_block(st->unmapper, len, NULL);
    return p ? p : rc__os_map_huge(len);
}

/* ------------------------------------------------------------------------
 * Blocks
 * ---------------------------------------------------------------------- */

/* Gives back a huge block's mapping, or the tail of one from p on (p
 * aligned to RC_HUGE_BLOCK): its whole huge pages are kept, the small
 * pages past them unmapped. */
static void give_back(struct rc_alloc_state *st, char *p, size_t len)
{
    size_t whole = len & ~(RC_HUGE_BLOCK - 1);
    if (len > whole)
        rc__os_unmap(p + whole, len - whole);
    if (whole)
        kept_add(st, p, whole);
}

static void block_free(struct rc_alloc_state *st, rc_large *l)
{
    if (l->mapped)
        give_back(st, (char *)l, l->mapped);
    else
        free(l);
}

static void large_release(struct rc_alloc_state *st, rc_large *l)
{
    large_unlink(st, l);
    st->nlarge[kind_index((int)l->kind)]--;
    st->large_bytes -= RC_LARGE_PREFIX + l->size;
    block_free(st, l);
}

/* A block with room for the prefix and usable bytes, zeroed if asked
 * (fresh mappings always are).  A huge one takes kept pages in whole 2
 * MiB pages, else maps exactly its length, so a new block never makes
 * more than its own length resident. */
static rc_large *block_new(struct rc_alloc_state *st, size_t usable, bool zero)
{
    size_t n = RC_LARGE_PREFIX + usable;
    rc_large *l;
    if (!is_huge(usable)) {
        if ((l = zero ? calloc(1, n) : malloc(n)))
            l->mapped = 0;
    } else if ((l = rc__os_take_block(st->unmapper, grown_length(n), NULL))) {
        if (zero)
            memset(l, 0, n);
        l->mapped = grown_length(n);
    } else if ((l = rc__os_map_huge(n))) {
        l->mapped = n;
    }
    return l;
}

rc_large *rc__large_get(rc_heap *h, int kind, size_t usable)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    if (st->walking)
        rc__walk_end(st);
    rc_large *l = block_new(st, usable, kind == RC_KIND_OBJ);
    if (!l) {
        rc__alloc_error(h, RC_ENOMEM, "allocation of a %zu-byte block failed", usable);
        return NULL;
    }
    l->heap = h;
    l->size = usable;
    l->kind = (uint32_t)kind;
    l->dead = 0;
    if (kind == RC_KIND_OBJ && rc__amap_put(&st->large_map, (uintptr_t)(l + 1), l) < 0) {
        block_free(st, l);
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

/* Copies l's block into m, a mapping of len bytes, and gives l back. */
static rc_large *copy_block(struct rc_alloc_state *st, rc_large *l, rc_large *m, size_t len)
{
    memcpy(m, l, RC_LARGE_PREFIX + l->size);
    block_free(st, l);
    m->mapped = len;
    return m;
}

/* A malloc'd block that grows to RC_HUGE_BLOCK moves, once, to a mapping
 * of its own: a list or table built again and again then reuses kept
 * pages or faults 2 MiB ones instead of 4 KiB ones (freed and reused
 * memory is malloc's to keep or trim, so a malloc'd block's growth faults
 * small pages whenever malloc trimmed).  NULL, l untouched, on failure. */
static rc_large *move_to_mapping(struct rc_alloc_state *st, rc_large *l, size_t n)
{
    size_t len = grown_length(n);
    rc_large *m = map_huge(st, len);
    return m ? copy_block(st, l, m, len) : NULL;
}

/* A mapped block grown to len bytes: into the kept range after it, else
 * by copying into a kept range long enough (a copy costs what a warm
 * fault of the same bytes does, and a fault the host makes cold several
 * times that), else by mremap, which moves its pages and faults the rest;
 * by copying into a fresh mapping where the kernel cannot move them (a
 * block made of several mappings).  NULL, l untouched, on failure. */
static rc_large *grow_block(struct rc_alloc_state *st, rc_large *l, size_t len)
{
    char *end = (char *)l + l->mapped;
    if (rc__os_take_block(st->unmapper, len - l->mapped, end)) {
        l->mapped = len;
        return l;
    }
    rc_large *m = rc__os_take_block(st->unmapper, len, NULL);
    if (!m && (m = rc__os_remap_huge(l, l->mapped, len))) {
        m->mapped = len;
        return m;
    }
    if (!m)
        m = rc__os_map_huge(len);
    return m ? copy_block(st, l, m, len) : NULL;
}

/* Moves l's block to one of usable bytes, contents kept: a mapped block by
 * moving its pages (or not at all while it fits the pages mapped; a
 * shrinking one keeps its tail's whole pages), a malloc'd one by realloc
 * until it reaches RC_HUGE_BLOCK.  NULL, l untouched, on failure. */
static rc_large *resize_block(struct rc_alloc_state *st, rc_large *l, size_t usable)
{
    size_t n = RC_LARGE_PREFIX + usable;
    if (!l->mapped)
        return n < RC_HUGE_BLOCK ? realloc(l, n) : move_to_mapping(st, l, n);
    size_t len = grown_length(n);
    if (len > l->mapped)
        return grow_block(st, l, len);
    if (len < l->mapped) {
        give_back(st, (char *)l + len, l->mapped - len);
        l->mapped = len;
    }
    return l;
}

void *rc__large_resize(rc_heap *h, rc_large *l, size_t usable)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    rc_large *prev = l->prev, *next = l->next;
    size_t old = l->size;
    rc_large *m = resize_block(st, l, usable);
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
    rc__os_drop_blocks(st->unmapper);   /* the heap was looked at whole: a full collection gives memory back */
    rc__arenas_settle(st);
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
