/* range: an immutable arithmetic sequence, iterated without a list. */
#include "types.h"

#include <inttypes.h>

#define RANGE(o) ((const rc_range_obj *)(o))

static size_t range_length(int64_t start, int64_t stop, int64_t step)
{
    if (step > 0 && start < stop) return (size_t)(((uint64_t)stop - (uint64_t)start - 1) / (uint64_t)step + 1);
    if (step < 0 && start > stop)
        return (size_t)(((uint64_t)start - (uint64_t)stop - 1) / ((uint64_t)0 - (uint64_t)step) + 1);
    return 0;
}

void *rc_range_new(rc_heap *h, int64_t start, int64_t stop, int64_t step)
{
    if (step == 0) {
        rc__error(h, RC_EINVAL, "range() arg 3 must not be zero");
        return NULL;
    }
    rc_range_obj *r = rc_new(h, &rc__range_type.bt.type);
    if (r) *r = (rc_range_obj){start, stop, step, range_length(start, stop, step)};
    return r;
}

size_t rc_range_len(const void *range)
{
    if (!rc__is(range, &rc__range_type)) return rc__bad_type(range, "range"), 0;
    return RANGE(range)->len;
}

static int range_repr(const void *self, rc_strbuf *sb, int depth)
{
    (void)depth;
    const rc_range_obj *r = self;
    rc__sb_printf(sb, "range(%" PRId64 ", %" PRId64, r->start, r->stop);
    if (r->step != 1) rc__sb_printf(sb, ", %" PRId64, r->step);
    rc__sb_puts(sb, ")");
    return sb->err;
}

/* Ranges compare as the sequences they describe, as in Python. */
static int range_equal(const void *a, const void *b, int depth)
{
    (void)depth;
    const rc_range_obj *x = a, *y = b;
    if (x->len != y->len) return 0;
    if (x->len == 0) return 1;
    if (x->start != y->start) return 0;
    return x->len == 1 || x->step == y->step;
}

/* Python's range_hash: hash((len, start, step)) with start/step dropped
 * where the sequence does not depend on them. */
static int range_hash(const void *self, int64_t *out)
{
    const rc_range_obj *r = self;
    rc_heap *h = rc__heap(self);
    void *t = rc_tuple_new(h, 3), *none = rc_none(h);
    if (!t || !none) return rc_last_error_code(h);
    void *parts[3] = {rc_int_from(h, (int64_t)r->len), r->len ? rc_int_from(h, r->start) : rc_newref(none),
                      r->len > 1 ? rc_int_from(h, r->step) : rc_newref(none)};
    int rc = 0;
    for (int i = 0; i < 3; i++) {
        if (!parts[i] || rc_tuple_set(t, (size_t)i, parts[i]) < 0) rc = RC_ENOMEM;
        if (parts[i]) rc_decref(parts[i]);
    }
    if (rc == 0) rc = rc_hash(t, out);
    rc_decref(t);
    return rc;
}

static int range_truth(const void *self)
{
    return RANGE(self)->len != 0;
}

static void *range_iter(void *self)
{
    return rc__iter_new(self, RC__IT_RANGE);
}

const rc__vtype rc__range_type = {
    .bt.type = {.name = "range", .size = sizeof(rc_range_obj), .flags = RC__TYPE_VALUE | RC_TYPE_NO_WEAKREF},
    .repr = range_repr,
    .equal = range_equal,
    .hash = range_hash,
    .iter = range_iter,
    .truth = range_truth,
};
