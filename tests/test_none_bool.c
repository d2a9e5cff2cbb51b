/* None, True, False: immortal per-heap singletons with Python's behaviour. */
#include "value_check.h"

static void singletons_are_shared_immortal_and_untracked(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *n = rc_none(h), *t = rc_true(h), *f = rc_false(h);
    assert_ptr_equal(n, rc_none(h));
    assert_ptr_equal(t, rc_bool(h, true));
    assert_ptr_equal(f, rc_bool(h, false));
    assert_ptr_not_equal(t, f);
    for (int i = 0; i < 3; i++) {
        void *o = i == 0 ? n : i == 1 ? t : f;
        assert_true(rc_is_immortal(o));
        rc_decref(o);
        rc_decref(o);
        assert_int_equal(rc_refcount(o), RC_IMMORTAL_REFCNT);
        assert_false(rc_gc_is_tracked(o));
    }
    assert_true(rc_is_none(n));
    assert_false(rc_is_none(t));
    assert_string_equal(rc_type_name(n), "NoneType");
    assert_string_equal(rc_type_name(t), "bool");
    rc_heap_free(h);
}

static void each_heap_has_its_own(void **state)
{
    (void)state;
    rc_heap *a = vc_heap(), *b = vc_heap();
    assert_ptr_not_equal(rc_none(a), rc_none(b));
    assert_ptr_equal(rc_heap_of(rc_none(b)), b);
    rc_heap_free(a);
    rc_heap_free(b);
}

static void repr_truth_and_numeric_equality(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    assert_repr(rc_none(h), "None");
    assert_repr(rc_true(h), "True");
    assert_repr(rc_false(h), "False");
    assert_int_equal(rc_truth(rc_none(h)), 0);
    assert_int_equal(rc_truth(rc_true(h)), 1);
    assert_int_equal(rc_truth(rc_false(h)), 0);
    /* True == 1 and hash(True) == hash(1), so they are one dict key */
    assert_int_equal(rc_equal(rc_true(h), rc_int_from(h, 1)), 1);
    assert_int_equal(rc_equal(rc_false(h), rc_int_from(h, 0)), 1);
    assert_int_equal(rc_equal(rc_none(h), rc_false(h)), 0);
    void *d = rc_dict_new(h);
    rc_dict_set(d, rc_int_from(h, 1), rc_none(h));
    rc_dict_set(d, rc_true(h), rc_true(h));
    assert_int_equal(rc_dict_len(d), 1);
    assert_repr(d, "{1: True}");
    int64_t a, b;
    rc_hash(rc_none(h), &a);
    rc_hash(rc_none(h), &b);
    assert_true(a == b);
    rc_decref(d);
    rc_heap_free(h);
}

static void copies_are_the_singletons(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    assert_ptr_equal(rc_copy(rc_none(h)), rc_none(h));
    assert_ptr_equal(rc_deepcopy(rc_true(h)), rc_true(h));
    assert_true(rc_sizeof(rc_none(h)) >= 16);
    rc_heap_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(singletons_are_shared_immortal_and_untracked),
        cmocka_unit_test(each_heap_has_its_own),
        cmocka_unit_test(repr_truth_and_numeric_equality),
        cmocka_unit_test(copies_are_the_singletons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
