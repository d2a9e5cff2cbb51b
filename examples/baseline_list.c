/* Experiment 1 (seed 001, baseline.py): three calls, each building a list
 * of 5 million random ints, averaging it and sleeping before it returns.
 *
 *     recycle run ./baseline_list && recycle plot
 *
 * Three bumps, a bracket around each call: when the function drops its
 * last reference the list and its ints die at once (reference counting),
 * inside the bracket, and the allocator hands the emptied arenas back to
 * the OS, so the resident size falls back between the calls. */
#include "seed_arrays.h"

int main(void)
{
    rc_heap *h = rc_heap_new(NULL);
    seed_three_calls(h, AS_LIST, false, NULL);
    rc_heap_free(h);
    return 0;
}
