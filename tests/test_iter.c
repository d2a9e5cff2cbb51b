/* Iteration over every container, ranges, and the iterator protocol. */
#include "value_check.h"

/* repr of list(iterable), into buf. */
static void listed(void *iterable, char *buf, size_t size)
{
    void *l = rc_list_from_iter(rc_heap_of(iterable), iterable);
    assert_non_null(l);
    assert_true(rc_repr_buf(l, buf, size) >= 0);
    rc_decref(l);
}

#define assert_listed(o, text) do { char b_[512]; listed((o), b_, sizeof b_); assert_string_equal(b_, (text)); } while (0)

static void every_container_iterates(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *l = rc_list_new(h, 0), *t = rc_tuple_pack(h, 2, I(h, 1), I(h, 2)), *s = rc_set_new(h), *d = rc_dict_new(h);
    rc_list_append(l, I(h, 1));
    rc_list_append(l, t);
    rc_set_add(s, I(h, 3));
    rc_dict_set_str(d, "k", I(h, 4));
    void *str = rc_str_new(h, "a\xC3\xA9z"), *b = rc_bytes_new(h, "AZ", 2), *a = rc_array_new(h, RC_F32, 2);
    void *v = rc_view_new(a, 1, 2);
    assert_listed(l, "[1, (1, 2)]");
    assert_listed(t, "[1, 2]");
    assert_listed(s, "[3]");
    assert_listed(d, "['k']");
    void *dv = rc_dict_iter_values(d), *di = rc_dict_iter_items(d);
    assert_listed(dv, "[4]");
    assert_listed(di, "[('k', 4)]");
    assert_listed(str, "['a', '\xC3\xA9', 'z']");
    assert_listed(b, "[65, 90]");
    assert_listed(a, "[0.0, 0.0]");
    assert_listed(v, "[0.0]");
    void *objs[] = {l, t, s, d, str, b, a, v, dv, di};
    for (size_t i = 0; i < 10; i++) rc_decref(objs[i]);
    rc_heap_free(h);
}

static void ranges(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *r = rc_range_new(h, 0, 10, 3), *neg = rc_range_new(h, 5, -5, -4), *empty = rc_range_new(h, 3, 3, 1);
    assert_listed(r, "[0, 3, 6, 9]");
    assert_listed(neg, "[5, 1, -3]");
    assert_listed(empty, "[]");
    assert_int_equal(rc_range_len(r), 4);
    assert_repr(r, "range(0, 10, 3)");
    void *r1 = rc_range_new(h, 0, 10, 1);
    assert_repr(r1, "range(0, 10)");
    int64_t hv;
    rc_hash(r1, &hv);
    assert_true(hv == -7546101314042312252);   /* hash(range(0, 10)) in CPython */
    void *big = rc_range_new(h, INT64_MIN, INT64_MAX, INT64_MAX);
    assert_int_equal(rc_range_len(big), 3);
    assert_null(rc_range_new(h, 0, 1, 0));
    assert_error(h, RC_EINVAL, "must not be zero");
    void *r2 = rc_range_new(h, 0, 11, 3);   /* same elements as range(0, 10, 3) */
    assert_int_equal(rc_equal(r, r2), 1);
    assert_int_equal(rc_equal(empty, rc_range_new(h, 9, 0, 1)), 1);
    void *objs[] = {r, neg, empty, r1, big, r2};
    for (size_t i = 0; i < 6; i++) rc_decref(objs[i]);
    rc_heap_free(h);
}

