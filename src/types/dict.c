/* dict: CPython 3.6+'s compact, insertion-ordered hash table.  One buffer
 * holds the index array (1 << log2size slots of 1, 2, 4 or 8 bytes, the
 * narrowest that can name every entry) followed by the entries in insertion
 * order.  Probing is CPython's perturbed sequence, so poor hashes such as
 * small ints still spread.  Sets use the same table with NULL values
 * (set.c).
 *
 * An index slot is IX_EMPTY, IX_DUMMY, or a used slot: the entry number in
 * its low ixbits bits and, in the bits left below the sign bit, a tag taken
 * from the key's hash (slot_tag).  A probe passes a used slot whose tag
 * differs without reading its entry: in a big table that entry is a cache
 * miss of its own, paid on every collision (CPython pays it).
 *
 * Exact ints: an int whose hash is its own value (every int but -1 and
 * those of 2^61 - 1 or more in magnitude) equals another such int exactly
 * when their hashes are equal.  A dict whose keys are all of that kind
 * (other_keys clear) answers a lookup of any int by the hash in the entry,
 * taking the int's value for its hash, without reading the key: in a big
 * table the key is a third read from memory after the index slot and the
 * entry (docs/types.md, "Memory streams").  rc_dict_get and rc_dict_set
 * take such ints in leaves that make no calls. */
#include "types.h"

#define IX_EMPTY (-1)
#define IX_DUMMY (-2)
#define LOG2_MINSIZE 3

#define DICT(o) ((rc_dict_obj *)(o))
#define CHECK_DICT(o, ret) do { if (!rc__is((o), &rc__dict_type)) return (rc__bad_type((o), "dict"), (ret)); } while (0)

static size_t usable_for(unsigned log2size) { return ((size_t)2 << log2size) / 3; }
/* Bits that name every entry number below usable_for(log2size). */
static unsigned ixbits_for(unsigned log2size)
{
    unsigned b = 0;
    while (((size_t)1 << b) < usable_for(log2size)) b++;
    return b;
}
static unsigned ixw_for(unsigned log2size)
{
    return log2size <= 7 ? 1 : log2size <= 15 ? 2 : log2size <= 31 ? 4 : 8;
}
static size_t table_bytes(unsigned log2size)
{
    return rc__dict_index_bytes(log2size, ixw_for(log2size)) + usable_for(log2size) * sizeof(rc_dentry);
}

/* Index slots are read and written with the width as a constant: the
 * probe loops below are instantiated once per width (probe dispatches),
 * so the inner loop has no switch. */
RC_INLINE int64_t ix_load(const char *table, unsigned w, size_t i)
{
    switch (w) {
    case 1: return ((const int8_t *)(const void *)table)[i];
    case 2: return ((const int16_t *)(const void *)table)[i];
    case 4: return ((const int32_t *)(const void *)table)[i];
    default: return ((const int64_t *)(const void *)table)[i];
    }
}

RC_INLINE void ix_store(char *table, unsigned w, size_t i, int64_t v)
{
    switch (w) {
    case 1: ((int8_t *)(void *)table)[i] = (int8_t)v; break;
    case 2: ((int16_t *)(void *)table)[i] = (int16_t)v; break;
    case 4: ((int32_t *)(void *)table)[i] = (int32_t)v; break;
    default: ((int64_t *)(void *)table)[i] = v; break;
    }
}

static void ix_set(rc_dict_obj *d, size_t i, int64_t v)
{
    ix_store(d->table, d->ixw, i, v);
}

/* The tag of hash, placed above the entry number: the top bits of a
 * multiplicative mix (the low bits pick the slot, and small ints hash to
 * themselves), as many as fit between ixbits and the sign bit -- none in
 * the fullest tables of each width, 10 in a 10^6-entry table.  The mix is
 * shifted so that its top bit lands below the sign bit, then masked to the
 * bits above the entry number: with the width a constant (the probe
 * loops), one constant shift and one mask. */
RC_INLINE uint64_t slot_tag(int64_t hash, unsigned w, unsigned ixbits)
{
    uint64_t below_sign = ((uint64_t)1 << (8 * w - 1)) - 1, ixmask = ((uint64_t)1 << ixbits) - 1;
    return ((uint64_t)hash * 0x9E3779B97F4A7C15ull) >> (65 - 8 * w) & (below_sign ^ ixmask);
}

RC_INLINE void ix_name_w(rc_dict_obj *d, unsigned w, size_t i, int64_t hash, size_t ix)
{
    ix_store(d->table, w, i, (int64_t)(slot_tag(hash, w, d->ixbits) | ix));
}

