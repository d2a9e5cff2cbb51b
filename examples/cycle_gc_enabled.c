/* Experiment 4 (seed 001, cr_only.py): the same self-referencing list with
 * the cycle collector enabled.
 *
 * Still stairs.  An automatic collection runs only when count0 (tracked
 * allocations minus deallocations) passes threshold 0 = 700.  The ints are
 * not tracked (they hold no references), so each call adds only its two
 * lists to count0: after three calls it is far below 700 and no collection
 * has run.  rc_gc_get_count shows it. */
#include "seed_arrays.h"

static void show_count(rc_heap *h, int call, bool after)
{
    if (!after)
        return;
    size_t c[3];
    rc_gc_get_count(h, c);
    printf("after call %d: rc_gc_get_count = (%zu, %zu, %zu)\n", call, c[0], c[1], c[2]);
    printf("RESULT count0_after_call%d %zu\n", call, c[0]);
}

int main(void)
{
    rc_heap *h = rc_heap_new(NULL);
    size_t t[3];
    rc_gc_get_threshold(h, t);
    printf("rc_gc_isenabled: %s, thresholds (%zu, %zu, %zu)\n", rc_gc_isenabled(h) ? "true" : "false",
           t[0], t[1], t[2]);
    seed_three_calls(h, AS_LIST, true, show_count);
    size_t runs = 0;
    for (int g = 0; g < 3; g++)
        runs += rc_gc_get_stats(h, g).collections;
    printf("automatic collections so far: %zu\n", runs);
    printf("RESULT threshold0 %zu\nRESULT collections %zu\n", t[0], runs);
    rc_heap_free(h);
    return 0;
}
