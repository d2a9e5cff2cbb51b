/* Experiment 2 (seed 001, gc.py): the baseline with the cycle collector
 * disabled before the arrays are made.
 *
 * The picture does not change: the list has no cycle, so its refcount
 * reaches 0 when the function drops it and it dies at once.  rc_gc_disable
 * only stops the cycle collector; reference counting cannot be disabled. */
#include "seed_arrays.h"

int main(void)
{
    rc_heap *h = rc_heap_new(NULL);
    rc_gc_disable(h);
    printf("rc_gc_isenabled: %s\n", rc_gc_isenabled(h) ? "true" : "false");
    seed_three_calls(h, AS_LIST, false, NULL);
    rc_gc_stats st = rc_gc_get_stats(h, 0);
    printf("RESULT collections %zu\n", st.collections);
    rc_heap_free(h);
    return 0;
}
