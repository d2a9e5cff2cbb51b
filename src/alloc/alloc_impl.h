/* Private to the allocator's files (alloc*.c) and the debug checks that
 * read its bookkeeping (src/core/debug.c).
 * The design is in docs/design-alloc.md; the invariants are here, once.
 *
 *   arena  RC_ARENA_SIZE bytes from rc__os_map, aligned to its size, cut
 *          into RC_POOLS_PER_ARENA pools of RC_POOL_SIZE.  Its first
 *          RC_ARENA_HEADER bytes hold the 64-byte rc_pool descriptors of its
 *          pools (so pool 0 has that much less room for blocks): the
 *          bookkeeping of all pools of an arena shares one page, which keeps
 *          the TLB footprint of the fast paths at one page per arena instead
 *          of one per pool.  The descriptor of a block is found from its
 *          address by masking (rc__pool_of).  The rc_arena itself lives
 *          outside, so a whole free arena can be unmapped.  An arena
 *          serves one heap, and its pool 0 is the first it hands out
 *          (pools come from nextpool, counting up from 0, until some are
 *          given back) and keeps its heap pointer when given back: so
 *          pool 0's descriptor names the arena's heap while the arena
 *          holds any block (rc__pooled_heap reads it).
 *   pool   blocks of one size class and one kind (objects or raw buffers).
 *          Blocks in [first, top) are handed out or on the free list;
 *          blocks past top never were.  A free block of an object pool has
 *          tw == 0 and its free-list link at byte RC_LINK_OFF (after tw), so
 *          a walk over [first, top) sees free blocks as tw == 0.  A pool
 *          given back to its arena keeps its free list and top: taken again
 *          for the same kind and class soon (fewer than RC_RECARVE_AFTER
 *          pools given back since its arena's last) it needs no
 *          re-carving; taken later, it is laid out again, so that it hands
 *          out its blocks in address order rather than in the order the
 *          last ones died: what a big structure's later walks read in
 *          order, with the hardware prefetching, instead of one miss per
 *          node.
 *   lists  st->usedpools[kind][class]: the pools of that kind and class that
 *          have a free block (free != NULL).  Full pools are in no list.  An
 *          emptied pool leaves its list; up to RC_RESERVE_POOLS per kind and
 *          class are kept in st->reserve (so alloc/free around a pool
 *          boundary does not churn),
 *          counted in arena->nempty; the others go back to their arena.
 *          When an arena's pools are all free or reserved, its reserved pools
 *          go back too, so an arena whose blocks are all free is wholly free
 *          -- unless it may stay as a spare: an idle arena (st->nidle) keeps
 *          its reserve and counts against cfg.arena_spare like a free one.
 *          st->by_free[k]: arenas with exactly k free pools (1..POOLS);
 *          new pools come from the arena with the fewest free pools, so the
 *          emptier arenas drain and can go back to the OS (pymalloc's
 *          usable_arenas order).  by_free[POOLS] holds wholly free arenas:
 *          cfg.arena_spare of them are kept (more only while a walk runs).
 *   decay  a wholly free arena beyond those leaves every table and, with
 *          arena_spare > 0, decays: the unmapper (prim/unmap.c) keeps it
 *          mapped and resident for RC_DECAY_NS, then unmaps it on its
 *          thread whether or not the heap calls again; the next arena the
 *          heap needs is the oldest decaying one (its descriptor page
 *          zeroed, as a fresh mapping's), so a heap that empties and
 *          refills arenas in phases neither maps nor faults them in again.
 *          At most as many arenas decay as the heap has in use (not free
 *          nor idle) plus RC_DECAY_MIN: the oldest beyond go at once, so a
 *          heap that shrinks gives back all but that much inside the call.
 *          The heap's own state is never touched by the thread; what
 *          decays counts in os_bytes (rc__arenas_decaying).  rc_heap_trim,
 *          a fall from a peak and a forked child (whose unmapper has no
 *          thread) give every decaying arena back at once; without an
 *          unmapper nothing decays.  A collection's delete step decays
 *          the arenas it empties as one, at its end.
 *   peak   st->arenas_peak is the most arenas held since the heap last
 *          fell from a peak: the end of a walk over the whole heap (a full
 *          collection) or of a collection's delete step that finds at most
 *          1/RC_PEAK_FALL of that many in use, out of at least RC_PEAK_MIN,
 *          gives back every spare, idle and decaying arena too.
 *   region with cfg.arena_huge, from RC_REGION_FROM arenas on, a heap's
 *          arenas are cut in address order from regions of RC_REGION_SIZE
 *          mapped on huge pages (rc__os_map_huge): one 2 MiB page backs two
 *          neighbours, and neighbours that die together go back in one
 *          munmap of whole huge pages (the unmapper joins adjacent ranges).
 *          Until it is cut, the rest of the last region is address space
 *          only, but for the second half of the last arena's huge page.
 *   lookup st->arena_bits: one bit per RC_ARENA_SIZE of address space (two
 *          levels, allocated on demand) says whether an address lies in one
 *          of this heap's arenas -- rc_free's small-or-large question in one
 *          load and a bit test.
 *   large  blocks bigger than RC_SMALL_MAX come from malloc with an rc_large
 *          prefix (heap, list links, size), linked per kind so the large
 *          objects can be walked.  From RC_HUGE_BLOCK bytes (prefix
 *          included) they are mappings of their own, aligned for huge pages
 *          (l->mapped != 0), resized by moving pages, never by copying; a
 *          block that grew is mapped in whole huge pages (l->mapped >= its
 *          bytes), and a malloc'd block that grows to RC_HUGE_BLOCK moves to
 *          a mapping.
 *   kept   a freed huge block's whole 2 MiB pages stay mapped and resident
 *          as the unmapper's kept blocks (ranges aligned to and sized in
 *          RC_HUGE_BLOCK, at most RC_OS_KEPT_BLOCKS of them, RC_KEPT_MAX
 *          bytes in all) for the next huge block or growth to take, so
 *          tables built again and again fault nothing.  They decay with
 *          the arenas: the thread gives them back RC_DECAY_NS after the
 *          heap last kept or took back a range, whether or not the heap
 *          calls again; every one goes at the end of a walk over the whole
 *          heap (a full collection) and at rc_heap_trim; nothing is kept
 *          when arena_spare is 0, in bulk (a collection's delete step) or
 *          without an unmapper.  They count in os_bytes.
 *          A range may span several kernel mappings, so a block made of
 *          kept pages is copied when the kernel cannot move its pages.
 *   owned  on a threaded heap, a pool may belong to one thread's state
 *          (p->owner; alloc_local.c keeps its invariants): it is then in
 *          that state's class lists or waiting to go back, never in the
 *          heap's lists or reserve; the heap's own pools have owner NULL.
 *   walks  while a span walk runs (st->walking), nothing is unmapped or
 *          given back to malloc: freed large blocks stay linked with dead
 *          set and wholly free arenas stay in by_free[POOLS]; both are
 *          released when the walk ends or at the next slow-path allocation.
 */
