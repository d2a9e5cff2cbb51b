/* tuple: an immutable sequence, filled once.  A complete tuple whose items
 * are all untracked can never be part of a cycle, so it is untracked, as
 * CPython does for tuples of atoms. */
#include "types.h"

#include <stdarg.h>

#define TUPLE(o) ((rc_tuple_obj *)(o))
#define CHECK_TUPLE(o, ret) do { if (!rc__is((o), &rc__tuple_type)) return (rc__bad_type((o), "tuple"), (ret)); } while (0)

void *rc_tuple_new(rc_heap *h, size_t n)
{
    if (n == 0) {
        rc_types_state *s = rc__types(h);
        return s ? s->empty_tuple : NULL;
    }
    if (n > (SIZE_MAX - sizeof(rc_tuple_obj)) / sizeof(void *)) {
        rc__error(h, RC_ENOMEM, "tuple too large: %zu items", n);
        return NULL;
    }
    rc_tuple_obj *t = rc_new_var(h, &rc__tuple_type.bt.type, sizeof(rc_tuple_obj) + n * sizeof(void *));
    if (t) t->len = n;
    return t;
}

static void maybe_untrack(rc_tuple_obj *t)
{
    for (size_t i = 0; i < t->len; i++)
        if (rc_gc_is_tracked(t->items[i])) return;
    rc_gc_untrack(t);
}

int rc_tuple_set(void *tuple, size_t i, void *item)
{
    CHECK_TUPLE(tuple, RC_ETYPE);
    rc_tuple_obj *t = tuple;
    if (!item) return rc__err(tuple, RC_EINVAL, "NULL item");
    if (i >= t->len) return rc__err(tuple, RC_ERANGE, "tuple index %zu out of range (len %zu)", i, t->len);
    if (t->items[i]) return rc__err(tuple, RC_ESTATE, "'tuple' object does not support item assignment (slot %zu is set)", i);
    int bad = rc__check_same_heap(rc__heap(tuple), item);
    if (bad) return bad;
    rc__incref(item);
    t->items[i] = item;
    if (++t->filled == t->len) maybe_untrack(t);
    return 0;
}

void *rc_tuple_from(rc_heap *h, size_t n, void *const *items)
{
    for (size_t i = 0; i < n; i++)
        if (!items[i]) {
            rc__error(h, RC_EINVAL, "rc_tuple_from: item %zu is NULL", i);
            return NULL;
        }
    rc_tuple_obj *t = rc_tuple_new(h, n);
    for (size_t i = 0; t && i < n; i++)
        if (rc_tuple_set(t, i, items[i]) < 0) RC_CLEAR(t);   /* an item of another heap */
    return t;
}

void *rc_tuple_pack(rc_heap *h, size_t n, ...)
{
    void *small[16], **items = n <= 16 ? small : rc_alloc(h, n * sizeof(void *));
    if (!items) return NULL;
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) items[i] = va_arg(ap, void *);
    va_end(ap);
    void *t = rc_tuple_from(h, n, items);
    if (items != small) rc_free(h, items);
    return t;
}

void *rc_tuple_get(const void *tuple, size_t i)
{
    CHECK_TUPLE(tuple, NULL);
    const rc_tuple_obj *t = tuple;
    if (i >= t->len) {
        rc__err(tuple, RC_ERANGE, "tuple index %zu out of range (len %zu)", i, t->len);
        return NULL;
    }
    return t->items[i];
}

size_t rc_tuple_len(const void *tuple)
{
    CHECK_TUPLE(tuple, 0);
    return TUPLE(tuple)->len;
}

/* ---- value operations ------------------------------------------------------ */

static int tuple_repr(const void *self, rc_strbuf *sb, int depth)
{
    const rc_tuple_obj *t = self;
    return rc__seq_repr(self, t->items, t->len, "(", t->len == 1 ? ",)" : ")", sb, depth);
}

static int tuple_equal(const void *a, const void *b, int depth)
{
    const rc_tuple_obj *x = a, *y = b;
    return rc__seq_equal(x->items, x->len, y->items, y->len, depth);
}

/* CPython's tuplehash (the xxHash-based mix of the items' hashes). */
static int tuple_hash(const void *self, int64_t *out)
{
    const uint64_t p1 = 11400714785074694791ull, p2 = 14029467366897019727ull, p5 = 2870177450012600261ull;
    const rc_tuple_obj *t = self;
    uint64_t acc = p5;
    for (size_t i = 0; i < t->len; i++) {
        int64_t lane;
        if (!t->items[i]) return rc__err(self, RC_ESTATE, "cannot hash an incomplete tuple");
        int rc = rc_hash(t->items[i], &lane);
        if (rc < 0) return rc;
        acc += (uint64_t)lane * p2;
        acc = (acc << 31) | (acc >> 33);
        acc *= p1;
    }
    acc += t->len ^ (p5 ^ 3527539ull);
    *out = acc == UINT64_MAX ? 1546275796 : (int64_t)acc;
    return 0;
}

/* As copy.deepcopy: a tuple whose items all copy to themselves is returned
 * as is; one reached again through its own items gives the copy made there. */
static void *tuple_deepcopy(void *self, rc__memo *memo)
{
    rc_tuple_obj *t = self;
    if (t->filled != t->len) {
        rc__err(self, RC_ESTATE, "cannot copy an incomplete tuple");
        return NULL;
    }
    void **copies = rc_alloc(memo->h, t->len * sizeof(void *));
    if (!copies) return NULL;
    size_t n = 0;
    bool same = true;
    void *result = NULL;
    for (; n < t->len; n++) {
        if (!(copies[n] = rc__deepcopy(t->items[n], memo))) goto done;
        same = same && copies[n] == t->items[n];
    }
    void *again = rc__memo_get(memo, self);
    if (again) result = rc_newref(again);
    else if (same) result = rc_newref(self);
    else result = rc_tuple_from(memo->h, n, copies);
    if (result && rc__memo_put(memo, self, result) < 0) RC_CLEAR(result);
done:
    for (size_t i = 0; i < n; i++) rc_decref(copies[i]);
    rc_free(memo->h, copies);
    return result;
}

static int tuple_traverse(void *self, rc_visit visit, void *arg)
{
    rc_tuple_obj *t = self;
    for (size_t i = 0; i < t->len; i++) {
        if (!t->items[i]) continue;
        int rc = visit(t->items[i], arg);
        if (rc) return rc;
    }
    return 0;
}

static void tuple_clear(void *self)
{
    rc_tuple_obj *t = self;
    for (size_t i = 0; i < t->len; i++) {
        void *item = t->items[i];
        t->items[i] = NULL;
        if (item) rc_decref(item);
    }
}

static int tuple_truth(const void *self)
{
    return TUPLE(self)->len != 0;
}

static void *tuple_iter(void *self)
{
    return rc__iter_new(self, RC__IT_SEQ);
}

const rc__vtype rc__tuple_type = {
    .bt.type = {.name = "tuple", .traverse = tuple_traverse, .clear = tuple_clear,
                .flags = RC__TYPE_VALUE | RC_TYPE_NO_WEAKREF},
    .repr = tuple_repr,
    .equal = tuple_equal,
    .hash = tuple_hash,
    .deepcopy = tuple_deepcopy,
    .iter = tuple_iter,
    .truth = tuple_truth,
};
