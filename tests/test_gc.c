/* The collector: every rule of the gc module recycle.h promises (CPython
 * 3.12 semantics: thresholds, generations, finalizers, weakrefs, garbage). */
#include "node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rc_heap *heap(void)
{
    rc_config cfg;
    rc_config_default(&cfg);
    rc_heap *h = rc_heap_new(&cfg);
    assert_non_null(h);
    node_reset_counts();
    return h;
}

static void self_cycle_survives_decref_and_is_collected(void **state)
{
    (void)state;
    rc_heap *h = heap();
    node *a = node_new(h, &node_type, 1);
    node_set(a, 0, a);
    assert_int_equal(rc_refcount(a), 2);
    rc_decref(a);
    assert_int_equal(node_released, 0);   /* refcounting cannot free it */
    assert_int_equal(rc_gc_collect(h, 2), 1);
    assert_int_equal(node_released, 1);
    rc_heap_free(h);
}

static void two_node_cycle_counts_both(void **state)
{
    (void)state;
    rc_heap *h = heap();
    node *a = node_new(h, &node_type, 1), *b = node_new(h, &node_type, 2);
    node_set(a, 0, b);
    node_set(b, 0, a);
    rc_decref(a);
    rc_decref(b);
    assert_int_equal(rc_gc_collect(h, 0), 2);
    assert_int_equal(node_released, 2);
    rc_gc_stats st = rc_gc_get_stats(h, 0);
    assert_int_equal(st.collections, 1);
    assert_int_equal(st.collected, 2);
    assert_true(st.candidates >= 2);
    rc_heap_free(h);
}

typedef struct gen_count { int n; } gen_count;

static int count_visit(void *o, void *arg)
{
    (void)o;
    ((gen_count *)arg)->n++;
    return 0;
}

static int gen_size(rc_heap *h, int g)
{
    gen_count c = {0};
    assert_int_equal(rc_gc_get_objects(h, g, count_visit, &c), 0);
    return c.n;
}

/* The young vector gives its slots back in whatever order a batch dies,
 * half of it in gen 1 and half in gen 0: after each death the heap check
 * passes (the vector's length, gen 0's start and its count of holes agree
 * with the slots) and each generation holds just the objects alive in it. */
static void young_slots_come_back_in_any_death_order(void **state)
{
    (void)state;
    enum { N = 12, ORDERS = 3 };
    static const int orders[ORDERS][N] = {
        {11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0},     /* newest first */
        {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},     /* oldest first */
        {5, 11, 0, 6, 10, 1, 7, 9, 2, 8, 3, 4},     /* scattered */
    };
    for (int k = 0; k < ORDERS; k++) {
        rc_heap *h = heap();
        rc_gc_disable(h);
        node *v[N];
        for (int i = 0; i < N; i++) {
            if (i == N / 2)
                assert_int_equal(rc_gc_collect(h, 0), 0);   /* the first half goes to gen 1 */
            v[i] = node_new(h, &node_type, i);
        }
        int alive[2] = {N / 2, N / 2};                      /* gen 1, gen 0 */
        for (int j = 0; j < N; j++) {
            int i = orders[k][j];
            rc_decref(v[i]);
            alive[i >= N / 2]--;
            assert_int_equal(rc_heap_check(h), 0);
            assert_int_equal(gen_size(h, 1), alive[0]);
            assert_int_equal(gen_size(h, 0), alive[1]);
        }
        node *a = node_new(h, &node_type, N);
        assert_int_equal(gen_size(h, 0), 1);
        assert_int_equal(gen_size(h, 1), 0);
        rc_decref(a);
        assert_int_equal(rc_heap_check(h), 0);
        rc_heap_free(h);
    }
}

/* root is referenced by no candidate: its word stays 0 through a full
 * collection's counting, and the scan must still traverse it as a root. */
static void reachable_objects_survive_intact(void **state)
{
    (void)state;
    rc_heap *h = heap();
    node *root = node_new(h, &node_type, 1);
    node *a = node_new(h, &node_type, 2), *b = node_new(h, &node_type, 3);
    node_set(root, 0, a);
    node_set(a, 0, b);
    node_set(b, 0, a);
    rc_decref(a);
    rc_decref(b);
    assert_int_equal(rc_gc_collect(h, 2), 0);
    assert_int_equal(rc_gc_collect(h, 2), 0);     /* and again from gen 2 */
    assert_int_equal(node_released, 0);
    assert_int_equal(gen_size(h, 2), 3);
    assert_int_equal(rc_heap_check(h), 0);
    assert_ptr_equal(((node *)root->child[0])->child[0], b);
    assert_int_equal(rc_refcount(a), 2);
    rc_decref(root);          /* now the a<->b cycle is garbage */
    assert_int_equal(rc_gc_collect(h, 2), 2);
    assert_int_equal(node_released, 3);
    rc_heap_free(h);
}

static void refcount_zero_frees_at_once(void **state)
{
    (void)state;
    rc_heap *h = heap();
    node *a = node_new(h, &node_type, 1);
    node *leaf = node_new(h, &node_leaf_type, 2);
    node_set(a, 0, leaf);
    rc_decref(leaf);
    assert_int_equal(rc_refcount(leaf), 1);
    rc_decref(a);
    assert_int_equal(node_released, 2);
    assert_false(rc_gc_is_tracked(node_new(h, &node_leaf_type, 3)));
    rc_heap_free(h);
}

static void long_chain_dies_without_deep_recursion(void **state)
{
    (void)state;
    rc_heap *h = heap();
    node *head = node_new(h, &node_type, 0);
    node *cur = head;
    for (long i = 1; i < 300000; i++) {
        node *n = node_new(h, &node_type, i);
        node_set(cur, 0, n);
        rc_decref(n);
        cur = n;
    }
    rc_decref(head);
    assert_int_equal(node_released, 300000);
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    assert_int_equal(mi.live_objects, 0);
    rc_heap_free(h);
}

static void disabled_collector_never_runs_automatically(void **state)
{
    (void)state;
    rc_heap *h = heap();
    rc_gc_disable(h);
    assert_false(rc_gc_isenabled(h));
    for (int i = 0; i < 5000; i++) {
        node *a = node_new(h, &node_type, i);
        node_set(a, 0, a);
        rc_decref(a);
    }
    assert_int_equal(rc_gc_get_stats(h, 0).collections, 0);
    assert_int_equal(node_released, 0);
    size_t count[3];
    rc_gc_get_count(h, count);
    assert_int_equal(count[0], 5000);
    rc_gc_enable(h);
    assert_true(rc_gc_isenabled(h));
    assert_int_equal(rc_gc_collect(h, 2), 5000);
    rc_heap_free(h);
}

static void automatic_collection_starts_past_threshold0(void **state)
{
    (void)state;
    rc_heap *h = heap();
    size_t t[3];
    rc_gc_get_threshold(h, t);
    assert_int_equal(t[0], 700);
    assert_int_equal(t[1], 10);
    assert_int_equal(t[2], 10);
    node *keep[701];
    for (int i = 0; i < 701; i++)
        keep[i] = node_new(h, &node_type, i);
    size_t count[3];
    rc_gc_get_count(h, count);
    assert_int_equal(count[0], 701);
    assert_int_equal(rc_gc_get_stats(h, 0).collections, 0);
    node *one_more = node_new(h, &node_type, 701);   /* count0 > 700: collect first */
    assert_int_equal(rc_gc_get_stats(h, 0).collections, 1);
    rc_gc_get_count(h, count);
    assert_int_equal(count[0], 1);
    assert_int_equal(count[1], 1);
    rc_decref(one_more);
    for (int i = 0; i < 701; i++)
        rc_decref(keep[i]);
    rc_heap_free(h);
}

static void threshold_zero_disables(void **state)
{
    (void)state;
    rc_heap *h = heap();
    rc_gc_set_threshold(h, 0, 5, 5);
    for (int i = 0; i < 2000; i++)
        rc_decref(node_new(h, &node_type, i));
    assert_int_equal(rc_gc_get_stats(h, 0).collections, 0);
    rc_gc_set_threshold(h, 100, 5, 5);
    size_t t[3];
    rc_gc_get_threshold(h, t);
    assert_int_equal(t[0], 100);
    assert_int_equal(t[2], 5);
    rc_heap_free(h);
}

static void survivors_move_to_next_generation(void **state)
{
    (void)state;
    rc_heap *h = heap();
    node *a = node_new(h, &node_type, 1);
    node *b = node_new(h, &node_type, 2);
    assert_int_equal(gen_size(h, 0), 2);
    rc_gc_collect(h, 0);
    assert_int_equal(gen_size(h, 0), 0);
    assert_int_equal(gen_size(h, 1), 2);
    node *c = node_new(h, &node_type, 3);
    assert_int_equal(gen_size(h, 0), 1);
    rc_gc_collect(h, 1);
    assert_int_equal(gen_size(h, 0), 0);
    assert_int_equal(gen_size(h, 1), 0);
    assert_int_equal(gen_size(h, 2), 3);
    assert_int_equal(gen_size(h, -1), 3);
    size_t count[3];
    rc_gc_get_count(h, count);
    assert_int_equal(count[0], 0);
    assert_int_equal(count[1], 0);
    assert_int_equal(count[2], 1);
    /* an old object dying unlinks from gen 2 */
    rc_decref(b);
    assert_int_equal(gen_size(h, 2), 2);
    rc_decref(a);
    rc_decref(c);
    rc_heap_free(h);
}

