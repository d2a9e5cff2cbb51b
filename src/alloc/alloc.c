/* The small-object allocator's fast paths: size class → pool → block for
 * objects and raw buffers, the admission check (fault injection and the
 * max_bytes cap), realloc, and the questions the rest of the library asks
 * about a block.  Arenas and pools: alloc_arena.c; large blocks and the span
 * walk: alloc_large.c; accounting: alloc_stats.c.
 * Invariants: src/alloc/alloc_impl.h.  Design and figures: docs/design-alloc.md. */
#include "alloc_impl.h"

#include <stdlib.h>

/* rc_assert for raw buffers: they have no object header to name a type. */
#if RC_DEBUG >= 1
#define buffer_assert(cond, check, p, ...) \
    do { if (RC_UNLIKELY(!(cond))) rc__fatal((check), "buffer", (p), __VA_ARGS__); } while (0)
#else
#define buffer_assert(cond, check, p, ...) ((void)0)
#endif

/* ------------------------------------------------------------------------
 * Pools: pop and push
 * ---------------------------------------------------------------------- */

/* The next free list of p, whose list just ran out: the never-used blocks
 * of the next page, so the walked region [first, top) grows on demand;
 * NULL, and p leaves its class list, when none are left. */
static char *carve_or_unlink(struct rc_alloc_state *st, rc_pool *p, size_t size)
{
    char *first = p->top, *limit = rc__pool_limit(p);
    if (first > limit) {
        rc__pool_unlink(st, p);
        return NULL;
    }
    /* Every block that starts in the page of the first one, linked in
     * order: carving touches no page a block was not going to touch. */
    char *page_end = (char *)(((uintptr_t)first | (RC_CARVE_PAGE - 1)) + 1);
    char *last = page_end - 1 < limit ? page_end - 1 : limit;
    size_t n = (size_t)(last - first) / size + 1;
    char *b = first;
    for (size_t i = 1; i < n; i++, b += size)
        rc__mark_free(b, b + size);
    rc__mark_free(b, NULL);
    p->top = b + size;
    return first;
}

/* Pops p's first free block (p has one). */
RC_INLINE char *pop_block(struct rc_alloc_state *st, rc_pool *p, size_t size)
{
    char *b = p->free;
    char *next = *rc__link_of(b);
    if (RC_UNLIKELY(!next))
        next = carve_or_unlink(st, p, size);
    p->free = next;
    p->used++;
    return b;
}

/* A block from the first pool of the class list; NULL when it is empty. */
RC_INLINE char *pool_pop(struct rc_alloc_state *st, int kind, unsigned cls)
{
    rc_pool *p = st->usedpools[RC_KIND_INDEX(kind)][cls];
    return p ? pop_block(st, p, p->size) : NULL;
}

/* Pushes b onto p's free list; emptied (rc__pool_emptied for the heap's
 * pools, rc__local_emptied for a thread's) takes p when it is left empty. */
typedef void emptied_fn(struct rc_alloc_state *st, rc_pool *p);
RC_INLINE void pool_push_to(struct rc_alloc_state *st, rc_pool *p, char *b, emptied_fn *emptied)
{
    if (RC_UNLIKELY(rc__push_block(st, p, b)))
        emptied(st, p);
}

RC_INLINE void pool_push(struct rc_alloc_state *st, rc_pool *p, char *b)
{
    pool_push_to(st, p, b, rc__pool_emptied);
}

/* ------------------------------------------------------------------------
 * Admission: fault injection and the max_bytes cap
 * ---------------------------------------------------------------------- */

#define NO_EVENT ((uint64_t)1 << 62)     /* attempts until a look when nothing is armed */

/* Sets the countdown to the next attempt that needs a look: every one
 * while an allocation hook is installed, so that the fast paths' one
 * test of the countdown also keeps the hook's calls on the slow path. */
void rc__arm_fault(struct rc_alloc_state *st)
{
    uint64_t done = rc__attempts(st);
    uint64_t next = NO_EVENT;
    if (st->fail_at > done)
        next = st->fail_at - done;
    else if (st->fail_at && st->fail_after)
        next = 1;
    if (st->on_alloc)
        next = 1;
    st->countdown = next;
    st->event_at = done + next;
}

/* The attempt that reached the end of the countdown: does it fail? */
static bool fault_event(struct rc_alloc_state *st)
{
    uint64_t n = st->event_at;
    bool fail = st->fail_at && (n == st->fail_at || (st->fail_after && n > st->fail_at));
    rc__arm_fault(st);
    return fail;
}

