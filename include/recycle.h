/* recycle — reference counting and a generational cycle collector for C,
 * with CPython's gc control surface and the memory tools Python users know.
 *
 * This is the one public header. Every exported name starts rc_ or RC_.
 * Semantics follow CPython 3.12's gc module unless a note here says otherwise;
 * the design notes are docs/design-gc.md and docs/design-alloc.md.
 *
 * Conventions
 *   - Fallible functions return 0 or a negative error code (RC_ENOMEM, ...);
 *     rc_strerror() explains a code.  Functions returning an object return
 *     NULL on failure and leave the reason in rc_last_error(h).
 *   - Functions that return an object give the caller a new reference unless
 *     documented "borrowed".  Setters take a new reference to what they store.
 *   - Nothing prints unless asked to.
 *   - A heap is single-threaded: one thread at a time per heap.
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
const char *rc_strerror(int code);

/* ------------------------------------------------------------------------
 * Types and heaps
 * ---------------------------------------------------------------------- */

typedef struct rc_heap rc_heap;

/* Callback for visiting objects; return non-zero to stop the walk, and the
 * walking function returns that value. */
typedef int (*rc_visit)(void *obj, void *arg);

/* The description of a kind of object.  Instances must outlive every object
 * of the type (normally they are static const).  The struct is 16-byte
 * aligned: the runtime keeps per-object flags in the low bits of the type
 * pointer stored in each header (docs/design-gc.md). */
typedef struct rc_type {
    _Alignas(16) const char *name; /* shown by stats, tracer, graph tools */
    size_t size;                   /* body size in bytes; 0 = variable, see rc_new_var */
    /* Call visit(child, arg) for each object this one references; return
     * the first non-zero result of visit, else 0.  NULL: never tracked. */
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
} rc_type;

/* rc_type.flags */
#define RC_TYPE_NO_WEAKREF 0x1u    /* weak references to instances are refused */

/* Heap configuration: one table of options, each with an environment
 * override read by rc_config_default (mimalloc's style).  A malformed
 * environment value is reported on stderr naming the variable and ignored. */
typedef struct rc_config {
    size_t   gc_threshold[3]; /* RECYCLE_GC_THRESHOLD=700,10,10 */
    bool     gc_enabled;      /* RECYCLE_GC=0 starts disabled */
    unsigned gc_debug;        /* RECYCLE_GC_DEBUG=1 (RC_GC_DEBUG_* flags) */
    FILE    *gc_debug_out;    /* where DEBUG lines go; NULL = stderr */
    size_t   arena_spare;     /* RECYCLE_ARENA_SPARE=1: empty arenas kept */
    size_t   max_bytes;       /* RECYCLE_MAX_BYTES=0: cap on bytes requested (0 = none) */
    uint64_t fail_alloc_at;   /* RECYCLE_FAIL_ALLOC_AT: Nth allocation fails (1-based; 0 = never) */
    bool     fail_alloc_after;/* RECYCLE_FAIL_ALLOC_AFTER=1: and every one after it */
    bool     leak_report;     /* RECYCLE_LEAK_REPORT=1: rc_heap_free lists live objects */
    FILE    *leak_out;        /* where the leak report goes; NULL = stderr */
} rc_config;

/* Fills *cfg with the defaults, then applies RECYCLE_* environment overrides. */
void rc_config_default(rc_config *cfg);

rc_heap *rc_heap_new(const rc_config *cfg);   /* NULL cfg: rc_config_default() */
void     rc_heap_free(rc_heap *h);            /* frees everything; leak report if asked */
/* The error left by the last failing call on this heap: a message naming
 * what was wrong (for type errors, the expected and actual type names). */
const char *rc_last_error(const rc_heap *h);
int         rc_last_error_code(const rc_heap *h);

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

