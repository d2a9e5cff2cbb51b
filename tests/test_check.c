/* rc_heap_check: passes on healthy heaps of every shape, and names the
 * object and the invariant for each kind of damage (made here by writing
 * to the internals directly, then undone so the heap can be freed). */
#define RC_BUILDING_CORE
#include "../src/core/internal.h"
#include "../src/alloc/alloc_impl.h"

#include "node.h"

#include <stdio.h>
#include <string.h>

static rc_heap *H;

static int setup(void **state)
{
    (void)state;
    H = rc_heap_new(NULL);
    node_reset_counts();
    return H ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    rc_heap_free(H);
    return 0;
}

static void assert_ok(void)
{
    int rc = rc_heap_check(H);
    if (rc)
        fail_msg("rc_heap_check: %s", rc_last_error(H));
}

static void assert_damage(const char *type, const char *words)
{
    assert_int_equal(rc_heap_check(H), RC_EINVAL);
    const char *msg = rc_last_error(H);
    if ((type && !strstr(msg, type)) || !strstr(msg, words))
        fail_msg("expected '%s' and '%s' in: %s", type ? type : "", words, msg);
}

static void healthy_heaps_of_every_shape_pass(void **state)
{
    (void)state;
    assert_ok();
    node *keep = node_new(H, &node_type, 0);
    for (int i = 0; i < 3000; i++) {     /* young, old, cycles, leaves */
        node *a = node_new(H, &node_type, i), *b = node_new(H, &node_leaf_type, i);
        node_set(a, 0, a);
        node_set(a, 1, b);
        if (i % 7 == 0)
            node_set(keep, i % NODE_MAX, a);
        rc_decref(a);
        rc_decref(b);
        if (i % 500 == 0)
            assert_ok();
    }
    void *big = rc_new_var(H, &node_type, 4000);   /* a large object */
    void *wr = rc_weakref_new(keep, NULL, NULL);
    void *buf = rc_alloc(H, 100), *bigbuf = rc_alloc(H, 10000);
    node *u = node_new(H, &node_noclear_type, 1);  /* uncollectable: gc.garbage */
    node_set(u, 0, u);
    rc_decref(u);
    rc_gc_collect(H, 0);
    assert_ok();
    rc_gc_collect(H, 2);
    assert_true(rc_gc_garbage_count(H) > 0);
    assert_ok();
    rc_gc_freeze(H);
    node *young = node_new(H, &node_type, 2);
    assert_ok();
    rc_gc_unfreeze(H);
    assert_ok();
    rc_decref(young);
    rc_free(H, buf);
    rc_free(H, bigbuf);
    rc_decref(wr);
    rc_decref(big);
    rc_decref(keep);
    rc_gc_garbage_clear(H);
    rc_gc_collect(H, 2);
    assert_ok();
}

static void refcount_below_internal_references_is_named(void **state)
{
    (void)state;
    node *a = node_new(H, &node_type, 1), *b = node_new(H, &node_type, 2), *c = node_new(H, &node_leaf_type, 3);
    node_set(a, 0, c);
    node_set(b, 0, c);
    rc_decref(c);                        /* c: refcount 2, two references */
    assert_ok();
    rc__head(c)->refcnt = 1;
    assert_damage("leaf", "refcount 1 is lower than the 2 references");
    rc__head(c)->refcnt = 2;
    rc_decref(a);
    rc_decref(b);
}

static void zero_refcount_and_bad_type_are_named(void **state)
{
    (void)state;
    node *a = node_new(H, &node_type, 1);
    rc__head(a)->refcnt = 0;
    assert_damage("node", "refcount is 0");
    rc__head(a)->refcnt = 1;
    uintptr_t tw = rc__head(a)->tw;
    rc__head(a)->tw = 0x10 | (tw & RC_HF_MASK);
    assert_damage(NULL, "not an rc_type");
    rc__head(a)->tw = (uintptr_t)0x7ff0deadbee0 | (tw & RC_HF_MASK);   /* wild: must not fault */
    assert_damage("?", "not an rc_type");
    rc__head(a)->tw = tw;
    rc__hflag_set(rc__head(a), RC_HF_FINALIZED);
    assert_damage("node", "no finalizer");
    rc__hflag_clear(rc__head(a), RC_HF_FINALIZED);
    rc_decref(a);
}

