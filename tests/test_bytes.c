/* bytes: immutable bytes, Python's repr, a read-only buffer exporter. */
#include "value_check.h"

static void holds_a_copy_of_the_data(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    char src[4] = {'a', 0, 'b', (char)0xFF};
    void *b = rc_bytes_new(h, src, 4);
    src[0] = 'z';
    assert_int_equal(rc_bytes_len(b), 4);
    assert_memory_equal(rc_bytes_data(b), "a\0b\xFF", 4);
    assert_repr(b, "b'a\\x00b\\xff'");
    void *q = rc_bytes_new(h, "a'\"", 3);
    assert_repr(q, "b'a\\'\"'");
    void *e = rc_bytes_new(h, NULL, 0);
    assert_repr(e, "b''");
    assert_int_equal(rc_truth(e), 0);
    rc_decref(b);
    rc_decref(q);
    rc_decref(e);
    rc_heap_free(h);
}

static void equality_hash_and_keys(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *a = rc_bytes_new(h, "key", 3), *b = rc_bytes_new(h, "key", 3), *s = rc_str_new(h, "key");
    assert_int_equal(rc_equal(a, b), 1);
    assert_int_equal(rc_equal(a, s), 0);   /* b'key' != 'key' */
    void *d = rc_dict_new(h);
    rc_dict_set(d, a, rc_int_from(h, 1));
    rc_dict_set(d, s, rc_int_from(h, 2));
    assert_int_equal(rc_dict_len(d), 2);
    assert_ptr_equal(rc_dict_get(d, b), rc_int_from(h, 1));
    assert_ptr_equal(rc_copy(a), a);
    rc_decref(a);
    void *l = rc_list_new(h, 0);
    assert_null(rc_bytes_data(l));
    assert_error(h, RC_ETYPE, "expected bytes, got list");
    void *objs[] = {a, b, s, d, l};
    for (size_t i = 0; i < 5; i++) rc_decref(objs[i]);
    rc_heap_free(h);
}

static void exports_read_only_views(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *b = rc_bytes_new(h, "hello", 5);
    void *v = rc_view_new(b, 1, 4);
    assert_non_null(v);
    assert_true(rc_view_readonly(v));
    assert_ptr_equal(rc_view_data(v), (const char *)rc_bytes_data(b) + 1);
    assert_int_equal(rc_view_len(v), 3);
    assert_int_equal(rc_view_kind(v), RC_U8);
    void *t = rc_view_tobytes(v);
    assert_repr(t, "b'ell'");
    int64_t hv, hb;   /* a read-only byte view hashes as the bytes it shows */
    assert_int_equal(rc_hash(v, &hv), 0);
    rc_hash(t, &hb);
    assert_true(hv == hb);
    rc_decref(t);
    rc_decref(v);
    rc_decref(b);
    rc_heap_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(holds_a_copy_of_the_data),
        cmocka_unit_test(equality_hash_and_keys),
        cmocka_unit_test(exports_read_only_views),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
