/* Full collections of heaps of tens of thousands of objects against a
 * model: the paths small heaps never take (prefetching and marking first
 * for scattered graphs, the fused scan with late objects for ordered ones,
 * dead sets freed in place pool by pool, or through the dead vector when a
 * member has traverse/clear functions).
 *
 * Each round adds a batch of nodes linked among themselves and to nodes
 * alive before (nearby in address order, or anywhere), gives some of them
 * external references, then drops some external references old and new,
 * and collects.  Afterwards exactly the nodes reachable from external
 * references are alive, with their children unchanged, every untracked
 * leaf of a dead node is gone, and rc_heap_check passes.  RC_BIG_ROUNDS
 * and RC_BIG_SEED override the run; RC_BIG_NO_CACHE=1 plans collections
 * as if no heap fit in the cache (the paths of heaps of gigabytes:
 * prefetching through traverse functions, branched marking). */
#include "../src/prim/prim.h"
#include "node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { KIDS = 3, BATCH = 3000, MAXN = 200000 };

typedef struct big { void *ref[KIDS]; } big;

static int big_traverse(void *self, rc_visit visit, void *arg)
{
    big *b = self;
    for (int i = 0; i < KIDS; i++) {
        int rv = b->ref[i] ? visit(b->ref[i], arg) : 0;
        if (rv)
            return rv;
    }
    return 0;
}

static void big_clear(void *self)
{
    big *b = self;
    for (int i = 0; i < KIDS; i++)
        RC_CLEAR(b->ref[i]);
}

static size_t released;
static void big_release(void *self)
{
    (void)self;
    released++;
}

enum { K_REFS, K_REFS_REL, K_FN, K_WORDS, NKINDS };
static const rc_type kinds[NKINDS] = {
    {.name = "refs", .size = sizeof(big), .flags = RC_TYPE_REFS},
    {.name = "refs_rel", .size = sizeof(big), .release = big_release, .flags = RC_TYPE_REFS},
    {.name = "fn", .size = sizeof(big), .traverse = big_traverse, .clear = big_clear, .release = big_release},
    {.name = "words", .size = sizeof(big), .traverse = big_traverse, .clear = big_clear,
     .ref_words = RC_REF_WORD(big, ref[0]) | RC_REF_WORD(big, ref[1]) | RC_REF_WORD(big, ref[2])},
};
static const rc_type leaf_type = {.name = "leaf", .size = 16};

/* The model: node i's kids (-1: none, -2: its own untracked leaf), its
 * external references, and whether it is alive. */
static big   *ptr[MAXN];
static int    kid[MAXN][KIDS];
static int    ext[MAXN];
static bool   alive[MAXN], reach[MAXN];
static int    queue[MAXN];
static int    n;
static uint64_t rng;

static uint64_t rnd(uint64_t m)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng % m;
}

static size_t live_objects(rc_heap *h)
{
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    return mi.live_objects;
}

/* Marks reach[] from the external references; returns how many. */
static int compute_reach(void)
{
    int head = 0, tail = 0;
    memset(reach, 0, (size_t)n * sizeof *reach);
    for (int i = 0; i < n; i++)
        if (alive[i] && ext[i] > 0) {
            reach[i] = true;
            queue[tail++] = i;
        }
    while (head < tail) {
        int i = queue[head++];
        for (int k = 0; k < KIDS; k++) {
            int j = kid[i][k];
            if (j >= 0 && !reach[j]) {
                reach[j] = true;
                queue[tail++] = j;
            }
        }
    }
    return tail;
}

/* A node alive now to link to, or -1: one of the last round's survivors. */
static int pick_old(int first_new)
{
    for (int tries = 0; tries < 8 && first_new > 0; tries++) {
        int j = (int)rnd((uint64_t)first_new);
        if (alive[j])
            return j;
    }
    return -1;
}

static int count_one(void *o, void *arg)
{
    (void)o;
    ++*(size_t *)arg;
    return 0;
}

/* scattered: a third of the edges go anywhere (the collector prefetches,
 * marks first and settles); else nearly all go next door (the fused scan,
 * with objects found dead and reached later). */
