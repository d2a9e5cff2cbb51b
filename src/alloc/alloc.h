/* The allocator's interface to the layers above it: the object header it
 * lays out, the walks over its blocks, allocation and freeing, and the
 * part of the heap record it keeps.  Layers above include it through
 * src/core/internal.h; the allocator's own files through alloc_impl.h.
 * It includes nothing above src/alloc/: the allocator hears from the heap
 * through the hooks declared here (docs/architecture.md).
 */
#ifndef RC_ALLOC_H
#define RC_ALLOC_H

#ifndef RC_BUILDING_CORE
#error "src/alloc/alloc.h is private to librecycle; include <recycle.h> instead"
#endif

#include "recycle.h"
#include "../prim/prim.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#ifndef RC_DEBUG
#define RC_DEBUG 0
#endif

/* ------------------------------------------------------------------------
 * The object header: 16 bytes before each object body.
 *
 *   tw      the rc_type pointer; its low 6 bits (rc_type is 64-aligned) are
 *           per-object flags RC_HF_*.  tw == 0 marks a free block.
 *   refcnt  the true reference count; RC_REFCNT_IMMORTAL never changes.
 *   gc      the collector's word: where a tracked object is, and during a
 *           collection what the passes found.  Every value it takes is
 *           listed once, at the top of src/core/gc_impl.h.
 * ---------------------------------------------------------------------- */
typedef struct rc_head {
    uintptr_t tw;
    uint32_t  refcnt;
    uint32_t  gc;
} rc_head;

_Static_assert(sizeof(rc_head) == 16, "object header must be 16 bytes");
_Static_assert(_Alignof(rc_type) >= 64, "rc_type must leave 6 low bits for flags");

#define RC_HF_FINALIZED 0x1u   /* finalize has run (PEP 442) */
#define RC_HF_LARGE     0x2u   /* allocated outside the pools (alloc.c) */
#define RC_HF_WEAKREFS  0x4u   /* has entries in the heap's weakref table */
#define RC_HF_PLAIN     0x8u   /* type has no finalize, clear, traverse or release (rc_new) */
#define RC_HF_SHARED    0x10u  /* of a threaded heap: refcounting takes core/thread_ref.c's atomic path */
#define RC_HF_LEAVES    0x20u  /* every child is of an untracked type (a list of
                                  ints): the collector's passes skip its
                                  traverse; rc_heap_check verifies it.  Only
                                  types with RC__TYPE_LEAVES set it */
#define RC_HF_MASK      0x3Fu

RC_INLINE rc_head *rc__head(const void *o) { return (rc_head *)((char *)(uintptr_t)o - sizeof(rc_head)); }
RC_INLINE void *rc__body(const rc_head *h) { return (char *)(uintptr_t)h + sizeof(rc_head); }
RC_INLINE const rc_type *rc__type(const rc_head *h) { return (const rc_type *)(h->tw & ~(uintptr_t)RC_HF_MASK); }
RC_INLINE unsigned rc__hflags(const rc_head *h) { return (unsigned)(h->tw & RC_HF_MASK); }
/* tw as another thread may read it while the heap lock's holder sets a
 * flag (threaded heaps): relaxed atomic loads and stores, which are plain
 * moves on the machines we run on.  Every writer of a flag holds the heap
 * lock (or is alone in a plain heap), so load-then-store loses nothing. */
RC_INLINE uintptr_t rc__tw(const rc_head *h) { return __atomic_load_n(&h->tw, __ATOMIC_RELAXED); }
RC_INLINE void rc__hflag_set(rc_head *h, unsigned f) { __atomic_store_n(&h->tw, rc__tw(h) | f, __ATOMIC_RELAXED); }
RC_INLINE void rc__hflag_clear(rc_head *h, unsigned f) { __atomic_store_n(&h->tw, rc__tw(h) & ~(uintptr_t)f, __ATOMIC_RELAXED); }
/* RC_HF_SHARED never changes in an object's life, so the test every
 * refcount and container operation makes reads tw plainly: the compiler
 * then folds it into the load it made for the type, or into one testb.
 * Only ThreadSanitizer, which cannot know that the bit another thread's
 * store leaves alone is this one, gets the atomic load. */
