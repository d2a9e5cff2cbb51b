/* Growable arrays for bookkeeping that lives outside the heap's pools.
 *
 * rc__vec_reserve's arrays are malloc's: callers free them with free().
 * The collector's own (the young vector, the mark stack, the dead vector
 * and spans, the analyses' counters) are rc__mapvec arrays: from malloc
 * while small, and from RC_VEC_MAP_MIN bytes on a mapping of their own, so
 * that their pages go back to the OS the moment one shrinks or is freed.
 * glibc keeps a freed block on its heap once its dynamic mmap threshold
 * has risen past the block's size (up to 32 MiB, with as much again kept
 * at the heap's top), and the young vector of 10^7 objects alone is 80 MB.
 * Growing or shrinking a mapping moves pages (mremap), it never copies
 * them.  Which of the two an rc__mapvec array is follows from its capacity
 * in bytes alone, so nothing else records it -- and only rc__mapvec_free
 * may free one. */
#include "prim.h"

#include <stdlib.h>
#include <string.h>

/* The sanitizer and debug builds cross the line with small arrays, so
 * that the tests and fuzzers exercise both kinds and the moves between. */
#if RC_DEBUG >= 1
#define RC_VEC_MAP_MIN ((size_t)16 * 1024)
#else
#define RC_VEC_MAP_MIN ((size_t)256 * 1024)
#endif

static bool is_mapped(size_t bytes, bool may_map) { return may_map && bytes >= RC_VEC_MAP_MIN; }

static void release(void *p, size_t bytes, bool may_map)
{
    if (is_mapped(bytes, may_map))
        rc__os_unmap(p, bytes);
    else
        free(p);
}

/* Moves *p (old_bytes long) to a buffer of new_bytes holding its first
 * keep bytes; false, *p untouched, when memory runs out. */
static bool resize(void **p, size_t old_bytes, size_t new_bytes, size_t keep, bool may_map)
{
    bool from_map = is_mapped(old_bytes, may_map), to_map = is_mapped(new_bytes, may_map);
    void *q;
    if (from_map == to_map) {
        q = to_map ? rc__os_remap(*p, old_bytes, new_bytes) : realloc(*p, new_bytes);
    } else {
        q = to_map ? rc__os_map(new_bytes, 0) : malloc(new_bytes);
        if (q && keep)
            memcpy(q, *p, keep);
        if (q)
            release(*p, old_bytes, may_map);
    }
    if (!q)
        return false;
    *p = q;
    return true;
}

/* Out of line: link_young reserves once per tracked object, and with the
 * resizing inlined every call, even one that finds room, would save
 * registers (5 instructions per rc_new of a tracked type). */
static RC_NOINLINE bool grow(void *arr, size_t *cap, size_t need, size_t elem, size_t first, size_t max,
                             bool may_map)
{
    size_t n = *cap ? *cap : first;
    while (n < need)
        n *= 2;
    if (n > max || n > SIZE_MAX / elem)
        return false;
    if (!resize(arr, *cap * elem, n * elem, *cap * elem, may_map))
        return false;
    *cap = n;
    return true;
}

bool rc__vec_reserve(void *arr, size_t *cap, size_t need, size_t elem, size_t first, size_t max)
{
    return need <= *cap || grow(arr, cap, need, elem, first, max, false);
}

bool rc__mapvec_reserve(void *arr, size_t *cap, size_t need, size_t elem, size_t first, size_t max)
{
    return need <= *cap || grow(arr, cap, need, elem, first, max, true);
}

void rc__mapvec_shrink(void *arr, size_t *cap, size_t used, size_t elem, size_t floor)
{
    if (*cap <= floor || used >= *cap / 4)
        return;
    size_t n = 2 * used > floor ? 2 * used : floor;
    if (n == 0) {
        rc__mapvec_free(arr, cap, elem);
        return;
    }
    if (resize(arr, *cap * elem, n * elem, used * elem, true))   /* else it stays as it is: still correct */
        *cap = n;
}

void rc__mapvec_free(void *arr, size_t *cap, size_t elem)
{
    void **p = arr;
    release(*p, *cap * elem, true);
    *p = NULL;
    *cap = 0;
}