static void protocol_rules(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *l = rc_list_new(h, 0);
    rc_list_append(l, I(h, 1));
    void *it = rc_iter(l);
    assert_int_equal(rc_refcount(l), 2);
    void *same = rc_iter(it);   /* iter(iterator) is the iterator */
    assert_ptr_equal(same, it);
    rc_decref(same);
    void *x;
    assert_int_equal(rc_iter_next(it, &x), 1);
    assert_int_equal(rc_iter_next(it, &x), 0);
    assert_null(x);
    assert_int_equal(rc_refcount(l), 1);   /* an exhausted iterator lets go */
    assert_int_equal(rc_iter_next(it, &x), 0);
    assert_repr_starts(it, "<sequence_iterator object at 0x");
    assert_null(rc_iter(rc_int_from(h, 5)));
    assert_error(h, RC_ETYPE, "'int' object is not iterable");
    assert_int_equal(rc_iter_next(l, &x), RC_ETYPE);
    assert_error(h, RC_ETYPE, "'list' object is not an iterator");
    assert_null(rc_copy(it));
    assert_error(h, RC_ENOTSUP, "cannot copy");
    void *s = rc_set_new(h);
    rc_set_add(s, I(h, 1));
    void *si = rc_iter(s);
    rc_set_add(s, I(h, 2));
    assert_int_equal(rc_iter_next(si, &x), RC_ESTATE);
    assert_error(h, RC_ESTATE, "Set changed size during iteration");
    /* an iterator in a cycle with its container is collected */
    void *cyc = rc_list_new(h, 0), *ci = rc_iter(cyc);
    rc_list_append(cyc, ci);
    rc_decref(ci);
    rc_decref(cyc);
    assert_int_equal(rc_gc_collect(h, 2), 2);
    rc_decref(it);
    rc_decref(l);
    rc_decref(si);
    rc_decref(s);
    rc_heap_free(h);
}

static void len_and_contains(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *l = rc_list_new(h, 0), *s = rc_str_new(h, "h\xC3\xA9llo"), *b = rc_bytes_new(h, "AB", 2);
    void *r = rc_range_new(h, 10, 0, -3), *d = rc_dict_new(h), *f = rc_float_from(h, 7.0);
    rc_list_append(l, f);
    rc_dict_set_str(d, "k", l);
    assert_int_equal(rc_len(l), 1);
    assert_int_equal(rc_len(s), 5);            /* code points */
    assert_int_equal(rc_len(r), 4);            /* 10, 7, 4, 1 */
    assert_int_equal(rc_len(rc_int_from(h, 3)), RC_ETYPE);
    assert_error(h, RC_ETYPE, "object of type 'int' has no len()");
    assert_int_equal(rc_contains(l, rc_int_from(h, 7)), 1);   /* 7 == 7.0 */
    assert_int_equal(rc_contains(r, rc_int_from(h, 7)), 1);
    assert_int_equal(rc_contains(r, f), 1);
    assert_int_equal(rc_contains(r, rc_int_from(h, 8)), 0);
    void *sub = rc_str_new(h, "\xC3\xA9ll"), *ab = rc_bytes_new(h, "B", 1);
    assert_int_equal(rc_contains(s, sub), 1);
    assert_int_equal(rc_contains(s, rc_int_from(h, 1)), RC_ETYPE);
    assert_error(h, RC_ETYPE, "requires string as left operand, not int");
    assert_int_equal(rc_contains(b, ab), 1);
    assert_int_equal(rc_contains(b, rc_int_from(h, 65)), 1);   /* 65 in b'AB' */
    void *k = rc_str_new(h, "k");
    assert_int_equal(rc_contains(d, k), 1);
    assert_int_equal(rc_contains(d, l), RC_ETYPE);              /* unhashable */
    void *t = rc_tuple_pack(h, 2, rc_none(h), rc_true(h));
    assert_int_equal(rc_contains(t, rc_int_from(h, 1)), 1);     /* True == 1 */
    void *g = rc_iter(t);
    assert_int_equal(rc_contains(g, rc_none(h)), 1);
    assert_int_equal(rc_contains(rc_int_from(h, 5), rc_none(h)), RC_ETYPE);
    void *objs[] = {l, s, b, r, d, f, sub, ab, k, t, g};
    for (size_t i = 0; i < 11; i++) rc_decref(objs[i]);
    rc_heap_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_container_iterates),
        cmocka_unit_test(ranges),
        cmocka_unit_test(protocol_rules),
        cmocka_unit_test(len_and_contains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
