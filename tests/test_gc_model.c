/* Model-based randomized test of reference counting + the collector.
 *
 * Random graph edits (create, link, unlink, take and drop external
 * references, collect any generation) run against a heap and against a
 * plain model of the same graph; stretches that only add objects, linked
 * mostly by handing over the new reference (no decref: automatic
 * collections then promote without a scan), come between.  Checked after
 * every operation: nothing reachable from an external reference has been
 * released and its children are exactly the model's.  Checked after
 * every full collection: exactly the objects unreachable from external
 * references have been released, each exactly once.
 *
 * Every RC_MODEL_CHECK_EVERY operations (default 100) and after every
 * collection rc_heap_check validates the whole heap.  Every PEAK_EVERY
 * operations a peak is made with the collector off and mostly dropped, so
 * the collector's memory grows and shrinks back (small thresholds in the
 * debug builds make it shrink on ordinary operations too).
 *
 * RC_MODEL_OPS (default 1000000) and RC_MODEL_SEED override the run.
 */
#include <recycle.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mnode.h"
#include "neighbor.h"

#define KIDS MNODE_KIDS
#define MAX_REACHABLE 256

typedef struct model {
    uint32_t n;              /* objects created so far */
    uint32_t cap;
    int32_t (*kid)[KIDS];    /* model edges, by id (-1: none) */
    uint32_t *ext;           /* external references held, by id */
    uint8_t  *released;      /* release count, by id */
    mnode   **ptr;           /* the object, while the model says it may live */
    uint32_t *reach;         /* ids reachable from external references */
    uint32_t  nreach;
    uint32_t *mark;          /* == epoch: reachable in the last computation */
    uint32_t  epoch;
    uint32_t *held, *held_pos, nheld;   /* ids with ext > 0, and where */
    uint32_t *pending, npending;        /* ids not released yet */
    uint64_t  reach_total;              /* for the average population */
} model;

static model M;

static void mnode_release(void *self)
{
    uint32_t id = ((mnode *)self)->id;
    assert_int_equal(M.released[id], 0);   /* released exactly once */
    M.released[id]++;
}

static const rc_type mnode_type = {"mnode", sizeof(mnode), mnode_traverse, mnode_clear, NULL, mnode_release, 0, NULL, 0};
/* The same layout with the runtime doing traverse and clear (RC_TYPE_REFS),
 * and with the kids declared (ref_words: the collector reads them instead
 * of calling traverse): a third of the objects are of each kind, so the
 * paths meet in one graph. */
static const rc_type mnode_refs_type = {"mnode_refs", KIDS * sizeof(void *), NULL, NULL, NULL,
                                        mnode_release, RC_TYPE_REFS, NULL, 0};
static const rc_type mnode_words_type = {"mnode_words", sizeof(mnode), mnode_traverse, mnode_clear, NULL,
                                         mnode_release, 0, NULL, MNODE_REF_WORDS};

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static void hold(uint32_t id)
{
    if (M.ext[id]++ == 0) {
        M.held_pos[id] = M.nheld;
        M.held[M.nheld++] = id;
    }
}

static void unhold(uint32_t id)
{
    if (--M.ext[id] == 0) {
        uint32_t last = M.held[--M.nheld];
        M.held[M.held_pos[id]] = last;
        M.held_pos[last] = M.held_pos[id];
    }
}

static void compute_reachable(void)
{
    M.epoch++;
    M.nreach = 0;
    for (uint32_t i = 0; i < M.nheld; i++) {
        M.mark[M.held[i]] = M.epoch;
        M.reach[M.nreach++] = M.held[i];
    }
    for (uint32_t i = 0; i < M.nreach; i++)
        for (int k = 0; k < KIDS; k++) {
            int32_t c = M.kid[M.reach[i]][k];
            if (c >= 0 && M.mark[c] != M.epoch) {
                M.mark[c] = M.epoch;
                M.reach[M.nreach++] = (uint32_t)c;
            }
        }
}

static void check_reachable_intact(void)
{
    for (uint32_t i = 0; i < M.nreach; i++) {
        uint32_t id = M.reach[i];
        assert_int_equal(M.released[id], 0);
        mnode *m = M.ptr[id];
        assert_int_equal(m->id, id);
        for (int k = 0; k < KIDS; k++) {
            int32_t c = M.kid[id][k];
            assert_ptr_equal(m->kid[k], c >= 0 ? M.ptr[c] : NULL);
        }
    }
}

