/* The tracer's table of live blocks (see trace_int.h for the slot layout)
 * and the page memory its tables live in.
 *
 * Invariant: every non-empty slot is reachable from its home slot by a run
 * of non-empty slots (linear probing), which backward-shift deletion keeps
 * without tombstones; current = sum of the sizes of the traced blocks. */
#include "trace_int.h"

#include <string.h>

#define KEY_ADDR_BITS RC__KEY_ADDR_BITS
#define KEY_ADDR_MASK ((UINT64_C(1) << KEY_ADDR_BITS) - 1)
#define MIN_SLOTS 1024

static size_t page_round(size_t n) { return (n + 4095) & ~(size_t)4095; }

void *rc__tmem_get(rc__tmem *m, size_t size)
{
    size = page_round(size);
    void *p = m->map(size);
    if (p)
        m->bytes += size;
    return p;
}

void rc__tmem_put(rc__tmem *m, void *p, size_t size)
{
    if (!p)
        return;
    size = page_round(size);
    m->unmap(p, size);
    m->bytes -= size;
}

bool rc__tmem_reserve(rc__tmem *mem, void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 4096 / elem;
    while (ncap < need)
        ncap *= 2;
    void *p = rc__tmem_get(mem, ncap * elem);
    if (!p)
        return false;
    if (*cap)
        memcpy(p, *arr, *cap * elem);
    rc__tmem_put(mem, *arr, *cap * elem);
    *arr = p;
    *cap = ncap;
    return true;
}

void rc__table_init(rc__table *t, rc__tmem *mem)
{
    memset(t, 0, sizeof *t);
    t->mem = mem;
}

void rc__table_destroy(rc__table *t)
{
    if (t->mask)
        rc__tmem_put(t->mem, t->slots, (t->mask + 1) * sizeof(rc__slot));
    rc__tmem_put(t->mem, t->big, t->bigcap * sizeof(rc__big));
    rc__table_init(t, t->mem);
}

void rc__table_clear(rc__table *t)
{
    rc__tmem *mem = t->mem;
    rc__table_destroy(t);
    t->mem = mem;
}

static inline size_t home(const rc__table *t, uint64_t a4)
{
    return (size_t)((a4 * UINT64_C(0x9E3779B97F4A7C15)) >> t->shift);
}

static inline uint64_t slot_addr(const rc__slot *s) { return s->key & KEY_ADDR_MASK; }

/* Index of the slot holding a4, or of the empty slot ending its run. */
static size_t probe(const rc__table *t, uint64_t a4)
{
    size_t i = home(t, a4);
    while (t->slots[i].key && slot_addr(&t->slots[i]) != a4)
        i = (i + 1) & t->mask;
    return i;
}

static bool grow(rc__table *t)
{
    size_t oldcap = t->mask ? t->mask + 1 : 0;
    size_t cap = oldcap ? oldcap * 2 : MIN_SLOTS;
    rc__slot *slots = rc__tmem_get(t->mem, cap * sizeof(rc__slot));
    if (!slots)
        return false;
    rc__slot *old = t->slots;
    t->slots = slots;
    t->mask = cap - 1;
    t->shift = 64 - (unsigned)__builtin_ctzll(cap);
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].key)
            t->slots[probe(t, slot_addr(&old[i]))] = old[i];
    if (oldcap)
        rc__tmem_put(t->mem, old, oldcap * sizeof(rc__slot));
    return true;
}

static uint64_t *big_size(const rc__table *t, uintptr_t addr)
{
    for (size_t i = 0; i < t->nbig; i++)
        if (t->big[i].addr == addr)
            return &t->big[i].size;
    return NULL;
}

static bool big_add(rc__table *t, uintptr_t addr, uint64_t size)
{
    void *big = t->big;
    if (!rc__tmem_reserve(t->mem, &big, &t->bigcap, t->nbig + 1, sizeof(rc__big)))
        return false;
    t->big = big;
    t->big[t->nbig++] = (rc__big){addr, size};
    return true;
}

static void big_remove(rc__table *t, uintptr_t addr)
{
    uint64_t *s = big_size(t, addr);
    if (s) {
        rc__big *e = (rc__big *)(void *)((char *)s - offsetof(rc__big, size));
        *e = t->big[--t->nbig];
    }
}

static uint64_t size_of(const rc__table *t, const rc__slot *s)
{
    if (s->size != RC__BIGSIZE)
        return s->size;
    uint64_t *b = big_size(t, (uintptr_t)(slot_addr(s) << 4));
    return b ? *b : RC__BIGSIZE;
}