static void young_collection_leaves_old_garbage(void **state)
{
    (void)state;
    rc_heap *h = heap();
    node *a = node_new(h, &node_type, 1);
    node_set(a, 0, a);
    rc_gc_collect(h, 1);          /* a (alive) moves to gen 2 */
    rc_decref(a);                 /* now an old garbage cycle */
    assert_int_equal(rc_gc_collect(h, 0), 0);
    assert_int_equal(rc_gc_collect(h, 1), 0);
    assert_int_equal(node_released, 0);
    assert_int_equal(rc_gc_collect(h, 2), 1);
    rc_heap_free(h);
}

static void young_object_held_by_old_one_survives(void **state)
{
    (void)state;
    rc_heap *h = heap();
    node *old = node_new(h, &node_type, 1);
    rc_gc_collect(h, 2);
    node *young = node_new(h, &node_type, 2);
    node_set(old, 0, young);
    node_set(young, 0, young);
    rc_decref(young);
    assert_int_equal(rc_gc_collect(h, 0), 0);
    assert_int_equal(node_released, 0);
    rc_decref(old);
    assert_int_equal(node_released, 1);   /* old dies by refcount */
    assert_int_equal(rc_gc_collect(h, 2), 1);
    rc_heap_free(h);
}

/* Gen 2's word is 0, the count a full collection starts from: a young
 * collection must count only its own candidates, never the old objects
 * its candidates reference. */
static void young_collection_leaves_old_words_alone(void **state)
{
    (void)state;
    rc_heap *h = heap();
    node *old = node_new(h, &node_type, 1);
    rc_gc_collect(h, 2);
    node *young = node_new(h, &node_type, 2);
    node_set(young, 0, old);
    node_set(young, 1, young);
    assert_int_equal(rc_gc_collect(h, 0), 0);
    assert_int_equal(rc_heap_check(h), 0);
    assert_int_equal(gen_size(h, 2), 1);
    assert_int_equal(gen_size(h, 1), 1);
    rc_decref(young);
    assert_int_equal(rc_gc_collect(h, 1), 1);     /* young's self-cycle */
    assert_int_equal(node_released, 1);
    assert_int_equal(rc_heap_check(h), 0);
    rc_decref(old);
    rc_heap_free(h);
}

/* Found while freeing dead sets: deaths nested past 64 levels are queued
 * through the dying objects' own header words, and a finalizer that ran
 * meanwhile could start a full collection that took them for candidates
 * (a double free with the old gc word, a corrupt gen 2 count after).
 * While the queue is not empty, collections do not run and the gc
 * queries and snapshots refuse with RC_ESTATE. */
typedef struct queued_probe {
    rc_heap *h;
    size_t   collected;
    int      objects_rc, referrers_rc;
    bool     snapshot;
    size_t   frozen;
} queued_probe;
static queued_probe probe;

static int probe_visit(void *o, void *arg) { (void)o; (void)arg; return 0; }

static void probe_finalize(void *self)
{
    (void)self;
    probe.collected = rc_gc_collect(probe.h, 2);
    probe.objects_rc = rc_gc_get_objects(probe.h, 2, probe_visit, NULL);
    probe.referrers_rc = rc_gc_get_referrers(probe.h, self, probe_visit, NULL);
    rc_objgraph *g = rc_objgraph_new(probe.h);
    probe.snapshot = g != NULL;
    rc_objgraph_free(g);
    rc_gc_freeze(probe.h);
    probe.frozen = rc_gc_get_freeze_count(probe.h);
}

static rc_type probe_type;       /* node_type with probe_finalize */

static void queued_deaths_hold_off_collections_and_queries(void **state)
{
    (void)state;
    rc_heap *h = heap();
    rc_gc_disable(h);
    probe = (queued_probe){.h = h};
    probe_type = node_type;
    probe_type.name = "probe";
    probe_type.finalize = probe_finalize;
    node *head = node_new(h, &node_type, 0), *prev = head;
    for (int i = 1; i <= 100; i++) {          /* deeper than the nesting limit */
        node *x = node_new(h, &node_type, i);
        node_set(prev, 0, x);
        rc_decref(x);
        prev = x;
    }
    node *p = rc_new(h, &probe_type);
    node_set(head, 1, p);                     /* dies after the chain's queued tail */
    rc_decref(p);
    rc_gc_collect(h, 2);
    rc_decref(head);
    assert_int_equal(probe.collected, 0);
    assert_int_equal(probe.objects_rc, RC_ESTATE);
    assert_int_equal(probe.referrers_rc, RC_ESTATE);
    assert_false(probe.snapshot);
    assert_int_equal(probe.frozen, 0);
    assert_int_equal(node_released, 102);        /* the chain and the probe */
    assert_int_equal(rc_heap_check(h), 0);
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    assert_int_equal(mi.live_objects, 0);
    assert_int_equal(rc_gc_collect(h, 2), 0);   /* and the collector works after */
    rc_heap_free(h);
}

static void long_lived_rule_delays_full_collections(void **state)
{
    (void)state;
    rc_heap *h = heap();
    rc_gc_set_threshold(h, 10, 1, 1);
    enum { N = 4000 };
    node **keep = malloc(N * sizeof *keep);
    for (int i = 0; i < N; i++)
        keep[i] = node_new(h, &node_type, i);
    rc_gc_collect(h, 2);             /* long_lived_total = N */
    size_t full_before = rc_gc_get_stats(h, 2).collections;
    /* 100 new survivors are far below 25% of 4000: no automatic full one */
    node *more[100];
    for (int i = 0; i < 100; i++)
        more[i] = node_new(h, &node_type, i);
    for (int i = 0; i < 200; i++)
        rc_decref(node_new(h, &node_type, i));
    assert_int_equal(rc_gc_get_stats(h, 2).collections, full_before);
    assert_true(rc_gc_get_stats(h, 1).collections > 0);
    /* past 25% pending, full collections resume */
    node **many = malloc(1100 * sizeof *many);
    for (int i = 0; i < 1100; i++)
        many[i] = node_new(h, &node_type, i);
    for (int i = 0; i < 200; i++)
        rc_decref(node_new(h, &node_type, i));
    assert_true(rc_gc_get_stats(h, 2).collections > full_before);
    for (int i = 0; i < 1100; i++)
        rc_decref(many[i]);
    for (int i = 0; i < 100; i++)
        rc_decref(more[i]);
    for (int i = 0; i < N; i++)
        rc_decref(keep[i]);
    free(many);
    free(keep);
    rc_heap_free(h);
}

/* A garbage cycle of two: a of type t and a node_type b; returns a,
 * which nothing outside the cycle references. */
static node *dead_pair(rc_heap *h, const rc_type *t)
{
    node *a = node_new(h, t, 1);
    node *b = node_new(h, &node_type, 2);
    node_set(a, 0, b);
    node_set(b, 0, a);
    rc_decref(b);
    rc_decref(a);
    return a;
}

static void finalizer_runs_once_and_resurrection_survives(void **state)
{
    (void)state;
    rc_heap *h = heap();
    void *saved = NULL;
    node *a = dead_pair(h, &node_final_type);
    node_resurrect_slot = &saved;
    assert_int_equal(rc_gc_collect(h, 2), 0);  /* resurrected: nothing freed */
    assert_int_equal(node_finalized, 1);
    assert_ptr_equal(saved, a);
    assert_true(rc_gc_is_finalized(a));
    assert_ptr_equal(((node *)a->child[0])->child[0], a);   /* intact */
    assert_int_equal(node_released, 0);
    rc_decref(saved);             /* garbage again: finalizer does not run twice */
    assert_int_equal(rc_gc_collect(h, 2), 2);
    assert_int_equal(node_finalized, 1);
    assert_int_equal(node_released, 2);
    rc_heap_free(h);
}

/* A finalizer that breaks its own cycle: the other member dies by
 * refcount in the middle of the collection's finalizer step (leaving a
 * hole in the dead set), then the finalized member with it.  Each is
 * released once and the heap stays consistent. */
static void breaker_finalize(void *self)
{
    node_finalized++;
    RC_CLEAR(((node *)self)->child[0]);
}

static void finalizer_breaking_its_cycle_frees_members_meanwhile(void **state)
{
    (void)state;
    rc_heap *h = heap();
    static rc_type breaker_type;
    breaker_type = node_type;
    breaker_type.name = "breaker";
    breaker_type.finalize = breaker_finalize;
    dead_pair(h, &breaker_type);
    rc_gc_collect(h, 2);
    assert_int_equal(node_finalized, 1);
    assert_int_equal(node_released, 2);
    assert_int_equal(rc_heap_check(h), 0);
    rc_heap_free(h);
    assert_int_equal(node_released, 2);
}

static void finalizer_runs_on_refcount_death(void **state)
{
    (void)state;
    rc_heap *h = heap();
    void *saved = NULL;
    node *a = node_new(h, &node_final_type, 1);
    node_resurrect_slot = &saved;
    rc_decref(a);
    assert_int_equal(node_finalized, 1);
    assert_ptr_equal(saved, a);
    assert_int_equal(rc_refcount(a), 1);
    rc_decref(a);
    assert_int_equal(node_finalized, 1);
    assert_int_equal(node_released, 1);
    rc_heap_free(h);
}

typedef struct cb_log {
    int  order[8];
    int  n;
    bool target_alive_in_cb;
    bool cycle_intact_in_cb;
    node *other;
} cb_log;

static cb_log wlog;

static void weak_cb(void *wr, void *ctx)
{
    wlog.order[wlog.n++] = (int)(intptr_t)ctx;
    wlog.target_alive_in_cb = rc_weakref_get(wr) != NULL;
    /* Nothing of the dead cycle has been cleared yet. */
    wlog.cycle_intact_in_cb = wlog.other && wlog.other->child[0] != NULL;
}