#ifndef RC_ALLOC_IMPL_H
#define RC_ALLOC_IMPL_H

#include "alloc.h"

#define RC_ARENA_SHIFT     20
#define RC_ARENA_SIZE      ((size_t)1 << RC_ARENA_SHIFT)
#define RC_POOL_SHIFT      14
#define RC_POOL_SIZE       ((size_t)1 << RC_POOL_SHIFT)
#define RC_POOLS_PER_ARENA (RC_ARENA_SIZE / RC_POOL_SIZE)
#define RC_POOL_DESC       64         /* sizeof(rc_pool) */
#define RC_ARENA_HEADER    (RC_POOLS_PER_ARENA * RC_POOL_DESC)
#define RC_LINK_OFF        8          /* free-list link, after tw */
#define RC_SMALL_MAX       1024       /* biggest pooled block */
#define RC_NCLASSES        40         /* 16..512 step 16, then 576..1024 step 64 */
#define RC_LARGE_PREFIX    48
#define RC_HUGE_BLOCK      RC_OS_HUGE_PAGE   /* large blocks from here on are mapped */
#define RC_CARVE_PAGE      4096       /* never-used blocks are linked a page at a time */
#define RC_RESERVE_POOLS   2          /* emptied pools kept per kind and class */
#define RC_RECARVE_AFTER   64         /* pools given back (1 MiB) before a taken one is laid out again */
#define RC_DECAY_MIN       4          /* arenas that may decay beyond those in use */
#define RC_DECAY_NS        100000000u /* 100 ms: how long an emptied arena decays */
#define RC_KEPT_MAX        ((size_t)64 << 20)   /* bytes of freed huge blocks' pages kept */
#define RC_PEAK_MIN        16         /* arenas a peak needs before its fall drops the spares */
#define RC_PEAK_FALL       8          /* ... and the fall: at most 1/8 of the peak in use */
#define RC_UNMAP_LATER_MIN 8          /* arenas given back at once that go to the unmapper */
#define RC_REGION_FROM     16         /* arenas a heap has before they come from regions */
#define RC_REGION_SIZE     ((size_t)32 << 20)  /* address space cut into arenas, on huge pages */
#define RC_ADDR_BITS       48         /* arenas must lie below 2^48 */
#define RC_BITS_L2_SHIFT   20         /* arenas per second-level bitmap: 2^20 (1 TiB) */
#define RC_BITS_L1         ((size_t)1 << (RC_ADDR_BITS - RC_ARENA_SHIFT - RC_BITS_L2_SHIFT))

