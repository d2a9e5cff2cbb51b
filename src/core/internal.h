/* Shared internals of librecycle.  Not installed; not for users.
 *
 * The layers and who may call whom: docs/architecture.md.  This header is
 * the core's: the gc word, the heap record, and the hooks by which the
 * core is told things without calling up (the tracer's traceback lookup).
 * The object header and the allocator's interface, with its pressure hook
 * and observers: src/alloc/alloc.h.  The OS and the compiler:
 * src/prim/prim.h.
 */
#ifndef RC_INTERNAL_H
#define RC_INTERNAL_H

#ifndef RC_BUILDING_CORE
#error "src/core/internal.h is private to librecycle; include <recycle.h> instead"
#endif

#include "recycle.h"
#include "../alloc/alloc.h"
#include "../prim/prim.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * What the core keeps in the object header's refcnt and gc words (the
 * header: src/alloc/alloc.h, rc_head; the gc word's every value:
 * gc_impl.h).
 * ---------------------------------------------------------------------- */
#define RC_REFCNT_IMMORTAL UINT32_MAX

#define RC_GC_UNTRACKED 0xFFFFFFFFu
#define RC_GC_FROZEN    0xFFFFFFFDu
#define RC_GC_SENTINEL_MIN 0xFFFFFFF0u  /* every value ≥ this is a sentinel */
/* Gen 2 is 0: a full collection counts each object's references from the
 * other candidates up from there, with no first sight to tell apart (gc.c). */
#define RC_GC_OLD       0u
/* A young object's word is its index in the young vector plus one, so
 * words 1 .. RC_GC_YOUNG_MAX; indices stay below RC_GC_YOUNG_MAX. */
#define RC_GC_YOUNG_MAX 0x7FFFFFFFu

RC_INLINE uint32_t rc__gc_young_word(size_t i) { return (uint32_t)i + 1; }
RC_INLINE bool rc__gc_is_young(uint32_t g) { return g - 1u < RC_GC_YOUNG_MAX; }
RC_INLINE size_t rc__gc_young_index(uint32_t g) { return (size_t)g - 1; }

RC_INLINE bool rc__is_tracked(const rc_head *h) { return h->gc != RC_GC_UNTRACKED; }
_Static_assert(RC__NEW_GC == RC_GC_UNTRACKED && RC__NEW_REFCNT == 1,
               "rc__head_init (alloc.h) makes new objects untracked, with one reference");

/* ------------------------------------------------------------------------
 * The heap.  Each component owns a part; parts owned by optional
 * components are pointers to structs defined in their own .c file.
 * ---------------------------------------------------------------------- */
typedef struct rc_gc_state {
    bool     enabled;
    bool     collecting;            /* a collection is running */
    unsigned debug;
    FILE    *debug_out;
    size_t   threshold[3];
    size_t   count[3];
    size_t   long_lived_total;      /* objects in gen 2 after the last full collection */
    size_t   long_lived_pending;    /* objects promoted to gen 2 since then */
    rc_gc_stats stats[3];

    /* Generations 0 and 1 are one vector: young[0..gen0_start) is gen 1,
     * young[gen0_start..young_len) is gen 0; a NULL slot is a hole a death
     * left (gc.c, "the young vector").  Gen 2 objects are found by walking
     * the pools, so a young collection never touches them. */
    rc_head **young;
    size_t   young_len, young_cap, gen0_start;
    size_t   holes0;                /* NULL slots in gen 0 */
    size_t   old_count;             /* objects with gc == RC_GC_OLD */
    size_t   frozen_count;

    /* The youngest generation that may hold garbage made since it was last
     * scanned (RC_GC_CLEAN: none): an automatic collection of a younger one
     * promotes without a scan (gc.c, "dirty generations").  A decref that
     * leaves a tracked object alive must tell the collector when the
     * object's gc word w has w - note_lo < note_span (rc__gc_decref_kept). */
    int      dirty_from;
    uint32_t note_lo, note_span;

    void   **garbage;               /* gc.garbage: strong references */
    size_t   garbage_len, garbage_cap;

    struct rc_gc_cb { rc_gc_callback fn; void *ctx; } *callbacks;
    size_t   ncallbacks, callbacks_cap;

    struct rc_weak_table *weak;     /* target → its weakrefs (weakref.c) */
    struct rc_dead_set *dead;       /* the dead set while a collection handles it */
    struct rc_gc_workers *workers;  /* helper threads of full collections (gc_workers.c) */
} rc_gc_state;

#define RC_HEAP_MAGIC 0x72656379636C6521ull   /* "recycle!": debug checks recognise a heap */

struct rc_heap {
    struct rc_alloc_state *alloc;     /* first: rc__alloc_state (alloc.h) reads it */
    uint64_t magic;                   /* RC_HEAP_MAGIC while the heap lives */
    rc_config cfg;
    rc_gc_state gc;

    /* Where a traced object was allocated (a malloc'd traceback), installed
     * by the tracer with the observers: the leak report and the debug
     * checks ask through it, so the core never calls up into the tracer. */
    rc_traceback *(*traceback_of)(rc_heap *h, const void *obj);
    /* Where the freed block at body was allocated (freed false) or freed
     * (freed true), when the tracer kept its history (debug builds). */
    rc_traceback *(*freed_traceback_of)(rc_heap *h, const void *body, bool freed);
    /* Threaded heaps only (thread_heap.c; NULL on a plain heap). */
    struct rc_mt *mt;
    struct rc__stripe *stripes;       /* the container locks (thread_lock.c) */