static void weakref_cleared_then_callbacks_before_clear(void **state)
{
    (void)state;
    rc_heap *h = heap();
    memset(&wlog, 0, sizeof wlog);
    node *a = node_new(h, &node_type, 1), *b = node_new(h, &node_type, 2);
    node_set(a, 0, b);
    node_set(b, 0, a);
    void *w1 = rc_weakref_new(a, weak_cb, (void *)1);
    void *w2 = rc_weakref_new(a, weak_cb, (void *)2);
    void *w3 = rc_weakref_new(a, NULL, NULL);
    assert_int_equal(rc_weakref_count(a), 3);
    assert_ptr_equal(rc_weakref_get(w1), a);
    wlog.other = b;
    rc_decref(a);
    rc_decref(b);
    assert_int_equal(rc_gc_collect(h, 2), 2);
    assert_int_equal(wlog.n, 2);
    assert_int_equal(wlog.order[0], 2);   /* newest first, as CPython */
    assert_int_equal(wlog.order[1], 1);
    assert_false(wlog.target_alive_in_cb);
    assert_true(wlog.cycle_intact_in_cb);
    assert_null(rc_weakref_get(w1));
    assert_null(rc_weakref_get(w3));
    rc_decref(w1);
    rc_decref(w2);
    rc_decref(w3);
    rc_heap_free(h);
}

static void weakref_cleared_on_refcount_death(void **state)
{
    (void)state;
    rc_heap *h = heap();
    memset(&wlog, 0, sizeof wlog);
    node *a = node_new(h, &node_type, 1);
    void *w = rc_weakref_new(a, weak_cb, (void *)7);
    rc_decref(a);
    assert_int_equal(wlog.n, 1);
    assert_int_equal(wlog.order[0], 7);
    assert_null(rc_weakref_get(w));
    rc_decref(w);
    /* a weakref dying before its target detaches itself */
    node *b = node_new(h, &node_type, 2);
    void *w2 = rc_weakref_new(b, weak_cb, (void *)8);
    rc_decref(w2);
    assert_int_equal(rc_weakref_count(b), 0);
    rc_decref(b);
    assert_int_equal(wlog.n, 1);
    rc_heap_free(h);
}

static void weakref_in_garbage_gets_no_callback(void **state)
{
    (void)state;
    rc_heap *h = heap();
    memset(&wlog, 0, sizeof wlog);
    node *a = node_new(h, &node_type, 1);
    node_set(a, 0, a);
    void *w = rc_weakref_new(a, weak_cb, (void *)3);
    node_set(a, 1, w);      /* the weakref is itself part of the garbage */
    rc_decref(w);
    rc_decref(a);
    assert_int_equal(rc_gc_collect(h, 2), 2);
    assert_int_equal(wlog.n, 0);
    rc_heap_free(h);
}

static void freeze_hides_objects_from_collection(void **state)
{
    (void)state;
    rc_heap *h = heap();
    node *a = node_new(h, &node_type, 1);
    node_set(a, 0, a);
    node *keep = node_new(h, &node_type, 2);
    rc_gc_collect(h, 0);
    rc_gc_freeze(h);
    assert_int_equal(rc_gc_get_freeze_count(h), 2);
    assert_int_equal(gen_size(h, -1), 0);
    rc_decref(a);
    assert_int_equal(rc_gc_collect(h, 2), 0);
    assert_int_equal(node_released, 0);
    rc_gc_unfreeze(h);
    assert_int_equal(rc_gc_get_freeze_count(h), 0);
    assert_int_equal(gen_size(h, 2), 2);
    assert_int_equal(rc_gc_collect(h, 2), 1);
    rc_decref(keep);
    rc_heap_free(h);
}

static int collect_garbage(void *o, void *arg)
{
    void **out = arg;
    for (int i = 0; i < 4; i++)
        if (!out[i]) {
            out[i] = o;
            break;
        }
    return 0;
}

static void uncollectable_cycle_lands_in_garbage(void **state)
{
    (void)state;
    rc_heap *h = heap();
    node *a = node_new(h, &node_noclear_type, 1), *b = node_new(h, &node_noclear_type, 2);
    node *held = node_new(h, &node_type, 3);    /* kept alive by the cycle */
    node_set(a, 0, b);
    node_set(b, 0, a);
    node_set(a, 1, held);
    rc_decref(held);
    rc_decref(a);
    rc_decref(b);
    assert_int_equal(rc_gc_collect(h, 2), 3);       /* 0 collected + 3 uncollectable */
    assert_int_equal(rc_gc_get_stats(h, 2).uncollectable, 3);
    assert_int_equal(rc_gc_get_stats(h, 2).collected, 0);
    assert_int_equal(node_released, 0);
    assert_int_equal(rc_gc_garbage_count(h), 2);    /* only the clear-less ones */
    void *g[4] = {0};
    rc_gc_garbage(h, collect_garbage, g);
    assert_true((g[0] == a && g[1] == b) || (g[0] == b && g[1] == a));
    assert_int_equal(((node *)held)->id, 3);
    rc_gc_garbage_clear(h);
    assert_int_equal(node_released, 0);             /* still a cycle */
    rc_heap_free(h);
}

static void cycle_with_one_clearable_member_is_collected(void **state)
{
    (void)state;
    rc_heap *h = heap();
    node *a = node_new(h, &node_noclear_type, 1), *b = node_new(h, &node_type, 2);
    node_set(a, 0, b);
    node_set(b, 0, a);
    rc_decref(a);
    rc_decref(b);
    assert_int_equal(rc_gc_collect(h, 2), 2);
    assert_int_equal(node_released, 2);
    assert_int_equal(rc_gc_garbage_count(h), 0);
    rc_heap_free(h);
}

static void saveall_keeps_everything(void **state)
{
    (void)state;
    rc_heap *h = heap();
    rc_gc_set_debug(h, RC_GC_DEBUG_SAVEALL);
    assert_int_equal(rc_gc_get_debug(h), RC_GC_DEBUG_SAVEALL);
    node *a = node_new(h, &node_type, 1);
    node_set(a, 0, a);
    rc_decref(a);
    assert_int_equal(rc_gc_collect(h, 2), 1);
    assert_int_equal(rc_gc_garbage_count(h), 1);
    assert_int_equal(node_released, 0);
    rc_gc_set_debug(h, 0);
    rc_gc_garbage_clear(h);
    assert_int_equal(rc_gc_collect(h, 2), 1);
    assert_int_equal(node_released, 1);
    rc_heap_free(h);
}

static void debug_stats_print_cpython_lines(void **state)
{
    (void)state;
    rc_heap *h = heap();
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    rc_config cfg;
    rc_config_default(&cfg);
    cfg.gc_debug = RC_GC_DEBUG_STATS | RC_GC_DEBUG_COLLECTABLE;
    cfg.gc_debug_out = out;
    rc_heap *hd = rc_heap_new(&cfg);
    node *a = node_new(hd, &node_type, 1);
    node_set(a, 0, a);
    rc_decref(a);
    rc_gc_collect(hd, 2);
    fflush(out);
    assert_non_null(strstr(buf, "gc: collecting generation 2...\n"));
    assert_non_null(strstr(buf, "gc: objects in each generation: 1 0 0\n"));
    assert_non_null(strstr(buf, "gc: collectable <node 0x"));
    assert_non_null(strstr(buf, "gc: done, 1 unreachable, 0 uncollectable, "));
    rc_heap_free(hd);
    fclose(out);
    free(buf);
    rc_heap_free(h);
}

typedef struct cb_state {
    rc_heap *h;
    int starts, stops;
    size_t last_collected;
    int last_gen;
    size_t nested;
} cb_state;

static void gc_cb(const char *phase, const rc_gc_info *info, void *ctx)
{
    cb_state *s = ctx;
    s->nested += rc_gc_collect(s->h, 2) + 1;   /* must return 0 */
    if (!strcmp(phase, "start")) {
        s->starts++;
        assert_int_equal(info->collected, 0);
    } else {
        assert_string_equal(phase, "stop");
        s->stops++;
        s->last_collected = info->collected;
    }
    s->last_gen = info->generation;
}

static void callbacks_get_start_and_stop(void **state)
{
    (void)state;
    rc_heap *h = heap();
    cb_state s = {.h = h};
    assert_int_equal(rc_gc_callback_add(h, gc_cb, &s), 0);
    node *a = node_new(h, &node_type, 1);
    node_set(a, 0, a);
    rc_decref(a);
    rc_gc_collect(h, 1);
    assert_int_equal(s.starts, 1);
    assert_int_equal(s.stops, 1);
    assert_int_equal(s.last_collected, 1);
    assert_int_equal(s.last_gen, 1);
    assert_int_equal(s.nested, 2);     /* both nested collects returned 0 */
    assert_int_equal(rc_gc_callback_remove(h, gc_cb, &s), 0);
    assert_int_equal(rc_gc_callback_remove(h, gc_cb, &s), RC_ENOENT);
    rc_gc_collect(h, 1);
    assert_int_equal(s.starts, 1);
    rc_heap_free(h);
}

static int find_ptr(void *o, void *arg)
{
    void **want = arg;
    if (o == want[0])
        want[1] = o;
    return 0;
}

static void referrers_and_referents(void **state)
{
    (void)state;
    rc_heap *h = heap();
    node *a = node_new(h, &node_type, 1), *b = node_new(h, &node_type, 2), *c = node_new(h, &node_type, 3);
    node_set(a, 0, c);
    node_set(b, 2, c);
    gen_count n = {0};
    rc_gc_get_referrers(h, c, count_visit, &n);
    assert_int_equal(n.n, 2);
    void *want[2] = {b, NULL};
    rc_gc_get_referrers(h, c, find_ptr, want);
    assert_ptr_equal(want[1], b);
    n.n = 0;
    rc_gc_get_referents(a, count_visit, &n);
    assert_int_equal(n.n, 1);
    rc_decref(a);
    rc_decref(b);
    rc_decref(c);
    rc_heap_free(h);
}

