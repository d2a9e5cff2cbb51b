/* The collector's own memory after a peak: the young vector shrinks when a
 * collection or a switch of the collector leaves it mostly empty, without
 * resizing back and forth under a steady load, and the collector's arrays
 * (rc__mapvec, vec.c) keep their contents across every resize and give a
 * big array's pages back to the OS when it shrinks or is freed.  No sizes of the
 * process are asserted: only capacities, contents and whether an address
 * is still mapped. */
#define RC_BUILDING_CORE 1
#include "../src/core/gc_impl.h"
#include "node.h"

#include <stdint.h>
#include <stdlib.h>

/* The floor the young vector shrinks to is smaller in debug builds. */
enum { FLOOR_MAX = 8192, PEAK = 100000 };

static rc_heap *heap(void)
{
    rc_heap *h = rc_heap_new(NULL);
    assert_non_null(h);
    node_reset_counts();
    return h;
}

/* PEAK young objects made with the collector off, then dropped by
 * reference count: the vector is as big as ever and empty. */
static void make_and_drop_peak(rc_heap *h)
{
    rc_gc_disable(h);
    void **v = malloc(PEAK * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < PEAK; i++)
        v[i] = node_new(h, &node_type, (long)i);
    assert_true(h->gc.young_cap >= PEAK);
    for (size_t i = 0; i < PEAK; i++)
        rc_decref(v[i]);
    free(v);
    assert_int_equal(h->gc.young_len, 0);
    assert_true(h->gc.young_cap >= PEAK);
}

static void young_vector_shrinks_after_a_peak_and_a_collection(void **state)
{
    (void)state;
    rc_heap *h = heap();
    make_and_drop_peak(h);
    rc_gc_collect(h, 0);
    assert_true(h->gc.young_cap <= FLOOR_MAX);
    assert_int_equal(node_released, PEAK);
    /* It grows again as before. */
    node *a = node_new(h, &node_type, 1);
    assert_int_equal(h->gc.young_len, 1);
    assert_int_equal(rc_heap_check(h), 0);
    rc_decref(a);
    rc_heap_free(h);
}

static void young_vector_shrinks_when_the_collector_is_switched(void **state)
{
    (void)state;
    rc_heap *h = heap();
    make_and_drop_peak(h);
    rc_gc_enable(h);
    assert_true(h->gc.young_cap <= FLOOR_MAX);
    make_and_drop_peak(h);     /* disables, which finds it full */
    assert_true(h->gc.young_cap >= PEAK);
    rc_gc_disable(h);
    assert_true(h->gc.young_cap <= FLOOR_MAX);
    rc_heap_free(h);
}

/* Survivors of a peak keep their places: the vector shrinks to twice
 * what it holds, and the generations are intact. */
static void young_vector_keeps_its_survivors_when_it_shrinks(void **state)
{
    (void)state;
    rc_heap *h = heap();
    rc_gc_disable(h);
    void **v = malloc(PEAK * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < PEAK; i++)
        v[i] = node_new(h, &node_type, (long)i);
    for (size_t i = 0; i < PEAK; i++)
        if (i % 10 != 0)
            rc_decref(v[i]);
    rc_gc_collect(h, 0);      /* the survivors become gen 1, still young */
    assert_int_equal(h->gc.young_len, PEAK / 10);
    assert_int_equal(h->gc.young_cap, 2 * PEAK / 10);
    assert_int_equal(rc_heap_check(h), 0);
    for (size_t i = 0; i < PEAK; i += 10) {
        assert_true(rc_gc_is_tracked(v[i]));
        assert_int_equal(((node *)v[i])->id, (long)i);
        rc_decref(v[i]);
    }
    free(v);
    rc_heap_free(h);
}

/* The gap between growing when full and shrinking below a quarter: a
 * load that stays between the two never resizes. */
