/* array: a typed numeric buffer (Python's array.array), grown with
 * CPython's over-allocation, and a buffer exporter.  While views are alive
 * its data must stay put, so anything that would move it is RC_EBUSY. */
#include "types.h"

#define ARR(o) ((rc_array_obj *)(o))
#define CHECK_ARRAY(o, ret) do { if (!rc__is((o), &rc__array_type)) return (rc__bad_type((o), "array"), (ret)); } while (0)

void *rc_array_new(rc_heap *h, rc_elem kind, size_t n)
{
    size_t size = rc_elem_size(kind);
    if (!size) {
        rc__error(h, RC_EINVAL, "bad array element kind %d", (int)kind);
        return NULL;
    }
    if (n > SIZE_MAX / size) {
        rc__error(h, RC_ENOMEM, "array too large: %zu elements", n);
        return NULL;
    }
    rc_array_obj *a = rc_new(h, &rc__array_type.bt.type);
    if (!a) return NULL;
    a->kind = kind;
    if (n && !(a->data = rc_alloc(h, n * size))) {
        rc_decref(a);
        rc__error(h, RC_ENOMEM, "out of memory making an array of %zu elements", n);
        return NULL;
    }
    if (n) memset(a->data, 0, n * size);
    a->len = a->cap = n;
    return a;
}

/* Makes room for newlen elements; refuses while exporting. */
static int reserve(rc_array_obj *a, size_t newlen)
{
    if (a->exports)
        return rc__err(a, RC_EBUSY, "cannot resize an array that is exporting buffers (%u live views)", a->exports);
    if (newlen <= a->cap) return 0;
    size_t size = rc_elem_size(a->kind);
    size_t cap = newlen + (newlen >> 4) + (a->len < 8 ? 3 : 7);
    if (cap < newlen || cap > SIZE_MAX / size) return rc__err(a, RC_ENOMEM, "array too large: %zu elements", newlen);
    char *data = rc_realloc(rc__heap(a), a->data, cap * size);
    if (!data) return rc__err(a, RC_ENOMEM, "out of memory growing an array to %zu elements", newlen);
    a->data = data;
    a->cap = cap;
    return 0;
}

RC_LOCKED_VARIANT(void *, rc_array_data, (void *array), array, (array))
void *rc_array_data(void *array)
{
    CHECK_ARRAY(array, NULL);
    RC_SHARED_CALL(array, rc_array_data_locked(array));
    return ARR(array)->data;
}

RC_LOCKED_VARIANT(size_t, rc_array_len, (const void *array), array, (array))
size_t rc_array_len(const void *array)
{
    CHECK_ARRAY(array, 0);
    RC_SHARED_CALL(array, rc_array_len_locked(array));
    return ARR(array)->len;
}

RC_LOCKED_VARIANT(rc_elem, rc_array_kind, (const void *array), array, (array))
rc_elem rc_array_kind(const void *array)
{
    CHECK_ARRAY(array, RC_U8);
    RC_SHARED_CALL(array, rc_array_kind_locked(array));
    return ARR(array)->kind;
}

/* The slot for one more element, or NULL (error recorded). */
static char *push_slot(rc_array_obj *a)
{
    if (reserve(a, a->len + 1) < 0) return NULL;
    return a->data + a->len * rc_elem_size(a->kind);
}

RC_LOCKED_VARIANT(int, rc_array_append, (void *array, const void *number), array, (array, number))
int rc_array_append(void *array, const void *number)
{
    CHECK_ARRAY(array, RC_ETYPE);
    RC_SHARED_CALL(array, rc_array_append_locked(array, number));
    rc_array_obj *a = array;
    char *p = push_slot(a);
    if (!p) return rc_last_error_code(rc__heap(a));
    int rc = rc__elem_set(rc__heap(a), a->kind, p, number);
    if (rc == 0) a->len++;
    return rc;
}

RC_LOCKED_VARIANT(int, rc_array_append_int, (void *array, int64_t v), array, (array, v))
int rc_array_append_int(void *array, int64_t v)
{
    CHECK_ARRAY(array, RC_ETYPE);
    RC_SHARED_CALL(array, rc_array_append_int_locked(array, v));
    rc_array_obj *a = array;
    char *p = push_slot(a);
    if (!p) return rc_last_error_code(rc__heap(a));
    int rc = rc__elem_store_int(rc__heap(a), a->kind, p, v);
    if (rc == 0) a->len++;
    return rc;
}

RC_LOCKED_VARIANT(int, rc_array_append_float, (void *array, double v), array, (array, v))
int rc_array_append_float(void *array, double v)
{
    CHECK_ARRAY(array, RC_ETYPE);
    RC_SHARED_CALL(array, rc_array_append_float_locked(array, v));
    rc_array_obj *a = array;
    char *p = push_slot(a);
    if (!p) return rc_last_error_code(rc__heap(a));
    int rc = rc__elem_store_float(rc__heap(a), a->kind, p, v);
    if (rc == 0) a->len++;
    return rc;
}

RC_LOCKED_VARIANT(int, rc_array_resize, (void *array, size_t n), array, (array, n))
int rc_array_resize(void *array, size_t n)
{
    CHECK_ARRAY(array, RC_ETYPE);
    RC_SHARED_CALL(array, rc_array_resize_locked(array, n));
    rc_array_obj *a = array;
    if (n == a->len) return 0;
    int rc = reserve(a, n);
    if (rc < 0) return rc;
    size_t size = rc_elem_size(a->kind);
    if (n > a->len) memset(a->data + a->len * size, 0, (n - a->len) * size);
    a->len = n;
    return 0;
}

