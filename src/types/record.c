/* Records: user-defined types with named fields, in one of two layouts --
 * Python's __slots__ (the references live in the instance, nothing else)
 * and __dict__ (the instance points to its own attribute dict, which takes
 * any name and costs a dict per instance).  A record type is an rc__vtype
 * made at run time in heap memory; it lives until its heap is freed. */
#include "types.h"

#define RC__TYPE_RECORD 0x20000u

struct rc_record_type {
    rc__vtype vt;                  /* first: instances' rc_type points here */
    struct rc_record_type *next;   /* the heap's list of record types */
    rc_heap *heap;
    rc_record_layout layout;
    size_t nfields;
    char  *name;
    char **fields;
};

typedef struct rc_slots_obj { void *slot[1]; } rc_slots_obj;   /* nfields slots */
typedef struct rc_dictrec_obj { void *dict; } rc_dictrec_obj;

static const rc_record_type *record_type(const void *o)
{
    const rc_type *t = rc__tp(o);
    return (t->flags & RC__TYPE_RECORD) ? (const rc_record_type *)(const void *)t : NULL;
}

#define CHECK_RECORD(o, rt, ret) \
    const rc_record_type *rt = (o) ? record_type(o) : NULL; \
    if (!rt) return (rc__bad_type((o), "record"), (ret))

static void **slots(const void *o) { return ((rc_slots_obj *)(uintptr_t)o)->slot; }
static void **dict_of(const void *o) { return &((rc_dictrec_obj *)(uintptr_t)o)->dict; }

static ptrdiff_t field_index(const rc_record_type *rt, const char *name)
{
    for (size_t i = 0; i < rt->nfields; i++)
        if (strcmp(rt->fields[i], name) == 0) return (ptrdiff_t)i;
    return -1;
}

/* ---- instances ------------------------------------------------------------- */

static int record_traverse(void *self, rc_visit visit, void *arg)
{
    const rc_record_type *rt = record_type(self);
    if (rt->layout == RC_RECORD_DICT) return *dict_of(self) ? visit(*dict_of(self), arg) : 0;
    for (size_t i = 0; i < rt->nfields; i++) {
        void *v = slots(self)[i];
        int rc = v ? visit(v, arg) : 0;
        if (rc) return rc;
    }
    return 0;
}

static void record_clear(void *self)
{
    const rc_record_type *rt = record_type(self);
    size_t n = rt->layout == RC_RECORD_DICT ? 1 : rt->nfields;
    void **refs = rt->layout == RC_RECORD_DICT ? dict_of(self) : slots(self);
    for (size_t i = 0; i < n; i++) RC_CLEAR(refs[i]);
}

static int put_field_name(const void *key, rc_strbuf *sb)
{
    if (rc__is(key, &rc__str_type)) rc__sb_puts(sb, rc_str_data(key));
    else rc__repr(key, sb, 0);
    return sb->err;
}

/* dataclass style: Point(x=1, y=2); unset slots are left out. */
static int record_repr(const void *self, rc_strbuf *sb, int depth)
{
    const rc_record_type *rt = record_type(self);
    rc_heap *h = rc__heap(self);
    int inside = rc__repr_enter(h, self);
    if (inside < 0) return sb->err = inside;
    rc__sb_printf(sb, "%s(", rt->name);
    if (inside) rc__sb_puts(sb, "...");
    bool first = true;
    if (!inside && rt->layout == RC_RECORD_SLOTS) {
        for (size_t i = 0; i < rt->nfields && !sb->err; i++) {
            if (!slots(self)[i]) continue;
            rc__sb_printf(sb, "%s%s=", first ? "" : ", ", rt->fields[i]);
            rc__repr(slots(self)[i], sb, depth);
            first = false;
        }
    } else if (!inside && *dict_of(self)) {
        size_t pos = 0;
        void *k, *v;
        while (!sb->err && rc_dict_next(*dict_of(self), &pos, &k, &v)) {
            if (!first) rc__sb_puts(sb, ", ");
            put_field_name(k, sb);
            rc__sb_puts(sb, "=");
            rc__repr(v, sb, depth);
            first = false;
        }
    }
    if (!inside) rc__repr_leave(h, self);
    rc__sb_puts(sb, ")");
    return sb->err;
}