static RC_NOINLINE bool admit_slow(rc_heap *h, struct rc_alloc_state *st, size_t grow)
{
    if (st->countdown == 0 && fault_event(st)) {
        rc__alloc_error(h, RC_ENOMEM, "allocation %llu failed by fault injection (fail_alloc_at=%llu%s)",
                        (unsigned long long)rc__attempts(st), (unsigned long long)st->fail_at,
                        st->fail_after ? ", and every one after" : "");
        return false;
    }
    if (grow <= st->room)
        return true;
    /* Over the cap: the heap's pressure hook frees what it can first,
     * unless an allocation inside the hook is the one asking. */
    if (!st->capping && st->pressure) {
        st->capping = true;
        st->pressure(h);
        st->capping = false;
    }
    if (grow <= st->room)
        return true;
    rc__alloc_error(h, RC_ENOMEM, "allocation of %zu bytes would pass max_bytes=%zu (%zu bytes in use)",
                    grow, st->cap, rc__requested(st));
    return false;
}

/* Counts one allocation attempt that grows the requested bytes by grow. */
RC_INLINE bool admit(rc_heap *h, struct rc_alloc_state *st, size_t grow)
{
    if (RC_UNLIKELY(--st->countdown == 0) || RC_UNLIKELY(grow > st->room))
        return admit_slow(h, st, grow);
    return true;
}

RC_INLINE void account_alloc(struct rc_alloc_state *st, size_t size)
{
    size_t room = st->room - size;
    st->room = room;
    if (room < st->room_low)
        st->room_low = room;
}

RC_INLINE void account_free(struct rc_alloc_state *st, size_t size)
{
    st->room += size;
}

/* The check half of the allocation fast paths: false, st as it was, when
 * anything needs the slow path (the cap; a fault-injection event next or
 * an allocation hook, both in the countdown, which rc__arm_fault keeps at
 * 1 while a hook is installed); true, the attempt counted, otherwise.
 * Counting by the decrement that tests (and undoing it on the rare path)
 * takes one read-modify-write.  Calling the hook after the commit made
 * every allocation save and restore registers for it, tracing or not.
 * In one place: a new reason for the slow path joins them here, in the
 * countdown if it can. */
RC_INLINE bool fast_ok(struct rc_alloc_state *st, size_t size)
{
    if (RC_UNLIKELY(size > st->room))
        return false;
    if (RC_UNLIKELY(--st->countdown == 0)) {
        st->countdown = 1;
        return false;
    }
    return true;
}

/* Debug builds fill a freed object's block past its first 24 bytes with
 * 0xDB and keep its type in bytes 16..24, so a use after free reads junk
 * that shows and a report can still name the type (rc__freed_type_name);
 * under AddressSanitizer the fill is also poisoned, so any access to it is
 * reported.  Bytes 0..16 (tw == 0 and the free-list link) stay readable:
 * the walks read them. */
#define RC_DEAD_OFF 24

static void poison(char *b, size_t size, const rc_type *t)
{
#if RC_DEBUG >= 1
    if (size <= RC_DEAD_OFF)
        return;
    memcpy(b + 16, &t, sizeof t);
    memset(b + RC_DEAD_OFF, 0xDB, size - RC_DEAD_OFF);
    RC_ASAN_POISON(b + RC_DEAD_OFF, size - RC_DEAD_OFF);
#else
    (void)b, (void)size, (void)t;
#endif
}

/* Zero-fills a new object block (readable again under ASan in debug
 * builds).  Most objects are small: up to 64 bytes a few fixed-size
 * (inlined) stores, overlapping, do it without a call. */
RC_INLINE char *zero_block(char *b, size_t size)
{
#if RC_DEBUG >= 1
    if (size > RC_DEAD_OFF)
        RC_ASAN_UNPOISON(b + RC_DEAD_OFF, size - RC_DEAD_OFF);
#endif
    if (RC_LIKELY(size <= 64)) {
        memset(b, 0, 16);
        if (size > 16) {
            memset(b + 16, 0, 16);
            memset(b + size - 32, 0, 32);
        }
        return b;
    }
    return memset(b, 0, size);
}

/* A new object in the pooled block b of `size` bytes: the header set by
 * rc__head_init, the body zeroed by fixed-size stores up to 64 bytes, else
 * by a tail call to memset (which returns the body). */
RC_INLINE void *init_object(char *b, size_t size, uintptr_t tw)
{
#if RC_DEBUG >= 1
    if (size > RC_DEAD_OFF)
        RC_ASAN_UNPOISON(b + RC_DEAD_OFF, size - RC_DEAD_OFF);
#endif
    rc_head *o = (rc_head *)(void *)b;
    if (RC_LIKELY(size - 17 <= 64 - 17)) {   /* 32 to 64 bytes, one compare */
        memset(b + size - 32, 0, 32);         /* a 32-byte block's store covers the header: first */
        memset(b + 16, 0, 16);
    } else if (size > 64) {
        rc__head_init(o, tw, 0);
        return memset(b + 16, 0, size - 16);
    }
    rc__head_init(o, tw, 0);
    return b + 16;
}

