/* int: a 64-bit signed integer; -5..256 come from the per-heap cache of
 * immortal objects, as CPython's small ints do.  Arithmetic that would
 * leave int64 is RC_ERANGE (recycle has no big integers). */
#include "types.h"

#include <inttypes.h>

static int int_repr(const void *self, rc_strbuf *sb, int depth)
{
    (void)depth;
    rc__sb_printf(sb, "%" PRId64, ((const rc_int_obj *)self)->v);
    return sb->err;
}

static int int_hash(const void *self, int64_t *out)
{
    *out = rc__hash_int(((const rc_int_obj *)self)->v);
    return 0;
}

static int int_truth(const void *self)
{
    return ((const rc_int_obj *)self)->v != 0;
}

const rc__vtype rc__int_type = {
    .bt.type = {.name = "int", .size = sizeof(rc_int_obj), .flags = RC__TYPE_VALUE | RC_TYPE_NO_WEAKREF},
    .repr = int_repr,
    .hash = int_hash,
    .truth = int_truth,
};

RC_INLINE void *int_new(rc_heap *h, int64_t v)
{
    rc_int_obj *o = rc__new_untracked(h, &rc__int_type.bt.type, sizeof(rc_int_obj), NULL);
    if (o) o->v = v;
    return o;
}

void *rc__int_new(rc_heap *h, int64_t v)
{
    return int_new(h, v);
}

void *rc_int_from(rc_heap *h, int64_t v)
{
    if (RC_UNLIKELY(!h)) return NULL;   /* rc_new's answer to a NULL heap */
    if (v >= RC__SMALL_MIN && v <= RC__SMALL_MAX) {
        rc_types_state *s = rc__types(h);
        return s ? s->small[v - RC__SMALL_MIN] : NULL;
    }
    return int_new(h, v);
}

static bool is_int(const void *o)
{
    return rc__is(o, &rc__int_type) || rc__is(o, &rc__bool_type);
}

int rc_int_value(const void *o, int64_t *out)
{
    if (!is_int(o)) return rc__bad_type(o, "int");
    *out = ((const rc_int_obj *)o)->v;
    return 0;
}

typedef bool (*checked_op)(int64_t a, int64_t b, int64_t *r);
static bool add_op(int64_t a, int64_t b, int64_t *r) { return __builtin_add_overflow(a, b, r); }
static bool sub_op(int64_t a, int64_t b, int64_t *r) { return __builtin_sub_overflow(a, b, r); }
static bool mul_op(int64_t a, int64_t b, int64_t *r) { return __builtin_mul_overflow(a, b, r); }

static void *arith(const void *a, const void *b, checked_op op, const char *sym)
{
    int64_t x = 0, y = 0, r;   /* set by rc_int_value; zero keeps gcc -O2 quiet */
    if (rc_int_value(a, &x) < 0 || rc_int_value(b, &y) < 0) return NULL;
    if (op(x, y, &r)) {
        rc__err(a, RC_ERANGE, "int overflow: %" PRId64 " %s %" PRId64 " does not fit in 64 bits", x, sym, y);
        return NULL;
    }
    return rc_int_from(rc__heap(a), r);
}

void *rc_int_add(const void *a, const void *b) { return arith(a, b, add_op, "+"); }
void *rc_int_sub(const void *a, const void *b) { return arith(a, b, sub_op, "-"); }
void *rc_int_mul(const void *a, const void *b) { return arith(a, b, mul_op, "*"); }