/* Empties slot i, pulling later members of its run into the hole when
 * their home does not lie cyclically in (hole, j] (backward shift). */
static void delete_slot(rc__table *t, size_t i)
{
    size_t hole = i, j = i;
    for (;;) {
        j = (j + 1) & t->mask;
        if (!t->slots[j].key)
            break;
        size_t h = home(t, slot_addr(&t->slots[j]));
        bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
        if (!stays) {
            t->slots[hole] = t->slots[j];
            hole = j;
        }
    }
    t->slots[hole].key = 0;
    t->slots[hole].size = 0;
}

static void settle_pending(rc__table *t)
{
    if (t->pending) {
        delete_slot(t, t->pending - 1);
        t->pending = 0;
    }
}

bool rc__table_add(rc__table *t, uintptr_t addr, uint64_t size, uint32_t tb)
{
    uint64_t a4 = (uint64_t)addr >> 4;
    if ((addr & 15) || a4 > KEY_ADDR_MASK || !a4 || tb > RC__TB_MAX)
        return false;
    if (rc__table_reuse_pending(t, addr, size, tb))
        return true;
    settle_pending(t);
    if ((t->len + 1) * 5 > (t->mask + 1) * 4 || !t->mask)
        if (!grow(t))
            return false;
    size_t i = probe(t, a4);
    if (t->slots[i].key) {              /* reused address never freed: replace */
        t->current -= size_of(t, &t->slots[i]);
        if (t->slots[i].size == RC__BIGSIZE)
            big_remove(t, addr);
    } else {
        t->len++;
    }
    bool big = size >= RC__BIGSIZE;
    if (big && !big_add(t, addr, size)) {
        t->len--;
        t->slots[i].key = 0;
        return false;
    }
    t->slots[i].key = ((uint64_t)tb << KEY_ADDR_BITS) | a4;
    t->slots[i].size = big ? RC__BIGSIZE : (uint32_t)size;
    t->current += size;
    if (t->current > t->peak)
        t->peak = t->current;
    return true;
}

/* The removal of the block at slot i when another removal is pending or
 * the block is big: both carried out now. */
static __attribute__((noinline)) void remove_slow(rc__table *t, size_t i, uintptr_t addr)
{
    if (t->pending) {
        settle_pending(t);
        i = probe(t, (uint64_t)addr >> 4);    /* the shift may have moved it */
    }
    t->current -= size_of(t, &t->slots[i]);
    t->len--;
    if (t->slots[i].size == RC__BIGSIZE) {
        big_remove(t, addr);
        delete_slot(t, i);
    } else {
        t->pending = i + 1;
    }
}

bool rc__table_remove(rc__table *t, uintptr_t addr)
{
    if (!t->len || (addr & 15))
        return false;
    size_t i = probe(t, (uint64_t)addr >> 4);
    rc__slot *s = &t->slots[i];
    if (!s->key || i + 1 == t->pending)
        return false;
    if (__builtin_expect(t->pending || s->size == RC__BIGSIZE, 0)) {
        remove_slow(t, i, addr);
        return true;
    }
    t->current -= s->size;
    t->len--;
    t->pending = i + 1;
    return true;
}

bool rc__table_get(const rc__table *t, uintptr_t addr, uint64_t *size, uint32_t *tb)
{
    if (!t->len || (addr & 15))
        return false;
    size_t i = probe(t, (uint64_t)addr >> 4);
    if (!t->slots[i].key || i + 1 == t->pending)
        return false;
    if (size)
        *size = size_of(t, &t->slots[i]);
    if (tb)
        *tb = (uint32_t)(t->slots[i].key >> KEY_ADDR_BITS);
    return true;
}

int rc__table_each(const rc__table *t, int (*fn)(uintptr_t, uint64_t, uint32_t, void *), void *arg)
{
    for (size_t i = 0; t->mask && i <= t->mask; i++) {
        const rc__slot *s = &t->slots[i];
        if (!s->key || i + 1 == t->pending)
            continue;
        int r = fn((uintptr_t)(slot_addr(s) << 4), size_of(t, s), (uint32_t)(s->key >> KEY_ADDR_BITS), arg);
        if (r)
            return r;
    }
    return 0;
}

size_t rc__table_bytes(const rc__table *t)
{
    return (t->mask ? (t->mask + 1) * sizeof(rc__slot) : 0) + t->bigcap * sizeof(rc__big);
}
