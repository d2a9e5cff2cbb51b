/* The whole-process tracer: librecycle-trace.so, loaded with LD_PRELOAD by
 * `recycle trace` into a program that knows nothing of recycle.
 *
 * Rules every file here keeps:
 *   - Reentrancy: the thread-local `rc_pl_guard` is raised around all tracer
 *     work; an interposed function called while it is raised (by the real
 *     allocator, libunwind, the tracer itself) passes straight through
 *     untraced.  The tracer's own memory comes from mmap (rc__tmem), never
 *     from malloc.
 *   - One lock (rc_pl_lock/unlock) guards the tables; stacks are captured
 *     before taking it.  A block leaves the table before the real free, so
 *     an address reused by another thread is never removed by mistake.
 *   - Signals (preload_dump.c): no handler takes the lock while its thread
 *     is busy in the tracer; sigaction and signal are interposed for the
 *     fatal signals so the program's own handlers wait the same way.
 *   - Snapshots are written under the lock through trace_file.c (write(2)
 *     only) to path.tmp and renamed: a reader never sees a partial file. */
#ifndef RC_PRELOAD_H
#define RC_PRELOAD_H

#include "../trace_int.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define RC_PL_TLS __attribute__((tls_model("initial-exec")))
#define EXPORT __attribute__((visibility("default")))   /* an interposed libc function */
extern __thread int rc_pl_guard RC_PL_TLS;

/* The real functions, from dlsym(RTLD_NEXT). */
typedef struct rc_pl_real {
    void *(*malloc)(size_t);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void *(*reallocarray)(void *, size_t, size_t);
    void  (*free)(void *);
    int   (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    char *(*strdup)(const char *);
    char *(*strndup)(const char *, size_t);
    void *(*mmap)(void *, size_t, int, int, int, off_t);
    int   (*munmap)(void *, size_t);
    void  (*exit_)(int);
} rc_pl_real;

extern rc_pl_real rc_pl_real_fn;
/* True once the real functions are known; while resolving, allocations are
 * served from a static bootstrap buffer (dlsym itself allocates). */
bool  rc_pl_resolve(void);
void *rc_pl_bootstrap_alloc(size_t n);
bool  rc_pl_is_bootstrap(const void *p);

/* preload_state.c: the tables. */
extern volatile int rc_pl_active;     /* tracing (set by the constructor) */
void rc_pl_record(void *p, size_t size, unsigned domain);
/* Forgets p (freed: by free, so it may be a temporary allocation);
 * returns its size and traceback through size and tb (for realloc's undo)
 * when not NULL.  False when p was not traced. */
bool rc_pl_forget(const void *p, unsigned domain, bool freed, uint64_t *size, uint32_t *tb);
/* Allocation wrapper patterns for the reader, one per line. */
void rc_pl_set_alloc_fns(const char *list);
void rc_pl_restore(void *p, unsigned domain, uint64_t size, uint32_t tb);
/* The thread is busy inside the tracer (holding its lock, or writing the
 * last snapshot): a terminating signal that arrives then is deferred to
 * rc_pl_busy_leave.  The lock raises it before locking. */
void rc_pl_busy_enter(void);
/* Lowers it; at zero, finishes a terminating signal deferred meanwhile. */
void rc_pl_busy_leave(void);
int  rc_pl_busy(void);
void rc_pl_lock(void);
void rc_pl_unlock(void);
void rc_pl_check_pending(void);
void rc_pl_state_init(int nframe);
void rc_pl_after_fork_child(void);

/* preload_dump.c: writing snapshots. */
void rc_pl_dump_init(void);
/* Writes the snapshot now (takes the lock).  Safe from a signal handler
 * that did not interrupt the tracer. */
int  rc_pl_dump(void);
/* Writes the last snapshot of this process once (exit, _exit, fatal signal). */
void rc_pl_dump_final(void);
/* Writes the snapshot of an image that exec is about to replace to
 * OUT.execN; nothing in a vfork child. */
void rc_pl_dump_exec(void);
/* Called under the lock by preload_state.c to write a snapshot. */
int  rc_pl_write_locked(const char *path);
const char *rc_pl_out_path(void);

#endif
