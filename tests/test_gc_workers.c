/* Full collections split across worker threads (rc_config.gc_workers):
 * on random graphs, a collection with several workers frees the same
 * objects as one worker, in the same order, runs the same finalizers and
 * weakref callbacks in the same order and leaves the same gc.garbage.
 *
 * Each graph mixes RC_TYPE_REFS bodies, types with traverse/clear, types
 * with finalizers, types without clear (uncollectable) and large objects;
 * its edges go to neighbours in allocation order or anywhere.  The same
 * graph is built, thinned and collected in a heap with one worker and in
 * heaps with two and four, and the heaps' records compared.  RC_WORKERS_SEEDS
 * overrides how many graphs.  Every collection is planned as if no heap
 * fit in the cache: a scattered graph that fits keeps to one thread.
 *
 * Besides, when a full collection keeps to one thread: a scattered graph
 * in the cache, and a process held to one core with gc_workers left at
 * its default (no helper thread is made), and what a parallel collection
 * keeps for the next one goes when the heap it was sized for does. */
#define RC_BUILDING_CORE 1
#include "../src/core/gc_workers.h"
#include "../src/prim/prim.h"
#include "mnode.h"

#include <dirent.h>
#include <sched.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

enum { NODES = 12000, LOG_MAX = 4 * NODES };

/* What one heap did, in order. */
typedef struct record {
    uint32_t released[LOG_MAX], finalized[LOG_MAX], called[LOG_MAX], garbage[LOG_MAX], alive[LOG_MAX];
    size_t   nreleased, nfinalized, ncalled, ngarbage, nalive;
    size_t   collected[2];
    size_t   candidates;
} record;

static record *rec;   /* the heap running now */

static void note(uint32_t *v, size_t *n, uint32_t id)
{
    assert_true(*n < LOG_MAX);
    v[(*n)++] = id;
}

/* An RC_TYPE_REFS node keeps its id after its references (rc_new_var). */
static uint32_t id_of(const void *o) { return ((const mnode *)o)->id; }

static void on_release(void *self) { note(rec->released, &rec->nreleased, id_of(self)); }
static void on_finalize(void *self) { note(rec->finalized, &rec->nfinalized, id_of(self)); }

static void on_weakref(void *weakref, void *ctx)
{
    (void)weakref;
    note(rec->called, &rec->ncalled, (uint32_t)(uintptr_t)ctx);
}

enum { K_REFS, K_FN, K_FIN, K_NOCLEAR, NKINDS };
static const rc_type kinds[NKINDS] = {
    {.name = "refs", .size = MNODE_KIDS * sizeof(void *), .release = on_release, .flags = RC_TYPE_REFS},
    {.name = "fn", .size = sizeof(mnode), .traverse = mnode_traverse, .clear = mnode_clear, .release = on_release},
    {.name = "fin", .size = sizeof(mnode), .traverse = mnode_traverse, .clear = mnode_clear,
     .finalize = on_finalize, .release = on_release},
    {.name = "noclear", .size = sizeof(mnode), .traverse = mnode_traverse, .release = on_release},
};

static uint64_t rng;
static uint64_t rnd(uint64_t m)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng % m;
}

static const rc_type *pick_kind(void)
{
    uint64_t r = rnd(1000);
    return &kinds[r < 600 ? K_REFS : r < 985 ? K_FN : r < 995 ? K_FIN : K_NOCLEAR];
}

/* One in 400 nodes is large (a body past the pools' sizes). */
static mnode *node_new(rc_heap *h, uint32_t id)
{
    size_t body = rnd(400) == 0 ? 40000 : sizeof(mnode);
    mnode *m = rc_new_var(h, pick_kind(), body);
    assert_non_null(m);
    m->id = id;
    return m;
}

static void link_nodes(mnode **all, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < MNODE_KIDS; k++) {
            uint64_t r = rnd(10);
            if (r == 0)
                continue;
            size_t j = r < 6 ? (i + n + rnd(33) - 16) % n : rnd(n);
            if (k == 0 && rc_typeof(all[i]) == &kinds[K_NOCLEAR] && r < 5)
                j = i;           /* a cycle nothing can clear: gc.garbage */
            all[i]->kid[k] = all[j];
            rc_incref(all[j]);
        }
}

static int note_garbage(void *o, void *arg)
{
    (void)arg;
    note(rec->garbage, &rec->ngarbage, id_of(o));
    return 0;
}

static int note_alive(void *o, void *arg)
{
    (void)arg;
    if (rc_typeof(o) != &kinds[K_REFS] && rc_typeof(o) != &kinds[K_FN] && rc_typeof(o) != &kinds[K_FIN] &&
        rc_typeof(o) != &kinds[K_NOCLEAR])
        return 0;                /* a weakref */
    note(rec->alive, &rec->nalive, id_of(o));
    return 0;
}

/* Drops the references of `all` not kept (one in `keep`); the kept ones
 * move to the front.  Returns how many are kept. */
