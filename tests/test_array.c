/* array: typed storage, range checks, growth, copies, the export lock. */
#include "value_check.h"

static void new_is_zero_filled_and_typed(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *a = rc_array_new(h, RC_I32, 5);
    assert_int_equal(rc_array_len(a), 5);
    assert_int_equal(rc_array_kind(a), RC_I32);
    int32_t *p = rc_array_data(a);
    for (int i = 0; i < 5; i++) assert_int_equal(p[i], 0);
    p[2] = -7;
    assert_repr(a, "array('i', [0, 0, -7, 0, 0])");
    assert_false(rc_gc_is_tracked(a));
    assert_true(rc_sizeof(a) >= 16 + 20);   /* owns its element buffer */
    assert_null(rc_array_new(h, (rc_elem)42, 1));
    assert_error(h, RC_EINVAL, "element kind");
    void *e = rc_array_new(h, RC_I8, 0);
    assert_repr(e, "array('b')");
    rc_decref(a);
    rc_decref(e);
    rc_heap_free(h);
}

static void append_checks_range_and_kind(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *a = rc_array_new(h, RC_I8, 0), *f = rc_array_new(h, RC_F64, 0), *u = rc_array_new(h, RC_U16, 0);
    assert_int_equal(rc_array_append_int(a, 127), 0);
    assert_int_equal(rc_array_append_int(a, 128), RC_ERANGE);
    assert_error(h, RC_ERANGE, "typecode 'b'");
    assert_int_equal(rc_array_append_int(u, -1), RC_ERANGE);
    assert_int_equal(rc_array_append_int(u, 65535), 0);
    assert_int_equal(rc_array_append_float(a, 1.5), RC_ETYPE);
    assert_error(h, RC_ETYPE, "integer argument expected");
    assert_int_equal(rc_array_append(a, S(h, "x")), RC_ETYPE);
    assert_int_equal(rc_array_append(f, I(h, 2)), 0);   /* ints widen into float arrays */
    void *x = rc_float_from(h, 0.1);
    assert_int_equal(rc_array_append(f, x), 0);
    assert_repr(f, "array('d', [2.0, 0.1])");
    assert_repr(a, "array('b', [127])");
    assert_repr(u, "array('H', [65535])");
    void *g = rc_array_get(f, 1);
    assert_int_equal(rc_equal(g, x), 1);
    assert_null(rc_array_get(f, 2));
    assert_int_equal(rc_last_error_code(h), RC_ERANGE);
    void *objs[] = {a, f, u, x, g};
    for (size_t i = 0; i < 5; i++) rc_decref(objs[i]);
    rc_heap_free(h);
}

static void extend_and_growth(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *a = rc_array_new(h, RC_I64, 0), *r = rc_range_new(h, 0, 100000, 1);
    assert_int_equal(rc_array_extend(a, r), 0);
    assert_int_equal(rc_array_extend(a, a), 0);   /* doubles itself */
    assert_int_equal(rc_array_len(a), 200000);
    int64_t *p = rc_array_data(a);
    assert_true(p[150000] == 50000);
    void *b = rc_array_new(h, RC_I32, 1);
    assert_int_equal(rc_array_extend(a, b), RC_ETYPE);
    assert_error(h, RC_ETYPE, "same kind");
    void *l = rc_list_new(h, 0);
    rc_list_append(l, I(h, 5));
    assert_int_equal(rc_array_extend(b, l), 0);
    assert_repr(b, "array('i', [0, 5])");
    assert_int_equal(rc_array_resize(b, 4), 0);
    assert_repr(b, "array('i', [0, 5, 0, 0])");
    assert_int_equal(rc_array_resize(b, 1), 0);
    assert_repr(b, "array('i', [0])");
    rc_decref(a);
    rc_decref(r);
    rc_decref(b);
    rc_decref(l);
    rc_heap_free(h);
}

static void equality_and_copies(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *a = rc_array_new(h, RC_I16, 0), *b = rc_array_new(h, RC_F32, 0);
    for (int i = 0; i < 10; i++) {
        rc_array_append_int(a, i);
        rc_array_append_float(b, i);
    }
    assert_int_equal(rc_equal(a, b), 1);   /* by value across kinds */
    void *c = rc_copy(a);
    ((int16_t *)rc_array_data(c))[0] = 9;
    assert_int_equal(rc_equal(a, c), 0);   /* an independent buffer */
    void *l = rc_list_new(h, 0);
    rc_list_append(l, a);
    rc_list_append(l, a);
    void *dl = rc_deepcopy(l);
    assert_ptr_equal(rc_list_get(dl, 0), rc_list_get(dl, 1));   /* sharing kept */
    assert_ptr_not_equal(rc_list_get(dl, 0), a);
    int64_t hv;
    assert_int_equal(rc_hash(a, &hv), RC_ETYPE);
    void *objs[] = {a, b, c, l, dl};
    for (size_t i = 0; i < 5; i++) rc_decref(objs[i]);
    rc_heap_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_is_zero_filled_and_typed),
        cmocka_unit_test(append_checks_range_and_kind),
        cmocka_unit_test(extend_and_growth),
        cmocka_unit_test(equality_and_copies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
