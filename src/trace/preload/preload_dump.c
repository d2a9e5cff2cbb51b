/* When librecycle-trace.so writes snapshots: at exit, on SIGUSR2 and
 * before a catchable fatal signal ends the process (PATH), and every
 * RECYCLE_TRACE_EVERY seconds (PATH.00001, PATH.00002, ...).  A writer thread (all signals blocked) does the SIGUSR2 and
 * periodic writes, so a handler never takes the lock itself except for a
 * fatal signal, where there is no later.
 *
 * exec replaces the image: the one leaving writes PATH.execN first (N = 1,
 * 2, ... the first free), the new one writes PATH as usual.
 *
 * What to write, where and how often comes from the environment `recycle
 * trace` sets (../trace_env.h); a process whose parent is not the one that
 * started the traced program (a fork, or a program it runs) writes
 * OUT.PID. */
#include "preload.h"
#include "../trace_env.h"
#include "recycle.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char out_path[4096];
static double every;
static sem_t wake;
static pid_t self;              /* this process (a vfork child is not it) */
/* The last snapshot: 0 not written, 1 being written, 2 written.  Whoever
 * moves it from 0 to 1 writes; anyone else waits for 2, so a process never
 * dies while another of its threads is halfway through the file. */
static int final_state;
static volatile sig_atomic_t pending_fatal;

static const int fatal_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

const char *rc_pl_out_path(void) { return out_path; }

static void set_out_path(void)
{
    const char *out = rc__option_text(RC_TRACE_ENV_OUT);
    uint64_t parent = rc__option_uint(RC_TRACE_ENV_PARENT);
    self = getpid();
    if (parent && parent == (uint64_t)getppid())
        snprintf(out_path, sizeof out_path, "%s", out);
    else
        snprintf(out_path, sizeof out_path, "%s.%ld", out, (long)self);
}

static int dump_to(const char *path)
{
    rc_pl_guard++;
    rc_pl_lock();
    int r = rc_pl_write_locked(path);
    rc_pl_unlock();
    rc_pl_guard--;
    return r;
}

int rc_pl_dump(void) { return dump_to(out_path); }

static void say(const char *m)
{
    ssize_t w = write(2, m, strlen(m));
    (void)w;
}

/* Up to 10 s: the other writer has the lock and nothing to wait for. */
static void wait_written(void)
{
    struct timespec ms = {0, 1000000};
    for (int i = 0; i < 10000 && __atomic_load_n(&final_state, __ATOMIC_ACQUIRE) != 2; i++)
        nanosleep(&ms, NULL);
}

void rc_pl_dump_final(void)
{
    int expect = 0;
    if (!__atomic_compare_exchange_n(&final_state, &expect, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        wait_written();
        return;
    }
    if (rc_pl_busy()) {
        /* exit or _exit from a handler of the program that interrupted the
         * tracer mid-change: the tables cannot be read, nor the lock taken */
        say("recycle-trace: the program exited from inside the tracer; its last periodic snapshot stands\n");
    } else if (rc_pl_active) {
        rc_pl_busy_enter();
        if (dump_to(out_path))
            say("recycle-trace: could not write the snapshot\n");
        rc_pl_active = 0;
        __atomic_store_n(&final_state, 2, __ATOMIC_RELEASE);
        rc_pl_busy_leave();
        return;
    }
    __atomic_store_n(&final_state, 2, __ATOMIC_RELEASE);
}

/* out_path + suffix + k in decimal (at least `width` digits), without
 * stdio; buf holds sizeof out_path + 32. */
static void numbered(char *buf, const char *suffix, unsigned k, size_t width)
{
    size_t n = strlen(out_path), sl = strlen(suffix);
    memcpy(buf, out_path, n);
    memcpy(buf + n, suffix, sl);
    char digits[16];
    size_t d = 0;
    for (unsigned v = k; v || d < width; v /= 10)
        digits[d++] = (char)('0' + v % 10);
    for (size_t i = 0; i < d; i++)
        buf[n + sl + i] = digits[d - 1 - i];
    buf[n + sl + d] = 0;
}

/* "PATH.execN" with the first N not taken yet. */
static void exec_path(char *buf)
{
    for (unsigned k = 1; k < 100000; k++) {
        numbered(buf, ".exec", k, 1);
        if (access(buf, F_OK) != 0)
            return;
    }
}

void rc_pl_dump_exec(void)
{
    /* a vfork child runs on its parent's tables: they are not its own */
    if (!rc_pl_active || rc_pl_busy() || getpid() != self)
        return;
    char path[sizeof out_path + 32];
    exec_path(path);
    if (dump_to(path))
        say("recycle-trace: could not write the snapshot before exec\n");
}

/* ---- the writer thread ----------------------------------------------------- */

/* The k-th periodic snapshot: PATH.00001, PATH.00002, ...  The leading
 * zero tells it from a child's PATH.PID (a pid never starts with 0). */
static int dump_numbered(unsigned k)
{
    char path[sizeof out_path + 32];
    numbered(path, ".0", k, 4);
    return dump_to(path);
}

static void *writer(void *arg)
{
    (void)arg;
    unsigned periodic = 0;
    rc_pl_guard++;           /* nothing this thread does is the program's */
    for (;;) {
        int r;
        if (every > 0) {
            struct timespec t;
            clock_gettime(CLOCK_REALTIME, &t);
            double s = (double)t.tv_sec + (double)t.tv_nsec / 1e9 + every;
            t.tv_sec = (time_t)s;
            t.tv_nsec = (long)((s - (double)t.tv_sec) * 1e9);
            r = sem_timedwait(&wake, &t);
        } else {
            r = sem_wait(&wake);
        }
        if (r != 0 && errno == EINTR)
            continue;
        if (__atomic_load_n(&final_state, __ATOMIC_ACQUIRE))
            break;
        rc_pl_guard--;
        if (r == 0)
            rc_pl_dump();                     /* SIGUSR2 */
        else
            dump_numbered(++periodic);        /* the timer */
        rc_pl_guard++;
    }
    return NULL;
}

static void start_writer(void)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);   /* the thread inherits the mask */
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    rc_pl_guard++;
    pthread_create(&t, &a, writer, NULL);
    rc_pl_guard--;
    pthread_attr_destroy(&a);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* ---- signals ------------------------------------------------------------------ */