/* What the commit half hands out: a raw block as it is, an object
 * initialized. */
RC_INLINE void *hand_out(int kind, char *b, size_t size, uintptr_t tw)
{
    return kind == RC_KIND_RAW ? b : init_object(b, size, tw);
}

/* The commit half's rare cases, out of line so the fast paths stay leaf
 * functions that only tail-call: the class list is empty (refill), or the
 * first pool's free list ends (carve a new block or unlink the full pool:
 * out of line too, since the pool's limit takes registers to compute). */
static RC_NOINLINE void *take_carve(struct rc_alloc_state *st, rc_pool *p, int kind, size_t size,
                                    uintptr_t tw)
{
    char *b = pop_block(st, p, size);
    account_alloc(st, size);
    return hand_out(kind, b, size, tw);
}

static RC_NOINLINE void *take_refill(rc_heap *h, int kind, size_t size, uintptr_t tw)
{
    unsigned cls = rc__class_of(size);
    struct rc_alloc_state *st = rc__alloc_state(h);
    char *b = rc__pool_refill(h, st, kind, cls);
    if (!b)
        return NULL;
    account_alloc(st, size);
    return hand_out(kind, b, size, tw);
}

/* The same for the calling thread's pools (alloc_local.c): first what
 * other threads freed into them, then a pool from the heap. */
static RC_NOINLINE void *take_refill_local(rc_heap *h, int kind, size_t size, uintptr_t tw)
{
    unsigned cls = rc__class_of(size);
    struct rc_alloc_state *loc = rc__alloc_tls.loc;
    if (rc__local_drain(loc, kind, cls))
        return take_carve(loc, loc->usedpools[RC_KIND_INDEX(kind)][cls], kind, size, tw);
    char *b = rc__local_refill(h, loc, kind, cls);
    if (!b)
        return NULL;
    account_alloc(loc, size);
    return hand_out(kind, b, size, tw);
}

/* take_refill for an object of a tracked type: its pool is noted as one
 * the trackable walk visits (rc__alloc_note_tracked). */
static RC_NOINLINE void *take_refill_tracked(rc_heap *h, int kind, size_t size, uintptr_t tw)
{
    void *o = take_refill(h, kind, size, tw);
    if (o)
        rc__alloc_note_tracked(rc__head(o));
    return o;
}

/* The commit half: a block of class cls from the first pool of its list,
 * and its bytes counted (fast_ok counted the attempt), in st: the heap's
 * state (refill: take_refill), or the calling thread's pools of a
 * threaded heap (take_refill_local); an object (tw its type word) gets
 * its header and a zeroed body, and with `tracked` its pool is noted for
 * the trackable walk.  NULL (error set) only when the OS refuses memory. */
typedef void *take_fn(rc_heap *h, int kind, size_t size, uintptr_t tw);
RC_INLINE void *fast_take(rc_heap *h, struct rc_alloc_state *st, int kind, unsigned cls, size_t size,
                          uintptr_t tw, take_fn *refill, bool tracked)
{
    rc_pool **head = &st->usedpools[RC_KIND_INDEX(kind)][cls];
    rc_pool *p = *head;
    if (RC_UNLIKELY(!p))
        return refill(h, kind, size, tw);
    if (tracked)
        p->tracked = 1;
    char *b = p->free;
    char *next = *rc__link_of(b);
    if (RC_UNLIKELY(!next))
        return take_carve(st, p, kind, size, tw);
    p->free = next;
    p->used++;
    account_alloc(st, size);
    return hand_out(kind, b, size, tw);
}

static RC_NOINLINE bool too_big(rc_heap *h, size_t n, const char *what)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    if (--st->countdown == 0)
        fault_event(st);
    rc__alloc_error(h, RC_ENOMEM, "%s of %zu bytes is too big", what, n);
    return false;
}

/* ------------------------------------------------------------------------
 * Objects
 * ---------------------------------------------------------------------- */

static RC_NOINLINE rc_head *alloc_large_object(rc_heap *h, size_t body, const rc_site *site)
{
    if (body > (SIZE_MAX >> 2)) {
        too_big(h, body, "object body");
        return NULL;
    }
    struct rc_alloc_state *st = rc__alloc_state(h);
    size_t n = sizeof(rc_head) + body, usable = rc__round16(n);
    if (!admit(h, st, usable))
        return NULL;
    rc_large *l = rc__large_get(h, RC_KIND_OBJ, usable);
    if (!l)
        return NULL;
    account_alloc(st, usable);
    rc_head *o = (rc_head *)(void *)(l + 1);
    o->tw = RC_HF_LARGE;
    if (st->on_alloc)
        st->on_alloc(h, rc__body(o), n, site);
    return o;
}

