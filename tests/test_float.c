/* float: Python's repr text, the numeric tower, Python's hash. */
#include "value_check.h"

#include <math.h>

static void repr_is_pythons_shortest_text(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    static const struct { double v; const char *text; } cases[] = {
        {1.0, "1.0"}, {0.1, "0.1"}, {1e16, "1e+16"}, {1e-05, "1e-05"}, {0.0001, "0.0001"},
        {123456789.0, "123456789.0"}, {1.5e300, "1.5e+300"}, {-0.0, "-0.0"}, {1.0 / 3, "0.3333333333333333"},
        {2.5e-07, "2.5e-07"}, {1e15, "1000000000000000.0"}, {12345.678, "12345.678"}, {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"}, {INFINITY, "inf"}, {-INFINITY, "-inf"}, {NAN, "nan"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        void *f = rc_float_from(h, cases[i].v);
        assert_repr(f, cases[i].text);
        rc_decref(f);
    }
    rc_heap_free(h);
}

static void hash_matches_python_and_ints(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    static const struct { double v; int64_t hash; } cases[] = {
        {0.5, 1152921504606846976}, {-1.0, -2}, {1e100, 1822893315824342674}, {1.5, 1152921504606846977},
        {-2.75, -1729382256910270466}, {INFINITY, 314159},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        void *f = rc_float_from(h, cases[i].v);
        int64_t hv;
        assert_int_equal(rc_hash(f, &hv), 0);
        assert_true(hv == cases[i].hash);
        rc_decref(f);
    }
    void *f = rc_float_from(h, 12345.0), *i = rc_int_from(h, 12345);
    int64_t hf, hi;
    rc_hash(f, &hf);
    rc_hash(i, &hi);
    assert_true(hf == hi);
    rc_decref(f);
    rc_decref(i);
    rc_heap_free(h);
}

static void equality_is_exact_across_int_and_float(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *one = rc_float_from(h, 1.0), *half = rc_float_from(h, 0.5), *nan = rc_float_from(h, NAN);
    void *big = rc_float_from(h, 9007199254740993.0);   /* rounds to 2**53 */
    void *bigi = rc_int_from(h, 9007199254740993);
    assert_int_equal(rc_equal(one, rc_int_from(h, 1)), 1);
    assert_int_equal(rc_equal(half, rc_int_from(h, 0)), 0);
    assert_int_equal(rc_equal(nan, nan), 1);               /* identity, as in a list */
    void *nan2 = rc_float_from(h, NAN);
    assert_int_equal(rc_equal(nan, nan2), 0);
    assert_int_equal(rc_equal(big, bigi), 0);               /* no rounding through double */
    double d;
    assert_int_equal(rc_float_value(rc_int_from(h, 3), &d), 0);
    assert_true(d == 3.0);
    void *s = rc_str_new(h, "1.0");
    assert_int_equal(rc_float_value(s, &d), RC_ETYPE);
    assert_error(h, RC_ETYPE, "expected float, got str");
    assert_int_equal(rc_truth(rc_float_from(h, 0.0)), 0);
    void *objs[] = {one, half, nan, nan2, big, bigi, s};
    for (size_t i = 0; i < 7; i++) rc_decref(objs[i]);
    rc_heap_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(repr_is_pythons_shortest_text),
        cmocka_unit_test(hash_matches_python_and_ints),
        cmocka_unit_test(equality_is_exact_across_int_and_float),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
