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

/* ==== end section: allocator ==== */


/* ==== section: built-in types (issue 3) ==== */

/* ==== end section: built-in types ==== */


/* ==== section: tracer (issue 4) ==== */

/* ==== end section: tracer ==== */


/* ==== section: profiler (issue 5) ==== */

/* The memory profiler: memory_profiler's `mprof` for any program.
 * docs/profiler.md explains the pieces; docs/file-formats.md the .dat file.
 *
 * Function brackets (src/profile.c).  Under `recycle run` (which sets
 * RECYCLE_PROFILE_FILE) each finished bracket appends one FUNC record to the
 * .dat file with a single write(2), so records survive a crash of the
 * program; a bracket still open when the program dies is dropped.  Outside
 * `recycle run` every call is one predictable branch.  Thread-safe: each
 * thread keeps its own bracket stack. */
void rc_profile_begin(const char *name);   /* name: static or outliving the bracket */
void rc_profile_end(void);                 /* closes the innermost open bracket */
bool rc_profile_enabled(void);             /* true under `recycle run` */
/* Brackets the rest of the enclosing scope, named after the function:
 *     void load(void) { RC_PROFILE_FUNC(); ... }                        */
void rc_profile_scope_end_(int *unused);
#define RC_PROFILE_FUNC() RC_PROFILE_SCOPE(__func__)
#define RC_PROFILE_SCOPE(name) \
    __attribute__((cleanup(rc_profile_scope_end_))) int RC_PROFILE_CAT_(rc_pscope_, __LINE__) = \
        (rc_profile_begin(name), 0)
#define RC_PROFILE_CAT_(a, b)  RC_PROFILE_CAT2_(a, b)
#define RC_PROFILE_CAT2_(a, b) a##b
/* Programs built with -finstrument-functions get a bracket per function
 * call from hooks in librecycle; RECYCLE_PROFILE_DEPTH (default 4) limits
 * the nesting depth recorded.  Symbols come from the executable's symbol
 * table, so no -rdynamic is needed. */
#define RC_PROFILE_DEFAULT_DEPTH 4

/* A .dat file in memory (src/mprof.c).  Times are epoch seconds, memory MiB. */
typedef struct rc_mprof_sample { double t, mib; } rc_mprof_sample;
typedef struct rc_mprof_func {
    char  *name;
    double mem0, t0, mem1, t1;
    int    level;               /* nesting depth, 0 = outermost (as memory_profiler) */
} rc_mprof_func;
typedef struct rc_mprof_interval {  /* true maximum between two samples */
    double mib, t0, t1;
} rc_mprof_interval;
typedef struct rc_mprof_child { /* CHLD series of one child process */
    long             pid;
    rc_mprof_sample *samples;
    size_t           nsamples;
    rc_mprof_interval *peaks;
    size_t           npeaks;
} rc_mprof_child;
typedef struct rc_mprof {
    char            *path;      /* as loaded; NULL for a profile built in memory */
    char            *cmdline;   /* NULL when the file has no CMDLINE */
    rc_mprof_sample *mem;    size_t nmem;
    rc_mprof_func   *funcs;  size_t nfuncs;
    rc_mprof_interval *peaks;  size_t npeaks;
    rc_mprof_child  *children; size_t nchildren;
    bool             has_exit;  /* an EXIT record: how the program ended */
    bool             exit_signaled; /* killed by signal exit_code, else exit(exit_code) */
    int              exit_code;
    double           exit_t;
    size_t           bad_lines; /* malformed lines skipped while loading */
} rc_mprof;

/* Loads a .dat file written by mprof or recycle.  Malformed lines are
 * reported on diag as "file:line: reason" (when diag is not NULL) and
 * skipped.  RC_ENOENT: missing or unreadable; RC_EFORMAT: no MEM sample. */
int  rc_mprof_load(const char *path, FILE *diag, rc_mprof **out);
/* Writes p in the .dat format (mprof-compatible); RC_EIO on failure. */
int  rc_mprof_save(const rc_mprof *p, const char *path);
int  rc_mprof_write(const rc_mprof *p, FILE *out);
void rc_mprof_free(rc_mprof *p);
/* Appenders for building a profile in memory; 0 or RC_ENOMEM. */
int  rc_mprof_add_mem(rc_mprof *p, double t, double mib);
int  rc_mprof_add_func(rc_mprof *p, const char *name, double mem0, double t0,
                       double mem1, double t1, int level);
int  rc_mprof_add_peak(rc_mprof *p, double mib, double t0, double t1);
int  rc_mprof_add_child(rc_mprof *p, long pid, double t, double mib);
rc_mprof *rc_mprof_new(void);
/* The exact peak of the main series: the largest of MEM, FUNC and PEAK
 * values; *t (if not NULL) is when (the middle of a PEAK interval). */