/* The slow paths' take: admission (fault injection, the cap), a block of
 * class cls from its class list or a new or reserved pool, its bytes
 * counted.  NULL, the error set, when refused. */
static char *slow_take(rc_heap *h, int kind, unsigned cls, size_t size)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    if (!admit(h, st, size))
        return NULL;
    char *b = pool_pop(st, kind, cls);
    if (!b && !(b = rc__pool_refill(h, st, kind, cls)))
        return NULL;
    account_alloc(st, size);
    return b;
}

/* The whole path: admission, pool or malloc, the hook. */
rc_head *rc__alloc_object(rc_heap *h, size_t body, const rc_site *site)
{
    if (body > RC_SMALL_MAX - sizeof(rc_head))
        return alloc_large_object(h, body, site);
    size_t n = sizeof(rc_head) + body;
    unsigned cls = rc__class_of(n);
    size_t size = rc__class_size_of(n);
    char *b = slow_take(h, RC_KIND_OBJ, cls, size);
    if (!b)
        return NULL;
    zero_block(b, size);
    struct rc_alloc_state *st = rc__alloc_state(h);
    if (st->on_alloc)
        st->on_alloc(h, b + sizeof(rc_head), n, site);
    return (rc_head *)(void *)b;
}

static RC_NOINLINE void *new_object_slow(rc_heap *h, uintptr_t tw, size_t body, const rc_site *site)
{
    rc_head *o = rc__alloc_object(h, body, site);
    if (!o)
        return NULL;
    rc__head_init(o, tw, rc__hflags(o));
    return rc__body(o);
}

static RC_NOINLINE void *new_tracked_slow(rc_heap *h, uintptr_t tw, size_t body, const rc_site *site);

/* The fast path: checks first, then commits, so every rare case (large,
 * a fault-injection event next, the cap, a tracing hook) hands the whole
 * request to the slow path untouched; a leaf that only tail-calls.  A new
 * condition for the slow path joins the one test below.  An object of a
 * tracked type has its pool noted for the trackable walk by the path that
 * has the pool in hand. */
RC_INLINE void *new_object(rc_heap *h, uintptr_t tw, size_t body, const rc_site *site, bool tracked)
{
    if (RC_UNLIKELY(body > RC_SMALL_MAX - sizeof(rc_head)))
        return tracked ? new_tracked_slow(h, tw, body, site) : new_object_slow(h, tw, body, site);
    struct rc_alloc_state *st = rc__alloc_state(h);
    unsigned cls = rc__class_of(sizeof(rc_head) + body);
    size_t size = rc__class_size_of(sizeof(rc_head) + body);
    if (RC_UNLIKELY(!fast_ok(st, size)))
        return tracked ? new_tracked_slow(h, tw, body, site) : new_object_slow(h, tw, body, site);
    return fast_take(h, st, RC_KIND_OBJ, cls, size, tw, tracked ? take_refill_tracked : take_refill, tracked);
}

void *rc__new_object(rc_heap *h, uintptr_t tw, size_t body, const rc_site *site)
{
    return new_object(h, tw, body, site, false);
}

void *rc__new_tracked_object(rc_heap *h, uintptr_t tw, size_t body, const rc_site *site)
{
    return new_object(h, tw, body, site, true);
}

static RC_NOINLINE void *new_tracked_slow(rc_heap *h, uintptr_t tw, size_t body, const rc_site *site)
{
    void *o = rc__new_object(h, tw, body, site);
    if (o)
        rc__alloc_note_tracked(rc__head(o));
    return o;
}

static RC_NOINLINE void *new_object_locked(rc_heap *h, uintptr_t tw, size_t body, const rc_site *site)
{
    bool took = rc__alloc_lock_enter(h);
    void *o = rc__new_object(h, tw, body, site);
    rc__alloc_lock_leave(h, took);
    return o;
}

/* loc's countdown ran out, or a fold stopped it because the heap's state
 * needs a look at each allocation (rc__locals_allowed): fold, and take
 * the heap's path unless loc may go on. */
static RC_NOINLINE void *new_object_local_slow(rc_heap *h, struct rc_alloc_state *loc, uintptr_t tw, size_t body,
                                               const rc_site *site)
{
    bool took = rc__alloc_lock_enter(h);
    rc__local_fold(loc);
    unsigned cls = rc__class_of(sizeof(rc_head) + body);
    size_t size = rc__class_size_of(sizeof(rc_head) + body);
    void *o = fast_ok(loc, size) ? fast_take(h, loc, RC_KIND_OBJ, cls, size, tw, take_refill_local, false)
                                 : rc__new_object(h, tw, body, site);
    rc__alloc_lock_leave(h, took);
    return o;
}

