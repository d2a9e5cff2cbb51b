/* rc_heap_check: the whole-heap consistency checker (SQLite's
 * integrity_check, Lua's ltests.c checkmemory).  Reads the heap; what it
 * checks is listed in include/recycle.h and docs/reliability.md.
 *
 * It never follows a pointer it has not proved to be a live object of the
 * heap: every object is first collected by the allocator's walk into a
 * sorted array, and young-vector entries, gc.garbage entries and the
 * references traverse reports are looked up there before being read. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

int rc__weak_check(const rc_heap *h, size_t *targets, char *msg, size_t n);
int rc__weak_check_ref(const rc_heap *h, const rc_head *o, char *msg, size_t n);

typedef struct census {
    rc_head **obj;          /* every live object, sorted by address */
    uint32_t *internal;     /* references found inside the heap, per object */
    size_t    n, cap;
    size_t    old, frozen, weak_targets;
    const rc_head *bad;     /* the first object a check failed on */
    char      why[200];
} census;

/* The type name of an object whose type pointer may be wild. */
static const char *checked_type_name(const rc_head *o)
{
    const rc_type *t = rc__type(o);
    const char *name = NULL;
    if ((uintptr_t)t < 4096 || !rc__os_read_safe(&t->name, &name, sizeof name) || !name)
        return "?";
    return name;
}

static int fail(rc_heap *h, census *c, const rc_head *o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records the first violation: "rc_heap_check: <type> object at <addr>: why". */
static int fail(rc_heap *h, census *c, const rc_head *o, const char *fmt, ...)
{
    char why[sizeof c->why];   /* the arguments may point into c->why */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    memcpy(c->why, why, sizeof why);
    c->bad = o;
    if (o)
        return rc__error(h, RC_EINVAL, "rc_heap_check: %s object at %p: %s",
                         checked_type_name(o), rc__body(o), c->why);
    return rc__error(h, RC_EINVAL, "rc_heap_check: %s", c->why);
}

static int by_address(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(rc_head *const *)a, y = (uintptr_t)*(rc_head *const *)b;
    return (x > y) - (x < y);
}

/* Index of the live object whose header is at o, or -1. */
static ptrdiff_t find(const census *c, const void *o)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((uintptr_t)c->obj[mid] < (uintptr_t)o)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->n && c->obj[lo] == o ? (ptrdiff_t)lo : -1;
}

static int take_census(rc_heap *h, census *c)
{
    rc_span_iter it;
    rc_span s;
    bool ok = true;
    rc__span_iter_init(h, &it);
    while (rc__span_next(&it, &s))          /* always to the end: it closes the walk */
        for (size_t i = 0; i < s.count && ok; i++) {
            rc_head *o = (rc_head *)(void *)(s.start + i * s.stride);
            if (!o->tw)
                continue;
            if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 1024;
                rc_head **v = realloc(c->obj, cap * sizeof *v);
                if (!(ok = v != NULL))
                    break;
                c->obj = v;
                c->cap = cap;
            }
            c->obj[c->n++] = o;
        }
    if (!ok || !(c->internal = calloc(c->n + 1, sizeof *c->internal)))
        return rc__error(h, RC_ENOMEM, "rc_heap_check: out of memory for %zu objects", c->n);
    if (c->n > 1)
        qsort(c->obj, c->n, sizeof *c->obj, by_address);
    return 0;
}

/* The declared words traverse has not visited yet; extra: it visited
 * something else. */
typedef struct words_walk {
    void   **p;
    uint64_t left;
    bool     extra;
} words_walk;

static int visit_declared(void *child, void *arg)
{
    words_walk *w = arg;
    for (uint64_t m = w->left; m; m &= m - 1)
        if (w->p[__builtin_ctzll(m)] == child) {
            w->left &= ~(m & -m);
            return 0;
        }
    w->extra = true;
    return 1;
}

/* The collector reads the words rc_type.ref_words declares instead of
 * calling traverse, so the two must agree: traverse visits every declared
 * word that is not NULL, and nothing else. */
