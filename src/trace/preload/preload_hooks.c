/* The interposed allocation functions of librecycle-trace.so.  Each calls
 * the real function with the guard raised (so whatever the real one calls
 * internally — strdup's malloc, calloc's mmap — is not counted again) and
 * records the block it returns. */
#include "preload.h"
#include "recycle.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

__thread int rc_pl_guard RC_PL_TLS;
rc_pl_real rc_pl_real_fn;

/* ---- bootstrap: dlsym allocates before the real malloc is known ---------- */

static _Alignas(16) unsigned char boot[64 * 1024];
static size_t boot_used;
static volatile int resolving;

void *rc_pl_bootstrap_alloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    size_t at = __atomic_fetch_add(&boot_used, n, __ATOMIC_RELAXED);
    if (at + n > sizeof boot)
        return NULL;
    return boot + at;           /* static storage is zero-filled: calloc is fine */
}

bool rc_pl_is_bootstrap(const void *p)
{
    return (const unsigned char *)p >= boot && (const unsigned char *)p < boot + sizeof boot;
}

#define RESOLVE(name) rc_pl_real_fn.name = (__typeof__(rc_pl_real_fn.name))dlsym(RTLD_NEXT, #name)

bool rc_pl_resolve(void)
{
    if (rc_pl_real_fn.free)
        return true;
    if (resolving)
        return false;
    resolving = 1;
    RESOLVE(malloc);  RESOLVE(calloc);  RESOLVE(realloc); RESOLVE(reallocarray);
    RESOLVE(posix_memalign); RESOLVE(aligned_alloc); RESOLVE(memalign);
    RESOLVE(valloc);  RESOLVE(pvalloc); RESOLVE(strdup);  RESOLVE(strndup);
    RESOLVE(mmap);    RESOLVE(munmap);
    rc_pl_real_fn.exit_ = (void (*)(int))dlsym(RTLD_NEXT, "_exit");
    RESOLVE(free);                      /* last: it marks the table complete */
    resolving = 0;
    return rc_pl_real_fn.free != NULL;
}

/* Enter the tracer: false when the call must pass straight through. */
static inline bool enter(void)
{
    if (rc_pl_guard || !rc_pl_active)
        return false;
    rc_pl_guard++;
    return true;
}

static inline void leave(void) { rc_pl_guard--; }

/* ---- malloc family -------------------------------------------------------- */

EXPORT void *malloc(size_t n)
{
    if (!rc_pl_resolve())
        return rc_pl_bootstrap_alloc(n);
    if (!enter())
        return rc_pl_real_fn.malloc(n);
    void *p = rc_pl_real_fn.malloc(n);
    if (p)
        rc_pl_record(p, n, RC_TRACE_DOMAIN_HEAP);
    leave();
    return p;
}

EXPORT void *calloc(size_t n, size_t size)
{
    if (!rc_pl_resolve())
        return rc_pl_bootstrap_alloc(n * size);
    if (!enter())
        return rc_pl_real_fn.calloc(n, size);
    void *p = rc_pl_real_fn.calloc(n, size);
    if (p)
        rc_pl_record(p, n * size, RC_TRACE_DOMAIN_HEAP);
    leave();
    return p;
}

EXPORT void free(void *p)
{
    if (!p || rc_pl_is_bootstrap(p))
        return;
    if (!rc_pl_resolve())
        return;
    if (enter()) {
        rc_pl_forget(p, RC_TRACE_DOMAIN_HEAP, true, NULL, NULL);
        leave();
    }
    rc_pl_real_fn.free(p);
}

/* realloc and reallocarray: forget the old block first (its address may be
 * reused at once by another thread), put it back if the call fails. */
static void *resize(void *p, size_t nmemb, size_t size, bool array)
{
    if (p && rc_pl_is_bootstrap(p)) {
        /* a dlsym-time block: its size is unknown, so copy what could be it */
        size_t n = nmemb * size, room = (size_t)(boot + sizeof boot - (unsigned char *)p);
        void *q = malloc(n);
        if (q)
            memcpy(q, p, n < room ? n : room);
        return q;
    }
    if (!enter())
        return array ? rc_pl_real_fn.reallocarray(p, nmemb, size) : rc_pl_real_fn.realloc(p, size);
    size_t n;
    bool overflow = __builtin_mul_overflow(nmemb, size, &n);
    uint64_t old_size = 0;
    uint32_t old_tb = 0;
    /* as heaptrack counts it: a free of p and an allocation, so p right
     * after its allocation was a temporary one */
    bool had = p && rc_pl_forget(p, RC_TRACE_DOMAIN_HEAP, true, &old_size, &old_tb);
    void *q = array ? rc_pl_real_fn.reallocarray(p, nmemb, size) : rc_pl_real_fn.realloc(p, size);
    if (q)
        rc_pl_record(q, n, RC_TRACE_DOMAIN_HEAP);
    else if (had && !(n == 0 && !overflow))     /* a size of 0 freed p; anything else failed */
        rc_pl_restore(p, RC_TRACE_DOMAIN_HEAP, old_size, old_tb);
    leave();
    return q;
}

EXPORT void *realloc(void *p, size_t n)
{
    if (!rc_pl_resolve())
        return rc_pl_bootstrap_alloc(n);
    return resize(p, 1, n, false);
}

EXPORT void *reallocarray(void *p, size_t nmemb, size_t size)
{
    if (!rc_pl_resolve())
        return rc_pl_bootstrap_alloc(nmemb * size);
    return resize(p, nmemb, size, true);
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (!rc_pl_resolve())
        return ENOMEM;
    if (!enter())
        return rc_pl_real_fn.posix_memalign(out, align, n);
    int r = rc_pl_real_fn.posix_memalign(out, align, n);
    if (r == 0)
        rc_pl_record(*out, n, RC_TRACE_DOMAIN_HEAP);
    leave();
    return r;
}