/* The query functions find first and call back after: a callback may
 * allocate (here: thousands of new objects, new pools and arenas), drop the
 * last reference to objects still to be visited, and collect. */
typedef struct churn {
    rc_heap *h;
    void   **held;     /* objects the callback drops, one per call */
    size_t   nheld, calls;
} churn;

static int churn_visit(void *o, void *arg)
{
    churn *c = arg;
    assert_true(rc_refcount(o) >= 1);
    c->calls++;
    for (int i = 0; i < 2000; i++)
        rc_decref(node_new(c->h, &node_type, i));
    if (c->calls <= c->nheld) {
        rc_decref(c->held[c->calls - 1]);   /* may be visited later: the query holds it */
        c->held[c->calls - 1] = NULL;
    }
    rc_gc_collect(c->h, 2);
    return 0;
}

static void queries_let_the_callback_allocate_and_free(void **state)
{
    (void)state;
    rc_heap *h = heap();
    void *target = node_new(h, &node_type, 0);
    void *held[50];
    for (int i = 0; i < 50; i++) {
        held[i] = node_new(h, &node_type, i + 1);
        node_set(held[i], 0, target);
    }
    rc_gc_collect(h, 2);
    churn c = {h, held, 50, 0};
    assert_int_equal(rc_gc_get_referrers(h, target, churn_visit, &c), 0);
    assert_int_equal(c.calls, 50);
    for (int i = 0; i < 50; i++)
        assert_null(held[i]);
    assert_int_equal(rc_refcount(target), 1);
    assert_int_equal(rc_heap_check(h), 0);
    void *more[20];
    for (int i = 0; i < 20; i++)
        more[i] = node_new(h, &node_type, i);
    c = (churn){h, more, 20, 0};
    assert_int_equal(rc_gc_get_objects(h, -1, churn_visit, &c), 0);
    assert_int_equal(c.calls, 21);          /* target and the 20, found before any call */
    assert_int_equal(rc_heap_check(h), 0);
    rc_decref(target);
    rc_heap_free(h);
}

static void track_untrack_and_immortal(void **state)
{
    (void)state;
    rc_heap *h = heap();
    node *a = node_new(h, &node_type, 1);
    assert_true(rc_gc_is_tracked(a));
    rc_gc_untrack(a);
    assert_false(rc_gc_is_tracked(a));
    assert_int_equal(gen_size(h, -1), 0);
    rc_gc_track(a);
    assert_true(rc_gc_is_tracked(a));
    assert_int_equal(gen_size(h, 0), 1);
    rc_immortalize(a);
    assert_true(rc_is_immortal(a));
    rc_decref(a);
    rc_decref(a);
    assert_int_equal(rc_refcount(a), RC_IMMORTAL_REFCNT);
    assert_int_equal(rc_gc_collect(h, 2), 0);
    assert_ptr_equal(rc_typeof(a), &node_type);
    assert_ptr_equal(rc_heap_of(a), h);
    assert_true(rc_is_object(h, a));
    assert_true(rc_sizeof(a) >= sizeof(node) + 16);
    rc_heap_free(h);
}

/* RC_TYPE_REFS: the runtime traverses and clears the body's references. */
typedef struct refs3 { void *ref[3]; } refs3;
static int refs_released;
static void refs_release(void *self) { (void)self; refs_released++; }
static const rc_type refs_type = {.name = "refs3", .size = sizeof(refs3), .release = refs_release,
                                  .flags = RC_TYPE_REFS};

static void refs_types_are_traversed_and_cleared_by_the_runtime(void **state)
{
    (void)state;
    rc_heap *h = heap();
    refs_released = 0;
    refs3 *a = rc_new(h, &refs_type), *b = rc_new(h, &refs_type);
    assert_true(rc_gc_is_tracked(a));
    a->ref[2] = rc_newref(b);
    b->ref[0] = rc_newref(a);
    node *leaf = node_new(h, &node_leaf_type, 1);
    b->ref[1] = leaf;                       /* the new reference moves in */
    gen_count n = {0};
    rc_gc_get_referents(b, count_visit, &n);
    assert_int_equal(n.n, 2);
    rc_decref(a);
    rc_decref(b);
    assert_int_equal(refs_released, 0);
    assert_int_equal(rc_gc_collect(h, 2), 2);
    assert_int_equal(refs_released, 2);
    assert_int_equal(node_released, 1);     /* the leaf went with them */
    refs3 *c = rc_new(h, &refs_type);
    c->ref[0] = node_new(h, &node_leaf_type, 2);
    rc_decref(c);                           /* death by refcount drops refs too */
    assert_int_equal(node_released, 2);
    rc_heap_free(h);
}

/* Types declaring their reference words (rc_type.ref_words): the
 * collector reads those words instead of calling traverse -- in every pass
 * when they are the body's first words (wnode), in marking and the
 * dead-set steps otherwise (wgap) -- and never a word between them, which
 * holds no reference; dead cycles are still broken by clear. */
typedef struct wnode {
    void     *a, *b;
    uintptr_t junk;            /* not a reference: the collector must not read it as one */
} wnode;
typedef struct wgap {
    void     *a;
    uintptr_t junk;
    void     *b;
} wgap;
static int wnode_traversed, wnode_cleared;
static int wnode_traverse(void *self, rc_visit visit, void *arg)
{
    wnode *w = self;
    wnode_traversed++;
    int rv = w->a ? visit(w->a, arg) : 0;
    return rv ? rv : w->b ? visit(w->b, arg) : 0;
}
static int wgap_traverse(void *self, rc_visit visit, void *arg)
{
    wgap *w = self;
    int rv = w->a ? visit(w->a, arg) : 0;
    return rv ? rv : w->b ? visit(w->b, arg) : 0;
}
static void wnode_clear(void *self)
{
    wnode *w = self;
    wnode_cleared++;
    RC_CLEAR(w->a);
    RC_CLEAR(w->b);
}
static void wgap_clear(void *self)
{
    wgap *w = self;
    RC_CLEAR(w->a);
    RC_CLEAR(w->b);
}
static const rc_type wnode_type = {.name = "wnode", .size = sizeof(wnode), .traverse = wnode_traverse,
                                   .clear = wnode_clear, .ref_words = RC_REF_WORD(wnode, a) | RC_REF_WORD(wnode, b)};
static const rc_type wgap_type = {.name = "wgap", .size = sizeof(wgap), .traverse = wgap_traverse,
                                  .clear = wgap_clear, .ref_words = RC_REF_WORD(wgap, a) | RC_REF_WORD(wgap, b)};

/* Rings of LEN, every tenth held, each ring's last node also holding the
 * last held ring: n of each type's nodes. */
static void *make_word_rings(rc_heap *h, const rc_type *t, int rings, int len)
{
    void *keep = NULL;
    for (int r = 0; r < rings; r++) {
        wgap *first = rc_new(h, t), *prev = first;     /* a and junk/b: set through the layout of each */
        for (int i = 1; i < len; i++) {
            wgap *x = rc_new(h, t);
            if (t == &wgap_type)
                x->junk = 0xdeadbeef;
            else
                ((wnode *)x)->junk = 0xdeadbeef;
            prev->a = x;                   /* the new reference moves in */
            prev = x;
        }
        prev->a = rc_newref(first);
        void **second = t == &wgap_type ? &prev->b : &((wnode *)prev)->b;
        *second = keep ? rc_newref(keep) : NULL;
        if (r % 10 == 0)
            keep = first;                  /* alive through our reference */
        else
            rc_decref(first);
    }
    return keep;
}

static size_t live_objects(rc_heap *h);

static void declared_ref_words_are_read_instead_of_traverse(void **state)
{
    (void)state;
    rc_heap *h = heap();
    rc_gc_disable(h);                      /* one collection finds all the garbage */
    enum { RINGS = 2000, LEN = 10 };
    void *keep = make_word_rings(h, &wnode_type, RINGS, LEN);
    make_word_rings(h, &wgap_type, RINGS, LEN);
    gen_count n = {0};
    rc_gc_get_referents(keep, count_visit, &n);
    assert_int_equal(n.n, 1);
    wnode_traversed = wnode_cleared = 0;
    size_t before = live_objects(h);
    /* Rings behind a held one stay; the others (9 of 10) are garbage. */
    assert_int_equal(rc_gc_collect(h, 2), 2 * (size_t)(RINGS - RINGS / 10) * LEN);
    assert_int_equal(wnode_traversed, 0);
    assert_int_equal(wnode_cleared, (RINGS - RINGS / 10) * LEN);
    assert_int_equal(live_objects(h), before - 2 * (size_t)(RINGS - RINGS / 10) * LEN);
    assert_int_equal(rc_heap_check(h), 0);
    rc_heap_free(h);
}

/* A type with traverse and declared words but no clear: its death drops
 * the declared words itself, without calling traverse, and never reads the
 * word between them; young, old, and past the nesting limit alike. */
static int wgap_traversed;
static int wgap_counting_traverse(void *self, rc_visit visit, void *arg)
{
    wgap_traversed++;
    return wgap_traverse(self, visit, arg);
}
static const rc_type wgap_noclear_type = {.name = "wgap_noclear", .size = sizeof(wgap),
                                          .traverse = wgap_counting_traverse,
                                          .ref_words = RC_REF_WORD(wgap, a) | RC_REF_WORD(wgap, b)};

