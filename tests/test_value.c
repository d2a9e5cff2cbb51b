/* The operations every value has: repr, equality, hash, copy, deepcopy,
 * truth, on nested values, user types and pathological depth. */
#include "value_check.h"

static void nested_repr_is_pythons(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *d = rc_dict_new(h), *l = rc_list_new(h, 0), *t = rc_tuple_pack(h, 2, rc_none(h), rc_float_from(h, 2.5));
    rc_decref(rc_tuple_get(t, 1));
    rc_list_append(l, t);
    rc_list_append(l, S(h, "it's"));
    rc_dict_set_str(d, "list", l);
    rc_dict_set(d, t, rc_bytes_new(h, "\x00", 1));
    rc_decref(rc_dict_get(d, t));
    rc_dict_set(d, I(h, -3), rc_false(h));
    /* the same value in Python 3: repr({'list': [(None, 2.5), "it's"], (None, 2.5): b'\x00', -3: False}) */
    assert_repr(d, "{'list': [(None, 2.5), \"it's\"], (None, 2.5): b'\\x00', -3: False}");
    char small[8];
    int n = rc_repr_buf(d, small, sizeof small);
    assert_int_equal(n, 64);                 /* full length reported */
    assert_string_equal(small, "{'list'");  /* truncated, terminated */
    rc_decref(d);
    rc_decref(l);
    rc_decref(t);
    rc_heap_free(h);
}

typedef struct thing { int x; } thing;
static const rc_type thing_type = {.name = "Thing", .size = sizeof(thing)};

static void user_types_get_object_defaults(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    thing *a = rc_new(h, &thing_type), *b = rc_new(h, &thing_type);
    assert_repr_starts(a, "<Thing object at 0x");
    assert_int_equal(rc_equal(a, a), 1);
    assert_int_equal(rc_equal(a, b), 0);   /* identity, as object.__eq__ */
    int64_t ha, hb;
    assert_int_equal(rc_hash(a, &ha), 0);
    rc_hash(b, &hb);
    assert_true(ha != hb);
    assert_int_equal(rc_truth(a), 1);
    assert_null(rc_copy(a));
    assert_error(h, RC_ENOTSUP, "cannot copy 'Thing' object");
    void *d = rc_dict_new(h);
    assert_int_equal(rc_dict_set(d, a, b), 0);   /* hashable by identity */
    assert_ptr_equal(rc_dict_get(d, a), b);
    assert_null(rc_dict_get(d, b));
    assert_string_equal(rc_type_name(a), "Thing");
    rc_decref(d);
    rc_decref(a);
    rc_decref(b);
    rc_heap_free(h);
}

static void deep_nesting_is_an_error_not_a_crash(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *outer = rc_list_new(h, 0), *cur = outer;
    for (int i = 0; i < 5000; i++) {
        void *next = rc_list_new(h, 0);
        rc_list_append(cur, next);
        rc_decref(next);
        cur = next;
    }
    char buf[64];
    assert_int_equal(rc_repr_buf(outer, buf, sizeof buf), RC_ERANGE);
    assert_error(h, RC_ERANGE, "maximum recursion depth");
    void *other = rc_deepcopy(outer);
    assert_null(other);
    assert_error(h, RC_ERANGE, "maximum recursion depth");
    void *same = rc_list_new(h, 0);
    rc_list_append(same, outer);
    void *same2 = rc_list_new(h, 0);
    rc_list_append(same2, outer);
    assert_int_equal(rc_equal(same, same2), 1);   /* identical items compare without descending */
    rc_decref(same);
    rc_decref(same2);
    rc_decref(outer);   /* a 5000-deep chain dies without overflowing the stack */
    rc_heap_free(h);
}

static void deepcopy_preserves_the_shape_of_the_graph(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    /* a = [x, x, {'a': a}] with x = [1]: sharing and the cycle through the dict */
    void *a = rc_list_new(h, 0), *x = rc_list_new(h, 0), *d = rc_dict_new(h);
    rc_list_append(x, I(h, 1));
    rc_list_append(a, x);
    rc_list_append(a, x);
    rc_dict_set_str(d, "a", a);
    rc_list_append(a, d);
    void *c = rc_deepcopy(a);
    void *cx = rc_list_get(c, 0), *cd = rc_list_get(c, 2);
    assert_ptr_not_equal(cx, x);
    assert_ptr_equal(cx, rc_list_get(c, 1));
    assert_ptr_equal(rc_dict_get_str(cd, "a"), c);
    assert_int_equal(rc_equal(c, a), RC_ERANGE);   /* like Python: two distinct cycles recurse forever */
    rc_decref(c);
    rc_decref(a);
    rc_decref(x);
    rc_decref(d);
    assert_int_equal(rc_gc_collect(h, 2), 6);
    rc_heap_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nested_repr_is_pythons),
        cmocka_unit_test(user_types_get_object_defaults),
        cmocka_unit_test(deep_nesting_is_an_error_not_a_crash),
        cmocka_unit_test(deepcopy_preserves_the_shape_of_the_graph),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