void   *rc_new(rc_heap *h, const rc_type *t);  /* refcount 1, body zero-filled; NULL on OOM */
void   *rc_new_var(rc_heap *h, const rc_type *t, size_t body_size);
void   *rc_new_at(rc_heap *h, const rc_type *t, size_t body_size, const rc_site *site);
void    rc_incref(void *o);
void    rc_decref(void *o);                    /* 0 → drop children, release, free, at once */
size_t  rc_refcount(const void *o);            /* the true count (no +1 like sys.getrefcount) */
const rc_type *rc_typeof(const void *o);
rc_heap *rc_heap_of(const void *o);
/* The object never dies and its count never changes (CPython 3.12's
 * immortal objects); rc_refcount reports RC_IMMORTAL_REFCNT. */
void    rc_immortalize(void *o);
bool    rc_is_immortal(const void *o);
#define RC_IMMORTAL_REFCNT ((size_t)UINT32_MAX)
/* rc_decref that also NULLs the variable, like Py_CLEAR. */
#define RC_CLEAR(p) do { void *rc_tmp_ = (void *)(p); if (rc_tmp_) { (p) = NULL; rc_decref(rc_tmp_); } } while (0)
/* Returns its argument with one more reference (NULL passes through). */
void   *rc_newref(void *o);
/* True when p points at the body of a live object of heap h. */
bool    rc_is_object(rc_heap *h, const void *p);

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
} rc_gc_stats;

typedef struct rc_gc_info {
    int    generation;
    size_t collected;
    size_t uncollectable;
} rc_gc_info;

/* phase is "start" or "stop"; at "start" collected/uncollectable are 0. */
typedef void (*rc_gc_callback)(const char *phase, const rc_gc_info *info, void *ctx);

void   rc_gc_enable(rc_heap *h);
void   rc_gc_disable(rc_heap *h);
bool   rc_gc_isenabled(const rc_heap *h);
/* Collects generation 0..2 (and every younger one); returns collected +
 * uncollectable.  Returns 0 when called during a collection (from a
 * finalizer or a callback).  An out-of-range generation is clamped to 2. */
size_t rc_gc_collect(rc_heap *h, int generation);
void   rc_gc_get_count(const rc_heap *h, size_t count[3]);
void   rc_gc_get_threshold(const rc_heap *h, size_t threshold[3]);
void   rc_gc_set_threshold(rc_heap *h, size_t t0, size_t t1, size_t t2);  /* t0 = 0 disables */
rc_gc_stats rc_gc_get_stats(const rc_heap *h, int generation);
bool   rc_gc_is_tracked(const void *o);
bool   rc_gc_is_finalized(const void *o);
void   rc_gc_track(void *o);
void   rc_gc_untrack(void *o);
void   rc_gc_freeze(rc_heap *h);
void   rc_gc_unfreeze(rc_heap *h);
size_t rc_gc_get_freeze_count(const rc_heap *h);
/* Visits tracked objects of one generation (0..2) or all (-1). */
int    rc_gc_get_objects(rc_heap *h, int generation, rc_visit fn, void *arg);
int    rc_gc_get_referrers(rc_heap *h, const void *target, rc_visit fn, void *arg);
int    rc_gc_get_referents(void *o, rc_visit fn, void *arg);
void   rc_gc_set_debug(rc_heap *h, unsigned flags);
unsigned rc_gc_get_debug(const rc_heap *h);
/* gc.garbage: visits the objects the collector could not free (and, with
 * SAVEALL, everything it found dead).  The heap holds a reference to each. */
int    rc_gc_garbage(rc_heap *h, rc_visit fn, void *arg);
size_t rc_gc_garbage_count(const rc_heap *h);
/* Empties gc.garbage, dropping the heap's references (del gc.garbage[:]). */
void   rc_gc_garbage_clear(rc_heap *h);
int    rc_gc_callback_add(rc_heap *h, rc_gc_callback cb, void *ctx);
int    rc_gc_callback_remove(rc_heap *h, rc_gc_callback cb, void *ctx);

/* Weak references: a weakref is itself an object (refcount 1 when made).
 * When the target dies its weakrefs are cleared, then their callbacks run
 * (before anything in a dead cycle is cleared). */