/* A chain of n wgap_noclear objects through a, each b holding leaf too. */
static wgap *make_gap_chain(rc_heap *h, int n, void *leaf)
{
    wgap *head = NULL;
    for (int i = 0; i < n; i++) {
        wgap *x = rc_new(h, &wgap_noclear_type);
        x->junk = 0xdeadbeef;
        x->a = head;
        x->b = rc_newref(leaf);
        head = x;
    }
    return head;
}

static void death_drops_declared_words_without_traverse(void **state)
{
    (void)state;
    rc_heap *h = heap();
    rc_gc_disable(h);                                  /* only the collection below runs */
    node *leaf = node_new(h, &node_leaf_type, 1);
    size_t before = live_objects(h);
    wgap *old = make_gap_chain(h, 3, leaf);
    rc_gc_collect(h, 2);                               /* now in gen 2 */
    assert_true(rc_gc_is_tracked(old));
    wgap_traversed = 0;
    rc_decref(make_gap_chain(h, 3, leaf));             /* young */
    assert_int_equal(rc_refcount(leaf), 4);
    rc_decref(old);
    rc_decref(make_gap_chain(h, 10000, leaf));         /* past RC_DEALLOC_DEPTH */
    assert_int_equal(rc_refcount(leaf), 1);
    assert_int_equal(live_objects(h), before);
    assert_int_equal(wgap_traversed, 0);
    size_t count[3];
    rc_gc_get_count(h, count);
    assert_int_equal(count[0], 0);
    rc_decref(leaf);
    assert_int_equal(rc_heap_check(h), 0);
    rc_heap_free(h);
}

/* Full collections free RC_TYPE_REFS dead sets where they lie (gc_free.c):
 * whole pools at once, references leaving the set dropped first, objects
 * marked dead that a later root reaches kept intact. */
typedef struct ref1 { void *ref; } ref1;
static const rc_type ref1_type = {.name = "ref1", .size = sizeof(ref1), .flags = RC_TYPE_REFS};

static size_t live_objects(rc_heap *h)
{
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    return mi.live_objects;
}

static void dead_refs_set_drops_references_leaving_it(void **state)
{
    (void)state;
    rc_heap *h = heap();
    rc_gc_disable(h);
    node *leaf = node_new(h, &node_leaf_type, 1);   /* untracked: outside every set */
    ref1 *a = rc_new(h, &ref1_type), *b = rc_new(h, &ref1_type);
    refs3 *c = rc_new(h, &refs_type);
    a->ref = b;
    b->ref = rc_newref(a);
    c->ref[0] = rc_newref(a);
    c->ref[1] = leaf;                       /* the leaf's only reference */
    c->ref[2] = rc_newref(c);
    refs_released = 0;
    rc_decref(a);
    rc_decref(c);
    assert_int_equal(rc_gc_collect(h, 2), 3);
    assert_int_equal(node_released, 1);
    assert_int_equal(refs_released, 1);     /* release ran for the member that has one */
    assert_int_equal(rc_heap_check(h), 0);
    rc_heap_free(h);
}

static void late_reached_objects_survive_intact(void **state)
{
    (void)state;
    rc_heap *h = heap();
    rc_gc_disable(h);
    /* In address order: m (garbage, self-cycle, references l), a <-> b, l,
     * then the root r that reaches a and l.  The scan marks m, a, b and l
     * dead before it meets r. */
    refs3 *m = rc_new(h, &refs_type);
    ref1 *a = rc_new(h, &ref1_type), *b = rc_new(h, &ref1_type), *l = rc_new(h, &ref1_type);
    refs3 *r = rc_new(h, &refs_type);
    assert_true((char *)m < (char *)a && (char *)a < (char *)b);
    m->ref[0] = rc_newref(m);
    m->ref[1] = rc_newref(l);
    a->ref = rc_newref(b);
    b->ref = rc_newref(a);
    r->ref[0] = a;                          /* our references move into r */
    r->ref[1] = l;
    rc_decref(b);
    rc_decref(m);
    assert_int_equal(rc_refcount(l), 2);
    assert_int_equal(rc_gc_collect(h, 2), 1);
    assert_ptr_equal(a->ref, b);
    assert_ptr_equal(b->ref, a);
    assert_int_equal(rc_refcount(a), 2);
    assert_int_equal(rc_refcount(l), 1);    /* m's reference was dropped */
    assert_int_equal(rc_heap_check(h), 0);
    rc_decref(r);
    assert_int_equal(rc_gc_collect(h, 2), 2);
    assert_int_equal(rc_heap_check(h), 0);
    rc_heap_free(h);
}

/* A full collection of a scattered graph (random edges: the collector
 * prefetches, marks first and settles in place) against reachability
 * computed here; some unreachable nodes hold the only reference to a leaf. */
typedef struct ref3 { void *ref[3]; } ref3;
static const rc_type ref3_type = {.name = "ref3", .size = sizeof(ref3), .flags = RC_TYPE_REFS};

static void random_graph_collection_matches_reachability(void **state)
{
    (void)state;
    enum { N = 6000, M = 4000 };
    rc_heap *h = heap();
    rc_gc_disable(h);
    size_t base = live_objects(h);
    static ref3 *all[N];
    static int adj[N][3];
    static bool reach[N];
    int queue[N];
    uint64_t x = 12345;
    for (int i = 0; i < N; i++)
        all[i] = rc_new(h, &ref3_type);
    int leaves = 0;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 3; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            /* [0, M) is one graph with roots; [M, N) an island nothing
             * outside it refers to: garbage full of cycles. */
            adj[i][k] = i < M ? (int)(x % M) : M + (int)(x % (N - M));
            if (k == 2 && x % 7 == 0) {          /* an untracked leaf instead */
                adj[i][k] = -1;
                all[i]->ref[k] = node_new(h, &node_leaf_type, i);
                leaves++;
                continue;
            }
            all[i]->ref[k] = rc_newref(all[adj[i][k]]);
        }
    /* Roots: every 25th node; BFS over the same edges. */
    int head = 0, tail = 0, nreach = 0, leaves_kept = 0;
    for (int i = 0; i < M; i += 25) {
        reach[i] = true;
        queue[tail++] = i;
    }
    while (head < tail) {
        int i = queue[head++];
        nreach++;
        for (int k = 0; k < 3; k++) {
            int j = adj[i][k];
            if (j < 0)
                leaves_kept++;
            else if (!reach[j]) {
                reach[j] = true;
                queue[tail++] = j;
            }
        }
    }
    node_released = 0;
    for (int i = 0; i < N; i++)
        if (i % 25 || i >= M)
            rc_decref(all[i]);       /* nodes nothing points to die here */
    gen_count alive = {0};
    rc_gc_get_objects(h, -1, count_visit, &alive);
    assert_true(alive.n > nreach);
    assert_int_equal(rc_gc_collect(h, 2), alive.n - nreach);
    assert_int_equal(node_released, leaves - leaves_kept);
    assert_int_equal(live_objects(h), base + (size_t)nreach + (size_t)leaves_kept);
    assert_int_equal(rc_heap_check(h), 0);
    for (int i = 0; i < N; i++)
        if (reach[i])
            for (int k = 0; k < 3; k++)
                if (adj[i][k] >= 0)
                    assert_ptr_equal(all[i]->ref[k], all[adj[i][k]]);
    assert_int_equal(rc_gc_collect(h, 2), 0);   /* survivors stay */
    for (int i = 0; i < M; i += 25)
        rc_decref(all[i]);
    alive.n = 0;
    rc_gc_get_objects(h, -1, count_visit, &alive);
    assert_int_equal(rc_gc_collect(h, 2), alive.n);
    assert_int_equal(live_objects(h), base);
    rc_heap_free(h);
}

/* Found by fuzz_ops: in address order, a dead cycle m refers to l, l is
 * itself marked dead when the scan reaches it, and a later root reaches l.
 * m's reference to l must be dropped when m is freed (l's refcount back
 * to the root's one), though no other object of the set leaks out. */
static void late_object_referenced_only_by_garbage_loses_its_reference(void **state)
{
    (void)state;
    rc_heap *h = heap();
    rc_gc_disable(h);
    size_t base = live_objects(h);
    ref3 *m = rc_new(h, &ref3_type), *l = rc_new(h, &ref3_type), *r = rc_new(h, &ref3_type);
    assert_true((char *)m < (char *)l && (char *)l < (char *)r);
    m->ref[0] = rc_newref(m);
    m->ref[1] = rc_newref(l);
    r->ref[0] = l;                          /* our reference to l moves into r */
    rc_decref(m);
    assert_int_equal(rc_refcount(l), 2);
    assert_int_equal(rc_gc_collect(h, 2), 1);
    assert_int_equal(rc_refcount(l), 1);
    assert_int_equal(rc_heap_check(h), 0);
    rc_decref(r);                           /* l goes with it, by refcount */
    assert_int_equal(rc_gc_collect(h, 2), 0);
    assert_int_equal(live_objects(h), base);
    rc_heap_free(h);
}

/* A weakref callback is user code: one that stores a new reference to a
 * member of the dead set resurrects it, and what it reaches, as a finalizer
 * would (bulk path for RC_TYPE_REFS members and the clear path alike). */
static void *resurrected;
static void resurrect_cb(void *wr, void *ctx)
{
    (void)wr;
    resurrected = rc_newref(ctx);
}