/* Index slot i names entry ix of a key with this hash. */
RC_INLINE void ix_name(rc_dict_obj *d, size_t i, int64_t hash, size_t ix)
{
    switch (d->ixw) {
    case 1: ix_name_w(d, 1, i, hash, ix); break;
    case 2: ix_name_w(d, 2, i, hash, ix); break;
    case 4: ix_name_w(d, 4, i, hash, ix); break;
    default: ix_name_w(d, 8, i, hash, ix); break;
    }
}

#define PROBE_NEXT(i, perturb, mask) ((perturb) >>= 5, (i) = ((i) * 5 + (perturb) + 1) & (mask))

RC_INLINE size_t free_slot_w(const rc_dict_obj *d, unsigned w, int64_t hash)
{
    size_t mask = ((size_t)1 << d->log2size) - 1, i = (size_t)hash & mask;
    uint64_t perturb = (uint64_t)hash;
    while (ix_load(d->table, w, i) >= 0) PROBE_NEXT(i, perturb, mask);
    return i;
}

/* The first free index slot (empty or deleted) on hash's probe sequence. */
static size_t find_free_slot(const rc_dict_obj *d, int64_t hash)
{
    switch (d->ixw) {
    case 1: return free_slot_w(d, 1, hash);
    case 2: return free_slot_w(d, 2, hash);
    case 4: return free_slot_w(d, 4, hash);
    default: return free_slot_w(d, 8, hash);
    }
}

/* 1/0/<0: does the stored key equal the one probed for (their hashes are
 * equal)?  Inlined into the probe loops with a constant function.  A
 * match function may also answer NEEDS_EQUAL (match_quick), which ends the
 * probe with that answer. */
typedef int (*match_fn)(const void *key, const void *ctx);
enum { NEEDS_EQUAL = 2 };

RC_INLINE int probe_w(const rc_dict_obj *d, unsigned w, int64_t hash, match_fn match, const void *ctx, size_t *slot,
                      size_t *entry)
{
    const rc_dentry *ents = rc__dict_entries(d);
    size_t mask = ((size_t)1 << d->log2size) - 1, i = (size_t)hash & mask;
    uint64_t perturb = (uint64_t)hash, tag = slot_tag(hash, w, d->ixbits);
    uint64_t ixmask = ((uint64_t)1 << d->ixbits) - 1;
    for (;; PROBE_NEXT(i, perturb, mask)) {
        int64_t v = ix_load(d->table, w, i);
        if (v == IX_EMPTY) {
            *slot = i;
            return 0;
        }
        /* Equal tags leave the entry number; a deleted slot (negative)
         * or another tag leaves bits above ixmask. */
        uint64_t ix = (uint64_t)v ^ tag;
        if (ix > ixmask || ents[ix].hash != hash) continue;
        int m = match(ents[ix].key, ctx);
        if (RC_UNLIKELY(m == 0)) continue;
        if (RC_UNLIKELY(m < 0 || m == NEEDS_EQUAL)) return m;
        *slot = i;
        *entry = (size_t)ix;
        return 1;
    }
}

/* 1 with the slot and entry of the matching key; 0 when absent, with *slot
 * the empty slot that ended the search (SIZE_MAX without a table); <0 error
 * (or NEEDS_EQUAL from match_quick). */
RC_INLINE int probe(const rc_dict_obj *d, int64_t hash, match_fn match, const void *ctx, size_t *slot, size_t *entry)
{
    *slot = SIZE_MAX;
    if (!d->table) return 0;
    switch (d->ixw) {
    case 1: return probe_w(d, 1, hash, match, ctx, slot, entry);
    case 2: return probe_w(d, 2, hash, match, ctx, slot, entry);
    case 4: return probe_w(d, 4, hash, match, ctx, slot, entry);
    default: return probe_w(d, 8, hash, match, ctx, slot, entry);
    }
}

/* The keys compared without a call -- the same object, two ints, two
 * strs -- so the probe loops of the hot paths stay leaves; other pairs
 * are NEEDS_EQUAL, and the caller probes again with match_obj out of line. */
RC_INLINE int match_quick(const void *key, const void *ctx)
{
    if (key == ctx) return 1;
    const rc_type *t = rc__tp(key);
    if (RC_LIKELY(t == rc__tp(ctx))) {
        if (t == &rc__int_type.bt.type) return ((const rc_int_obj *)key)->v == ((const rc_int_obj *)ctx)->v;
        if (t == &rc__str_type.bt.type) {
            const rc_str_obj *a = key, *b = ctx;
            return a->len == b->len && rc__same_bytes(a->data, b->data, a->len);
        }
    }
    return NEEDS_EQUAL;
}

RC_INLINE int match_obj(const void *key, const void *ctx)
{
    int m = match_quick(key, ctx);
    return m == NEEDS_EQUAL ? rc__equal(key, ctx, 0) : m;
}

