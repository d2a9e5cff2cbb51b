/* tuple: built once, immutable, untracked when it holds only atoms. */
#include "value_check.h"

static void pack_get_len_repr(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *s = S(h, "a");
    void *t = rc_tuple_pack(h, 2, I(h, 1), s);
    assert_int_equal(rc_refcount(s), 2);   /* pack takes its own reference */
    assert_int_equal(rc_tuple_len(t), 2);
    assert_ptr_equal(rc_tuple_get(t, 1), s);
    assert_null(rc_tuple_get(t, 2));
    assert_error(h, RC_ERANGE, "out of range");
    assert_repr(t, "(1, 'a')");
    void *one = rc_tuple_pack(h, 1, s), *e = rc_tuple_new(h, 0);
    assert_repr(one, "('a',)");
    assert_repr(e, "()");
    assert_ptr_equal(e, rc_tuple_new(h, 0));   /* one empty tuple per heap */
    assert_true(rc_is_immortal(e));
    assert_int_equal(rc_truth(e), 0);
    rc_decref(t);
    rc_decref(one);
    assert_int_equal(rc_refcount(s), 1);
    rc_decref(s);
    rc_heap_free(h);
}

static void is_immutable_once_filled(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *t = rc_tuple_new(h, 2);
    assert_int_equal(rc_tuple_set(t, 0, I(h, 5)), 0);
    assert_int_equal(rc_tuple_set(t, 0, I(h, 6)), RC_ESTATE);
    assert_error(h, RC_ESTATE, "does not support item assignment");
    assert_int_equal(rc_tuple_set(t, 2, I(h, 6)), RC_ERANGE);
    int64_t hv;
    assert_int_equal(rc_hash(t, &hv), RC_ESTATE);   /* incomplete */
    rc_tuple_set(t, 1, I(h, 6));
    assert_int_equal(rc_hash(t, &hv), 0);
    assert_ptr_equal(rc_copy(t), t);
    rc_decref(t);
    rc_decref(t);
    rc_heap_free(h);
}

static void untracked_while_holding_only_untracked_values(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *atoms = rc_tuple_pack(h, 3, I(h, 1), rc_none(h), S(h, "k"));
    rc_decref(rc_tuple_get(atoms, 2));
    assert_false(rc_gc_is_tracked(atoms));
    void *l = rc_list_new(h, 0);
    void *holder = rc_tuple_pack(h, 2, I(h, 1), l);
    assert_true(rc_gc_is_tracked(holder));
    void *nested = rc_tuple_pack(h, 1, atoms);   /* a tuple of untracked tuples */
    assert_false(rc_gc_is_tracked(nested));
    /* a cycle through a tuple is still collected */
    rc_list_append(l, holder);
    rc_decref(holder);
    rc_decref(l);
    assert_int_equal(rc_gc_collect(h, 2), 2);
    rc_decref(nested);
    rc_decref(atoms);
    rc_heap_free(h);
}

static void hash_matches_python_and_keys_by_value(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *a = rc_tuple_pack(h, 2, I(h, 1), I(h, 2));
    void *inner = rc_tuple_pack(h, 2, I(h, 2), I(h, 3));
    void *b = rc_tuple_pack(h, 2, I(h, 1), inner);
    void *f = rc_float_from(h, 1.0), *m = rc_int_from(h, -1);
    void *c = rc_tuple_pack(h, 2, f, m);
    int64_t hv;
    rc_hash(a, &hv);
    assert_true(hv == -3550055125485641917);   /* hash((1, 2)) in CPython */
    rc_hash(rc_tuple_new(h, 0), &hv);
    assert_true(hv == 5740354900026072187);    /* hash(()) */
    rc_hash(b, &hv);
    assert_true(hv == 7267574591690527098);    /* hash((1, (2, 3))) */
    rc_hash(c, &hv);
    assert_true(hv == -6779188579744246035);   /* hash((1.0, -1)) */
    void *d = rc_dict_new(h), *a2 = rc_tuple_pack(h, 2, rc_float_from(h, 1.0), I(h, 2));
    rc_decref(rc_tuple_get(a2, 0));
    rc_dict_set(d, a, S(h, "v"));
    rc_decref(rc_dict_get(d, a));
    assert_non_null(rc_dict_get(d, a2));       /* (1.0, 2) finds (1, 2) */
    void *l = rc_list_new(h, 0), *bad = rc_tuple_pack(h, 1, l);
    assert_int_equal(rc_dict_set(d, bad, l), RC_ETYPE);
    assert_error(h, RC_ETYPE, "unhashable type: 'list'");
    void *objs[] = {a, inner, b, f, m, c, d, a2, l, bad};
    for (size_t i = 0; i < 10; i++) rc_decref(objs[i]);
    rc_heap_free(h);
}

static void deepcopy_keeps_atom_tuples(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *atoms = rc_tuple_pack(h, 2, I(h, 1), I(h, 2));
    void *dc = rc_deepcopy(atoms);
    assert_ptr_equal(dc, atoms);   /* copy.deepcopy((1, 2)) is (1, 2) */
    rc_decref(dc);
    void *l = rc_list_new(h, 0);
    void *t = rc_tuple_pack(h, 2, l, l);
    rc_list_append(l, t);           /* t -> l -> t */
    void *tc = rc_deepcopy(t);
    assert_ptr_not_equal(tc, t);
    void *lc = rc_tuple_get(tc, 0);
    assert_ptr_equal(lc, rc_tuple_get(tc, 1));
    assert_ptr_equal(rc_list_get(lc, 0), tc);   /* the cycle is rebuilt */
    assert_repr(tc, "([(...)], [(...)])");
    rc_decref(tc);
    rc_decref(t);
    rc_decref(l);
    rc_decref(atoms);
    assert_int_equal(rc_gc_collect(h, 2), 4);
    rc_heap_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pack_get_len_repr),
        cmocka_unit_test(is_immutable_once_filled),
        cmocka_unit_test(untracked_while_holding_only_untracked_values),
        cmocka_unit_test(hash_matches_python_and_keys_by_value),
        cmocka_unit_test(deepcopy_keeps_atom_tuples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