static int record_equal(const void *a, const void *b, int depth)
{
    const rc_record_type *rt = record_type(a);
    if (rt->layout == RC_RECORD_SLOTS) return rc__seq_equal(slots(a), rt->nfields, slots(b), rt->nfields, depth);
    void *da = *dict_of(a), *db = *dict_of(b);
    size_t na = da ? rc_dict_len(da) : 0, nb = db ? rc_dict_len(db) : 0;
    if (!na || !nb) return na == nb;
    return rc__equal(da, db, depth);
}

static void *record_copy(void *self)
{
    const rc_record_type *rt = record_type(self);
    void *c = rc_record_new(rt);
    if (!c) return NULL;
    if (rt->layout == RC_RECORD_SLOTS) {
        for (size_t i = 0; i < rt->nfields; i++)
            if ((slots(c)[i] = slots(self)[i])) rc__incref(slots(c)[i]);
    } else if (*dict_of(self) && !(*dict_of(c) = rc__dict_copy(*dict_of(self)))) {
        RC_CLEAR(c);
    }
    return c;
}

static void *record_deepcopy(void *self, rc__memo *memo)
{
    const rc_record_type *rt = record_type(self);
    void *c = rc_record_new(rt);
    if (!c || rc__memo_put(memo, self, c) < 0) goto fail;
    size_t n = rt->layout == RC_RECORD_DICT ? 1 : rt->nfields;
    void **src = rt->layout == RC_RECORD_DICT ? dict_of(self) : slots(self);
    void **dst = rt->layout == RC_RECORD_DICT ? dict_of(c) : slots(c);
    for (size_t i = 0; i < n; i++)
        if (src[i] && !(dst[i] = rc__deepcopy(src[i], memo))) goto fail;
    return c;
fail:
    if (c) rc_decref(c);
    return NULL;
}

void *rc_record_new(const rc_record_type *rt)
{
    if (!rt) return NULL;
    /* a record without fields still gets a body of one unused word */
    return rc_new_var(rt->heap, &rt->vt.bt.type, rt->vt.bt.type.size ? rt->vt.bt.type.size : sizeof(void *));
}

int rc_record_set_at(void *rec, size_t i, void *value)
{
    CHECK_RECORD(rec, rt, RC_ETYPE);
    if (i >= rt->nfields) return rc__err(rec, RC_ERANGE, "'%s' has %zu fields; no field %zu", rt->name, rt->nfields, i);
    if (rt->layout == RC_RECORD_DICT) return rc_record_set(rec, rt->fields[i], value);
    if (!value) return rc__err(rec, RC_EINVAL, "NULL value");
    int bad = rc__check_same_heap(rc__heap(rec), value);
    if (bad) return bad;
    void *old = slots(rec)[i];
    rc__incref(value);
    slots(rec)[i] = value;
    if (old) rc_decref(old);
    return 0;
}

int rc_record_set(void *rec, const char *field, void *value)
{
    CHECK_RECORD(rec, rt, RC_ETYPE);
    if (!field || !value) return rc__err(rec, RC_EINVAL, "NULL %s", field ? "value" : "field name");
    if (rt->layout == RC_RECORD_SLOTS) {
        ptrdiff_t i = field_index(rt, field);
        if (i < 0) return rc__err(rec, RC_ENOENT, "'%s' object has no attribute '%s'", rt->name, field);
        return rc_record_set_at(rec, (size_t)i, value);
    }
    rc_heap *h = rc__heap(rec);
    void **d = dict_of(rec);
    if (!*d) {
        if (!(*d = rc_dict_new(h))) return RC_ENOMEM;
        if (rc__dict_presize(*d, h, rt->nfields) < 0) {
            RC_CLEAR(*d);
            return RC_ENOMEM;
        }
    }
    void *key = rc_str_intern(h, field);   /* attribute names are shared, as CPython's are */
    if (!key) return rc_last_error_code(h);
    int rc = rc_dict_set(*d, key, value);
    rc_decref(key);
    return rc;
}

