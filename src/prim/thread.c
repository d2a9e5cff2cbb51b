/* Threads: once-only initialization, locks, thread-local values, the
 * calling thread's stack. */
#include "prim.h"

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
