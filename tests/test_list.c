/* list: growth, reference rules, mutation, errors, cycles, copies. */
#include "value_check.h"

static void append_get_len_and_refcounts(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *outer = rc_list_new(h, 0), *inner = rc_list_new(h, 0);
    assert_int_equal(rc_refcount(inner), 1);
    assert_int_equal(rc_list_append(outer, inner), 0);
    /* The seed's example: Python prints 3 (getrefcount adds its argument). */
    assert_int_equal(rc_refcount(inner), 2);
    assert_ptr_equal(rc_list_get(outer, 0), inner);    /* borrowed */
    assert_int_equal(rc_refcount(inner), 2);
    assert_null(rc_list_get(outer, 1));
    assert_error(h, RC_ERANGE, "out of range");
    assert_int_equal(rc_list_len(outer), 1);
    rc_decref(inner);
    rc_decref(outer);                                   /* frees both */
    rc_heap_free(h);
}

static void growth_follows_cpython(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *l = rc_list_new(h, 0), *x = rc_none(h);
    size_t base = rc_sizeof(l), expect[] = {4, 8, 16, 24, 32, 40, 52, 64, 76, 92, 108}, k = 0, last = 0;
    for (int i = 0; i < 100; i++) {
        rc_list_append(l, x);
        size_t cap = (rc_sizeof(l) - base) / sizeof(void *);
        if (cap != last) {
            assert_true(k < sizeof expect / sizeof expect[0]);
            assert_int_equal(cap, expect[k++]);   /* sys.getsizeof's steps in CPython 3.11 */
            last = cap;
        }
    }
    assert_int_equal(k, 11);
    rc_decref(l);
    rc_heap_free(h);
}

static void insert_set_pop_clear(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *l = rc_list_new(h, 4);
    for (int i = 0; i < 5; i++) rc_list_append(l, I(h, i));
    rc_list_insert(l, 0, I(h, -1));
    rc_list_insert(l, -1, I(h, 99));     /* before the last, as Python */
    rc_list_insert(l, 100, I(h, 7));     /* clamped to the end */
    assert_repr(l, "[-1, 0, 1, 2, 3, 99, 4, 7]");
    void *s = S(h, "x y");
    assert_int_equal(rc_list_set(l, 1, s), 0);
    assert_int_equal(rc_refcount(s), 2);
    assert_int_equal(rc_list_set(l, 8, s), RC_ERANGE);
    void *p = rc_list_pop(l, -1);
    assert_ptr_equal(p, I(h, 7));
    p = rc_list_pop(l, 1);
    assert_ptr_equal(p, s);
    assert_int_equal(rc_refcount(s), 2);   /* pop hands its reference over */
    rc_decref(p);
    assert_null(rc_list_pop(l, 10));
    assert_error(h, RC_ERANGE, "pop index");
    assert_repr(l, "[-1, 1, 2, 3, 99, 4]");
    rc_list_set(l, 0, s);
    assert_int_equal(rc_list_clear(l), 0);
    assert_int_equal(rc_refcount(s), 1);
    assert_null(rc_list_pop(l, -1));
    assert_error(h, RC_ERANGE, "empty list");
    rc_decref(s);
    rc_decref(l);
    rc_heap_free(h);
}

static void extend_from_anything_iterable(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *l = rc_list_new(h, 0), *r = rc_range_new(h, 0, 3, 1), *t = rc_tuple_pack(h, 2, rc_none(h), rc_true(h));
    rc_list_extend(l, r);
    rc_list_extend(l, t);
    rc_list_extend(l, l);   /* a.extend(a) doubles */
    assert_repr(l, "[0, 1, 2, None, True, 0, 1, 2, None, True]");
    assert_int_equal(rc_list_extend(l, rc_int_from(h, 3)), RC_ETYPE);
    assert_error(h, RC_ETYPE, "not iterable");
    void *l2 = rc_list_from_iter(h, r);
    assert_repr(l2, "[0, 1, 2]");
    rc_decref(l);
    rc_decref(l2);
    rc_decref(r);
    rc_decref(t);
    rc_heap_free(h);
}

static void wrong_types_never_crash(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *d = rc_dict_new(h);
    assert_int_equal(rc_list_append(d, d), RC_ETYPE);
    assert_error(h, RC_ETYPE, "expected list, got dict");
    assert_int_equal(rc_list_len(d), 0);
    assert_null(rc_list_get(d, 0));
    assert_true(rc_list_append(NULL, d) < 0);
    void *l = rc_list_new(h, 0);
    assert_int_equal(rc_list_append(l, NULL), RC_EINVAL);
    rc_decref(l);
    rc_decref(d);
    rc_heap_free(h);
}

static void a_list_holding_itself_is_collected(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    size_t live = vc_live(h);
    void *l = rc_list_new(h, 0), *big = rc_list_new(h, 1000);
    rc_list_append(l, l);
    rc_list_append(l, big);
    rc_decref(big);
    assert_repr(l, "[[...], []]");
    assert_int_equal(rc_refcount(l), 2);
    rc_decref(l);
    assert_int_equal(vc_live(h), live + 2);   /* refcounting alone cannot free it */
    assert_int_equal(rc_gc_collect(h, 2), 2);
    assert_int_equal(vc_live(h), live);
    rc_heap_free(h);
}

