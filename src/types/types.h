/* Internals shared by the built-in value types (src/types/, docs/types.md).
 *
 * Every built-in type is an rc__vtype: an rc_buffer_type (so bytes and
 * array can export buffers through the public protocol) followed by the
 * Python-level operations that rc_repr / rc_equal / rc_hash / rc_copy /
 * rc_deepcopy / rc_iter dispatch on.  RC__TYPE_VALUE in the flags tells an
 * rc__vtype from a user's plain rc_type. */
#ifndef RC_TYPES_H
#define RC_TYPES_H

#include "../core/internal.h"

#define RC__TYPE_VALUE 0x10000u
#define RC__MAX_DEPTH  1000      /* Python's default recursion limit */

typedef struct rc_strbuf {
    rc_heap *h;
    char    *p;
    size_t   len, cap;
    int      err;        /* first error met; later writes are ignored */
} rc_strbuf;

typedef struct rc__memo {
    rc_heap *h;
    void    *dict;       /* id(original) -> copy, as copy.deepcopy's memo */
    int      depth;
} rc__memo;

typedef struct rc__vtype {
    rc_buffer_type bt;
    int   (*repr)(const void *self, rc_strbuf *sb, int depth);
    /* both operands of this type; 1/0/<0 */
    int   (*equal)(const void *a, const void *b, int depth);
    int   (*hash)(const void *self, int64_t *out);    /* NULL: unhashable */
    void *(*copy)(void *self);                        /* NULL: immutable, copy is self */
    void *(*deepcopy)(void *self, rc__memo *memo);    /* NULL: as copy */
    void *(*iter)(void *self);                        /* NULL: not iterable */
    int   (*next)(void *self, void **item);           /* iterators and generators */
    int   (*truth)(const void *self);                 /* NULL: always true */
} rc__vtype;

/* ---- object bodies ---------------------------------------------------- */
typedef struct rc_int_obj   { int64_t v; } rc_int_obj;   /* also bool */
typedef struct rc_float_obj { double v; } rc_float_obj;

typedef struct rc_str_obj {
    size_t   len;        /* bytes, without the NUL */
    int64_t  hash;       /* -1 until computed */
    uint32_t nchars;     /* code points; RC__NCHARS_BIG: count again when asked */
    uint32_t interned;
    char     data[];     /* 24-byte header: "abc" fits a 48-byte block with ours */
} rc_str_obj;
#define RC__NCHARS_BIG UINT32_MAX

typedef struct rc_bytes_obj {
    size_t  len;
    int64_t hash;
    char    data[];
} rc_bytes_obj;

typedef struct rc_list_obj {
    size_t len, cap;
    void **items;
} rc_list_obj;

typedef struct rc_tuple_obj {
    size_t len;
    size_t filled;       /* slots set so far; tuple is complete at len */
    void  *items[];
} rc_tuple_obj;

/* dict and set share this table (a set's values are NULL).  table holds the
 * index array (width ixw bytes per slot, 1 << log2size slots; -1 empty,
 * -2 deleted, else a hash tag and the entry number in the low ixbits bits:
 * dict.c) followed by room for 2/3 as many entries, in insertion order. */
typedef struct rc_dentry { int64_t hash; void *key; void *value; } rc_dentry;
typedef struct rc_dict_obj {
    size_t  used;        /* live entries */
    size_t  nentries;    /* entries written, deleted ones included */
    uint8_t log2size;
    uint8_t ixw;
    uint8_t ixbits;
    uint8_t ents_shift;  /* the entries start 1 << ents_shift bytes into table */
    /* A key that is not an int hashing to its own value was added since
     * the dict was last cleared (dict.c, "exact ints"). */
    uint8_t other_keys;
    char   *table;       /* NULL while empty and never grown */
} rc_dict_obj;

typedef struct rc_array_obj {
    rc_elem  kind;
    uint32_t exports;
    size_t   len, cap;
    char    *data;
} rc_array_obj;

typedef struct rc_view_obj {
    void   *exporter;    /* holds one export of it; NULL once released */
    char   *data;        /* first element of this window */
    size_t  len;         /* elements of kind */
    rc_elem kind;
    bool    readonly;
} rc_view_obj;

