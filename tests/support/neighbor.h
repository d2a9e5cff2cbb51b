/* A second attached thread for the tests that also run on a threaded heap
 * (ctest's *_threaded entries: RECYCLE_THREADS=1, and RC_TEST_NEIGHBOR=1
 * for two threads).  The neighbor holds one list of the heap and, until
 * stopped, increfs and decrefs it, asks its length (the heap lock) and
 * passes safe points, so every collection and heap check of the test
 * stops a running thread.  It allocates nothing after it starts: the
 * fault sweeps count the heap's allocations exactly. */
#ifndef RC_TEST_NEIGHBOR_H
#define RC_TEST_NEIGHBOR_H

#include <recycle.h>

/* Nothing unless RC_TEST_NEIGHBOR is set and h is threaded. */
void neighbor_start(rc_heap *h);
/* Before rc_heap_free: the neighbor drops its list and detaches. */
void neighbor_stop(void);

#endif