RC_LOCKED_VARIANT(int, rc_array_extend, (void *array, void *iterable), array, (array, iterable))
int rc_array_extend(void *array, void *iterable)
{
    CHECK_ARRAY(array, RC_ETYPE);
    RC_SHARED_CALL(array, rc_array_extend_locked(array, iterable));
    rc_array_obj *a = array;
    if (!iterable) return rc__err(a, RC_EINVAL, "NULL iterable");
    if (rc__is(iterable, &rc__array_type)) {
        rc_array_obj *b = iterable;
        if (b->kind != a->kind)
            return rc__err(a, RC_ETYPE, "can only extend with array of same kind ('%c', got '%c')",
                           rc__elem_code(a->kind), rc__elem_code(b->kind));
        size_t n = b->len, size = rc_elem_size(a->kind);
        int rc = reserve(a, a->len + n);
        if (rc < 0) return rc;
        if (n) memmove(a->data + a->len * size, b->data, n * size);   /* b may be a */
        a->len += n;
        return 0;
    }
    void *it = rc_iter(iterable), *item;
    if (!it) return rc_last_error_code(rc__heap(a));
    int rc;
    while ((rc = rc_iter_next(it, &item)) == 1) {
        rc = rc_array_append(a, item);
        rc_decref(item);
        if (rc < 0) break;
    }
    rc_decref(it);
    return rc < 0 ? rc : 0;
}

RC_LOCKED_VARIANT(void *, rc_array_get, (const void *array, size_t i), array, (array, i))
void *rc_array_get(const void *array, size_t i)
{
    CHECK_ARRAY(array, NULL);
    RC_SHARED_CALL(array, rc_array_get_locked(array, i));
    const rc_array_obj *a = array;
    if (i >= a->len) {
        rc__err(array, RC_ERANGE, "array index %zu out of range (len %zu)", i, a->len);
        return NULL;
    }
    return rc__elem_get(rc__heap(array), a->kind, a->data + i * rc_elem_size(a->kind));
}

/* ---- value operations ------------------------------------------------------ */

/* Shared with view.c: "[1, 2, 3]" for n elements of kind at p. */
int rc__elems_repr(rc_heap *h, rc_elem kind, const char *p, size_t n, rc_strbuf *sb)
{
    rc__sb_puts(sb, "[");
    for (size_t i = 0; i < n && !sb->err; i++) {
        void *v = rc__elem_get(h, kind, p + i * rc_elem_size(kind));
        if (!v) return sb->err = rc_last_error_code(h);
        if (i) rc__sb_puts(sb, ", ");
        rc__repr(v, sb, 0);
        rc_decref(v);
    }
    rc__sb_puts(sb, "]");
    return sb->err;
}

static int array_repr(const void *self, rc_strbuf *sb, int depth)
{
    (void)depth;
    const rc_array_obj *a = self;
    rc__sb_printf(sb, "array('%c'", rc__elem_code(a->kind));
    if (a->len) {
        rc__sb_puts(sb, ", ");
        rc__elems_repr(rc__heap(self), a->kind, a->data, a->len, sb);
    }
    rc__sb_puts(sb, ")");
    return sb->err;
}

static int array_equal(const void *x, const void *y, int depth)
{
    (void)depth;
    const rc_array_obj *a = x, *b = y;
    if (a->len != b->len) return 0;
    return rc__elems_equal(rc__heap(x), a->len, a->kind, a->data, b->kind, b->data);
}

static void *array_copy(void *self)
{
    rc_array_obj *a = self;
    rc_array_obj *c = rc_array_new(rc__heap(self), a->kind, a->len);
    if (c && a->len) memcpy(c->data, a->data, a->len * rc_elem_size(a->kind));
    return c;
}

static int array_get_buffer(void *self, rc_buffer *out)
{
    rc_array_obj *a = self;
    a->exports++;
    *out = (rc_buffer){.data = a->data, .len = a->len, .kind = a->kind, .readonly = false};
    return 0;
}

static void array_release_buffer(void *self)
{
    rc_array_obj *a = self;
    if (a->exports) a->exports--;
}

static void array_release(void *self)
{
    rc_array_obj *a = self;
    if (a->data) rc_free(rc__heap(self), a->data);
    a->data = NULL;
}

static size_t array_owned(const void *self)
{
    return ARR(self)->cap * rc_elem_size(ARR(self)->kind);
}

static int array_truth(const void *self)
{
    return ARR(self)->len != 0;
}

static void *array_iter(void *self)
{
    return rc__iter_new(self, RC__IT_ARRAY);
}

const rc__vtype rc__array_type = {
    .bt = {.type = {.name = "array", .size = sizeof(rc_array_obj), .release = array_release,
                    .owned = array_owned, .flags = RC__TYPE_VALUE | RC_TYPE_BUFFER},
           .get_buffer = array_get_buffer,
           .release_buffer = array_release_buffer},
    .repr = array_repr,
    .equal = array_equal,
    .copy = array_copy,
    .iter = array_iter,
    .truth = array_truth,
};