typedef struct rc_range_obj { int64_t start, stop, step; size_t len; } rc_range_obj;

/* ---- type objects ------------------------------------------------------ */
extern const rc__vtype rc__none_type, rc__bool_type, rc__int_type, rc__float_type;
extern const rc__vtype rc__str_type, rc__bytes_type, rc__list_type, rc__tuple_type;
extern const rc__vtype rc__dict_type, rc__set_type, rc__array_type, rc__view_type;
extern const rc__vtype rc__range_type, rc__iter_type, rc__gen_type;

RC_INLINE const rc_type *rc__tp(const void *o) { return rc__type(rc__head(o)); }
RC_INLINE const rc__vtype *rc__vt(const void *o)
{
    const rc_type *t = rc__tp(o);
    return (t->flags & RC__TYPE_VALUE) ? (const rc__vtype *)(const void *)t : NULL;
}
/* The test every typed argument goes through first, so it also validates
 * the argument in debug builds. */
RC_INLINE bool rc__is(const void *o, const rc__vtype *vt)
{
    if (!o)
        return false;
    rc__check_arg(o);
    return rc__tp(o) == &vt->bt.type;
}
/* rc__is for the containers' fast paths: o is of vt and of a plain heap.
 * The compare keeps RC_HF_SHARED in, so a threaded heap's object fails it
 * and goes to the slow path, which takes its locks. */
RC_INLINE bool rc__is_plain(const void *o, const rc__vtype *vt)
{
    if (!o)
        return false;
    rc__check_arg(o);
    return (rc__head(o)->tw & ~(uintptr_t)(RC_HF_MASK & ~RC_HF_SHARED)) == (uintptr_t)&vt->bt.type;
}
RC_INLINE rc_heap *rc__heap(const void *o) { return rc__object_heap(rc__head(o)); }
RC_INLINE void rc__incref(void *o)
{
    rc_head *hd = rc__head(o);
    if (RC_DEBUG || RC_UNLIKELY(rc__is_shared(hd)) || hd->refcnt == RC_REFCNT_IMMORTAL) rc_incref(o);
    else hd->refcnt++;
}
/* rc__incref of an object of a plain heap (a fast path has tested its
 * container with rc__is_plain, and the object as of the container's heap):
 * no shared test, and no call, so the fast paths stay leaves. */
RC_INLINE void rc__incref_plain(void *o)
{
    rc_head *hd = rc__head(o);
    if (RC_DEBUG) rc_incref(o);
    else if (hd->refcnt != RC_REFCNT_IMMORTAL) hd->refcnt++;
}
/* True when a and b are pooled objects of one heap: their pool
 * descriptors name the same heap.  The containers' fast paths test this
 * and leave large objects (and a foreign object's message) to
 * rc__check_same_heap. */
RC_INLINE bool rc__same_heap_pooled(const void *a, const void *b)
{
    rc__check_arg(a);
    rc__check_arg(b);
    const rc_head *ha = rc__head(a), *hb = rc__head(b);
    return !((ha->tw | hb->tw) & RC_HF_LARGE) && rc__pooled_heap(ha) == rc__pooled_heap(hb);
}

/* Records "expected X, got Y" for o (nothing when o is NULL) and returns RC_ETYPE. */
int  rc__bad_type(const void *o, const char *expected);
/* Records an error on the heap of o; returns code. */
#define rc__err(o, code, ...) rc__error(rc__heap(o), (code), __VA_ARGS__)

/* ---- per-heap state (state.c) ------------------------------------------- */
#define RC__SMALL_MIN (-5)
#define RC__SMALL_MAX 256
typedef struct rc_types_state {
    bool   ready;            /* every singleton below exists */
    void  *none, *true_, *false_, *empty_tuple;
    void  *small[RC__SMALL_MAX - RC__SMALL_MIN + 1];
    struct rc_intern_slot *intern;   /* open addressing, borrowed references (intern.c) */
    size_t intern_cap, intern_used;
    const void **repr_stack; /* containers being repr'd (Py_ReprEnter) */
    size_t repr_len, repr_cap;
    struct rc_record_type *records;  /* every record type of the heap */
} rc_types_state;