static size_t thin(mnode **all, size_t n, uint64_t keep)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (rnd(keep) == 0)
            all[kept++] = all[i];
        else
            rc_decref(all[i]);
    }
    return kept;
}

/* An empty heap whose full collections split across `workers` however
 * small, the collector off, its records in out. */
static rc_heap *parallel_heap(unsigned workers, record *out)
{
    memset(out, 0, sizeof *out);
    rec = out;
    rc_config cfg;
    rc_config_default(&cfg);
    cfg.gc_enabled = false;
    cfg.gc_workers = workers;
    cfg.gc_parallel_min = 0;
    rc_heap *h = rc_heap_new(&cfg);
    assert_non_null(h);
    return h;
}

/* The same, holding NODES nodes linked at random (in `all`). */
static rc_heap *random_heap(unsigned workers, mnode **all, record *out)
{
    rc_heap *h = parallel_heap(workers, out);
    for (uint32_t i = 0; i < NODES; i++)
        all[i] = node_new(h, i);
    link_nodes(all, NODES);
    return h;
}

static void run(uint64_t seed, unsigned workers, record *out)
{
    rng = seed;
    static mnode *all[NODES];
    rc_heap *h = random_heap(workers, all, out);
    void *weak[NODES];
    size_t nweak = 0;
    for (uint32_t i = 0; i < NODES; i++)
        if (rnd(50) == 0)
            weak[nweak++] = rc_weakref_new(all[i], on_weakref, (void *)(uintptr_t)i);
    size_t n = thin(all, NODES, 8);
    out->collected[0] = rc_gc_collect(h, 2);
    n = thin(all, n, 2);
    out->collected[1] = rc_gc_collect(h, 2);
    rc_gc_garbage(h, note_garbage, NULL);
    rc_gc_get_objects(h, -1, note_alive, NULL);
    out->candidates = rc_gc_get_stats(h, 2).candidates;
    for (size_t i = 0; i < n; i++)
        rc_decref(all[i]);
    for (size_t i = 0; i < nweak; i++)
        rc_decref(weak[i]);
    rc_heap_free(h);
    rec = NULL;
}

static void same_log(const char *what, const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
    if (na != nb)
        fail_msg("%s: %zu with one worker, %zu with several", what, na, nb);
    for (size_t i = 0; i < na; i++)
        if (a[i] != b[i])
            fail_msg("%s: entry %zu is node %u with one worker, %u with several", what, i, a[i], b[i]);
}

static void same_record(const record *a, const record *b)
{
    assert_int_equal(a->collected[0], b->collected[0]);
    assert_int_equal(a->collected[1], b->collected[1]);
    assert_int_equal(a->candidates, b->candidates);
    same_log("released", a->released, a->nreleased, b->released, b->nreleased);
    same_log("finalized", a->finalized, a->nfinalized, b->finalized, b->nfinalized);
    same_log("weakref callbacks", a->called, a->ncalled, b->called, b->ncalled);
    same_log("gc.garbage", a->garbage, a->ngarbage, b->garbage, b->ngarbage);
    same_log("alive", a->alive, a->nalive, b->alive, b->nalive);
}

static record one, several;

static void several_workers_free_what_one_frees_in_its_order(void **state)
{
    (void)state;
    const char *e = getenv("RC_WORKERS_SEEDS");
    uint64_t seeds = e ? strtoull(e, NULL, 10) : 6;
    for (uint64_t s = 1; s <= seeds; s++) {
        run(s * 0x9E3779B97F4A7C15ull, 1, &one);
        assert_true(one.collected[0] > 0 && one.nfinalized > 0 && one.ncalled > 0 && one.ngarbage > 0);
        for (unsigned w = 2; w <= 4; w += 2) {
            run(s * 0x9E3779B97F4A7C15ull, w, &several);
            same_record(&one, &several);
        }
    }
}

/* The same with the workers' threshold left at its default: a small heap
 * is collected on one thread, with the same results. */
static void small_heap_under_the_threshold_collects_the_same(void **state)
{
    (void)state;
    rc_config cfg;
    rc_config_default(&cfg);
    cfg.gc_workers = 4;
    rc_heap *h = rc_heap_new(&cfg);
    mnode *a = rc_new(h, &kinds[K_FN]), *b = rc_new(h, &kinds[K_FN]);
    a->kid[0] = b;
    b->kid[0] = a;
    rc_incref(a);
    rc_incref(b);
    rc_decref(a);
    rc_decref(b);
    record r = {0};
    rec = &r;
    assert_int_equal(rc_gc_collect(h, 2), 2);
    assert_int_equal(r.nreleased, 2);
    rc_heap_free(h);
    rec = NULL;
}

/* A full collection of more young objects than gc_par.c leaves to one
 * thread to set up (YOUNG_PAR_MIN): rings of RING nodes, every other one
 * dropped; `workers` of them, records in out.  Returns what it collected. */