/* RC_HF_LEAVES lets the collector skip a list's items: one that holds a
 * trackable object with the flag would hide a reference from it. */
static void a_wrong_leaves_flag_is_named(void **state)
{
    (void)state;
    void *l = rc_list_new(H, 0), *inner = rc_list_new(H, 0);
    assert_true(rc__hflags(rc__head(l)) & RC_HF_LEAVES);
    rc_list_append(l, inner);
    assert_false(rc__hflags(rc__head(l)) & RC_HF_LEAVES);
    assert_ok();
    rc__hflag_set(rc__head(l), RC_HF_LEAVES);
    assert_damage("list", "flagged as holding only untracked types");
    rc__hflag_clear(rc__head(l), RC_HF_LEAVES);
    rc_decref(inner);
    rc_decref(l);
}

static void generation_damage_is_named(void **state)
{
    (void)state;
    node *a = node_new(H, &node_type, 1), *b = node_new(H, &node_type, 2);
    uint32_t g = rc__head(a)->gc;
    rc__head(a)->gc = rc__head(b)->gc;
    assert_damage("node", "young vector");
    rc__head(a)->gc = g;
    rc__head(a)->gc = 0x80000005u;       /* a collection's word, outside one */
    assert_damage("node", "neither a generation");
    rc__head(a)->gc = g;
    H->gc.gen0_start = H->gc.young_len + 1;
    assert_damage(NULL, "gen0_start");
    H->gc.gen0_start = 0;
    rc_gc_collect(H, 2);
    H->gc.old_count++;
    assert_damage(NULL, "generation 2 / permanent hold 2 / 0 objects, the counters say 3 / 0");
    H->gc.old_count--;
    node *leaf = node_new(H, &node_leaf_type, 3);
    rc__head(leaf)->gc = RC_GC_OLD;
    assert_damage("leaf", "no traverse");
    rc__head(leaf)->gc = RC_GC_UNTRACKED;
    assert_ok();
    rc_decref(leaf);
    rc_decref(a);
    rc_decref(b);
}

static void dangling_reference_is_named(void **state)
{
    (void)state;
    node *a = node_new(H, &node_type, 1), *b = node_new(H, &node_leaf_type, 2);
    a->child[0] = b;                     /* stored without a reference */
    rc_decref(b);                        /* b is freed: a now dangles */
    assert_damage("node", "not a live object of this heap");
    a->child[0] = NULL;
    rc_heap *other = rc_heap_new(NULL);
    node *foreign = node_new(other, &node_leaf_type, 3);
    node_set(a, 1, foreign);             /* an object of another heap */
    assert_damage("node", "not a live object of this heap");
    a->child[1] = NULL;
    rc_decref(foreign);
    rc_decref(foreign);
    rc_heap_free(other);
    rc_decref(a);
}

static void allocator_damage_is_named(void **state)
{
    (void)state;
    void *p = rc_alloc(H, 40);
    node *a = node_new(H, &node_type, 1);
    struct rc_alloc_state *st = H->alloc;
    st->room -= 16;                      /* requested = cap - room */
    assert_damage(NULL, "counted as requested");
    st->room += 16;
    st->large_bytes += 16;
    assert_damage(NULL, "large blocks hold");
    st->large_bytes -= 16;
    rc_pool *pool = rc__pool_of(rc__head(a));
    pool->used++;
    assert_damage(NULL, "carved blocks");
    pool->used--;
    char *fl = pool->free;
    pool->free = (char *)rc__head(a);    /* a live object on the free list */
    assert_damage(NULL, "has tw != 0");
    pool->free = fl;
    assert_ok();
    rc_free(H, p);
    rc_decref(a);
}

