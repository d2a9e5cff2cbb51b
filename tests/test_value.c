/* The operations every value has: repr, equality, hash, copy, deepcopy,
 * truth, on nested values, user types and pathological depth. */
#include "value_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

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
    void *holder = rc_list_new(h, 0), *bytes = rc_bytes_new(h, "x", 1), *view = rc_view_new(bytes, 0, 1);
    rc_list_append(holder, view);
    assert_null(rc_deepcopy(holder));   /* copy.deepcopy([memoryview(b'x')]) raises too */
    assert_error(h, RC_ENOTSUP, "cannot copy 'memoryview' object");
    rc_decref(holder);
    rc_decref(view);
    rc_decref(bytes);
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

static void less_is_pythons_ordering(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *big = rc_int_from(h, 9007199254740993), *bigf = rc_float_from(h, 9007199254740992.0);
    void *nan = rc_float_from(h, NAN), *s1 = S(h, "abc"), *s2 = S(h, "abd"), *b1 = rc_bytes_new(h, "ab", 2);
    void *b2 = rc_bytes_new(h, "abc", 3);
    void *t1 = rc_tuple_pack(h, 2, I(h, 1), s1), *t2 = rc_tuple_pack(h, 2, rc_float_from(h, 1.0), s2);
    rc_decref(rc_tuple_get(t2, 0));
    assert_int_equal(rc_less(bigf, big), 1);   /* 2**53 < 2**53 + 1, no rounding */
    assert_int_equal(rc_less(big, bigf), 0);
    assert_int_equal(rc_less(nan, I(h, 1)), 0);
    assert_int_equal(rc_less(I(h, 1), nan), 0);
    assert_int_equal(rc_less(rc_false(h), rc_true(h)), 1);
    assert_int_equal(rc_less(s1, s2), 1);
    assert_int_equal(rc_less(b1, b2), 1);      /* a prefix is less */
    assert_int_equal(rc_less(t1, t2), 1);      /* (1, 'abc') < (1.0, 'abd') */
    assert_int_equal(rc_less(t2, t1), 0);
    assert_int_equal(rc_less(s1, I(h, 1)), RC_ETYPE);
    assert_error(h, RC_ETYPE, "'<' not supported between instances of 'str' and 'int'");
    void *a = rc_set_new(h), *b = rc_set_new(h);
    rc_set_add(a, I(h, 1));
    rc_set_add(b, I(h, 1));
    assert_int_equal(rc_less(a, b), 0);
    rc_set_add(b, I(h, 2));
    assert_int_equal(rc_less(a, b), 1);        /* proper subset */
    assert_int_equal(rc_less(rc_none(h), rc_none(h)), RC_ETYPE);
    void *objs[] = {big, bigf, nan, s1, s2, b1, b2, t1, t2, a, b};
    for (size_t i = 0; i < 11; i++) rc_decref(objs[i]);
    rc_heap_free(h);
}

/* rc_heap_free with one of everything still alive, cycles and exports
 * included: every release runs once, nothing is touched after its memory
 * went (ASan checks the second part). */
static void heap_free_releases_live_values(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    static const char *const f[] = {"a"};
    const rc_record_type *rt = rc_record_type_new(h, "Keep", RC_RECORD_SLOTS, 1, f);
    void *l = rc_list_new(h, 100), *d = rc_dict_new(h), *a = rc_array_new(h, RC_F64, 1000), *rec = rc_record_new(rt);
    void *v = rc_view_new(a, 0, 10), *s = rc_str_intern(h, "kept interned"), *g = rc_gen_take(l, 1);
    rc_list_append(l, l);
    rc_list_append(l, d);
    rc_dict_set_str(d, "d", d);
    rc_dict_set(d, s, v);
    rc_record_set(rec, "a", rec);
    void *set = rc_set_new(h);
    rc_set_add(set, s);
    (void)g;
    rc_heap_free(h);   /* no decref at all */
}

/* ---- allocation failures -------------------------------------------------- */

static void *twice(rc_heap *h, void *item, void *ctx)
{
    (void)ctx;
    int64_t v;
    rc_int_value(item, &v);
    return rc_int_from(h, 2 * v + 1000);
}