static void resurrect_from_weakref_callback(const rc_type *t)
{
    rc_heap *h = heap();
    refs_released = 0;
    node_released = 0;
    node *a = rc_new(h, t), *b = rc_new(h, t);
    a->child[0] = rc_newref(b);
    b->child[0] = rc_newref(a);
    void *w = rc_weakref_new(a, resurrect_cb, b);
    rc_decref(a);
    rc_decref(b);
    resurrected = NULL;
    assert_int_equal(rc_gc_collect(h, 2), 0);
    assert_ptr_equal(resurrected, b);
    assert_ptr_equal(((node *)b)->child[0], a);       /* intact */
    assert_null(rc_weakref_get(w));                    /* but its weakref was cleared */
    rc_decref(w);
    rc_decref(resurrected);
    assert_int_equal(rc_gc_collect(h, 2), 2);
    assert_int_equal(refs_released + node_released, 2);
    rc_heap_free(h);
}

static void weakref_callback_resurrection_survives(void **state)
{
    (void)state;
    static const rc_type refs_node = {.name = "refs_node", .size = NODE_MAX * sizeof(void *),
                                      .release = refs_release, .flags = RC_TYPE_REFS};
    resurrect_from_weakref_callback(&refs_node);
    resurrect_from_weakref_callback(&node_type);
}

/* A frozen object is a root that is no candidate: what it references when
 * a full collection starts survives that collection, even when garbage
 * held the frozen object's last reference, so that clearing the garbage
 * kills it and leaves a cycle it alone held (CPython's gc.c too decides
 * what is unreachable before it clears anything).  The next full
 * collection frees the cycle.  The garbage's type picks the dead set's
 * path: cleared through the type, or freed in place (RC_TYPE_REFS). */
static void frozen_root_killed_by_garbage(const rc_type *t)
{
    rc_heap *h = heap();
    refs_released = 0;
    node *frozen = node_new(h, &node_type, 1);
    rc_gc_freeze(h);
    node *cycle = node_new(h, &node_type, 2);
    node_set(cycle, 0, cycle);
    node_set(frozen, 0, cycle);
    rc_decref(cycle);                           /* the frozen object holds it */
    node *garbage = rc_new(h, t);
    garbage->child[0] = rc_newref(garbage);
    garbage->child[1] = frozen;                 /* our reference moves in */
    rc_decref(garbage);
    assert_int_equal(rc_gc_collect(h, 2), 1);   /* the garbage only */
    assert_int_equal(refs_released + node_released, 2);  /* and the frozen object died of it */
    assert_int_equal(rc_gc_get_freeze_count(h), 0);
    assert_int_equal(rc_refcount(cycle), 1);    /* intact, unreachable now */
    assert_ptr_equal(cycle->child[0], cycle);
    assert_int_equal(rc_heap_check(h), 0);
    assert_int_equal(rc_gc_collect(h, 2), 1);
    assert_int_equal(refs_released + node_released, 3);
    rc_heap_free(h);
}

static void object_reached_from_frozen_root_survives_the_collection_that_kills_the_root(void **state)
{
    (void)state;
    static const rc_type refs_node = {.name = "refs_node", .size = NODE_MAX * sizeof(void *),
                                      .release = refs_release, .flags = RC_TYPE_REFS};
    frozen_root_killed_by_garbage(&node_type);
    frozen_root_killed_by_garbage(&refs_node);
}

/* Dead sets of types with their own traverse and clear (gc_free.c,
 * gc_dead.c): every member held (where it lies, or in the dead vector),
 * then cleared, then freed -- pool by pool, a pool whose objects all died at
 * once, when their types have no release.  fn1 has none; on_clear, when
 * set, runs first in its clear (user code: anything the contract allows). */
typedef struct fn1 {
    void *ref;
    void (*on_clear)(struct fn1 *self);
    long  id;
} fn1;
static int fn_cleared;

static int fn1_traverse(void *self, rc_visit visit, void *arg)
{
    fn1 *x = self;
    return x->ref ? visit(x->ref, arg) : 0;
}

static void fn1_clear(void *self)
{
    fn1 *x = self;
    fn_cleared++;
    if (x->on_clear)
        x->on_clear(x);
    RC_CLEAR(x->ref);
}

static const rc_type fn1_type = {.name = "fn1", .size = sizeof(fn1), .traverse = fn1_traverse, .clear = fn1_clear};

/* n rings of len nodes, every `every`-th of type alt (NULL: all fn1);
 * returns the first node of each (a new reference). */
static void **make_fn_rings(rc_heap *h, size_t n, int len, const rc_type *alt, int every)
{
    void **first = malloc(n * sizeof *first);
    for (size_t r = 0; r < n; r++) {
        void **prev = NULL;
        for (int i = 0; i < len; i++) {
            const rc_type *t = alt && i % every == every - 1 ? alt : &fn1_type;
            void **x = rc_new(h, t);            /* fn1 and ref1 both start with the reference */
            assert_non_null(x);
            if (prev)
                *prev = x;                      /* the new reference moves in */
            else
                first[r] = x;
            prev = x;
        }
        *prev = rc_newref(first[r]);
    }
    return first;
}

static int fn_ring_len(void **f)
{
    int n = 1;
    for (void **x = *f; x != f; x = *x)
        n++;
    return n;
}

static void fn_rings_collected(const rc_type *alt, int every)
{
    rc_heap *h = heap();
    rc_gc_disable(h);
    size_t base = live_objects(h);
    /* Whole pools die, and pools where every other ring lives. */
    void **rings = make_fn_rings(h, 3000, 10, alt, every);
    for (size_t r = 0; r < 3000; r++)
        if (r < 1000 || r % 2)
            rc_decref(rings[r]);
    fn_cleared = 0;
    assert_int_equal(rc_gc_collect(h, 2), 20000);
    assert_int_equal(fn_cleared, alt ? 2000 * (10 - 10 / every) : 20000);
    assert_int_equal(live_objects(h), base + 10000);
    assert_int_equal(rc_heap_check(h), 0);
    for (size_t r = 1000; r < 3000; r += 2) {
        assert_int_equal(fn_ring_len(rings[r]), 10);
        assert_int_equal(rc_refcount(rings[r]), 2);
    }
    void **more = make_fn_rings(h, 1000, 10, alt, every);   /* the freed pools, laid out again */
    for (size_t r = 0; r < 1000; r++)
        rc_decref(more[r]);
    for (size_t r = 1000; r < 3000; r += 2)
        rc_decref(rings[r]);
    assert_int_equal(rc_gc_collect(h, 2), 20000);
    assert_int_equal(live_objects(h), base);
    assert_int_equal(rc_heap_check(h), 0);
    free(rings);
    free(more);
    rc_heap_free(h);
}

/* RC_TYPE_REFS rings only: freed in place, whole pools at once. */
static void full_collection_frees_refs_sets_in_place(void **state)
{
    (void)state;
    fn_rings_collected(&ref1_type, 1);
}

static void fn_dead_sets_are_held_cleared_and_freed(void **state)
{
    (void)state;
    fn_rings_collected(NULL, 0);
    fn_rings_collected(&ref1_type, 3);   /* mixed: RC_TYPE_REFS members among them */
    fn_rings_collected(&node_type, 4);   /* members with release: one by one */
    fn_rings_collected(&node_final_type, 1);   /* finalizers: CPython's whole order */
    assert_int_equal(node_finalized, 40000);
}

/* A clear drops the last reference to a non-member (untracked, so no
 * collection sees it) whose finalizer allocates -- objects of the members'
 * size class, landing in their pools -- and asks for a collection, which
 * returns 0 while this one runs.  What it keeps stays intact. */
typedef struct fin_leaf { void *pad; } fin_leaf;
static fn1 *fin_kept[64];
static int fin_ran;
static size_t fin_collect_result;

static void fin_leaf_finalize(void *self)
{
    rc_heap *h = rc_heap_of(self);
    fin_ran++;
    for (int i = 0; i < 64; i++) {
        fin_kept[i] = rc_new(h, &fn1_type);
        assert_non_null(fin_kept[i]);
        fin_kept[i]->id = 1000 + i;
        if (i)
            fin_kept[i]->ref = rc_newref(fin_kept[i - 1]);
    }
    fin_collect_result = rc_gc_collect(h, 2);
    rc_decref(rc_new(h, &fn1_type));          /* one made and dropped at once */
}

static const rc_type fin_leaf_type = {.name = "fin_leaf", .size = sizeof(fin_leaf), .finalize = fin_leaf_finalize};
static void *cache_slot;

static void drop_cache(fn1 *self)
{
    (void)self;
    RC_CLEAR(cache_slot);
}

static void clear_running_finalizer_that_allocates_and_collects(void **state)
{
    (void)state;
    rc_heap *h = heap();
    rc_gc_disable(h);
    size_t base = live_objects(h);
    void **rings = make_fn_rings(h, 200, 10, NULL, 0);
    cache_slot = rc_new(h, &fin_leaf_type);
    assert_false(rc_gc_is_tracked(cache_slot));
    ((fn1 *)rings[50])->on_clear = drop_cache;
    for (size_t r = 0; r < 200; r++)
        rc_decref(rings[r]);
    fin_ran = 0;
    fin_collect_result = 99;
    assert_int_equal(rc_gc_collect(h, 2), 2000);
    assert_int_equal(fin_ran, 1);
    assert_int_equal(fin_collect_result, 0);
    assert_null(cache_slot);
    assert_int_equal(live_objects(h), base + 64);
    assert_int_equal(rc_heap_check(h), 0);
    for (int i = 1; i < 64; i++) {
        assert_ptr_equal(fin_kept[i]->ref, fin_kept[i - 1]);
        assert_int_equal(fin_kept[i]->id, 1000 + i);
    }
    for (int i = 0; i < 64; i++)
        rc_decref(fin_kept[i]);
    assert_int_equal(live_objects(h), base);
    free(rings);
    rc_heap_free(h);
}

/* Clears that reach other members: one stores a new reference to its
 * successor (which survives, cleared, in gen 2), one makes a weakref to
 * its successor (whose callback runs once every member has cleared). */