typedef struct { const char *p; size_t n; } cstr;
static int match_cstr(const void *key, const void *ctx)
{
    const cstr *c = ctx;
    if (!rc__is(key, &rc__str_type)) return 0;
    const rc_str_obj *s = key;
    return s->len == c->n && rc__same_bytes(s->data, c->p, c->n);
}

/* rc__hash_int(v) == v: |v| < 2^61 - 1 and v != -1. */
RC_INLINE bool hashes_to_self(int64_t v)
{
    const uint64_t top = ((uint64_t)1 << 61) - 2;
    return (uint64_t)v + top <= 2 * top && v != -1;
}

RC_INLINE bool is_exact_int(const void *key, int64_t hash)
{
    return rc__tp(key) == &rc__int_type.bt.type && ((const rc_int_obj *)key)->v == hash;
}

/* Equal hashes are equal keys (the probe loop has compared them). */
RC_INLINE int match_hash(const void *key, const void *ctx)
{
    (void)key, (void)ctx;
    return 1;
}

/* The probe of an exact int key in a dict whose keys are all exact ints. */
RC_INLINE bool by_hash_alone(const rc_dict_obj *d, const void *key, int64_t hash)
{
    return !d->other_keys && is_exact_int(key, hash);
}

int rc__dict_lookup(const rc_dict_obj *d, const void *key, int64_t hash, size_t *entry)
{
    size_t slot;
    if (by_hash_alone(d, key, hash)) return probe(d, hash, match_hash, NULL, &slot, entry);
    return probe(d, hash, match_obj, key, &slot, entry);
}

static int match_int64(const void *key, const void *ctx)
{
    return rc__is(key, &rc__int_type) && ((const rc_int_obj *)key)->v == *(const int64_t *)ctx;
}

int rc__dict_lookup_int(const rc_dict_obj *d, int64_t v, int64_t hash, size_t *entry)
{
    size_t slot;
    return probe(d, hash, match_int64, &v, &slot, entry);
}

int rc__dict_lookup_cstr(const rc_dict_obj *d, const char *s, size_t n, int64_t hash, size_t *entry)
{
    size_t slot;
    cstr c = {s, n};
    return probe(d, hash, match_cstr, &c, &slot, entry);
}

RC_INLINE void index_entries_w(rc_dict_obj *d, unsigned w)
{
    const rc_dentry *ents = rc__dict_entries(d);
    for (size_t i = 0; i < d->nentries; i++) {
        int64_t hash = ents[i].hash;
        ix_name_w(d, w, free_slot_w(d, w, hash), hash, i);
    }
}

/* Fills the (all empty) index of a rebuilt table from its entries' stored
 * hashes: no key is hashed again. */
static void index_entries(rc_dict_obj *d)
{
    switch (d->ixw) {
    case 1: index_entries_w(d, 1); break;
    case 2: index_entries_w(d, 2); break;
    case 4: index_entries_w(d, 4); break;
    default: index_entries_w(d, 8); break;
    }
}

/* An empty dict laid out for 1 << log2 slots, its table not yet made. */
static rc_dict_obj layout(unsigned log2)
{
    return (rc_dict_obj){.log2size = (uint8_t)log2, .ixw = (uint8_t)ixw_for(log2), .ixbits = (uint8_t)ixbits_for(log2),
                         .ents_shift = (uint8_t)__builtin_ctzll(rc__dict_index_bytes(log2, ixw_for(log2)))};
}

/* Fills the index of nd, whose first nd->nentries entries are in place. */
static void reindex(rc_dict_obj *nd)
{
    memset(nd->table, 0xFF, ((size_t)1 << nd->log2size) * nd->ixw);   /* every slot IX_EMPTY */
    index_entries(nd);
    nd->used = nd->nentries;
}

/* A table without deleted entries grows where it is: rc_realloc keeps its
 * pages (a big table's move by mremap), so a dict built up touches fresh
 * memory only for what each growth adds, not for a whole new table; the
 * entries move up past the bigger index. */
static int grow_in_place(rc_dict_obj *d, rc_heap *h, rc_dict_obj nd)
{
    char *table = rc_realloc(h, d->table, table_bytes(nd.log2size));
    if (!table) return rc__error(h, RC_ENOMEM, "out of memory growing a dict to %zu entries", usable_for(nd.log2size));
    nd.table = table;
    nd.nentries = d->nentries;
    memmove(rc__dict_entries(&nd), table + ((size_t)1 << d->ents_shift), d->nentries * sizeof(rc_dentry));
    reindex(&nd);
    *d = nd;
    return 0;
}

/* Rebuilds the table with room for `need` entries, dropping deleted ones;
 * never smaller than 1 << min_log2 slots. */