static void a_steady_load_does_not_resize_the_young_vector(void **state)
{
    (void)state;
    rc_heap *h = heap();
    rc_gc_disable(h);
    enum { N = 4 * FLOOR_MAX };
    static void *v[N];
    for (size_t i = 0; i < N; i++)
        v[i] = node_new(h, &node_type, (long)i);
    size_t cap = h->gc.young_cap;
    for (int round = 0; round < 20; round++) {
        size_t keep = cap / 4 + 1 + (size_t)round;
        for (size_t i = keep; i < N; i++)
            rc_decref(v[i]);
        rc_gc_collect(h, 0);
        assert_int_equal(h->gc.young_cap, cap);
        for (size_t i = keep; i < N; i++)
            v[i] = node_new(h, &node_type, (long)i);
        assert_int_equal(h->gc.young_cap, cap);
    }
    for (size_t i = 0; i < N; i++)
        rc_decref(v[i]);
    rc_heap_free(h);
}

static bool mapped(const void *p)
{
    char c;
    return rc__os_read_safe(p, &c, 1);
}

/* A self-referencing object whose finalizer looks at the running
 * collection's dead vector: the last byte of the biggest one seen. */
typedef struct fnode { void *self; } fnode;
static rc_heap *watched;
static const char *dead_end;
static size_t dead_cap;

static int fnode_traverse(void *self, rc_visit visit, void *arg)
{
    fnode *f = self;
    return f->self ? visit(f->self, arg) : 0;
}

static void fnode_clear(void *self)
{
    fnode *f = self;
    void *s = f->self;
    f->self = NULL;
    rc_xdecref(s);
}

static void fnode_finalize(void *self)
{
    (void)self;
    const dead_set *d = watched->gc.dead;
    if (d && d->v && d->cap > dead_cap) {
        dead_cap = d->cap;
        dead_end = (const char *)(d->v + d->cap) - 1;
    }
}

static const rc_type fnode_type = {.name = "fnode", .size = sizeof(fnode), .traverse = fnode_traverse,
                                   .clear = fnode_clear, .finalize = fnode_finalize};

/* A death leaves a hole in the young vector instead of moving another
 * object into its slot.  Holes at the end go at once, so a batch that dies
 * whole leaves nothing behind, in whatever order it dies; until then every
 * query counts only the live objects. */
static int count_visit(void *o, void *arg)
{
    (void)o;
    ++*(size_t *)arg;
    return 0;
}

static size_t count_objects(rc_heap *h, int generation)
{
    size_t n = 0;
    assert_int_equal(rc_gc_get_objects(h, generation, count_visit, &n), 0);
    return n;
}

static void a_batch_that_dies_in_any_order_leaves_no_hole(void **state)
{
    (void)state;
    rc_heap *h = heap();
    enum { N = 3000 };
    static void *v[N];
    for (int round = 0; round < 3; round++) {     /* collector on: gen 0 and 1 both get holes */
        for (size_t i = 0; i < N; i++)
            v[i] = node_new(h, &node_type, (long)i);
        for (size_t k = 0; k < N; k++) {
            size_t i = (k * 1237 + (size_t)round) % N;     /* 1237 is prime to N: each once */
            rc_decref(v[i]);
            if (k == N / 2) {
                assert_int_equal(count_objects(h, -1), N - N / 2 - 1);
                assert_int_equal(rc_heap_check(h), 0);
            }
        }
        assert_int_equal(h->gc.young_len, 0);
        assert_int_equal(h->gc.holes0, 0);
        assert_int_equal(count_objects(h, -1), 0);
    }
    assert_int_equal(node_released, 3 * N);
    rc_heap_free(h);
}

/* A full vector with holes is squeezed before it grows: survivors keep
 * their order and generation, and their words follow their slots. */