#if defined(__SANITIZE_THREAD__)
#define RC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RC_TSAN 1
#endif
#endif
#ifdef RC_TSAN
RC_INLINE bool rc__is_shared(const rc_head *h) { return (rc__tw(h) & RC_HF_SHARED) != 0; }
#else
RC_INLINE bool rc__is_shared(const rc_head *h) { return (h->tw & RC_HF_SHARED) != 0; }
#endif

/* The type name of an object whose header may be damaged: "?" unless tw
 * looks like a pointer (a freed block has tw == 0). */
RC_INLINE const char *rc__safe_type_name(const void *obj)
{
    if (!obj)
        return "NULL";
    uintptr_t tw = rc__head(obj)->tw;
    return tw > 4096 ? ((const rc_type *)(tw & ~(uintptr_t)RC_HF_MASK))->name : "?";
}

/* ------------------------------------------------------------------------
 * Assertions: RC_DEBUG=0 none, 1 cheap checks that abort with one line
 * (rc__fatal, src/prim/prim.h), 2 also expensive ones (whole-heap walks).
 * ---------------------------------------------------------------------- */
#if RC_DEBUG >= 1
#define rc_assert(cond, check, obj, ...) \
    do { if (RC_UNLIKELY(!(cond))) rc__fatal((check), rc__safe_type_name(obj), (obj), __VA_ARGS__); } while (0)
#else
#define rc_assert(cond, check, obj, ...) ((void)0)
#endif
#if RC_DEBUG >= 2
#define rc_assert2(cond, check, obj, ...) rc_assert(cond, check, obj, __VA_ARGS__)
#else
#define rc_assert2(cond, check, obj, ...) ((void)0)
#endif

/* ------------------------------------------------------------------------
 * What the allocator keeps of the heap record.  The core's struct rc_heap
 * (src/core/internal.h) begins with the pointer to the allocator's state,
 * so the allocator reaches its state from an rc_heap without knowing the
 * rest of the record; it records its failures in the error slot the heap
 * gives it at rc__alloc_init.
 * ---------------------------------------------------------------------- */
struct rc_alloc_state;

RC_INLINE struct rc_alloc_state **rc__alloc_state_slot(rc_heap *h)
{
    return (struct rc_alloc_state **)(void *)h;
}

RC_INLINE struct rc_alloc_state *rc__alloc_state(const rc_heap *h)
{
    return *(struct rc_alloc_state *const *)(const void *)h;
}

/* A heap's last error (rc_last_error): what failed, in one line. */
typedef struct rc_error_slot {
    int  code;
    char msg[256];
} rc_error_slot;

/* Formats the message into e and returns code (alloc_error.c).  The
 * arguments may point into e's old message. */
