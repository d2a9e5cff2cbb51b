/* set: the dict table (dict.c) with keys only.  Iteration follows insertion
 * order, where CPython's follows its hash table; membership and equality
 * are Python's. */
#include "types.h"

#define SET(o) ((rc_dict_obj *)(o))
#define CHECK_SET(o, ret) do { if (!rc__is((o), &rc__set_type)) return (rc__bad_type((o), "set"), (ret)); } while (0)

void *rc_set_new(rc_heap *h)
{
    return rc_new(h, &rc__set_type.bt.type);
}

RC_LOCKED_VARIANT(int, rc_set_add, (void *set, void *key), set, (set, key))
int rc_set_add(void *set, void *key)
{
    CHECK_SET(set, RC_ETYPE);
    RC_SHARED_CALL(set, rc_set_add_locked(set, key));
    if (!key) return rc__err(set, RC_EINVAL, "NULL key");
    int64_t hash;
    int rc = rc_hash(key, &hash);
    return rc < 0 ? rc : rc__dict_insert(set, key, hash, NULL);
}

RC_LOCKED_VARIANT(int, rc_set_discard, (void *set, const void *key), set, (set, key))
int rc_set_discard(void *set, const void *key)
{
    CHECK_SET(set, RC_ETYPE);
    RC_SHARED_CALL(set, rc_set_discard_locked(set, key));
    if (!key) return rc__err(set, RC_EINVAL, "NULL key");
    int64_t hash;
    int rc = rc_hash(key, &hash);
    if (rc < 0) return rc;
    rc = rc__dict_remove(set, key, hash);
    return rc < 0 ? rc : 0;
}

RC_SECTION_VARIANT(int, rc_set_contains, (const void *set, const void *key), set, (set, key))
int rc_set_contains(const void *set, const void *key)
{
    CHECK_SET(set, RC_ETYPE);
    RC_SHARED_CALL(set, rc_set_contains_locked(set, key));
    if (!key) return rc__err(set, RC_EINVAL, "NULL key");
    int64_t hash;
    size_t e;
    int rc = rc_hash(key, &hash);
    return rc < 0 ? rc : rc__dict_lookup(set, key, hash, &e);
}

RC_SECTION_VARIANT(size_t, rc_set_len, (const void *set), set, (set))
size_t rc_set_len(const void *set)
{
    CHECK_SET(set, 0);
    RC_SHARED_CALL(set, rc_set_len_locked(set));
    return SET(set)->used;
}

RC_LOCKED_VARIANT(bool, rc_set_next, (const void *set, size_t *pos, void **key), set, (set, pos, key))
bool rc_set_next(const void *set, size_t *pos, void **key)
{
    CHECK_SET(set, false);
    RC_SHARED_CALL(set, rc_set_next_locked(set, pos, key));
    const rc_dentry *e = rc__dict_next_entry(set, pos);
    if (e) *key = e->key;
    return e != NULL;
}

static int set_repr(const void *self, rc_strbuf *sb, int depth)
{
    rc_heap *h = rc__heap(self);
    if (!SET(self)->used) {
        rc__sb_puts(sb, "set()");
        return sb->err;
    }
    int inside = rc__repr_enter(h, self);
    if (inside < 0) return sb->err = inside;
    if (inside) {
        rc__sb_puts(sb, "set(...)");
        return sb->err;
    }
    rc__sb_puts(sb, "{");
    size_t pos = 0;
    void *k;
    for (bool first = true; !sb->err && rc_set_next(self, &pos, &k); first = false) {
        if (!first) rc__sb_puts(sb, ", ");
        rc__repr(k, sb, depth);
    }
    rc__repr_leave(h, self);
    rc__sb_puts(sb, "}");
    return sb->err;
}

static int set_equal(const void *a, const void *b, int depth)
{
    (void)depth;
    if (SET(a)->used != SET(b)->used) return 0;
    size_t pos = 0, e;
    void *k;
    while (rc_set_next(a, &pos, &k)) {
        int64_t hash;
        int rc = rc_hash(k, &hash);
        if (rc < 0) return rc;
        int found = rc__dict_lookup(b, k, hash, &e);
        if (found != 1) return found;
    }
    return 1;
}

static int set_truth(const void *self)
{
    return SET(self)->used != 0;
}

static void *set_iter(void *self)
{
    return rc__iter_new(self, RC__IT_SET);
}

const rc__vtype rc__set_type = {
    .bt.type = {.name = "set", .size = sizeof(rc_dict_obj), .traverse = rc__dict_traverse,
                .clear = rc__dict_tp_clear, .owned = rc__dict_owned, .flags = RC__TYPE_VALUE},
    .repr = set_repr,
    .equal = set_equal,
    .copy = rc__dict_copy,
    .deepcopy = rc__dict_deepcopy,
    .iter = set_iter,
    .truth = set_truth,
};