rc_types_state *rc__types_make(rc_heap *h);   /* NULL on OOM (error recorded) */
/* The heap's state, made on first use; NULL on OOM (error recorded). */
RC_INLINE rc_types_state *rc__types(rc_heap *h)
{
    rc_types_state *s = h->types;
    return RC_LIKELY(s != NULL && s->ready) ? s : rc__types_make(h);
}
/* Makes an immortal object; used while building the state. */
void *rc__immortal_new(rc_heap *h, const rc__vtype *t, size_t body);
void  rc__records_free(rc_heap *h, rc_types_state *s);
void  rc__intern_remove(rc_heap *h, rc_str_obj *s);

/* ---- helpers ------------------------------------------------------------ */
void *rc__int_new(rc_heap *h, int64_t v);          /* no cache lookup */
void *rc__str_make(rc_heap *h, const char *p, size_t n, bool auto_intern);
void *rc__intern_text(rc_heap *h, const char *p, size_t n);   /* new ref */
int64_t rc__hash_bytes(const void *p, size_t n);
/* Python's hash(int): the value modulo 2^61 - 1 with its sign, -1 → -2. */
RC_INLINE int64_t rc__hash_int(int64_t v)
{
    const uint64_t mod = ((uint64_t)1 << 61) - 1;
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int64_t r = (int64_t)(RC_LIKELY(mag < mod) ? mag : mag % mod);   /* skip the division */
    r = v < 0 ? -r : r;
    return r == -1 ? -2 : r;
}
int64_t rc__hash_double(double v, const void *obj);
bool  rc__is_number(const void *o);
int   rc__num_equal(const void *a, const void *b);
int   rc__equal(const void *a, const void *b, int depth);
int   rc__less(const void *a, const void *b, int depth);
int   rc__repr(const void *o, rc_strbuf *sb, int depth);
void *rc__deepcopy(void *o, rc__memo *memo);
void *rc__memo_get(rc__memo *m, const void *orig);
int   rc__memo_put(rc__memo *m, const void *orig, void *copy);
int   rc__repr_enter(rc_heap *h, const void *o);  /* 1: already inside (print ...) */
void  rc__repr_leave(rc_heap *h, const void *o);
int   rc__float_repr(double v, rc_strbuf *sb);
int   rc__repr_address(const void *o, const char *what, rc_strbuf *sb);
/* Element access for arrays and views. */
void *rc__elem_get(rc_heap *h, rc_elem kind, const char *p);
int   rc__elem_set(rc_heap *h, rc_elem kind, char *p, const void *number);
char  rc__elem_code(rc_elem kind);
int   rc__elem_store_int(rc_heap *h, rc_elem kind, char *p, int64_t x);
int   rc__elem_store_float(rc_heap *h, rc_elem kind, char *p, double x);
int   rc__elems_repr(rc_heap *h, rc_elem kind, const char *p, size_t n, rc_strbuf *sb);
int   rc__elems_equal(rc_heap *h, size_t n, rc_elem ka, const char *pa, rc_elem kb, const char *pb);

