/* Interned tracebacks: each distinct (site, frames) sequence is stored once
 * and named by a small number, so a live block costs one 20-bit index
 * instead of its frames.  Tracebacks are never freed before the tracer's
 * state is cleared: programs have few distinct allocation paths. */
#include "trace_int.h"

#include <string.h>

/* header word of a stored traceback: hash << 32 | site << 16 | nframes */
#define HDR(hash, site, n) (((uintptr_t)(hash) << 32) | ((uintptr_t)(site) << 16) | (uintptr_t)(n))

void rc__tbs_init(rc__tbs *s, rc__tmem *mem)
{
    memset(s, 0, sizeof *s);
    s->mem = mem;
}

void rc__tbs_destroy(rc__tbs *s)
{
    if (s->imask)
        rc__tmem_put(s->mem, s->index, (s->imask + 1) * sizeof *s->index);
    rc__tmem_put(s->mem, s->off, s->offcap * sizeof *s->off);
    rc__tmem_put(s->mem, s->words, s->wordcap * sizeof *s->words);
    rc__tbs_init(s, s->mem);
}

static uint32_t hash_frames(bool site, const uintptr_t *f, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (site ? 0x5bd1e995u : 0) ^ n;
    for (size_t i = 0; i < n; i++)   /* rotate-xor: one cycle a frame, no multiply chain */
        h = ((h << 13) | (h >> 51)) ^ f[i];
    h ^= h >> 29;           /* then one strong mix: the low bits index the table */
    h *= 0xc4ceb9fe1a85ec53ull;
    return (uint32_t)(h ^ (h >> 32));
}

static bool same(const rc__tbs *s, uint32_t num, uint32_t hash, bool site, const uintptr_t *f, size_t n)
{
    const uintptr_t *w = s->words + s->off[num];
    return w[0] == HDR(hash, site, n) && memcmp(w + 1, f, n * sizeof *f) == 0;
}

static bool grow_index(rc__tbs *s)
{
    size_t cap = s->imask ? (s->imask + 1) * 2 : 1024;
    uint32_t *idx = rc__tmem_get(s->mem, cap * sizeof *idx);
    if (!idx)
        return false;
    for (uint32_t num = 0; num < s->n; num++) {
        uint32_t h = (uint32_t)(s->words[s->off[num]] >> 32);
        size_t i = h & (cap - 1);
        while (idx[i])
            i = (i + 1) & (cap - 1);
        idx[i] = num + 1;
    }
    if (s->imask)
        rc__tmem_put(s->mem, s->index, (s->imask + 1) * sizeof *s->index);
    s->index = idx;
    s->imask = cap - 1;
    return true;
}

/* Grows an array held in tracer pages to hold at least need elements. */
uint32_t rc__tbs_intern(rc__tbs *s, bool site, const uintptr_t *f, size_t n)
{
    if (n > RC__MAXFRAMES)
        n = RC__MAXFRAMES;
    uint32_t hash = hash_frames(site, f, n);
    if (s->imask) {
        for (size_t i = hash & s->imask; s->index[i]; i = (i + 1) & s->imask)
            if (same(s, s->index[i] - 1, hash, site, f, n))
                return s->index[i] - 1;
    }
    if (s->n >= RC__TB_MAX)
        return RC__TB_MAX + 1;
    if ((s->n + 1) * 2 > s->imask + 1 && !grow_index(s))
        return RC__TB_MAX + 1;
    void *off = s->off, *words = s->words;
    if (!rc__tmem_reserve(s->mem, &off, &s->offcap, s->n + 1, sizeof *s->off))
        return RC__TB_MAX + 1;
    s->off = off;
    if (!rc__tmem_reserve(s->mem, &words, &s->wordcap, s->nwords + n + 1, sizeof *s->words))
        return RC__TB_MAX + 1;
    s->words = words;
    uint32_t num = (uint32_t)s->n++;
    s->off[num] = (uint32_t)s->nwords;
    s->words[s->nwords++] = HDR(hash, site, n);
    memcpy(s->words + s->nwords, f, n * sizeof *f);
    s->nwords += n;
    size_t i = hash & s->imask;
    while (s->index[i])
        i = (i + 1) & s->imask;
    s->index[i] = num + 1;
    return num;
}

const uintptr_t *rc__tbs_get(const rc__tbs *s, uint32_t i, size_t *n, bool *site)
{
    const uintptr_t *w = s->words + s->off[i];
    *n = (size_t)(w[0] & 0xFFFF);
    *site = (w[0] >> 16) & 1;
    return w + 1;
}

size_t rc__tbs_bytes(const rc__tbs *s)
{
    return (s->imask ? (s->imask + 1) * sizeof *s->index : 0) + s->offcap * sizeof *s->off +
           s->wordcap * sizeof *s->words;
}