typedef void (*rc_weakref_cb)(void *weakref, void *ctx);
void   *rc_weakref_new(void *target, rc_weakref_cb cb, void *ctx);
void   *rc_weakref_get(const void *weakref);   /* borrowed; NULL once the target died */
size_t  rc_weakref_count(const void *target);

/* ------------------------------------------------------------------------
 * Memory: raw buffers and accounting (src/alloc.c)
 * ---------------------------------------------------------------------- */

void *rc_alloc_at(rc_heap *h, size_t n, const rc_site *site);
void *rc_realloc_at(rc_heap *h, void *p, size_t n, const rc_site *site);
void *rc_alloc(rc_heap *h, size_t n);            /* 16-byte aligned; NULL on failure */
void *rc_realloc(rc_heap *h, void *p, size_t n); /* NULL p: alloc; on failure p is untouched */
void  rc_free(rc_heap *h, void *p);
#ifndef RC_NO_SITES
#define rc_alloc(h, n)      rc_alloc_at((h), (n), RC_SITE())
#define rc_realloc(h, p, n) rc_realloc_at((h), (p), (n), RC_SITE())
#endif

typedef struct rc_memory_info {
    size_t requested;      /* bytes requested by live allocations, headers included */
    size_t peak;           /* highest value of requested since creation or reset_peak */
    size_t os_bytes;       /* bytes held from the OS (arenas + large blocks) */
    size_t arenas;         /* arenas held now */
    size_t live_objects;   /* objects alive */
    size_t live_blocks;    /* small blocks in use (objects + raw buffers) */
} rc_memory_info;

void   rc_heap_memory(const rc_heap *h, rc_memory_info *info);
void   rc_heap_reset_peak(rc_heap *h);
size_t rc_sizeof(const void *o);   /* bytes the object owns, header included */
void   rc_heap_print_stats(const rc_heap *h, FILE *out);

/* ==== section: allocator (issue 2) ==== */

/* Fault injection (also rc_config.fail_alloc_at / fail_alloc_after).  Every
 * rc_new, rc_alloc and rc_realloc is one allocation attempt, counted from 1
 * since the heap was created; rc_heap_alloc_count is the attempts so far. */
uint64_t rc_heap_alloc_count(const rc_heap *h);
/* Attempt number nth fails with RC_ENOMEM (0: none); with after, every
 * attempt after it fails too.  Counting continues from the current count. */
void     rc_heap_set_fail_alloc(rc_heap *h, uint64_t nth, bool after);

/* Size classes: 16-byte steps up to 512 B, then 64-byte steps up to
 * RC_ALLOC_SMALL_MAX; bigger blocks come from malloc (docs/design-alloc.md). */
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
    size_t bytes_pool_headers;
    size_t bytes_quantization;          /* pool tails too short for a block */
    size_t bytes_free_pools;            /* in pools holding no block */
    size_t large_objects, large_buffers, large_bytes;  /* malloc'd blocks, prefixes included */
    double fragmentation;    /* bytes_free / (bytes_used + bytes_free) */
} rc_alloc_stats;

void rc_heap_alloc_stats(const rc_heap *h, rc_alloc_stats *out);

/* ==== end section: allocator ==== */


/* ==== section: built-in types (issue 3) ==== */

/* ==== end section: built-in types ==== */


/* ==== section: tracer (issue 4) ==== */

/* ==== end section: tracer ==== */


/* ==== section: profiler (issue 5) ==== */

/* ==== end section: profiler ==== */


/* ==== section: object graph (issue 6) ==== */

/* objgraph for recycle heaps (src/graph.c, src/graph_dot.c, src/heapdump.c;
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

/* Options of show_refs / show_backrefs / show_chain, as objgraph's. */
typedef struct rc_graph_opts {
    size_t max_depth;               /* 3 */
    size_t too_many;                /* 10: neighbours drawn per object; the rest become one "N more" node */
    const void *const *extra_ignore;/* objects (addresses, for dumps) never drawn */
    size_t n_ignore;
    rc_objinfo_pred filter;         /* NULL: all; false: the object is not drawn */
    rc_objinfo_pred highlight;      /* true: drawn in blue */
    void  *ctx;                     /* passed to filter, highlight and extra_info */
    bool   refcounts;               /* label shows "[refcount, ext N]" */
    bool   shortnames;              /* true: type name only; false: also the address */
    /* Writes an extra label line for o into buf (size n). */
    void (*extra_info)(const rc_objinfo *o, void *ctx, char *buf, size_t n);
} rc_graph_opts;

