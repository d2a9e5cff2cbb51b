/* recycle — reference counting and a generational cycle collector for C,
 * with CPython's gc control surface and the memory tools Python users know.
 *
 * The core's public header: heaps, objects, the collector, weak references,
 * the allocator, the value types, the in-process tracer, heap dumps and
 * function brackets, in librecycle (libc, libm and libpthread alone).
 * Charts, graph rendering, line-number symbolization, mprof files and the
 * sampler are in recycle-tools.h (librecycle-tools).  Every exported name
 * starts rc_ or RC_, and every declaration carries RC_API.
 * Semantics follow CPython 3.12's gc module unless a note here says otherwise;
 * the design notes are docs/design-gc.md and docs/design-alloc.md.
 *
 * Conventions
 *   - Errors (docs/errors.md): a call that can fail returns a negative
 *     RC_E* code, or NULL when it returns a pointer, and leaves a message
 *     in the last error of its heap (rc_last_error(h); the heap of the
 *     object it was given), or of the calling thread for calls that have
 *     no heap (rc_last_error(NULL)).  Success leaves the last error as it
 *     was; rc_clear_error forgets it.  No out-parameter messages, no FILE *
 *     diagnostics; a call refused because the heap is busy returns
 *     RC_ESTATE.  Where NULL is an answer, a _ref form answers 1/0/<0.
 *   - References: functions that return an object give the caller a new
 *     reference unless documented "borrowed"; setters take their own
 *     reference to what they store; no function steals the caller's
 *     reference.  rc_xdecref accepts NULL; passing NULL or a freed object
 *     anywhere else is a programming error, reported in one line by the
 *     debug build (rc_debug_level).
 *   - Threads (docs/threads.md): a plain heap is used by one thread at a
 *     time; it may move between threads between calls; many heaps may live
 *     in many threads.  The debug build aborts, naming both threads, when a
 *     second thread enters a plain heap another is inside.  A heap made
 *     with rc_config.threads is shared: see "Threaded heaps" below.  An
 *     object belongs to its heap: containers refuse objects of another
 *     heap (RC_EINVAL).
 *   - Nothing prints unless asked to, except rc_heap_free's report of
 *     uncollectable garbage on the gc debug stream (CPython's warning).
 */
#ifndef RECYCLE_H
#define RECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RC_VERSION_MAJOR 0
#define RC_VERSION_MINOR 1
#define RC_VERSION_PATCH 0

/* Marks what the shared libraries export; they are built with
 * -fvisibility=hidden, so everything else stays inside. */
#ifndef RC_API
#if defined(__GNUC__) || defined(__clang__)
#define RC_API __attribute__((visibility("default")))
#else
#define RC_API
#endif
#endif

/* The rc_type alignment, spelled for C and for C++. */
#ifdef __cplusplus
#define RC_ALIGNED_(n) alignas(n)
#else
#define RC_ALIGNED_(n) _Alignas(n)
#endif

/* ------------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------- */

enum {
    RC_OK      = 0,
    RC_ENOENT  = -2,     /* no such file, key or object */
    RC_EIO     = -5,     /* read or write failed */
    RC_ENOMEM  = -12,    /* out of memory, or over rc_config.max_bytes */
    RC_EBUSY   = -16,    /* resource in use (an exporter with live views) */
    RC_EINVAL  = -22,    /* invalid argument */
    RC_ERANGE  = -34,    /* value or index out of range */
    RC_ENOTSUP = -95,    /* operation not supported here */
    RC_ETYPE   = -1001,  /* wrong type of object */
    RC_EFORMAT = -1002,  /* truncated, corrupt or future-version file */
    RC_ESTATE  = -1003,  /* call not allowed in the current state */
};

/* A static string explaining an error code; never NULL. */
RC_API const char *rc_strerror(int code);

/* ------------------------------------------------------------------------
 * Types and heaps
 * ---------------------------------------------------------------------- */

typedef struct rc_heap rc_heap;

/* Callback for visiting objects; return non-zero to stop the walk, and the
 * walking function returns that value. */
typedef int (*rc_visit)(void *obj, void *arg);

/* The description of a kind of object.  Instances must outlive every object
 * of the type (normally they are static const).  The struct is 64-byte
 * aligned: the runtime keeps per-object flags in the low bits of the type
 * pointer stored in each header (docs/design-gc.md). */
typedef struct rc_type {
    RC_ALIGNED_(64) const char *name; /* shown by stats, tracer, graph tools */
    size_t size;                   /* body size in bytes; 0 = variable, see rc_new_var */
    /* Call visit(child, arg) for each object this one references; return
     * the first non-zero result of visit, else 0.  NULL: never tracked.
     * A full collection may call it from its helper threads
     * (rc_config.gc_workers), several objects at once, while the thread
     * that collects waits: it must only read the object and call visit --
     * no locks, no allocation, no other rc_ call.  clear, finalize,
     * release and the gc callbacks run on the collecting thread. */
    int  (*traverse)(void *self, rc_visit visit, void *arg);
    /* Drop references so a cycle falls apart (CPython's tp_clear).  A type
     * without clear in a dead cycle makes the cycle uncollectable unless
     * another member has one. */
    void (*clear)(void *self);
    /* Runs at most once before death (PEP 442); may resurrect the object
     * by storing a new reference to it somewhere. */
    void (*finalize)(void *self);
    /* Frees what the object owns that is not an object (buffers). */
    void (*release)(void *self);
    unsigned flags;                /* RC_TYPE_* */
    /* Bytes of memory the object owns besides its own block (item buffers
     * and the like), for rc_sizeof; NULL: none. */
    size_t (*owned)(const void *self);
    /* For a type with traverse: the body words its traverse visits, bit i
     * for the word at byte offset i * sizeof(void *) (RC_REF_WORD), each
     * NULL or an object; 0: not declared.  The collector's passes then read
     * those words themselves instead of calling traverse -- as fast as
     * RC_TYPE_REFS -- and dead cycles are still broken by clear.  traverse
     * must visit exactly these words (rc_heap_check verifies it). */
    uint64_t ref_words;
} rc_type;

/* The bit of rc_type.ref_words for a reference field of a body struct
 * (pointer-aligned): RC_REF_WORD(node, left) | RC_REF_WORD(node, right). */
#define RC_REF_WORD(body, field) ((uint64_t)1 << (offsetof(body, field) / sizeof(void *)))

/* rc_type.flags */
#define RC_TYPE_NO_WEAKREF 0x1u    /* weak references to instances are refused */
/* The first size / sizeof(void *) words of the body are references, each
 * NULL or an object (like a __slots__ class whose slots all hold objects);
 * rc_new_var may add non-reference bytes after them.  The runtime traverses
 * and clears them itself, without calling through the type — the
 * collector's fastest case; traverse and clear are ignored. */
#define RC_TYPE_REFS       0x2u

/* The most threads rc_config.gc_workers may ask for. */
#define RC_GC_WORKERS_MAX 64

/* Heap configuration: one table of options, each with an environment
 * override read by rc_config_default (mimalloc's style).  A malformed
 * environment value is reported on stderr naming the variable and ignored. */
typedef struct rc_config {
    size_t   gc_threshold[3]; /* RECYCLE_GC_THRESHOLD=700,10,10 */
    bool     gc_enabled;      /* RECYCLE_GC=0 starts disabled */
    unsigned gc_debug;        /* RECYCLE_GC_DEBUG=1 (RC_GC_DEBUG_* flags) */
    FILE    *gc_debug_out;    /* where DEBUG lines go; NULL = stderr */
    /* Full collections split their passes across gc_workers threads (the
     * calling one and gc_workers - 1 helpers, made at the first full
     * collection that uses them and parked between collections) once the
     * pools they walk hold gc_parallel_min bytes, unless the graph is
     * scattered and fits in half the cache; results are a single
     * thread's.  0 (the default): one per core the collecting thread may
     * run on, at most 8; 1: no helpers (docs/design-gc.md, "Parallel
     * marking", says what a second worker gains and costs). */
    unsigned gc_workers;      /* RECYCLE_GC_WORKERS=0 (at most RC_GC_WORKERS_MAX) */
    size_t   gc_parallel_min; /* RECYCLE_GC_PARALLEL_MIN=4194304 */
    /* Empty arenas kept for reuse; none once a collection finds the heap
     * at an eighth or less of a peak of 16 MiB of arenas or more
     * (docs/design-alloc.md, "Giving memory back").  With 0, no emptied
     * arena is kept for 100 ms either. */
    size_t   arena_spare;     /* RECYCLE_ARENA_SPARE=1 */
    /* From 16 MiB of arenas on, new ones are cut from regions on transparent
     * huge pages: giving them back costs about a twentieth of small pages'.
     * Worth it where fresh huge pages are cheap to touch, which they are not
     * on a VM whose balloon reports free memory to its host
     * (docs/design-alloc.md). */
    bool     arena_huge;      /* RECYCLE_ARENA_HUGE=0 */
    size_t   max_bytes;       /* RECYCLE_MAX_BYTES=0: cap on bytes requested (0 = none) */
    uint64_t fail_alloc_at;   /* RECYCLE_FAIL_ALLOC_AT: Nth allocation fails (1-based; 0 = never) */
    bool     fail_alloc_after;/* RECYCLE_FAIL_ALLOC_AFTER=1: and every one after it */
    bool     leak_report;     /* RECYCLE_LEAK_REPORT=1: rc_heap_free lists live objects */
    FILE    *leak_out;        /* where the leak report goes; NULL = stderr */
    bool     fast_free;       /* RECYCLE_FAST_FREE=1: rc_heap_free skips the final collection */
    bool     threads;         /* RECYCLE_THREADS=1: several threads may use the heap at once */
} rc_config;