static fn1 *kept_member;
static int member_cb_ran, clears_at_member_cb;

static void keep_next(fn1 *self)
{
    kept_member = rc_newref(self->ref);
}

static void member_cb(void *wr, void *ctx)
{
    (void)ctx;
    assert_null(rc_weakref_get(wr));
    member_cb_ran++;
    clears_at_member_cb = fn_cleared;
    rc_decref(wr);
}

static void weak_next(fn1 *self)
{
    assert_non_null(rc_weakref_new(self->ref, member_cb, NULL));
}

static void clears_reaching_members_of_rings(size_t keeper, size_t weak)
{
    rc_heap *h = heap();
    rc_gc_disable(h);
    size_t base = live_objects(h);
    void **rings = make_fn_rings(h, 100, 10, NULL, 0);
    fn1 *a = rings[keeper], *b = rings[weak];
    a->on_clear = keep_next;
    b->on_clear = weak_next;
    fn1 *a_next = a->ref;
    a_next->id = 7;
    for (size_t r = 0; r < 100; r++)
        rc_decref(rings[r]);
    fn_cleared = member_cb_ran = 0;
    kept_member = NULL;
    assert_int_equal(rc_gc_collect(h, 2), 1000);
    assert_int_equal(member_cb_ran, 1);
    assert_int_equal(clears_at_member_cb, 1000);
    assert_ptr_equal(kept_member, a_next);
    assert_true(rc_gc_is_tracked(kept_member));
    assert_int_equal(rc_refcount(kept_member), 1);
    assert_null(kept_member->ref);            /* cleared like every member */
    assert_int_equal(kept_member->id, 7);
    assert_int_equal(live_objects(h), base + 1);
    assert_int_equal(rc_heap_check(h), 0);
    rc_decref(kept_member);
    assert_int_equal(live_objects(h), base);
    free(rings);
    rc_heap_free(h);
}

static void clears_reaching_other_members(void **state)
{
    (void)state;
    /* 1000 nodes of 48 bytes: full pools first (their members held where
     * they lie, gc_free.c), the last partly used. */
    clears_reaching_members_of_rings(10, 20);
    clears_reaching_members_of_rings(97, 98);
}

/* Members whose types have release are freed one by one.  With
 * arena_spare 0, freeing the last object of an arena's only pool unmaps
 * the arena: nothing after it may be read (a ring of 10 in a pool laid
 * out for more). */
static void one_by_one_frees_stop_at_the_last_member(void **state)
{
    (void)state;
    static const rc_type refs_rel = {.name = "refs_rel", .size = sizeof(ref1), .release = refs_release,
                                     .flags = RC_TYPE_REFS};
    const rc_type *types[] = {&refs_rel, &node_type};
    for (int k = 0; k < 2; k++) {
        rc_config cfg;
        rc_config_default(&cfg);
        cfg.arena_spare = 0;
        rc_heap *h = rc_heap_new(&cfg);
        rc_gc_disable(h);
        node_reset_counts();
        refs_released = 0;
        void **ring = make_fn_rings(h, 1, 10, types[k], 1);
        rc_decref(ring[0]);
        assert_int_equal(rc_gc_collect(h, 2), 10);
        assert_int_equal(refs_released + node_released, 10);
        assert_int_equal(live_objects(h), 0);
        free(ring);
        rc_heap_free(h);
    }
}

static void environment_overrides_and_malformed_values(void **state)
{
    (void)state;
    setenv("RECYCLE_GC_THRESHOLD", "100,5,5", 1);
    setenv("RECYCLE_GC", "0", 1);
    setenv("RECYCLE_GC_DEBUG", "stats,saveall", 1);
    rc_config cfg;
    rc_config_default(&cfg);
    assert_int_equal(cfg.gc_threshold[0], 100);
    assert_int_equal(cfg.gc_threshold[2], 5);
    assert_false(cfg.gc_enabled);
    assert_int_equal(cfg.gc_debug, RC_GC_DEBUG_STATS | RC_GC_DEBUG_SAVEALL);
    setenv("RECYCLE_GC_THRESHOLD", "100,x", 1);   /* ignored, with a message */
    setenv("RECYCLE_GC", "maybe", 1);
    rc_config_default(&cfg);
    assert_int_equal(cfg.gc_threshold[0], 700);
    assert_true(cfg.gc_enabled);
    unsetenv("RECYCLE_GC_THRESHOLD");
    unsetenv("RECYCLE_GC");
    unsetenv("RECYCLE_GC_DEBUG");
    rc_heap *h = rc_heap_new(NULL);
    assert_true(rc_gc_isenabled(h));
    rc_heap_free(h);
}

static void errors_have_messages(void **state)
{
    (void)state;
    assert_string_equal(rc_strerror(RC_ENOMEM), "out of memory");
    assert_string_equal(rc_strerror(RC_EFORMAT), "truncated, corrupt or unsupported file");
    rc_heap *h = heap();
    assert_int_equal(rc_gc_get_objects(h, 7, count_visit, NULL), RC_EINVAL);
    assert_non_null(strstr(rc_last_error(h), "generation"));
    assert_int_equal(rc_last_error_code(h), RC_EINVAL);
    rc_heap_free(h);
}

/* ---- automatic collections of clean generations ------------------------------ */

/* Objects held only by the array: allocations that push count[0] without a
 * single decref, so they dirty no generation. */
typedef struct fillers {
    node  *v[256];
    size_t n;
} fillers;

static void fill(rc_heap *h, fillers *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_true(f->n < sizeof f->v / sizeof *f->v);
        f->v[f->n] = node_new(h, &node_type, 1000 + (long)f->n);
        f->n++;
    }
}

static void drop_fillers(fillers *f)
{
    for (size_t i = 0; i < f->n; i++)
        rc_decref(f->v[i]);
    f->n = 0;
}

/* A chain built by storing each new reference in a field, as binary-trees
 * builds its trees: not one decref, so the automatic collections promote
 * without a scan; callbacks, counts and stats see every one all the same. */
static void automatic_collections_of_clean_generations_still_count(void **state)
{
    (void)state;
    rc_heap *h = heap();
    rc_gc_set_threshold(h, 10, 2, 2);
    cb_state s = {.h = h};
    assert_int_equal(rc_gc_callback_add(h, gc_cb, &s), 0);
    node *root = node_new(h, &node_type, 0);
    node *cur = root;
    for (long i = 1; i <= 200; i++) {
        cur->child[0] = node_new(h, &node_type, i);    /* the field takes the new reference */
        cur = cur->child[0];
    }
    rc_gc_stats g0 = rc_gc_get_stats(h, 0), g1 = rc_gc_get_stats(h, 1), g2 = rc_gc_get_stats(h, 2);
    assert_true(g0.collections >= 6);
    assert_true(g1.collections >= 2);
    assert_true(g2.collections >= 1);
    assert_int_equal((size_t)s.starts, g0.collections + g1.collections + g2.collections);
    assert_int_equal(s.stops, s.starts);
    assert_int_equal(g0.collected + g1.collected + g2.collected, 0);
    assert_int_equal(g0.candidates, 11 * g0.collections);   /* gen 0 held 11 each time */
    assert_int_equal(g0.unscanned, g0.collections);
    assert_int_equal(g1.unscanned, g1.collections);
    assert_int_equal(g2.unscanned, g2.collections);
    size_t count[3];
    rc_gc_get_count(h, count);
    assert_true(count[0] <= 10);
    assert_int_equal(rc_heap_check(h), 0);
    assert_int_equal(node_released, 0);
    assert_int_equal(gen_size(h, 0) + gen_size(h, 1) + gen_size(h, 2), 201);
    rc_decref(root);                 /* the chain dies by refcount */
    assert_int_equal(node_released, 201);
    rc_heap_free(h);
}

/* CPython's rule, kept: a cycle whose last outside reference is dropped
 * by a decref is collected by the next automatic gen-0 collection. */
static void cycle_dropped_by_decref_is_collected_automatically(void **state)
{
    (void)state;
    rc_heap *h = heap();
    rc_gc_set_threshold(h, 10, 10, 10);
    node *a = node_new(h, &node_type, 1), *b = node_new(h, &node_type, 2);
    node_set(a, 0, b);
    node_set(b, 0, a);
    rc_decref(a);
    rc_decref(b);
    fillers f = {.n = 0};
    fill(h, &f, 10);
    assert_int_equal(rc_gc_get_stats(h, 0).collections, 1);
    assert_int_equal(rc_gc_get_stats(h, 0).unscanned, 0);
    assert_int_equal(rc_gc_get_stats(h, 0).collected, 2);
    assert_int_equal(node_released, 2);
    drop_fillers(&f);
    rc_heap_free(h);
}

/* Garbage across generations: b (gen 0) and a (gen 1) hold each other.
 * The automatic gen-0 collection scans (b's decref) but cannot free b, which
 * a holds from outside it; b is promoted, and the gen-1 collection after
 * must scan too, though nothing happened in gen 1 since. */
static void cycle_across_generations_is_found_by_the_next_older_collection(void **state)
{
    (void)state;
    rc_heap *h = heap();
    rc_gc_set_threshold(h, 10, 1, 100);
    node *a = node_new(h, &node_type, 1);
    rc_gc_collect(h, 0);                    /* a: gen 1 */
    node *b = node_new(h, &node_type, 2);
    b->child[0] = a;                        /* b takes our reference to a */
    node_set(a, 0, b);
    rc_decref(b);                           /* dirties gen 0 only */
    fillers f = {.n = 0};
    fill(h, &f, 11);                        /* automatic gen 0: b survives */
    assert_int_equal(rc_gc_get_stats(h, 0).collections, 2);
    assert_int_equal(rc_gc_get_stats(h, 0).collected, 0);
    assert_int_equal(node_released, 0);
    fill(h, &f, 11);                        /* automatic gen 1 */
    assert_int_equal(rc_gc_get_stats(h, 1).collections, 1);
    assert_int_equal(rc_gc_get_stats(h, 1).collected, 2);
    assert_int_equal(node_released, 2);
    drop_fillers(&f);
    rc_heap_free(h);
}

