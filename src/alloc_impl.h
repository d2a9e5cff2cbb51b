/* Private to the allocator's files (alloc.c, alloc_map.c, alloc_stats.c).
 * The design is in docs/design-alloc.md; the invariants are here, once.
 *
 *   arena  RC_ARENA_SIZE bytes from rc__os_map, aligned to its size, cut
 *          into RC_POOLS_PER_ARENA pools.  Described by an rc_arena kept
 *          outside it (so a whole free arena can be unmapped) and found from
 *          an address through st->arena_map.
 *   pool   RC_POOL_SIZE bytes, aligned to its size, so the pool of a block
 *          is the block's address with the low bits masked off.  Its first
 *          RC_POOL_HEADER bytes are the rc_pool header; blocks of one size
 *          class and one kind (objects or raw buffers) follow.  Blocks in
 *          [first, top) are handed out or on the free list; blocks past top
 *          never were.  A free block of an object pool has tw == 0 and its
 *          free-list link at byte RC_LINK_OFF (after tw), so a walk over
 *          [first, top) sees free blocks as tw == 0.
 *   lists  st->usedpools[kind][class]: the pools of that kind and class that
 *          have a free block (free != NULL).  Full pools are in no list.  An
 *          emptied pool goes back to its arena unless it is the only pool of
 *          its list (it stays, so alloc/free of one block does not churn)
 *          -- but when every other pool of the arena is free or such an empty
 *          pool (arena->nempty), all go back, so an arena whose blocks are all
 *          free always returns to the OS.
 *          st->by_free[k]: arenas with exactly k free pools (1..POOLS);
 *          new pools come from the arena with the fewest free pools, so the
 *          emptier arenas drain and can go back to the OS (pymalloc's
 *          usable_arenas order).  by_free[POOLS] holds wholly free arenas:
 *          at most cfg.arena_spare of them outside a span walk.
 *   large  blocks bigger than RC_SMALL_MAX come from malloc with an rc_large
 *          prefix (heap, list links, size), linked per kind so the large
 *          objects can be walked.
 *   walks  while a span walk runs (st->walking), nothing is unmapped or
 *          given back to malloc: freed large blocks stay linked with dead
 *          set and wholly free arenas stay in by_free[POOLS]; both are
 *          released when the walk ends or at the next slow-path allocation.
 */
#ifndef RC_ALLOC_IMPL_H
#define RC_ALLOC_IMPL_H

#include "internal.h"

#define RC_ARENA_SHIFT     20
#define RC_ARENA_SIZE      ((size_t)1 << RC_ARENA_SHIFT)
#define RC_POOL_SHIFT      14
#define RC_POOL_SIZE       ((size_t)1 << RC_POOL_SHIFT)
#define RC_POOLS_PER_ARENA (RC_ARENA_SIZE / RC_POOL_SIZE)
#define RC_POOL_HEADER     64
#define RC_LINK_OFF        8          /* free-list link, after tw */
#define RC_SMALL_MAX       1024       /* biggest pooled block */
#define RC_NCLASSES        40         /* 16..512 step 16, then 576..1024 step 64 */
#define RC_LARGE_PREFIX    48

_Static_assert(RC_POOLS_PER_ARENA <= 64, "by_free_mask has one bit per free-pool count");
_Static_assert(RC_POOL_HEADER % 16 == 0 && RC_LARGE_PREFIX % 16 == 0, "blocks must stay 16-aligned");
_Static_assert(RC_LINK_OFF + sizeof(void *) <= 16, "the link must fit the smallest block");

enum { RC_KIND_FREE = 0, RC_KIND_OBJ = 1, RC_KIND_RAW = 2 };
#define RC_KIND_INDEX(k) ((k) - 1)    /* index of a used kind in per-kind arrays */

typedef struct rc_arena rc_arena;

typedef struct rc_pool {
    rc_heap        *heap;
    rc_arena       *arena;
    struct rc_pool *next, *prev;      /* usedpools list, or arena->freepools (next only) */
    char           *free;             /* first free block; NULL when full */
    char           *top;              /* first never-used block */
    char           *limit;            /* last address a block may start at */
    uint32_t        used;             /* blocks handed out */
    uint16_t        size;             /* block size */
    uint8_t         kind;             /* RC_KIND_* */
    uint8_t         cls;              /* size class */
} rc_pool;
_Static_assert(sizeof(rc_pool) <= RC_POOL_HEADER, "pool header too big");

struct rc_arena {
    char     *base;
    rc_arena *next, *prev;            /* st->by_free[nfree] list */
    rc_pool  *freepools;              /* emptied pools, linked by next */
    uint32_t  nfree;                  /* emptied + never-used pools */
    uint32_t  nextpool;               /* pools from here on were never used */
    uint32_t  nempty;                 /* pools in class lists with no block in use */
};

typedef struct rc_large {
    rc_heap         *heap;
    struct rc_large *next, *prev;
    size_t           size;            /* usable bytes after the prefix */
    uint32_t         kind;
    uint32_t         dead;            /* freed during a walk; released after it */
    uint64_t         pad_;
} rc_large;
_Static_assert(sizeof(rc_large) == RC_LARGE_PREFIX, "large prefix size");

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

    /* Counters read on every allocation. */
    uint64_t  attempts;               /* allocations attempted (fault injection) */
    uint64_t  fail_at;                /* first failing attempt; UINT64_MAX: none */
    bool      fail_after;
    bool      walking;                /* a span walk is running */
    bool      capping;                /* collecting to get under max_bytes */
    size_t    cap;                    /* max_bytes, or SIZE_MAX */
    size_t    requested, peak;
    size_t    live[2];                /* small blocks in use, per kind */
    size_t    live_large[2];          /* large blocks in use, per kind */

    /* Arenas. */
    rc_arena **arenas;                /* sorted by address (walk order) */
    size_t    narenas, arenas_cap;
    rc_arena *by_free[RC_POOLS_PER_ARENA + 1];
    uint64_t  by_free_mask;           /* bit k-1: by_free[k] non-empty, k < POOLS */
    size_t    nspare;                 /* arenas in by_free[POOLS] */
    size_t    spare_max;
    rc_amap   arena_map;              /* base → rc_arena */
    size_t    arenas_total, arenas_freed, arenas_highwater;

    /* Large blocks. */
    rc_large *large[2];
    size_t    nlarge[2], large_bytes, large_dead;
    rc_amap   large_map;              /* object body → rc_large, for rc__is_object_body */
};

RC_INLINE rc_pool *rc__pool_of(const void *block)
{
    return (rc_pool *)((uintptr_t)block & ~(uintptr_t)(RC_POOL_SIZE - 1));
}

RC_INLINE char *rc__pool_first(const rc_pool *p)
{
    return (char *)(uintptr_t)p + RC_POOL_HEADER;
}

/* Block size of size class c. */
RC_INLINE size_t rc__class_size(unsigned c)
{
    return c < 32 ? (size_t)(c + 1) * 16 : 512 + (size_t)(c - 31) * 64;
}

#endif /* RC_ALLOC_IMPL_H */