static int check_ref_words(rc_heap *h, census *c, rc_head *o)
{
    const rc_type *t = rc__type(o);
    size_t words = 64 - (size_t)__builtin_clzll(t->ref_words);
    if (rc__object_block_size(o) < sizeof(rc_head) + words * sizeof(void *))
        return fail(h, c, o, "ref_words %#llx reaches past its %zu-byte block",
                    (unsigned long long)t->ref_words, rc__object_block_size(o));
    words_walk w = {(void **)rc__body(o), t->ref_words, false};
    t->traverse(rc__body(o), visit_declared, &w);
    uint64_t missed = 0;
    for (uint64_t m = w.left; m; m &= m - 1)
        if (w.p[__builtin_ctzll(m)])
            missed |= m & -m;
    if (w.extra || missed)
        return fail(h, c, o, "its traverse %s the words ref_words declares (%#llx)",
                    w.extra ? "visits a reference outside" : "skips some of", (unsigned long long)t->ref_words);
    return 0;
}

/* One object's header on its own: type, flags, count, generation word. */
static int check_header(rc_heap *h, census *c, rc_head *o)
{
    const rc_type *t = rc__type(o);
    const rc_gc_state *gc = &h->gc;
    if (!strcmp(checked_type_name(o), "?"))
        return fail(h, c, o, "type pointer %p is not an rc_type", (const void *)t);
    if (rc__object_heap(o) != h)
        return fail(h, c, o, "its block belongs to heap %p", (void *)rc__object_heap(o));
    if (t->size && rc__object_block_size(o) < sizeof(rc_head) + t->size)
        return fail(h, c, o, "block of %zu bytes is smaller than the type's %zu-byte body",
                    rc__object_block_size(o), t->size);
    if (o->refcnt == 0)
        return fail(h, c, o, "refcount is 0 but the object is alive");
    if ((rc__hflags(o) & RC_HF_FINALIZED) && !t->finalize)
        return fail(h, c, o, "marked finalized but its type has no finalizer");
    if ((rc__hflags(o) & RC_HF_PLAIN) && (t->finalize || t->clear || t->release || rc__type_tracked(t)))
        return fail(h, c, o, "marked plain (freed without a call) but its type has work to do at death");
    c->weak_targets += (rc__hflags(o) & RC_HF_WEAKREFS) != 0;
    if (rc__weak_check_ref(h, o, c->why, sizeof c->why) < 0)
        return fail(h, c, o, "%s", c->why);
    if (rc__type_tracked(t) && !rc__alloc_walks_tracked(o))
        return fail(h, c, o, "of a tracked type in a pool the collector's walk skips");
    if (t->traverse && t->ref_words && !(t->flags & RC_TYPE_REFS) && check_ref_words(h, c, o) < 0)
        return RC_EINVAL;
    uint32_t g = o->gc;
    if (g == RC_GC_UNTRACKED)
        return 0;
    if (!rc__type_tracked(t))
        return fail(h, c, o, "tracked (gc word %#x) but its type has no traverse", g);
    if (g == RC_GC_OLD)
        c->old++;
    else if (g == RC_GC_FROZEN)
        c->frozen++;
    else if (!rc__gc_is_young(g) || rc__gc_young_index(g) >= gc->young_len ||
             gc->young[rc__gc_young_index(g)] != o)
        return fail(h, c, o, "gc word %#x is neither a generation nor its slot in the young vector "
                    "(%zu long)", g, gc->young_len);
    return 0;
}

/* Every young-vector entry but a hole (NULL) is a live object whose word
 * is its index + 1, and holes0 counts gen 0's holes. */
