/* records: __slots__ versus __dict__ layouts, fields, cycles, copies. */
#include "value_check.h"

#include <stdlib.h>

static const char *const xy[] = {"x", "y"};

static void slots_hold_declared_fields_only(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    const rc_record_type *pt = rc_record_type_new(h, "Point", RC_RECORD_SLOTS, 2, xy);
    void *p = rc_record_new(pt);
    assert_ptr_equal(rc_typeof(p), rc_record_rc_type(pt));
    assert_string_equal(rc_type_name(p), "Point");
    assert_null(rc_record_get(p, "x"));
    assert_error(h, RC_ENOENT, "'Point' object has no attribute 'x'");
    assert_int_equal(rc_record_set(p, "x", I(h, 1)), 0);
    assert_int_equal(rc_record_set_at(p, 1, I(h, 2)), 0);
    assert_int_equal(rc_record_set(p, "z", I(h, 3)), RC_ENOENT);
    assert_error(h, RC_ENOENT, "no attribute 'z'");
    assert_ptr_equal(rc_record_get_at(p, 1), I(h, 2));
    assert_null(rc_record_get_at(p, 2));
    assert_int_equal(rc_last_error_code(h), RC_ERANGE);
    assert_null(rc_record_dict(p));
    assert_repr(p, "Point(x=1, y=2)");
    assert_int_equal(rc_refcount(p), 1);
    rc_decref(p);
    rc_heap_free(h);
}

static void dict_layout_takes_any_name(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    const rc_record_type *pt = rc_record_type_new(h, "Obj", RC_RECORD_DICT, 2, xy);
    void *o = rc_record_new(pt);
    assert_null(rc_record_dict(o));   /* made on first set */
    rc_record_set(o, "x", I(h, 1));
    rc_record_set(o, "extra", S(h, "hi"));
    rc_decref(rc_record_get(o, "extra"));
    rc_record_set_at(o, 1, I(h, 2));
    assert_repr(o, "Obj(x=1, extra='hi', y=2)");
    void *d = rc_record_dict(o);
    assert_non_null(d);
    assert_int_equal(rc_dict_len(d), 3);
    assert_ptr_equal(rc_record_get(o, "y"), I(h, 2));
    assert_null(rc_record_get(o, "nope"));
    assert_error(h, RC_ENOENT, "no attribute 'nope'");
    rc_decref(o);
    rc_heap_free(h);
}

static size_t bytes_per_instance(rc_heap *h, const rc_record_type *t, int n)
{
    void **keep = calloc((size_t)n, sizeof *keep);
    assert_non_null(keep);
    void *one = rc_int_from(h, 1), *two = rc_int_from(h, 2);
    size_t before = vc_requested(h);
    for (int i = 0; i < n; i++) {
        keep[i] = rc_record_new(t);
        rc_record_set(keep[i], "x", one);
        rc_record_set(keep[i], "y", two);
    }
    size_t per = (vc_requested(h) - before) / (size_t)n;
    for (int i = 0; i < n; i++) rc_decref(keep[i]);
    free(keep);
    return per;
}

static void slots_cost_less_than_a_dict(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    const rc_record_type *s = rc_record_type_new(h, "S", RC_RECORD_SLOTS, 2, xy);
    const rc_record_type *d = rc_record_type_new(h, "D", RC_RECORD_DICT, 2, xy);
    size_t ps = bytes_per_instance(h, s, 1000), pd = bytes_per_instance(h, d, 1000);
    assert_int_equal(ps, 32);            /* 16-byte header + two references */
    assert_true(pd >= 3 * ps);           /* + a dict object and its table */
    rc_heap_free(h);
}

static void cycles_through_records_are_collected(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    static const char *const nf[] = {"next"};
    const rc_record_type *nt = rc_record_type_new(h, "Node", RC_RECORD_SLOTS, 1, nf);
    const rc_record_type *dt = rc_record_type_new(h, "DNode", RC_RECORD_DICT, 1, nf);
    size_t live = vc_live(h);
    void *a = rc_record_new(nt), *b = rc_record_new(dt);
    rc_record_set(a, "next", b);   /* a = Node(); b = DNode(); a.next = b; b.next = a */
    rc_record_set(b, "next", a);
    assert_repr(a, "Node(next=DNode(next=Node(...)))");
    rc_decref(a);
    rc_decref(b);
    assert_int_equal(rc_gc_collect(h, 2), 3);   /* two records and b's dict */
    assert_int_equal(vc_live(h), live);         /* the interned key "next" died with the dict */
    rc_heap_free(h);
}

static void equality_and_copies(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    const rc_record_type *pt = rc_record_type_new(h, "P", RC_RECORD_SLOTS, 2, xy);
    const rc_record_type *dt = rc_record_type_new(h, "Q", RC_RECORD_DICT, 2, xy);
    void *l = rc_list_new(h, 0);
    void *a = rc_record_new(pt), *b = rc_record_new(pt), *q = rc_record_new(dt);
    rc_record_set(a, "x", l);
    rc_record_set(b, "x", l);
    rc_record_set(q, "x", l);
    assert_int_equal(rc_equal(a, b), 1);
    assert_int_equal(rc_equal(a, q), 0);   /* different types */
    int64_t hv;
    assert_int_equal(rc_hash(a, &hv), RC_ETYPE);
    void *c = rc_copy(a), *d = rc_deepcopy(a), *qc = rc_copy(q), *qd = rc_deepcopy(q);
    assert_ptr_equal(rc_record_get(c, "x"), l);
    assert_ptr_not_equal(rc_record_get(d, "x"), l);
    assert_int_equal(rc_equal(d, a), 1);
    assert_ptr_not_equal(rc_record_dict(qc), rc_record_dict(q));
    assert_ptr_equal(rc_record_get(qc, "x"), l);
    assert_ptr_not_equal(rc_record_get(qd, "x"), l);
    assert_int_equal(rc_record_set(l, "x", l), RC_ETYPE);
    assert_error(h, RC_ETYPE, "expected record, got list");
    assert_null(rc_record_type_new(h, "Bad", (rc_record_layout)7, 0, NULL));
    void *objs[] = {l, a, b, q, c, d, qc, qd};
    for (size_t i = 0; i < 8; i++) rc_decref(objs[i]);
    rc_heap_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slots_hold_declared_fields_only),
        cmocka_unit_test(dict_layout_takes_any_name),
        cmocka_unit_test(slots_cost_less_than_a_dict),
        cmocka_unit_test(cycles_through_records_are_collected),
        cmocka_unit_test(equality_and_copies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
