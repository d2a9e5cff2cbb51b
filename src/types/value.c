/* The operations every value has: repr, equality, hash, copy, deepcopy,
 * truth and type name, dispatched through rc__vtype. */
#include "types.h"

#include <stdio.h>

int rc__bad_type(const void *o, const char *expected)
{
    if (!o) return RC_EINVAL;
    return rc__type_error(rc__heap(o), o, expected);
}

const char *rc_type_name(const void *o)
{
    return o ? rc__tp(o)->name : "NULL";
}

/* ---- repr ------------------------------------------------------------- */

int rc__repr_address(const void *o, const char *what, rc_strbuf *sb)
{
    rc__sb_printf(sb, "<%s at %p>", what, o);
    return sb->err;
}

int rc__repr(const void *o, rc_strbuf *sb, int depth)
{
    if (depth > RC__MAX_DEPTH)
        return sb->err = rc__err(o, RC_ERANGE, "maximum recursion depth exceeded in repr");
    const rc__vtype *vt = rc__vt(o);
    if (vt && vt->repr) return vt->repr(o, sb, depth + 1);
    rc__sb_printf(sb, "<%s object at %p>", rc__tp(o)->name, o);
    return sb->err;
}

void *rc_repr(const void *o)
{
    if (!o) return NULL;
    rc_heap *h = rc__heap(o);
    rc_strbuf sb;
    rc__sb_init(&sb, h);
    void *s = NULL;
    if (rc__repr(o, &sb, 0) == 0 && sb.err == 0)
        s = rc__str_make(h, sb.p ? sb.p : "", sb.len, false);
    rc__sb_free(&sb);
    return s;
}

int rc_repr_buf(const void *o, char *buf, size_t size)
{
    if (!o) return RC_EINVAL;
    rc_strbuf sb;
    rc__sb_init(&sb, rc__heap(o));
    int rc = rc__repr(o, &sb, 0);
    if (rc == 0) rc = sb.err;
    if (rc == 0 && size > 0) {
        size_t n = sb.len < size - 1 ? sb.len : size - 1;
        memcpy(buf, sb.p ? sb.p : "", n);
        buf[n] = '\0';
    }
    size_t len = sb.len;
    rc__sb_free(&sb);
    return rc < 0 ? rc : (int)(len > INT32_MAX ? INT32_MAX : len);
}

/* Py_ReprEnter / Py_ReprLeave: a container met again while its own repr is
 * being built prints as [...] or {...}. */
int rc__repr_enter(rc_heap *h, const void *o)
{
    rc_types_state *s = rc__types(h);
    if (!s) return RC_ENOMEM;
    for (size_t i = 0; i < s->repr_len; i++)
        if (s->repr_stack[i] == o) return 1;
    if (s->repr_len == s->repr_cap) {
        size_t cap = s->repr_cap ? s->repr_cap * 2 : 16;
        const void **p = rc_realloc(h, (void *)s->repr_stack, cap * sizeof *p);
        if (!p) return rc__error(h, RC_ENOMEM, "out of memory in repr");
        s->repr_stack = p;
        s->repr_cap = cap;
    }
    s->repr_stack[s->repr_len++] = o;
    return 0;
}

void rc__repr_leave(rc_heap *h, const void *o)
{
    rc_types_state *s = h->types;
    if (s && s->repr_len && s->repr_stack[s->repr_len - 1] == o) s->repr_len--;
}

/* ---- equality and hash ------------------------------------------------ */

int rc__equal(const void *a, const void *b, int depth)
{
    if (a == b) return 1;
    if (!a || !b) return 0;
    if (rc__is_number(a) && rc__is_number(b)) return rc__num_equal(a, b);
    const rc_type *ta = rc__tp(a);
    if (ta != rc__tp(b)) return 0;
    const rc__vtype *vt = rc__vt(a);
    if (!vt || !vt->equal) return 0;   /* identity, as object.__eq__ */
    if (depth > RC__MAX_DEPTH)
        return rc__err(a, RC_ERANGE, "maximum recursion depth exceeded in comparison");
    return vt->equal(a, b, depth + 1);
}

int rc_equal(const void *a, const void *b)
{
    return rc__equal(a, b, 0);
}

int rc_hash(const void *o, int64_t *out)
{
    if (!o) return RC_EINVAL;
    const rc__vtype *vt = rc__vt(o);
    if (!vt) {  /* user types hash by identity, as object.__hash__ */
        *out = (int64_t)((uintptr_t)o >> 4);
        return 0;
    }
    if (!vt->hash) return rc__err(o, RC_ETYPE, "unhashable type: '%s'", vt->bt.type.name);
    return vt->hash(o, out);
}

int rc_truth(const void *o)
{
    if (!o) return RC_EINVAL;
    const rc__vtype *vt = rc__vt(o);
    return vt && vt->truth ? vt->truth(o) : 1;
}

/* ---- copy ---------------------------------------------------------------- */

/* Like Python: user objects without a copy protocol, iterators, generators
 * and memoryviews cannot be copied (copy.copy raises TypeError). */
static bool copy_refused(const void *o, const rc__vtype *vt)
{
    if (vt && !vt->next && vt != &rc__view_type) return false;
    rc__err(o, RC_ENOTSUP, "cannot copy '%s' object", rc__tp(o)->name);
    return true;
}

void *rc_copy(void *o)
{
    if (!o) return NULL;
    const rc__vtype *vt = rc__vt(o);
    if (copy_refused(o, vt)) return NULL;
    if (!vt->copy) return rc_newref(o);   /* immutable */
    return vt->copy(o);
}

/* Allocation-free: the memo is keyed by ints of the originals' addresses,
 * found by value without making an int to look one up. */
void *rc__memo_get(rc__memo *m, const void *orig)
{
    if (!m->dict) return NULL;
    int64_t id = (int64_t)(uintptr_t)orig;
    size_t e;
    if (rc__dict_lookup_int(m->dict, id, rc__hash_int(id), &e) != 1) return NULL;
    return rc__dict_entries(m->dict)[e].value;
}

int rc__memo_put(rc__memo *m, const void *orig, void *copy)
{
    if (!m->dict && !(m->dict = rc_dict_new(m->h))) return RC_ENOMEM;
    int64_t id = (int64_t)(uintptr_t)orig;
    void *key = rc_int_from(m->h, id);
    if (!key) return RC_ENOMEM;
    int rc = rc__dict_insert(m->dict, key, rc__hash_int(id), copy);
    rc_decref(key);
    return rc;
}

void *rc__deepcopy(void *o, rc__memo *memo)
{
    const rc__vtype *vt = rc__vt(o);
    if (copy_refused(o, vt)) return NULL;
    if (!vt->deepcopy && !vt->copy) return rc_newref(o);  /* atoms */
    void *done = rc__memo_get(memo, o);
    if (done) return rc_newref(done);
    if (!vt->deepcopy) {   /* no references inside: a copy, remembered */
        void *c = rc_copy(o);
        if (c && rc__memo_put(memo, o, c) < 0) RC_CLEAR(c);
        return c;
    }
    if (memo->depth >= RC__MAX_DEPTH) {
        rc__err(o, RC_ERANGE, "maximum recursion depth exceeded in deepcopy");
        return NULL;
    }
    memo->depth++;
    void *c = vt->deepcopy(o, memo);
    memo->depth--;
    return c;
}

void *rc_deepcopy(void *o)
{
    if (!o) return NULL;
    rc__memo memo = {.h = rc__heap(o)};
    void *c = rc__deepcopy(o, &memo);
    RC_CLEAR(memo.dict);
    return c;
}