enum { RING = 10, RINGS = 7200 };
_Static_assert(RINGS / 2 * RING < LOG_MAX, "the released log holds the dropped rings");

/* RINGS rings of RING nodes in h, each held by its first node's extra
 * reference. */
static void make_rings(rc_heap *h, mnode **first)
{
    for (uint32_t i = 0; i < RINGS; i++) {
        mnode *prev = first[i] = rc_new(h, &kinds[K_FN]);
        assert_non_null(prev);
        prev->id = i * RING;
        for (uint32_t k = 1; k < RING; k++, prev = prev->kid[0]) {
            assert_non_null(prev->kid[0] = rc_new(h, &kinds[K_FN]));
            prev->kid[0]->id = i * RING + k;
        }
        prev->kid[0] = first[i];
        rc_incref(first[i]);
    }
}

/* Every other ring loses its extra reference: half the rings are
 * garbage. */
static void drop_odd_rings(mnode **first)
{
    for (uint32_t i = 1; i < RINGS; i += 2)
        rc_decref(first[i]);
}

/* The even rings lose theirs too, and die in rc_heap_free, logged apart
 * from the heap's record. */
static void free_ring_heap(rc_heap *h, mnode **first)
{
    static record rest;
    memset(&rest, 0, sizeof rest);
    rec = &rest;
    for (uint32_t i = 0; i < RINGS; i += 2)
        rc_decref(first[i]);
    rc_heap_free(h);
    rec = NULL;
}

static size_t collect_young_rings(unsigned workers, record *out)
{
    rc_heap *h = parallel_heap(workers, out);
    static mnode *first[RINGS];
    make_rings(h, first);
    drop_odd_rings(first);
    size_t collected = rc_gc_collect(h, 2);
    free_ring_heap(h, first);
    return collected;
}

static void long_young_vector_collects_the_same(void **state)
{
    (void)state;
    assert_int_equal(collect_young_rings(1, &one), RINGS / 2 * RING);
    assert_int_equal(collect_young_rings(2, &several), RINGS / 2 * RING);
    same_log("released", one.released, one.nreleased, several.released, several.nreleased);
}

static int threads_now(void)
{
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* The threads of this process after a full collection of a random graph
 * in a heap with `workers` (parallel however small the heap). */
static int threads_after_collecting(unsigned workers)
{
    static mnode *all[NODES];
    rc_heap *h = random_heap(workers, all, &several);
    rc_gc_collect(h, 2);
    int n = threads_now();
    for (size_t i = 0; i < NODES; i++)
        rc_decref(all[i]);
    rc_heap_free(h);
    rec = NULL;
    return n;
}

static void one_thread_where_a_second_gains_nothing(void **state)
{
    (void)state;
    int before = threads_now();
    rc__os_llc_assume((size_t)1 << 30);      /* the graph fits in the cache */
    assert_int_equal(threads_after_collecting(2), before);
    rc__os_llc_assume(0);
    assert_int_equal(threads_after_collecting(2), before + 1);
    cpu_set_t all, one;
    assert_int_equal(sched_getaffinity(0, sizeof all, &all), 0);
    CPU_ZERO(&one);
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &all)) {
            CPU_SET(c, &one);
            break;
        }
    assert_int_equal(sched_setaffinity(0, sizeof one, &one), 0);
    assert_int_equal(threads_after_collecting(0), before);
    assert_int_equal(sched_setaffinity(0, sizeof all, &all), 0);
}

/* The span list a parallel collection keeps for the next stays while the
 * heap does, and goes with a collection that frees a quarter of it or
 * more. */
static void kept_scratch_goes_with_the_heap_it_was_sized_for(void **state)
{
    (void)state;
    static mnode *first[RINGS];
    rc_heap *h = parallel_heap(2, &several);
    make_rings(h, first);
    assert_int_equal(rc_gc_collect(h, 2), 0);
    bool kept = h->gc.workers != NULL;   /* else no helper on this machine: nothing kept */
    if (kept) {
        assert_true(rc__gc_workers_scratch(h)->spans_cap > 0);
        assert_int_equal(rc_gc_collect(h, 2), 0);
        assert_true(rc__gc_workers_scratch(h)->spans_cap > 0);
    }
    drop_odd_rings(first);
    assert_int_equal(rc_gc_collect(h, 2), RINGS / 2 * RING);
    if (kept)
        assert_int_equal(rc__gc_workers_scratch(h)->spans_cap, 0);
    free_ring_heap(h, first);
    if (!kept)
        skip();
}

int main(void)
{
    rc__os_llc_assume(0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(several_workers_free_what_one_frees_in_its_order),
        cmocka_unit_test(small_heap_under_the_threshold_collects_the_same),
        cmocka_unit_test(long_young_vector_collects_the_same),
        cmocka_unit_test(one_thread_where_a_second_gains_nothing),
        cmocka_unit_test(kept_scratch_goes_with_the_heap_it_was_sized_for),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
