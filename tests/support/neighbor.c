/* The second thread of the *_threaded tests (neighbor.h). */
#include "neighbor.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

static struct {
    pthread_t thread;
    rc_heap *h;
    void *list;
    atomic_bool running, stop;
} nb;

static void *neighbor_main(void *arg)
{
    (void)arg;
    rc_thread_attach(nb.h);
    atomic_store(&nb.running, true);
    for (unsigned i = 0; !atomic_load(&nb.stop); i++) {
        rc_incref(nb.list);
        (void)rc_len(nb.list);
        rc_decref(nb.list);
        rc_safepoint(nb.h);
        if (i % 64 == 0)
            sched_yield();
    }
    rc_decref(nb.list);
    rc_thread_detach(nb.h);
    return NULL;
}

void neighbor_start(rc_heap *h)
{
    if (!getenv("RC_TEST_NEIGHBOR") || !rc_heap_is_threaded(h))
        return;
    nb.h = h;
    nb.list = rc_list_new(h, 0);
    atomic_store(&nb.stop, false);
    atomic_store(&nb.running, false);
    if (!nb.list || pthread_create(&nb.thread, NULL, neighbor_main, NULL) != 0)
        abort();
    while (!atomic_load(&nb.running)) {
        rc_safepoint(h);    /* the neighbor's attach waits for this thread to count atomically */
        sched_yield();
    }
}

void neighbor_stop(void)
{
    if (!nb.h)
        return;
    atomic_store(&nb.stop, true);
    pthread_join(nb.thread, NULL);
    nb.h = NULL;
}