_Static_assert(RC_POOLS_PER_ARENA <= 64, "by_free_mask has one bit per free-pool count");
_Static_assert(RC_ARENA_HEADER % 16 == 0 && RC_LARGE_PREFIX % 16 == 0, "blocks must stay 16-aligned");
_Static_assert(RC_LINK_OFF + sizeof(void *) <= 16, "the link must fit the smallest block");

enum { RC_KIND_FREE = 0, RC_KIND_OBJ = 1, RC_KIND_RAW = 2 };
#define RC_KIND_INDEX(k) ((k) - 1)    /* index of a used kind in per-kind arrays */

typedef struct rc_arena rc_arena;

typedef struct rc_pool {
    rc_heap        *heap;
    rc_arena       *arena;
    struct rc_pool *next, *prev;      /* usedpools list, reserve (next only) or arena->freepools */
    char           *free;             /* first free block; NULL when full */
    char           *top;              /* first never-used block */
    /* The thread-local state allocating from it (alloc_local.c); NULL
     * for the heap's own pools, which the heap lock guards. */
    struct rc_alloc_state *owner;
    uint16_t        used;             /* blocks handed out (at most 1020) */
    uint16_t        size;             /* block size */
    uint8_t         kind;             /* RC_KIND_*; RC_KIND_FREE once given back */
    uint8_t         cls;              /* size class */
    uint8_t         last_kind;        /* kind it was initialized for */
    /* Has held an object of a type the collector tracks since it was laid
     * out; walks of trackable objects skip pools without (ints, strings). */
    uint8_t         tracked;
} rc_pool;
_Static_assert(sizeof(rc_pool) == RC_POOL_DESC, "pool descriptors are 64 bytes");

struct rc_arena {
    char     *base;
    rc_arena *next, *prev;            /* st->by_free[nfree] list */
    rc_pool  *freepools;              /* emptied pools, linked by next and prev */
    uint32_t  nfree;                  /* emptied + never-used pools */
    uint32_t  nextpool;               /* pools from here on were never used */
    uint32_t  nempty;                 /* pools of this arena in st->reserve */
    uint64_t  back_at;                /* st->pools_back when a pool of it was last given back */
};

typedef struct rc_large {
    rc_heap         *heap;
    struct rc_large *next, *prev;
    size_t           size;            /* usable bytes after the prefix */
    uint32_t         kind;
    uint32_t         dead;            /* freed during a walk; released after it */
    uint64_t         mapped;          /* bytes mapped for it (a huge block); 0: from malloc */
} rc_large;
_Static_assert(sizeof(rc_large) == RC_LARGE_PREFIX, "large prefix size");
_Static_assert(RC__ARENA_SHIFT == RC_ARENA_SHIFT && RC__POOL_SHIFT == RC_POOL_SHIFT && RC__POOL_DESC == RC_POOL_DESC &&
               RC__LARGE_PREFIX == RC_LARGE_PREFIX && offsetof(rc_pool, heap) == 0 && offsetof(rc_large, heap) == 0,
               "rc__object_heap (alloc.h) reads the heap pointer with these");
_Static_assert(offsetof(rc_pool, tracked) == RC__POOL_TRACKED && sizeof(((rc_pool *)0)->tracked) == 1,
               "rc__alloc_note_tracked (alloc.h) writes this byte");