int rc__error_slot_set(rc_error_slot *e, int code, const char *fmt, va_list ap);
/* Records an allocation failure in h's error slot and returns code. */
RC_COLD int rc__alloc_error(rc_heap *h, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Allocation observers: alloc.c calls them for every block it hands out
 * or takes back (a realloc is a free of the old block then an alloc of
 * the new), so an observer that is not installed costs one test of a
 * pointer.  The tracer installs them while it traces. */
typedef struct rc_alloc_observers {
    void (*on_alloc)(rc_heap *h, const void *ptr, size_t size, const rc_site *site);
    void (*on_free)(rc_heap *h, const void *ptr);
} rc_alloc_observers;
/* Installs obs (NULL members: none) and returns the observers it replaces. */
rc_alloc_observers rc__alloc_observe(rc_heap *h, rc_alloc_observers obs);

/* ------------------------------------------------------------------------
 * Allocator interface (alloc.c).  Every block is 16-byte aligned.
 *
 * Object blocks live in pools of their own (never mixed with raw buffers),
 * so the collector can walk every object in address order: a span is one
 * pool's used region (count blocks of `stride` bytes from `start`; blocks
 * whose tw is 0 are free), or one large object (count 1).
 * ---------------------------------------------------------------------- */
typedef struct rc_span {
    char  *start;
    size_t stride;
    size_t count;
} rc_span;

typedef struct rc_span_iter {
    const rc_heap *heap;
    void  *arena;       /* cursor state, owned by alloc.c */
    size_t pool;
    void  *large;
    int    phase;
    bool   trackable;   /* only pools that can hold tracked objects */
} rc_span_iter;

void rc__span_iter_init(const rc_heap *h, rc_span_iter *it);
/* The same walk, skipping pools that never held an object of a tracked
 * type since they were laid out: what the collector's walks need. */
void rc__span_iter_init_trackable(const rc_heap *h, rc_span_iter *it);
/* Bytes the heap's live allocations requested, headers included. */
size_t rc__heap_bytes(const rc_heap *h);
/* True when o lies in memory the trackable walk visits (rc_heap_check). */
bool rc__alloc_walks_tracked(const rc_head *o);
/* Fills *s with the next span; false at the end.  Objects may be freed
 * while iterating (their tw becomes 0) but none may be allocated. */
bool rc__span_next(rc_span_iter *it, rc_span *s);
/* Ends a walk before rc__span_next has returned false (no-op after). */
void rc__span_iter_stop(rc_span_iter *it);
/* Whether the span rc__span_next gave last is a pool (every pool comes
 * before every large object): known without reading the span's memory. */
RC_INLINE bool rc__span_iter_at_pool(const rc_span_iter *it) { return it->phase == 0; }

/* Runs body with o bound to each live object of h, in the allocator's
 * walk order (pools by address, then large objects).  `continue` in body
 * skips to the next object. */
#define RC_FOR_EACH_OBJECT(h, o, ...) RC_WALK_OBJECTS(rc__span_iter_init, h, o, RC_NO_AHEAD, NULL, __VA_ARGS__)
/* The same, over the pools the trackable walk visits: every tracked object
 * is met, and untracked ones in those pools too (callers check gc). */
#define RC_FOR_EACH_TRACKABLE(h, o, ...) RC_WALK_OBJECTS(rc__span_iter_init_trackable, h, o, RC_NO_AHEAD, NULL, __VA_ARGS__)
#define RC_WALK_AHEAD 8
#define RC_NO_AHEAD(arg, block) ((void)0)
#define RC_WALK_OBJECTS(INIT, h, o, AHEAD, arg, ...)                           \
    do {                                                                       \
        rc_span_iter it_;                                                      \
        rc_span s_;                                                            \
        INIT((h), &it_);                                                       \
        while (rc__span_next(&it_, &s_))                                       \
            RC_FOR_EACH_IN_SPAN(&s_, o, AHEAD, arg, __VA_ARGS__);              \
    } while (0)
/* Runs body with o bound to each live object of span *sp, calling
 * AHEAD(arg, block) first with the block RC_WALK_AHEAD blocks further on
 * in the span, when there is one (to prefetch). */
#define RC_FOR_EACH_IN_SPAN(sp, o, AHEAD, arg, ...)                            \
    do {                                                                       \
        size_t st_ = (sp)->stride;                                             \
        char *p_ = (sp)->start, *end_ = (sp)->start + (sp)->count * st_;       \
        for (; p_ < end_; p_ += st_) {                                         \
            rc_head *o = (rc_head *)(void *)p_;                                \
            if (p_ + RC_WALK_AHEAD * st_ < end_)                               \
                AHEAD((arg), p_ + RC_WALK_AHEAD * st_);                        \
            if (!o->tw)                                                        \
                continue;                                                      \
            __VA_ARGS__                                                        \
        }                                                                      \
    } while (0)
/* The span holding the object block b (its pool, or itself when large). */
void rc__span_of(const void *b, rc_span *s);

/* What a new object's refcnt and gc words hold: one reference, and the gc
 * word the core reads as untracked (internal.h asserts that they agree). */
#define RC__NEW_REFCNT 1u
#define RC__NEW_GC     0xFFFFFFFFu

/* A new object's header: type word tw (the type and its flags) with the
 * allocator's flags (RC_HF_LARGE), one reference, untracked.  Live objects
 * are counted from the pools when asked (rc_heap_memory), not here. */
RC_INLINE void rc__head_init(rc_head *o, uintptr_t tw, unsigned flags)
{
    o->tw = tw | flags;
    o->refcnt = RC__NEW_REFCNT;
    o->gc = RC__NEW_GC;
}

/* The body of a new object with body bytes, zero-filled, its header set by
 * rc__head_init from tw (the type and RC_HF_PLAIN when the caller found it
 * so): rc_new's path, one leaf function.  NULL on failure (fault
 * injection, cap, OS), the error set. */
void    *rc__new_object(rc_heap *h, uintptr_t tw, size_t body, const rc_site *site);
/* The same for a type the collector tracks: the block's pool is noted for
 * the trackable walk (rc__alloc_note_tracked) on the way. */
void    *rc__new_tracked_object(rc_heap *h, uintptr_t tw, size_t body, const rc_site *site);
/* An object block of sizeof(rc_head) + body bytes, zero-filled, with tw,
 * refcnt and gc left for the caller to set (RC_HF_LARGE is set for blocks
 * outside the pools).  NULL on failure (fault injection, cap, OS). */
rc_head *rc__alloc_object(rc_heap *h, size_t body, const rc_site *site);
/* Gives o's block back to h (debug builds check that it is h's). */
void     rc__free_object(rc_heap *h, rc_head *o);
/* The same for a caller that knows o is neither large nor of a threaded
 * heap (RC_HF_LARGE and RC_HF_SHARED clear in o->tw). */
void     rc__free_pooled_object(rc_heap *h, rc_head *o);
/* The same for a caller that has not looked up the heap: the block's own
 * pool (or large prefix) names it. */
void     rc__free_block_of(rc_head *o);
/* rc__free_block_of for a caller that knows o is neither large nor of a
 * threaded heap (RC_HF_LARGE and RC_HF_SHARED clear in o->tw). */
void     rc__free_pooled_block_of(rc_head *o);
/* The collector (or rc__decref_many) found n dead objects in the span of the object block
 * `block`, which it will never read again: when they are all the objects of
 * a pool and no free hook has to see each, the pool is emptied in one step,
 * its blocks counting as never used, and true is returned; else false,
 * nothing done. */
bool     rc__free_pool_objects(rc_heap *h, char *block, size_t n);
/* Brackets a bulk release (a collection's delete; they nest): the
 * arenas it empties are unmapped together at the end, by a thread of the
 * heap's own when there are many (alloc_arena.c). */
void     rc__alloc_bulk_begin(rc_heap *h);
void     rc__alloc_bulk_end(rc_heap *h);
/* Bytes of the block holding o (header included), for rc_sizeof. */
size_t   rc__object_block_size(const rc_head *o);
/* The heap an object belongs to (from its pool or large-block prefix). */
/* Inline, since every container store and every death asks: a pooled
 * block's pool descriptor (found by masking) and a large block's prefix
 * both start with the heap pointer.  alloc_impl.h asserts that these
 * constants are its layout's. */
#define RC__ARENA_SHIFT   20
#define RC__POOL_SHIFT    14
#define RC__POOL_DESC     64
#define RC__LARGE_PREFIX  48
/* The address of the descriptor of a pooled (not RC_HF_LARGE) object's pool. */
RC_INLINE uintptr_t rc__pool_desc_of(const rc_head *o)
{
    uintptr_t b = (uintptr_t)o;
    uintptr_t arena = b & ~(((uintptr_t)1 << RC__ARENA_SHIFT) - 1);
    uintptr_t pool = (b >> RC__POOL_SHIFT) & (((uintptr_t)1 << (RC__ARENA_SHIFT - RC__POOL_SHIFT)) - 1);
    return arena + pool * RC__POOL_DESC;
}
/* The heap of a pooled (not RC_HF_LARGE) object: an arena is one heap's,
 * and the descriptor of its pool 0, at its base, names that heap whenever
 * the arena holds a block (alloc_impl.h, "arena") -- a mask and a load. */
RC_INLINE rc_heap *rc__pooled_heap(const rc_head *o)
{
    uintptr_t arena = (uintptr_t)o & ~(((uintptr_t)1 << RC__ARENA_SHIFT) - 1);
    return *(rc_heap *const *)arena;
}
RC_INLINE rc_heap *rc__object_heap(const rc_head *o)
{
    if (o->tw & RC_HF_LARGE)
        return *(rc_heap *const *)((uintptr_t)o - RC__LARGE_PREFIX);
    return rc__pooled_heap(o);
}
/* Notes that o's type is tracked (rc_new), for the trackable walk: a byte
 * of its pool's descriptor, which the allocation has just touched.
 * Inline, since every tracked object pays it. */
#define RC__POOL_TRACKED  63
RC_INLINE void rc__alloc_note_tracked(rc_head *o)
{
    if (RC_LIKELY(!(o->tw & RC_HF_LARGE)))
        *(uint8_t *)(rc__pool_desc_of(o) + RC__POOL_TRACKED) = 1;
}
/* True when p is the body address of a live object of h (debug checks,
 * rc_graph's object-at-address).  Never dereferences p unless it lies in
 * memory h owns. */
bool     rc__is_object_body(const rc_heap *h, const void *p);

/* Creates h's allocator state, which records its failures in *err. */
int  rc__alloc_init(rc_heap *h, const rc_config *cfg, rc_error_slot *err);
/* Installs fn, which the allocator calls when an allocation would pass
 * max_bytes and then retries once: the heap's way to collect on demand
 * without the allocator calling up into the collector. */
void rc__alloc_on_pressure(rc_heap *h, void (*fn)(rc_heap *h));
/* Installs the heap lock of a threaded heap for the raw buffer calls
 * (rc_alloc, rc_realloc, rc_free), which the core does not wrap: enter
 * takes the lock and returns true, or returns false when the calling
 * thread holds it already (then leave is not called). */
void rc__alloc_on_lock(rc_heap *h, bool (*enter)(rc_heap *h), void (*leave)(rc_heap *h));
/* Installs the stop of the world of a threaded heap (stop takes the heap
 * lock and stops every other attached thread; start undoes both): the
 * allocator stops the world to read or change what every thread's pools
 * count (the statistics, fault injection, the observers). */
void rc__alloc_on_stop(rc_heap *h, void (*stop)(rc_heap *h), void (*start)(rc_heap *h));

/* ------------------------------------------------------------------------
 * Per-thread pools of threaded heaps (alloc_local.c; docs/threads.md).
 * Each attached thread allocates objects from pools of its own, without
 * the heap lock; a block freed on another thread goes back to its pool's
 * owner through a lock-free list.  The calling thread's state for one
 * heap at a time is in rc__alloc_tls (home: that heap's allocator state).
 * ---------------------------------------------------------------------- */
struct rc_alloc_tls {
    const struct rc_alloc_state *home;
    struct rc_alloc_state *loc;
};
extern _Thread_local struct rc_alloc_tls rc__alloc_tls __attribute__((tls_model("initial-exec")));
/* True when the calling thread's selected pools are h's. */
RC_INLINE bool rc__alloc_tls_is(const rc_heap *h) { return rc__alloc_tls.home == rc__alloc_state(h); }
/* Pools for the calling thread, adopted from a thread that detached or
 * new; NULL out of memory (the thread then allocates from the heap's
 * pools, under the lock).  Attach and abandon run under one mutex of the
 * core's, with the world running (alloc_local.c). */
struct rc_alloc_state *rc__alloc_local_attach(rc_heap *h);
void rc__alloc_local_abandon(struct rc_alloc_state *loc);
/* Under h's lock, before abandon: the calling thread's loc gives its
 * empty pools back and its counts to the heap; its other pools wait, with
 * the live blocks they hold, for the next thread that attaches. */
void rc__alloc_local_detach(rc_heap *h, struct rc_alloc_state *loc);
/* Selects loc (NULL: none) as the calling thread's pools. */
void rc__alloc_local_select(struct rc_alloc_state *loc);
/* With h's world stopped: every thread's frees drained into their pools
 * and its counts folded into the heap's, so that they are exact. */
void rc__alloc_settle(rc_heap *h);
/* rc__new_object for a threaded heap (tw has RC_HF_SHARED): from the
 * calling thread's pools when they are selected for h, else from the
 * heap's under the lock. */
void *rc__new_object_local(rc_heap *h, uintptr_t tw, size_t body, const rc_site *site);
/* A threaded heap's raw buffers of up to RC_SMALL_MAX bytes: a thread
 * that frees one keeps a few of each class for its next rc_alloc, so
 * that a container growing and clearing on its own thread needs no lock
 * (alloc_local.c).  take: a buffer of n bytes from the calling thread's
 * cache of h's, or NULL, never waiting; keep: false when p cannot be
 * kept (then it is freed under the lock). */
void *rc__raw_take_cached(rc_heap *h, size_t n);
bool  rc__raw_keep_cached(rc_heap *h, void *p);
void rc__alloc_destroy(rc_heap *h);   /* returns everything to the OS */
/* Allocation attempt nth fails (0: none); with after, every attempt
 * after it too (rc_heap_set_fail_alloc). */
void rc__alloc_set_fault(rc_heap *h, uint64_t nth, bool after);
/* Validates the allocator's bookkeeping (for rc_heap_check): 0, or
 * RC_EINVAL with a message naming the first inconsistency. */
int  rc__alloc_check(rc_heap *h);

#endif /* RC_ALLOC_H */