/* Fills *cfg with the defaults, then applies RECYCLE_* environment overrides. */
RC_API void rc_config_default(rc_config *cfg);

RC_API rc_heap *rc_heap_new(const rc_config *cfg);   /* NULL cfg: rc_config_default() */
/* Ends the heap as Py_Finalize ends an interpreter, then frees everything.
 * Where CPython clears the module dicts, every reference still held when
 * rc_heap_free is called plays the part of the globals.  In order: a full
 * collection (dead cycles are finalized, called back and freed); the
 * finalizer of every live object that has not run it runs once, in
 * address order, cycles still referenced included; every weakref still
 * pointing at a live object is cleared and its callback runs; a second
 * full collection; then, when gc.garbage holds objects,
 * RC_GC_DEBUG_SAVEALL is off and the program asked for gc diagnostics (a
 * gc debug flag, or rc_config.gc_debug_out: CPython's warning shows under
 * -W default only), "gc: N uncollectable objects at shutdown" on the gc
 * debug stream (each object listed under RC_GC_DEBUG_UNCOLLECTABLE); then the leak report if asked; then every
 * object's release runs and the memory goes back.  rc_config.fast_free
 * skips everything before the leak report (the fast teardown). */
RC_API void     rc_heap_free(rc_heap *h);

/* Threaded heaps (rc_config.threads; docs/threads.md).  Every thread that
 * touches the heap or its objects is attached: the creating thread starts
 * attached; another calls rc_thread_attach first and rc_thread_detach when
 * it is done, before it exits, and around any call that may block for
 * long (a join, a lock another attached thread may hold while it
 * allocates, I/O), since a collection waits for every attached thread to
 * reach a safe point: an allocation of an object, rc_safepoint, attach or
 * detach.  An attach also waits until a thread attached alone (which
 * counts references without atomics) makes its next refcount, allocation,
 * built-in container operation, safe point or detach.  Refcounting works from any attached thread; collections stop
 * the world; each operation of the built-in list, dict, set and array is
 * atomic with respect to the others (each container has a lock of its
 * own).  User types guard their own fields: a field another thread may
 * write needs the type's own lock, and a borrowed reference read from a
 * shared container may die once another thread changes the container
 * (take a new reference: rc_dict_get_ref).  Your locks come first: a
 * finalizer, release, clear or callback may run inside a container
 * operation, holding that container's lock, so no thread may hold a lock
 * such a callback takes across a call into the same heap.
 * rc_heap_free is called with every other thread detached.  On a plain
 * heap the three calls do nothing (attach returns 0). */
RC_API int      rc_thread_attach(rc_heap *h);   /* 0, or RC_ENOMEM (too many heaps per thread) */
RC_API void     rc_thread_detach(rc_heap *h);
/* Lets a waiting collection run: a loop that neither allocates objects nor
 * blocks calls it now and then. */
RC_API void     rc_safepoint(rc_heap *h);
RC_API bool     rc_heap_is_threaded(const rc_heap *h);   /* made with rc_config.threads */
/* The error left by the last failing call on this heap: a message naming
 * what was wrong (for type errors, the expected and actual type names), ""
 * when none.  A NULL h means the calling thread's last error, left by the
 * calls that have no heap (loaders, charts, the sampler).  A successful
 * call leaves the last error as it was; rc_clear_error forgets it. */
RC_API const char *rc_last_error(const rc_heap *h);
RC_API int         rc_last_error_code(const rc_heap *h);   /* RC_OK when none */
RC_API void        rc_clear_error(rc_heap *h);
/* Records an error as a failing library call would (PyErr_Format): for
 * user types and layers built on recycle.  Returns code. */