/* Open-addressing map from an address to a pointer (alloc_map.c). */
typedef struct rc_amap {
    uintptr_t *keys;                  /* 0 = empty slot */
    void     **vals;
    size_t     cap, len;              /* cap is a power of two */
} rc_amap;

int   rc__amap_put(rc_amap *m, uintptr_t key, void *val);   /* 0 or RC_ENOMEM */
void *rc__amap_get(const rc_amap *m, uintptr_t key);
void  rc__amap_del(rc_amap *m, uintptr_t key);
void  rc__amap_free(rc_amap *m);

struct rc_alloc_state {
    rc_pool  *usedpools[2][RC_NCLASSES];

    /* Read or written on every allocation.  Requested bytes are kept as
     * the room left under the cap (requested = cap - room) so one compare
     * checks the cap; the peak is the lowest room seen.  Attempts are
     * counted down to the next one that needs a look (fault injection;
     * every one while on_alloc is set): attempts so far = event_at -
     * countdown, and countdown >= 1 between attempts. */
    size_t    room, room_low;
    uint64_t  countdown;
    uint64_t  event_at;
    void    (*on_alloc)(rc_heap *h, const void *ptr, size_t size, const rc_site *site);
    void    (*on_free)(rc_heap *h, const void *ptr);
    size_t    cap;                    /* max_bytes, or SIZE_MAX */
    uint64_t  fail_at;                /* 0: none */
    bool      fail_after;
    bool      walking;                /* a span walk is running */
    bool      capping;                /* inside the pressure hook */
    void    (*pressure)(rc_heap *h);  /* frees what it can when the cap is reached */
    bool    (*lock_enter)(rc_heap *h);  /* threaded heaps: rc__alloc_on_lock */
    void    (*lock_leave)(rc_heap *h);
    rc_error_slot *err;               /* the heap's last error */

    rc_pool  *reserve[2][RC_NCLASSES];  /* emptied pools kept, linked by next */
    uint8_t   nreserve[2][RC_NCLASSES];
    rc_pool  *hint[2][RC_NCLASSES];     /* pool last given back per kind and class */
    const uint64_t *arena_bits[RC_BITS_L1];

    /* Arenas. */
    rc_arena **arenas;                /* sorted by address (walk order) */
    size_t    narenas, arenas_cap;
    size_t    region_from;            /* RC_REGION_FROM with cfg.arena_huge, else SIZE_MAX */
    char     *region, *region_end;    /* the part of the last region not cut into arenas yet */
    rc_arena *by_free[RC_POOLS_PER_ARENA + 1];
    uint64_t  by_free_mask;           /* bit k-1: by_free[k] non-empty, k < POOLS */
    size_t    nspare;                 /* arenas in by_free[POOLS] */
    size_t    nidle;                  /* arenas whose pools are all free or reserved */
    size_t    spare_max;
    size_t    arenas_total, arenas_freed, arenas_highwater;
    size_t    arenas_peak;            /* most arenas since the last fall from a peak */
    uint64_t  pools_back;             /* pools given back to their arenas so far */
    /* Inside rc__alloc_bulk_begin/end, released arenas wait in doomed,
     * out of every table, and go to the unmapper's thread together when
     * there are RC_UNMAP_LATER_MIN of them (alloc_arena.c). */
    unsigned  bulk;
    char    **doomed;
    size_t    ndoomed, doomed_cap;
    rc__os_unmapper *unmapper;        /* started on first need */

    /* Large blocks. */
    rc_large *large[2];
    size_t    nlarge[2];              /* linked, dead ones included */
    size_t    live_large[2];
    size_t    large_bytes, large_dead;
    rc_amap   large_map;              /* object block → rc_large, for rc__is_object_body */

    /* Threaded heaps (alloc_local.c).  The heap's state lists the
     * per-thread states in locals and reaches the core's stop of the world
     * through stop/start; a per-thread state is a state of its own whose
     * home is the heap's, whose class lists hold the pools it owns, and
     * whose room, countdown and event_at count what it did since its last
     * fold into home.  remote is written by other threads: last, away
     * from the fields its owner touches on every allocation. */
    struct rc_alloc_state *home;      /* NULL: the heap's own state */
    struct rc_alloc_state *locals;    /* home: the per-thread states; a local: the next one */
    bool      abandoned;              /* a local whose thread detached */
    rc_pool  *empties;                /* a local: emptied pools due back to the heap, linked by next */
    char     *raw_cache[RC_NCLASSES]; /* a local: buffers of the heap's pools kept for reuse (alloc_local.c) */
    uint8_t   nraw_cache[RC_NCLASSES];
    void    (*stop)(rc_heap *h);      /* home: stops the world (threaded heaps) */
    void    (*start)(rc_heap *h);
    _Atomic(char *) remote;           /* a local: blocks other threads freed, linked at RC_LINK_OFF */
};