    /* Optional components keep their state behind these pointers, created
     * on first use, and register a destructor with rc__heap_on_free. */
    struct rc_trace_state *trace;     /* trace.c */
    struct rc_types_state *types;     /* types/: singletons, small ints, interned strings */
    struct rc_graph_state *graph;     /* graph.c: show_growth peaks, marks */
    struct rc_profile_state *profile; /* profile.c */
    void (*destructors[8])(rc_heap *h);
    int    ndestructors;
    rc_error_slot err;                /* rc_last_error(h) */
#if RC_DEBUG >= 1
    /* The thread inside the heap now (0: none) and how deeply it nests
     * (a decref inside a release inside a decref): debug builds catch a
     * second thread entering (rc__thread_enter). */
    _Atomic uint64_t user;
    unsigned user_depth;
    /* Where the program called the rc_decref now running (the outermost
     * one): the tracer keeps it as a freed block's "freed at". */
    const void *free_caller;
#endif
};
_Static_assert(offsetof(struct rc_heap, alloc) == 0, "rc__alloc_state reads the first field of the heap record");

/* ------------------------------------------------------------------------
 * Debug checks (debug.c; docs/reliability.md).  These never fault on a
 * pointer that is not an object: they read through rc__os_read_safe.
 * ---------------------------------------------------------------------- */
/* The heap of which p is the body of a live object, else NULL. */
rc_heap    *rc__debug_heap_of(const void *p);
/* The type of the object whose block at body was freed (RC_DEBUG keeps it
 * in the dead block), or "?". */
const char *rc__freed_type_name(const void *body);
/* body is the body address of a freed block of an object pool of a live heap. */
bool        rc__debug_is_freed(const void *body);
/* ", allocated at file:line (func)" when p is a live object traced by its
 * heap's tracer, else "". */
void        rc__debug_site(const void *p, char *buf, size_t n);
/* " (allocated at file:line (func), freed at ...)" for a freed block whose
 * heap's tracer kept its history, else "". */
void        rc__debug_freed_site(const void *body, char *buf, size_t n);
/* Where the freed block at body was allocated (freed false) or where the
 * program called the rc_decref that freed it (freed true), when h's tracer
 * kept it (debug builds keep the traces of freed blocks); free() it. */
RC_INLINE rc_traceback *rc__freed_traceback_of(rc_heap *h, const void *body, bool freed)
{
    return h->freed_traceback_of ? h->freed_traceback_of(h, body, freed) : NULL;
}

/* Validates an object argument before anything reads it (RC_DEBUG >= 1):
 * NULL, a freed object and (at 2) anything that is not a live object abort
 * with one line naming the check. */
#if RC_DEBUG >= 1
void rc__check_arg(const void *body);
#else
#define rc__check_arg(body) ((void)0)
#endif

/* A heap is used by one thread at a time.  Debug builds bracket the calls
 * that touch a heap with these and abort with one line naming both
 * threads when a second thread enters while another is inside; the heap
 * may move to another thread between calls. */
#if RC_DEBUG >= 1
void rc__thread_enter(rc_heap *h, const char *fn);
void rc__thread_leave(rc_heap *h);
/* Aborts with one line: threaded heap h, the calling thread, what it did
 * wrong ("called rc_incref without rc_thread_attach"). */
RC_COLD _Noreturn void rc__debug_thread_misuse(const rc_heap *h, const char *what);
/* The calling thread is attached to threaded heap h, or the abort names fn. */
void rc__mt_check_attached(rc_heap *h, const char *fn);
#define rc__note_free_caller(h) ((h)->user_depth == 1 ? (void)((h)->free_caller = __builtin_return_address(0)) : (void)0)
#else
#define rc__note_free_caller(h) ((void)(h))
#define rc__thread_enter(h, fn) ((void)(h))
#define rc__thread_leave(h) ((void)(h))
#endif

/* ------------------------------------------------------------------------
 * Threaded heaps (thread_heap.c, thread_ref.c; docs/threads.md).  One heap
 * lock, recursive, guards the heap's state: the heap's own pools, deaths,
 * the collector's and the weakrefs' tables, and the container operations
 * that allocate (the others take only their container's stripe:
 * "Container locks" below).  Refcounts change without it (atomics, or
 * plain stores by a thread attached alone), and objects come from
 * per-thread pools (src/alloc/alloc_local.c).  A thread waiting for
 * the lock counts as parked, so a collection that holds it can stop the
 * world without deadlock.  Every function below is for h->mt != NULL.
 * ---------------------------------------------------------------------- */
int   rc__mt_init(rc_heap *h);
void  rc__mt_destroy(rc_heap *h);
void  rc__mt_lock(rc_heap *h);
void  rc__mt_unlock(rc_heap *h);
/* Stops every other attached thread at a safe point (the caller holds the
 * heap lock), and restarts them; nested pairs stop once. */