static void on_usr2(int sig)
{
    (void)sig;
    int e = errno;
    sem_post(&wake);
    errno = e;
}

/* Sent by kill, raise or sigqueue (even SIGSEGV), or by the terminal. */
static bool asynchronous(int sig, const siginfo_t *info)
{
    return info->si_code <= 0 || sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT;
}

/* ---- the program's own handlers of fatal signals ----------------------------
 * A handler of the program that ends the process (exit, _exit) must not
 * run while its thread is inside the tracer: the last snapshot could not be
 * written then.  So sigaction and signal are interposed for the fatal
 * signals: the kernel gets `relay`, which runs the program's handler at
 * once, or, when the signal came from outside while the thread is busy in
 * the tracer, a few instructions later from rc_pl_busy_leave.  The program
 * sees its own handlers in what sigaction reports. */

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);

static int real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    static sigaction_fn real;
    if (!real)
        real = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
    return real(sig, act, old);
}

static struct sigaction program_act[NSIG];     /* what the program asked for */
static bool relayed[NSIG];                     /* a fatal signal whose handler we keep */
static __thread volatile sig_atomic_t relay_pending RC_PL_TLS;
static __thread siginfo_t relay_info RC_PL_TLS;

static void die(int sig)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    real_sigaction(sig, &dfl, NULL);
    raise(sig);              /* blocked in the handler: delivered on return */
}

static void run_program_handler(int sig, siginfo_t *info, void *uc)
{
    const struct sigaction *a = &program_act[sig];
    if (a->sa_flags & SA_SIGINFO)
        a->sa_sigaction(sig, info, uc);
    else if (a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN)
        a->sa_handler(sig);
}

static void on_fatal(int sig, siginfo_t *info, void *uc)
{
    (void)uc;
    int e = errno;
    if (rc_pl_busy()) {
        /* this thread is inside the tracer: the tables are mid-change and
         * the lock may be ours; a signal sent from outside waits for
         * rc_pl_busy_leave, a fault of the tracer itself cannot */
        if (asynchronous(sig, info)) {
            pending_fatal = sig;
            errno = e;
            return;
        }
        say("recycle-trace: fault inside the tracer; no snapshot\n");
    } else {
        rc_pl_dump_final();
    }
    die(sig);
    errno = e;
}

static void relay(int sig, siginfo_t *info, void *uc)
{
    if (rc_pl_busy() && asynchronous(sig, info)) {
        relay_info = *info;
        relay_pending = sig;
        return;
    }
    run_program_handler(sig, info, uc);
}