RC_INLINE char *rc__arena_of(const void *p)
{
    return (char *)((uintptr_t)p & ~(uintptr_t)(RC_ARENA_SIZE - 1));
}

/* Descriptor of the pool holding a block: arena base | pool index * 64. */
RC_INLINE rc_pool *rc__pool_of(const void *block)
{
    uintptr_t b = (uintptr_t)block;
    uintptr_t index_bits = (b >> (RC_POOL_SHIFT - 6)) & ((RC_POOLS_PER_ARENA - 1) << 6);
    return (rc_pool *)((b & ~(uintptr_t)(RC_ARENA_SIZE - 1)) | index_bits);
}

RC_INLINE rc_pool *rc__pool_at(char *arena_base, size_t index)
{
    return (rc_pool *)(void *)(arena_base + index * RC_POOL_DESC);
}

RC_INLINE size_t rc__pool_index(const rc_pool *p)
{
    return ((uintptr_t)p >> 6) & (RC_POOLS_PER_ARENA - 1);
}

/* First block address and end of a pool's block area. */
RC_INLINE char *rc__pool_first(const rc_pool *p)
{
    size_t i = rc__pool_index(p);
    return rc__arena_of(p) + i * RC_POOL_SIZE + (i ? 0 : RC_ARENA_HEADER);
}

RC_INLINE char *rc__pool_end(const rc_pool *p)
{
    return rc__arena_of(p) + (rc__pool_index(p) + 1) * RC_POOL_SIZE;
}

/* The last address a block of p may start at. */
RC_INLINE char *rc__pool_limit(const rc_pool *p)
{
    return rc__pool_end(p) - p->size;
}

/* True when p lies in one of the heap's arenas.  Unused first-level
 * entries point at rc__no_arenas, so the test is two loads and a bit.
 * Addresses at or above 2^48 alias lower ones: such pointers are never
 * the heap's, and passing one to rc_free is already undefined. */
extern const uint64_t rc__no_arenas[((size_t)1 << RC_BITS_L2_SHIFT) / 64];

RC_INLINE bool rc__in_arena(const struct rc_alloc_state *st, const void *p)
{
    uintptr_t k = (uintptr_t)p >> RC_ARENA_SHIFT;
    const uint64_t *bits = st->arena_bits[(k >> RC_BITS_L2_SHIFT) & (RC_BITS_L1 - 1)];
    k &= ((uintptr_t)1 << RC_BITS_L2_SHIFT) - 1;
    return (bits[k >> 6] >> (k & 63)) & 1;
}


/* Size classes: 16-byte steps up to 512, then 64-byte steps up to 1024.
 * Looked up by (n + 15) / 16, so the fast path tests nothing for it; each
 * entry holds the class and its block size, so a fast path finds both
 * from one table address. */