/* rc__new_object's fast path over the calling thread's pools: no lock.
 * Anything rare (large, no pools of this thread for h, the heap's state
 * needing a look) goes to the heap's pools under the lock. */
void *rc__new_object_local(rc_heap *h, uintptr_t tw, size_t body, const rc_site *site)
{
    struct rc_alloc_state *loc = rc__alloc_tls.loc;
    if (RC_UNLIKELY(body > RC_SMALL_MAX - sizeof(rc_head)) || RC_UNLIKELY(rc__alloc_tls.home != rc__alloc_state(h)))
        return new_object_locked(h, tw, body, site);
    unsigned cls = rc__class_of(sizeof(rc_head) + body);
    size_t size = rc__class_size_of(sizeof(rc_head) + body);
    if (RC_UNLIKELY(!fast_ok(loc, size)))
        return new_object_local_slow(h, loc, tw, body, site);
    return fast_take(h, loc, RC_KIND_OBJ, cls, size, tw, take_refill_local, false);
}

static void check_pool_object(const rc_heap *h, const rc_pool *p, const rc_head *o)
{
    (void)h, (void)p, (void)o;
    rc_assert(p->heap == h && p->kind == RC_KIND_OBJ, "free of an object of another heap", rc__body(o),
              "pool of heap %p, kind %d", (void *)p->heap, p->kind);
}

RC_INLINE void free_pooled_to(struct rc_alloc_state *st, rc_pool *p, rc_head *o, emptied_fn *emptied)
{
    account_free(st, p->size);
    poison((char *)o, p->size, rc__type(o));
    o->tw = 0;
    pool_push_to(st, p, (char *)o, emptied);
}

RC_INLINE void free_pooled(struct rc_alloc_state *st, rc_pool *p, rc_head *o)
{
    free_pooled_to(st, p, o, rc__pool_emptied);
}

/* A block of the heap's own (a large one, or in a pool no thread owns),
 * after the free hook. */
static void free_heap_block(rc_heap *h, struct rc_alloc_state *st, rc_head *o)
{
    if (o->tw & RC_HF_LARGE) {
        rc_large *l = rc__large_of(o);
        rc_assert(l->heap == h && l->kind == RC_KIND_OBJ, "free of an object of another heap", rc__body(o),
                  "large block of heap %p", (void *)l->heap);
        account_free(st, l->size);
        rc__large_put(st, l);
        return;
    }
    rc_pool *p = rc__pool_of(o);
    check_pool_object(h, p, o);
    free_pooled(st, p, o);
}

/* A block of a pool the per-thread state owner owns: onto its free list
 * on owner's thread, else onto owner's remote list. */
static void free_owned(struct rc_alloc_state *owner, rc_pool *p, rc_head *o)
{
    if (owner == rc__alloc_tls.loc)
        return free_pooled_to(owner, p, o, rc__local_emptied);
    poison((char *)o, p->size, rc__type(o));
    o->tw = 0;
    rc__local_remote_free(owner, (char *)o);
}

/* The heap's own blocks of a threaded heap (large ones, pools no thread
 * owns), and any block while a free hook is installed: under the lock. */
static RC_NOINLINE void free_shared_locked(rc_heap *h, rc_head *o)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    struct rc_alloc_state *owner = (o->tw & RC_HF_LARGE) ? NULL : rc__pool_of(o)->owner;
    bool took = rc__alloc_lock_enter(h);
    if (st->on_free)
        st->on_free(h, rc__body(o));
    if (owner)
        free_owned(owner, rc__pool_of(o), o);
    else
        free_heap_block(h, st, o);
    rc__alloc_lock_leave(h, took);
}

/* An object of a threaded heap (RC_HF_SHARED).  A block of a pool a
 * thread owns needs no lock, and no heap lookup: the owner's copy of the
 * free hook says whether one is installed. */
static RC_NOINLINE void free_shared(rc_head *o)
{
    if (RC_LIKELY(!(o->tw & RC_HF_LARGE))) {
        rc_pool *p = rc__pool_of(o);
        struct rc_alloc_state *owner = p->owner;
        check_pool_object(p->heap, p, o);
        if (RC_LIKELY(owner != NULL) && RC_LIKELY(!owner->on_free))
            return free_owned(owner, p, o);
    }
    free_shared_locked(rc__object_heap(o), o);
}

/* A large object, an object of a threaded heap, or any object while a
 * free hook is installed. */
static RC_NOINLINE void free_object_slow(rc_heap *h, rc_head *o)
{
    if (o->tw & RC_HF_SHARED)
        return free_shared(o);
    struct rc_alloc_state *st = rc__alloc_state(h);
    if (st->on_free)
        st->on_free(h, rc__body(o));
    free_heap_block(h, st, o);
}

