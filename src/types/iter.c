/* Iteration: rc_iter / rc_iter_next, and the one iterator type that walks
 * every built-in container.  An exhausted iterator drops its container, as
 * CPython's do.  Dicts and sets refuse to go on after a change of size. */
#include "types.h"

typedef struct rc_iter_obj {
    void  *src;      /* NULL once exhausted */
    size_t pos;      /* index, byte offset or entry number */
    size_t expect;   /* dict/set size when iteration began */
    int    kind;
} rc_iter_obj;

static const char *const iter_names[] = {
    [RC__IT_SEQ] = "sequence_iterator", [RC__IT_STR] = "str_iterator",
    [RC__IT_DICT_KEYS] = "dict_keyiterator", [RC__IT_DICT_VALUES] = "dict_valueiterator",
    [RC__IT_DICT_ITEMS] = "dict_itemiterator", [RC__IT_SET] = "set_iterator",
    [RC__IT_ARRAY] = "arrayiterator", [RC__IT_VIEW] = "memory_iterator",
    [RC__IT_RANGE] = "range_iterator", [RC__IT_BYTES] = "bytes_iterator",
};

void *rc__iter_new(void *src, int kind)
{
    rc_iter_obj *it = rc_new(rc__heap(src), &rc__iter_type.bt.type);
    if (!it) return NULL;
    it->src = rc_newref(src);
    it->kind = kind;
    if (kind >= RC__IT_DICT_KEYS && kind <= RC__IT_SET) it->expect = ((rc_dict_obj *)src)->used;
    return it;
}

void *rc_iter(void *o)
{
    if (!o) return NULL;
    const rc__vtype *vt = rc__vt(o);
    if (vt && vt->next) return rc_newref(o);
    if (vt && vt->iter) return vt->iter(o);
    rc__err(o, RC_ETYPE, "'%s' object is not iterable", rc__tp(o)->name);
    return NULL;
}

/* What an iterator walks, read under the heap lock, which every
 * rc_iter_next of a threaded heap holds: the one change to src, to NULL
 * when spent, is made there. */
static const void *iter_src(const void *it)
{
    return rc__is(it, &rc__iter_type) ? ((const rc_iter_obj *)it)->src : NULL;
}

/* The iterator and what it walks, as one operation. */
RC_LOCKED_VARIANT2(int, rc_iter_next, (void *it, void **item), it, iter_src(it), (it, item))
int rc_iter_next(void *it, void **item)
{
    const rc__vtype *vt = it ? rc__vt(it) : NULL;
    if (!vt || !vt->next) {
        if (it) rc__err(it, RC_ETYPE, "'%s' object is not an iterator", rc__tp(it)->name);
        return it ? RC_ETYPE : RC_EINVAL;
    }
    *item = NULL;
    RC_SHARED_CALL(it, rc_iter_next_locked(it, item));
    return vt->next(it, item);
}

/* ---- one step per kind ---------------------------------------------------- */

static int seq_next(rc_iter_obj *it, void **item)
{
    size_t len;
    void *const *items;
    if (rc__is(it->src, &rc__list_type)) {
        len = ((rc_list_obj *)it->src)->len;
        items = ((rc_list_obj *)it->src)->items;
    } else {
        len = ((rc_tuple_obj *)it->src)->len;
        items = ((rc_tuple_obj *)it->src)->items;
    }
    if (it->pos >= len || !items[it->pos]) return 0;
    *item = rc_newref(items[it->pos++]);
    return 1;
}

static int str_next(rc_iter_obj *it, void **item)
{
    const rc_str_obj *s = it->src;
    if (it->pos >= s->len) return 0;
    size_t n = 1;
    while (it->pos + n < s->len && ((unsigned char)s->data[it->pos + n] & 0xC0) == 0x80) n++;
    *item = rc__str_make(rc__heap(s), s->data + it->pos, n, true);
    it->pos += n;
    return *item ? 1 : RC_ENOMEM;
}

static int bytes_next(rc_iter_obj *it, void **item)
{
    const rc_bytes_obj *b = it->src;
    if (it->pos >= b->len) return 0;
    *item = rc_int_from(rc__heap(b), (unsigned char)b->data[it->pos++]);
    return *item ? 1 : RC_ENOMEM;
}

static int table_next(rc_iter_obj *it, void **item)
{
    const rc_dict_obj *d = it->src;
    if (d->used != it->expect)
        return rc__err(it, RC_ESTATE, "%s changed size during iteration",
                       rc__is(d, &rc__set_type) ? "Set" : "dictionary");
    const rc_dentry *e = rc__dict_next_entry(d, &it->pos);
    if (!e) return 0;
    switch (it->kind) {
    case RC__IT_DICT_VALUES: *item = rc_newref(e->value); break;
    case RC__IT_DICT_ITEMS: *item = rc_tuple_pack(rc__heap(d), 2, e->key, e->value); break;
    default: *item = rc_newref(e->key); break;
    }
    return *item ? 1 : RC_ENOMEM;
}

static int array_next(rc_iter_obj *it, void **item)
{
    rc_heap *h = rc__heap(it->src);
    const char *data;
    size_t len;
    rc_elem kind;
    if (it->kind == RC__IT_ARRAY) {
        const rc_array_obj *a = it->src;
        data = a->data, len = a->len, kind = a->kind;
    } else {
        const rc_view_obj *v = it->src;
        if (!v->exporter) return rc__err(it->src, RC_ESTATE, "operation forbidden on released memoryview object");
        data = v->data, len = v->len, kind = v->kind;
    }
    if (it->pos >= len) return 0;
    *item = rc__elem_get(h, kind, data + it->pos++ * rc_elem_size(kind));
    return *item ? 1 : rc_last_error_code(h);
}

static int range_next(rc_iter_obj *it, void **item)
{
    const rc_range_obj *r = it->src;
    if (it->pos >= r->len) return 0;
    int64_t v = (int64_t)((uint64_t)r->start + (uint64_t)it->pos++ * (uint64_t)r->step);
    *item = rc_int_from(rc__heap(r), v);
    return *item ? 1 : RC_ENOMEM;
}

static int iter_next(void *self, void **item)
{
    rc_iter_obj *it = self;
    if (!it->src) return 0;
    int rc;
    switch (it->kind) {
    case RC__IT_SEQ: rc = seq_next(it, item); break;
    case RC__IT_STR: rc = str_next(it, item); break;
    case RC__IT_BYTES: rc = bytes_next(it, item); break;
    case RC__IT_ARRAY: case RC__IT_VIEW: rc = array_next(it, item); break;
    case RC__IT_RANGE: rc = range_next(it, item); break;
    default: rc = table_next(it, item); break;
    }
    if (rc == 0) RC_CLEAR(it->src);
    return rc;
}

static int iter_traverse(void *self, rc_visit visit, void *arg)
{
    rc_iter_obj *it = self;
    return it->src ? visit(it->src, arg) : 0;
}

static void iter_clear(void *self)
{
    RC_CLEAR(((rc_iter_obj *)self)->src);
}

static int iter_repr(const void *self, rc_strbuf *sb, int depth)
{
    (void)depth;
    char what[48];
    snprintf(what, sizeof what, "%s object", iter_names[((const rc_iter_obj *)self)->kind]);
    return rc__repr_address(self, what, sb);
}

const rc__vtype rc__iter_type = {
    .bt.type = {.name = "iterator", .size = sizeof(rc_iter_obj), .traverse = iter_traverse,
                .clear = iter_clear, .flags = RC__TYPE_VALUE | RC_TYPE_NO_WEAKREF},
    .repr = iter_repr,
    .next = iter_next,
};