static int resize_min(rc_dict_obj *d, rc_heap *h, size_t need, unsigned min_log2)
{
    unsigned log2 = min_log2;
    while (usable_for(log2) < need) log2++;
    rc_dict_obj nd = layout(log2);
    nd.other_keys = d->other_keys;
    if (d->table && d->used == d->nentries && log2 > d->log2size) return grow_in_place(d, h, nd);
    if (!(nd.table = rc_alloc(h, table_bytes(log2))))
        return rc__error(h, RC_ENOMEM, "out of memory growing a dict to %zu entries", need);
    rc_dentry *dst = rc__dict_entries(&nd);
    if (d->table) {
        const rc_dentry *src = rc__dict_entries(d);
        for (size_t i = 0; i < d->nentries; i++)
            if (src[i].key) dst[nd.nentries++] = src[i];
        rc_free(h, d->table);
    }
    reindex(&nd);
    *d = nd;
    return 0;
}

static int resize(rc_dict_obj *d, rc_heap *h, size_t need)
{
    return resize_min(d, h, need, LOG2_MINSIZE);
}

/* An empty dict gets a table just big enough for n entries (down to 2
 * slots), for dicts whose keys are known in advance: a record's attribute
 * dict starts with room for its declared fields, as CPython sizes a class's
 * shared-key instance dicts. */
int rc__dict_presize(rc_dict_obj *d, rc_heap *h, size_t n)
{
    if (d->table || n == 0) return 0;
    return resize_min(d, h, n, 1);
}

/* CPython's _PyObject_GC_MAY_BE_TRACKED: an object that can take part in a
 * cycle -- one of a tracked type, except a tuple the collector untracked. */
static bool may_be_tracked(const void *o)
{
    const rc_head *hd = rc__head(o);
    if (!rc__type_tracked(rc__type(hd))) return false;
    return rc__type(hd) != &rc__tuple_type.bt.type || rc__is_tracked(hd);
}

/* CPython's MAINTAIN_TRACKING: a dict starts untracked and is tracked from
 * the first key or value that could make it part of a cycle, so dicts of
 * atoms (ints, strs, tuples of atoms) cost the collector nothing. */
static void maintain_tracking(rc_dict_obj *d, const void *key, const void *value)
{
    if (rc__is_tracked(rc__head(d))) return;
    if (may_be_tracked(key) || (value && may_be_tracked(value))) rc_gc_track(d);
}

void *rc__dict_alloc(rc_heap *h, const rc_type *t)
{
    void *d = rc_new(h, t);
    if (d && t == &rc__dict_type.bt.type) rc_gc_untrack(d);
    return d;
}

/* A new entry for key in the empty index slot `slot`; the table has room.
 * plain (a constant): d is of a plain heap, and so are key and value
 * (rc__incref_plain). */
RC_INLINE void add_entry(rc_dict_obj *d, size_t slot, void *key, int64_t hash, void *value, bool plain)
{
    if (plain) {
        rc__incref_plain(key);
        if (value) rc__incref_plain(value);
    } else {
        rc__incref(key);
        if (value) rc__incref(value);
    }
    if (!d->other_keys && !is_exact_int(key, hash)) d->other_keys = 1;
    rc__dict_entries(d)[d->nentries] = (rc_dentry){hash, key, value};
    ix_name(d, slot, hash, d->nentries);
    d->nentries++;
    d->used++;
}

static RC_NOINLINE int insert_slow(rc_dict_obj *d, void *key, int64_t hash, void *value)
{
    rc_heap *h = rc__heap(d);
    int bad = rc__check_same_heap(h, key);
    if (!bad && value != key) bad = rc__check_same_heap(h, value);
    if (bad) return bad;
    maintain_tracking(d, key, value);
    size_t slot, e = 0;
    int found = probe(d, hash, match_obj, key, &slot, &e);
    if (found < 0) return found;
    if (found) {
        rc_dentry *ent = &rc__dict_entries(d)[e];
        void *old = ent->value;
        if (value) rc__incref(value);
        ent->value = value;
        if (old) rc_decref(old);
        return 0;
    }
    /* Full: rebuild with room for twice the live entries plus one;
     * deletions make the rebuild shrink.  The plus one makes a growing table
     * quadruple (8, 32, 128... slots: it grows at 6, 22, 86 entries where
     * CPython's GROWTH_RATE doubles at 6, 11, 22, 43, 86): half the
     * rebuilds, at most twice CPython's table bytes.  Measured in
     * bench/types' loop, doubling would make 10^6 int-keyed inserts 9.3 ->
     * 13.3 ns each.  Without a rebuild the empty slot that ended the probe
     * takes the new entry. */
    if (!d->table || d->nentries == usable_for(d->log2size)) {
        if (resize(d, rc__heap(d), d->used * 2 + 1) < 0) return RC_ENOMEM;
        slot = find_free_slot(d, hash);
    }
    add_entry(d, slot, key, hash, value, false);
    return 0;
}