/* The documented exception: a reference stored without an incref closes a
 * cycle with no decref at all.  Automatic collections of clean generations
 * do not see it; any rc_gc_collect does, and so does the next automatic
 * collection once a decref leaves an object of its generation alive. */
static void cycle_closed_by_a_stolen_reference_waits_for_a_scan(void **state)
{
    (void)state;
    rc_heap *h = heap();
    rc_gc_set_threshold(h, 10, 100, 100);
    node *a = node_new(h, &node_type, 1);
    a->child[0] = a;                        /* our reference is now a's own */
    fillers f = {.n = 0};
    fill(h, &f, 11);
    assert_int_equal(rc_gc_get_stats(h, 0).collections, 1);
    assert_int_equal(rc_gc_get_stats(h, 0).unscanned, 1);
    assert_int_equal(node_released, 0);
    rc_incref(f.v[0]);
    rc_decref(f.v[0]);                      /* a gen-1 object stays alive */
    fill(h, &f, 11);
    assert_int_equal(rc_gc_get_stats(h, 0).collections, 2);
    assert_int_equal(node_released, 0);     /* gen 0 is clean: a is in gen 1 */
    assert_int_equal(rc_gc_collect(h, 1), 1);
    assert_int_equal(node_released, 1);

    node *c = node_new(h, &node_type, 3);
    c->child[0] = c;
    node *d = node_new(h, &node_type, 4);   /* gen 0 dirtied: the next one scans */
    rc_incref(d);
    rc_decref(d);
    fill(h, &f, 10);
    assert_int_equal(node_released, 2);
    rc_decref(d);
    drop_fillers(&f);
    rc_heap_free(h);
}

/* User code inside a collection may drop anything: the collection a
 * "start" callback runs in sees what the callback left. */
static void drop_on_start(const char *phase, const rc_gc_info *info, void *ctx)
{
    (void)info;
    node **held = ctx;
    if (!strcmp(phase, "start") && *held) {
        rc_decref(*held);
        *held = NULL;
    }
}

static void cycle_dropped_by_a_start_callback_is_collected_by_that_collection(void **state)
{
    (void)state;
    rc_heap *h = heap();
    rc_gc_set_threshold(h, 10, 10, 10);
    node *a = node_new(h, &node_type, 1), *b = node_new(h, &node_type, 2);
    b->child[0] = a;                        /* b takes our reference to a */
    node_set(a, 0, b);
    node *held = b;                         /* the callback drops our reference to b */
    assert_int_equal(rc_gc_callback_add(h, drop_on_start, &held), 0);
    fillers f = {.n = 0};
    fill(h, &f, 10);
    assert_int_equal(rc_gc_get_stats(h, 0).collections, 1);
    assert_null(held);
    assert_int_equal(rc_gc_get_stats(h, 0).collected, 2);
    assert_int_equal(node_released, 2);
    drop_fillers(&f);
    rc_heap_free(h);
}

/* A finalizer that stores its object in the object's own field resurrects
 * it into a self-cycle: garbage made by the death's own decref. */
static void resurrection_into_a_cycle_is_collected_automatically(void **state)
{
    (void)state;
    rc_heap *h = heap();
    rc_gc_set_threshold(h, 10, 10, 10);
    node *a = node_new(h, &node_final_type, 1);
    node_resurrect_slot = &a->child[0];
    rc_decref(a);
    assert_int_equal(node_finalized, 1);
    assert_int_equal(node_released, 0);
    fillers f = {.n = 0};
    fill(h, &f, 11);
    assert_int_equal(node_released, 1);
    assert_int_equal(node_finalized, 1);
    drop_fillers(&f);
    rc_heap_free(h);
}

/* An untracked object held its children from outside the collector's
 * view; tracked again, it may be garbage. */
static void cycle_tracked_again_is_collected_automatically(void **state)
{
    (void)state;
    rc_heap *h = heap();
    rc_gc_set_threshold(h, 10, 10, 10);
    node *a = node_new(h, &node_type, 1);
    rc_gc_untrack(a);
    node_set(a, 0, a);
    rc_decref(a);                           /* untracked: nothing to note */
    rc_gc_track(a);
    fillers f = {.n = 0};
    fill(h, &f, 11);
    assert_int_equal(node_released, 1);
    drop_fillers(&f);
    rc_heap_free(h);
}

/* Frozen objects are no candidates, and their decrefs dirty nothing:
 * unfreeze does, for gen 2, where they go. */
static void cycle_unfrozen_is_collected_by_the_next_automatic_full_collection(void **state)
{
    (void)state;
    rc_heap *h = heap();
    rc_gc_set_threshold(h, 10, 0, 0);      /* gen 0, gen 1, then full */
    node *a = node_new(h, &node_type, 1), *b = node_new(h, &node_type, 2);
    node_set(a, 0, b);
    node_set(b, 0, a);
    assert_int_equal(rc_gc_freeze(h), 0);
    rc_decref(a);
    rc_decref(b);
    assert_int_equal(rc_gc_unfreeze(h), 0);
    fillers f = {.n = 0};
    fill(h, &f, 40);
    assert_true(rc_gc_get_stats(h, 2).collections > 0);
    assert_int_equal(rc_gc_get_stats(h, 2).collected, 2);
    assert_int_equal(node_released, 2);
    drop_fillers(&f);
    rc_heap_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(self_cycle_survives_decref_and_is_collected),
        cmocka_unit_test(two_node_cycle_counts_both),
        cmocka_unit_test(reachable_objects_survive_intact),
        cmocka_unit_test(refcount_zero_frees_at_once),
        cmocka_unit_test(long_chain_dies_without_deep_recursion),
        cmocka_unit_test(disabled_collector_never_runs_automatically),
        cmocka_unit_test(automatic_collection_starts_past_threshold0),
        cmocka_unit_test(threshold_zero_disables),
        cmocka_unit_test(automatic_collections_of_clean_generations_still_count),
        cmocka_unit_test(cycle_dropped_by_decref_is_collected_automatically),
        cmocka_unit_test(cycle_across_generations_is_found_by_the_next_older_collection),
        cmocka_unit_test(cycle_closed_by_a_stolen_reference_waits_for_a_scan),
        cmocka_unit_test(cycle_dropped_by_a_start_callback_is_collected_by_that_collection),
        cmocka_unit_test(resurrection_into_a_cycle_is_collected_automatically),
        cmocka_unit_test(cycle_tracked_again_is_collected_automatically),
        cmocka_unit_test(cycle_unfrozen_is_collected_by_the_next_automatic_full_collection),
        cmocka_unit_test(survivors_move_to_next_generation),
        cmocka_unit_test(young_slots_come_back_in_any_death_order),
        cmocka_unit_test(young_collection_leaves_old_garbage),
        cmocka_unit_test(young_object_held_by_old_one_survives),
        cmocka_unit_test(young_collection_leaves_old_words_alone),
        cmocka_unit_test(queued_deaths_hold_off_collections_and_queries),
        cmocka_unit_test(long_lived_rule_delays_full_collections),
        cmocka_unit_test(finalizer_runs_once_and_resurrection_survives),
        cmocka_unit_test(finalizer_runs_on_refcount_death),
        cmocka_unit_test(finalizer_breaking_its_cycle_frees_members_meanwhile),
        cmocka_unit_test(weakref_cleared_then_callbacks_before_clear),
        cmocka_unit_test(weakref_cleared_on_refcount_death),
        cmocka_unit_test(weakref_in_garbage_gets_no_callback),
        cmocka_unit_test(freeze_hides_objects_from_collection),
        cmocka_unit_test(uncollectable_cycle_lands_in_garbage),
        cmocka_unit_test(cycle_with_one_clearable_member_is_collected),
        cmocka_unit_test(saveall_keeps_everything),
        cmocka_unit_test(debug_stats_print_cpython_lines),
        cmocka_unit_test(callbacks_get_start_and_stop),
        cmocka_unit_test(referrers_and_referents),
        cmocka_unit_test(queries_let_the_callback_allocate_and_free),
        cmocka_unit_test(track_untrack_and_immortal),
        cmocka_unit_test(refs_types_are_traversed_and_cleared_by_the_runtime),
        cmocka_unit_test(declared_ref_words_are_read_instead_of_traverse),
        cmocka_unit_test(death_drops_declared_words_without_traverse),
        cmocka_unit_test(full_collection_frees_refs_sets_in_place),
        cmocka_unit_test(dead_refs_set_drops_references_leaving_it),
        cmocka_unit_test(late_reached_objects_survive_intact),
        cmocka_unit_test(random_graph_collection_matches_reachability),
        cmocka_unit_test(late_object_referenced_only_by_garbage_loses_its_reference),
        cmocka_unit_test(weakref_callback_resurrection_survives),
        cmocka_unit_test(object_reached_from_frozen_root_survives_the_collection_that_kills_the_root),
        cmocka_unit_test(fn_dead_sets_are_held_cleared_and_freed),
        cmocka_unit_test(clear_running_finalizer_that_allocates_and_collects),
        cmocka_unit_test(clears_reaching_other_members),
        cmocka_unit_test(one_by_one_frees_stop_at_the_last_member),
        cmocka_unit_test(environment_overrides_and_malformed_values),
        cmocka_unit_test(errors_have_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