RC_API int         rc_set_error(rc_heap *h, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ------------------------------------------------------------------------
 * Objects and reference counting
 * ---------------------------------------------------------------------- */

/* A call site, recorded by the allocation tracer.  The rc_new / rc_new_var /
 * rc_alloc macros below pass the caller's site; it costs one pointer argument
 * and is ignored while tracing is off. */
typedef struct rc_site {
    const char *file;
    int         line;
    const char *func;
} rc_site;

#if defined(__GNUC__) && !defined(RC_NO_SITES)
#define RC_SITE() \
    __extension__({ static const rc_site rc_site_ = {__FILE__, __LINE__, __func__}; &rc_site_; })
#else
#define RC_SITE() ((const rc_site *)0)
#endif

RC_API void   *rc_new(rc_heap *h, const rc_type *t);  /* new ref; refcount 1, body zero-filled; NULL on OOM */
RC_API void   *rc_new_var(rc_heap *h, const rc_type *t, size_t body_size);  /* new ref */
RC_API void   *rc_new_at(rc_heap *h, const rc_type *t, size_t body_size, const rc_site *site);  /* new ref */
RC_API void    rc_incref(void *o);
/* rc_decref(NULL) is a programming error (the debug build reports it in
 * one line); rc_xdecref accepts NULL, like Py_XDECREF. */
RC_API void    rc_decref(void *o);                    /* 0 → drop children, release, free, at once */
RC_API void    rc_xdecref(void *o);
RC_API size_t  rc_refcount(const void *o);            /* the true count (no +1 like sys.getrefcount) */
RC_API const rc_type *rc_typeof(const void *o);
RC_API rc_heap *rc_heap_of(const void *o);
/* The object never dies and its count never changes (CPython 3.12's
 * immortal objects); rc_refcount reports RC_IMMORTAL_REFCNT. */
RC_API void    rc_immortalize(void *o);
RC_API bool    rc_is_immortal(const void *o);
#define RC_IMMORTAL_REFCNT ((size_t)UINT32_MAX)
/* rc_decref that also NULLs the variable, like Py_CLEAR. */
#define RC_CLEAR(p) do { void *rc_tmp_ = (void *)(p); if (rc_tmp_) { (p) = NULL; rc_decref(rc_tmp_); } } while (0)
/* Returns its argument with one more reference (NULL passes through). */
RC_API void   *rc_newref(void *o);  /* new ref */
/* True when p points at the body of a live object of heap h. */
RC_API bool    rc_is_object(rc_heap *h, const void *p);

#ifndef RC_NO_SITES
#define rc_new(h, t)          rc_new_at((h), (t), 0, RC_SITE())
#define rc_new_var(h, t, n)   rc_new_at((h), (t), (n), RC_SITE())
#endif

/* ------------------------------------------------------------------------
 * The gc module
 * ---------------------------------------------------------------------- */

#define RC_GC_DEBUG_STATS         1u
#define RC_GC_DEBUG_COLLECTABLE   2u
#define RC_GC_DEBUG_UNCOLLECTABLE 4u
#define RC_GC_DEBUG_SAVEALL       32u
#define RC_GC_DEBUG_LEAK          38u  /* COLLECTABLE | UNCOLLECTABLE | SAVEALL */

typedef struct rc_gc_stats {
    size_t   collections;   /* collections of this generation */
    size_t   collected;     /* objects freed by them */
    size_t   uncollectable; /* objects found unreachable but not freed */
    size_t   candidates;    /* objects examined */
    uint64_t duration_ns;   /* time spent in them */
    size_t   unscanned;     /* of the collections, automatic ones that promoted
                               without a scan (see rc_gc_set_threshold) */
} rc_gc_stats;

typedef struct rc_gc_info {
    int    generation;
    size_t collected;
    size_t uncollectable;
} rc_gc_info;

/* phase is "start" or "stop"; at "start" collected/uncollectable are 0. */
typedef void (*rc_gc_callback)(const char *phase, const rc_gc_info *info, void *ctx);

RC_API void   rc_gc_enable(rc_heap *h);
RC_API void   rc_gc_disable(rc_heap *h);
RC_API bool   rc_gc_isenabled(const rc_heap *h);
/* Collects generation 0..2 (and every younger one); returns collected +
 * uncollectable.  Returns 0 when called during a collection (from a
 * finalizer or a callback), or from inside a death while deaths past the
 * 64-deep nesting limit wait in the queue (CPython's trashcan); automatic
 * collections wait then too.  An out-of-range generation is clamped to 2. */
RC_API size_t rc_gc_collect(rc_heap *h, int generation);
RC_API void   rc_gc_get_count(const rc_heap *h, size_t count[3]);
RC_API void   rc_gc_get_threshold(const rc_heap *h, size_t threshold[3]);
/* Automatic collections come as in CPython: before a tracked allocation
 * that finds count[0] above threshold[0], the oldest generation over its
 * threshold (and the long-lived rule); callbacks, counts and stats see each.
 * But garbage appears only where a decref leaves an object alive, so an
 * automatic collection of generations where no decref did since they were
 * last scanned promotes without a scan (stats: unscanned).  A cycle closed
 * by a reference stored without an incref (stolen) and then abandoned
 * involves no such decref: it waits for rc_gc_collect, or for the automatic
 * collection after a decref leaves an object of its generation, or of a
 * younger one, alive (docs/design-gc.md). */
RC_API void   rc_gc_set_threshold(rc_heap *h, size_t t0, size_t t1, size_t t2);  /* t0 = 0 disables */
RC_API rc_gc_stats rc_gc_get_stats(const rc_heap *h, int generation);
RC_API bool   rc_gc_is_tracked(const void *o);
RC_API bool   rc_gc_is_finalized(const void *o);
/* PyObject_GC_Track / PyObject_GC_UnTrack: both may be called again on an
 * object already in that state, and do nothing then.  Tracking an object
 * whose type has no traverse does nothing (it has nothing to collect), and
 * so does untracking a candidate of the collection that is running (from a
 * finalizer or callback): it stays tracked until that collection ends. */
RC_API void   rc_gc_track(void *o);
RC_API void   rc_gc_untrack(void *o);
/* gc.freeze / gc.unfreeze: 0, or RC_ESTATE during a collection or while
 * deaths wait in the queue (see rc_gc_collect). */
RC_API int    rc_gc_freeze(rc_heap *h);
RC_API int    rc_gc_unfreeze(rc_heap *h);
RC_API size_t rc_gc_get_freeze_count(const rc_heap *h);
/* Visits tracked objects of one generation (0..2) or all (-1); the
 * tracked objects that refer to target.  The objects are found first and
 * each is held by a reference while fn runs (as Python holds the list these
 * return), so fn may allocate, drop references or collect; a non-zero
 * result of fn stops the visits and is returned.  RC_ENOMEM, with no visit,
 * when the list of found objects cannot be made; RC_ESTATE from inside a
 * death while deaths wait in the queue (see rc_gc_collect). */
RC_API int    rc_gc_get_objects(rc_heap *h, int generation, rc_visit fn, void *arg);
RC_API int    rc_gc_get_referrers(rc_heap *h, const void *target, rc_visit fn, void *arg);
RC_API int    rc_gc_get_referents(void *o, rc_visit fn, void *arg);
RC_API void   rc_gc_set_debug(rc_heap *h, unsigned flags);
RC_API unsigned rc_gc_get_debug(const rc_heap *h);
/* gc.garbage: visits the objects the collector could not free (and, with
 * SAVEALL, everything it found dead).  The heap holds a reference to each. */
RC_API int    rc_gc_garbage(rc_heap *h, rc_visit fn, void *arg);
RC_API size_t rc_gc_garbage_count(const rc_heap *h);
/* Empties gc.garbage, dropping the heap's references (del gc.garbage[:]). */
RC_API void   rc_gc_garbage_clear(rc_heap *h);
RC_API int    rc_gc_callback_add(rc_heap *h, rc_gc_callback cb, void *ctx);
RC_API int    rc_gc_callback_remove(rc_heap *h, rc_gc_callback cb, void *ctx);

/* Weak references: a weakref is itself an object (refcount 1 when made).
 * When the target dies its weakrefs are cleared, then their callbacks run
 * (before anything in a dead cycle is cleared).  As in CPython, the
 * built-in int, float, bool, NoneType, str, bytes, tuple, list, dict,
 * range, iterator and weakref objects refuse them (RC_ETYPE, "cannot
 * create weak reference to 'list' object"); set, array, memoryview and
 * generator objects, records and user types accept them unless their type
 * has RC_TYPE_NO_WEAKREF. */
typedef void (*rc_weakref_cb)(void *weakref, void *ctx);
RC_API void   *rc_weakref_new(void *target, rc_weakref_cb cb, void *ctx);  /* new ref */
RC_API void   *rc_weakref_get(const void *weakref);   /* borrowed; NULL once the target died */
/* PyWeakref_GetRef: 1 and a new reference to the target in *out, or 0 and
 * NULL once the target died; RC_ETYPE when weakref is not one. */
RC_API int     rc_weakref_get_ref(const void *weakref, void **out);
RC_API size_t  rc_weakref_count(const void *target);

/* ------------------------------------------------------------------------
 * Memory: raw buffers and accounting (src/alloc/alloc.c)
 * ---------------------------------------------------------------------- */

RC_API void *rc_alloc_at(rc_heap *h, size_t n, const rc_site *site);
RC_API void *rc_realloc_at(rc_heap *h, void *p, size_t n, const rc_site *site);
RC_API void *rc_alloc(rc_heap *h, size_t n);            /* a raw block, not an object; 16-byte aligned; NULL on failure */
RC_API void *rc_realloc(rc_heap *h, void *p, size_t n); /* NULL p: alloc; on failure p is untouched */
RC_API void  rc_free(rc_heap *h, void *p);
#ifndef RC_NO_SITES
#define rc_alloc(h, n)      rc_alloc_at((h), (n), RC_SITE())
#define rc_realloc(h, p, n) rc_realloc_at((h), (p), (n), RC_SITE())
#endif

typedef struct rc_memory_info {
    size_t requested;      /* bytes requested by live allocations, headers included */
    size_t peak;           /* highest value of requested since creation or reset_peak */
    size_t os_bytes;       /* bytes held from the OS (arenas, those emptied and kept for reuse included,
                              + large blocks + kept pages of freed huge ones) */
    size_t arenas;         /* arenas held now */
    size_t live_objects;   /* objects alive */
    size_t live_blocks;    /* small blocks in use (objects + raw buffers) */
} rc_memory_info;

RC_API void   rc_heap_memory(const rc_heap *h, rc_memory_info *info);
RC_API void   rc_heap_reset_peak(rc_heap *h);
RC_API size_t rc_sizeof(const void *o);   /* bytes the object owns, header included */
RC_API void   rc_heap_print_stats(const rc_heap *h, FILE *out);

/* ------------------------------------------------------------------------
 * The allocator: fault injection, size classes, statistics (src/alloc/)
 * ---------------------------------------------------------------------- */

/* Fault injection (also rc_config.fail_alloc_at / fail_alloc_after).  Every
 * rc_new, rc_alloc and rc_realloc is one allocation attempt, counted from 1
 * since the heap was created; rc_heap_alloc_count is the attempts so far. */
RC_API uint64_t rc_heap_alloc_count(const rc_heap *h);
/* Attempt number nth fails with RC_ENOMEM (0: none); with after, every
 * attempt after it fails too.  Counting continues from the current count. */
RC_API void     rc_heap_set_fail_alloc(rc_heap *h, uint64_t nth, bool after);

/* Size classes: 16-byte steps up to 512 B, then 64-byte steps up to
 * RC_ALLOC_SMALL_MAX; bigger blocks come from malloc (docs/design-alloc.md).
 * rc_memory_info.requested and .peak count each live block at its class
 * size (large blocks at their size rounded up to 16), and max_bytes caps
 * that figure. */
#define RC_ALLOC_NCLASSES 40
#define RC_ALLOC_SMALL_MAX 1024

typedef struct rc_alloc_class {
    size_t block_size;
    size_t pools;            /* pools of this class holding at least one block */
    size_t blocks_used;
    size_t blocks_free;      /* free blocks in those pools, never-used ones included */
} rc_alloc_class;

/* What rc_heap_print_stats prints, as numbers (computed by walking the pools). */
typedef struct rc_alloc_stats {
    rc_alloc_class objects[RC_ALLOC_NCLASSES];   /* pools of objects */
    rc_alloc_class buffers[RC_ALLOC_NCLASSES];   /* pools of raw buffers */
    size_t arenas;           /* held now */
    size_t arenas_allocated; /* mapped since creation */
    size_t arenas_freed;     /* given back to the OS since creation */
    size_t arenas_highwater; /* most held at once */
    size_t pools_used, pools_free;      /* pools in held arenas */
    size_t bytes_used;       /* in blocks handed out */
    size_t bytes_free;       /* in free blocks of used pools */
    size_t bytes_pool_headers;         /* the descriptor page of each arena */
    size_t bytes_quantization;          /* pool tails too short for a block */
    size_t bytes_free_pools;            /* in pools holding no block */
    size_t large_objects, large_buffers, large_bytes;  /* malloc'd blocks, prefixes included */
    double fragmentation;    /* bytes_free / (bytes_used + bytes_free) */
} rc_alloc_stats;

RC_API void rc_heap_alloc_stats(const rc_heap *h, rc_alloc_stats *out);

/* Returns to the OS, now, the wholly free arenas beyond rc_config.arena_spare
 * that would otherwise be kept up to 100 ms for reuse, and the pages of freed
 * blocks of 2 MiB and more that would otherwise be kept up to 5 s for the
 * next big block (like malloc_trim); the bytes given back. */
RC_API size_t rc_heap_trim(rc_heap *h);

/* ------------------------------------------------------------------------
 * Built-in value types (src/types/, docs/types.md)
 * ---------------------------------------------------------------------- */

/* Python's values for C (src/types/, docs/types.md).  Reference rules are
 * CPython's: constructors return new references; setters take their own
 * reference to what they store (the caller keeps its reference); getters
 * return borrowed references.  A wrong type given to any function records
 * "expected X, got Y" in rc_last_error and returns an error code, NULL or 0;
 * it never crashes.  Every value's repr is Python's repr text. */

/* ---- singletons, numbers ---- */
RC_API void   *rc_none(rc_heap *h);               /* new ref; immortal; NULL only on OOM */
RC_API void   *rc_true(rc_heap *h);  /* new ref (immortal) */
RC_API void   *rc_false(rc_heap *h);  /* new ref (immortal) */
RC_API void   *rc_bool(rc_heap *h, bool v);  /* new ref (immortal) */
RC_API bool    rc_is_none(const void *o);
RC_API int     rc_truth(const void *o);           /* 1/0 as Python's bool(o); <0 on error */

RC_API void   *rc_int_from(rc_heap *h, int64_t v);          /* new ref; -5..256 cached and immortal: the same object each time */
RC_API int     rc_int_value(const void *o, int64_t *out);   /* ints and bools */
/* Arithmetic on int64; overflow is RC_ERANGE (NULL, error recorded). */
RC_API void   *rc_int_add(const void *a, const void *b);  /* new ref */
RC_API void   *rc_int_sub(const void *a, const void *b);  /* new ref */
RC_API void   *rc_int_mul(const void *a, const void *b);  /* new ref */
RC_API void   *rc_float_from(rc_heap *h, double v);  /* new ref */
RC_API int     rc_float_value(const void *o, double *out);  /* floats, ints and bools */

/* ---- str and bytes ---- */
/* UTF-8, validated, immutable; the hash is computed once and cached.
 * rc_str_new interns identifier-like strings ([A-Za-z0-9_], at most 64
 * bytes) automatically, as CPython interns such literals; strings built at
 * run time with rc_str_format are interned only by rc_str_intern. */
RC_API void   *rc_str_new(rc_heap *h, const char *utf8);  /* new ref */
RC_API void   *rc_str_new_len(rc_heap *h, const char *utf8, size_t nbytes);  /* new ref */
/* new ref: a str of printf-style text */
RC_API void   *rc_str_format(rc_heap *h, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
RC_API void   *rc_str_intern(rc_heap *h, const char *utf8);  /* new ref; the one interned str with this text */
RC_API void   *rc_str_intern_obj(void *str);                 /* new ref to the interned equal str */
RC_API bool    rc_str_is_interned(const void *str);
RC_API const char *rc_str_data(const void *str);             /* NUL-terminated; NULL if not a str */
RC_API size_t  rc_str_len(const void *str);                  /* bytes */
RC_API size_t  rc_str_nchars(const void *str);               /* code points (Python's len) */

RC_API void   *rc_bytes_new(rc_heap *h, const void *data, size_t n);  /* new ref */
RC_API const void *rc_bytes_data(const void *bytes);  /* borrowed: valid while bytes lives */
RC_API size_t  rc_bytes_len(const void *bytes);

/* ---- list and tuple ---- */
/* Indices of insert/pop follow Python: negative counts from the end. */
RC_API void   *rc_list_new(rc_heap *h, size_t capacity);     /* new ref; empty, room for capacity items */
RC_API int     rc_list_append(void *list, void *item);
RC_API int     rc_list_insert(void *list, ptrdiff_t i, void *item);
RC_API int     rc_list_set(void *list, size_t i, void *item);  /* RC_ERANGE out of range */
RC_API size_t  rc_list_len(const void *list);
RC_API void   *rc_list_get(const void *list, size_t i);      /* borrowed; NULL when out of range */
/* 1 and a new reference in *out, or RC_ERANGE (*out NULL): the form to use
 * on a list other threads change (docs/threads.md). */
RC_API int     rc_list_get_ref(const void *list, size_t i, void **out);
RC_API void   *rc_list_pop(void *list, ptrdiff_t i);         /* new ref to the removed item; -1 = last */
RC_API int     rc_list_clear(void *list);
RC_API int     rc_list_extend(void *list, void *iterable);
/* list.sort(): stable, by rc_less; on an error the list is left unchanged. */
RC_API int     rc_list_sort(void *list);
RC_API int     rc_list_reverse(void *list);
RC_API void   *rc_list_from_iter(rc_heap *h, void *iterable); /* new ref; list(iterable) */

/* A tuple is built once: rc_tuple_new(h, n) then rc_tuple_set on each empty
 * slot (setting a filled slot is RC_ESTATE).  A complete tuple that holds
 * only untracked values is untracked, as CPython does. */
RC_API void   *rc_tuple_new(rc_heap *h, size_t n);  /* new ref */
RC_API void   *rc_tuple_pack(rc_heap *h, size_t n, ...);     /* new ref; takes its own reference to each item */
RC_API void   *rc_tuple_from(rc_heap *h, size_t n, void *const *items);  /* new ref */
RC_API int     rc_tuple_set(void *tuple, size_t i, void *item);
RC_API void   *rc_tuple_get(const void *tuple, size_t i);    /* borrowed; NULL out of range */
RC_API size_t  rc_tuple_len(const void *tuple);

/* ---- dict and set ---- */
/* Insertion-ordered compact hash tables (CPython 3.6+ layout).  Keys compare
 * by value (1 == 1.0 == True as in Python); an unhashable key (list, dict,
 * set, record, ...) is RC_ETYPE. */
RC_API void   *rc_dict_new(rc_heap *h);  /* new ref */
RC_API int     rc_dict_set(void *dict, void *key, void *value);
RC_API void   *rc_dict_get(const void *dict, const void *key); /* borrowed; NULL if absent (no error recorded: a miss is cheap) or on error */
/* PyDict_GetItemRef: 1 and a new reference in *out when found, 0 and NULL
 * when absent, <0 (NULL) on error (an unhashable key is RC_ETYPE). */
RC_API int     rc_dict_get_ref(const void *dict, const void *key, void **out);
RC_API int     rc_dict_del(void *dict, const void *key);       /* RC_ENOENT if absent */
RC_API void   *rc_dict_pop(void *dict, const void *key);       /* new ref to the removed value; NULL + RC_ENOENT if absent */
RC_API int     rc_dict_contains(const void *dict, const void *key); /* 1/0, <0 on error */
RC_API size_t  rc_dict_len(const void *dict);
RC_API int     rc_dict_clear(void *dict);
/* PyDict_Next: start with *pos = 0; gives borrowed key and value; false at end. */
RC_API bool    rc_dict_next(const void *dict, size_t *pos, void **key, void **value);
RC_API void   *rc_dict_keys(const void *dict);                 /* new list */
RC_API void   *rc_dict_values(const void *dict);               /* new list */
RC_API void   *rc_dict_items(const void *dict);                /* new list of (key, value) tuples */
/* Shortcuts with a C-string key (the str is made only when storing). */
RC_API int     rc_dict_set_str(void *dict, const char *key, void *value);
RC_API void   *rc_dict_get_str(const void *dict, const char *key);   /* borrowed, as rc_dict_get */

/* Sets iterate in insertion order (CPython's order is the hash order). */
RC_API void   *rc_set_new(rc_heap *h);  /* new ref */
RC_API int     rc_set_add(void *set, void *key);
RC_API int     rc_set_discard(void *set, const void *key);   /* 0 whether present or not */
RC_API int     rc_set_contains(const void *set, const void *key);
RC_API size_t  rc_set_len(const void *set);
RC_API bool    rc_set_next(const void *set, size_t *pos, void **key);

/* ---- arrays, buffers and views ---- */
typedef enum rc_elem {
    RC_I8, RC_I16, RC_I32, RC_I64,
    RC_U8, RC_U16, RC_U32, RC_U64,
    RC_F32, RC_F64
} rc_elem;
RC_API size_t  rc_elem_size(rc_elem kind);

RC_API void   *rc_array_new(rc_heap *h, rc_elem kind, size_t n);  /* new ref; n zero elements */
RC_API void   *rc_array_data(void *array);  /* borrowed: valid until the array is resized */
RC_API size_t  rc_array_len(const void *array);
RC_API rc_elem rc_array_kind(const void *array);
/* Growing or shrinking an array with live views is RC_EBUSY (memoryview's
 * BufferError); a value that does not fit the element kind is RC_ERANGE. */
RC_API int     rc_array_append(void *array, const void *number);   /* an int or float object */
RC_API int     rc_array_append_int(void *array, int64_t v);
RC_API int     rc_array_append_float(void *array, double v);
RC_API int     rc_array_extend(void *array, void *iterable);
RC_API int     rc_array_resize(void *array, size_t n);
RC_API void   *rc_array_get(const void *array, size_t i);     /* new int/float object */

/* The buffer-exporter protocol: a type with RC_TYPE_BUFFER in its flags is
 * an rc_buffer_type (its rc_type first).  get_buffer describes the data and
 * counts one more export; release_buffer counts one less.  While exports
 * are live the exporter must not move or resize its data. */
typedef struct rc_buffer {
    void   *data;
    size_t  len;        /* elements */
    rc_elem kind;
    bool    readonly;
} rc_buffer;
typedef struct rc_buffer_type {
    rc_type type;
    int  (*get_buffer)(void *self, rc_buffer *out);
    void (*release_buffer)(void *self);
} rc_buffer_type;
#define RC_TYPE_BUFFER 0x100u

/* memoryview: a zero-copy window on an exporter (bytes, array, another view
 * or a user type); start/stop are elements and are clamped like a Python
 * slice (SIZE_MAX = to the end).  The view holds a reference to the exporter
 * and one export until rc_view_release or its death. */
RC_API void   *rc_view_new(void *exporter, size_t start, size_t stop);  /* new ref */
RC_API void   *rc_view_slice(void *view, size_t start, size_t stop);  /* new ref */
RC_API void   *rc_view_cast(void *view, rc_elem kind);     /* new ref; byte length must divide */
RC_API int     rc_view_release(void *view);                /* later use is RC_ESTATE */
RC_API void   *rc_view_data(const void *view);  /* borrowed: valid while the view is not released */
RC_API size_t  rc_view_len(const void *view);              /* elements */
RC_API size_t  rc_view_nbytes(const void *view);
RC_API rc_elem rc_view_kind(const void *view);
RC_API bool    rc_view_readonly(const void *view);
RC_API void   *rc_view_get(const void *view, size_t i);    /* new int/float object */
RC_API void   *rc_view_tobytes(const void *view);          /* new ref: a copy, as bytes */

/* ---- records: __slots__ or __dict__ ---- */
/* A record type has named fields.  RC_RECORD_SLOTS stores them in the
 * instance (a fixed array of references; unknown names are RC_ENOENT);
 * RC_RECORD_DICT gives each instance an attribute dict (made on first set)
 * that takes any name.  Record types live as long as their heap. */
typedef enum rc_record_layout { RC_RECORD_SLOTS, RC_RECORD_DICT } rc_record_layout;
typedef struct rc_record_type rc_record_type;
RC_API const rc_record_type *rc_record_type_new(rc_heap *h, const char *name, rc_record_layout layout,
                                                size_t nfields, const char *const *fields);
RC_API const rc_type *rc_record_rc_type(const rc_record_type *rt);  /* for rc_typeof comparisons */
RC_API void   *rc_record_new(const rc_record_type *rt);  /* new ref; fields unset */
RC_API int     rc_record_set(void *rec, const char *field, void *value);
RC_API void   *rc_record_get(const void *rec, const char *field);  /* borrowed; NULL + RC_ENOENT if unset */
RC_API int     rc_record_set_at(void *rec, size_t i, void *value); /* i-th declared field */
RC_API void   *rc_record_get_at(const void *rec, size_t i);   /* borrowed */
RC_API void   *rc_record_dict(const void *rec);          /* borrowed __dict__; NULL for slots */

/* ---- iteration, ranges, generators ---- */
RC_API void   *rc_range_new(rc_heap *h, int64_t start, int64_t stop, int64_t step); /* new ref; step 0: RC_EINVAL */
RC_API size_t  rc_range_len(const void *range);
/* iter(o): a new iterator over any container, str, bytes, array, view or
 * range (dicts give their keys); an iterator or generator gives itself. */
RC_API void   *rc_iter(void *iterable);  /* new ref */
RC_API void   *rc_dict_iter_items(void *dict);   /* new ref; yields (key, value) tuples */
RC_API void   *rc_dict_iter_values(void *dict);  /* new ref */
/* 1: *item is a new reference; 0: exhausted; <0: error (e.g. RC_ESTATE when
 * a dict or set changed size during iteration). */
RC_API int     rc_iter_next(void *iterator, void **item);

/* A generator produces its items lazily: next(h, state, &item) returns 1
 * with a new reference in *item, 0 when done, <0 on error.  The state is
 * copied into the generator object (plain bytes, at most 1 KiB). */
typedef int (*rc_gen_fn)(rc_heap *h, void *state, void **item);
RC_API void   *rc_gen_new(rc_heap *h, rc_gen_fn next, const void *state, size_t state_size);  /* new ref */
/* Pipeline stages: each is a generator holding a reference to its source. */
typedef void *(*rc_map_fn)(rc_heap *h, void *item, void *ctx);   /* new ref, NULL on error */
typedef int   (*rc_pred_fn)(const void *item, void *ctx);        /* 1 keep, 0 drop, <0 error */
RC_API void   *rc_gen_map(void *iterable, rc_map_fn fn, void *ctx);  /* new ref */
RC_API void   *rc_gen_filter(void *iterable, rc_pred_fn fn, void *ctx);  /* new ref */
RC_API void   *rc_gen_take(void *iterable, size_t n);  /* new ref */

/* ---- every value ---- */
RC_API void   *rc_repr(const void *o);                 /* new str with Python's repr text */
/* Writes repr(o) into buf (truncated, always NUL-terminated); returns the
 * full length or <0 on error. */
RC_API int     rc_repr_buf(const void *o, char *buf, size_t size);
RC_API int     rc_equal(const void *a, const void *b); /* 1 equal, 0 not, <0 error */
/* Python's a < b: 1/0, or RC_ETYPE between unordered types ("'<' not
 * supported between instances of 'str' and 'int'"). */
RC_API int     rc_less(const void *a, const void *b);
RC_API int     rc_hash(const void *o, int64_t *out);   /* RC_ETYPE when unhashable; user types: identity */
/* copy.copy: immutables return themselves.  Iterators, generators, views
 * and user types are RC_ENOTSUP (NULL), as copy raises TypeError. */
RC_API void   *rc_copy(void *o);  /* new ref */
RC_API void   *rc_deepcopy(void *o);                   /* new ref; copy.deepcopy: shared parts and cycles kept */
RC_API const char *rc_type_name(const void *o);
/* len(o): elements (code points for a str); RC_ETYPE when o has no len. */
RC_API ptrdiff_t rc_len(const void *o);
/* x in container: 1/0, <0 on error.  Substrings for str and bytes; other
 * iterables are iterated (which consumes an iterator or generator). */
RC_API int     rc_contains(void *container, const void *x);

/* ------------------------------------------------------------------------
 * The allocation tracer: tracemalloc (src/trace/, docs/tracer.md)
 * ---------------------------------------------------------------------- */

/* The allocation tracer: Python's tracemalloc for recycle heaps (src/trace/,
 * docs/tracer.md).  While tracing, every block the heap hands out (objects
 * and rc_alloc buffers) is recorded with its size and a traceback: the
 * rc_new / rc_alloc call site (file:line:function, from the macros above)
 * followed, when nframe > 1, by nframe - 1 native caller frames captured as
 * return addresses and symbolized only when a report is made: by function
 * name through dladdr(3), or by file and line once a symbolizer such as
 * librecycle-tools' rc_symbolize_dwarf is installed (docs/tracer.md).
 * Costs one pointer test per allocation while off. */

/* Starts tracing with tracebacks of at most nframe frames (1..128).
 * Already tracing: changes the limit for new traces.  RC_EINVAL, RC_ENOMEM. */
RC_API int    rc_trace_start(rc_heap *h, int nframe);
/* Stops tracing and forgets every trace (tracemalloc.stop). */
RC_API void   rc_trace_stop(rc_heap *h);
RC_API bool   rc_trace_is_tracing(const rc_heap *h);
/* Forgets every trace and resets traced memory and its peak to 0. */
RC_API void   rc_trace_clear_traces(rc_heap *h);
RC_API int    rc_trace_get_traceback_limit(const rc_heap *h);
/* Bytes in traced blocks now and at the peak (either pointer may be NULL). */
RC_API void   rc_trace_get_traced_memory(const rc_heap *h, size_t *current, size_t *peak);
/* Sets the peak to the current size (tracemalloc.reset_peak). */
RC_API void   rc_trace_reset_peak(rc_heap *h);
/* Bytes the tracer itself uses to store traces (tracemalloc.get_tracemalloc_memory). */
RC_API size_t rc_trace_get_tracemalloc_memory(const rc_heap *h);
/* Number of blocks traced now. */
RC_API size_t rc_trace_count(const rc_heap *h);

/* One frame of a traceback.  Without a line table lineno is 0 and filename
 * is "module(function)" when the symbol is known, else the module's path,
 * else "<unknown>". */
typedef struct rc_frame {
    const char *filename;
    int         lineno;
    const char *func;       /* may be NULL */
} rc_frame;

/* Frames most recent first: frames[0] is the allocation site.  (ISO C++
 * has no flexible array member; g++ and clang++ accept this one.) */
#if defined(__cplusplus) && defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#endif
typedef struct rc_traceback {
    size_t   nframe;
    rc_frame frames[];
} rc_traceback;
#if defined(__cplusplus) && defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/* Where obj (an object body or an rc_alloc buffer) was allocated; NULL when
 * not traced.  Free with free(). */
RC_API rc_traceback *rc_trace_get_object_traceback(rc_heap *h, const void *obj);

/* Snapshots: the live traces at one moment (tracemalloc.Snapshot). */
typedef struct rc_snapshot rc_snapshot;

/* NULL when not tracing (RC_ESTATE) or out of memory; see rc_last_error. */
RC_API rc_snapshot *rc_trace_take_snapshot(rc_heap *h);
RC_API void   rc_snapshot_free(rc_snapshot *s);
RC_API int    rc_snapshot_traceback_limit(const rc_snapshot *s);
RC_API size_t rc_snapshot_count(const rc_snapshot *s);          /* traces */
RC_API size_t rc_snapshot_size(const rc_snapshot *s);           /* bytes in them */
/* Trace i (0 .. rc_snapshot_count - 1) of Snapshot.traces: its size,
 * domain and traceback (free() it); NULL when out of range or on OOM. */
RC_API rc_traceback *rc_snapshot_get_trace(rc_snapshot *s, size_t i, size_t *size, unsigned *domain);
/* Why some frames could not be named when the snapshot was symbolized (a
 * module rebuilt since it was traced: its build-id differs), or NULL. */
RC_API const char *rc_snapshot_symbol_warning(const rc_snapshot *s);
/* Traced memory of the process when the snapshot was taken. */
RC_API void   rc_snapshot_traced_memory(const rc_snapshot *s, size_t *current, size_t *peak);

/* Snapshot calls have no heap: they leave their errors as the calling
 * thread's, rc_last_error(NULL). */
/* Writes s to path (format: docs/file-formats.md).  0, RC_EIO or RC_ENOMEM
 * with a message naming the file. */
RC_API int    rc_snapshot_dump(rc_snapshot *s, const char *path);
/* Reads a snapshot written by rc_snapshot_dump or by `recycle trace`.
 * A truncated, corrupt or future-version file gives RC_EFORMAT with a
 * message naming the file and the byte offset; RC_ENOENT, RC_EIO, RC_ENOMEM. */
RC_API int    rc_snapshot_load(const char *path, rc_snapshot **out);

/* Symbolizers: how native frames (a module path and a file offset) get
 * names in reports.  The symbolizer calls put(ctx, i, &sym) for each
 * offsets[i] it can name (strings need to live only during that call) and
 * returns 0, or the first non-zero result of put, which it stops at (a
 * negative one, RC_ENOMEM, fails the report).  It may call put more
 * than once for one offset: the inlined calls there, innermost first, each
 * a frame of its own.  Without one installed, frames of modules loaded in this process are
 * named through dladdr(3) (exported functions, no line numbers). */
typedef struct rc_symbol {
    const char *func;       /* may be NULL */
    const char *file;       /* source file; NULL: unknown */
    int         line;       /* 0: unknown */
} rc_symbol;
typedef int (*rc_symbol_put)(void *ctx, size_t i, const rc_symbol *sym);
typedef int (*rc_symbolizer)(const char *module, const uint64_t *offsets, size_t n,
                             rc_symbol_put put, void *ctx);
/* Installs fn for every later report in the process (NULL: dladdr again).
 * Snapshots already symbolized keep their names. */
RC_API void rc_trace_set_symbolizer(rc_symbolizer fn);

/* Trace domains: 0 for heap blocks and malloc-family blocks, 1 for mmap
 * (whole-process mode). */
#define RC_TRACE_DOMAIN_HEAP 0u
#define RC_TRACE_DOMAIN_MMAP 1u

/* tracemalloc.Filter (filename_pattern != NULL) or tracemalloc.DomainFilter
 * (filename_pattern == NULL, has_domain true).  The pattern is fnmatch(3)
 * over the frame's file name; lineno 0 matches any line; all_frames looks at
 * every frame instead of the most recent; has_domain restricts the filter
 * to one domain (a zero-initialized filter matches any domain). */
typedef struct rc_trace_filter {
    bool        inclusive;
    const char *filename_pattern;
    int         lineno;
    bool        all_frames;
    bool        has_domain;
    unsigned    domain;
} rc_trace_filter;

/* A new snapshot with the traces that pass the filters (a trace must match
 * one inclusive filter, if any, and no exclusive one).  NULL on OOM. */
RC_API rc_snapshot *rc_snapshot_filter_traces(rc_snapshot *s, const rc_trace_filter *filters, size_t n);

typedef enum rc_trace_key {
    RC_TRACE_BY_FILENAME,
    RC_TRACE_BY_LINENO,
    RC_TRACE_BY_TRACEBACK,
} rc_trace_key;

/* One line of statistics (tracemalloc.Statistic / StatisticDiff). */
typedef struct rc_trace_stat {
    const rc_traceback *traceback;   /* the group's key: one frame unless BY_TRACEBACK */
    size_t  size;                    /* bytes (in the newer snapshot) */
    size_t  count;                   /* blocks */
    int64_t size_diff;               /* compare_to only */
    int64_t count_diff;
    /* The run's record, in snapshots of `recycle trace` (else 0): allocation
     * calls, temporary ones (freed as the thread's next allocation event
     * after an allocation of the same size and traceback, heaptrack's
     * rule), bytes allocated in all, and what was live at the traced
     * peak.  size and count are then what is live when written (at exit:
     * leaked). */
    size_t  calls, temporary, allocated;
    size_t  peak_size, peak_count;
} rc_trace_stat;

typedef struct rc_trace_stats {
    size_t        len;
    rc_trace_key  key;
    bool          is_diff;           /* made by compare_to */
    rc_trace_stat *items;            /* sorted as tracemalloc sorts them */
} rc_trace_stats;

/* Statistics grouped by key, largest first.  cumulative counts every frame
 * of each traceback (not with RC_TRACE_BY_TRACEBACK: RC_EINVAL).  NULL on
 * error (RC_EINVAL, RC_ENOMEM in rc_last_error(NULL)). */
RC_API rc_trace_stats *rc_snapshot_statistics(rc_snapshot *s, rc_trace_key key, bool cumulative);
/* Differences from old to s (tracemalloc's Snapshot.compare_to). */
RC_API rc_trace_stats *rc_snapshot_compare_to(rc_snapshot *s, rc_snapshot *old, rc_trace_key key, bool cumulative);
RC_API void   rc_trace_stats_free(rc_trace_stats *st);

/* Suppressions for the leak view, as LeakSanitizer's "leak:PATTERN": a
 * trace is suppressed when a frame's function, file or module contains a
 * match of one pattern (fnmatch wildcards).  A new snapshot without those
 * traces and sites (NULL on OOM, in rc_last_error(NULL)); *bytes and
 * *count get what was taken out. */
RC_API rc_snapshot *rc_snapshot_suppress(rc_snapshot *s, const char *const *patterns, size_t n, size_t *bytes,
                                         size_t *count);
/* Appends the patterns of a suppressions file ("leak:PATTERN" lines, "#"
 * comments, blank lines) to the malloc'd array *patterns of malloc'd
 * strings (n of them).  0, RC_ENOENT, RC_EIO, RC_ENOMEM or RC_EFORMAT,
 * with the file (and line) in rc_last_error(NULL). */
RC_API int    rc_trace_read_suppressions(const char *path, char ***patterns, size_t *n);
/* Known leaks of system libraries (the loader, locales, glib's types,
 * fontconfig), kept until exit on purpose. */
RC_API const char *const *rc_trace_default_suppressions(size_t *n);

/* Which traces statistics sum: those live when the snapshot was written;
 * those live when the traced total peaked (size and count are then the
 * peak's); or every traceback that allocated during the run, with the
 * run's record (calls, temporary, allocated, peak) beside the live set.
 * NULL on error (RC_EINVAL, RC_ENOMEM in rc_last_error(NULL)). */
typedef enum rc_trace_view { RC_TRACE_VIEW_LIVE, RC_TRACE_VIEW_PEAK, RC_TRACE_VIEW_SITES } rc_trace_view;
RC_API rc_trace_stats *rc_snapshot_statistics_view(rc_snapshot *s, rc_trace_view view, rc_trace_key key,
                                                   bool cumulative);
/* True when the snapshot holds the run's record (written by `recycle
 * trace`): the peak and sites views need it. */
RC_API bool   rc_snapshot_has_sites(const rc_snapshot *s);
/* heaptrack's orders, largest first: by allocation calls, temporary
 * allocations, bytes allocated, live at peak, leaked (live at exit). */
typedef enum rc_trace_order {
    RC_TRACE_ORDER_CALLS, RC_TRACE_ORDER_TEMPORARY, RC_TRACE_ORDER_ALLOCATED, RC_TRACE_ORDER_PEAK,
    RC_TRACE_ORDER_LEAKED,
} rc_trace_order;
RC_API void   rc_trace_stats_sort(rc_trace_stats *st, rc_trace_order order);
/* One site of the sites view: "file.c:42: calls=1200, temporary=1100,
 * allocated=1.2 MiB, peak=64 KiB (16 blocks), leaked=0 B (0 blocks)". */
RC_API int    rc_trace_site_format(const rc_trace_stats *st, size_t i, char *buf, size_t n);
/* Formats one line exactly as tracemalloc's Statistic.__str__ (or
 * StatisticDiff.__str__ for compare_to results), e.g.
 * "file.c:42: size=4855 KiB, count=39328, average=126 B".  Returns the
 * length snprintf would have written. */
RC_API int    rc_trace_stat_format(const rc_trace_stats *st, size_t i, char *buf, size_t n);
/* Prints the first limit lines (0: all), one per stat.  For BY_TRACEBACK
 * each is followed by its frames as tracemalloc's Traceback.format() does. */
RC_API void   rc_trace_stats_print(const rc_trace_stats *st, size_t limit, FILE *out);
/* tracemalloc's _format_size: "126 B", "4855 KiB", "+1.5 MiB". */
RC_API int    rc_trace_format_size(double size, bool sign, char *buf, size_t n);

/* ------------------------------------------------------------------------
 * Function brackets for the memory profiler (src/profile/, docs/profiler.md)
 * ---------------------------------------------------------------------- */

/* The memory profiler: memory_profiler's `mprof` for any program.
 * docs/profiler.md explains the pieces; docs/file-formats.md the .dat file.
 *
 * Function brackets (src/profile/profile.c).  Under `recycle run` (which sets
 * RECYCLE_PROFILE_FILE) each finished bracket appends one FUNC record to the
 * .dat file with a single write(2), so records survive a crash of the
 * program; a bracket still open when the program dies is dropped.  Outside
 * `recycle run` every call is one predictable branch.  Thread-safe: each
 * thread keeps its own bracket stack. */
RC_API void rc_profile_begin(const char *name);   /* name: static or outliving the bracket */
RC_API void rc_profile_end(void);                 /* closes the innermost open bracket */
RC_API bool rc_profile_enabled(void);             /* true under `recycle run` */
/* Brackets the rest of the enclosing scope, named after the function:
 *     void load(void) { RC_PROFILE_FUNC(); ... }                        */
RC_API void rc_profile_scope_end_(int *unused);
#define RC_PROFILE_FUNC() RC_PROFILE_SCOPE(__func__)
#define RC_PROFILE_SCOPE(name) \
    __attribute__((cleanup(rc_profile_scope_end_), unused)) int RC_PROFILE_CAT_(rc_pscope_, __LINE__) = \
        (rc_profile_begin(name), 0)
#define RC_PROFILE_CAT_(a, b)  RC_PROFILE_CAT2_(a, b)
#define RC_PROFILE_CAT2_(a, b) a##b
/* Programs built with -finstrument-functions and linked with
 * librecycle-instrument get a bracket per function call: its hooks call
 * these two.  RECYCLE_PROFILE_DEPTH (default 4) limits the nesting depth
 * recorded.  Names come from the executable's symbol table, so no
 * -rdynamic is needed. */
RC_API void rc_profile_enter_fn(void *fn);
RC_API void rc_profile_exit_fn(void);
#define RC_PROFILE_DEFAULT_DEPTH 4

/* ------------------------------------------------------------------------
 * Object graphs: objgraph and heap dumps (src/graph/, docs/graph.md)
 * ---------------------------------------------------------------------- */

/* objgraph for recycle heaps (src/graph/graph.c, src/graph/graph_dot.c, src/graph/heapdump.c;
 * docs/graph.md).  Every query runs over an rc_objgraph: a snapshot of a
 * heap's objects and references, taken from a live heap or loaded from a
 * heap dump, so the same code answers both.  The rc_graph_* functions take
 * a live heap or object, snapshot it, answer and drop the snapshot.
 *
 * Unlike gc.get_objects, a snapshot holds every live object, tracked or not
 * (recycle's allocator can walk them all); "tracked" is recorded per object.
 * An object's external count is its refcount minus the references found
 * inside the heap: references held by C variables, by gc.garbage or by
 * anything else outside the heap's objects. */

typedef struct rc_objgraph rc_objgraph;

/* One object of a snapshot.  obj is the live object for snapshots of a
 * live heap (valid while the object lives) and NULL for loaded dumps; addr
 * is its address when the snapshot was taken (what %p printed). */
typedef struct rc_objinfo {
    void       *obj;
    uint64_t    addr;
    const char *type;       /* type name; valid while the snapshot lives */
    size_t      size;       /* rc_sizeof at snapshot time */
    size_t      refcount;   /* RC_IMMORTAL_REFCNT for immortal objects */
    size_t      internal;   /* references from objects of the heap */
    size_t      external;   /* refcount - internal (0 for immortal objects) */
    bool        tracked;    /* tracked by the cycle collector */
    bool        immortal;
    bool        in_garbage; /* held by gc.garbage */
    bool        finalizer;  /* its type has a finalize */
} rc_objinfo;

typedef int  (*rc_objinfo_visit)(const rc_objinfo *o, void *arg);  /* non-zero stops */
typedef bool (*rc_objinfo_pred)(const rc_objinfo *o, void *ctx);

/* Per-type totals, most common first (ties by name). */
typedef struct rc_type_count {
    const char *name;
    size_t      count;
    size_t      bytes;      /* sum of rc_sizeof */
} rc_type_count;

/* A type whose count passed its previous peak (objgraph.growth). */
typedef struct rc_type_growth {
    const char *name;
    size_t      count;      /* count now */
    size_t      delta;      /* increase over the previous peak */
} rc_type_growth;

/* ---- snapshots and heap dumps ---- */

/* Snapshot of a live heap; NULL on failure (rc_last_error(h)), which
 * includes being asked from inside a death while deaths wait in the queue
 * (RC_ESTATE; see rc_gc_collect). */
RC_API rc_objgraph *rc_objgraph_new(rc_heap *h);
RC_API void         rc_objgraph_free(rc_objgraph *g);
/* Writes a heap dump (docs/file-formats.md): objects, type names, sizes,
 * edges, refcounts and external counts.  RC_EIO / RC_ENOMEM on failure. */
RC_API int rc_heap_dump(rc_heap *h, const char *path);
RC_API int rc_objgraph_save(const rc_objgraph *g, const char *path);
/* Loads a heap dump.  A missing file is RC_ENOENT; a truncated, corrupt or
 * future-version file is RC_EFORMAT with a message naming the file and
 * byte offset, left as the calling thread's last error (rc_last_error(NULL)). */
RC_API int rc_objgraph_load(const char *path, rc_objgraph **out);
/* The same from memory (fuzzers); name stands for the file in messages. */
RC_API int rc_objgraph_load_buffer(const void *data, size_t len, const char *name, rc_objgraph **out);

RC_API size_t rc_objgraph_count(const rc_objgraph *g);                  /* objects */
RC_API size_t rc_objgraph_edge_count(const rc_objgraph *g);
/* The object at addr; false when the snapshot has none there. */
RC_API bool   rc_objgraph_lookup(const rc_objgraph *g, uint64_t addr, rc_objinfo *out);
RC_API int    rc_objgraph_each(const rc_objgraph *g, rc_objinfo_visit fn, void *arg);
/* gc.get_referrers / gc.get_referents of the object at addr, once per
 * reference (an object holding it twice is visited twice).  The referrer
 * index is built on first use (O(heap)); each query after that costs only
 * the object's own references.  RC_ENOENT when addr is not in g. */
RC_API int    rc_objgraph_referrers(const rc_objgraph *g, uint64_t addr, rc_objinfo_visit fn, void *arg);
RC_API int    rc_objgraph_referents(const rc_objgraph *g, uint64_t addr, rc_objinfo_visit fn, void *arg);

/* ---- queries over a snapshot ---- */

/* Fills out[0..cap) with the most common types (objgraph.most_common_types,
 * typestats with cap = total); returns the number of types there are. */
RC_API size_t rc_objgraph_typestats(const rc_objgraph *g, rc_type_count *out, size_t cap);
RC_API size_t rc_objgraph_type_count(const rc_objgraph *g, const char *type);
RC_API int    rc_objgraph_by_type(const rc_objgraph *g, const char *type, rc_objinfo_visit fn, void *arg);
/* Tracked objects no object of the heap refers to (get_leaking_objects). */
RC_API int    rc_objgraph_leaking(const rc_objgraph *g, rc_objinfo_visit fn, void *arg);
/* Types of now whose count grew past their count in before (objgraph.growth
 * with before's counts as the peaks), largest delta first; returns how many
 * there are, fills up to limit.  Names point into now. */
RC_API size_t rc_objgraph_growth(const rc_objgraph *before, const rc_objgraph *now,
                                 rc_type_growth *out, size_t limit);
/* Chains, as malloc'd arrays of addresses the caller frees.
 * find_backref_chain: breadth-first over referrers from addr until pred
 * holds; *chain runs from the object found to addr.  find_ref_chain: over
 * referents; *chain runs from addr to the object found.  Neither found
 * within max_depth: RC_ENOENT and a chain of addr alone (as objgraph). */
RC_API int rc_objgraph_find_backref_chain(const rc_objgraph *g, uint64_t addr, rc_objinfo_pred pred,
                                          void *ctx, size_t max_depth, uint64_t **chain, size_t *len);
RC_API int rc_objgraph_find_ref_chain(const rc_objgraph *g, uint64_t addr, rc_objinfo_pred pred,
                                      void *ctx, size_t max_depth, uint64_t **chain, size_t *len);
/* The shortest chain from an object held from outside the heap (external
 * count > 0, or immortal) down to addr: (*chain)[0] is the holder,
 * (*chain)[*len-1] is addr.  RC_ENOENT (empty chain) when nothing outside
 * holds it: it is kept only by a cycle the collector will free.  RC_ENOENT
 * also when addr is not in the snapshot. */
RC_API int rc_objgraph_why_alive(const rc_objgraph *g, uint64_t addr, uint64_t **chain, size_t *len);
/* The last error of a snapshot call (Graphviz messages included). */
RC_API const char *rc_objgraph_last_error(const rc_objgraph *g);

/* ---- the same on a live heap ---- */

RC_API size_t rc_graph_count(rc_heap *h, const char *type);
/* Returns the number of types, fills out[0..cap) most common first. */
RC_API size_t rc_graph_typestats(rc_heap *h, rc_type_count *out, size_t cap);
/* objgraph.show_most_common_types: "name count" lines, names padded;
 * limit 0: every type (objgraph's limit=None), as for show_growth. */
RC_API int    rc_graph_show_most_common_types(rc_heap *h, size_t limit, FILE *out);
/* objgraph.growth / show_growth: runs a full collection, then reports the
 * types whose count passed the peak this heap last saw, and raises the
 * peaks.  Returns how many grew, or a negative RC_E* code. */
RC_API long   rc_graph_growth(rc_heap *h, rc_type_growth *out, size_t limit);
RC_API int    rc_graph_show_growth(rc_heap *h, size_t limit, FILE *out);
/* Remembers the objects alive now; new_since_mark visits those alive now
 * that were not (by address and type: an object freed and replaced by one
 * of the same type at the same address counts as old). */
RC_API int    rc_graph_mark(rc_heap *h);
RC_API int    rc_graph_new_since_mark(rc_heap *h, rc_visit fn, void *arg);
RC_API int    rc_graph_by_type(rc_heap *h, const char *type, rc_visit fn, void *arg);
/* objgraph.at: the live object whose body is at addr, else NULL. */
RC_API void  *rc_graph_at(rc_heap *h, uintptr_t addr);  /* borrowed */
RC_API int    rc_graph_leaking(rc_heap *h, rc_visit fn, void *arg);
/* As the rc_objgraph_ versions; *chain is a malloc'd array of borrowed objects. */
RC_API int    rc_graph_find_backref_chain(void *obj, rc_objinfo_pred pred, void *ctx,
                                          size_t max_depth, void ***chain, size_t *len);
RC_API int    rc_graph_find_ref_chain(void *obj, rc_objinfo_pred pred, void *ctx,
                                      size_t max_depth, void ***chain, size_t *len);
RC_API int    rc_graph_why_alive(void *obj, void ***chain, size_t *len);

/* ------------------------------------------------------------------------
 * Consistency checks and debug builds (docs/reliability.md)
 * ---------------------------------------------------------------------- */

/* The whole-heap consistency checker (docs/reliability.md), for tests and
 * for hunting corruption.  Validates every object header (type pointer,
 * flags, refcount > 0, generation word), the generation structures (young
 * vector slots match headers, gen0_start <= length, the gen-2 and permanent
 * counts equal what a walk finds, each tracked object in exactly one
 * generation), the allocator's own bookkeeping (pools, free lists, arena
 * lists, counters), the weakref table, that a type's traverse visits
 * exactly the words its ref_words declares, and that every reference found
 * inside the heap points at a live object of the heap and no refcount is
 * lower than the references found.  Returns 0, or RC_EINVAL with
 * rc_last_error naming the object and the violated invariant (RC_ESTATE
 * during a collection or a death, RC_ENOMEM when it cannot get the scratch
 * memory it needs).  O(n log n) in the number of objects; it never
 * allocates from the heap. */
RC_API int rc_heap_check(rc_heap *h);

/* The assertion level librecycle was built with (CMake -DRC_DEBUG=0/1/2,
 * `make DEBUG=1`).  At 1 and above a misuse aborts with one line on
 * stderr, "recycle: <check>: <type> object at <address>: <detail>", ending
 * with ", allocated at file:line (function)" when the heap traces the
 * object:  use of a freed object, double or excess decref, refcount
 * underflow, refcount lower than references found in the heap (at the
 * next collection), object of another heap (stored into a container),
 * dangling weakref (freed while weakly referenced); freed objects are
 * filled with 0xDB (and poisoned under AddressSanitizer).  At 2 also: not
 * an object (a pointer that is not the body of a live object of any heap,
 * found without touching it).  docs/reliability.md lists them all. */
RC_API int rc_debug_level(void);

#ifdef __cplusplus
}
#endif
#endif /* RECYCLE_H */