/* The common insert, a leaf: a new key whose keys compare inline, of the
 * dict's heap, into a table with room, changing no tracking.  by_hash (a
 * constant): rc_dict_set admitted an exact int key into a plain heap's
 * dict of exact ints -- never tracked, probed by hash alone.  1 done, 0
 * not done (insert_slow does it all). */
RC_INLINE int insert_quick(rc_dict_obj *d, void *key, int64_t hash, void *value, bool by_hash)
{
    if (!d->table || d->nentries == usable_for(d->log2size)) return 0;
    if (!rc__same_heap_pooled(d, key) || (value && value != key && !rc__same_heap_pooled(d, value))) return 0;
    if (!rc__is_tracked(rc__head(d))
        && ((!by_hash && may_be_tracked(key)) || (value && value != key && may_be_tracked(value))))
        return 0;
    size_t slot, e;
    int found = by_hash ? probe(d, hash, match_hash, NULL, &slot, &e) : probe(d, hash, match_quick, key, &slot, &e);
    if (found != 0) return 0;
    add_entry(d, slot, key, hash, value, by_hash);
    return 1;
}

RC_INLINE int insert(rc_dict_obj *d, void *key, int64_t hash, void *value)
{
    if (RC_LIKELY(insert_quick(d, key, hash, value, false))) return 0;
    return insert_slow(d, key, hash, value);
}

int rc__dict_insert(rc_dict_obj *d, void *key, int64_t hash, void *value)
{
    return insert(d, key, hash, value);
}

int rc__dict_remove(rc_dict_obj *d, const void *key, int64_t hash)
{
    size_t slot, e = 0;
    int found = probe(d, hash, match_obj, key, &slot, &e);
    if (found <= 0) return found;
    rc_dentry *ent = &rc__dict_entries(d)[e];
    void *k = ent->key, *v = ent->value;
    ent->key = ent->value = NULL;
    ix_set(d, slot, IX_DUMMY);
    d->used--;
    rc_decref(k);
    if (v) rc_decref(v);
    return 1;
}

/* Detaches the table before dropping references: a finalizer run by a
 * decref may look at the dict again. */
void rc__dict_clear(rc_dict_obj *d, rc_heap *h)
{
    rc_dict_obj old = *d;
    *d = (rc_dict_obj){0};
    if (!old.table) return;
    rc_dentry *ents = rc__dict_entries(&old);
    for (size_t i = 0; i < old.nentries; i++) {
        if (!ents[i].key) continue;
        rc_decref(ents[i].key);
        if (ents[i].value) rc_decref(ents[i].value);
    }
    rc_free(h, old.table);
}

int rc__dict_copy_into(rc_dict_obj *dst, rc_heap *h, const rc_dict_obj *src)
{
    if (!src->used) return 0;
    if (resize(dst, h, src->used) < 0) return RC_ENOMEM;
    const rc_dentry *ents = rc__dict_entries(src);
    for (size_t i = 0; i < src->nentries; i++) {
        if (!ents[i].key) continue;
        int rc = rc__dict_insert(dst, ents[i].key, ents[i].hash, ents[i].value);
        if (rc < 0) return rc;
    }
    return 0;
}

int rc__dict_traverse(void *self, rc_visit visit, void *arg)
{
    rc_dict_obj *d = self;
    if (!d->table) return 0;
    rc_dentry *ents = rc__dict_entries(d);
    for (size_t i = 0; i < d->nentries; i++) {
        int rc = 0;
        if (ents[i].key) rc = visit(ents[i].key, arg);
        if (!rc && ents[i].value) rc = visit(ents[i].value, arg);
        if (rc) return rc;
    }
    return 0;
}

size_t rc__dict_owned(const void *self)
{
    const rc_dict_obj *d = self;
    return d->table ? table_bytes(d->log2size) : 0;
}

/* ---- public API ------------------------------------------------------------- */

void *rc_dict_new(rc_heap *h)
{
    return rc__dict_alloc(h, &rc__dict_type.bt.type);
}

/* dict is a plain heap's dict with a table, all of whose keys are exact
 * ints, and key is an int (its value in *v): rc_dict_get and rc_dict_set
 * probe it by hash alone in a leaf that makes no calls.  Each entry's
 * hash is then its key's value, so a probe for hash *v finds the key equal
 * to key, if there is one, whatever int key is; an insert also needs key
 * exact (hashes_to_self), for its entry's hash. */
RC_INLINE bool int_key_of_exact_dict(const void *dict, const void *key, int64_t *v)
{
    if (!key) return false;
    rc__check_arg(key);
    if (rc__tp(key) != &rc__int_type.bt.type) return false;   /* first: other keys leave at once */
    *v = ((const rc_int_obj *)key)->v;
    return rc__is_plain(dict, &rc__dict_type) && DICT(dict)->table && !DICT(dict)->other_keys;
}