void  rc__mt_stop_world(rc_heap *h);
void  rc__mt_start_world(rc_heap *h);
void *rc__mt_new(rc_heap *h, const rc_type *t, size_t body, const rc_site *site);
/* Gen 0 and deaths of threaded heaps (thread_heap.c, "young segments"):
 * o's young slot left empty, by any thread (one holding the lock when it
 * has no segment of h); a tracked object's death, uncounted and unlinked
 * (rc__gc_on_dealloc's threaded half); every thread's segment closed and
 * its counts folded into the heap's (the world stopped). */
void  rc__mt_young_drop(rc_heap *h, rc_head *o);
void  rc__mt_gc_on_dealloc(rc_heap *h, rc_head *o);
void  rc__mt_young_close(rc_heap *h);
/* Whether o, whose count is about to reach 0, may die without the heap
 * lock, and that death; whether another thread waits inside one (the
 * world stopped). */
bool  rc__mt_dies_unlocked_slow(const rc_head *o);
void  rc__mt_die_unlocked(rc_head *o);
/* A plain leaf (nothing to run but the free) is told apart inline, on
 * the type word alone. */
RC_INLINE bool rc__mt_dies_unlocked(const rc_head *o)
{
    if (RC_LIKELY((o->tw & (RC_HF_PLAIN | RC_HF_WEAKREFS)) == RC_HF_PLAIN))
        return true;
    return rc__mt_dies_unlocked_slow(o);
}
bool  rc__mt_dying(rc_heap *h);

/* Who counts references how (thread_ref.c): a thread attached to a heap
 * alone counts its objects' references with plain loads and stores; once
 * another thread attaches, every attached thread counts atomically.  The
 * heap's part of that state is kept by thread_ref.c inside the heap's
 * rc_mt (rc__mt_ref finds it); the hooks run at attach and detach. */
struct rc_mt_ref {
    unsigned *alone;       /* rc__mt_sharing of the thread counting alone, or NULL */
    unsigned *converting;  /* the same thread's, until it acknowledges that it counts atomically */
    unsigned  counting;    /* attached threads; changed under the heap lock */
};
struct rc_mt_ref *rc__mt_ref(rc_heap *h);
void  rc__mt_ref_attach(rc_heap *h);     /* the caller's first attach to h */
void  rc__mt_ref_detach(rc_heap *h);     /* the caller's last detach from h */
/* The threaded heaps the calling thread is attached to and shares with
 * another thread (0: it counts alone wherever it counts), and
 * RC_MT_ACK while a thread that took its place has to wait for it. */
extern _Thread_local unsigned rc__mt_sharing __attribute__((tls_model("initial-exec")));
#define RC_MT_ACK 0x80000000u
/* Every count but the lone thread's plain ones (thread_ref.c): atomic, a
 * pending acknowledgement, an immortal object, or the last reference. */
void  rc__mt_incref_shared(rc_head *o);
void  rc__mt_decref_shared(rc_head *o);

RC_INLINE bool rc__mt_counts_alone(void)
{
    return __atomic_load_n(&rc__mt_sharing, __ATOMIC_RELAXED) == 0;
}

/* rc_incref and rc_decref of a threaded heap's object.  The lone thread's
 * count is a thread-local load, a load and a store, inline in the caller
 * like a plain heap's; a count that leaves 1 always goes to thread_ref.c,
 * which takes the heap lock. */
RC_INLINE void rc__mt_incref(rc_head *o)
{
#if RC_DEBUG >= 1
    rc__mt_check_attached(rc__object_heap(o), "rc_incref");
#endif
    if (RC_LIKELY(rc__mt_counts_alone())) {
        uint32_t n = __atomic_load_n(&o->refcnt, __ATOMIC_RELAXED);
        if (RC_LIKELY(n != RC_REFCNT_IMMORTAL))
            __atomic_store_n(&o->refcnt, n + 1, __ATOMIC_RELAXED);
        return;
    }
    rc__mt_incref_shared(o);
}

RC_INLINE void rc__mt_decref(rc_head *o)
{
#if RC_DEBUG >= 1
    rc__mt_check_attached(rc__object_heap(o), "rc_decref");
#endif
    if (RC_LIKELY(rc__mt_counts_alone())) {
        uint32_t n = __atomic_load_n(&o->refcnt, __ATOMIC_RELAXED);
        if (RC_LIKELY(n - 2 < RC_REFCNT_IMMORTAL - 2)) {
            __atomic_store_n(&o->refcnt, n - 1, __ATOMIC_RELAXED);
            return;
        }
    }
    rc__mt_decref_shared(o);
}

/* The calling thread has no plain count in flight: it clears a pending
 * RC_MT_ACK, so a thread waiting in rc_thread_attach goes on. */
void  rc__mt_acknowledge(void);
/* Wherever no count of the calling thread is in flight: its counts on
 * the atomic path, its safe points and allocations (rc__mt_ref_settle),
 * and the built-in containers' threaded operations, since a loop of dict
 * lookups makes no count. */
RC_INLINE void rc__mt_ack_pending(void)
{
    if (RC_UNLIKELY(__atomic_load_n(&rc__mt_sharing, __ATOMIC_RELAXED) & RC_MT_ACK))
        rc__mt_acknowledge();
}
RC_COLD void rc__mt_ref_settle_slow(rc_heap *h);
/* At a safe point or an allocation: acknowledges a pending change to
 * atomic counting, and takes up counting alone when the other threads
 * have detached.  One thread-local load when the thread counts alone. */