void rc__sb_init(rc_strbuf *sb, rc_heap *h);
void rc__sb_put(rc_strbuf *sb, const char *p, size_t n);
void rc__sb_puts(rc_strbuf *sb, const char *s);
void rc__sb_printf(rc_strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rc__sb_free(rc_strbuf *sb);
char rc__pick_quote(const char *p, size_t n);
bool rc__put_escape(rc_strbuf *sb, uint32_t c, char quote);

/* memcmp(a, b, n) == 0.  Short texts, the common keys, are compared with
 * two overlapping loads from each side instead of a call. */
RC_INLINE bool rc__same_bytes(const char *a, const char *b, size_t n)
{
    uint64_t x, y, u, v;
    if (n > 16) return memcmp(a, b, n) == 0;
    if (n >= 8) {
        memcpy(&x, a, 8), memcpy(&y, b, 8), memcpy(&u, a + n - 8, 8), memcpy(&v, b + n - 8, 8);
        return ((x ^ y) | (u ^ v)) == 0;
    }
    if (n >= 4) {
        uint32_t x4, y4, u4, v4;
        memcpy(&x4, a, 4), memcpy(&y4, b, 4), memcpy(&u4, a + n - 4, 4), memcpy(&v4, b + n - 4, 4);
        return ((x4 ^ y4) | (u4 ^ v4)) == 0;
    }
    return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
}

/* A str's hash, computed on first use and cached (the cache is not part of
 * the value, so a const str may fill it). */
RC_INLINE int64_t rc__str_hash(const rc_str_obj *s)
{
    int64_t h = s->hash;
    if (RC_UNLIKELY(h == -1)) ((rc_str_obj *)(uintptr_t)s)->hash = h = rc__hash_bytes(s->data, s->len);
    return h;
}

/* The hash of an int or str key, inline; false for other kinds of keys. */
RC_INLINE bool rc__hash_quick(const void *key, int64_t *out)
{
    const rc_type *t = rc__tp(key);
    if (t == &rc__int_type.bt.type) {
        *out = rc__hash_int(((const rc_int_obj *)key)->v);
        return true;
    }
    if (t == &rc__str_type.bt.type) {
        *out = rc__str_hash(key);
        return true;
    }
    return false;
}

/* rc_hash with the common keys (int, str) inline. */
RC_INLINE int rc__hash_fast(const void *key, int64_t *out)
{
    rc__check_arg(key);
    return rc__hash_quick(key, out) ? 0 : rc_hash(key, out);
}

/* list.c helpers shared with tuple.c */
int   rc__seq_repr(const void *self, void *const *items, size_t n, const char *open, const char *close,
                   rc_strbuf *sb, int depth);
int   rc__seq_equal(void *const *a, size_t na, void *const *b, size_t nb, int depth);
/* Item i of a list with a new reference, NULL past its end: for loops
 * over a threaded heap's list that compare items, where a comparison of
 * two containers may wait for their locks and so let go of the list's
 * meanwhile (src/core/internal.h, "Container locks"). */
void *rc__list_item_ref(const void *list, size_t i);

/* dict.c internals shared with set.c and record.c */
void *rc__dict_alloc(rc_heap *h, const rc_type *t);   /* a new dict (untracked) or set */
int   rc__dict_insert(rc_dict_obj *d, void *key, int64_t hash, void *value);
int   rc__dict_lookup(const rc_dict_obj *d, const void *key, int64_t hash, size_t *entry);
int   rc__dict_remove(rc_dict_obj *d, const void *key, int64_t hash);
int   rc__dict_lookup_int(const rc_dict_obj *d, int64_t v, int64_t hash, size_t *entry);
int   rc__dict_lookup_cstr(const rc_dict_obj *d, const char *s, size_t n, int64_t hash, size_t *entry);
void  rc__dict_clear(rc_dict_obj *d, rc_heap *h);
/* The next live entry at or after *pos (PyDict_Next's walk), or NULL. */
const rc_dentry *rc__dict_next_entry(const rc_dict_obj *d, size_t *pos);
/* Bytes of the index array, rounded up so the entries after it stay
 * 8-aligned: a power of two, 1 << ents_shift. */
RC_INLINE size_t rc__dict_index_bytes(unsigned log2size, unsigned ixw)
{
    return ((((size_t)1 << log2size) * ixw) + 7) & ~(size_t)7;
}
RC_INLINE rc_dentry *rc__dict_entries(const rc_dict_obj *d)
{
    return (rc_dentry *)(void *)(d->table + ((size_t)1 << d->ents_shift));
}
int   rc__dict_traverse(void *self, rc_visit visit, void *arg);
size_t rc__dict_owned(const void *self);
int   rc__dict_presize(rc_dict_obj *d, rc_heap *h, size_t n);
int   rc__dict_copy_into(rc_dict_obj *dst, rc_heap *h, const rc_dict_obj *src);
void *rc__dict_copy(void *self);                    /* dict or set, same type */
void *rc__dict_deepcopy(void *self, rc__memo *memo);
void  rc__dict_tp_clear(void *self);

/* iter.c */
void *rc__iter_new(void *src, int kind);
enum { RC__IT_SEQ, RC__IT_STR, RC__IT_DICT_KEYS, RC__IT_DICT_VALUES, RC__IT_DICT_ITEMS,
       RC__IT_SET, RC__IT_ARRAY, RC__IT_VIEW, RC__IT_RANGE, RC__IT_BYTES };

#endif /* RC_TYPES_H */
