/* len() and `in` for every container, as Python's builtins do them. */
#include "types.h"

RC_SECTION_VARIANT(ptrdiff_t, rc_len, (const void *o), o, (o))
ptrdiff_t rc_len(const void *o)
{
    if (!o) return RC_EINVAL;
    RC_SHARED_CALL(o, rc_len_locked(o));
    const rc_type *t = rc__tp(o);
    if (t == &rc__list_type.bt.type) return (ptrdiff_t)((const rc_list_obj *)o)->len;
    if (t == &rc__tuple_type.bt.type) return (ptrdiff_t)((const rc_tuple_obj *)o)->len;
    if (t == &rc__str_type.bt.type) return (ptrdiff_t)rc_str_nchars(o);
    if (t == &rc__bytes_type.bt.type) return (ptrdiff_t)((const rc_bytes_obj *)o)->len;
    if (t == &rc__dict_type.bt.type || t == &rc__set_type.bt.type) return (ptrdiff_t)((const rc_dict_obj *)o)->used;
    if (t == &rc__array_type.bt.type) return (ptrdiff_t)((const rc_array_obj *)o)->len;
    if (t == &rc__range_type.bt.type) return (ptrdiff_t)((const rc_range_obj *)o)->len;
    if (t == &rc__view_type.bt.type) {
        const rc_view_obj *v = o;
        if (!v->exporter) return rc__err(o, RC_ESTATE, "operation forbidden on released memoryview object");
        return (ptrdiff_t)v->len;
    }
    return rc__err(o, RC_ETYPE, "object of type '%s' has no len()", t->name);
}

static int in_items(void *const *items, size_t n, const void *x)
{
    for (size_t i = 0; i < n; i++) {
        int eq = rc__equal(items[i], x, 0);
        if (eq != 0) return eq;
    }
    return 0;
}

static int in_shared_list(const void *l, const void *x)
{
    void *item;
    for (size_t i = 0; (item = rc__list_item_ref(l, i)); i++) {
        int eq = rc__equal(item, x, 0);
        rc_decref(item);
        if (eq != 0) return eq;
    }
    return 0;
}

static int in_range(const rc_range_obj *r, const void *x)
{
    int64_t v;
    double d;
    if (rc__is(x, &rc__float_type)) {   /* 3.0 in range(5): only integral floats can be */
        rc_float_value(x, &d);
        if (d != (double)(int64_t)d) return 0;
        v = (int64_t)d;
    } else if (rc_int_value(x, &v) < 0) {
        return 0;
    }
    if (r->len == 0) return 0;
    bool up = r->step > 0;
    if (up ? v < r->start || v >= r->stop : v > r->start || v <= r->stop) return 0;
    uint64_t dist = up ? (uint64_t)v - (uint64_t)r->start : (uint64_t)r->start - (uint64_t)v;
    uint64_t stride = up ? (uint64_t)r->step : (uint64_t)0 - (uint64_t)r->step;
    return dist % stride == 0;
}

/* Substring test for str in str and bytes in bytes; an int in bytes is a byte. */
static int in_text(const void *hay, const void *x)
{
    const rc_type *t = rc__tp(hay);
    bool is_str = t == &rc__str_type.bt.type;
    int64_t byte;
    if (!is_str && (rc__is(x, &rc__int_type) || rc__is(x, &rc__bool_type))) {
        rc_int_value(x, &byte);
        if (byte < 0 || byte > 255) return rc__err(hay, RC_ERANGE, "byte must be in range(0, 256)");
        const rc_bytes_obj *b = hay;
        return memchr(b->data, (int)byte, b->len) != NULL;
    }
    if (rc__tp(x) != t)
        return rc__err(hay, RC_ETYPE, "'in <%s>' requires %s as left operand, not %s", t->name,
                       is_str ? "string" : "a bytes-like object", rc__tp(x)->name);
    const char *h = is_str ? ((const rc_str_obj *)hay)->data : ((const rc_bytes_obj *)hay)->data;
    const char *n = is_str ? ((const rc_str_obj *)x)->data : ((const rc_bytes_obj *)x)->data;
    size_t hn = is_str ? ((const rc_str_obj *)hay)->len : ((const rc_bytes_obj *)hay)->len;
    size_t nn = is_str ? ((const rc_str_obj *)x)->len : ((const rc_bytes_obj *)x)->len;
    return nn == 0 || memmem(h, hn, n, nn) != NULL;
}

/* Python's fallback: iterate and compare (this consumes an iterator). */
static int in_iteration(void *o, const void *x)
{
    void *it = rc_iter(o), *item;
    if (!it) return rc_last_error_code(rc__heap(o));
    int rc;
    while ((rc = rc_iter_next(it, &item)) == 1) {
        rc = rc__equal(item, x, 0);
        rc_decref(item);
        if (rc != 0) break;
    }
    rc_decref(it);
    return rc;
}

RC_LOCKED_VARIANT(int, rc_contains, (void *container, const void *x), container, (container, x))
int rc_contains(void *container, const void *x)
{
    if (!container || !x) return RC_EINVAL;
    RC_SHARED_CALL(container, rc_contains_locked(container, x));
    const rc_type *t = rc__tp(container);
    if (t == &rc__list_type.bt.type) {
        const rc_list_obj *l = container;
        if (rc__is_shared(rc__head(l))) return in_shared_list(l, x);
        return in_items(l->items, l->len, x);
    }
    if (t == &rc__tuple_type.bt.type) {
        const rc_tuple_obj *tu = container;
        return in_items(tu->items, tu->len, x);
    }
    if (t == &rc__dict_type.bt.type) return rc_dict_contains(container, x);
    if (t == &rc__set_type.bt.type) return rc_set_contains(container, x);
    if (t == &rc__range_type.bt.type) return in_range(container, x);
    if (t == &rc__str_type.bt.type || t == &rc__bytes_type.bt.type) return in_text(container, x);
    const rc__vtype *vt = rc__vt(container);
    if (vt && (vt->iter || vt->next)) return in_iteration(container, x);
    return rc__err(container, RC_ETYPE, "argument of type '%s' is not iterable", t->name);
}