RC_INLINE void rc__mt_ref_settle(rc_heap *h)
{
    if (RC_UNLIKELY(__atomic_load_n(&rc__mt_sharing, __ATOMIC_RELAXED) != 0))
        rc__mt_ref_settle_slow(h);
}

/* Holds the heap lock (or a stopped world) for the rest of the enclosing
 * block on a threaded heap, nothing on a plain one: one line at the top of
 * each operation that must be atomic with respect to the others. */
typedef struct rc__guard { rc_heap *h; bool stopped; } rc__guard;
RC_INLINE rc__guard rc__guard_heap(rc_heap *h, bool stop)
{
    if (RC_LIKELY(!h->mt))
        return (rc__guard){NULL, false};
    rc__mt_lock(h);
    if (stop)
        rc__mt_stop_world(h);
    return (rc__guard){h, stop};
}
RC_INLINE rc__guard rc__guard_obj(const void *o, bool stop)
{
    if (RC_LIKELY(!rc__is_shared(rc__head(o))))
        return (rc__guard){NULL, false};
    return rc__guard_heap(rc__object_heap(rc__head(o)), stop);
}
RC_INLINE void rc__guard_end(rc__guard *g)
{
    if (RC_LIKELY(!g->h))
        return;
    if (g->stopped)
        rc__mt_start_world(g->h);
    rc__mt_unlock(g->h);
}
#define RC_GUARD_CAT_(a, b) a##b
#define RC_GUARD_CAT(a, b) RC_GUARD_CAT_(a, b)
#define RC_GUARD_(init) \
    rc__guard RC_GUARD_CAT(guard_, __LINE__) __attribute__((cleanup(rc__guard_end), unused)) = (init)
/* The heap lock of o's heap, when o is an object of a threaded heap. */
#define RC_LOCK_OBJECT(o) RC_GUARD_(rc__guard_obj((o), false))
/* The same with the world stopped: to traverse o, whose fields other
 * threads may change. */
#define RC_STOP_WORLD_OBJECT(o) RC_GUARD_(rc__guard_obj((o), true))
/* The heap lock of h, when threaded. */
#define RC_LOCK_HEAP(h) RC_GUARD_(rc__guard_heap((h), false))
/* The heap lock and a stopped world: for walks of the heap's objects. */
#define RC_STOP_WORLD(h) RC_GUARD_(rc__guard_heap((h), true))

/* ------------------------------------------------------------------------
 * Container locks (thread_lock.c; docs/threads.md).  A built-in container
 * of a threaded heap is guarded by one of the heap's RC_MT_STRIPES stripe
 * locks, chosen by its address, so a plain heap's headers and bodies stay
 * as they are.  An operation holds its containers' stripes in a section,
 * kept on the C stack and linked from the thread's innermost one; the two
 * stripes of a two-container operation are taken in address order.  A
 * stripe is recursive: depth counts its holder's active sections on it.
 *
 * Invariants, which make the locks deadlock-free:
 *   - A thread never blocks holding a stripe.  Before it sleeps -- for a
 *     stripe, for the heap lock, at a safe point -- or detaches, it lets
 *     go of the stripes of all its sections (they are suspended), and the
 *     innermost takes them back after (the outer ones when the inner
 *     ends), as free-threaded CPython's critical sections do.
 *   - The heap lock comes first: its holder may wait for a stripe (its
 *     holder runs and never waits with it), never the other way round.
 *     So a stopper, whose world is stopped, finds every stripe free but
 *     its own.
 *   - A suspended section's containers may change: an operation blocks
 *     only where its container is whole, and reads it again after.  An
 *     operation that may wait to allocate on its container's state
 *     (growth, a sort's buffer) holds the heap lock from before it reads
 *     that state (RC_LOCKED_VARIANT); only those that never do, or take a
 *     buffer their thread kept (rc__raw_take_cached, which never waits),
 *     take the stripe alone (RC_SECTION_VARIANT) and run beside other
 *     threads' operations.
 * ---------------------------------------------------------------------- */
#define RC_MT_STRIPE_BITS 10
#define RC_MT_STRIPES (1u << RC_MT_STRIPE_BITS)
#define RC_MT_WAITERS ((uintptr_t)1)    /* in a stripe's word: a thread sleeps on it */
typedef struct rc__stripe {
    _Atomic uintptr_t word;   /* the holder's token | RC_MT_WAITERS; 0: free */
    unsigned depth;           /* the holder's active sections on it */
} rc__stripe;
typedef struct rc__section {
    struct rc__section *prev;  /* the thread's enclosing section */
    rc_heap *h;                /* the heap of a and b */
    rc__stripe *a, *b;         /* a < b, or b NULL */
    bool active;               /* holds a and b (false: suspended, or being entered) */
} rc__section;

/* The calling thread's token (the address of a thread-local word, so its
 * low bit is free for RC_MT_WAITERS) and its innermost section; read
 * without a call (initial-exec). */
extern _Thread_local uint64_t rc__mt_token __attribute__((tls_model("initial-exec")));
extern _Thread_local rc__section *rc__section_top __attribute__((tls_model("initial-exec")));
RC_INLINE uintptr_t rc__mt_self(void) { return (uintptr_t)&rc__mt_token; }