double rc_mprof_peak(const rc_mprof *p, double *t);
double rc_mprof_child_peak(const rc_mprof_child *c);
/* Highest MiB of the main series inside [t0, t1]: samples in it and PEAK
 * records whose interval overlaps it; -INFINITY when there are none. */
double rc_mprof_max_between(const rc_mprof *p, double t0, double t1);
/* Highest MiB during the calls of one function (mprof peak --func);
 * NAN when the profile has no FUNC record of that name. */
double rc_mprof_func_peak(const rc_mprof *p, const char *name);
/* The per-function table of `recycle report`: calls, memory at entry and
 * exit, maximum inside, increment.  per_call: one row per call instead. */
int  rc_mprof_report(const rc_mprof *p, bool per_call, FILE *out);

/* mprofile_YYYYmmddHHMMSS.dat files in a directory (src/mprof_files.c). */
#define RC_MPROF_NAME_LEN 32
void rc_mprof_default_name(char buf[RC_MPROF_NAME_LEN]);   /* from local time now */
/* Sorted oldest first; free with rc_mprof_names_free.  0 or RC_ENOMEM/RC_EIO. */
int  rc_mprof_list(const char *dir, char ***names, size_t *n);
void rc_mprof_names_free(char **names, size_t n);
/* An argument of plot/peak/rm: an existing path, or an index into the
 * sorted list (0 oldest, -1 newest).  Returns a malloc'd path or NULL. */
char *rc_mprof_resolve(const char *dir, const char *arg);

/* The sampler (src/sampler.c): runs or attaches to a process and writes a
 * .dat file while it lives.  Between two samples it also records the true
 * maximum resident size (VmHWM, reset through /proc/PID/clear_refs) as a
 * PEAK line whenever it exceeds both samples. */
typedef struct rc_sampler_opts {
    double      interval;          /* seconds between samples; 0: 0.1 */
    bool        include_children;  /* -C: MEM is the sum over the process tree */
    bool        multiprocess;      /* -M: a CHLD series per descendant */
    double      timeout;           /* seconds; 0: none (attach: 3600) */
    const char *output;            /* the .dat file (appended to, as mprof) */
    FILE       *diag;              /* messages; NULL: silent */
} rc_sampler_opts;
typedef struct rc_sampler_result {
    long   pid;            /* the profiled process */
    bool   started;        /* false: exec failed, see exec_errno */
    int    exec_errno;
    bool   exited;         /* false: still running at the timeout */
    int    status;         /* wait status when exited (run only) */
    size_t samples;
    double peak_mib;       /* exact peak of the main series */
} rc_sampler_result;
/* Starts argv[0] (searched in PATH) with RECYCLE_PROFILE_FILE set and
 * samples it until it exits.  RC_EIO: output not writable; RC_ENOENT:
 * could not start (res->exec_errno says why). */
int rc_sampler_run(const rc_sampler_opts *o, char *const argv[], rc_sampler_result *res);
/* Samples an existing process until it exits or the timeout passes. */
int rc_sampler_attach(const rc_sampler_opts *o, long pid, rc_sampler_result *res);
/* A pid given as digits, else the first process whose name (comm)
 * contains name_or_pid, as mprof attach; -1 when none. */
long rc_sampler_find_pid(const char *name_or_pid);
/* The shell-like command line mprof writes after CMDLINE; malloc'd. */
char *rc_sampler_cmdline(char *const argv[]);

/* Charts (src/plot.c) through PLplot's cairo driver. */
typedef struct rc_plot_opts {
    const char *output;        /* .png, .svg or .pdf */
    const char *title;         /* NULL: the command line of a single file */
    double window[4];          /* x0,x1 (s), y0,y1 (MiB); NaN: automatic */
    bool   flame;              /* --flame: brackets as a flame graph */
    bool   slope;              /* --slope: a trend line and its slope */
    bool   no_brackets;        /* -n: no function brackets */
    int    width, height;      /* pixels (PNG); 0: 1260 x 540, like mprof */
} rc_plot_opts;
/* Where the plot area ended up, for tests and callers that annotate. */
typedef struct rc_plot_frame {
    double x0, x1, y0, y1;       /* world coordinates of the plot area */
    double px0, px1, py0, py1;   /* its pixel box (py0 is the top row) */
    int    width, height;
} rc_plot_frame;
void rc_plot_opts_default(rc_plot_opts *o);
/* Draws one or more profiles (several: overlaid with a legend, no
 * brackets, as mprof).  RC_EINVAL: unknown output extension. */
int rc_plot(const rc_mprof *const *profiles, size_t n, const rc_plot_opts *o,
            rc_plot_frame *frame, FILE *diag);

/* ==== end section: profiler ==== */


/* ==== section: object graph (issue 6) ==== */

/* ==== end section: object graph ==== */


/* ==== section: reliability (issue 8) ==== */

/* ==== end section: reliability ==== */

#ifdef __cplusplus
}
#endif
#endif /* RECYCLE_H */