/* After a full collection: released exactly once iff unreachable. */
static void check_after_full_collection(void)
{
    uint32_t w = 0;
    for (uint32_t i = 0; i < M.npending; i++) {
        uint32_t id = M.pending[i];
        bool reachable = M.mark[id] == M.epoch;
        assert_int_equal(M.released[id], reachable ? 0 : 1);
        if (reachable)
            M.pending[w++] = id;
    }
    M.npending = w;
}

static mnode *pick(void)
{
    return M.nreach ? M.ptr[M.reach[rnd(M.nreach)]] : NULL;
}

static void set_kid(mnode *a, int k, mnode *b)
{
    mnode *old = a->kid[k];
    if (b)
        rc_incref(b);
    a->kid[k] = b;
    M.kid[a->id][k] = b ? (int32_t)b->id : -1;
    if (old)
        rc_decref(old);
}

static void op_create(rc_heap *h)
{
    assert_true(M.n < M.cap);
    uint32_t kind = rnd(3);
    mnode *m = kind == 0   ? rc_new(h, &mnode_type)
               : kind == 1 ? rc_new(h, &mnode_words_type)
                           : rc_new_var(h, &mnode_refs_type, sizeof(mnode));
    assert_non_null(m);
    m->id = M.n++;
    M.ptr[m->id] = m;
    M.pending[M.npending++] = m->id;
    hold(m->id);
    for (int k = 0; k < KIDS; k++)
        M.kid[m->id][k] = -1;
}

/* A new object stored in an empty slot of a reachable one (itself, for
 * self) by handing over our reference: no incref, no decref, as trees are
 * built.  Stretches of these dirty no generation, so the automatic
 * collections among them promote without a scan; a self-cycle made this
 * way is garbage at once, for the next scanning collection. */
static void op_create_stolen(rc_heap *h, bool self)
{
    mnode *a = self ? NULL : pick();
    int k = (int)rnd(KIDS);
    if (!self && (!a || a->kid[k])) {
        op_create(h);
        return;
    }
    op_create(h);
    uint32_t id = M.n - 1;
    if (self)
        a = M.ptr[id];
    a->kid[k] = M.ptr[id];
    M.kid[a->id][k] = (int32_t)id;
    unhold(id);
}

static void op_drop_external(void)
{
    /* an object we hold a reference to */
    if (M.nheld) {
        uint32_t id = M.held[rnd(M.nheld)];
        unhold(id);
        rc_decref(M.ptr[id]);
    }
}

static uint64_t check_every = 100, ops_done, heap_checks;

static void check_heap(rc_heap *h)
{
    int rc = rc_heap_check(h);
    heap_checks++;
    if (rc != 0)
        fail_msg("rc_heap_check after %llu operations: %s", (unsigned long long)ops_done, rc_last_error(h));
}

/* 300 of every 1000 operations only add objects, by stolen references
 * mostly: automatic collections of clean generations happen in them. */
static bool quiet_step(rc_heap *h)
{
    if (ops_done % 1000 >= 300 || M.nreach > MAX_REACHABLE)
        return false;
    uint32_t r = rnd(100);
    if (r < 2)
        op_create_stolen(h, true);
    else if (r < 80)
        op_create_stolen(h, false);
    else
        op_create(h);
    return true;
}

/* Collects generation gen; true when it was a full collection, whose
 * checks leave nothing for this step to check. */
static bool collect_and_check(rc_heap *h, int gen)
{
    rc_gc_collect(h, gen);
    check_heap(h);
    if (gen != 2)
        return false;
    compute_reachable();
    check_after_full_collection();
    return true;
}

/* A program's peak: PEAK_SIZE objects made with the collector off, each
 * referencing the one made before and an object of the graph, the first
 * of every 64 the last of them (chains and cycles, garbage once dropped);
 * one in 16 stays held.  Then the collector is switched on again. */
enum { PEAK_EVERY = 50000, PEAK_SIZE = 3000 };

static void op_peak(rc_heap *h)
{
    rc_gc_disable(h);
    uint32_t first = M.n;
    for (uint32_t i = 0; i < PEAK_SIZE; i++) {
        op_create(h);
        mnode *m = M.ptr[M.n - 1];
        set_kid(m, 0, i % 64 ? M.ptr[M.n - 2] : NULL);
        set_kid(m, 2, pick());
        if (i % 64 == 63)
            set_kid(M.ptr[M.n - 64], 1, m);
    }
    for (uint32_t id = first; id < M.n; id++)
        if (rnd(16) != 0) {
            unhold(id);
            rc_decref(M.ptr[id]);
        }
    rc_gc_enable(h);
}