/* Fibonacci hashing of the address: neighbours land on different stripes. */
RC_INLINE rc__stripe *rc__stripe_of(rc_heap *h, const void *o)
{
    uintptr_t k = ((uintptr_t)o >> 4) * (uintptr_t)0x9E3779B97F4A7C15ull;
    return &h->stripes[k >> (8 * sizeof k - RC_MT_STRIPE_BITS)];
}

/* thread_heap.c: sleeps, counted as parked, until s is let go. */
void rc__mt_stripe_wait(rc_heap *h, rc__stripe *s);
void rc__mt_stripe_wake(rc_heap *h);
/* thread_lock.c */
RC_COLD void rc__section_take_slow(rc__section *cs);
RC_COLD void rc__sections_suspend(void);
RC_COLD void rc__sections_resume(void);

/* Takes s for the calling thread: false when another thread holds it. */
RC_INLINE bool rc__stripe_try(rc__stripe *s)
{
    uintptr_t w = 0;
    if (atomic_compare_exchange_strong_explicit(&s->word, &w, rc__mt_self(), memory_order_acquire,
                                                memory_order_relaxed)) {
        s->depth = 1;
        return true;
    }
    if ((w & ~RC_MT_WAITERS) != rc__mt_self())
        return false;
    s->depth++;
    return true;
}

RC_INLINE void rc__stripe_give(rc_heap *h, rc__stripe *s)
{
    if (--s->depth > 0)
        return;
    if (RC_UNLIKELY(atomic_exchange_explicit(&s->word, 0, memory_order_release) & RC_MT_WAITERS))
        rc__mt_stripe_wake(h);
}

RC_INLINE void rc__section_give(rc__section *cs)
{
    if (cs->b)
        rc__stripe_give(cs->h, cs->b);
    rc__stripe_give(cs->h, cs->a);
    cs->active = false;
}

/* Takes cs's stripes a and b, waiting (suspended) as long as it must.
 * They come as arguments, so that a section on one container tests no b. */
RC_INLINE void rc__section_take_ab(rc__section *cs, rc__stripe *a, rc__stripe *b)
{
    if (RC_LIKELY(rc__stripe_try(a))) {
        if (RC_LIKELY(!b || rc__stripe_try(b))) {
            cs->active = true;
            return;
        }
        rc__stripe_give(cs->h, a);     /* never wait holding a */
    }
    rc__section_take_slow(cs);
}

RC_INLINE void rc__section_take(rc__section *cs)
{
    rc__section_take_ab(cs, cs->a, cs->b);
}

/* Enters a section on o and o2 (o of a threaded heap; o2 may be NULL, or
 * of another heap: nothing to take, its stripes could not be ordered with
 * o's). */
RC_INLINE void rc__section_begin(rc__section *cs, rc_heap *h, const void *o, const void *o2)
{
    rc__stripe *a = rc__stripe_of(h, o), *b = NULL;
    if (o2 && rc__is_shared(rc__head(o2)) && rc__object_heap(rc__head(o2)) == h) {
        b = rc__stripe_of(h, o2);
        if (b == a)
            b = NULL;
        else if (b < a)
            b = a, a = rc__stripe_of(h, o2);
    }
    *cs = (rc__section){rc__section_top, h, a, b, false};
    rc__section_top = cs;
    rc__section_take_ab(cs, a, b);
}

RC_INLINE void rc__section_end(rc__section *cs)
{
    if (cs->active)
        rc__section_give(cs);
    rc__section_top = cs->prev;
    if (RC_UNLIKELY(cs->prev && !cs->prev->active))
        rc__sections_resume();
}

/* The built-in containers' operations take their locks this way.
 * RC_LOCKED_VARIANT defines name_locked beside an operation: it takes the
 * heap lock, enters a section on o (and, with RC_LOCKED_VARIANT2, on o2
 * too), notes that the locks are taken for this call, calls the operation
 * and leaves.  RC_SECTION_VARIANT does the same without the heap lock, for
 * the operations that never allocate on their container's state.  The
 * operation starts with RC_SHARED_CALL: on an object of a threaded heap
 * whose note is not set, it tail-calls the variant; the call from the
 * variant consumes the note and goes on.  So the plain path pays one test
 * of the header word it has loaded for the type check, and no stack
 * frame.  The note is thread-local in the initial-exec model: read
 * without a call. */
extern _Thread_local bool rc__mt_again __attribute__((tls_model("initial-exec")));
RC_INLINE bool rc__mt_take_again(void)
{
    bool again = rc__mt_again;
    rc__mt_again = false;
    return again;
}
/* fn, a cold function of params, makes call inside a section on o and o2,
 * holding o's heap lock around it when heap_lock. */
#define RC_SECTION_CALL(T, fn, params, heap_lock, o, o2, call)  \
    static RC_COLD T fn params                                  \
    {                                                           \
        rc_heap *h_ = rc__object_heap(rc__head(o));             \
        rc__section cs_;                                        \
        rc__mt_ack_pending();                                   \
        if (heap_lock)                                          \
            rc__mt_lock(h_);                                    \
        rc__section_begin(&cs_, h_, (o), (o2));                 \
        T r_ = call;                                            \
        rc__section_end(&cs_);                                  \
        if (heap_lock)                                          \
            rc__mt_unlock(h_);                                  \
        return r_;                                              \
    }