static void holes_are_squeezed_out_before_the_vector_grows(void **state)
{
    (void)state;
    rc_heap *h = heap();
    rc_gc_disable(h);
    node *first = node_new(h, &node_type, 0);
    size_t cap = h->gc.young_cap, n = cap;
    node **v = malloc(n * sizeof *v);
    assert_non_null(v);
    v[0] = first;
    for (size_t i = 1; i < n; i++)
        v[i] = node_new(h, &node_type, (long)i);
    assert_int_equal(rc_gc_collect(h, 0), 0);      /* all of them gen 1 now */
    for (size_t i = 0; i < n; i++)
        if (i % 4 != 3)
            rc_decref(v[i]);                         /* holes in gen 1; the last slot lives */
    assert_int_equal(h->gc.young_len, n);
    assert_int_equal(rc_heap_check(h), 0);
    node *young = node_new(h, &node_type, -1);       /* finds the vector full */
    assert_int_equal(h->gc.young_cap, cap);
    assert_int_equal(h->gc.young_len, n / 4 + 1);
    assert_int_equal(h->gc.gen0_start, n / 4);
    assert_int_equal(count_objects(h, 1), n / 4);
    assert_int_equal(count_objects(h, 0), 1);
    assert_int_equal(rc_heap_check(h), 0);
    for (size_t i = 3; i < n; i += 4) {
        assert_int_equal(((node *)v[i])->id, (long)i);
        rc_decref(v[i]);
    }
    rc_decref(young);
    assert_int_equal(h->gc.young_len, 0);
    free(v);
    rc_heap_free(h);
}

/* A collection that promotes without a scan counts as its candidates the
 * objects of gen 0, not its slots. */
static void an_unscanned_collection_counts_live_objects_not_holes(void **state)
{
    (void)state;
    rc_heap *h = heap();
    rc_gc_set_threshold(h, 10, 10, 10);
    node *v[13];
    for (int i = 0; i < 11; i++)
        v[i] = node_new(h, &node_type, i);
    rc_decref(v[3]);
    rc_decref(v[7]);                  /* two holes; count0 9 */
    v[11] = node_new(h, &node_type, 11);
    v[12] = node_new(h, &node_type, 12);
    assert_int_equal(h->gc.holes0, 2);
    assert_int_equal(rc_gc_get_stats(h, 0).collections, 0);
    node *last = node_new(h, &node_type, 13);        /* count0 11 > 10: collects first */
    rc_gc_stats st = rc_gc_get_stats(h, 0);
    assert_int_equal(st.collections, 1);
    assert_int_equal(st.unscanned, 1);
    assert_int_equal(st.candidates, 11);
    assert_int_equal(h->gc.holes0, 0);
    assert_int_equal(count_objects(h, 1), 11);
    assert_int_equal(count_objects(h, 0), 1);
    assert_int_equal(rc_heap_check(h), 0);
    for (int i = 0; i < 13; i++)
        if (i != 3 && i != 7)
            rc_decref(v[i]);
    rc_decref(last);
    rc_heap_free(h);
}

/* A young collection lists its dead set in the dead vector, 8 bytes per
 * member: once it is over, those pages are the OS's again. */
static void a_collections_dead_vector_is_gone_after_it(void **state)
{
    (void)state;
    rc_heap *h = watched = heap();
    rc_gc_disable(h);
    for (size_t i = 0; i < PEAK; i++) {
        fnode *f = rc_new(h, &fnode_type);
        assert_non_null(f);
        f->self = f;          /* the object's own reference is now its cycle's */
    }
    dead_cap = 0;
    assert_int_equal(rc_gc_collect(h, 0), PEAK);
    assert_true(dead_cap >= PEAK);
    assert_false(mapped(dead_end));
    assert_true(h->gc.young_cap <= FLOOR_MAX);
    rc_heap_free(h);
}

static void fill(size_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = i * 7 + 3;
}

static void check_fill(const size_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        assert_int_equal(v[i], i * 7 + 3);
}

/* From malloc to a mapping of its own and back: the contents stay, and
 * the pages of the big array are gone once it is small again. */
static void a_big_array_gives_its_pages_back_when_it_shrinks(void **state)
{
    (void)state;
    size_t *v = NULL, cap = 0;
    assert_true(rc__mapvec_reserve(&v, &cap, 100, sizeof *v, 16, SIZE_MAX));
    fill(v, 100);
    enum { BIG = 1 << 19 };                 /* 4 MiB: mapped in every build */
    assert_true(rc__mapvec_reserve(&v, &cap, BIG, sizeof *v, 16, SIZE_MAX));
    check_fill(v, 100);
    fill(v, BIG);
    const char *far = (const char *)(v + BIG - 1);
    assert_true(mapped(far));

    rc__mapvec_shrink(&v, &cap, BIG / 4, sizeof *v, 16);   /* a quarter used: stays */
    assert_int_equal(cap, BIG);
    rc__mapvec_shrink(&v, &cap, 1000, sizeof *v, 16);
    assert_int_equal(cap, 2000);
    check_fill(v, 1000);
    assert_false(mapped(far));

    rc__mapvec_free(&v, &cap, sizeof *v);
    assert_null(v);
    assert_int_equal(cap, 0);
}