#define RC__CLASS_BYTES(c) ((c) < 32 ? 16 * ((c) + 1) : 512 + 64 * ((c) - 31))
#define RC__AT(c) {RC__CLASS_BYTES(c), (c)}
static const struct rc_class_at { uint16_t size; uint8_t cls; } rc__class_by_16[RC_SMALL_MAX / 16 + 1] = {
    RC__AT(0), RC__AT(0), RC__AT(1), RC__AT(2), RC__AT(3), RC__AT(4), RC__AT(5), RC__AT(6),
    RC__AT(7), RC__AT(8), RC__AT(9), RC__AT(10), RC__AT(11), RC__AT(12), RC__AT(13), RC__AT(14),
    RC__AT(15), RC__AT(16), RC__AT(17), RC__AT(18), RC__AT(19), RC__AT(20), RC__AT(21), RC__AT(22),
    RC__AT(23), RC__AT(24), RC__AT(25), RC__AT(26), RC__AT(27), RC__AT(28), RC__AT(29), RC__AT(30),
    RC__AT(31), RC__AT(32), RC__AT(32), RC__AT(32), RC__AT(32), RC__AT(33), RC__AT(33), RC__AT(33),
    RC__AT(33), RC__AT(34), RC__AT(34), RC__AT(34), RC__AT(34), RC__AT(35), RC__AT(35), RC__AT(35),
    RC__AT(35), RC__AT(36), RC__AT(36), RC__AT(36), RC__AT(36), RC__AT(37), RC__AT(37), RC__AT(37),
    RC__AT(37), RC__AT(38), RC__AT(38), RC__AT(38), RC__AT(38), RC__AT(39), RC__AT(39), RC__AT(39),
    RC__AT(39)
};
#undef RC__AT
#define RC__B(c) RC__CLASS_BYTES(c)
static const uint16_t rc__class_bytes[RC_NCLASSES] = {
    RC__B(0), RC__B(1), RC__B(2), RC__B(3), RC__B(4), RC__B(5), RC__B(6), RC__B(7), RC__B(8), RC__B(9),
    RC__B(10), RC__B(11), RC__B(12), RC__B(13), RC__B(14), RC__B(15), RC__B(16), RC__B(17), RC__B(18), RC__B(19),
    RC__B(20), RC__B(21), RC__B(22), RC__B(23), RC__B(24), RC__B(25), RC__B(26), RC__B(27), RC__B(28), RC__B(29),
    RC__B(30), RC__B(31), RC__B(32), RC__B(33), RC__B(34), RC__B(35), RC__B(36), RC__B(37), RC__B(38), RC__B(39)
};
#undef RC__B
_Static_assert(RC__CLASS_BYTES(RC_NCLASSES - 1) == RC_SMALL_MAX, "the last class is RC_SMALL_MAX bytes");

RC_INLINE unsigned rc__class_of(size_t n) { return rc__class_by_16[(n + 15) >> 4].cls; }  /* 1 ≤ n ≤ 1024 */
RC_INLINE size_t rc__class_size(unsigned c) { return rc__class_bytes[c]; }
/* rc__class_size(rc__class_of(n)), from the same entry. */
RC_INLINE size_t rc__class_size_of(size_t n) { return rc__class_by_16[(n + 15) >> 4].size; }

RC_INLINE size_t rc__round16(size_t n) { return (n + 15) & ~(size_t)15; }

RC_INLINE char **rc__link_of(char *b) { return (char **)(void *)(b + RC_LINK_OFF); }

/* b becomes a free block: tw == 0 and the link after it. */
RC_INLINE void rc__mark_free(char *b, char *next)
{
    *(uintptr_t *)(void *)b = 0;
    *rc__link_of(b) = next;
}

/* A pool with a free block goes first in its class list (of st, the
 * heap's state or the per-thread state that owns the pool). */
RC_INLINE void rc__pool_relink(struct rc_alloc_state *st, rc_pool *p)
{
    rc_pool **head = &st->usedpools[RC_KIND_INDEX(p->kind)][p->cls];
    p->prev = NULL;
    p->next = *head;
    if (p->next)
        p->next->prev = p;
    *head = p;
}

/* Pushes the freed block b onto p's free list, p being in a class list
 * of st (or due there again: a full pool is relinked); true when p is
 * left empty. */
RC_INLINE bool rc__push_block(struct rc_alloc_state *st, rc_pool *p, char *b)
{
    char *head = p->free;
    *rc__link_of(b) = head;
    p->free = b;
    if (RC_UNLIKELY(!head))
        rc__pool_relink(st, p);          /* was full */
    return --p->used == 0;
}

/* A pool leaves its class list (it is full or empty). */
RC_INLINE void rc__pool_unlink(struct rc_alloc_state *st, rc_pool *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        st->usedpools[RC_KIND_INDEX(p->kind)][p->cls] = p->next;
    if (p->next)
        p->next->prev = p->prev;
}

/* alloc_arena.c: pools and arenas, the slow paths. */
/* A block from a new or reserved pool of kind and class cls, which goes
 * first in the class list of into: h's state, or a per-thread state of
 * h's (whose caller then sets the pool's owner).  NULL with the error set. */
