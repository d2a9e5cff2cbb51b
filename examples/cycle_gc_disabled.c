/* Experiment 3 (seed 001, gc_cr.py): the list also holds a reference to
 * itself, and the cycle collector is disabled.
 *
 * When the function returns, the list's refcount only falls from 2 to 1
 * (its own reference stays), so reference counting never frees it and the
 * 5 million ints it holds stay too: memory climbs like stairs. */
#include "seed_arrays.h"

int main(void)
{
    rc_heap *h = rc_heap_new(NULL);
    rc_gc_disable(h);
    seed_three_calls(h, AS_LIST, true, NULL);
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    printf("objects still alive: %zu\n", mi.live_objects);
    printf("RESULT live_objects %zu\n", mi.live_objects);
    rc_heap_free(h);
    return 0;
}
