/* A small open-addressing hash map from addresses to pointers: the
 * allocator's "is this address in one of my arenas" and "is this a large
 * object of mine" questions.  Linear probing; deletion shifts the following
 * run back so no tombstones accumulate. */
#include "alloc_impl.h"

#include <stdlib.h>

static size_t slot_of(const rc_amap *m, uintptr_t key)
{
    uint64_t x = (uint64_t)key;
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 32;
    return (size_t)x & (m->cap - 1);
}

static int grow(rc_amap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    uintptr_t *keys = calloc(cap, sizeof *keys);
    void **vals = calloc(cap, sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return RC_ENOMEM;
    }
    rc_amap old = *m;
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    m->len = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.keys[i])
            rc__amap_put(m, old.keys[i], old.vals[i]);
    free(old.keys);
    free(old.vals);
    return 0;
}

int rc__amap_put(rc_amap *m, uintptr_t key, void *val)
{
    if ((m->len + 1) * 2 > m->cap && grow(m) < 0)
        return RC_ENOMEM;
    size_t i = slot_of(m, key);
    while (m->keys[i] && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    if (!m->keys[i])
        m->len++;
    m->keys[i] = key;
    m->vals[i] = val;
    return 0;
}

void *rc__amap_get(const rc_amap *m, uintptr_t key)
{
    if (!m->cap)
        return NULL;
    for (size_t i = slot_of(m, key);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == key)
            return m->vals[i];
        if (!m->keys[i])
            return NULL;
    }
}

void rc__amap_del(rc_amap *m, uintptr_t key)
{
    if (!m->cap)
        return;
    size_t mask = m->cap - 1, i = slot_of(m, key);
    while (m->keys[i] != key) {
        if (!m->keys[i])
            return;
        i = (i + 1) & mask;
    }
    /* Shift back every later entry of the run whose home slot is not
     * between the hole and its current slot. */
    for (size_t j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
        size_t home = slot_of(m, m->keys[j]);
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        m->keys[i] = m->keys[j];
        m->vals[i] = m->vals[j];
        i = j;
    }
    m->keys[i] = 0;
    m->vals[i] = NULL;
    m->len--;
}

void rc__amap_free(rc_amap *m)
{
    free(m->keys);
    free(m->vals);
    *m = (rc_amap){0};
}
