/* Waiting for another process: sleeping between the sampler's ticks
 * while watching for the process's end, and reaping it. */
#include "prim.h"
#include "proc_mem.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int rc__proc_watch(long pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
#else
    (void)pid;
    return -1;
#endif
}

void rc__proc_unwatch(int watch)
{
    if (watch >= 0)
        close(watch);
}

double rc__proc_mono_now(void)
{
    return (double)rc__os_now_ns() * 1e-9;
}

static struct timespec timespec_of(double secs)
{
    return (struct timespec){(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
}

/* One wait of at most left seconds: 1 the process ended, 0 the time is
 * up, -1 interrupted (the caller looks at the clock again). */
static int wait_once(long pid, int watch, double left)
{
    struct timespec ts = timespec_of(left);
    if (watch < 0) {
        if (nanosleep(&ts, NULL) != 0)
            return -1;
        return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
    }
    struct pollfd pfd = {watch, POLLIN, 0};
    int r = ppoll(&pfd, 1, &ts, NULL);
    if (r < 0 && errno == EINTR)
        return -1;
    return r > 0;
}

/* Short intervals sleep without watching: a tick notices the exit soon
 * enough, and waking from ppoll on the pidfd costs more CPU. */
bool rc__proc_sleep_until(long pid, int watch, double until, bool coarse)
{
    if (coarse) {
        struct timespec ts = timespec_of(until);
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
        return false;
    }
    for (;;) {
        double left = until - rc__proc_mono_now();
        if (left <= 0)
            return false;
        int r = wait_once(pid, watch, left);
        if (r >= 0)
            return r == 1;
    }
}

bool rc__proc_reap(long pid, bool block, rc__proc_exit *e)
{
    int status = 0;
    struct rusage ru = {0};
    if (wait4((pid_t)pid, &status, block ? 0 : WNOHANG, &ru) != (pid_t)pid)
        return false;
    *e = (rc__proc_exit){
        .status = status,
        .signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0,
        .code = WIFEXITED(status) ? WEXITSTATUS(status) : 0,
        .maxrss_bytes = (uint64_t)ru.ru_maxrss * 1024,
    };
    return true;
}
