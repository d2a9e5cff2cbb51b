/* view: zero-copy windows, casts, the export lock, user exporters. */
#include "value_check.h"

static void a_view_shares_the_array_memory(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *a = rc_array_new(h, RC_I32, 1000);
    size_t before = vc_requested(h);
    void *v = rc_view_new(a, 10, 20);
    size_t view_cost = vc_requested(h) - before;
    assert_true(view_cost < 100);   /* one small object, no copy of the data */
    int32_t *data = rc_array_data(a);
    assert_ptr_equal(rc_view_data(v), data + 10);
    assert_int_equal(rc_view_len(v), 10);
    assert_int_equal(rc_view_nbytes(v), 40);
    assert_false(rc_view_readonly(v));
    data[12] = 77;   /* a write through the array shows in the view */
    void *x = rc_view_get(v, 2);
    assert_ptr_equal(x, rc_int_from(h, 77));
    assert_null(rc_view_get(v, 10));
    assert_int_equal(rc_last_error_code(h), RC_ERANGE);
    before = vc_requested(h);
    void *copy = rc_view_tobytes(v);
    assert_true(vc_requested(h) - before >= 40);   /* a copy costs the data */
    rc_decref(copy);
    rc_decref(v);
    rc_decref(a);
    rc_heap_free(h);
}

static void slices_clamp_like_python(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *a = rc_array_new(h, RC_U8, 10);
    void *v = rc_view_new(a, 8, SIZE_MAX);
    assert_int_equal(rc_view_len(v), 2);
    void *w = rc_view_new(a, 7, 3);   /* start past stop: empty */
    assert_int_equal(rc_view_len(w), 0);
    void *s = rc_view_slice(v, 1, 5);
    assert_int_equal(rc_view_len(s), 1);
    assert_ptr_equal(rc_view_data(s), (char *)rc_array_data(a) + 9);
    void *vv = rc_view_new(v, 0, 1);   /* a view of a view */
    assert_ptr_equal(rc_view_data(vv), (char *)rc_array_data(a) + 8);
    rc_decref(v);
    rc_decref(w);
    rc_decref(s);
    rc_decref(vv);
    rc_decref(a);
    rc_heap_free(h);
}

static void cast_reinterprets_without_copy(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *a = rc_array_new(h, RC_I32, 4);
    ((int32_t *)rc_array_data(a))[1] = 0x01020304;
    void *v = rc_view_new(a, 0, SIZE_MAX), *b = rc_view_cast(v, RC_U8);
    assert_int_equal(rc_view_len(b), 16);
    assert_int_equal(rc_view_kind(b), RC_U8);
    assert_ptr_equal(rc_view_data(b), rc_array_data(a));
    void *odd = rc_view_slice(b, 0, 3);
    assert_null(rc_view_cast(odd, RC_I16));
    assert_error(h, RC_EINVAL, "not a multiple of itemsize");
    void *d = rc_view_cast(v, RC_F64);
    assert_int_equal(rc_view_len(d), 2);
    assert_null(rc_view_cast(v, (rc_elem)99));
    void *objs[] = {v, b, odd, d, a};
    for (size_t i = 0; i < 5; i++) rc_decref(objs[i]);
    rc_heap_free(h);
}

static void an_exporter_with_live_views_refuses_to_resize(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    void *a = rc_array_new(h, RC_F64, 3);
    void *v = rc_view_new(a, 0, 3), *w = rc_view_slice(v, 1, 2);
    assert_int_equal(rc_array_append_float(a, 1.0), RC_EBUSY);
    assert_error(h, RC_EBUSY, "exporting buffers");
    assert_int_equal(rc_array_resize(a, 1), RC_EBUSY);
    assert_int_equal(rc_array_extend(a, a), RC_EBUSY);
    assert_int_equal(rc_view_release(v), 0);
    assert_int_equal(rc_array_append_float(a, 1.0), RC_EBUSY);   /* w still exports */
    rc_decref(w);                                                 /* death releases too */
    assert_int_equal(rc_array_append_float(a, 1.0), 0);
    assert_repr_starts(v, "<released memory at 0x");
    assert_null(rc_view_data(v));
    assert_error(h, RC_ESTATE, "released memoryview");
    assert_int_equal(rc_view_release(v), 0);   /* twice is fine */
    rc_decref(v);
    rc_decref(a);
    rc_heap_free(h);
}

static void a_view_keeps_its_exporter_alive(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    size_t live = vc_live(h);
    void *a = rc_array_new(h, RC_I64, 4);
    ((int64_t *)rc_array_data(a))[3] = 12345;
    void *v = rc_view_new(a, 2, 4);
    assert_int_equal(rc_refcount(a), 2);
    rc_decref(a);
    void *x = rc_view_get(v, 1);
    int64_t val;
    rc_int_value(x, &val);
    assert_true(val == 12345);
    void *it = rc_iter(v), *item;
    int n = 0;
    while (rc_iter_next(it, &item) == 1) {
        n++;
        rc_decref(item);
    }
    assert_int_equal(n, 2);
    rc_decref(it);
    rc_decref(x);
    rc_decref(v);
    assert_int_equal(vc_live(h), live);
    rc_heap_free(h);
}

/* A user type exporting its own memory through the protocol. */
typedef struct blob {
    int exports;
    uint16_t words[8];
} blob;

static int blob_get(void *self, rc_buffer *out)
{
    blob *b = self;
    b->exports++;
    *out = (rc_buffer){.data = b->words, .len = 8, .kind = RC_U16, .readonly = true};
    return 0;
}

static void blob_release(void *self)
{
    ((blob *)self)->exports--;
}

static const rc_buffer_type blob_type = {
    .type = {.name = "blob", .size = sizeof(blob), .flags = RC_TYPE_BUFFER},
    .get_buffer = blob_get,
    .release_buffer = blob_release,
};

static void user_types_can_export(void **state)
{
    (void)state;
    rc_heap *h = vc_heap();
    blob *b = rc_new(h, &blob_type.type);
    b->words[5] = 500;
    void *v = rc_view_new(b, 4, 6);
    assert_int_equal(b->exports, 1);
    assert_true(rc_view_readonly(v));
    void *x = rc_view_get(v, 1);
    int64_t val;
    rc_int_value(x, &val);
    assert_true(val == 500);
    void *c = rc_view_cast(v, RC_U8);
    assert_int_equal(b->exports, 2);
    rc_decref(c);
    rc_decref(v);
    assert_int_equal(b->exports, 0);
    void *l = rc_list_new(h, 0);
    assert_null(rc_view_new(l, 0, 1));
    assert_error(h, RC_ETYPE, "bytes-like object is required, not 'list'");
    rc_decref(x);
    rc_decref(l);
    rc_decref(b);
    rc_heap_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_view_shares_the_array_memory),
        cmocka_unit_test(slices_clamp_like_python),
        cmocka_unit_test(cast_reinterprets_without_copy),
        cmocka_unit_test(an_exporter_with_live_views_refuses_to_resize),
        cmocka_unit_test(a_view_keeps_its_exporter_alive),
        cmocka_unit_test(user_types_can_export),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