#define RC_LOCKED_VARIANT2(T, name, params, o, o2, args) \
    RC_SECTION_CALL(T, name##_locked, params, true, o, o2, (rc__mt_again = true, name args))
#define RC_LOCKED_VARIANT(T, name, params, o, args) RC_LOCKED_VARIANT2(T, name, params, o, NULL, args)
#define RC_SECTION_VARIANT(T, name, params, o, args) \
    RC_SECTION_CALL(T, name##_locked, params, false, o, NULL, (rc__mt_again = true, name args))
#define RC_SHARED_CALL(o, call)                                                  \
    do {                                                                         \
        if (RC_UNLIKELY(rc__is_shared(rc__head(o))) && !rc__mt_take_again())     \
            return call;                                                         \
    } while (0)

/* Debug builds, before a collection of generation gen follows the
 * candidates' references: each must lead to a live object of the heap, or
 * the abort line names the holder and what the reference leads to. */
#if RC_DEBUG >= 1
void rc__debug_check_children(rc_heap *h, int gen);
#else
#define rc__debug_check_children(h, gen) ((void)0)
#endif

/* Records that o, of heap `theirs`, cannot go into a container of heap h. */
RC_COLD int rc__foreign(rc_heap *h, const void *o, const rc_heap *theirs);

/* Containers call this before storing o into a container of heap h: an
 * object of another heap would be released by the wrong heap, so it is
 * refused with RC_EINVAL in every build. */
RC_INLINE int rc__check_same_heap(rc_heap *h, const void *o)
{
    if (!o)
        return 0;
    rc__check_arg(o);
    const rc_heap *theirs = rc__object_heap(rc__head(o));
    return RC_LIKELY(theirs == h) ? 0 : rc__foreign(h, o, theirs);
}

/* rc_heap_free's final collection, finalizers, callbacks and garbage
 * report (finalize.c), before anything is released. */
void rc__heap_finalize(rc_heap *h);

/* Registers fn to run (last registered first) when the heap is freed,
 * after every object has been released and before the memory is returned. */
int  rc__heap_on_free(rc_heap *h, void (*fn)(rc_heap *h));

/* The traceback of obj's allocation (malloc'd), or NULL when h is not
 * being traced. */
RC_INLINE rc_traceback *rc__traceback_of(rc_heap *h, const void *obj)
{
    return h->traceback_of ? h->traceback_of(h, obj) : NULL;
}

/* Records an error for rc_last_error and returns code; a NULL h records
 * it as the calling thread's (calls that have no heap). */
#define rc__error rc_set_error
/* rc_set_error for a thread not attached to threaded heap h (error.c). */
int rc__error_unattached(rc_heap *h, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int  rc__type_error(rc_heap *h, const void *o, const char *expected);

/* The type word of a new object of the untracked type t: RC_HF_PLAIN when
 * its death has nothing to run but the free (rc__dealloc tests one bit). */
RC_INLINE uintptr_t rc__untracked_tw(const rc_type *t)
{
    uintptr_t runs = (uintptr_t)t->finalize | (uintptr_t)t->clear | (uintptr_t)t->release;
    uintptr_t tw = (uintptr_t)t | RC_HF_PLAIN;
    return runs ? (uintptr_t)t : tw;
}

/* rc_new for a type the collector never tracks, with arguments known good
 * (t valid, body its size): no collector hook to run, so the built-in
 * leaves (int, float, str...) make their objects with one call (rc__new_leaf:
 * without the threaded heap's branch, for callers that hold its lock). */
RC_INLINE void *rc__new_leaf(rc_heap *h, const rc_type *t, size_t body, const rc_site *site)
{
    return rc__new_object(h, rc__untracked_tw(t), body, site);
}
RC_INLINE void *rc__new_untracked(rc_heap *h, const rc_type *t, size_t body, const rc_site *site)
{
    if (RC_UNLIKELY(h->mt != NULL))
        return rc__mt_new(h, t, body, site);
    return rc__new_leaf(h, t, body, site);
}
/* rc_new's work once the arguments are checked (object.c); a threaded
 * heap's caller holds the heap lock. */
void *rc__new_checked(rc_heap *h, const rc_type *t, size_t body, const rc_site *site);

/* Deaths queued past the nesting limit (object.c) are threaded through the
 * dying objects' refcnt and gc words, which then look like anything: no
 * walk of the pools (a collection, a gc query, a snapshot, a heap check)
 * may run until the outermost death has drained the queue.  Only user
 * code running inside a death (a clear, release, finalizer or weakref
 * callback) can ask for one then. */
struct rc_deaths {
    int depth;          /* nested deaths now running on this thread */
    int unlocked;       /* of those, threaded heaps' deaths without the heap lock */
    rc_head *trash;     /* deaths deferred past the depth limit */
};
/* Per thread, not per heap: the deaths of a threaded heap run on many
 * threads at once.  An object of a threaded heap waits in the queue only
 * while its thread holds that heap's lock (object.c), so a collection,
 * which holds it, finds its own thread's queue or none. */
extern _Thread_local struct rc_deaths rc__deaths __attribute__((tls_model("initial-exec")));
RC_INLINE bool rc__deaths_queued(const rc_heap *h)
{
    (void)h;
    return rc__deaths.trash != NULL;
}

/* object.c: dealloc of an object whose count reached zero. */
void rc__dealloc(rc_head *o);
/* The end of a death, for an object already finalized, without weakrefs
 * and unlinked from the collector: drop its references, release, free. */
void rc__free_dead(rc_heap *h, rc_head *o);
/* The very end of a death: release, then the block goes back. */
void rc__release_and_free(rc_heap *h, rc_head *o);
/* decref_many.c: one decref per item, in order, the leaves that die
 * going back a pool at a time (a container's items as it clears). */
void rc__decref_many(rc_heap *h, void *const *items, size_t n);
/* gc.c hooks used by object.c. */
/* The young vector's slots (gc.c, "the young vector"): these are its
 * paths every tracked object takes, inline in rc_new and in a death. */
void rc__gc_link_young_full(rc_heap *h, rc_head *o);   /* link when young_len == young_cap */
/* Makes room for n more slots at the end of the vector (false: out of
 * memory); on a threaded heap the caller holds the lock. */
bool rc__gc_young_room(rc_heap *h, size_t n);
void rc__gc_unlink_other(rc_heap *h, rc_head *o);      /* unlink a dying object that is not young */

/* Links o into gen 0 as young[young_len]. */
RC_INLINE void rc__gc_link_young(rc_heap *h, rc_head *o)
{
    rc_gc_state *gc = &h->gc;
    size_t n = gc->young_len;
    if (RC_UNLIKELY(n == gc->young_cap)) {
        rc__gc_link_young_full(h, o);
        return;
    }
    gc->young[n] = o;
    o->gc = rc__gc_young_word(n);
    gc->young_len = n + 1;
}

/* Leaves a hole at slot i; the holes at the end are given back when the
 * last slot's object dies, so a batch that dies whole leaves none, in
 * whatever order it dies.  Inline, the last slot's death gives back its
 * own slot; holes before it go back in gc.c. */
void rc__gc_young_drop_end(rc_gc_state *gc);   /* young_len was just cut to the dead slot */
RC_INLINE void rc__gc_young_drop(rc_gc_state *gc, size_t i)
{
    rc_head **v = gc->young;
    size_t g0 = gc->gen0_start;
    if (RC_LIKELY(i + 1 != gc->young_len)) {
        v[i] = NULL;
        gc->holes0 += i >= g0;
        return;
    }
    gc->young_len = i;
    if (RC_UNLIKELY(i == 0 || !v[i - 1]))
        rc__gc_young_drop_end(gc);
    else
        gc->gen0_start = g0 > i ? i : g0;   /* gen 0 was empty: it stays so */
}

/* A new tracked object: counted, and linked into gen 0. */
RC_INLINE void rc__gc_on_new(rc_heap *h, rc_head *o)
{
    h->gc.count[0]++;
    rc__gc_link_young(h, o);
}

/* A dying object of a tracked type is uncounted: count[0] never goes
 * below 0. */
RC_INLINE void rc__gc_uncount(rc_gc_state *gc)
{
    gc->count[0] -= gc->count[0] > 0;
}

/* In gen 0, 1 or 2 outside a collection (young or RC_GC_OLD): one
 * compare, and the word of nearly every tracked object that dies. */
RC_INLINE bool rc__gc_is_generational(uint32_t g) { return g <= RC_GC_YOUNG_MAX; }

/* A dying object of a plain heap in gen 0, 1 or 2: uncounted and
 * unlinked; the gc word says untracked from here on, so that a collection
 * a weakref callback starts does not take it for a candidate.  Gen 2 is a
 * count, so an old death costs no more than a young one. */
RC_INLINE void rc__gc_on_generational_dealloc(rc_gc_state *gc, rc_head *o)
{
    uint32_t g = o->gc;
    rc__gc_uncount(gc);
    if (RC_LIKELY(g != RC_GC_OLD))
        rc__gc_young_drop(gc, rc__gc_young_index(g));
    else
        gc->old_count--;
    o->gc = RC_GC_UNTRACKED;
}

/* The same for any dying object of a tracked type. */
RC_INLINE void rc__gc_on_dealloc(rc_heap *h, rc_head *o)
{
    if (RC_UNLIKELY(rc__is_shared(o))) {
        rc__mt_gc_on_dealloc(h, o);
        return;
    }
    if (RC_LIKELY(rc__gc_is_generational(o->gc))) {
        rc__gc_on_generational_dealloc(&h->gc, o);
        return;
    }
    rc__gc_uncount(&h->gc);
    rc__gc_unlink_other(h, o);
}
void rc__gc_collect_due(rc_heap *h);             /* count[0] passed threshold[0]: collect if due */
/* The threshold check before a tracked allocation: one compare inline,
 * the rest (enabled, threshold 0, which generation) in gc.c. */
RC_INLINE bool rc__gc_count_due(const rc_heap *h)
{
    return h->gc.count[0] > h->gc.threshold[0];
}
RC_INLINE void rc__gc_maybe_collect(rc_heap *h)
{
    if (RC_UNLIKELY(rc__gc_count_due(h)))
        rc__gc_collect_due(h);
}
void rc__gc_destroy(rc_heap *h);
bool rc__gc_in_dead_set(const rc_head *o);     /* o is in the running collection's dead set */
#define RC_GC_CLEAN 3
void rc__gc_start_clean(rc_heap *h);             /* a new heap holds no garbage */
void rc__gc_set_dirty(rc_heap *h, int gen);      /* garbage may have appeared in gen (and older) */
void rc__gc_note_decref(rc_heap *h, const rc_head *o);
/* A decref left o alive: garbage may have appeared where o is, unless its
 * generation is known to be dirty already (then nothing is noted: one
 * predictable branch on the decref path).  The heap is looked up here
 * through a laundered pointer: otherwise the compiler merges the lookup
 * with the caller's (rc_decref's, which a release build never uses) and
 * pays for it on the path where the count reached 0 as well. */
RC_INLINE void rc__gc_decref_kept(const rc_head *o)
{
    __asm__("" : "+r"(o));
    rc_heap *h = rc__object_heap(o);
    if (RC_UNLIKELY(o->gc - h->gc.note_lo < h->gc.note_span))
        rc__gc_note_decref(h, o);
}
/* weakref.c */
void rc__weak_on_dealloc(rc_heap *h, rc_head *o);/* clears weakrefs to a dying object, runs callbacks */
/* Clears the weakrefs to the n dead objects of v (NULL entries skipped),
 * then runs the callbacks of those weakrefs that are not dead themselves;
 * returns how many callbacks ran. */
size_t rc__weak_clear_dead(rc_heap *h, rc_head **v, size_t n);
void rc__weak_destroy(rc_heap *h);

/* rc_type.flags, internal: objects of the type may carry RC_HF_LEAVES
 * (the collector's address-ordered passes look for it only then). */
#define RC__TYPE_LEAVES 0x40000u

/* What a type asks of the collector: RC_TYPE_REFS types are tracked and
 * cleared by the runtime itself (see recycle.h).  rc_new asks it of every
 * type: one test of two fields or'ed, not two branches. */
RC_INLINE bool rc__type_tracked(const rc_type *t)
{
    return ((uintptr_t)t->traverse | (t->flags & RC_TYPE_REFS)) != 0;
}
RC_INLINE bool rc__type_clears(const rc_type *t) { return t->clear || (t->flags & RC_TYPE_REFS); }
RC_INLINE size_t rc__nrefs(const rc_type *t) { return t->size / sizeof(void *); }

/* Visits the words of body p that rc_type.ref_words declares, those not
 * NULL, and stops at the first non-zero result of visit.  Inline, so a
 * constant visit is inlined too. */
RC_INLINE int rc__visit_ref_words(void **p, uint64_t words, rc_visit visit, void *arg)
{
    for (uint64_t m = words; m; m &= m - 1) {
        void *c = p[__builtin_ctzll(m)];
        int rv = c ? visit(c, arg) : 0;
        if (rv)
            return rv;
    }
    return 0;
}

/* Calls VISIT(child, ARG) for each child of o and stops at the first
 * non-zero result.  For RC_TYPE_REFS bodies and declared ref_words the
 * loop is inline, so a static VISIT is inlined too: the collector's
 * passes use this form. */
#define RC_FOR_EACH_CHILD(o, VISIT, ARG)                                      \
    do {                                                                      \
        rc_head *o_ = (o);                                                    \
        const rc_type *t_ = rc__type(o_);                                     \
        if (t_->flags & RC_TYPE_REFS) {                                       \
            void **p_ = (void **)rc__body(o_);                                \
            for (size_t i_ = 0, n_ = rc__nrefs(t_); i_ < n_; i_++)            \
                if (p_[i_] && VISIT(p_[i_], ARG))                             \
                    break;                                                    \
        } else if (t_->traverse) {                                            \
            if (t_->ref_words)                                                \
                rc__visit_ref_words((void **)rc__body(o_), t_->ref_words, VISIT, ARG); \
            else                                                              \
                t_->traverse(rc__body(o_), VISIT, ARG);                       \
        }                                                                     \
    } while (0)

/* Visits each child of o; returns the first non-zero result of fn. */
RC_INLINE int rc__traverse(rc_head *o, rc_visit fn, void *arg)
{
    const rc_type *t = rc__type(o);
    if (t->flags & RC_TYPE_REFS) {
        void **p = (void **)rc__body(o);
        for (size_t i = 0, n = rc__nrefs(t); i < n; i++) {
            int rv = p[i] ? fn(p[i], arg) : 0;
            if (rv)
                return rv;
        }
        return 0;
    }
    if (!t->traverse)
        return 0;
    if (t->ref_words)
        return rc__visit_ref_words((void **)rc__body(o), t->ref_words, fn, arg);
    return t->traverse(rc__body(o), fn, arg);
}

/* RC_CLEAR on each of n slots: each is NULL before its decref, so that
 * nothing a nested death runs follows a slot to a freed object. */
RC_INLINE void rc__clear_slots(void **slots, size_t n)
{
    for (size_t i = 0; i < n; i++)
        RC_CLEAR(slots[i]);
}

/* Drops o's references so a cycle falls apart: clear, or RC_CLEAR on each
 * slot of an RC_TYPE_REFS body; nothing for a type without clear.  Inline:
 * the collector calls it once per dead object. */
RC_INLINE void rc__clear(rc_head *o)
{
    const rc_type *t = rc__type(o);
    if (t->flags & RC_TYPE_REFS) {
        rc__clear_slots((void **)rc__body(o), rc__nrefs(t));
    } else if (t->clear) {
        t->clear(rc__body(o));
    }
}

#include "hash.h"

#endif /* RC_INTERNAL_H */