static void weakref_damage_is_named(void **state)
{
    (void)state;
    node *a = node_new(H, &node_type, 1);
    void *wr = rc_weakref_new(a, NULL, NULL);
    assert_ok();
    rc__hflag_clear(rc__head(a), RC_HF_WEAKREFS);
    assert_damage(NULL, "not flagged");
    rc__hflag_set(rc__head(a), RC_HF_WEAKREFS);
    rc_decref(a);
    assert_null(rc_weakref_get(wr));
    assert_ok();
    rc_decref(wr);
}

/* ref_words must say what traverse visits (the collector reads them
 * instead): a word too many, a word too few, or a word past the block. */
typedef struct two { void *a, *b; } two;
static int two_traverse(void *self, rc_visit visit, void *arg)
{
    two *t = self;
    int rv = t->a ? visit(t->a, arg) : 0;
    return rv ? rv : t->b ? visit(t->b, arg) : 0;
}
static const rc_type two_type = {.name = "two", .size = sizeof(two), .traverse = two_traverse,
                                 .ref_words = RC_REF_WORD(two, a) | RC_REF_WORD(two, b)};
static const rc_type one_declared_type = {.name = "one_declared", .size = sizeof(two), .traverse = two_traverse,
                                          .ref_words = RC_REF_WORD(two, a)};
static int a_traverse(void *self, rc_visit visit, void *arg)
{
    two *t = self;
    return t->a ? visit(t->a, arg) : 0;
}
static const rc_type skips_b_type = {.name = "skips_b", .size = sizeof(two), .traverse = a_traverse,
                                     .ref_words = RC_REF_WORD(two, a) | RC_REF_WORD(two, b)};
static const rc_type past_block_type = {.name = "past_block", .size = sizeof(two), .traverse = two_traverse,
                                        .ref_words = (uint64_t)1 << 40};

static void ref_words_disagreeing_with_traverse_are_named(void **state)
{
    (void)state;
    two *ok = rc_new(H, &two_type), *bad = rc_new(H, &one_declared_type);
    ok->a = node_new(H, &node_leaf_type, 1);
    assert_ok();                               /* a NULL word is no reference */
    bad->b = rc_newref(ok);
    assert_damage("one_declared", "visits a reference outside");
    rc_decref(bad);
    two *skips = rc_new(H, &skips_b_type);
    skips->a = rc_newref(ok);
    assert_ok();
    skips->b = rc_newref(ok);
    assert_damage("skips_b", "skips some of");
    rc_decref(skips);
    two *past = rc_new(H, &past_block_type);
    assert_damage("past_block", "reaches past");
    rc_decref(past);
    rc_decref(ok);
    assert_ok();
}

static void not_during_a_collection(void **state)
{
    (void)state;
    H->gc.collecting = true;
    assert_int_equal(rc_heap_check(H), RC_ESTATE);
    H->gc.collecting = false;
    assert_int_equal(rc_heap_check(NULL), RC_EINVAL);
}

/* The collector's walks skip pools that never held a tracked object; one
 * holding a tracked object while unmarked would hide it from collections. */
static void tracked_object_in_a_skipped_pool_is_named(void **state)
{
    (void)state;
    node *a = node_new(H, &node_type, 1);
    rc_pool *pool = rc__pool_of(rc__head(a));
    assert_true(pool->tracked);
    pool->tracked = 0;
    assert_damage("node", "pool the collector's walk skips");
    pool->tracked = 1;
    assert_ok();
    rc_decref(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(healthy_heaps_of_every_shape_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(refcount_below_internal_references_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(zero_refcount_and_bad_type_are_named, setup, teardown),
        cmocka_unit_test_setup_teardown(a_wrong_leaves_flag_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(generation_damage_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(dangling_reference_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(allocator_damage_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(weakref_damage_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(tracked_object_in_a_skipped_pool_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(ref_words_disagreeing_with_traverse_are_named, setup, teardown),
        cmocka_unit_test_setup_teardown(not_during_a_collection, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
