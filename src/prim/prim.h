/* The platform as the rest of librecycle sees it: the compiler's hints,
 * the sanitizer's poisoning, the one-line abort (fatal.c), and every call
 * into the operating system (os.c; other processes' /proc files:
 * proc_mem.h; starting programs: launch.h).  Nothing in this folder
 * includes a header from above it, so a port to another OS or compiler
 * touches this folder and src/trace/preload/ only: the preload library is
 * an interposition of the OS's allocation calls and calls the real ones
 * itself.  scripts/check_layers.sh fails on an OS call anywhere else. */
#ifndef RC_PRIM_H
#define RC_PRIM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RC_LIKELY(x)   __builtin_expect(!!(x), 1)
#define RC_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define RC_INLINE      static inline __attribute__((always_inline))
#define RC_NOINLINE    __attribute__((noinline))
#define RC_COLD        __attribute__((cold, noinline))
/* Code the -finstrument-functions hooks reach must not call them again. */
#define RC_NOINSTR     __attribute__((no_instrument_function))
/* An internal function librecycle-tools calls too.  librecycle.so exports
 * it under the version RECYCLE_PRIVATE (cmake/librecycle.map), so a
 * process that links both shared libraries has one copy of its state;
 * the other builds of these files (the preload library) keep it hidden. */
#ifdef RC_EXPORT_PRIVATE
#define RC_PRIVATE     __attribute__((visibility("default")))
#else
#define RC_PRIVATE
#endif

/* AddressSanitizer's manual poisoning, for the allocator's free blocks. */
#if defined(__SANITIZE_ADDRESS__)
#define RC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RC_ASAN 1
#endif
#endif
#ifdef RC_ASAN
#include <sanitizer/asan_interface.h>
#define RC_ASAN_POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define RC_ASAN_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define RC_ASAN_POISON(p, n)   ((void)(p), (void)(n))
#define RC_ASAN_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Reports (fatal.c) */
/* Aborts with one line: "recycle: <check>: <type> object at <addr>:
 * <detail><site>".  type may be NULL when the memory at addr cannot be
 * trusted; site is what the installed lookup says of addr. */