static void a_mapped_array_shrinks_in_place_and_frees_its_mapping(void **state)
{
    (void)state;
    size_t *v = NULL, cap = 0;
    enum { BIG = 1 << 20 };                 /* 8 MiB */
    assert_true(rc__mapvec_reserve(&v, &cap, BIG, sizeof *v, 16, SIZE_MAX));
    fill(v, BIG);
    const char *tail = (const char *)(v + BIG - 1);
    rc__mapvec_shrink(&v, &cap, BIG / 8, sizeof *v, 16);   /* 2 MiB left: still a mapping */
    assert_int_equal(cap, BIG / 4);
    check_fill(v, BIG / 8);
    assert_false(mapped(tail));
    const char *head = (const char *)v;
    assert_true(mapped(head));
    rc__mapvec_free(&v, &cap, sizeof *v);
    assert_false(mapped(head));
}

/* Outside the collector arrays stay malloc's, however big: the graph
 * code and the queries free theirs with free(). */
static void a_plain_array_is_mallocs_at_any_size(void **state)
{
    (void)state;
    size_t *v = NULL, cap = 0;
    assert_true(rc__vec_reserve(&v, &cap, 1 << 20, sizeof *v, 16, SIZE_MAX));
    fill(v, cap);
    assert_true(rc__vec_reserve(&v, &cap, 1 << 21, sizeof *v, 16, SIZE_MAX));
    check_fill(v, 1 << 20);
    free(v);

    rc_heap *h = heap();               /* an object graph of 2 * 10^5 edges */
    void *list = rc_list_new(h, 0);
    assert_non_null(list);
    node *prev = NULL;
    for (long i = 0; i < 200000; i++) {
        node *n = node_new(h, &node_type, i);
        node_set(n, 0, prev);
        assert_int_equal(rc_list_append(list, n), 0);
        rc_decref(n);
        prev = n;
    }
    rc_objgraph *g = rc_objgraph_new(h);
    assert_non_null(g);
    rc_objgraph_free(g);
    rc_decref(list);
    rc_heap_free(h);
}

static void shrinking_never_goes_below_the_floor(void **state)
{
    (void)state;
    size_t *v = NULL, cap = 0;
    assert_true(rc__mapvec_reserve(&v, &cap, 5000, sizeof *v, 64, SIZE_MAX));
    assert_int_equal(cap, 8192);
    rc__mapvec_shrink(&v, &cap, 3, sizeof *v, 64);
    assert_int_equal(cap, 64);
    rc__mapvec_shrink(&v, &cap, 0, sizeof *v, 64);
    assert_int_equal(cap, 64);
    rc__mapvec_shrink(&v, &cap, 0, sizeof *v, 0);   /* no floor: nothing kept */
    assert_null(v);
    assert_int_equal(cap, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(young_vector_shrinks_after_a_peak_and_a_collection),
        cmocka_unit_test(young_vector_shrinks_when_the_collector_is_switched),
        cmocka_unit_test(young_vector_keeps_its_survivors_when_it_shrinks),
        cmocka_unit_test(a_steady_load_does_not_resize_the_young_vector),
        cmocka_unit_test(a_batch_that_dies_in_any_order_leaves_no_hole),
        cmocka_unit_test(holes_are_squeezed_out_before_the_vector_grows),
        cmocka_unit_test(an_unscanned_collection_counts_live_objects_not_holes),
        cmocka_unit_test(a_collections_dead_vector_is_gone_after_it),
        cmocka_unit_test(a_big_array_gives_its_pages_back_when_it_shrinks),
        cmocka_unit_test(a_mapped_array_shrinks_in_place_and_frees_its_mapping),
        cmocka_unit_test(shrinking_never_goes_below_the_floor),
        cmocka_unit_test(a_plain_array_is_mallocs_at_any_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
