/* bench/plain_ops: the plain-heap operations whose instruction counts
 * docs/threads.md compares before and after threaded heaps (a plain heap
 * must not pay for them): 10^6 rounds of one workload, timed in CPU ns per
 * round.  Count instructions with
 *   valgrind --tool=callgrind --callgrind-out-file=/dev/null build/bench/plain_ops W
 * The file builds against any librecycle.a with the public header alone:
 *   cc -O2 -Iinclude bench/plain_ops.c build/librecycle.a -lpthread -lm
 * usage: plain_ops [W]   W = 1 refcounting, 2 allocation, 3 list, 0 all
 */
#include <recycle.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pair.h"

/* Two increfs and two decrefs. */
static void refcounting(void *o)
{
    rc_incref(o);
    rc_incref(o);
    rc_decref(o);
    rc_decref(o);
}

/* A pair and two leaves made, the pair dropped (all three die). */
static void allocation(rc_heap *h)
{
    pair *p = rc_new(h, &pair_type);
    p->a = rc_new(h, &leaf_type);
    p->b = rc_new(h, &leaf_type);
    rc_decref(p);
}

/* An append and a len; the list is cleared past 64 items. */
static void list_ops(void *l, void *o)
{
    rc_list_append(l, o);
    if (rc_list_len(l) > 64)
        rc_list_clear(l);
}

int main(int argc, char **argv)
{
    int w = argc > 1 ? atoi(argv[1]) : 0;
    if (argc > 2 || w < 0 || w > 3) {
        fprintf(stderr, "usage: plain_ops [0|1|2|3]\n");
        return 2;
    }
    enum { ROUNDS = 1000000 };
    rc_heap *h = rc_heap_new(NULL);
    void *o = rc_new(h, &leaf_type), *l = rc_list_new(h, 0);
    if (!h || !o || !l)
        return 1;
    clock_t t0 = clock();
    for (int i = 0; i < ROUNDS; i++) {
        if (w == 0 || w == 1)
            refcounting(o);
        if (w == 0 || w == 2)
            allocation(h);
        if (w == 0 || w == 3)
            list_ops(l, o);
    }
    double ns = (double)(clock() - t0) / CLOCKS_PER_SEC * 1e9 / ROUNDS;
    printf("plain heap, workload %d: %.1f ns CPU per round (instruction counts: valgrind --tool=callgrind)\n", w, ns);
    rc_decref(l);
    rc_decref(o);
    rc_heap_free(h);
    return 0;
}