static RC_NOINLINE void free_block_slow(rc_head *o)
{
    if (o->tw & RC_HF_SHARED)
        return free_shared(o);
    free_object_slow(rc__object_heap(o), o);
}

/* rc__free_object once o is known to be a pooled block of a plain heap. */
RC_INLINE void free_object_pooled(rc_heap *h, rc_head *o)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    if (RC_UNLIKELY(st->on_free != NULL))
        return free_object_slow(h, o);
    rc_pool *p = rc__pool_of(o);
    check_pool_object(h, p, o);
    free_pooled(st, p, o);
}

void rc__free_object(rc_heap *h, rc_head *o)
{
    if (RC_UNLIKELY(o->tw & (RC_HF_LARGE | RC_HF_SHARED)))
        return free_object_slow(h, o);
    free_object_pooled(h, o);
}

void rc__free_pooled_object(rc_heap *h, rc_head *o)
{
    free_object_pooled(h, o);
}

/* The same, with the heap read from the pool descriptor the push touches
 * anyway: a death that looked nothing else up does not find it twice. */
RC_INLINE void free_block_pooled(rc_head *o)
{
    rc_pool *p = rc__pool_of(o);
    rc_heap *h = p->heap;
    struct rc_alloc_state *st = rc__alloc_state(h);
    if (RC_UNLIKELY(st->on_free != NULL))
        return free_object_slow(h, o);
    free_pooled(st, p, o);
}

void rc__free_block_of(rc_head *o)
{
    if (RC_UNLIKELY(o->tw & (RC_HF_LARGE | RC_HF_SHARED)))
        return free_block_slow(o);
    free_block_pooled(o);
}

void rc__free_pooled_block_of(rc_head *o)
{
    free_block_pooled(o);
}

void rc__span_of(const void *b, rc_span *s)
{
    if (((const rc_head *)b)->tw & RC_HF_LARGE) {
        s->start = (char *)(uintptr_t)b;
        s->stride = rc__large_of(b)->size;
        s->count = 1;
        return;
    }
    const rc_pool *p = rc__pool_of(b);
    s->start = rc__pool_first(p);
    s->stride = p->size;
    s->count = (size_t)(p->top - s->start) / p->size;
}

bool rc__free_pool_objects(rc_heap *h, char *block, size_t n)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    if (st->on_free || (((rc_head *)(void *)block)->tw & RC_HF_LARGE))
        return false;
    rc_pool *p = rc__pool_of(block);
    if (n != p->used || p->owner)        /* a thread's pool is its own to empty */
        return false;
    char *first = rc__pool_first(p);
#if RC_DEBUG >= 1
    for (char *b = first; b < p->top; b += p->size)
        if (((rc_head *)(void *)b)->tw)
            poison(b, p->size, rc__type((rc_head *)(void *)b));
#endif
    account_free(st, n * p->size);
    if (!p->free)
        rc__pool_relink(st, p);          /* was full: emptied pools leave their list */
    rc__mark_free(first, NULL);
    p->free = first;
    p->top = first + p->size;
    p->used = 0;
    rc__pool_emptied(st, p);
    return true;
}

size_t rc__object_block_size(const rc_head *o)
{
    if (o->tw & RC_HF_LARGE)
        return rc__large_of(o)->size;
    return rc__pool_of(o)->size;
}