static void step(rc_heap *h)
{
    if (++ops_done % check_every == 0)
        check_heap(h);
    if (ops_done % PEAK_EVERY == 0) {
        op_peak(h);
        if (collect_and_check(h, (int)rnd(3)))
            return;
        compute_reachable();
        check_reachable_intact();
        return;
    }
    if (quiet_step(h)) {
        compute_reachable();
        check_reachable_intact();
        M.reach_total += M.nreach;
        return;
    }
    uint32_t r = rnd(100);
    bool crowded = M.nreach > MAX_REACHABLE;
    if (r < 20 && !crowded) {
        op_create(h);
    } else if (r < 45) {
        mnode *a = pick(), *b = pick();
        if (a)
            set_kid(a, (int)rnd(KIDS), b);
    } else if (r < 55) {
        mnode *a = pick();
        if (a)
            set_kid(a, (int)rnd(KIDS), NULL);
    } else if (r < 62 && !crowded) {
        mnode *a = pick();
        if (a) {
            rc_incref(a);
            hold(a->id);
        }
    } else if (r < 97) {
        if (M.nheld > 40)        /* keep a population worth colliding in */
            op_drop_external();
        else
            op_create(h);
    } else if (collect_and_check(h, (int)rnd(3))) {
        return;
    }
    compute_reachable();
    check_reachable_intact();
    M.reach_total += M.nreach;
}

static void random_graph_edits_match_the_model(void **state)
{
    (void)state;
    const char *e = getenv("RC_MODEL_OPS");
    uint64_t ops = e ? strtoull(e, NULL, 10) : 1000000;
    e = getenv("RC_MODEL_SEED");
    rng_state = e ? strtoull(e, NULL, 10) : 0x9E3779B97F4A7C15ULL;
    if (!rng_state)
        rng_state = 1;
    e = getenv("RC_MODEL_CHECK_EVERY");
    if (e && strtoull(e, NULL, 10) > 0)
        check_every = strtoull(e, NULL, 10);
    printf("model test: %llu operations, seed %llu\n", (unsigned long long)ops,
           (unsigned long long)rng_state);

    M.cap = (uint32_t)(ops / 2 + 16 + (ops / PEAK_EVERY) * PEAK_SIZE);
    M.kid = malloc(M.cap * sizeof *M.kid);
    M.ext = calloc(M.cap, sizeof *M.ext);
    M.released = calloc(M.cap, 1);
    M.ptr = calloc(M.cap, sizeof *M.ptr);
    M.reach = malloc(M.cap * sizeof *M.reach);
    M.mark = calloc(M.cap, sizeof *M.mark);
    M.held = malloc(M.cap * sizeof *M.held);
    M.held_pos = malloc(M.cap * sizeof *M.held_pos);
    M.pending = malloc(M.cap * sizeof *M.pending);
    assert_true(M.kid && M.ext && M.released && M.ptr && M.reach && M.mark && M.held &&
                M.held_pos && M.pending);

    rc_heap *h = rc_heap_new(NULL);
    neighbor_start(h);
    rc_gc_set_threshold(h, 50, 5, 5);   /* automatic collections happen too */
    for (uint64_t i = 0; i < ops; i++)
        step(h);
    /* drop every external reference: after a full collection nothing is left */
    while (M.nheld) {
        uint32_t id = M.held[0];
        unhold(id);
        rc_decref(M.ptr[id]);
    }
    rc_gc_collect(h, 2);
    check_heap(h);
    compute_reachable();
    assert_int_equal(M.nreach, 0);
    check_after_full_collection();
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    assert_int_equal(mi.live_objects, rc_heap_is_threaded(h) && getenv("RC_TEST_NEIGHBOR") ? 1 : 0);
    rc_gc_stats s0 = rc_gc_get_stats(h, 0), s1 = rc_gc_get_stats(h, 1);
    assert_true(s0.collections > 0);
    if (ops >= 10000 && !rc_heap_is_threaded(h))   /* quiet stretches long enough for a clean collection */
        assert_true(s0.unscanned > 0);
    printf("model test: %u objects, %.1f reachable on average, %zu gen-0 collections (%zu unscanned), "
           "%zu gen-1 (%zu), %llu heap checks\n",
           M.n, (double)M.reach_total / (double)ops, s0.collections, s0.unscanned, s1.collections,
           s1.unscanned, (unsigned long long)heap_checks);
    neighbor_stop();
    rc_heap_free(h);
    free(M.kid); free(M.ext); free(M.released); free(M.ptr); free(M.reach); free(M.mark);
    free(M.held); free(M.held_pos); free(M.pending);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_graph_edits_match_the_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
