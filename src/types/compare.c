/* Ordering: Python's `<`, the one comparison list.sort uses.  Numbers
 * compare by value (a NaN is never less nor greater), str by code point
 * (UTF-8 byte order is code point order), bytes by byte, tuples and lists
 * lexicographically, sets by proper inclusion; anything else is RC_ETYPE,
 * as Python's TypeError. */
#include "types.h"

#include <math.h>

static int unordered(const void *a, const void *b)
{
    return rc__err(a, RC_ETYPE, "'<' not supported between instances of '%s' and '%s'", rc__tp(a)->name,
                   rc__tp(b)->name);
}

/* int/bool against float without rounding the int through a double. */
static int num_less(const void *a, const void *b)
{
    bool fa = rc__is(a, &rc__float_type), fb = rc__is(b, &rc__float_type);
    if (!fa && !fb) return ((const rc_int_obj *)a)->v < ((const rc_int_obj *)b)->v;
    double x, y;
    rc_float_value(a, &x);
    rc_float_value(b, &y);
    if (isnan(x) || isnan(y)) return 0;
    if (x != y) return x < y;
    if (fa && fb) return 0;
    /* equal as doubles: the int side may still differ by less than one ulp */
    int64_t i = fa ? ((const rc_int_obj *)b)->v : ((const rc_int_obj *)a)->v;
    double d = fa ? x : y;
    if (d >= 9223372036854775808.0) return fa ? 0 : 1;   /* int < 2**63 <= d */
    if (d < -9223372036854775808.0) return fa ? 1 : 0;
    int64_t di = (int64_t)d;
    return fa ? di < i : i < di;
}

static int bytes_less(const char *p, size_t n, const char *q, size_t m)
{
    int c = memcmp(p, q, n < m ? n : m);
    return c != 0 ? c < 0 : n < m;
}

static int seq_less(void *const *a, size_t na, void *const *b, size_t nb, int depth)
{
    size_t n = na < nb ? na : nb;
    for (size_t i = 0; i < n; i++) {
        int eq = rc__equal(a[i], b[i], depth);
        if (eq < 0) return eq;
        if (!eq) return rc__less(a[i], b[i], depth);
    }
    return na < nb;
}

static int set_less(const void *a, const void *b)
{
    const rc_dict_obj *x = a, *y = b;
    if (x->used >= y->used) return 0;
    size_t pos = 0;
    void *k;
    while (rc_set_next(a, &pos, &k)) {
        int in = rc_set_contains(b, k);
        if (in != 1) return in;
    }
    return 1;
}

/* Two lists of a threaded heap, holding both lists' stripes. */
static int shared_list_less(const void *a, const void *b, int depth)
{
    for (size_t i = 0;; i++) {
        void *p = rc__list_item_ref(a, i), *q = rc__list_item_ref(b, i);
        int r;
        bool done = true;
        if (!p || !q)
            r = !p && q;
        else if ((r = rc__equal(p, q, depth)) == 1)
            done = false;
        else if (r == 0)
            r = rc__less(p, q, depth);
        rc_xdecref(p);
        rc_xdecref(q);
        if (done) return r;
    }
}

RC_SECTION_CALL(int, list_less_locked, (const void *a, const void *b, int depth), false, a, b,
                shared_list_less(a, b, depth))

int rc__less(const void *a, const void *b, int depth)
{
    if (depth > RC__MAX_DEPTH) return rc__err(a, RC_ERANGE, "maximum recursion depth exceeded in comparison");
    if (rc__is_number(a) && rc__is_number(b)) return num_less(a, b);
    const rc_type *t = rc__tp(a);
    if (t != rc__tp(b)) return unordered(a, b);
    if (t == &rc__str_type.bt.type) {
        const rc_str_obj *x = a, *y = b;
        return bytes_less(x->data, x->len, y->data, y->len);
    }
    if (t == &rc__bytes_type.bt.type) {
        const rc_bytes_obj *x = a, *y = b;
        return bytes_less(x->data, x->len, y->data, y->len);
    }
    if (t == &rc__tuple_type.bt.type) {
        const rc_tuple_obj *x = a, *y = b;
        return seq_less(x->items, x->len, y->items, y->len, depth + 1);
    }
    if (t == &rc__list_type.bt.type) {
        const rc_list_obj *x = a, *y = b;
        if (rc__is_shared(rc__head(a))) return list_less_locked(a, b, depth + 1);
        return seq_less(x->items, x->len, y->items, y->len, depth + 1);
    }
    if (t == &rc__set_type.bt.type) return set_less(a, b);
    return unordered(a, b);
}

int rc_less(const void *a, const void *b)
{
    if (!a || !b) return RC_EINVAL;
    return rc__less(a, b, 0);
}