void *rc_record_get(const void *rec, const char *field)
{
    CHECK_RECORD(rec, rt, NULL);
    void *v = NULL;
    if (!field) return NULL;
    if (rt->layout == RC_RECORD_SLOTS) {
        ptrdiff_t i = field_index(rt, field);
        if (i >= 0) v = slots(rec)[i];
    } else if (*dict_of(rec)) {
        v = rc_dict_get_str(*dict_of(rec), field);
    }
    if (!v) rc__err(rec, RC_ENOENT, "'%s' object has no attribute '%s'", rt->name, field);
    return v;
}

void *rc_record_get_at(const void *rec, size_t i)
{
    CHECK_RECORD(rec, rt, NULL);
    if (i >= rt->nfields) {
        rc__err(rec, RC_ERANGE, "'%s' has %zu fields; no field %zu", rt->name, rt->nfields, i);
        return NULL;
    }
    return rc_record_get(rec, rt->fields[i]);
}

void *rc_record_dict(const void *rec)
{
    CHECK_RECORD(rec, rt, NULL);
    return rt->layout == RC_RECORD_DICT ? *dict_of(rec) : NULL;
}

/* ---- record types ----------------------------------------------------------- */

static char *dup_text(rc_heap *h, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = rc_alloc(h, n);
    if (p) memcpy(p, s, n);
    return p;
}

static void free_record_type(rc_heap *h, rc_record_type *rt)
{
    for (size_t i = 0; i < rt->nfields; i++) rc_free(h, rt->fields[i]);
    rc_free(h, rt->fields);
    rc_free(h, rt->name);
    rc_free(h, rt);
}

const rc_record_type *rc_record_type_new(rc_heap *h, const char *name, rc_record_layout layout, size_t nfields,
                                         const char *const *fields)
{
    if (!name || (nfields && !fields) || (layout != RC_RECORD_SLOTS && layout != RC_RECORD_DICT)) {
        rc__error(h, RC_EINVAL, "rc_record_type_new: bad name, fields or layout");
        return NULL;
    }
    for (size_t i = 0; i < nfields; i++)
        if (!fields[i]) {
            rc__error(h, RC_EINVAL, "rc_record_type_new: field %zu of '%s' is NULL", i, name);
            return NULL;
        }
    rc_types_state *s = rc__types(h);
    rc_record_type *rt = s ? rc_alloc(h, sizeof *rt) : NULL;
    if (!rt) return NULL;
    memset(rt, 0, sizeof *rt);
    rt->fields = rc_alloc(h, (nfields ? nfields : 1) * sizeof(char *));
    rt->name = dup_text(h, name);
    bool ok = rt->fields && rt->name;
    for (size_t i = 0; ok && i < nfields; i++, rt->nfields++) ok = (rt->fields[i] = dup_text(h, fields[i])) != NULL;
    if (!ok) {
        free_record_type(h, rt);
        rc__error(h, RC_ENOMEM, "out of memory making record type '%s'", name);
        return NULL;
    }
    rt->heap = h;
    rt->layout = layout;
    /* Both layouts are bodies of references only (the slots, or the dict
     * pointer): RC_TYPE_REFS lets the collector walk them without calling
     * through the type.  traverse/clear stay for rc_gc_get_referents-style
     * callers that go through the type. */
    size_t body = layout == RC_RECORD_DICT ? sizeof(void *) : nfields * sizeof(void *);
    rt->vt = (rc__vtype){
        .bt.type = {.name = rt->name, .size = body, .traverse = record_traverse, .clear = record_clear,
                    .flags = RC__TYPE_VALUE | RC__TYPE_RECORD | (body ? RC_TYPE_REFS : 0u)},
        .repr = record_repr, .equal = record_equal, .copy = record_copy, .deepcopy = record_deepcopy,
    };
    rt->next = s->records;
    s->records = rt;
    return rt;
}

const rc_type *rc_record_rc_type(const rc_record_type *rt)
{
    return rt ? &rt->vt.bt.type : NULL;
}

void rc__records_free(rc_heap *h, rc_types_state *s)
{
    while (s->records) {
        rc_record_type *rt = s->records;
        s->records = rt->next;
        free_record_type(h, rt);
    }
}
