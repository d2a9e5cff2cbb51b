/* str: UTF-8 validation, immutability, cached hash, interning, repr. */
#include "value_check.h"

static void utf8_is_validated(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *s = rc_str_new(h, "h\xC3\xA9llo \xF0\x9F\x98\x80");   /* "héllo 😀" */
    assert_non_null(s);
    assert_int_equal(rc_str_len(s), 11);
    assert_int_equal(rc_str_nchars(s), 7);
    static const char *bad[] = {"\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "ab\xC3", "\x80", "\xE2\x82"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_null(rc_str_new(h, bad[i]));
        assert_error(h, RC_EINVAL, "invalid UTF-8");
    }
    void *z = rc_str_new_len(h, "a\0b", 3);   /* embedded NUL is valid text */
    assert_int_equal(rc_str_len(z), 3);
    assert_repr(z, "'a\\x00b'");
    rc_decref(s);
    rc_decref(z);
    rc_heap_free(h);
}

static void identifier_like_strings_are_interned(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *a = rc_str_new(h, "hello_world"), *b = rc_str_new(h, "hello_world");
    assert_ptr_equal(a, b);
    assert_true(rc_str_is_interned(a));
    assert_int_equal(rc_refcount(a), 2);
    void *c = rc_str_new(h, "hello world"), *d = rc_str_new(h, "hello world");
    assert_ptr_not_equal(c, d);              /* not identifier-like */
    assert_int_equal(rc_equal(c, d), 1);
    void *e = rc_str_intern(h, "hello world"), *f = rc_str_intern_obj(d);
    assert_ptr_equal(e, f);
    void *g = rc_str_format(h, "hello_%s", "world");
    assert_false(rc_str_is_interned(g));     /* built at run time */
    assert_ptr_not_equal(g, a);
    void *gi = rc_str_intern_obj(g);
    assert_ptr_equal(gi, a);
    void *objs[] = {a, b, c, d, e, f, g, gi};
    for (size_t i = 0; i < 8; i++) rc_decref(objs[i]);
    rc_heap_free(h);
}

static void interned_strings_die_and_leave_the_table(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    size_t live = vc_live(h);
    char name[32];
    for (int round = 0; round < 3; round++) {
        void *keep[2000];
        for (int i = 0; i < 2000; i++) {
            snprintf(name, sizeof name, "name%d", i);
            keep[i] = rc_str_intern(h, name);
            assert_true(rc_str_is_interned(keep[i]));
        }
        for (int i = 0; i < 2000; i += 2) rc_decref(keep[i]);   /* holes in the probe chains */
        for (int i = 1; i < 2000; i += 2) {
            snprintf(name, sizeof name, "name%d", i);
            void *again = rc_str_intern(h, name);
            assert_ptr_equal(again, keep[i]);                  /* still found */
            rc_decref(again);
            rc_decref(keep[i]);
        }
        assert_int_equal(vc_live(h), live);
    }
    rc_heap_free(h);
}

static void hash_is_cached_and_by_value(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *a = rc_str_format(h, "key %d", 42), *b = rc_str_new(h, "key 42");
    int64_t ha, hb, ha2;
    rc_hash(a, &ha);
    rc_hash(b, &hb);
    rc_hash(a, &ha2);
    assert_true(ha == hb && ha == ha2);
    assert_true(ha != -1);
    assert_int_equal(rc_truth(a), 1);
    void *empty = rc_str_new(h, "");
    assert_int_equal(rc_truth(empty), 0);
    assert_ptr_equal(rc_copy(a), a);   /* immutable: the copy is itself */
    rc_decref(a);
    rc_decref(a);
    rc_decref(b);
    rc_decref(empty);
    rc_heap_free(h);
}

static void repr_quotes_and_escapes_as_python(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    static const struct { const char *in, *out; } cases[] = {
        {"it's", "\"it's\""}, {"a'b\"c", "'a\\'b\"c'"}, {"\n\t\x01\x7f", "'\\n\\t\\x01\\x7f'"},
        {"\xC2\x85\xC3\xA9\xE2\x80\xA8", "'\\x85\xC3\xA9\\u2028'"}, {"back\\slash", "'back\\\\slash'"},
        {"", "''"}, {"\xF0\x9F\x98\x80", "'\xF0\x9F\x98\x80'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        void *s = rc_str_new(h, cases[i].in);
        assert_repr(s, cases[i].out);
        rc_decref(s);
    }
    void *s = rc_str_new(h, "abc"), *r = rc_repr(s);
    assert_string_equal(rc_str_data(r), "'abc'");
    rc_decref(r);
    rc_decref(s);
    rc_heap_free(h);
}

static void wrong_types_are_reported(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *l = rc_list_new(h, 0);
    assert_null(rc_str_data(l));
    assert_error(h, RC_ETYPE, "expected str, got list");
    assert_int_equal(rc_str_len(l), 0);
    assert_null(rc_str_intern_obj(l));
    assert_null(rc_str_data(NULL));
    rc_decref(l);
    rc_heap_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_is_validated),
        cmocka_unit_test(identifier_like_strings_are_interned),
        cmocka_unit_test(interned_strings_die_and_leave_the_table),
        cmocka_unit_test(hash_is_cached_and_by_value),
        cmocka_unit_test(repr_quotes_and_escapes_as_python),
        cmocka_unit_test(wrong_types_are_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