static void install(int sig, void (*fn)(int), void (*action)(int, siginfo_t *, void *))
{
    struct sigaction sa, old;
    if (real_sigaction(sig, NULL, &old) != 0 || old.sa_handler != SIG_DFL)
        return;                        /* the program's choice stands */
    memset(&sa, 0, sizeof sa);
    if (action)
        sa.sa_sigaction = action;
    else
        sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART | (action ? SA_SIGINFO : 0);
    real_sigaction(sig, &sa, NULL);
    relayed[sig] = action != NULL;
}

/* What the kernel gets for a fatal signal the program sets: our snapshot
 * handler for SIG_DFL, relay for a handler of its own. */
static int set_fatal(int sig, const struct sigaction *act)
{
    struct sigaction k = *act;
    if (act->sa_handler == SIG_DFL) {
        memset(&k, 0, sizeof k);
        k.sa_sigaction = on_fatal;
        k.sa_flags = SA_RESTART | SA_SIGINFO;
    } else if (act->sa_handler != SIG_IGN) {
        k.sa_sigaction = relay;
        k.sa_flags |= SA_SIGINFO;
    }
    int r = real_sigaction(sig, &k, NULL);
    if (r == 0)
        program_act[sig] = *act;
    return r;
}

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (sig <= 0 || sig >= NSIG || !relayed[sig])
        return real_sigaction(sig, act, old);
    struct sigaction was = program_act[sig];
    int r = act ? set_fatal(sig, act) : 0;
    if (r == 0 && old)
        *old = was;
    return r;
}

/* glibc's signal: BSD semantics (SA_RESTART, the signal blocked in its
 * handler); it calls sigaction internally, so it is interposed too. */
EXPORT void (*signal(int sig, void (*handler)(int)))(int)
{
    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = handler;
    sigemptyset(&act.sa_mask);
    sigaddset(&act.sa_mask, sig);
    act.sa_flags = SA_RESTART;
    return sigaction(sig, &act, &old) == 0 ? old.sa_handler : SIG_ERR;
}

/* Called by rc_pl_unlock's caller path when a fatal signal arrived while
 * the lock was held. */
void rc_pl_check_pending(void)
{
    int relay_sig = relay_pending;
    if (relay_sig) {
        /* delivered now, as the kernel would have: its mask blocked */
        sigset_t old;
        relay_pending = 0;
        pthread_sigmask(SIG_BLOCK, &program_act[relay_sig].sa_mask, &old);
        run_program_handler(relay_sig, &relay_info, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    int sig = __atomic_exchange_n(&pending_fatal, 0, __ATOMIC_ACQ_REL);
    if (!sig)
        return;
    rc_pl_dump_final();
    die(sig);
}

/* ---- fork ---------------------------------------------------------------------- */

/* Signals are blocked across fork: one that reached the child before its
 * tables are its own would be deferred there and lost. */
static __thread sigset_t fork_mask RC_PL_TLS;

static void before_fork(void)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &fork_mask);
    rc_pl_guard++;
    rc_pl_lock();
}

static void parent_after_fork(void)
{
    rc_pl_unlock();
    rc_pl_guard--;
    pthread_sigmask(SIG_SETMASK, &fork_mask, NULL);
}

static void child_after_fork(void)
{
    rc_pl_after_fork_child();
    pending_fatal = 0;              /* deferred in the parent: the parent's */
    set_out_path();                 /* the child's own file: OUT.PID */
    sem_init(&wake, 0, 0);
    start_writer();
    rc_pl_guard--;
    pthread_sigmask(SIG_SETMASK, &fork_mask, NULL);
}

/* ---- life cycle ------------------------------------------------------------------ */

__attribute__((constructor)) static void preload_start(void)
{
    if (!rc_pl_resolve())
        return;
    rc_pl_guard++;
    every = rc__option_seconds(RC_TRACE_ENV_EVERY);
    set_out_path();
    rc_pl_state_init((int)rc__option_uint(RC_TRACE_ENV_FRAMES));
    rc_pl_set_alloc_fns(rc__option_text(RC_TRACE_ENV_ALLOC_FN));
    sem_init(&wake, 0, 0);
    pthread_atfork(before_fork, parent_after_fork, child_after_fork);
    install(SIGUSR2, on_usr2, NULL);
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
        install(fatal_signals[i], NULL, on_fatal);
    start_writer();
    rc_pl_active = 1;
    rc_pl_guard--;
}

__attribute__((destructor)) static void preload_stop(void)
{
    rc_pl_dump_final();
}
