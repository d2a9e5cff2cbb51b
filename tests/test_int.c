/* int: small-int cache, value access, overflow, repr and Python's hash. */
#include "value_check.h"

static void small_ints_are_shared_and_immortal(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *a = rc_int_from(h, 19), *b = rc_int_from(h, 19);
    assert_ptr_equal(a, b);                 /* a = 19; b = 19; a is b */
    assert_true(rc_is_immortal(a));
    assert_int_equal(rc_refcount(a), RC_IMMORTAL_REFCNT);
    rc_decref(a);
    rc_decref(b);
    assert_int_equal(rc_refcount(a), RC_IMMORTAL_REFCNT);
    assert_ptr_equal(rc_int_from(h, -5), rc_int_from(h, -5));
    assert_ptr_equal(rc_int_from(h, 256), rc_int_from(h, 256));
    assert_false(rc_gc_is_tracked(a));
    rc_heap_free(h);
}

static void big_ints_are_fresh_objects(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    size_t live = vc_live(h);
    void *a = rc_int_from(h, 257), *b = rc_int_from(h, 257), *c = rc_int_from(h, -6);
    assert_ptr_not_equal(a, b);
    assert_int_equal(rc_refcount(a), 1);
    assert_int_equal(rc_equal(a, b), 1);
    assert_int_equal(vc_live(h), live + 3);
    rc_decref(a);
    rc_decref(b);
    rc_decref(c);
    assert_int_equal(vc_live(h), live);
    rc_heap_free(h);
}

static void value_and_type_errors(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    int64_t v = 0;
    void *x = rc_int_from(h, INT64_MIN);
    assert_int_equal(rc_int_value(x, &v), 0);
    assert_true(v == INT64_MIN);
    assert_int_equal(rc_int_value(rc_true(h), &v), 0);   /* bool is an int */
    assert_int_equal(v, 1);
    void *s = rc_str_new(h, "7");
    assert_int_equal(rc_int_value(s, &v), RC_ETYPE);
    assert_error(h, RC_ETYPE, "expected int, got str");
    assert_int_equal(rc_int_value(NULL, &v), RC_EINVAL);
    rc_decref(x);
    rc_decref(s);
    rc_heap_free(h);
}

static void overflow_is_erange(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *max = rc_int_from(h, INT64_MAX), *one = rc_int_from(h, 1), *min = rc_int_from(h, INT64_MIN);
    assert_null(rc_int_add(max, one));
    assert_error(h, RC_ERANGE, "overflow");
    assert_null(rc_int_sub(min, one));
    assert_int_equal(rc_last_error_code(h), RC_ERANGE);
    assert_null(rc_int_mul(max, max));
    assert_int_equal(rc_last_error_code(h), RC_ERANGE);
    void *sum = rc_int_add(min, one), *prod = rc_int_mul(rc_int_from(h, 6), rc_int_from(h, 7));
    int64_t v;
    rc_int_value(sum, &v);
    assert_true(v == INT64_MIN + 1);
    assert_ptr_equal(prod, rc_int_from(h, 42));   /* results come from the cache too */
    void *s = rc_str_new(h, "x");
    assert_null(rc_int_add(one, s));
    assert_error(h, RC_ETYPE, "got str");
    rc_decref(sum);
    rc_decref(max);
    rc_decref(min);
    rc_decref(s);
    rc_heap_free(h);
}

static void repr_and_hash_follow_python(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *a = rc_int_from(h, INT64_MIN), *b = rc_int_from(h, -1), *c = rc_int_from(h, ((int64_t)1 << 61) - 1);
    void *d = rc_int_from(h, -((int64_t)1 << 61)), *e = rc_int_from(h, (int64_t)1 << 62);
    assert_repr(a, "-9223372036854775808");
    assert_repr(rc_int_from(h, 0), "0");
    int64_t hv;
    assert_int_equal(rc_hash(b, &hv), 0);
    assert_true(hv == -2);          /* hash(-1) == -2 */
    rc_hash(c, &hv);
    assert_true(hv == 0);           /* hash(2**61 - 1) == 0 */
    rc_hash(d, &hv);
    assert_true(hv == -2);          /* hash(-2**61) == -2 */
    rc_hash(e, &hv);
    assert_true(hv == 2);           /* hash(2**62) == 2 */
    assert_int_equal(rc_truth(rc_int_from(h, 0)), 0);
    assert_int_equal(rc_truth(a), 1);
    rc_decref(a);
    rc_decref(c);
    rc_decref(d);
    rc_decref(e);
    rc_heap_free(h);
}

static void sizeof_counts_header(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *a = rc_int_from(h, 1000);
    assert_true(rc_sizeof(a) >= 24);   /* 16-byte header + int64 */
    assert_true(rc_sizeof(a) <= 32);   /* CPython: 28 */
    rc_decref(a);
    rc_heap_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_ints_are_shared_and_immortal),
        cmocka_unit_test(big_ints_are_fresh_objects),
        cmocka_unit_test(value_and_type_errors),
        cmocka_unit_test(overflow_is_erange),
        cmocka_unit_test(repr_and_hash_follow_python),
        cmocka_unit_test(sizeof_counts_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