RC_COLD _Noreturn void rc__fatal(const char *check, const char *type, const void *addr,
                                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Fills buf (n bytes) with ", allocated at ..." for addr, or "". */
typedef void (*rc_fatal_site_fn)(const void *addr, char *buf, size_t n);
/* Installs the lookup rc__fatal names the site with (the core's, which
 * asks the heap's tracer). */
void rc__fatal_on_site(rc_fatal_site_fn fn);

/* Memory */
void    *rc__os_map(size_t size, size_t align);      /* zeroed, aligned; NULL on failure */
void     rc__os_unmap(void *p, size_t size);
void    *rc__os_remap(void *p, size_t old_size, size_t size);  /* of rc__os_map(.., 0); moves pages; NULL: p untouched */
#define  RC_OS_HUGE_PAGE ((size_t)2 << 20)
void    *rc__os_map_huge(size_t size);                /* rc__os_map aligned to RC_OS_HUGE_PAGE, huge pages asked for */
void    *rc__os_remap_huge(void *p, size_t old_size, size_t size);  /* moves pages; NULL: p untouched */
bool     rc__os_read_safe(const void *addr, void *out, size_t n);  /* false: unreadable */
/* Gives malloc's free pages back to the OS (glibc keeps up to twice its
 * raised mmap threshold free at the top of its heap, and all of it in
 * the middle); elsewhere nothing. */
void     rc__os_malloc_trim(void);
/* A thread that unmaps what it is handed, so the caller need not wait for
 * the kernel to free the pages (unmap.c).  NULL when no thread starts. */
typedef struct rc__os_unmapper rc__os_unmapper;
rc__os_unmapper *rc__os_unmapper_new(void);
/* Queues [p, p+size) to be unmapped; false (nothing done) when it cannot,
 * or in a forked child: the caller then unmaps it itself. */
bool     rc__os_unmap_later(rc__os_unmapper *u, void *p, size_t size);
/* Trims malloc (rc__os_malloc_trim) on the thread once what waits is
 * unmapped and the queue freed; false, nothing asked, when it cannot. */
bool     rc__os_unmap_later_trim(rc__os_unmapper *u);
/* Keeps [p, p+size) mapped, and every range kept, for delay_ns more, then
 * unmaps them on the thread (though the caller never calls again); false
 * (nothing done) when it cannot, or in a forked child: the caller then
 * unmaps it itself. */
bool     rc__os_unmap_delay(rc__os_unmapper *u, void *p, size_t size, uint64_t delay_ns);
/* Takes back the oldest kept range, if it is `size` bytes long and more
 * than `keep` bytes are kept: the caller owns it again, mapped and with
 * its contents.  With keep 0 (taken back to be used) the rest are kept
 * the last delay again.  NULL: none. */
void    *rc__os_unmap_reclaim(rc__os_unmapper *u, size_t size, size_t keep);
size_t   rc__os_unmap_kept(rc__os_unmapper *u);       /* bytes kept now, but blocks */
/* Kept blocks: the whole huge pages of freed huge blocks, kept like the
 * ranges above and due with them (the last delay given), but taken back
 * by length or address.  rc__os_keep_block keeps [p, p+size), joined with
 * the kept blocks it touches, in at most max bytes (the excess and the
 * oldest blocks for room are unmapped) and RC_OS_KEPT_BLOCKS ranges;
 * false, nothing done, when it cannot (no thread, a forked child, max 0):
 * the caller unmaps it.  rc__os_take_block takes size bytes from the
 * front of the kept block that starts at `at`, or with at NULL of the
 * longest: NULL when none holds that many. */
#define  RC_OS_KEPT_BLOCKS 8
bool     rc__os_keep_block(rc__os_unmapper *u, void *p, size_t size, size_t max, uint64_t delay_ns);
void    *rc__os_take_block(rc__os_unmapper *u, size_t size, const void *at);
void     rc__os_drop_blocks(rc__os_unmapper *u);      /* every kept block goes, on the thread */
size_t   rc__os_kept_blocks(rc__os_unmapper *u);      /* bytes of kept blocks */
bool     rc__os_kept_blocks_whole(rc__os_unmapper *u, size_t page);  /* page-aligned, disjoint, counted */
void     rc__os_unmapper_wait(rc__os_unmapper *u);    /* until nothing is waiting (kept ranges stay) */
void     rc__os_unmapper_free(rc__os_unmapper *u);    /* unmaps what waits or is kept, ends the thread */

/* Growable arrays (vec.c), *arr of elements of elem bytes, capacity *cap.
 *   rc__vec_reserve: grows a malloc'd array (free it with free()) to hold
 *            at least need elements, doubling from `first`; false, the
 *            array untouched, when memory runs out or the capacity would
 *            pass max.
 *   rc__mapvec_*: the collector's arrays, from malloc when small and a
 *            mapping of their own when big, so that a peak's pages go back
 *            to the OS; only these three may resize or free one.  reserve
 *            as above; shrink: when fewer than a quarter of the elements
 *            are used, to twice `used` (never below floor), keeping the
 *            first `used` -- the gap between the two ratios keeps a steady
 *            workload from resizing back and forth; out of memory it stays
 *            as it is; free: *arr NULL and *cap 0 afterwards. */
RC_PRIVATE bool rc__vec_reserve(void *arr, size_t *cap, size_t need, size_t elem, size_t first, size_t max);
bool rc__mapvec_reserve(void *arr, size_t *cap, size_t need, size_t elem, size_t first, size_t max);
void rc__mapvec_shrink(void *arr, size_t *cap, size_t used, size_t elem, size_t floor);
void rc__mapvec_free(void *arr, size_t *cap, size_t elem);

/* Clocks and the machine */
uint64_t rc__os_now_ns(void);                         /* CLOCK_MONOTONIC */
uint64_t rc__os_thread_id(void);                      /* the kernel's id of the calling thread */
RC_PRIVATE size_t   rc__os_rss_bytes(void);                      /* resident set size now; 0: unknown */
size_t   rc__os_llc_bytes(void);                      /* last-level cache size; 0: unknown */
/* From now on rc__os_llc_bytes returns `bytes`: lets a test take, with a
 * small heap, the collector's paths for heaps bigger than the cache. */
void     rc__os_llc_assume(size_t bytes);
/* Reads a small file (of /proc or /sys) into buf, at most size - 1 bytes,
 * and ends them with a NUL: the count, or -1 when it cannot be read. */
long     rc__os_read_file(const char *path, char *buf, size_t size);

/* The name of the function containing addr, from its module's symbol
 * table ("0xoffset" when no symbol covers it; "?" when unknown).  The
 * string lives until the process ends (symbols.c). */
const char *rc__symbol_name(void *addr) RC_NOINSTR;
/* A module loaded in this process: where it is and its program headers. */
typedef struct rc__os_module {
    uintptr_t   base;
    const void *phdr;       /* ElfW(Phdr)[phnum] */
    size_t      phnum;
} rc__os_module;
/* Finds the loaded module whose file is path (the executable's by its
 * /proc/self/exe path); false when none is. */
bool        rc__os_module_find(const char *path, rc__os_module *m);
/* The run-time address of file offset off of m, through the PT_LOAD
 * segment that maps it; 0 when none does. */
uintptr_t   rc__os_module_addr(const rc__os_module *m, uint64_t off);
/* The exported (dynamic) symbol covering addr, or NULL (dladdr). */
const char *rc__os_exported_name(uintptr_t addr);

/* Files through bare descriptors (fd.c): no malloc, no stdio, so the
 * tracer may use them inside allocation hooks and signal handlers. */
int   rc__os_fd_open_read(const char *path);         /* -1 on failure */
/* Up to n bytes (retrying after a signal): the count, 0 at the end, -1 on
 * an error. */
long  rc__os_fd_read(int fd, void *buf, size_t n);
bool  rc__os_fd_pread(int fd, void *buf, size_t n, uint64_t off);  /* exactly n bytes at off */
/* All n bytes, retrying after a signal or a short write; false on an error. */
bool  rc__os_fd_write(int fd, const void *buf, size_t n) RC_NOINSTR;
void  rc__os_fd_close(int fd);
/* A file written whole: rc__os_fd_replace_open creates path's sibling
 * path.tmp (-1, errno set, on failure; ENAMETOOLONG when the name does
 * not fit 4096 bytes); rc__os_fd_replace_commit closes it and, when ok,
 * renames it over path, else removes it.  False when it was not renamed. */
int   rc__os_fd_replace_open(const char *path);
bool  rc__os_fd_replace_commit(int fd, const char *path, bool ok);

/* The environment */
const char *rc__os_getenv(const char *name);

/* Files appended to in whole records (file.c): each rc__os_log_write is
 * one write(2) to an O_APPEND descriptor, so records of processes sharing
 * the file never interleave. */
typedef struct rc__os_log {
    int      fd;          /* -1: closed */
    uint64_t dev, ino;    /* the file fd was opened on */
} rc__os_log;
/* Opens path to append to, creating it (mode 0644) when create; with high,
 * on a descriptor >= 512, out of the way of a program that reuses low
 * numbers.  0, or -1 with l closed. */
RC_PRIVATE int   rc__os_log_open(rc__os_log *l, const char *path, bool create, bool high) RC_NOINSTR;
/* True while l's descriptor still names the file it opened: a program may
 * close it and reuse the number for a file of its own. */
bool  rc__os_log_still_ours(const rc__os_log *l) RC_NOINSTR;
/* Appends n bytes (retrying after a signal or a short write); false on
 * an error. */
RC_PRIVATE bool  rc__os_log_write(rc__os_log *l, const void *buf, size_t n) RC_NOINSTR;
RC_PRIVATE void  rc__os_log_close(rc__os_log *l);
/* The absolute, resolved path of an existing file (malloc'd); NULL when
 * it does not exist. */
RC_PRIVATE char *rc__os_abspath(const char *path);
/* path names a file to read: anything but a folder (a pipe such as
 * bash's <(...) counts). */
RC_PRIVATE bool  rc__os_is_file(const char *path);
/* Calls fn(name, arg) for each entry of the folder path until fn returns
 * non-zero: that value, 0 when every entry was seen, RC_ENOENT when the
 * folder does not exist, RC_EIO when it cannot be read. */
RC_PRIVATE int   rc__os_dir_each(const char *path, int (*fn)(const char *name, void *arg), void *arg);
/* A file written beside its final path and renamed over it once whole: a
 * reader never sees a partial file, and a failed write leaves none. */
typedef struct rc__os_newfile {
    FILE *f;
    char *tmp;
} rc__os_newfile;
/* Creates path's temporary sibling to write through nf->f; NULL, with
 * errno saying why, on failure. */
FILE *rc__os_newfile_open(rc__os_newfile *nf, const char *path);
/* Closes nf: when ok, flushes it to disk and renames it to path; when not
 * ok, or when that fails, removes it.  0, or -1 with errno saying why. */
int   rc__os_newfile_commit(rc__os_newfile *nf, const char *path, bool ok);
/* The local time now, as strftime's fmt writes it into buf (n bytes). */
RC_PRIVATE void  rc__os_local_time(char *buf, size_t n, const char *fmt);

/* Threads (thread.c) */
typedef pthread_once_t rc__os_once_t;
#define RC_OS_ONCE_INIT PTHREAD_ONCE_INIT
/* Runs fn once in the process; a thread that comes while it runs waits. */
RC_PRIVATE void rc__os_once(rc__os_once_t *once, void (*fn)(void)) RC_NOINSTR;
/* A lock for state that must not be touched by two threads at once. */
typedef pthread_mutex_t rc__os_mutex;
#define RC_OS_MUTEX_INIT PTHREAD_MUTEX_INITIALIZER
RC_PRIVATE void rc__os_lock(rc__os_mutex *m);
RC_PRIVATE void rc__os_unlock(rc__os_mutex *m);
RC_PRIVATE bool rc__os_mutex_init(rc__os_mutex *m);   /* false: none made */
RC_PRIVATE void rc__os_mutex_destroy(rc__os_mutex *m);
/* A condition threads wait on under a mutex until another broadcasts. */
typedef pthread_cond_t rc__os_cond;
RC_PRIVATE bool rc__os_cond_init(rc__os_cond *c);     /* false: none made */
RC_PRIVATE void rc__os_cond_destroy(rc__os_cond *c);
RC_PRIVATE void rc__os_cond_wait(rc__os_cond *c, rc__os_mutex *m);
RC_PRIVATE void rc__os_cond_broadcast(rc__os_cond *c);
/* A value each thread holds for itself; at_exit(value) runs when a thread
 * that set a non-NULL value exits. */
typedef pthread_key_t rc__os_tls;
bool rc__os_tls_new(rc__os_tls *key, void (*at_exit)(void *)) RC_NOINSTR;
void rc__os_tls_set(rc__os_tls key, void *value) RC_NOINSTR;
/* A helper thread running fn(arg), every signal blocked in it; false when
 * none could be made. */
typedef pthread_t rc__os_thread;
bool rc__os_thread_start(rc__os_thread *t, void *(*fn)(void *), void *arg);
void rc__os_thread_join(rc__os_thread t);
void rc__os_yield(void);                             /* lets another thread run */
/* Processors the calling thread may run on (at least 1). */
unsigned rc__os_cpus(void);
/* The calling thread's stack, [*lo, *hi); false when unknown. */
bool rc__os_stack_bounds(uintptr_t *lo, uintptr_t *hi);

#endif /* RC_PRIM_H */