#define TRY(expr) do { if ((expr) < 0) goto out; } while (0)
#define MADE(var, expr) do { if (!((var) = (expr))) goto out; } while (0)

/* Builds, copies and prints a bit of everything, and drops it all; returns
 * 0, or <0 when an allocation failed on the way. */
static int workload(rc_heap *h, const rc_record_type *rt)
{
    int rc = -1;
    void *l = NULL, *d = NULL, *t = NULL, *s = NULL, *a = NULL, *v = NULL, *c = NULL, *rep = NULL;
    void *rec = NULL, *r = NULL, *g = NULL, *l2 = NULL, *set = NULL, *x = NULL, *w = NULL;
    MADE(l, rc_list_new(h, 0));
    for (int i = 0; i < 50; i++) {
        MADE(x, rc_int_from(h, 1000 + i));
        int e = rc_list_append(l, x);
        RC_CLEAR(x);
        TRY(e);
    }
    MADE(d, rc_dict_new(h));
    MADE(set, rc_set_new(h));
    for (int i = 0; i < 30; i++) {
        MADE(x, rc_str_format(h, "key %d", i));
        int e = rc_dict_set(d, x, l);
        if (e == 0) e = rc_set_add(set, x);
        RC_CLEAR(x);
        TRY(e);
    }
    TRY(rc_dict_set_str(d, "self", d));
    MADE(t, rc_tuple_pack(h, 3, l, d, set));
    MADE(s, rc_str_intern(h, "interned here"));
    MADE(a, rc_array_new(h, RC_I32, 0));
    for (int i = 0; i < 100; i++) TRY(rc_array_append_int(a, i));
    MADE(v, rc_view_new(a, 10, 20));
    MADE(w, rc_view_cast(v, RC_U8));
    MADE(rec, rc_record_new(rt));
    TRY(rc_record_set(rec, "x", t));
    TRY(rc_record_set(rec, "extra", a));
    MADE(c, rc_deepcopy(rec));
    MADE(rep, rc_repr(c));
    MADE(r, rc_range_new(h, 0, 200, 1));
    MADE(g, rc_gen_map(r, twice, NULL));
    MADE(l2, rc_list_from_iter(h, g));
    rc = 0;
out:;
    void *all[] = {l, d, t, s, a, v, c, rep, rec, r, g, l2, set, x, w};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i]) rc_decref(all[i]);
    return rc;
}

static void every_allocation_failure_is_survived(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    static const char *const fields[] = {"x", "y"};
    const rc_record_type *rt = rc_record_type_new(h, "R", RC_RECORD_DICT, 2, fields);
    assert_int_equal(workload(h, rt), 0);   /* warm: the intern table and pools exist */
    rc_gc_collect(h, 2);
    size_t live = vc_live(h);
    uint64_t start = rc_heap_alloc_count(h);
    assert_int_equal(workload(h, rt), 0);
    uint64_t n = rc_heap_alloc_count(h) - start;
    rc_gc_collect(h, 2);
    assert_int_equal(vc_live(h), live);
    assert_true(n > 100);
    for (int after = 0; after <= 1; after++) {
        for (uint64_t k = 1; k <= n; k++) {
            rc_heap_set_fail_alloc(h, rc_heap_alloc_count(h) + k, after);
            int rc = workload(h, rt);
            rc_heap_set_fail_alloc(h, 0, false);
            if (rc < 0) assert_int_equal(rc_last_error_code(h) != 0, 1);
            rc_gc_collect(h, 2);
            if (vc_live(h) != live) fail_msg("allocation %llu (after=%d) leaked %zd objects", (unsigned long long)k,
                                             after, (ssize_t)(vc_live(h) - live));
        }
    }
    assert_int_equal(workload(h, rt), 0);   /* and the heap still works */
    rc_heap_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nested_repr_is_pythons),
        cmocka_unit_test(user_types_get_object_defaults),
        cmocka_unit_test(deep_nesting_is_an_error_not_a_crash),
        cmocka_unit_test(deepcopy_preserves_the_shape_of_the_graph),
        cmocka_unit_test(less_is_pythons_ordering),
        cmocka_unit_test(heap_free_releases_live_values),
        cmocka_unit_test(every_allocation_failure_is_survived),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