bool rc__is_object_body(const rc_heap *h, const void *p)
{
    const struct rc_alloc_state *st = rc__alloc_state(h);
    if (!p || ((uintptr_t)p & 15))
        return false;
    const char *b = (const char *)p - sizeof(rc_head);
    if (!rc__in_arena(st, b)) {
        const rc_large *l = rc__amap_get(&st->large_map, (uintptr_t)b);
        return l && !l->dead;
    }
    /* Pools never used are zero (kind FREE), so the header is safe to read. */
    const rc_pool *pool = rc__pool_of(b);
    if (pool->kind != RC_KIND_OBJ || pool->heap != h)
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

static RC_NOINLINE void *raw_alloc_large(rc_heap *h, size_t n, const rc_site *site)
{
    if (n > (SIZE_MAX >> 2)) {
        too_big(h, n, "buffer");
        return NULL;
    }
    struct rc_alloc_state *st = rc__alloc_state(h);
    size_t usable = rc__round16(n);
    if (!admit(h, st, usable))
        return NULL;
    rc_large *l = rc__large_get(h, RC_KIND_RAW, usable);
    if (!l)
        return NULL;
    account_alloc(st, usable);
    if (st->on_alloc)
        st->on_alloc(h, l + 1, n, site);
    return l + 1;
}

static RC_NOINLINE void *alloc_raw_slow(rc_heap *h, size_t n, const rc_site *site)
{
    if (n == 0)
        n = 1;
    if (n > RC_SMALL_MAX)
        return raw_alloc_large(h, n, site);
    unsigned cls = rc__class_of(n);
    char *b = slow_take(h, RC_KIND_RAW, cls, rc__class_size(cls));
    if (!b)
        return NULL;
    struct rc_alloc_state *st = rc__alloc_state(h);
    if (st->on_alloc)
        st->on_alloc(h, b, n, site);
    return b;
}

/* A threaded heap's call takes the lock (and comes back holding it)
 * unless the thread kept a buffer of the class (alloc_local.c). */
static RC_NOINLINE void *alloc_shared(rc_heap *h, size_t n, const rc_site *site)
{
    void *b = rc__raw_take_cached(h, n);
    if (b)
        return b;
    if (rc__alloc_state(h)->lock_enter(h))
        return rc__alloc_at_locked(h, n, site);
    return alloc_raw_slow(h, n, site);
}

/* Same shape as rc__alloc_object's fast path. */
void *rc_alloc_at(rc_heap *h, size_t n, const rc_site *site)
{
    if (RC_UNLIKELY(rc__alloc_state(h)->lock_enter != NULL))
        return alloc_shared(h, n, site);
    if (RC_UNLIKELY(n - 1 >= RC_SMALL_MAX))      /* 0 or large */
        return alloc_raw_slow(h, n, site);
    struct rc_alloc_state *st = rc__alloc_state(h);
    unsigned cls = rc__class_of(n);
    size_t size = rc__class_size_of(n);
    if (RC_UNLIKELY(!fast_ok(st, size)))
        return alloc_raw_slow(h, n, site);
    return fast_take(h, st, RC_KIND_RAW, cls, size, 0, take_refill, false);
}

void *rc_alloc(rc_heap *h, size_t n)
{
    return rc_alloc_at(h, n, NULL);
}

static void check_large_buffer(const rc_heap *h, const void *p, const char *check)
{
    const rc_large *l = rc__large_of(p);
    (void)h, (void)l, (void)check;
    buffer_assert(((uintptr_t)p & 15) == 0 && l->heap == h && l->kind == RC_KIND_RAW, check, p,
                  "not a buffer of heap %p", (const void *)h);
}

static void check_pool_buffer(const rc_heap *h, const rc_pool *pool, const void *p, const char *check)
{
    (void)h, (void)pool, (void)p, (void)check;
    buffer_assert(pool->kind == RC_KIND_RAW && pool->heap == h, check, p, "%s",
                  pool->kind == RC_KIND_OBJ ? "an object, not a buffer" : "not a block of this heap");
}

static RC_NOINLINE void free_large_buffer(rc_heap *h, void *p)
{
    check_large_buffer(h, p, "rc_free of a pointer that is not a buffer of this heap");
    rc_large *l = rc__large_of(p);
    account_free(rc__alloc_state(h), l->size);
    rc__large_put(rc__alloc_state(h), l);
}

static RC_NOINLINE void free_raw_slow(rc_heap *h, void *p)
{
    if (!p)
        return;
    struct rc_alloc_state *st = rc__alloc_state(h);
    if (st->on_free)
        st->on_free(h, p);
    if (!rc__in_arena(st, p)) {
        free_large_buffer(h, p);
        return;
    }
    rc_pool *pool = rc__pool_of(p);
    check_pool_buffer(h, pool, p, "rc_free of a pointer that is not a buffer of this heap");
    account_free(st, pool->size);
    pool_push(st, pool, p);
}

void rc_free(rc_heap *h, void *p)
{
    if (RC_UNLIKELY(rc__alloc_state(h)->lock_enter != NULL) && rc__raw_keep_cached(h, p))
        return;
    if (rc__alloc_lock_enter(h)) {
        rc__free_locked(h, p);
        return;
    }
    struct rc_alloc_state *st = rc__alloc_state(h);
    if (RC_UNLIKELY(!rc__in_arena(st, p) || st->on_free))
        return free_raw_slow(h, p);    /* also NULL: never in an arena */
    rc_pool *pool = rc__pool_of(p);
    check_pool_buffer(h, pool, p, "rc_free of a pointer that is not a buffer of this heap");
    account_free(st, pool->size);
    pool_push(st, pool, p);
}

/* Moves a buffer to a block of another class (or between pools and malloc).
 * The new block is made before the old one goes, so on failure p is intact;
 * the attempt was counted by the caller's admit. */
static void *realloc_move(rc_heap *h, void *p, size_t old, rc_pool *pool, size_t n, size_t usable)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    void *q;
    if (n <= RC_SMALL_MAX) {
        unsigned cls = rc__class_of(n);
        if (!(q = pool_pop(st, RC_KIND_RAW, cls)) && !(q = rc__pool_refill(h, st, RC_KIND_RAW, cls)))
            return NULL;
    } else {
        rc_large *l = rc__large_get(h, RC_KIND_RAW, usable);
        if (!l)
            return NULL;
        q = l + 1;
    }
    memcpy(q, p, old < usable ? old : usable);
    if (pool)
        pool_push(st, pool, p);
    else
        rc__large_put(st, rc__large_of(p));
    return q;
}

