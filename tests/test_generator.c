/* Generators and pipelines: lazy items, composition, flat memory, errors. */
#include "value_check.h"

typedef struct { int64_t next, stop; } count_state;

static int count_next(rc_heap *h, void *state, void **item)
{
    count_state *s = state;
    if (s->next >= s->stop) return 0;
    *item = rc_int_from(h, s->next++);
    return *item ? 1 : RC_ENOMEM;
}

static void *square(rc_heap *h, void *item, void *ctx)
{
    (void)ctx;
    int64_t v;
    rc_int_value(item, &v);
    return rc_int_from(h, v * v);
}

static int is_odd(const void *item, void *ctx)
{
    (void)ctx;
    int64_t v;
    rc_int_value(item, &v);
    return (int)(v & 1);
}

static void *fail_at_three(rc_heap *h, void *item, void *ctx)
{
    (void)ctx;
    int64_t v;
    rc_int_value(item, &v);
    if (v == 3) return rc_int_mul(rc_int_from(h, INT64_MAX), item);   /* overflows: RC_ERANGE */
    return rc_newref(item);
}

static void user_generator_is_lazy_and_finishes(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    count_state st = {0, 4};
    void *g = rc_gen_new(h, count_next, &st, sizeof st);
    assert_false(rc_gc_is_tracked(g));
    st.next = 100;   /* the generator has its own copy */
    void *l = rc_list_from_iter(h, g);
    assert_repr(l, "[0, 1, 2, 3]");
    void *x;
    assert_int_equal(rc_iter_next(g, &x), 0);   /* finished stays finished */
    assert_repr_starts(g, "<generator object at 0x");
    assert_null(rc_gen_new(h, NULL, NULL, 0));
    assert_int_equal(rc_last_error_code(h), RC_EINVAL);
    assert_null(rc_gen_new(h, count_next, &st, 4096));
    rc_decref(l);
    rc_decref(g);
    rc_heap_free(h);
}

static void pipelines_compose(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    size_t live = vc_live(h);
    void *r = rc_range_new(h, 0, 1000000000, 1);   /* far more than is ever made */
    void *odd = rc_gen_filter(r, is_odd, NULL), *sq = rc_gen_map(odd, square, NULL), *first = rc_gen_take(sq, 5);
    rc_decref(r);
    rc_decref(odd);
    rc_decref(sq);
    void *l = rc_list_from_iter(h, first);
    assert_repr(l, "[1, 9, 25, 49, 81]");
    assert_repr_starts(first, "<take object at 0x");
    rc_decref(l);
    rc_decref(first);                 /* the whole chain goes */
    assert_int_equal(vc_live(h), live);
    rc_heap_free(h);
}

static void memory_stays_flat_where_a_list_grows(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    const int64_t n = 200000;
    count_state st = {0, n};
    rc_heap_reset_peak(h);
    rc_memory_info m0, m1;
    rc_heap_memory(h, &m0);
    void *g = rc_gen_map(rc_gen_new(h, count_next, &st, sizeof st), square, NULL), *x;
    int64_t sum = 0, v;
    while (rc_iter_next(g, &x) == 1) {
        rc_int_value(x, &v);
        sum += v;
        rc_decref(x);
    }
    rc_heap_memory(h, &m1);
    size_t gen_peak = m1.peak - m0.requested;
    rc_decref(g);
    rc_heap_reset_peak(h);
    rc_heap_memory(h, &m0);
    void *src = rc_gen_new(h, count_next, &st, sizeof st), *all = rc_list_from_iter(h, src);
    rc_heap_memory(h, &m1);
    size_t list_peak = m1.peak - m0.requested;
    assert_int_equal(rc_list_len(all), n);
    assert_true(gen_peak < 4096);
    assert_true(list_peak > (size_t)n * 8);
    assert_true(sum > 0);
    rc_decref(src);
    rc_decref(all);
    rc_heap_free(h);
}

static void errors_propagate_and_end_the_pipeline(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *r = rc_range_new(h, 0, 10, 1), *m = rc_gen_map(r, fail_at_three, NULL), *x;
    int got = 0, rc;
    while ((rc = rc_iter_next(m, &x)) == 1) {
        got++;
        rc_decref(x);
    }
    assert_int_equal(got, 3);
    assert_int_equal(rc, RC_ERANGE);
    assert_int_equal(rc_iter_next(m, &x), 0);
    assert_null(rc_gen_map(rc_int_from(h, 1), square, NULL));
    assert_error(h, RC_ETYPE, "not iterable");
    assert_null(rc_gen_filter(r, NULL, NULL));
    assert_int_equal(rc_last_error_code(h), RC_EINVAL);
    rc_decref(m);
    rc_decref(r);
    rc_heap_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(user_generator_is_lazy_and_finishes),
        cmocka_unit_test(pipelines_compose),
        cmocka_unit_test(memory_stays_flat_where_a_list_grows),
        cmocka_unit_test(errors_propagate_and_end_the_pipeline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
