/* When librecycle-trace.so writes snapshots: at exit, on SIGUSR2, every
 * RECYCLE_TRACE_EVERY seconds, and before a catchable fatal signal ends the
 * process.  A writer thread (all signals blocked) does the SIGUSR2 and
 * periodic writes, so a handler never takes the lock itself except for a
 * fatal signal, where there is no later.
 *
 * `recycle trace` sets RECYCLE_TRACE_OUT, _FRAMES, _EVERY and _ROOT
 * (src/core/options.c); a process other than the root (a fork, or a
 * program it runs) writes OUT.PID. */
#include "preload.h"
#include "recycle.h"
#include "../../core/options.h"

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
static volatile sig_atomic_t final_done;
static volatile sig_atomic_t pending_fatal;

static const int fatal_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

const char *rc_pl_out_path(void) { return out_path; }

static void set_out_path(void)
{
    const char *out = rc__option_text(RC_OPT_TRACE_OUT);
    if (rc__option_uint(RC_OPT_TRACE_ROOT) == (uint64_t)getpid())
        snprintf(out_path, sizeof out_path, "%s", out);
    else
        snprintf(out_path, sizeof out_path, "%s.%ld", out, (long)getpid());
}

int rc_pl_dump(void)
{
    rc_pl_guard++;
    rc_pl_lock();
    int r = rc_pl_write_locked(out_path);
    rc_pl_unlock();
    rc_pl_guard--;
    return r;
}

void rc_pl_dump_final(void)
{
    if (!rc_pl_active || final_done)
        return;
    final_done = 1;
    int r = rc_pl_dump();
    rc_pl_active = 0;
    if (r) {
        static const char m[] = "recycle-trace: could not write the snapshot\n";
        ssize_t w = write(2, m, sizeof m - 1);
        (void)w;
    }
}

/* ---- the writer thread ----------------------------------------------------- */

static void *writer(void *arg)
{
    (void)arg;
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
        if (final_done)
            break;
        rc_pl_guard--;
        rc_pl_dump();
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

static void on_fatal(int sig)
{
    if (rc_pl_holding()) {
        /* interrupted inside the tracer: the tables are mid-change */
        pending_fatal = sig;
        if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT)
            return;                   /* asynchronous: finished at unlock */
    } else {
        rc_pl_dump_final();
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install(int sig, void (*fn)(int))
{
    struct sigaction sa, old;
    if (sigaction(sig, NULL, &old) != 0 || old.sa_handler != SIG_DFL)
        return;                        /* the program's choice stands */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(sig, &sa, NULL);
}

/* Called by rc_pl_unlock's caller path when a fatal signal arrived while
 * the lock was held. */
void rc_pl_check_pending(void)
{
    int sig = pending_fatal;
    if (!sig)
        return;
    pending_fatal = 0;
    rc_pl_dump_final();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* ---- fork ---------------------------------------------------------------------- */

static void before_fork(void) { rc_pl_guard++; rc_pl_lock(); }
static void parent_after_fork(void) { rc_pl_unlock(); rc_pl_guard--; }

static void child_after_fork(void)
{
    rc_pl_after_fork_child();
    set_out_path();                 /* the child's own file: OUT.PID */
    sem_init(&wake, 0, 0);
    start_writer();
    rc_pl_guard--;
}

/* ---- life cycle ------------------------------------------------------------------ */

__attribute__((constructor)) static void preload_start(void)
{
    if (!rc_pl_resolve())
        return;
    rc_pl_guard++;
    every = rc__option_seconds(RC_OPT_TRACE_EVERY);
    set_out_path();
    rc_pl_state_init((int)rc__option_uint(RC_OPT_TRACE_FRAMES));
    sem_init(&wake, 0, 0);
    pthread_atfork(before_fork, parent_after_fork, child_after_fork);
    install(SIGUSR2, on_usr2);
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
        install(fatal_signals[i], on_fatal);
    start_writer();
    rc_pl_active = 1;
    rc_pl_guard--;
}

__attribute__((destructor)) static void preload_stop(void)
{
    rc_pl_dump_final();
}