static void equality_and_copies(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *inner = rc_list_new(h, 0), *a = rc_list_new(h, 0);
    rc_list_append(inner, I(h, 1));
    rc_list_append(a, inner);
    rc_list_append(a, inner);   /* shared twice */
    rc_list_append(a, a);       /* and itself */
    void *c = rc_copy(a), *d = rc_deepcopy(a);
    assert_ptr_equal(rc_list_get(c, 0), inner);         /* shallow */
    assert_ptr_not_equal(rc_list_get(d, 0), inner);     /* deep */
    assert_ptr_equal(rc_list_get(d, 0), rc_list_get(d, 1));   /* sharing kept */
    assert_ptr_equal(rc_list_get(d, 2), d);             /* the cycle stays a cycle */
    assert_repr(d, "[[1], [1], [...]]");
    void *x = rc_list_new(h, 0), *y = rc_list_new(h, 0);
    rc_list_append(x, rc_float_from(h, 1.0));
    rc_list_append(y, I(h, 1));
    assert_int_equal(rc_equal(x, y), 1);   /* [1.0] == [1] */
    rc_list_append(y, I(h, 2));
    assert_int_equal(rc_equal(x, y), 0);
    int64_t hv;
    assert_int_equal(rc_hash(x, &hv), RC_ETYPE);
    assert_error(h, RC_ETYPE, "unhashable type: 'list'");
    rc_decref(rc_list_get(x, 0));   /* the float made in the append */
    void *objs[] = {inner, a, c, d, x, y};
    for (size_t i = 0; i < 6; i++) rc_decref(objs[i]);
    rc_gc_collect(h, 2);
    rc_heap_free(h);
}

static void sort_is_stable_and_all_or_nothing(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *l = rc_list_new(h, 0), *f = rc_float_from(h, 1.0), *half = rc_float_from(h, 2.5);
    rc_list_append(l, I(h, 3));
    rc_list_append(l, f);
    rc_list_append(l, half);
    rc_list_append(l, rc_true(h));
    rc_list_append(l, I(h, 1));
    rc_list_append(l, I(h, -7));
    assert_int_equal(rc_list_sort(l), 0);
    assert_repr(l, "[-7, 1.0, True, 1, 2.5, 3]");   /* equal keys keep their order, as sorted() */
    assert_int_equal(rc_list_reverse(l), 0);
    assert_repr(l, "[3, 2.5, 1, True, 1.0, -7]");
    void *words = rc_list_new(h, 0);
    const char *w[] = {"pear", "apple", "Ã©tÃ©", "Zoo", "app"};
    for (int i = 0; i < 5; i++) {
        void *s = rc_str_new(h, w[i]);
        rc_list_append(words, s);
        rc_decref(s);
    }
    rc_list_sort(words);
    assert_repr(words, "['Zoo', 'app', 'apple', 'pear', 'Ã©tÃ©']");
    rc_list_append(words, I(h, 1));
    assert_int_equal(rc_list_sort(words), RC_ETYPE);
    assert_error(h, RC_ETYPE, "'<' not supported between instances of");
    assert_repr(words, "['Zoo', 'app', 'apple', 'pear', 'Ã©tÃ©', 1]");   /* unchanged */
    void *big = rc_list_new(h, 0);
    for (int i = 0; i < 10000; i++) rc_list_append(big, I(h, (i * 7919) % 10000 - 5000));
    for (int i = 0; i < 10000; i++) {
        void *x = rc_int_from(h, (i * 7919) % 10000 - 5000 + 100000);
        rc_list_append(big, x);
        rc_decref(x);
    }
    rc_list_sort(big);
    for (size_t i = 1; i < rc_list_len(big); i++) assert_int_equal(rc_less(rc_list_get(big, i), rc_list_get(big, i - 1)), 0);
    void *objs[] = {l, f, half, words, big};
    for (size_t i = 0; i < 5; i++) rc_decref(objs[i]);
    rc_heap_free(h);
}

/* Items [from, to) are the ints from..to-1, in order. */
static void assert_ints(void *l, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        int64_t v = -1;
        assert_int_equal(rc_int_value(rc_list_get(l, i), &v), 0);
        assert_int_equal(v, (int64_t)i);
    }
}

static void append_ints(void *l, rc_heap *h, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        void *x = I(h, (int64_t)i);
        assert_int_equal(rc_list_append(l, x), 0);
        rc_decref(x);
    }
}

/* Storage past 2 MiB moves from malloc to a mapping of its own, which then
 * grows and shrinks by moving pages: the items stay where they were, and
 * nothing is left behind. */
static void items_survive_storage_past_2_mib(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    size_t live = vc_live(h), requested = vc_requested(h);
    void *l = rc_list_new(h, 0);
    const size_t n = 400000;   /* 3.2 MB of item pointers */
    append_ints(l, h, 0, n);
    assert_ints(l, 0, n);
    while (rc_list_len(l) > 1000) rc_decref(rc_list_pop(l, -1));   /* shrinks in steps */
    assert_ints(l, 0, 1000);
    append_ints(l, h, 1000, n);
    assert_ints(l, 0, n);
    assert_int_equal(rc_heap_check(h), 0);
    rc_decref(l);
    assert_int_equal(vc_live(h), live);
    assert_int_equal(vc_requested(h), requested);
    rc_heap_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(append_get_len_and_refcounts),
        cmocka_unit_test(growth_follows_cpython),
        cmocka_unit_test(insert_set_pop_clear),
        cmocka_unit_test(extend_from_anything_iterable),
        cmocka_unit_test(wrong_types_never_crash),
        cmocka_unit_test(a_list_holding_itself_is_collected),
        cmocka_unit_test(equality_and_copies),
        cmocka_unit_test(sort_is_stable_and_all_or_nothing),
        cmocka_unit_test(items_survive_storage_past_2_mib),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
