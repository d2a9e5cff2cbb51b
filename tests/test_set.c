/* set: membership by value, unhashable members refused, copies. */
#include "value_check.h"

static void add_contains_discard(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *s = rc_set_new(h), *f = rc_float_from(h, 2.0);
    assert_repr(s, "set()");
    rc_set_add(s, I(h, 1));
    rc_set_add(s, I(h, 2));
    rc_set_add(s, f);          /* 2.0 == 2: already there */
    rc_set_add(s, rc_true(h)); /* True == 1 */
    assert_int_equal(rc_set_len(s), 2);
    assert_repr(s, "{1, 2}");
    assert_int_equal(rc_set_contains(s, f), 1);
    assert_int_equal(rc_set_contains(s, I(h, 3)), 0);
    assert_int_equal(rc_set_discard(s, I(h, 3)), 0);
    assert_int_equal(rc_set_discard(s, I(h, 1)), 0);
    assert_int_equal(rc_set_len(s), 1);
    void *l = rc_list_new(h, 0);
    assert_int_equal(rc_set_add(s, l), RC_ETYPE);
    assert_error(h, RC_ETYPE, "unhashable type: 'list'");
    assert_int_equal(rc_set_add(l, s), RC_ETYPE);
    assert_error(h, RC_ETYPE, "expected set, got list");
    size_t pos = 0;
    void *k;
    assert_true(rc_set_next(s, &pos, &k));
    assert_ptr_equal(k, I(h, 2));
    assert_false(rc_set_next(s, &pos, &k));
    rc_decref(s);
    rc_decref(f);
    rc_decref(l);
    rc_heap_free(h);
}

static void equality_ignores_order_and_copies(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *a = rc_set_new(h), *b = rc_set_new(h);
    for (int i = 0; i < 1000; i++) rc_set_add(a, I(h, i % 200));
    for (int i = 199; i >= 0; i--) rc_set_add(b, I(h, i));
    assert_int_equal(rc_set_len(a), 200);
    assert_int_equal(rc_equal(a, b), 1);
    void *t = rc_tuple_pack(h, 2, I(h, 1), S(h, "x"));
    rc_set_add(a, t);
    assert_int_equal(rc_equal(a, b), 0);
    void *c = rc_copy(a), *d = rc_deepcopy(a);
    assert_int_equal(rc_equal(c, a), 1);
    assert_int_equal(rc_equal(d, a), 1);
    assert_int_equal(rc_set_contains(d, t), 1);
    int64_t hv;
    assert_int_equal(rc_hash(a, &hv), RC_ETYPE);
    void *it = rc_iter(b), *x;
    int n = 0;
    while (rc_iter_next(it, &x) == 1) {
        n++;
        rc_decref(x);
    }
    assert_int_equal(n, 200);
    rc_decref(it);
    void *objs[] = {a, b, t, c, d};
    for (size_t i = 0; i < 5; i++) rc_decref(objs[i]);
    rc_heap_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_contains_discard),
        cmocka_unit_test(equality_ignores_order_and_copies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
