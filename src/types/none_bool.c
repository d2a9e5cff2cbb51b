/* None, True and False: one immortal object each per heap. */
#include "types.h"

static int none_repr(const void *self, rc_strbuf *sb, int depth)
{
    (void)self, (void)depth;
    rc__sb_puts(sb, "None");
    return sb->err;
}

static int none_hash(const void *self, int64_t *out)
{
    *out = (int64_t)((uintptr_t)self >> 4);
    return 0;
}

static int none_truth(const void *self)
{
    (void)self;
    return 0;
}

const rc__vtype rc__none_type = {
    .bt.type = {.name = "NoneType", .flags = RC__TYPE_VALUE | RC_TYPE_NO_WEAKREF},
    .repr = none_repr,
    .hash = none_hash,
    .truth = none_truth,
};

static int bool_repr(const void *self, rc_strbuf *sb, int depth)
{
    (void)depth;
    rc__sb_puts(sb, ((const rc_int_obj *)self)->v ? "True" : "False");
    return sb->err;
}

static int bool_hash(const void *self, int64_t *out)
{
    *out = ((const rc_int_obj *)self)->v;
    return 0;
}

static int bool_truth(const void *self)
{
    return ((const rc_int_obj *)self)->v != 0;
}

const rc__vtype rc__bool_type = {
    .bt.type = {.name = "bool", .size = sizeof(rc_int_obj), .flags = RC__TYPE_VALUE | RC_TYPE_NO_WEAKREF},
    .repr = bool_repr,
    .hash = bool_hash,
    .truth = bool_truth,
};

void *rc_none(rc_heap *h)
{
    rc_types_state *s = rc__types(h);
    return s ? s->none : NULL;
}

void *rc_true(rc_heap *h)
{
    rc_types_state *s = rc__types(h);
    return s ? s->true_ : NULL;
}

void *rc_false(rc_heap *h)
{
    rc_types_state *s = rc__types(h);
    return s ? s->false_ : NULL;
}

void *rc_bool(rc_heap *h, bool v)
{
    return v ? rc_true(h) : rc_false(h);
}

bool rc_is_none(const void *o)
{
    return rc__is(o, &rc__none_type);
}