static RC_NOINLINE int set_any(void *dict, void *key, void *value);
RC_LOCKED_VARIANT(int, rc_dict_set, (void *dict, void *key, void *value), dict, (dict, key, value))
/* A new exact int key of a dict of exact ints (int_key_of_exact_dict)
 * takes the leaf; the rest goes to set_any. */
int rc_dict_set(void *dict, void *key, void *value)
{
    int64_t hash;
    if (RC_LIKELY(int_key_of_exact_dict(dict, key, &hash) && hashes_to_self(hash) && value
                  && insert_quick(dict, key, hash, value, true)))
        return 0;
    return set_any(dict, key, value);
}

static RC_NOINLINE int set_any(void *dict, void *key, void *value)
{
    CHECK_DICT(dict, RC_ETYPE);
    RC_SHARED_CALL(dict, rc_dict_set_locked(dict, key, value));
    if (!key || !value) return rc__err(dict, RC_EINVAL, "NULL %s", key ? "value" : "key");
    int64_t hash;
    int rc = rc__hash_fast(key, &hash);
    if (rc < 0) return rc;
    return insert(dict, key, hash, value);   /* inlined: the hot insert */
}

static RC_NOINLINE void *get_slow(const rc_dict_obj *d, const void *key)
{
    int64_t hash;
    size_t e;
    if (!key || rc__hash_fast(key, &hash) < 0 || rc__dict_lookup(d, key, hash, &e) != 1) return NULL;
    return rc__dict_entries(d)[e].value;
}

static RC_NOINLINE void *get_any(const void *dict, const void *key);
RC_SECTION_VARIANT(void *, rc_dict_get, (const void *dict, const void *key), dict, (dict, key))
/* An int key of a dict of exact ints (int_key_of_exact_dict) is found by
 * its value in the leaf; the rest goes to get_any. */
void *rc_dict_get(const void *dict, const void *key)
{
    int64_t hash;
    size_t slot, e;
    if (RC_UNLIKELY(!int_key_of_exact_dict(dict, key, &hash))) return get_any(dict, key);
    return probe(dict, hash, match_hash, NULL, &slot, &e) ? rc__dict_entries(dict)[e].value : NULL;
}

/* The common lookup: an int or str key met by keys that compare inline;
 * the rest goes to get_slow. */
static RC_NOINLINE void *get_any(const void *dict, const void *key)
{
    CHECK_DICT(dict, NULL);
    RC_SHARED_CALL(dict, rc_dict_get_locked(dict, key));
    int64_t hash;
    if (!key) return NULL;
    rc__check_arg(key);
    if (!rc__hash_quick(key, &hash)) return get_slow(dict, key);
    size_t slot, e;
    int found = by_hash_alone(dict, key, hash) ? probe(dict, hash, match_hash, NULL, &slot, &e)
                                               : probe(dict, hash, match_quick, key, &slot, &e);
    if (RC_UNLIKELY(found == NEEDS_EQUAL)) return get_slow(dict, key);
    return found == 1 ? rc__dict_entries(dict)[e].value : NULL;
}

RC_SECTION_VARIANT(int, rc_dict_get_ref, (const void *dict, const void *key, void **out), dict, (dict, key, out))
int rc_dict_get_ref(const void *dict, const void *key, void **out)
{
    *out = NULL;
    CHECK_DICT(dict, RC_ETYPE);
    RC_SHARED_CALL(dict, rc_dict_get_ref_locked(dict, key, out));
    if (!key) return rc__err(dict, RC_EINVAL, "NULL key");
    int64_t hash;
    size_t e;
    int rc = rc__hash_fast(key, &hash);
    if (rc < 0) return rc;
    rc = rc__dict_lookup(dict, key, hash, &e);
    if (rc != 1) return rc;
    *out = rc_newref(rc__dict_entries(dict)[e].value);
    return 1;
}

RC_SECTION_VARIANT(int, rc_dict_contains, (const void *dict, const void *key), dict, (dict, key))
int rc_dict_contains(const void *dict, const void *key)
{
    CHECK_DICT(dict, RC_ETYPE);
    RC_SHARED_CALL(dict, rc_dict_contains_locked(dict, key));
    int64_t hash;
    size_t e;
    if (!key) return rc__err(dict, RC_EINVAL, "NULL key");
    int rc = rc_hash(key, &hash);
    return rc < 0 ? rc : rc__dict_lookup(dict, key, hash, &e);
}

RC_LOCKED_VARIANT(int, rc_dict_del, (void *dict, const void *key), dict, (dict, key))
int rc_dict_del(void *dict, const void *key)
{
    CHECK_DICT(dict, RC_ETYPE);
    RC_SHARED_CALL(dict, rc_dict_del_locked(dict, key));
    int64_t hash;
    if (!key) return rc__err(dict, RC_EINVAL, "NULL key");
    int rc = rc_hash(key, &hash);
    if (rc < 0) return rc;
    rc = rc__dict_remove(dict, key, hash);
    if (rc == 0) {
        char text[80];
        rc_repr_buf(key, text, sizeof text);
        return rc__err(dict, RC_ENOENT, "KeyError: %s", text);
    }
    return rc < 0 ? rc : 0;
}

