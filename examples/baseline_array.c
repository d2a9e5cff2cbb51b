/* Experiment 1, array variant (seed 001 with numpy's randint): the same
 * three calls with a typed int64 array of 5 million elements (40 MB)
 * instead of a list of int objects (about 200 MB).  The same three bumps,
 * smaller: one buffer instead of 5 million objects. */
#include "seed_arrays.h"

int main(void)
{
    rc_heap *h = rc_heap_new(NULL);
    seed_three_calls(h, AS_ARRAY, false, NULL);
    rc_heap_free(h);
    return 0;
}
