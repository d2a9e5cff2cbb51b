/* The small-object allocator: arenas → pools → size-class blocks, large
 * blocks from malloc, and the object walk the collector streams over.
 * Invariants: src/alloc_impl.h.  Design and figures: docs/design-alloc.md. */
#include "alloc_impl.h"

#include <stddef.h>
#include <stdlib.h>

/* 16-byte classes up to 512, then 64-byte classes up to RC_SMALL_MAX;
 * computed, not looked up, because the arithmetic is as short as a load. */
RC_INLINE unsigned class_of(size_t n)
{
    return n <= 512 ? (unsigned)((n - 1) >> 4) : 31u + (unsigned)((n - 449) >> 6);
}

RC_INLINE size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

RC_INLINE int kind_index(int kind) { return RC_KIND_INDEX(kind); }

/* rc_assert for raw buffers: they have no object header to name a type. */
#if RC_DEBUG >= 1
#define buffer_assert(cond, check, p, ...) \
    do { if (RC_UNLIKELY(!(cond))) rc__fatal((check), "buffer", (p), __VA_ARGS__); } while (0)
#else
#define buffer_assert(cond, check, p, ...) ((void)0)
#endif

/* ------------------------------------------------------------------------
 * Arenas
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

/* Position of base in the address-sorted arena array. */
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