RC_LOCKED_VARIANT(void *, rc_dict_pop, (void *dict, const void *key), dict, (dict, key))
void *rc_dict_pop(void *dict, const void *key)
{
    CHECK_DICT(dict, NULL);
    RC_SHARED_CALL(dict, rc_dict_pop_locked(dict, key));
    int64_t hash;
    size_t e;
    if (!key) return rc__err(dict, RC_EINVAL, "NULL key"), NULL;
    if (rc__hash_fast(key, &hash) < 0) return NULL;
    int found = rc__dict_lookup(dict, key, hash, &e);
    if (found != 1) {
        if (found == 0) rc_dict_del(dict, key);   /* records the KeyError */
        return NULL;
    }
    void *value = rc_newref(rc__dict_entries(dict)[e].value);
    rc__dict_remove(dict, key, hash);
    return value;
}

RC_SECTION_VARIANT(size_t, rc_dict_len, (const void *dict), dict, (dict))
size_t rc_dict_len(const void *dict)
{
    CHECK_DICT(dict, 0);
    RC_SHARED_CALL(dict, rc_dict_len_locked(dict));
    return DICT(dict)->used;
}

RC_LOCKED_VARIANT(int, rc_dict_clear, (void *dict), dict, (dict))
int rc_dict_clear(void *dict)
{
    CHECK_DICT(dict, RC_ETYPE);
    RC_SHARED_CALL(dict, rc_dict_clear_locked(dict));
    rc__dict_clear(dict, rc__heap(dict));
    return 0;
}

const rc_dentry *rc__dict_next_entry(const rc_dict_obj *d, size_t *pos)
{
    const rc_dentry *ents = d->table ? rc__dict_entries(d) : NULL;
    for (size_t i = *pos; ents && i < d->nentries; i++) {
        if (!ents[i].key) continue;
        *pos = i + 1;
        return &ents[i];
    }
    *pos = d->nentries;
    return NULL;
}

RC_LOCKED_VARIANT(bool, rc_dict_next, (const void *dict, size_t *pos, void **key, void **value), dict, (dict, pos, key, value))
bool rc_dict_next(const void *dict, size_t *pos, void **key, void **value)
{
    CHECK_DICT(dict, false);
    RC_SHARED_CALL(dict, rc_dict_next_locked(dict, pos, key, value));
    const rc_dentry *e = rc__dict_next_entry(dict, pos);
    if (!e) return false;
    if (key) *key = e->key;
    if (value) *value = e->value;
    return true;
}

enum { KEYS, VALUES, ITEMS };
static void *to_list(const void *dict, int what);
RC_LOCKED_VARIANT(void *, to_list, (const void *dict, int what), dict, (dict, what))
static void *to_list(const void *dict, int what)
{
    CHECK_DICT(dict, NULL);
    RC_SHARED_CALL(dict, to_list_locked(dict, what));
    rc_heap *h = rc__heap(dict);
    void *list = rc_list_new(h, DICT(dict)->used), *k, *v;
    size_t pos = 0;
    while (list && rc_dict_next(dict, &pos, &k, &v)) {
        void *item = what == KEYS ? rc_newref(k) : what == VALUES ? rc_newref(v) : rc_tuple_pack(h, 2, k, v);
        if (!item || rc_list_append(list, item) < 0) RC_CLEAR(list);
        if (item) rc_decref(item);
    }
    return list;
}

void *rc_dict_keys(const void *dict) { return to_list(dict, KEYS); }
void *rc_dict_values(const void *dict) { return to_list(dict, VALUES); }
void *rc_dict_items(const void *dict) { return to_list(dict, ITEMS); }

RC_LOCKED_VARIANT(int, rc_dict_set_str, (void *dict, const char *key, void *value), dict, (dict, key, value))
int rc_dict_set_str(void *dict, const char *key, void *value)
{
    CHECK_DICT(dict, RC_ETYPE);
    RC_SHARED_CALL(dict, rc_dict_set_str_locked(dict, key, value));
    if (!key) return rc__err(dict, RC_EINVAL, "NULL key");
    void *k = rc_str_new(rc__heap(dict), key);
    if (!k) return rc_last_error_code(rc__heap(dict));
    int rc = rc_dict_set(dict, k, value);
    rc_decref(k);
    return rc;
}