void rc_graph_opts_default(rc_graph_opts *o);

/* ---- snapshots and heap dumps ---- */

/* Snapshot of a live heap; NULL on failure (rc_last_error(h)). */
rc_objgraph *rc_objgraph_new(rc_heap *h);
void         rc_objgraph_free(rc_objgraph *g);
/* Writes a heap dump (docs/file-formats.md): objects, type names, sizes,
 * edges, refcounts and external counts.  RC_EIO / RC_ENOMEM on failure. */
int rc_heap_dump(rc_heap *h, const char *path);
int rc_objgraph_save(const rc_objgraph *g, const char *path);
/* Loads a heap dump.  A missing file is RC_ENOENT; a truncated, corrupt or
 * future-version file is RC_EFORMAT with a message in err naming the file
 * and byte offset.  err may be NULL. */
int rc_objgraph_load(const char *path, rc_objgraph **out, char *err, size_t errlen);

size_t rc_objgraph_count(const rc_objgraph *g);                  /* objects */
size_t rc_objgraph_edge_count(const rc_objgraph *g);
/* The object at addr; false when the snapshot has none there. */
bool   rc_objgraph_lookup(const rc_objgraph *g, uint64_t addr, rc_objinfo *out);
int    rc_objgraph_each(const rc_objgraph *g, rc_objinfo_visit fn, void *arg);
/* gc.get_referrers / gc.get_referents of the object at addr, once per
 * reference (an object holding it twice is visited twice).  The referrer
 * index is built on first use (O(heap)); each query after that costs only
 * the object's own references.  RC_ENOENT when addr is not in g. */
int    rc_objgraph_referrers(const rc_objgraph *g, uint64_t addr, rc_objinfo_visit fn, void *arg);
int    rc_objgraph_referents(const rc_objgraph *g, uint64_t addr, rc_objinfo_visit fn, void *arg);

/* ---- queries over a snapshot ---- */

/* Fills out[0..cap) with the most common types (objgraph.most_common_types,
 * typestats with cap = total); returns the number of types there are. */
size_t rc_objgraph_typestats(const rc_objgraph *g, rc_type_count *out, size_t cap);
size_t rc_objgraph_type_count(const rc_objgraph *g, const char *type);
int    rc_objgraph_by_type(const rc_objgraph *g, const char *type, rc_objinfo_visit fn, void *arg);
/* Tracked objects no object of the heap refers to (get_leaking_objects). */
int    rc_objgraph_leaking(const rc_objgraph *g, rc_objinfo_visit fn, void *arg);
/* Types of now whose count grew past their count in before (objgraph.growth
 * with before's counts as the peaks), largest delta first; returns how many
 * there are, fills up to limit.  Names point into now. */
size_t rc_objgraph_growth(const rc_objgraph *before, const rc_objgraph *now,
                          rc_type_growth *out, size_t limit);
/* Chains, as malloc'd arrays of addresses the caller frees.
 * find_backref_chain: breadth-first over referrers from addr until pred
 * holds; *chain runs from the object found to addr.  find_ref_chain: over
 * referents; *chain runs from addr to the object found.  Neither found
 * within max_depth: RC_ENOENT and a chain of addr alone (as objgraph). */
int rc_objgraph_find_backref_chain(const rc_objgraph *g, uint64_t addr, rc_objinfo_pred pred,
                                   void *ctx, size_t max_depth, uint64_t **chain, size_t *len);
int rc_objgraph_find_ref_chain(const rc_objgraph *g, uint64_t addr, rc_objinfo_pred pred,
                               void *ctx, size_t max_depth, uint64_t **chain, size_t *len);