char *rc__pool_refill(rc_heap *h, struct rc_alloc_state *into, int kind, unsigned cls);
void  rc__pool_emptied(struct rc_alloc_state *st, rc_pool *p);
void  rc__arenas_trim(struct rc_alloc_state *st, bool all);  /* spares beyond arena_spare (all: and every decaying arena) */
void  rc__arenas_settle(struct rc_alloc_state *st);          /* as trim; every spare after a fall from a peak */
size_t rc__arenas_decaying(const struct rc_alloc_state *st);  /* bytes */
/* The heap's unmapper, started on first need; NULL when no thread starts. */
RC_INLINE rc__os_unmapper *rc__unmapper(struct rc_alloc_state *st)
{
    return st->unmapper ? st->unmapper : (st->unmapper = rc__os_unmapper_new());
}
void  rc__arenas_destroy(struct rc_alloc_state *st);

/* alloc_large.c: malloc'd blocks and the span walk. */
rc_large *rc__large_get(rc_heap *h, int kind, size_t usable);  /* NULL with the error set */
void  rc__large_put(struct rc_alloc_state *st, rc_large *l);
void *rc__large_resize(rc_heap *h, rc_large *l, size_t usable); /* raw only; NULL: l untouched */
void  rc__large_destroy(struct rc_alloc_state *st);
void  rc__walk_end(struct rc_alloc_state *st);

RC_INLINE rc_large *rc__large_of(const void *block)
{
    return (rc_large *)(uintptr_t)block - 1;
}

/* alloc.c: accounting. */
RC_INLINE size_t rc__requested(const struct rc_alloc_state *st) { return st->cap - st->room; }
RC_INLINE uint64_t rc__attempts(const struct rc_alloc_state *st) { return st->event_at - st->countdown; }
void rc__arm_fault(struct rc_alloc_state *st);   /* after fail_at / fail_after changed */

/* True when h is threaded and the call took its lock: the raw calls then
 * go to their _locked forms. */
RC_INLINE bool rc__alloc_lock_enter(rc_heap *h)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    return RC_UNLIKELY(st->lock_enter != NULL) && st->lock_enter(h);
}
/* Leaves the heap lock taken by rc__alloc_lock_enter. */
RC_INLINE void rc__alloc_lock_leave(rc_heap *h, bool took)
{
    if (took)
        rc__alloc_state(h)->lock_leave(h);
}
/* alloc_shared.c: the raw calls of a threaded heap, once lock_enter has
 * taken the heap lock; they let it go. */
void *rc__alloc_at_locked(rc_heap *h, size_t n, const rc_site *site);
void *rc__realloc_at_locked(rc_heap *h, void *p, size_t n, const rc_site *site);
void  rc__free_locked(rc_heap *h, void *p);

/* alloc_local.c: per-thread pools of threaded heaps. */
/* The per-thread state loc's class list ran dry: drains the blocks other
 * threads freed into loc's pools; true when the list has a pool again. */
bool  rc__local_drain(struct rc_alloc_state *loc, int kind, unsigned cls);
/* Else a block from a pool of the heap's, which loc then owns (under the
 * lock, where loc's counts are folded too); NULL with the error set. */
char *rc__local_refill(rc_heap *h, struct rc_alloc_state *loc, int kind, unsigned cls);
/* loc's pool p became empty (its own free or a drained one): no lock. */
void  rc__local_emptied(struct rc_alloc_state *loc, rc_pool *p);
/* Pushes the freed block b of a pool loc owns onto loc's remote list. */
void  rc__local_remote_free(struct rc_alloc_state *loc, char *b);
/* True when h's per-thread states may serve allocations now: no cap, no
 * fault injection, no allocation hook (each needs the heap's counters). */
bool  rc__locals_allowed(const struct rc_alloc_state *st);
/* Adds loc's counts to its home's and starts them again (the heap lock
 * held, and loc's thread is the caller or stopped). */
void  rc__local_fold(struct rc_alloc_state *loc);
void  rc__alloc_locals_destroy(struct rc_alloc_state *st);
/* Brackets a read or change of what every thread's pools count: on a
 * threaded heap the world stops, and every local is drained and folded
 * (with the new settings once resumed); nothing on a plain heap. */
void  rc__alloc_quiesce(rc_heap *h);
void  rc__alloc_resume(rc_heap *h);

#endif /* RC_ALLOC_IMPL_H */
