/* The interned-string table: one str per text, found by content.  Open
 * addressing with linear probing over borrowed references; each slot keeps
 * the str's hash beside the pointer, so a probe touches the str only when
 * the hashes match.  An interned str leaves the table when it dies (CPython
 * 3.12 keeps sys.intern'ed strings mortal the same way), so interning never
 * leaks. */
#include "types.h"

typedef struct rc_intern_slot { int64_t hash; rc_str_obj *str; } slot;

static size_t slot_of(const rc_types_state *s, int64_t hash)
{
    return (size_t)hash & (s->intern_cap - 1);
}

/* The slot of the str with this text, or the empty slot that ended the
 * search -- where it would go.  The table must exist. */
RC_INLINE size_t probe(const rc_types_state *s, const char *p, size_t n, int64_t hash)
{
    const slot *tab = s->intern;
    for (size_t i = slot_of(s, hash);; i = (i + 1) & (s->intern_cap - 1)) {
        const rc_str_obj *e = tab[i].str;
        if (!e || (tab[i].hash == hash && e->len == n && rc__same_bytes(e->data, p, n))) return i;
    }
}

static void place(slot *tab, size_t cap, slot entry)
{
    size_t j = (size_t)entry.hash & (cap - 1);
    while (tab[j].str) j = (j + 1) & (cap - 1);
    tab[j] = entry;
}

static int grow(rc_heap *h, rc_types_state *s)
{
    size_t cap = s->intern_cap ? s->intern_cap * 2 : 256;
    slot *tab = rc_alloc(h, cap * sizeof *tab), *old = s->intern;
    if (!tab) return rc__error(h, RC_ENOMEM, "out of memory growing the interned-string table");
    memset(tab, 0, cap * sizeof *tab);
    for (size_t i = 0; i < s->intern_cap; i++)
        if (old[i].str) place(tab, cap, old[i]);
    rc_free(h, old);
    s->intern = tab;
    s->intern_cap = cap;
    return 0;
}

/* The interned str with str's text: found, or str itself entered in the
 * empty slot the search ended on (the table grows first when that would
 * pass 3/4 full, and the search runs again).  Borrowed; NULL on OOM.
 * The hash is cached in str: rc__intern_remove finds the slot by it. */
static rc_str_obj *intern_find_or_add(rc_heap *h, rc_types_state *s, rc_str_obj *str)
{
    int64_t hash = rc__str_hash(str);
    size_t i = s->intern_cap ? probe(s, str->data, str->len, hash) : 0;
    if (s->intern_cap && s->intern[i].str) return s->intern[i].str;
    if ((s->intern_used + 1) * 4 > s->intern_cap * 3) {
        if (grow(h, s) < 0) return NULL;
        i = probe(s, str->data, str->len, hash);
    }
    s->intern[i] = (slot){hash, str};
    s->intern_used++;
    str->interned = 1;
    return str;
}

/* Backward-shift deletion keeps every probe chain unbroken without tombstones. */
void rc__intern_remove(rc_heap *h, rc_str_obj *str)
{
    rc_types_state *s = h->types;
    if (!s || !s->intern_cap) return;
    slot *tab = s->intern;
    size_t mask = s->intern_cap - 1, i = slot_of(s, str->hash);
    while (tab[i].str != str) {
        if (!tab[i].str) return;
        i = (i + 1) & mask;
    }
    for (size_t j = (i + 1) & mask; tab[j].str; j = (j + 1) & mask) {
        size_t home = slot_of(s, tab[j].hash);
        /* move j back into the hole at i when its home is not in (i, j] */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            tab[i] = tab[j];
            i = j;
        }
    }
    tab[i] = (slot){0, NULL};
    s->intern_used--;
    str->interned = 0;
}

/* The interned str with this text, made if needed; a new reference. */
void *rc__intern_text(rc_heap *h, const char *p, size_t n)
{
    rc_types_state *s = rc__types(h);
    if (!s) return NULL;
    int64_t hash = rc__hash_bytes(p, n);
    if (s->intern_cap) {
        rc_str_obj *e = s->intern[probe(s, p, n, hash)].str;
        if (e) return rc_newref(e);
    }
    rc_str_obj *str = rc__str_make(h, p, n, false);
    if (!str) return NULL;
    str->hash = hash;
    if (!intern_find_or_add(h, s, str)) {
        rc_decref(str);
        return NULL;
    }
    return str;
}

void *rc_str_intern(rc_heap *h, const char *utf8)
{
    if (!utf8) {
        rc__error(h, RC_EINVAL, "rc_str_intern: NULL text");
        return NULL;
    }
    return rc__intern_text(h, utf8, strlen(utf8));
}

void *rc_str_intern_obj(void *o)
{
    if (!rc__is(o, &rc__str_type)) {
        rc__bad_type(o, "str");
        return NULL;
    }
    rc_str_obj *str = o;
    if (!str->interned) {
        rc_heap *h = rc__heap(o);
        rc_types_state *s = rc__types(h);
        if (!s || !(str = intern_find_or_add(h, s, str))) return NULL;
    }
    rc__incref(str);
    return str;
}

bool rc_str_is_interned(const void *o)
{
    return rc__is(o, &rc__str_type) && ((const rc_str_obj *)o)->interned;
}