/* The shortest chain from an object held from outside the heap (external
 * count > 0, or immortal) down to addr: (*chain)[0] is the holder,
 * (*chain)[*len-1] is addr.  RC_ENOENT (empty chain) when nothing outside
 * holds it: it is kept only by a cycle the collector will free.  RC_ENOENT
 * also when addr is not in the snapshot. */
int rc_objgraph_why_alive(const rc_objgraph *g, uint64_t addr, uint64_t **chain, size_t *len);
/* Graphs as objgraph draws them, written to path: .dot writes DOT ("-":
 * DOT on stdout); .png, .svg and .pdf are rendered in-process by Graphviz
 * (no dot program needed).  opts NULL: defaults.  RC_EINVAL for an unknown extension or
 * an address not in the snapshot. */
int rc_objgraph_show_refs(const rc_objgraph *g, const uint64_t *addrs, size_t n,
                          const rc_graph_opts *opts, const char *path);
int rc_objgraph_show_backrefs(const rc_objgraph *g, const uint64_t *addrs, size_t n,
                              const rc_graph_opts *opts, const char *path);
/* The objects of a chain and the references between them (show_chain with
 * backrefs=True). */
int rc_objgraph_show_chain(const rc_objgraph *g, const uint64_t *chain, size_t len,
                           const rc_graph_opts *opts, const char *path);
/* The last error of a snapshot call (Graphviz messages included). */
const char *rc_objgraph_last_error(const rc_objgraph *g);

/* ---- the same on a live heap ---- */

size_t rc_graph_count(rc_heap *h, const char *type);
/* Returns the number of types, fills out[0..cap) most common first. */
size_t rc_graph_typestats(rc_heap *h, rc_type_count *out, size_t cap);
/* objgraph.show_most_common_types: "name count" lines, names padded. */
int    rc_graph_show_most_common_types(rc_heap *h, size_t limit, FILE *out);
/* objgraph.growth / show_growth: runs a full collection, then reports the
 * types whose count passed the peak this heap last saw, and raises the
 * peaks.  Returns how many grew (-errno on failure). */
long   rc_graph_growth(rc_heap *h, rc_type_growth *out, size_t limit);
int    rc_graph_show_growth(rc_heap *h, size_t limit, FILE *out);
/* Remembers the objects alive now; new_since_mark visits those alive now
 * that were not (by address and type: an object freed and replaced by one
 * of the same type at the same address counts as old). */
int    rc_graph_mark(rc_heap *h);
int    rc_graph_new_since_mark(rc_heap *h, rc_visit fn, void *arg);
int    rc_graph_by_type(rc_heap *h, const char *type, rc_visit fn, void *arg);
/* objgraph.at: the live object whose body is at addr, else NULL. */
void  *rc_graph_at(rc_heap *h, uintptr_t addr);
int    rc_graph_leaking(rc_heap *h, rc_visit fn, void *arg);
/* As the rc_objgraph_ versions; *chain is a malloc'd array of objects. */
int    rc_graph_find_backref_chain(void *obj, rc_objinfo_pred pred, void *ctx,
                                   size_t max_depth, void ***chain, size_t *len);
int    rc_graph_find_ref_chain(void *obj, rc_objinfo_pred pred, void *ctx,
                               size_t max_depth, void ***chain, size_t *len);
int    rc_graph_why_alive(void *obj, void ***chain, size_t *len);
int    rc_graph_show_refs(void *const *objs, size_t n, const rc_graph_opts *opts, const char *path);
int    rc_graph_show_backrefs(void *const *objs, size_t n, const rc_graph_opts *opts, const char *path);
int    rc_graph_show_chain(void *const *chain, size_t len, const rc_graph_opts *opts, const char *path);

/* ==== end section: object graph ==== */


/* ==== section: reliability (issue 8) ==== */

/* ==== end section: reliability ==== */

#ifdef __cplusplus
}
#endif
#endif /* RECYCLE_H */