static void round_(rc_heap *h, int round, bool scattered)
{
    int mix = round % 4;                         /* which kinds the batch holds */
    int first = n;
    assert_true(n + BATCH <= MAXN);
    for (int b = 0; b < BATCH; b++, n++) {
        int kind = mix == 0 ? K_REFS : mix == 1 ? (int)rnd(2) : mix == 2 ? (int)rnd(NKINDS) : K_FN + (int)rnd(2);
        ptr[n] = rc_new(h, &kinds[kind]);
        assert_non_null(ptr[n]);
        alive[n] = true;
        ext[n] = 1;                              /* ours while the batch is built */
        for (int k = 0; k < KIDS; k++)
            kid[n][k] = -1;
    }
    for (int i = first; i < n; i++)
        for (int k = 0; k < KIDS; k++) {
            uint64_t what = rnd(64);
            int j = -1;
            if (what < (scattered ? 20u : 1u))
                j = first + (int)rnd((uint64_t)(n - first));          /* anywhere in the batch */
            else if (what < 44) {
                int near = i + 1 + (int)rnd(4) - (int)rnd(3);           /* next door, mostly ahead */
                j = near >= first && near < n ? near : first;
            } else if (what < (scattered ? 52u : 45u))
                j = pick_old(first);
            else if (what < 54)
                j = -2;
            if (j == -2) {
                ptr[i]->ref[k] = rc_new(h, &leaf_type);
                assert_non_null(ptr[i]->ref[k]);
            } else if (j >= 0) {
                ptr[i]->ref[k] = rc_newref(ptr[j]);
            }
            kid[i][k] = j;
        }
    /* Keep a few of the batch from outside; drop some old roots too. */
    for (int i = first; i < n; i++)
        if (rnd(20) != 0) {
            ext[i] = 0;
            rc_decref(ptr[i]);
        }
    for (int i = 0; i < first; i++)
        if (alive[i] && ext[i] > 0 && rnd(4) == 0) {
            ext[i] = 0;
            rc_decref(ptr[i]);
        }
    /* Nothing is touched from here to the collection: unreachable nodes may
     * already have died by reference count. */
    rc_gc_collect(h, 2);
    int nreach = compute_reach();
    size_t leaves = 0;
    for (int i = 0; i < n; i++) {
        if (alive[i] && !reach[i])
            alive[i] = false;
        if (!alive[i])
            continue;
        if (!rc_is_object(h, ptr[i]))
            fail_msg("round %d: node %d reachable but freed", round, i);
        for (int k = 0; k < KIDS; k++) {
            int j = kid[i][k];
            if (j >= 0)
                assert_ptr_equal(ptr[i]->ref[k], ptr[j]);
            else if (j == -2) {
                leaves++;
                if (!rc_is_object(h, ptr[i]->ref[k]))
                    fail_msg("round %d: node %d's leaf freed", round, i);
                assert_ptr_equal(rc_typeof(ptr[i]->ref[k]), &leaf_type);
            }
            else
                assert_null(ptr[i]->ref[k]);
        }
    }
    size_t tracked = 0;
    rc_gc_get_objects(h, -1, count_one, &tracked);
    if (tracked != (size_t)nreach || live_objects(h) != (size_t)nreach + leaves)
        fail_msg("round %d: %zu objects alive, %zu tracked; the model has %d nodes and %zu leaves", round,
                 live_objects(h), tracked, nreach, leaves);
    if (rc_heap_check(h) != 0)
        fail_msg("round %d: rc_heap_check: %s", round, rc_last_error(h));
}

static void run(bool scattered)
{
    int rounds = getenv("RC_BIG_ROUNDS") ? atoi(getenv("RC_BIG_ROUNDS")) : 24;
    rng = getenv("RC_BIG_SEED") ? strtoull(getenv("RC_BIG_SEED"), NULL, 10) : 20261123;
    rc_heap *h = rc_heap_new(NULL);
    assert_non_null(h);
    rc_gc_disable(h);
    assert_int_equal(live_objects(h), 0);
    n = 0;
    released = 0;
    for (int r = 0; r < rounds && n + BATCH <= MAXN; r++)
        round_(h, r, scattered);
    for (int i = 0; i < n; i++)
        if (alive[i] && ext[i] > 0) {
            ext[i] = 0;
            rc_decref(ptr[i]);
        }
    rc_gc_collect(h, 2);
    assert_int_equal(live_objects(h), 0);
    assert_true(released > 0);
    rc_heap_free(h);
}

static void ordered_heaps_collect_exactly_the_unreachable(void **state)
{
    (void)state;
    run(false);
}

static void scattered_heaps_collect_exactly_the_unreachable(void **state)
{
    (void)state;
    run(true);
}

int main(void)
{
    if (getenv("RC_BIG_NO_CACHE"))
        rc__os_llc_assume(0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ordered_heaps_collect_exactly_the_unreachable),
        cmocka_unit_test(scattered_heaps_collect_exactly_the_unreachable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