/* aligned_alloc, memalign, valloc, pvalloc: same shape, different real call */
#define ALIGNED(name, params, args, size)                 \
    EXPORT void *name params                              \
    {                                                     \
        if (!rc_pl_resolve())                             \
            return NULL;                                  \
        if (!enter())                                     \
            return rc_pl_real_fn.name args;               \
        void *p = rc_pl_real_fn.name args;                \
        if (p)                                            \
            rc_pl_record(p, size, RC_TRACE_DOMAIN_HEAP);  \
        leave();                                          \
        return p;                                         \
    }

ALIGNED(aligned_alloc, (size_t align, size_t n), (align, n), n)
ALIGNED(memalign, (size_t align, size_t n), (align, n), n)
ALIGNED(valloc, (size_t n), (n), n)
ALIGNED(pvalloc, (size_t n), (n), n)

EXPORT char *strdup(const char *s)
{
    if (!rc_pl_resolve() || !enter())
        return rc_pl_real_fn.strdup(s);
    char *p = rc_pl_real_fn.strdup(s);
    if (p)
        rc_pl_record(p, strlen(p) + 1, RC_TRACE_DOMAIN_HEAP);
    leave();
    return p;
}

EXPORT char *strndup(const char *s, size_t n)
{
    if (!rc_pl_resolve() || !enter())
        return rc_pl_real_fn.strndup(s, n);
    char *p = rc_pl_real_fn.strndup(s, n);
    if (p)
        rc_pl_record(p, strlen(p) + 1, RC_TRACE_DOMAIN_HEAP);
    leave();
    return p;
}

/* ---- mmap ------------------------------------------------------------------ */

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (!rc_pl_resolve())
        return MAP_FAILED;
    if (!enter())
        return rc_pl_real_fn.mmap(addr, len, prot, flags, fd, off);
    void *p = rc_pl_real_fn.mmap(addr, len, prot, flags, fd, off);
    if (p != MAP_FAILED)
        rc_pl_record(p, len, RC_TRACE_DOMAIN_MMAP);
    leave();
    return p;
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
    __attribute__((alias("mmap")));

/* Only a mapping unmapped from its start is forgotten (partial unmaps of
 * the middle or the end keep the trace at its original size). */
EXPORT int munmap(void *addr, size_t len)
{
    if (!rc_pl_resolve())
        return -1;
    if (enter()) {
        uint64_t size;
        uint32_t tb;
        if (rc_pl_forget(addr, RC_TRACE_DOMAIN_MMAP, false, &size, &tb) && len < size)
            rc_pl_restore((char *)addr + ((len + 4095) & ~(size_t)4095), RC_TRACE_DOMAIN_MMAP,
                          size - ((len + 4095) & ~(size_t)4095), tb);
        leave();
    }
    return rc_pl_real_fn.munmap(addr, len);
}

/* ---- the last snapshot ----------------------------------------------------- */

EXPORT void _exit(int status)
{
    rc_pl_dump_final();
    if (!rc_pl_real_fn.exit_)
        rc_pl_resolve();
    rc_pl_real_fn.exit_(status);
    __builtin_unreachable();
}

EXPORT void _Exit(int status) __attribute__((alias("_exit")));

/* ---- exec: the image leaving writes its snapshot first ------------------- */

/* glibc's exec functions call execve internally, not through the PLT: each
 * one is interposed.  The real function is looked up when used (rare). */
#define REAL_EXEC(name, type) ((type)dlsym(RTLD_NEXT, name))

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execv_fn)(const char *, char *const[]);

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    rc_pl_dump_exec();
    return REAL_EXEC("execve", execve_fn)(path, argv, envp);
}

EXPORT int execv(const char *path, char *const argv[])
{
    rc_pl_dump_exec();
    return REAL_EXEC("execv", execv_fn)(path, argv);
}

EXPORT int execvp(const char *file, char *const argv[])
{
    rc_pl_dump_exec();
    return REAL_EXEC("execvp", execv_fn)(file, argv);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    rc_pl_dump_exec();
    return REAL_EXEC("execvpe", execve_fn)(file, argv, envp);
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    rc_pl_dump_exec();
    return REAL_EXEC("fexecve", int (*)(int, char *const[], char *const[]))(fd, argv, envp);
}

/* execl, execlp, execle: the list into an array, then the v form. */
static size_t count_args(va_list ap)
{
    size_t n = 1;
    while (va_arg(ap, char *))
        n++;
    return n;
}

static void fill_args(char **argv, const char *arg0, va_list ap)
{
    size_t i = 0;
    argv[i++] = (char *)arg0;
    while ((argv[i++] = va_arg(ap, char *)))
        ;
}

#define EXECL(name, vform, with_env)                                   \
    EXPORT int name(const char *path, const char *arg0, ...)           \
    {                                                                  \
        va_list ap, copy;                                              \
        va_start(ap, arg0);                                            \
        va_copy(copy, ap);                                             \
        size_t n = count_args(copy);                                   \
        va_end(copy);                                                  \
        char *argv[n + 1];                                             \
        fill_args(argv, arg0, ap);                                     \
        char *const *envp = with_env ? va_arg(ap, char *const *) : NULL; \
        va_end(ap);                                                    \
        return with_env ? execve(path, argv, envp) : vform(path, argv); \
    }

EXECL(execl, execv, false)
EXECL(execlp, execvp, false)
EXECL(execle, execv, true)
