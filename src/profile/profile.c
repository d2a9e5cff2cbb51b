/* Function brackets: the in-process side of the memory profiler.
 *
 * `recycle run` puts the absolute path of its .dat file in
 * RECYCLE_PROFILE_FILE.  The first bracket of the process opens that file
 * O_APPEND; each bracket that ends appends one complete FUNC line with a
 * single write(2) — the same way the sampler appends its ticks — so lines
 * never interleave and a crash loses only the brackets still open.
 * Without the variable every call returns after one predictable branch.
 *
 * Each thread keeps its own stack of open brackets; the level written is
 * the depth in that stack, 0 for the outermost, as memory_profiler's
 * TimeStamper counts it.  Memory is the process's RSS (statm), in MiB. */
#include "recycle.h"
#include "profile_internal.h"
#include "../prim/proc_mem.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FRAMES 128      /* deeper brackets are counted, not recorded */

enum { UNKNOWN, OFF, ON };

typedef struct frame {
    const char *name;       /* NULL: an instrumented function, see fn */
    void       *fn;
    double      t0, mem0;
    bool        recorded;
} frame;

static int state = UNKNOWN;
static int out_fd = -1;
static struct stat out_id;      /* the file out_fd must still be */
static int depth_limit = RC_PROFILE_DEFAULT_DEPTH;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Each thread's stack is allocated at its first bracket under recycle run
 * (and freed at thread exit), so programs that are not profiled pay for
 * two thread-local words, not a stack per thread. */
static pthread_key_t stack_key;
static _Thread_local frame *stack;
static _Thread_local int depth;

static RC_NOINSTR void read_depth_limit(void)
{
    const char *s = getenv("RECYCLE_PROFILE_DEPTH");
    if (!s || !*s)
        return;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < 0 || v > MAX_FRAMES)
        fprintf(stderr, "recycle: RECYCLE_PROFILE_DEPTH=%s: expected 0..%d; using %d\n", s,
                MAX_FRAMES, depth_limit);
    else
        depth_limit = (int)v;
}

/* Opens the .dat file on a high descriptor, out of the way of programs
 * that reuse low numbers; its identity is checked before each write in
 * case the program closed it and the number now names another file. */
static RC_NOINSTR int open_output(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 512);
    if (high >= 0) {
        close(fd);
        fd = high;
    }
    if (fstat(fd, &out_id) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static RC_NOINSTR bool still_ours(void)
{
    struct stat st;
    return fstat(out_fd, &st) == 0 && st.st_dev == out_id.st_dev && st.st_ino == out_id.st_ino;
}

static RC_NOINSTR void init(void)
{
    const char *path = getenv("RECYCLE_PROFILE_FILE");
    if (path && *path && pthread_key_create(&stack_key, free) == 0)
        out_fd = open_output(path);
    read_depth_limit();
    __atomic_store_n(&state, out_fd >= 0 ? ON : OFF, __ATOMIC_RELEASE);
}

static inline RC_NOINSTR bool active(void)
{
    int s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
    if (__builtin_expect(s == OFF, 1))
        return false;
    if (s == UNKNOWN) {
        pthread_once(&once, init);
        s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
    }
    return s == ON;
}

bool rc_profile_enabled(void)
{
    return active();
}

static RC_NOINSTR double rss_mib(void)
{
    return (double)rc__proc_self_rss() / (1024.0 * 1024.0);
}

static RC_NOINSTR void push(const char *name, void *fn, bool record)
{
    if (!stack && (stack = calloc(MAX_FRAMES, sizeof *stack)))
        pthread_setspecific(stack_key, stack);
    int d = depth++;
    if (d >= MAX_FRAMES || !stack)
        return;
    stack[d] = (frame){name, fn, 0, 0, record};
    if (record) {
        stack[d].mem0 = rss_mib();
        stack[d].t0 = rc__proc_epoch();
    }
}

/* One FUNC line, names with spaces turned to '_' (fields are spaces). */
static RC_NOINSTR void write_record(const frame *f, int level)
{
    double t1 = rc__proc_epoch(), mem1 = rss_mib();
    const char *name = f->name ? f->name : rc__symbol_name(f->fn);
    char line[512];
    int n = snprintf(line, sizeof line, "FUNC %.200s %.4f %.4f %.4f %.4f %d\n", name, f->mem0,
                     f->t0, mem1, t1, level);
    if (n <= 0 || n >= (int)sizeof line)
        return;
    char *end = line + 5 + strnlen(name, 200);
    for (char *p = line + 5; p < end; p++)
        if (*p == ' ' || *p == '\t' || *p == '\n')
            *p = '_';
    if (!still_ours())
        return;
    ssize_t w = write(out_fd, line, (size_t)n);
    (void)w;   /* a full disk loses brackets, never the program */
}

static RC_NOINSTR void pop(void)
{
    if (depth == 0)
        return;            /* an end without a begin: ignore */
    int d = --depth;
    if (d < MAX_FRAMES && stack && stack[d].recorded)
        write_record(&stack[d], d);
}

void rc_profile_begin(const char *name)
{
    if (active())
        push(name ? name : "?", NULL, true);
}

void rc_profile_end(void)
{
    if (active())
        pop();
}

void rc_profile_scope_end_(int *unused)
{
    (void)unused;
    rc_profile_end();
}

void rc_profile_enter_fn(void *fn)
{
    if (active())
        push(NULL, fn, depth < depth_limit);
}

void rc_profile_exit_fn(void)
{
    if (active())
        pop();
}