RC_SECTION_VARIANT(void *, rc_dict_get_str, (const void *dict, const char *key), dict, (dict, key))
void *rc_dict_get_str(const void *dict, const char *key)
{
    CHECK_DICT(dict, NULL);
    RC_SHARED_CALL(dict, rc_dict_get_str_locked(dict, key));
    if (!key) return NULL;
    size_t n = strlen(key), e;
    if (rc__dict_lookup_cstr(dict, key, n, rc__hash_bytes(key, n), &e) != 1) return NULL;
    return rc__dict_entries(dict)[e].value;
}

RC_LOCKED_VARIANT(void *, rc_dict_iter_items, (void *dict), dict, (dict))
void *rc_dict_iter_items(void *dict)
{
    CHECK_DICT(dict, NULL);
    RC_SHARED_CALL(dict, rc_dict_iter_items_locked(dict));
    return rc__iter_new(dict, RC__IT_DICT_ITEMS);
}

RC_LOCKED_VARIANT(void *, rc_dict_iter_values, (void *dict), dict, (dict))
void *rc_dict_iter_values(void *dict)
{
    CHECK_DICT(dict, NULL);
    RC_SHARED_CALL(dict, rc_dict_iter_values_locked(dict));
    return rc__iter_new(dict, RC__IT_DICT_VALUES);
}

/* ---- value operations ------------------------------------------------------ */

static int dict_repr(const void *self, rc_strbuf *sb, int depth)
{
    rc_heap *h = rc__heap(self);
    int inside = rc__repr_enter(h, self);
    if (inside < 0) return sb->err = inside;
    if (inside) {
        rc__sb_puts(sb, "{...}");
        return sb->err;
    }
    rc__sb_puts(sb, "{");
    size_t pos = 0;
    void *k, *v;
    for (bool first = true; !sb->err && rc_dict_next(self, &pos, &k, &v); first = false) {
        if (!first) rc__sb_puts(sb, ", ");
        if (rc__repr(k, sb, depth) < 0) break;
        rc__sb_puts(sb, ": ");
        rc__repr(v, sb, depth);
    }
    rc__repr_leave(h, self);
    rc__sb_puts(sb, "}");
    return sb->err;
}

static int dict_equal(const void *a, const void *b, int depth)
{
    const rc_dict_obj *x = a, *y = b;
    if (x->used != y->used) return 0;
    if (!x->used) return 1;
    const rc_dentry *ents = rc__dict_entries(x);
    for (size_t i = 0; i < x->nentries; i++) {
        size_t e;
        if (!ents[i].key) continue;
        int found = rc__dict_lookup(y, ents[i].key, ents[i].hash, &e);
        if (found != 1) return found;
        int eq = rc__equal(ents[i].value, rc__dict_entries(y)[e].value, depth);
        if (eq != 1) return eq;
    }
    return 1;
}

void *rc__dict_copy(void *self)
{
    rc_heap *h = rc__heap(self);
    rc_dict_obj *c = rc__dict_alloc(h, rc__tp(self));
    if (c && rc__dict_copy_into(c, h, self) < 0) RC_CLEAR(c);
    return c;
}

/* Shared by dict and set: keys and values copied deeply, in order. */
void *rc__dict_deepcopy(void *self, rc__memo *memo)
{
    rc_dict_obj *d = self, *c = rc__dict_alloc(memo->h, rc__tp(self));
    if (!c || rc__memo_put(memo, self, c) < 0) goto fail;
    for (size_t i = 0; d->table && i < d->nentries; i++) {
        rc_dentry ent = rc__dict_entries(d)[i];
        if (!ent.key) continue;
        void *k = rc__deepcopy(ent.key, memo);
        void *v = ent.value && k ? rc__deepcopy(ent.value, memo) : NULL;
        int rc = k && (v || !ent.value) ? rc__dict_insert(c, k, ent.hash, v) : RC_ENOMEM;
        if (k) rc_decref(k);
        if (v) rc_decref(v);
        if (rc < 0) goto fail;
    }
    return c;
fail:
    if (c) rc_decref(c);
    return NULL;
}

void rc__dict_tp_clear(void *self)
{
    rc__dict_clear(self, rc__heap(self));
}

static int dict_truth(const void *self)
{
    return DICT(self)->used != 0;
}

static void *dict_iter(void *self)
{
    return rc__iter_new(self, RC__IT_DICT_KEYS);
}

const rc__vtype rc__dict_type = {
    .bt.type = {.name = "dict", .size = sizeof(rc_dict_obj), .traverse = rc__dict_traverse,
                .clear = rc__dict_tp_clear, .owned = rc__dict_owned, .flags = RC__TYPE_VALUE | RC_TYPE_NO_WEAKREF},
    .repr = dict_repr,
    .equal = dict_equal,
    .copy = rc__dict_copy,
    .deepcopy = rc__dict_deepcopy,
    .iter = dict_iter,
    .truth = dict_truth,
};
