/* Experiment 5 (seed 001, manual_gc_cr.py): the self-referencing list, and
 * a manual rc_gc_collect between the second and the third call.
 *
 * Memory climbs for two calls, then falls back to where it started: the
 * collection finds the two dead self-referencing lists, clears them, and
 * their ints die with them.  The program prints how long it took and how
 * many objects it freed.  With the argument "array" the holders keep int64
 * arrays (as numpy arrays in the seed): two buffers to free instead of ten
 * million objects, which is where the seed's ~5 ms came from. */
#include "seed_arrays.h"

#include <string.h>

static void collect_after_second(rc_heap *h, int call, bool after)
{
    if (call != 2 || !after)
        return;
    rc_memory_info before, now;
    rc_heap_memory(h, &before);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t found = rc_gc_collect(h, 2);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    rc_heap_memory(h, &now);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    printf("rc_gc_collect(h, 2) took %.3f ms: %zu unreachable objects found, "
           "%zu objects freed in all (%.1f MiB)\n",
           ms, found, before.live_objects - now.live_objects,
           (double)(before.requested - now.requested) / 1048576.0);
    printf("(rc_gc_get_stats(h, 2).duration_ns: %.3f ms)\n", (double)rc_gc_get_stats(h, 2).duration_ns / 1e6);
    printf("RESULT collect_ms %.3f\nRESULT collect_found %zu\nRESULT collect_freed %zu\n", ms, found,
           before.live_objects - now.live_objects);
}

int main(int argc, char **argv)
{
    rc_heap *h = rc_heap_new(NULL);
    bool array = argc > 1 && !strcmp(argv[1], "array");
    seed_three_calls(h, array ? AS_ARRAY : AS_LIST, true, collect_after_second);
    rc_heap_free(h);
    return 0;
}
