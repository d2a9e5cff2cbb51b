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
#include "../core/options.h"
#include "../prim/proc_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FRAMES RC_PROFILE_MAX_DEPTH

enum { UNKNOWN, OFF, ON };

typedef struct frame {
    const char *name;       /* NULL: an instrumented function, see fn */
    void       *fn;
    double      t0, mem0;
    bool        recorded;
} frame;

static int state = UNKNOWN;
static rc__os_log out = {.fd = -1};
static int depth_limit = RC_PROFILE_DEFAULT_DEPTH;
static rc__os_once_t once = RC_OS_ONCE_INIT;

/* Each thread's stack is allocated at its first bracket under recycle run
 * (and freed at thread exit), so programs that are not profiled pay for
 * two thread-local words, not a stack per thread. */
static rc__os_tls stack_key;
static _Thread_local frame *stack;
static _Thread_local int depth;

static RC_NOINSTR void init(void)
{
    const char *path = rc__option_text(RC_OPT_PROFILE_FILE);
    /* recycle run made the file: a missing one is not ours to create.  Its
     * identity is checked before each write in case the program closed
     * the descriptor and the number now names a file of its own. */
    if (*path && rc__os_tls_new(&stack_key, free))
        rc__os_log_open(&out, path, false, true);
    depth_limit = (int)rc__option_uint(RC_OPT_PROFILE_DEPTH);
    __atomic_store_n(&state, out.fd >= 0 ? ON : OFF, __ATOMIC_RELEASE);
}

static inline RC_NOINSTR bool active(void)
{
    int s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
    if (__builtin_expect(s == OFF, 1))
        return false;
    if (s == UNKNOWN) {
        rc__os_once(&once, init);
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
    return (double)rc__os_rss_bytes() / (1024.0 * 1024.0);
}

static RC_NOINSTR void push(const char *name, void *fn, bool record)
{
    if (!stack && (stack = calloc(MAX_FRAMES, sizeof *stack)))
        rc__os_tls_set(stack_key, stack);
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
    if (rc__os_log_still_ours(&out))
        (void)rc__os_log_write(&out, line, (size_t)n);   /* a full disk loses brackets, never the program */
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