void *rc_realloc_at(rc_heap *h, void *p, size_t n, const rc_site *site)
{
    if (rc__alloc_lock_enter(h))
        return rc__realloc_at_locked(h, p, n, site);
    if (!p)
        return rc_alloc_at(h, n, site);
    struct rc_alloc_state *st = rc__alloc_state(h);
    if (n == 0)
        n = 1;
    if (n > (SIZE_MAX >> 2)) {
        too_big(h, n, "buffer");
        return NULL;
    }
    static const char check[] = "rc_realloc of a pointer that is not a buffer of this heap";
    rc_pool *pool = rc__in_arena(st, p) ? rc__pool_of(p) : NULL;
    if (pool)
        check_pool_buffer(h, pool, p, check);
    else
        check_large_buffer(h, p, check);
    size_t old = pool ? pool->size : rc__large_of(p)->size;
    size_t usable = n <= RC_SMALL_MAX ? rc__class_size(rc__class_of(n)) : rc__round16(n);
    if (!admit(h, st, usable > old ? usable - old : 0))
        return NULL;
    void *q;
    if (pool && usable == old)
        q = p;                            /* same class: stays */
    else if (!pool && n > RC_SMALL_MAX)
        q = rc__large_resize(h, rc__large_of(p), usable);
    else
        q = realloc_move(h, p, old, pool, n, usable);
    if (!q)
        return NULL;
    account_free(st, old);
    account_alloc(st, usable);
    if (st->on_free)
        st->on_free(h, p);
    if (st->on_alloc)
        st->on_alloc(h, q, n, site);
    return q;
}

void *rc_realloc(rc_heap *h, void *p, size_t n)
{
    return rc_realloc_at(h, p, n, NULL);
}

/* ------------------------------------------------------------------------
 * Life cycle
 * ---------------------------------------------------------------------- */

int rc__alloc_init(rc_heap *h, const rc_config *cfg, rc_error_slot *err)
{
    struct rc_alloc_state *st = calloc(1, sizeof *st);
    if (!st)
        return RC_ENOMEM;
    st->spare_max = cfg->arena_spare;
    st->region_from = cfg->arena_huge ? RC_REGION_FROM : SIZE_MAX;
    st->cap = st->room = st->room_low = cfg->max_bytes ? cfg->max_bytes : SIZE_MAX;
    st->fail_at = cfg->fail_alloc_at;
    st->fail_after = cfg->fail_alloc_after;
    for (size_t i = 0; i < RC_BITS_L1; i++)
        st->arena_bits[i] = rc__no_arenas;
    rc__arm_fault(st);
    st->err = err;
    *rc__alloc_state_slot(h) = st;
    return 0;
}

void rc__alloc_on_pressure(rc_heap *h, void (*fn)(rc_heap *h))
{
    rc__alloc_state(h)->pressure = fn;
}

void rc__alloc_on_lock(rc_heap *h, bool (*enter)(rc_heap *h), void (*leave)(rc_heap *h))
{
    rc__alloc_state(h)->lock_enter = enter;
    rc__alloc_state(h)->lock_leave = leave;
}

void rc__alloc_on_stop(rc_heap *h, void (*stop)(rc_heap *h), void (*start)(rc_heap *h))
{
    rc__alloc_state(h)->stop = stop;
    rc__alloc_state(h)->start = start;
}

rc_alloc_observers rc__alloc_observe(rc_heap *h, rc_alloc_observers obs)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    rc__alloc_quiesce(h);
    rc_alloc_observers old = {st->on_alloc, st->on_free};
    st->on_alloc = obs.on_alloc;
    st->on_free = obs.on_free;
    rc__arm_fault(st);
    rc__alloc_resume(h);
    return old;
}

void rc__alloc_destroy(rc_heap *h)
{
    struct rc_alloc_state *st = rc__alloc_state(h);
    if (!st)
        return;
    rc__alloc_locals_destroy(st);
    rc__large_destroy(st);
    rc__arenas_destroy(st);
    free(st);
    *rc__alloc_state_slot(h) = NULL;
}

bool rc__alloc_walks_tracked(const rc_head *o)
{
    return (o->tw & RC_HF_LARGE) || rc__pool_of(o)->tracked;
}