static int check_young(rc_heap *h, census *c)
{
    const rc_gc_state *gc = &h->gc;
    if (gc->gen0_start > gc->young_len || gc->young_len > gc->young_cap)
        return fail(h, c, NULL, "young vector: gen0_start %zu, length %zu, capacity %zu",
                    gc->gen0_start, gc->young_len, gc->young_cap);
    size_t holes0 = 0;
    for (size_t i = 0; i < gc->young_len; i++) {
        if (!gc->young[i]) {
            holes0 += i >= gc->gen0_start;
            continue;
        }
        if (find(c, gc->young[i]) < 0)
            return fail(h, c, NULL, "young vector slot %zu holds %p, not a live object",
                        i, rc__body(gc->young[i]));
        if (gc->young[i]->gc != rc__gc_young_word(i))
            return fail(h, c, gc->young[i], "in young vector slot %zu but its gc word is %#x",
                        i, gc->young[i]->gc);
    }
    if (holes0 != gc->holes0)
        return fail(h, c, NULL, "young vector: %zu holes in gen 0, the counter says %zu", holes0, gc->holes0);
    if (c->old != gc->old_count || c->frozen != gc->frozen_count)
        return fail(h, c, NULL, "generation 2 / permanent hold %zu / %zu objects, the counters say %zu / %zu",
                    c->old, c->frozen, gc->old_count, gc->frozen_count);
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    if (c->n != mi.live_objects)
        return fail(h, c, NULL, "%zu objects found, the pools count %zu", c->n, mi.live_objects);
    return 0;
}

typedef struct ref_walk {
    census  *c;
    rc_heap *h;
    rc_head *from;
    int      rc;
} ref_walk;

static int visit_count_ref(void *child, void *arg)
{
    ref_walk *w = arg;
    ptrdiff_t i = child ? find(w->c, rc__head(child)) : -1;
    if (i < 0) {
        w->rc = fail(w->h, w->c, w->from, "holds a reference to %p, which is not a live object of this heap",
                     child);
        return 1;
    }
    if ((rc__hflags(w->from) & RC_HF_LEAVES) && rc__type_tracked(rc__type(rc__head(child)))) {
        w->rc = fail(w->h, w->c, w->from, "flagged as holding only untracked types, but holds %p, a %s",
                     child, checked_type_name(rc__head(child)));
        return 1;
    }
    w->c->internal[i]++;
    return 0;
}

/* References found inside the heap never exceed a refcount: each is one. */
static int check_refs(rc_heap *h, census *c)
{
    ref_walk w = {c, h, NULL, 0};
    for (size_t i = 0; i < c->n && !w.rc; i++) {
        w.from = c->obj[i];
        rc__traverse(c->obj[i], visit_count_ref, &w);
    }
    if (w.rc)
        return w.rc;
    for (size_t i = 0; i < c->n; i++) {
        rc_head *o = c->obj[i];
        if (o->refcnt != RC_REFCNT_IMMORTAL && o->refcnt < c->internal[i])
            return fail(h, c, o, "refcount %u is lower than the %u references found inside the heap",
                        o->refcnt, c->internal[i]);
    }
    for (size_t i = 0; i < h->gc.garbage_len; i++)
        if (find(c, rc__head(h->gc.garbage[i])) < 0)
            return fail(h, c, NULL, "gc.garbage[%zu] = %p is not a live object", i, h->gc.garbage[i]);
    return 0;
}

static int check_weak(rc_heap *h, census *c)
{
    size_t targets = 0;
    if (rc__weak_check(h, &targets, c->why, sizeof c->why) < 0)
        return fail(h, c, NULL, "%s", c->why);
    if (targets != c->weak_targets)
        return fail(h, c, NULL, "%zu objects are flagged as weakly referenced, the weakref table has %zu",
                    c->weak_targets, targets);
    return 0;
}

int rc_heap_check(rc_heap *h)
{
    if (!h)
        return RC_EINVAL;
    RC_STOP_WORLD(h);
    if (h->gc.collecting || rc__deaths.depth || rc__deaths_queued(h) || (h->mt && rc__mt_dying(h)))
        return rc__error(h, RC_ESTATE, "rc_heap_check: not during a collection or a death");
    int rc = rc__alloc_check(h);   /* leaves its own message in rc_last_error */
    if (rc < 0)
        return rc;
    census c = {0};
    rc = take_census(h, &c);
    for (size_t i = 0; i < c.n && !rc; i++)
        rc = check_header(h, &c, c.obj[i]);
    if (!rc)
        rc = check_young(h, &c);
    if (!rc)
        rc = check_refs(h, &c);
    if (!rc)
        rc = check_weak(h, &c);
    free(c.obj);
    free(c.internal);
    return rc;
}
