/* Threads: once-only initialization, locks, condition variables,
 * thread-local values, helper threads, the calling thread's stack. */
#include "prim.h"

#include <sched.h>
#include <signal.h>
#include <unistd.h>

void rc__os_once(rc__os_once_t *once, void (*fn)(void))
{
    pthread_once(once, fn);
}

bool rc__os_tls_new(rc__os_tls *key, void (*at_exit)(void *))
{
    return pthread_key_create(key, at_exit) == 0;
}

void rc__os_tls_set(rc__os_tls key, void *value)
{
    pthread_setspecific(key, value);
}

void rc__os_lock(rc__os_mutex *m)
{
    pthread_mutex_lock(m);
}

void rc__os_unlock(rc__os_mutex *m)
{
    pthread_mutex_unlock(m);
}

bool rc__os_mutex_init(rc__os_mutex *m)
{
    return pthread_mutex_init(m, NULL) == 0;
}

void rc__os_mutex_destroy(rc__os_mutex *m)
{
    pthread_mutex_destroy(m);
}

bool rc__os_cond_init(rc__os_cond *c)
{
    return pthread_cond_init(c, NULL) == 0;
}

void rc__os_cond_destroy(rc__os_cond *c)
{
    pthread_cond_destroy(c);
}

void rc__os_cond_wait(rc__os_cond *c, rc__os_mutex *m)
{
    pthread_cond_wait(c, m);
}

void rc__os_cond_broadcast(rc__os_cond *c)
{
    pthread_cond_broadcast(c);
}

/* Every signal is blocked while the thread is made, so that it starts with
 * all of them blocked: a library's helper must not take the program's
 * signals. */
bool rc__os_thread_start(rc__os_thread *t, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    bool ok = pthread_create(t, NULL, fn, arg) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return ok;
}

void rc__os_thread_join(rc__os_thread t)
{
    pthread_join(t, NULL);
}

void rc__os_yield(void)
{
    sched_yield();
}

/* The processors the calling thread may run on (its affinity mask, as
 * taskset and cpusets set it): a process held to one core gains nothing
 * from a second collector thread.  One system call, cheap beside a full
 * collection, which asks each time when rc_config.gc_workers is 0. */
unsigned rc__os_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    long k = sysconf(_SC_NPROCESSORS_ONLN);      /* more processors than a cpu_set_t holds */
    return k > 0 ? (unsigned)k : 1;
}

bool rc__os_stack_bounds(uintptr_t *lo, uintptr_t *hi)
{
    pthread_attr_t a;
    void *addr;
    size_t size;
    bool ok = false;
    if (pthread_getattr_np(pthread_self(), &a) != 0)
        return false;
    if (pthread_attr_getstack(&a, &addr, &size) == 0) {
        *lo = (uintptr_t)addr;
        *hi = (uintptr_t)addr + size;
        ok = true;
    }
    pthread_attr_destroy(&a);
    return ok;
}