static rc_arena *arena_new(rc_heap *h, struct rc_alloc_state *st)
{
    if (st->narenas == st->arenas_cap) {
        size_t cap = st->arenas_cap ? st->arenas_cap * 2 : 16;
        rc_arena **arr = realloc(st->arenas, cap * sizeof *arr);
        if (!arr)
            return NULL;
        st->arenas = arr;
        st->arenas_cap = cap;
    }
    rc_arena *a = calloc(1, sizeof *a);
    char *base = a ? rc__os_map(RC_ARENA_SIZE, RC_ARENA_SIZE) : NULL;
    if (!base || rc__amap_put(&st->arena_map, (uintptr_t)base, a) < 0) {
        rc__os_unmap(base, RC_ARENA_SIZE);
        free(a);
        rc__error(h, RC_ENOMEM, "cannot map a %zu-byte arena", RC_ARENA_SIZE);
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
    arena_link(st, a);
    return a;
}

static void arena_release(struct rc_alloc_state *st, rc_arena *a)
{
    size_t at = arena_slot(st, a->base);
    memmove(st->arenas + at, st->arenas + at + 1, (st->narenas - at - 1) * sizeof *st->arenas);
    st->narenas--;
    rc__amap_del(&st->arena_map, (uintptr_t)a->base);
    rc__os_unmap(a->base, RC_ARENA_SIZE);
    free(a);
    st->arenas_freed++;
}

/* A pool from the arena with the fewest free pools, so others drain. */
static rc_pool *pool_take(rc_heap *h, struct rc_alloc_state *st)
{
    rc_arena *a;
    if (st->by_free_mask)
        a = st->by_free[__builtin_ctzll(st->by_free_mask) + 1];
    else if (st->by_free[RC_POOLS_PER_ARENA])
        a = st->by_free[RC_POOLS_PER_ARENA];
    else if (!(a = arena_new(h, st)))
        return NULL;
    arena_unlink(st, a);
    rc_pool *p = a->freepools;
    if (p)
        a->freepools = p->next;
    else
        p = (rc_pool *)(a->base + (size_t)a->nextpool++ * RC_POOL_SIZE);
    a->nfree--;
    arena_link(st, a);
    p->heap = h;
    p->arena = a;
    return p;
}

static void pool_give_back(struct rc_alloc_state *st, rc_pool *p)
{
    rc_arena *a = p->arena;
    p->kind = RC_KIND_FREE;
    arena_unlink(st, a);
    p->next = a->freepools;
    a->freepools = p;
    a->nfree++;
    if (a->nfree == RC_POOLS_PER_ARENA && !st->walking && st->nspare >= st->spare_max)
        arena_release(st, a);
    else
        arena_link(st, a);
}

/* ------------------------------------------------------------------------
 * Pools
 * ---------------------------------------------------------------------- */

RC_INLINE char **link_of(char *b) { return (char **)(void *)(b + RC_LINK_OFF); }

/* b becomes the free-list head: a free block with tw == 0. */
RC_INLINE void mark_free(char *b, char *next)
{
    *(uintptr_t *)(void *)b = 0;
    *link_of(b) = next;
}

static void used_link(struct rc_alloc_state *st, rc_pool *p)
{
    rc_pool **head = &st->usedpools[kind_index(p->kind)][p->cls];
    p->prev = NULL;
    p->next = *head;
    if (p->next)
        p->next->prev = p;
    *head = p;
}

static void used_unlink(struct rc_alloc_state *st, rc_pool *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        st->usedpools[kind_index(p->kind)][p->cls] = p->next;
    if (p->next)
        p->next->prev = p->prev;
}

static void pool_init(struct rc_alloc_state *st, rc_pool *p, int kind, unsigned cls)
{
    size_t size = rc__class_size(cls);
    char *first = rc__pool_first(p);
    p->kind = (uint8_t)kind;
    p->cls = (uint8_t)cls;
    p->size = (uint16_t)size;
    p->used = 0;
    p->arena->nempty++;                  /* until its first block goes out */
    p->limit = (char *)p + RC_POOL_SIZE - size;
    mark_free(first, NULL);
    p->free = first;
    p->top = first + size;
    used_link(st, p);
}

/* Takes the first free block; p has one.  When the free list runs out the
 * next never-used block joins it, so the walk region only grows on demand. */
RC_INLINE char *pool_pop(struct rc_alloc_state *st, rc_pool *p)
{
    char *b = p->free;
    char *next = *link_of(b);
    if (RC_UNLIKELY(p->used++ == 0))
        p->arena->nempty--;
    if (RC_UNLIKELY(!next)) {
        if (p->top <= p->limit) {
            next = p->top;
            p->top += p->size;
            mark_free(next, NULL);
        } else {
            used_unlink(st, p);          /* full */
        }
    }
    p->free = next;
    return b;
}

/* Gives back the arena's pools that sit empty in class lists, once every
 * other pool of the arena is free: the arena can then go to the OS. */
static void arena_drop_empty_pools(struct rc_alloc_state *st, rc_arena *a, const rc_pool *emptied)
{
    for (size_t i = 0; i < a->nextpool && a->nempty; i++) {
        rc_pool *p = (rc_pool *)(a->base + i * RC_POOL_SIZE);
        if (p != emptied && p->kind != RC_KIND_FREE && p->used == 0) {
            a->nempty--;
            used_unlink(st, p);
            pool_give_back(st, p);
        }
    }
}

static RC_NOINLINE void pool_emptied(struct rc_alloc_state *st, rc_pool *p)
{
    rc_arena *a = p->arena;
    /* The only pool of its class stays, so one alloc/free pair repeated
     * does not take and give back a pool every time -- unless the rest of
     * its arena is free, which must then be able to go back to the OS. */
    if (!p->prev && !p->next && a->nfree + a->nempty + 1 < RC_POOLS_PER_ARENA) {
        a->nempty++;
        return;
    }
    used_unlink(st, p);
    if (a->nempty && a->nfree + a->nempty + 1 == RC_POOLS_PER_ARENA)
        arena_drop_empty_pools(st, a, p);
    pool_give_back(st, p);
}

RC_INLINE void pool_push(struct rc_alloc_state *st, rc_pool *p, char *b)
{
    *link_of(b) = p->free;
    if (RC_UNLIKELY(!p->free))
        used_link(st, p);                /* was full */
    p->free = b;
    if (RC_UNLIKELY(--p->used == 0))
        pool_emptied(st, p);
}

static void walk_end(struct rc_alloc_state *st);

static RC_NOINLINE char *small_get_slow(rc_heap *h, struct rc_alloc_state *st, int kind, unsigned cls)
{
    if (st->walking)
        walk_end(st);
    rc_pool *p = pool_take(h, st);
    if (!p)
        return NULL;
    pool_init(st, p, kind, cls);
    return pool_pop(st, p);
}

/* A block of class cls, or NULL (error recorded) when the OS refuses. */
RC_INLINE char *small_get(rc_heap *h, struct rc_alloc_state *st, int kind, unsigned cls)
{
    rc_pool *p = st->usedpools[kind_index(kind)][cls];
    return RC_LIKELY(p != NULL) ? pool_pop(st, p) : small_get_slow(h, st, kind, cls);
}

/* ------------------------------------------------------------------------
 * Admission: fault injection and the max_bytes cap
 * ---------------------------------------------------------------------- */

static RC_NOINLINE bool admit_slow(rc_heap *h, struct rc_alloc_state *st, size_t grow)
{
    if (st->attempts >= st->fail_at && (st->attempts == st->fail_at || st->fail_after)) {
        rc__error(h, RC_ENOMEM, "allocation %llu failed by fault injection (fail_alloc_at=%llu%s)",
                  (unsigned long long)st->attempts, (unsigned long long)st->fail_at,
                  st->fail_after ? ", and every one after" : "");
        return false;
    }
    if (st->requested + grow <= st->cap)
        return true;
    /* Over the cap: a full collection first, unless we are inside one (the
     * collector only frees) or already collecting for the cap. */
    if (!st->capping && !h->gc.collecting) {
        st->capping = true;
        rc_gc_collect(h, 2);
        st->capping = false;
    }
    if (st->requested + grow <= st->cap)
        return true;
    rc__error(h, RC_ENOMEM, "allocation of %zu bytes would pass max_bytes=%zu (%zu bytes in use)",
              grow, st->cap, st->requested);
    return false;
}

/* Counts one allocation attempt that grows the requested bytes by grow. */
RC_INLINE bool admit(rc_heap *h, struct rc_alloc_state *st, size_t grow)
{
    if (RC_UNLIKELY(++st->attempts >= st->fail_at) || RC_UNLIKELY(st->requested + grow > st->cap))
        return admit_slow(h, st, grow);
    return true;
}

RC_INLINE void account_alloc(struct rc_alloc_state *st, size_t size)
{
    st->requested += size;
    if (st->requested > st->peak)
        st->peak = st->requested;
}

/* ------------------------------------------------------------------------
 * Large blocks
 * ---------------------------------------------------------------------- */

/* malloc's blocks suit max_align_t, so prefix + block stay 16-aligned. */
_Static_assert(_Alignof(max_align_t) >= 16, "malloc must return 16-aligned blocks");

static void *malloc_block(size_t size, bool zero)
{
    return zero ? calloc(1, size) : malloc(size);
}

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

static void large_release(struct rc_alloc_state *st, rc_large *l)
{
    large_unlink(st, l);
    st->nlarge[kind_index((int)l->kind)]--;
    st->large_bytes -= RC_LARGE_PREFIX + l->size;
    free(l);
}

/* A large block of usable bytes, admitted already; NULL with the error set. */
static rc_large *large_get(rc_heap *h, struct rc_alloc_state *st, int kind, size_t usable)
{
    if (st->walking)
        walk_end(st);
    rc_large *l = malloc_block(RC_LARGE_PREFIX + usable, kind == RC_KIND_OBJ);
    if (!l) {
        rc__error(h, RC_ENOMEM, "malloc of a %zu-byte block failed", usable);
        return NULL;
    }
    l->heap = h;
    l->size = usable;
    l->kind = (uint32_t)kind;
    l->dead = 0;
    if (kind == RC_KIND_OBJ && rc__amap_put(&st->large_map, (uintptr_t)(l + 1), l) < 0) {
        free(l);
        rc__error(h, RC_ENOMEM, "cannot index a %zu-byte object", usable);
        return NULL;
    }
    large_link(st, l);
    st->nlarge[kind_index(kind)]++;
    st->large_bytes += RC_LARGE_PREFIX + usable;
    return l;
}

static void large_put(struct rc_alloc_state *st, rc_large *l)
{
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

static rc_large *large_of(const void *block)
{
    return (rc_large *)(uintptr_t)block - 1;
}

/* ------------------------------------------------------------------------
 * Span walks
 * ---------------------------------------------------------------------- */

static void walk_end(struct rc_alloc_state *st)
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
    while (st->nspare > st->spare_max) {
        rc_arena *a = st->by_free[RC_POOLS_PER_ARENA];
        arena_unlink(st, a);
        arena_release(st, a);
    }
}

void rc__span_iter_init(const rc_heap *h, rc_span_iter *it)
{
    it->heap = h;
    it->arena = NULL;
    it->pool = 0;
    it->large = NULL;
    it->phase = 0;
    h->alloc->walking = true;
}

/* Phase 0: object pools, arenas in address order, pools in address order
 * (it->pool counts pools across arenas).  Phase 1: large objects. */
bool rc__span_next(rc_span_iter *it, rc_span *s)
{
    struct rc_alloc_state *st = it->heap->alloc;
    if (it->phase == 0) {
        while (it->pool < st->narenas * RC_POOLS_PER_ARENA) {
            rc_arena *a = st->arenas[it->pool / RC_POOLS_PER_ARENA];
            size_t i = it->pool % RC_POOLS_PER_ARENA;
            if (i >= a->nextpool) {
                it->pool += RC_POOLS_PER_ARENA - i;
                continue;
            }
            it->pool++;
            rc_pool *p = (rc_pool *)(a->base + i * RC_POOL_SIZE);
            if (p->kind != RC_KIND_OBJ)
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
            it->large = l->next;         /* dead ones stay linked until walk_end */
            s->start = (char *)(l + 1);
            s->stride = l->size;
            s->count = 1;
            return true;
        }
        it->phase = 2;
        walk_end(st);
    }
    return false;
}

/* ------------------------------------------------------------------------
 * Objects
 * ---------------------------------------------------------------------- */

static void poison(char *b, size_t size)
{
#if RC_DEBUG >= 1
    if (size > 16)
        memset(b + 16, 0xDB, size - 16);
#else
    (void)b, (void)size;
#endif
}

rc_head *rc__alloc_object(rc_heap *h, size_t body, const rc_site *site)
{
    struct rc_alloc_state *st = h->alloc;
    if (RC_LIKELY(body <= RC_SMALL_MAX - sizeof(rc_head))) {
        size_t n = sizeof(rc_head) + body;
        unsigned cls = class_of(n);
        size_t size = rc__class_size(cls);
        if (!admit(h, st, size))
            return NULL;
        char *b = small_get(h, st, RC_KIND_OBJ, cls);
        if (RC_UNLIKELY(!b))
            return NULL;
        memset(b, 0, size);
        account_alloc(st, size);
        st->live[0]++;
        if (h->on_alloc)
            h->on_alloc(h, b + sizeof(rc_head), n, site);
        return (rc_head *)(void *)b;
    }
    if (body > (SIZE_MAX >> 2)) {
        st->attempts++;
        rc__error(h, RC_ENOMEM, "object body of %zu bytes is too big", body);
        return NULL;
    }
    size_t n = sizeof(rc_head) + body, usable = round16(n);
    if (!admit(h, st, usable))
        return NULL;
    rc_large *l = large_get(h, st, RC_KIND_OBJ, usable);
    if (!l)
        return NULL;
    account_alloc(st, usable);
    st->live_large[0]++;
    rc_head *o = (rc_head *)(void *)(l + 1);
    o->tw = RC_HF_LARGE;
    if (h->on_alloc)
        h->on_alloc(h, rc__body(o), n, site);
    return o;
}

void rc__free_object(rc_heap *h, rc_head *o)
{
    struct rc_alloc_state *st = h->alloc;
    if (h->on_free)
        h->on_free(h, rc__body(o));
    if (RC_UNLIKELY(o->tw & RC_HF_LARGE)) {
        rc_large *l = large_of(o);
        rc_assert(l->heap == h && l->kind == RC_KIND_OBJ, "free of an object of another heap", rc__body(o),
                  "large block of heap %p", (void *)l->heap);
        st->requested -= l->size;
        st->live_large[0]--;
        large_put(st, l);
        return;
    }
    rc_pool *p = rc__pool_of(o);
    rc_assert(p->heap == h && p->kind == RC_KIND_OBJ, "free of an object of another heap", rc__body(o),
              "pool of heap %p, kind %d", (void *)p->heap, p->kind);
    st->requested -= p->size;
    st->live[0]--;
    poison((char *)o, p->size);
    o->tw = 0;
    pool_push(st, p, (char *)o);
}

size_t rc__object_block_size(const rc_head *o)
{
    if (o->tw & RC_HF_LARGE)
        return large_of(o)->size;
    return rc__pool_of(o)->size;
}

rc_heap *rc__object_heap(const rc_head *o)
{
    if (o->tw & RC_HF_LARGE)
        return large_of(o)->heap;
    return rc__pool_of(o)->heap;
}

bool rc__is_object_body(const rc_heap *h, const void *p)
{
    const struct rc_alloc_state *st = h->alloc;
    if (!p || ((uintptr_t)p & 15))
        return false;
    const char *b = (const char *)p - sizeof(rc_head);
    rc_arena *a = rc__amap_get(&st->arena_map, (uintptr_t)b & ~(uintptr_t)(RC_ARENA_SIZE - 1));
    if (!a) {
        const rc_large *l = rc__amap_get(&st->large_map, (uintptr_t)b);
        return l && !l->dead;
    }
    const rc_pool *pool = rc__pool_of(b);
    if ((size_t)((const char *)pool - a->base) / RC_POOL_SIZE >= a->nextpool || pool->kind != RC_KIND_OBJ)
        return false;
    const char *first = rc__pool_first(pool);
    if (b < first || b >= pool->top || (size_t)(b - first) % pool->size)
        return false;
    return ((const rc_head *)(const void *)b)->tw != 0;
}

/* ------------------------------------------------------------------------
 * Raw buffers
 * ---------------------------------------------------------------------- */

#undef rc_alloc
#undef rc_realloc

static RC_NOINLINE void *raw_alloc_large(rc_heap *h, struct rc_alloc_state *st, size_t n, const rc_site *site)
{
    if (n > (SIZE_MAX >> 2)) {
        st->attempts++;
        rc__error(h, RC_ENOMEM, "buffer of %zu bytes is too big", n);
        return NULL;
    }
    size_t usable = round16(n);
    if (!admit(h, st, usable))
        return NULL;
    rc_large *l = large_get(h, st, RC_KIND_RAW, usable);
    if (!l)
        return NULL;
    account_alloc(st, usable);
    st->live_large[1]++;
    if (h->on_alloc)
        h->on_alloc(h, l + 1, n, site);
    return l + 1;
}

void *rc_alloc_at(rc_heap *h, size_t n, const rc_site *site)
{
    struct rc_alloc_state *st = h->alloc;
    if (RC_UNLIKELY(n == 0))
        n = 1;
    if (RC_UNLIKELY(n > RC_SMALL_MAX))
        return raw_alloc_large(h, st, n, site);
    unsigned cls = class_of(n);
    size_t size = rc__class_size(cls);
    if (!admit(h, st, size))
        return NULL;
    char *b = small_get(h, st, RC_KIND_RAW, cls);
    if (RC_UNLIKELY(!b))
        return NULL;
    account_alloc(st, size);
    st->live[1]++;
    if (h->on_alloc)
        h->on_alloc(h, b, n, site);
    return b;
}

void *rc_alloc(rc_heap *h, size_t n)
{
    return rc_alloc_at(h, n, NULL);
}

/* The pool of a small raw block of h, or NULL for a large one. */
RC_INLINE rc_pool *raw_pool(const struct rc_alloc_state *st, const void *p)
{
    if (!rc__amap_get(&st->arena_map, (uintptr_t)p & ~(uintptr_t)(RC_ARENA_SIZE - 1)))
        return NULL;
    return rc__pool_of(p);
}

static void raw_check_large(const rc_heap *h, const void *p)
{
    const rc_large *l = large_of(p);
    (void)h, (void)l;
    buffer_assert(((uintptr_t)p & 15) == 0 && l->heap == h && l->kind == RC_KIND_RAW,
              "rc_free of a pointer that is not a buffer of this heap", p, "heap %p", (const void *)h);
}

void rc_free(rc_heap *h, void *p)
{
    if (!p)
        return;
    struct rc_alloc_state *st = h->alloc;
    if (h->on_free)
        h->on_free(h, p);
    rc_pool *pool = raw_pool(st, p);
    if (RC_LIKELY(pool != NULL)) {
        buffer_assert(pool->kind == RC_KIND_RAW && pool->heap == h, "rc_free of a pointer that is not a buffer of this heap",
                      p, "%s", pool->kind == RC_KIND_OBJ ? "an object: use rc_decref" : "another heap's block");
        st->requested -= pool->size;
        st->live[1]--;
        pool_push(st, pool, p);
        return;
    }
    raw_check_large(h, p);
    rc_large *l = large_of(p);
    st->requested -= l->size;
    st->live_large[1]--;
    large_put(st, l);
}

/* Large to large: realloc the malloc block in place and relink it. */
static void *raw_realloc_large(rc_heap *h, struct rc_alloc_state *st, rc_large *l, size_t n, const rc_site *site)
{
    size_t old = l->size, usable = round16(n);
    if (!admit(h, st, usable > old ? usable - old : 0))
        return NULL;
    rc_large *prev = l->prev, *next = l->next;
    uintptr_t old_addr = (uintptr_t)(l + 1);   /* for on_free: never read after realloc */
    rc_large *m = realloc(l, RC_LARGE_PREFIX + usable);
    if (!m) {
        rc__error(h, RC_ENOMEM, "realloc to %zu bytes failed", usable);
        return NULL;
    }
    if (prev) prev->next = m; else st->large[1] = m;
    if (next) next->prev = m;
    if (h->on_free)
        h->on_free(h, (const void *)old_addr);
    m->size = usable;
    st->large_bytes += usable - old;
    st->requested -= old;
    account_alloc(st, usable);
    if (h->on_alloc)
        h->on_alloc(h, m + 1, n, site);
    return m + 1;
}

void *rc_realloc_at(rc_heap *h, void *p, size_t n, const rc_site *site)
{
    if (!p)
        return rc_alloc_at(h, n, site);
    struct rc_alloc_state *st = h->alloc;
    if (n == 0)
        n = 1;
    rc_pool *pool = raw_pool(st, p);
    size_t old;
    if (pool) {
        buffer_assert(pool->kind == RC_KIND_RAW && pool->heap == h, "rc_realloc of a pointer that is not a buffer of this heap",
                      p, "%s", pool->kind == RC_KIND_OBJ ? "objects cannot be resized" : "another heap's block");
        old = pool->size;
        if (n <= RC_SMALL_MAX && rc__class_size(class_of(n)) == old) {
            if (!admit(h, st, 0))
                return NULL;
            if (h->on_free)
                h->on_free(h, p);
            if (h->on_alloc)
                h->on_alloc(h, p, n, site);
            return p;
        }
    } else {
        raw_check_large(h, p);
        old = large_of(p)->size;
        if (n > RC_SMALL_MAX)
            return raw_realloc_large(h, st, large_of(p), n, site);
    }
    /* Moving between classes, or between pools and malloc: copy.  The new
     * block is made before the old one goes, so a failure leaves p intact;
     * the attempt is counted once and the cap sees only the net growth. */
    size_t usable = n <= RC_SMALL_MAX ? rc__class_size(class_of(n)) : round16(n);
    if (!admit(h, st, usable > old ? usable - old : 0))
        return NULL;
    void *q;
    if (n <= RC_SMALL_MAX) {
        q = small_get(h, st, RC_KIND_RAW, class_of(n));
        if (!q)
            return NULL;
        st->live[1]++;
    } else {
        rc_large *l = large_get(h, st, RC_KIND_RAW, usable);
        if (!l)
            return NULL;
        q = l + 1;
        st->live_large[1]++;
    }
    memcpy(q, p, old < usable ? old : usable);
    if (h->on_free)
        h->on_free(h, p);
    st->requested -= old;
    if (pool) {
        st->live[1]--;
        pool_push(st, pool, p);
    } else {
        st->live_large[1]--;
        large_put(st, large_of(p));
    }
    account_alloc(st, usable);
    if (h->on_alloc)
        h->on_alloc(h, q, n, site);
    return q;
}

void *rc_realloc(rc_heap *h, void *p, size_t n)
{
    return rc_realloc_at(h, p, n, NULL);
}

/* ------------------------------------------------------------------------
 * Life cycle
 * ---------------------------------------------------------------------- */

int rc__alloc_init(rc_heap *h, const rc_config *cfg)
{
    struct rc_alloc_state *st = calloc(1, sizeof *st);
    if (!st)
        return RC_ENOMEM;
    st->spare_max = cfg->arena_spare;
    st->cap = cfg->max_bytes ? cfg->max_bytes : SIZE_MAX;
    st->fail_at = cfg->fail_alloc_at ? cfg->fail_alloc_at : UINT64_MAX;
    st->fail_after = cfg->fail_alloc_after;
    h->alloc = st;
    return 0;
}

void rc__alloc_destroy(rc_heap *h)
{
    struct rc_alloc_state *st = h->alloc;
    if (!st)
        return;
    for (int k = 0; k < 2; k++)
        while (st->large[k])
            large_release(st, st->large[k]);
    for (size_t i = 0; i < st->narenas; i++) {
        rc__os_unmap(st->arenas[i]->base, RC_ARENA_SIZE);
        free(st->arenas[i]);
    }
    free(st->arenas);
    rc__amap_free(&st->arena_map);
    rc__amap_free(&st->large_map);
    free(st);
    h->alloc = NULL;
}
