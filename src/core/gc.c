/* The generational cycle collector (design: docs/design-gc.md).
 *
 * Invariants kept here (outside a collection):
 *   - A tracked object is in exactly one of: gen 0, gen 1 (both in the young
 *     vector), gen 2, the permanent generation of freeze; its gc word says
 *     which (every value the word takes: gc_impl.h).
 *   - young[0..gen0_start) is gen 1, young[gen0_start..young_len) is gen 0.
 *   - old_count / frozen_count count the objects in gen 2 / permanent.
 *   - count[0] = tracked allocations minus deallocations since the last
 *     collection (never below 0); count[n] = collections of gen n-1 since
 *     the last collection of gen n.
 *
 * A collection of generation g (CPython's algorithm, address-ordered):
 *   1. count: every candidate's word counts the references to it from
 *      other candidates (CPython subtracts them from a copy of refcnt).
 *      A full collection's candidates start from RC_GC_OLD, which is 0,
 *      and get RC_GC_CAND with the first reference counted: one that no
 *      candidate references keeps 0, and is a root.  A young collection's
 *      are set to RC_GC_CAND first (their words were indices).
 *   2. mark: candidates with refcnt above that count are referenced from
 *      outside the set; everything they reach is reachable.
 *   3. sweep: reachable candidates move to the next generation; the rest
 *      are the dead set: a young collection's listed in the dead vector, a
 *      full collection's marked dead where they lie (2 and 3 fused into one
 *      scan, or marking first for a scattered graph).
 *   4. the dead set, one pipeline in CPython's order (gc_dead.c): settle,
 *      uncollectable, weakrefs, finalizers, resurrection, delete
 *      (gc_free.c), each step skipped when the members' needs say it would
 *      find nothing to do.
 * A young collection reads only the young vector and the children of young
 * objects; a full one walks the allocator's pools in address order, and
 * on a big heap splits 1-3 across the heap's worker threads (gc_par.c).
 * The gc module's control surface is gc_api.c.
 *
 * Dirty generations (an automatic collection without a scan): garbage can
 * only appear where a reference is dropped from an object that stays
 * alive (Bacon and Rajan), so
 *   - dirty_from is the youngest generation in which, since its last scan,
 *     a decref left a tracked object alive, rc_gc_track linked an object,
 *     a finalizer resurrected one, unfreeze or a collection's dead set put
 *     objects, or user code ran inside a collection; every generation
 *     older than a dirty one counts as dirty too;
 *   - an automatic collection of generation g < dirty_from finds nothing
 *     to free: it promotes generations 0..g without a look, and its
 *     callbacks, counts and stats are those of a collection that found
 *     nothing;
 *   - a scan of 0..g frees the garbage within 0..g, but a survivor may
 *     belong to garbage reaching into older generations: dirty_from moves
 *     to g+1, not past it.
 * A reference stored without an incref (stolen) moves a count from
 * outside a structure into it with no decref: a cycle closed that way and
 * abandoned waits for the next collection that scans -- every
 * rc_gc_collect does, and so does an automatic one once a dirtying event
 * reaches its generation (docs/design-gc.md, "Collections that find
 * nothing").
 */
#include "gc_impl.h"
#include "gc_workers.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- the young vector --------------------------------------------------------- */

/* Its first capacity, and the floor it shrinks to: the floor holds both
 * young generations at the default thresholds (700 + 10 x 700 objects,
 * 64 KiB), so that a program making and dropping objects in batches of a
 * few thousand does not shrink it at one collection and grow it again
 * before the next.  The debug and sanitizer builds start small and keep
 * little, so that their tests and fuzzers grow and shrink it all the time. */
#if RC_DEBUG >= 1
#define YOUNG_FIRST 16
#define YOUNG_FLOOR 16
#else
#define YOUNG_FIRST 1024
#define YOUNG_FLOOR 8192
#endif

static bool young_reserve(rc_gc_state *gc, size_t n)
{
    return rc__mapvec_reserve(&gc->young, &gc->young_cap, n, sizeof *gc->young, YOUNG_FIRST,
                           (size_t)RC_GC_YOUNG_MAX);
}

/* Without the trim, 8 bytes per object that has been young stay after a
 * peak: 80 MB after 10^7 objects made with the collector off. */
void rc__gc_young_trim(rc_gc_state *gc)
{
    if (gc->young_cap > YOUNG_FLOOR)
        rc__mapvec_shrink(&gc->young, &gc->young_cap, gc->young_len, sizeof *gc->young, YOUNG_FLOOR);
}

static void young_place(rc_gc_state *gc, size_t i, rc_head *o)
{
    gc->young[i] = o;
    o->gc = rc__gc_young_word(i);
}

/* The holes at the new end of the vector go back too, and gen 0 ends
 * where gen 1 does when it has no object left. */
void rc__gc_young_drop_end(rc_gc_state *gc)
{
    rc_head **v = gc->young;
    size_t i = gc->young_len, n = i, g0 = gc->gen0_start;
    while (n > 0 && !v[n - 1])
        n--;
    gc->young_len = n;
    if (g0 >= n) {
        gc->gen0_start = n;
        gc->holes0 = 0;
    } else {
        gc->holes0 -= i - n;
    }
}

/* Squeezes the holes out of young[from..young_len) in order, so the
 * generations keep their boundary; from is 0 or gen0_start. */
static void young_squeeze(rc_gc_state *gc, size_t from)
{
    size_t w = from, g0 = gc->gen0_start, n = gc->young_len;
    for (size_t i = from; i < n; i++) {
        if (i == g0)
            gc->gen0_start = w;
        rc_head *o = gc->young[i];
        if (o && w++ != i)
            young_place(gc, w - 1, o);
    }
    if (g0 == n)
        gc->gen0_start = w;
    gc->young_len = w;
    gc->holes0 = 0;
}

/* Room for n more slots at the end: the holes are squeezed out, and the
 * vector doubles when that leaves it half full or more, so each squeeze
 * is paid for by at least half as many links as the slots it reads.
 * False when it cannot grow (out of memory) far enough. */
static bool young_room(rc_gc_state *gc, size_t n)
{
    young_squeeze(gc, 0);
    if (gc->young_len + n > gc->young_cap / 2) {
        size_t need = gc->young_len + n;
        young_reserve(gc, need > gc->young_cap ? need : gc->young_cap + 1);
    }
    return gc->young_cap - gc->young_len >= n;
}

/* A threaded heap's vector moves only with the world stopped, which
 * closes every thread's segment (thread_heap.c, "young segments"). */
bool rc__gc_young_room(rc_heap *h, size_t n)
{
    if (!h->mt)
        return young_room(&h->gc, n);
    rc__mt_stop_world(h);
    bool room = young_room(&h->gc, n);
    rc__mt_start_world(h);
    return room;
}

/* The vector is full.  Should it not grow (out of memory) and have no
 * hole, o goes straight to gen 2: still tracked and collected, only
 * later. */
void rc__gc_link_young_full(rc_heap *h, rc_head *o)
{
    rc_gc_state *gc = &h->gc;
    if (!rc__gc_young_room(h, 1)) {
        o->gc = RC_GC_OLD;
        gc->old_count++;
        return;
    }
    rc__gc_link_young(h, o);
}

/* ---- tracking ----------------------------------------------------------------- */

static void untrack(rc_heap *h, rc_head *o)
{
    rc_gc_state *gc = &h->gc;
    uint32_t g = o->gc;
    if (rc__gc_is_young(g) && rc__is_shared(o))
        rc__mt_young_drop(h, o);
    else if (rc__gc_is_young(g))
        rc__gc_young_drop(gc, rc__gc_young_index(g));
    else if (g == RC_GC_OLD)
        gc->old_count--;
    else if (g == RC_GC_FROZEN)
        gc->frozen_count--;
    o->gc = RC_GC_UNTRACKED;
}

bool rc__gc_in_dead_set(const rc_head *o)
{
    return is_cand(o->gc);
}

/* The unlikely half of rc__gc_on_dealloc. */
void rc__gc_unlink_other(rc_heap *h, rc_head *o)
{
    rc_gc_state *gc = &h->gc;
    uint32_t g = o->gc;
    if (g == RC_GC_UNTRACKED)
        return;
    if (is_cand(g) && gc->dead) {
        gc->dead->v[g & RC_GC_REFS] = NULL;
        o->gc = RC_GC_UNTRACKED;
        return;
    }
    untrack(h, o);
}

bool rc_gc_is_tracked(const void *o)
{
    rc__check_arg(o);
    return rc__is_tracked(rc__head(o));
}

bool rc_gc_is_finalized(const void *o)
{
    rc__check_arg(o);
    return (rc__hflags(rc__head(o)) & RC_HF_FINALIZED) != 0;
}

void rc_gc_track(void *o)
{
    rc__check_arg(o);
    rc_head *hd = rc__head(o);
    RC_LOCK_OBJECT(o);
    if (rc__is_tracked(hd) || !rc__type_tracked(rc__type(hd)))
        return;
    rc_heap *h = rc__object_heap(hd);
    rc__gc_link_young(h, hd);
    /* Untracked, it held its children from outside; it may be garbage. */
    rc__gc_set_dirty(h, hd->gc == RC_GC_OLD ? 2 : 0);
}

void rc_gc_untrack(void *o)
{
    rc__check_arg(o);
    rc_head *hd = rc__head(o);
    RC_LOCK_OBJECT(o);
    if (!rc__is_tracked(hd) || is_cand(hd->gc))
        return;
    untrack(rc__object_heap(hd), hd);
}

/* ---- dirty generations ---------------------------------------------------------- */

/* Which decrefs rc__gc_decref_kept hands to rc__gc_note_decref: those of
 * the tracked objects whose generation is younger than dirty_from (gen 2's
 * word is 0, the young words follow; frozen and untracked objects are no
 * candidates of anything).  Gen 1's objects are noted with gen 0's when
 * only gen 0 is clean: one range, and rare.  Inside a collection, dead-set
 * members have words of their own; those that stay go to gen 2, which
 * the collection dirties (scan). */
static void note_range(rc_gc_state *gc)
{
    static const uint32_t lo[RC_GC_CLEAN + 1] = {0, 1, 1, 0};
    static const uint32_t span[RC_GC_CLEAN + 1] = {0, RC_GC_YOUNG_MAX, RC_GC_YOUNG_MAX, RC_GC_YOUNG_MAX + 1};
    gc->note_lo = lo[gc->dirty_from];
    gc->note_span = span[gc->dirty_from];
}

void rc__gc_start_clean(rc_heap *h)
{
    h->gc.dirty_from = RC_GC_CLEAN;
    note_range(&h->gc);
}

void rc__gc_set_dirty(rc_heap *h, int gen)
{
    rc_gc_state *gc = &h->gc;
    if (gen < gc->dirty_from) {
        gc->dirty_from = gen;
        note_range(gc);
    }
}

/* During a collection user code (callbacks, finalizers, weakref
 * callbacks) may drop anything, while the generations are being rewritten:
 * every generation. */
void rc__gc_note_decref(rc_heap *h, const rc_head *o)
{
    const rc_gc_state *gc = &h->gc;
    int gen = 0;
    if (!gc->collecting)
        gen = o->gc == RC_GC_OLD ? 2 : rc__gc_young_index(o->gc) < gc->gen0_start ? 1 : 0;
    rc__gc_set_dirty(h, gen);
}

/* ---- the candidate set ---------------------------------------------------------- */

/* What a pass does to one candidate.  The passes below are inline
 * functions handed to each_candidate as constants, so each gets a loop of
 * its own with the pass inlined into it. */
typedef void (*candidate_fn)(gc_run *r, rc_head *o, void *arg);

/* The tracked objects of one span; with `ahead`, prefetching the children
 * of the object RC_WALK_AHEAD blocks further on (only the count pass wants
 * that: it visits every child of every candidate). */
RC_INLINE void each_tracked_in_span(gc_run *r, const rc_span *s, candidate_fn fn, void *arg, bool ahead)
{
    size_t st = s->stride;
    char *end = s->start + s->count * st;
    for (char *p = s->start; p < end; p += st) {
        if (ahead && p + RC_WALK_AHEAD * st < end)
            prefetch_children(p + RC_WALK_AHEAD * st, r->prefetch_traversed);
        rc_head *o = (rc_head *)(void *)p;
        if (o->tw && o->gc < RC_GC_SENTINEL_MIN)      /* not free, untracked or frozen */
            fn(r, o, arg);
    }
}

/* Calls fn on each candidate: for a young collection the young vector
 * from lo, for a full one every tracked object of the pools in address
 * order (prefetching when `ahead` and r->prefetch say so; decided per
 * span, so the loop without it stays free of the test). */
RC_INLINE void each_candidate(gc_run *r, candidate_fn fn, void *arg, bool ahead)
{
    if (!r->full) {
        rc_gc_state *gc = &r->h->gc;
        for (size_t i = r->lo; i < gc->young_len; i++)
            fn(r, gc->young[i], arg);
        return;
    }
    rc_span_iter it;
    rc_span s;
    rc__span_iter_init_trackable(r->h, &it);
    while (rc__span_next(&it, &s)) {
        if (ahead && r->prefetch)
            each_tracked_in_span(r, &s, fn, arg, true);
        else
            each_tracked_in_span(r, &s, fn, arg, false);
    }
}

/* 1. count --------------------------------------------------------------------- */

RC_INLINE int visit_count_full(void *child, void *arg)
{
    (void)arg;
    count_full_ref(rc__head(child));
    return 0;
}

/* In a young one only words with RC_GC_CAND: without it the subtraction
 * wraps high, so one compare again. */
RC_INLINE int visit_count_young(void *child, void *arg)
{
    (void)arg;
    rc_head *c = rc__head(child);
    uint32_t g = c->gc;
    if ((g & (RC_GC_CAND | RC_GC_REFS)) - RC_GC_CAND < RC_GC_REFS_SAT)
        count_ref(c, g);
    return 0;
}

/* Whether a full collection should prefetch (prefetch_children): among
 * its first objects, GC_SAMPLE with children or 4 * GC_SAMPLE children,
 * over a quarter of those children lie a page or more away.  The sample
 * stops at 16 * GC_SAMPLE blocks whatever it found: it must not become a
 * walk of the heap of its own when few objects have children. */
#define GC_SAMPLE 1024

typedef struct edge_sample {
    const char *block;       /* the object whose children are visited */
    size_t      blocks, seen, far, edges;
} edge_sample;

static bool sample_done(const edge_sample *es)
{
    return es->seen >= GC_SAMPLE || es->edges >= 4 * GC_SAMPLE || es->blocks >= 16 * GC_SAMPLE;
}

static int visit_sample(void *child, void *arg)
{
    edge_sample *es = arg;
    es->edges++;
    es->far += (uintptr_t)((const char *)child - es->block) + 4096 > 8192;
    return sample_done(es);
}

static void sample_span(const rc_span *s, edge_sample *es)
{
    for (char *p = s->start; p < s->start + s->count * s->stride && !sample_done(es); p += s->stride) {
        rc_head *o = (rc_head *)(void *)p;
        es->blocks++;
        if (!o->tw || o->gc >= RC_GC_SENTINEL_MIN || (rc__hflags(o) & RC_HF_LEAVES))
            continue;
        es->block = p;
        es->seen++;
        rc__traverse(o, visit_sample, es);
    }
}

void rc__gc_decide_prefetch(gc_run *r)
{
    edge_sample es = {NULL, 0, 0, 0, 0};
    rc_span_iter it;
    rc_span s;
    rc__span_iter_init_trackable(r->h, &it);
    while (!sample_done(&es) && rc__span_next(&it, &s))
        sample_span(&s, &es);
    rc__span_iter_stop(&it);
    /* A small heap is in cache anyway. */
    bool big = es.seen >= GC_SAMPLE || es.edges >= 4 * GC_SAMPLE;
    r->prefetch = big && es.far * 4 > es.edges;
    /* Branch-free marking wins while the children's words come from the
     * cache, and loses once they come from memory: the next pop then waits
     * for every load, where a predicted branch would have run ahead (the
     * crossover and its figures: docs/design-gc.md, "Figures"). */
    r->unbranched = r->prefetch && rc__heap_bytes(r->h) <= rc__os_llc_bytes() / 2;
    /* A prefetch through traverse is a call per object and a visit per
     * child: it pays only from memory (figures: docs/design-gc.md, "One
     * collection"). */
    r->prefetch_traversed = r->prefetch && !r->unbranched;
}

/* The count pass's state: the type of the object before, and how many
 * candidates there are. */
typedef struct count_pass {
    type_memo memo;
    size_t    n;
} count_pass;

/* Counts o's references to other candidates with visit (one of the two
 * above, a constant once inlined). */
RC_INLINE void count_children(gc_run *r, rc_head *o, count_pass *c, rc_visit visit)
{
    c->n++;
    const rc_type *t = rc__type(o);
    size_t nrefs = memo_nrefs(&c->memo, t);
    if (nrefs < RC_MAY_LEAVES) {
        void **p = (void **)rc__body(o);
        for (size_t i = 0; i < nrefs; i++)
            if (p[i])
                visit(p[i], r);
    } else if (traverses(o, nrefs)) {
        t->traverse(rc__body(o), visit, r);
    }
}

RC_INLINE void count_full(gc_run *r, rc_head *o, void *c) { count_children(r, o, c, visit_count_full); }
RC_INLINE void count_young(gc_run *r, rc_head *o, void *c) { count_children(r, o, c, visit_count_young); }

static void count_refs(gc_run *r)
{
    /* The young candidates' words are indices: they start from 0 like
     * gen 2's in a full collection, from RC_GC_CAND in a young one (where
     * only words with it are counted).  No candidate's own word is written
     * here: in a full one, a word still 0 after counting is a candidate
     * nothing in the set references, hence a root. */
    young_to_candidates(r, r->full ? RC_GC_OLD : RC_GC_CAND);
    count_pass c = {{NULL, 0}, 0};
    if (r->full) {
        rc__gc_decide_prefetch(r);
        each_candidate(r, count_full, &c, true);
    } else {
        each_candidate(r, count_young, &c, false);
    }
    r->candidates = c.n;
}

/* 2. mark ---------------------------------------------------------------------- */

static RC_NOINLINE bool stack_grow(gc_run *r, size_t n)
{
    if (rc__mapvec_reserve(&r->stack, &r->stack_cap, r->sp + n, sizeof *r->stack, 4096, SIZE_MAX))
        return true;
    r->overflow = true;       /* the object stays marked; the rescan finds it */
    return false;
}

/* Out of line, so that push's callers need no stack frame of their own
 * for a call they almost never make. */
static RC_NOINLINE void push_growing(gc_run *r, rc_head *o)
{
    if (stack_grow(r, 1))
        r->stack[r->sp++] = o;
}

RC_INLINE void push(gc_run *r, rc_head *o)
{
    if (RC_UNLIKELY(r->sp == r->stack_cap)) {
        push_growing(r, o);
        return;
    }
    r->stack[r->sp++] = o;
}

RC_INLINE int visit_mark(void *child, void *arg)
{
    gc_run *r = arg;
    rc_head *c = rc__head(child);
    uint32_t g = c->gc;
    if (is_fresh(g)) {
        c->gc = g | RC_GC_REACHABLE;
        push(r, c);
    }
    return 0;
}

/* visit_mark for the children of an RC_TYPE_REFS body in a scattered
 * graph in cache (r->unbranched), without a branch on each child's state:
 * whether a child is marked already is a coin toss there, and the
 * mispredictions cost more than the stores.  A child that is not fresh
 * has its word "stored" to a dummy and is pushed past the top of the
 * stack, which has room for all of them. */
static void mark_refs_unbranched(gc_run *r, rc_head *o)
{
    void **p = (void **)rc__body(o);
    size_t n = rc__nrefs(rc__type(o));
    if (RC_UNLIKELY(r->stack_cap - r->sp < n) && !stack_grow(r, n)) {
        RC_FOR_EACH_CHILD(o, visit_mark, r);
        return;
    }
    rc_head **top = r->stack + r->sp;
    uint32_t dummy;
    for (size_t i = 0; i < n; i++) {
        if (!p[i])
            continue;
        rc_head *c = rc__head(p[i]);
        uint32_t g = c->gc;
        bool fresh = is_fresh(g);
        *(fresh ? &c->gc : &dummy) = g | RC_GC_REACHABLE;
        *top = c;
        top += fresh;
    }
    r->sp = (size_t)(top - r->stack);
}

/* Empties the mark stack, traversing each object with visit (a constant
 * once inlined, and inlined itself for RC_TYPE_REFS bodies, so each
 * marking flavour gets its own loop). */
RC_INLINE void drain_with(gc_run *r, rc_visit visit)
{
    while (r->sp > 0) {
        rc_head *top = r->stack[--r->sp];
        RC_FOR_EACH_GC_CHILD(top, visit, r);
    }
}

/* For a scattered graph (r->prefetch): through a lag_ring (gc_impl.h). */
static void drain_lagged(gc_run *r)
{
    lag_ring q = {.n = 0, .head = 0};
    for (;;) {
        while (!lag_full(&q) && r->sp > 0) {
            rc_head *o = r->stack[--r->sp];
            prefetch_children_and_bodies((const char *)o, r->prefetch_traversed);
            lag_push(&q, o);
        }
        rc_head *top = lag_pop(&q);
        if (!top)
            break;
        if (r->unbranched && (rc__type(top)->flags & RC_TYPE_REFS))
            mark_refs_unbranched(r, top);
        else
            RC_FOR_EACH_GC_CHILD(top, visit_mark, r);
    }
}

static void drain(gc_run *r)
{
    if (r->prefetch)
        drain_lagged(r);
    else
        drain_with(r, visit_mark);
}

RC_INLINE void rescan_one(gc_run *r, rc_head *o, void *arg)
{
    (void)arg;
    if (is_cand(o->gc) && (o->gc & RC_GC_REACHABLE)) {
        rc__traverse(o, visit_mark, r);
        drain(r);
    }
}

/* Out of memory for the stack: some marked objects were never scanned.
 * Scanning every marked object again until nothing changes is slow but
 * needs no memory. */
void rc__gc_rescan_marked(gc_run *r)
{
    while (r->overflow) {
        r->overflow = false;
        each_candidate(r, rescan_one, NULL, false);
    }
}

/* A candidate referenced from outside the set is a root: it and all it
 * reaches are reachable. */
RC_INLINE void mark_if_root(gc_run *r, rc_head *o, void *arg)
{
    (void)arg;
    uint32_t g = o->gc;
    if (!(g & RC_GC_REACHABLE) && has_outside_refs(o, g)) {
        o->gc = g | RC_GC_CAND | RC_GC_REACHABLE;   /* CAND: see count_refs */
        RC_FOR_EACH_GC_CHILD(o, visit_mark, r);
        if (r->sp)
            drain(r);
    }
}

static void mark_reachable(gc_run *r)
{
    each_candidate(r, mark_if_root, NULL, false);
    rc__gc_rescan_marked(r);
}

/* 3. sweep --------------------------------------------------------------------- */

static RC_NOINLINE bool dead_grow(dead_set *d)
{
    return rc__mapvec_reserve(&d->v, &d->cap, d->len + 1, sizeof *d->v, 256, RC_GC_REFS);
}

RC_NOINLINE void rc__gc_note_type(dead_set *d, const rc_type *t)
{
    d->last_type = t;
    d->last_holds = !(t->flags & RC_TYPE_REFS);
    d->clearless |= !rc__type_clears(t);
    d->finalizers |= t->finalize != NULL;
    d->releases |= t->release != NULL;
    d->not_refs |= !(t->flags & RC_TYPE_REFS);
    d->some_refs |= (t->flags & RC_TYPE_REFS) != 0;
}

/* Adds o to the dead vector (dead_list).  What its type needs is noted
 * once per run of members of one type. */
RC_INLINE bool dead_push(dead_set *d, rc_head *o)
{
    if (RC_UNLIKELY(d->len == d->cap) && !dead_grow(d))
        return false;
    dead_list(d, o);
    dead_note(d, o);
    return true;
}

/* One thread: every child's word is its own to read and write. */
RC_INLINE bool every_word_ours(const void *ctx, const rc_head *c)
{
    (void)ctx;
    (void)c;
    return true;
}

/* One thread's scan: dead_mark_ours with every word its own. */
RC_INLINE void dead_mark(dead_set *d, rc_head *o)
{
    dead_mark_ours(d, o, every_word_ours, NULL);
}

/* Where survivors of this collection go: the next generation. */

RC_INLINE void promote(gc_run *r, rc_head *o, size_t *w)
{
    if (r->gen == 0)
        young_place(&r->h->gc, (*w)++, o);
    else
        survive_old(r->h, o);
}

/* After a gen-0 collection its survivors, young[lo..w), are gen 1; after
 * an older one the young vector is empty (survivors are in gen 2). */
static void finish_young(rc_gc_state *gc, int gen, size_t w)
{
    gc->young_len = gen == 0 ? w : 0;
    gc->gen0_start = gc->young_len;
    gc->holes0 = 0;
}

/* A candidate's fate, once marking is over. */
RC_INLINE void settle(gc_run *r, rc_head *o, size_t *w)
{
    if (o->gc & RC_GC_REACHABLE)
        promote(r, o, w);
    else if (!dead_push(&r->dead, o)) {
        r->dead.lost = true;
        promote(r, o, w);
    }
}

RC_INLINE void settle_candidate(gc_run *r, rc_head *o, void *w)
{
    if (is_cand(o->gc))
        settle(r, o, w);
}

/* The dead set this gives is listed, and the sweep does not look at the
 * members' children: they may reference objects outside the set. */
static void sweep(gc_run *r)
{
    size_t w = r->lo;
    r->dead.listed = true;
    r->dead.refs_out = true;
    each_candidate(r, settle_candidate, &w, false);
    finish_young(&r->h->gc, r->gen, w);
}

/* Marking during the address-ordered scan of a full collection: a child
 * ahead of the cursor is only marked — the scan traverses it when it gets
 * there — and one behind it goes on the stack.  Large objects are walked
 * after the pools, in list order, so the cursor is past everything then.
 * Objects allocated in order (lists, rings, trees) need no stack at all. */
RC_INLINE void mark_scan_child(gc_run *r, rc_head *c, const char *cursor)
{
    if (scan_mark(&r->dead, c) && (const char *)c < cursor)
        push(r, c);
}

/* Takes the visit's own arguments, so the visit reaches it by a jump
 * with its registers as they are. */
static RC_NOINLINE int visit_mark_scan_slow(void *child, void *arg)
{
    gc_run *r = arg;
    mark_scan_child(r, rc__head(child), r->cursor);
    return 0;
}

/* The visit a traverse function calls: a fresh child ahead of the scan
 * (the common case, allocated in order) is marked here; the rest out of
 * line, so the function a traverse calls per child stays short. */
static int visit_mark_scan(void *child, void *arg)
{
    const gc_run *r = arg;
    rc_head *c = rc__head(child);
    uint32_t g = c->gc;
    if (RC_LIKELY(is_fresh_unmarked(g) && (const char *)c >= r->cursor)) {
        c->gc = g | RC_GC_REACHABLE;
        return 0;
    }
    return visit_mark_scan_slow(child, arg);
}

static void drain_scan(gc_run *r)
{
    drain_with(r, visit_mark_scan);
}

RC_INLINE void unhold_dead_mark(gc_run *r, rc_head *o, void *arg)
{
    (void)arg;
    if (is_dead_mark(o->gc) && (o->gc & RC_GC_REFS))      /* without a count: never held */
        dead_unhold(&r->dead, o);
}

/* The scan could not finish marking (no memory for the stack): the dead
 * marks so far and their holds are forgotten, and the separate sweep
 * settles everything. */
static void forget_dead_marks(gc_run *r)
{
    dead_set *d = &r->dead;
    if (d->held)
        each_candidate(r, unhold_dead_mark, NULL, false);
    d->marked = d->late = d->nspans = 0;
    d->hflags = 0;
    d->lost = d->clearless = d->finalizers = d->releases = d->not_refs = d->some_refs = d->refs_out = false;
    d->held = false;
    d->last_type = NULL;
}

/* Without room to note a span the set cannot be found again short of
 * walking every pool: it is lost, and stays whole until a later
 * collection (gc_free.c, rc__gc_keep_all). */
static void note_dead_span(dead_set *d, char *start, size_t marked)
{
    if (d->lost)
        return;
    if (d->nspans == d->spans_cap &&
        !rc__mapvec_reserve(&d->spans, &d->spans_cap, d->nspans + 1, sizeof *d->spans, 64, SIZE_MAX)) {
        d->lost = true;
        return;
    }
    d->spans[d->nspans++] = (dead_span){.start = start, .members = marked};
}

/* What a full collection's scan does to one span. */
typedef void (*span_fn)(gc_run *r, const rc_span *s, void *arg);

/* Calls fn on each span of the candidate pools, in address order, noting
 * the spans where it marked objects dead, and how many. */
RC_INLINE void scan_noting_dead(gc_run *r, span_fn fn, void *arg)
{
    rc_span_iter it;
    rc_span s;
    rc__span_iter_init_trackable(r->h, &it);
    while (rc__span_next(&it, &s)) {
        size_t before = r->dead.marked;
        fn(r, &s, arg);
        if (r->dead.marked != before)
            note_dead_span(&r->dead, s.start, r->dead.marked - before);
    }
}

/* One object of the scan: traversed and promoted if reachable, else
 * marked dead.  (Every candidate ends up one or the other.) */
RC_INLINE void scan_object(gc_run *r, rc_head *o, char *cursor, type_memo *memo)
{
    scan_verdict v = scan_verdict_of(o);
    if (v != SCAN_LIVE) {
        if (v == SCAN_DEAD)
            dead_mark(&r->dead, o);
        return;
    }
    const rc_type *t = rc__type(o);
    size_t n = memo_nrefs(memo, t);
    if (n < RC_MAY_LEAVES) {
        void **p = (void **)rc__body(o);
        for (size_t i = 0; i < n; i++)
            if (p[i])
                mark_scan_child(r, rc__head(p[i]), cursor);
    } else if (traverses(o, n)) {
        r->cursor = cursor;
        t->traverse(rc__body(o), visit_mark_scan, r);
    }
    if (r->sp) {
        r->cursor = cursor;
        drain_scan(r);
    }
    /* Traversed: promote() (a full collection's survivors go to gen 2).
     * Should the stack have overflowed, objects marked but not traversed
     * remain; the rescan and the sweep after the scan settle them. */
    o->gc = RC_GC_OLD;
}

/* The objects of span s in the fused scan, the cursor at each (past
 * everything for a large object: they come after the pools, so every
 * child is behind them). */
RC_INLINE void scan_blocks(gc_run *r, const rc_span *s, type_memo *memo, bool large)
{
    size_t st = s->stride;
    char *end = s->start + s->count * st;
    for (char *p = s->start; p < end; p += st)
        if (((rc_head *)(void *)p)->tw)
            scan_object(r, (rc_head *)(void *)p, large ? (char *)UINTPTR_MAX : p, memo);
}

RC_INLINE void scan_span(gc_run *r, const rc_span *s, void *memo)
{
    if (((rc_head *)(void *)s->start)->tw & RC_HF_LARGE)
        scan_blocks(r, s, memo, true);
    else
        scan_blocks(r, s, memo, false);
}

/* Marking dead looks at the children (dead_mark) until the set is known to
 * reference something outside it or to hold a type that is not
 * RC_TYPE_REFS: the children of unreached objects ahead are prefetched
 * for that. */
RC_INLINE void prefetch_unreached(const dead_set *d, const char *block)
{
    if (!(((const rc_head *)(const void *)block)->gc & RC_GC_REACHABLE) && !d->refs_out && !d->not_refs)
        prefetch_children(block, false);
}

/* After marking: each candidate of span s promoted or marked dead. */
RC_INLINE void settle_span(gc_run *r, const rc_span *s, void *arg)
{
    (void)arg;
    size_t st = s->stride;
    char *end = s->start + s->count * st;
    for (char *p = s->start; p < end; p += st) {
        if (p + RC_WALK_AHEAD * st < end)
            prefetch_unreached(&r->dead, p + RC_WALK_AHEAD * st);
        rc_head *o = (rc_head *)(void *)p;
        if (!o->tw || !is_cand(o->gc))
            continue;
        if (o->gc & RC_GC_REACHABLE)
            o->gc = RC_GC_OLD;
        else
            dead_mark(&r->dead, o);
    }
}

/* 2 then 3, for a full collection over a scattered graph (r->prefetch):
 * everything reachable is marked first, depth-first from the roots, and
 * each object is then promoted or marked dead where it lies.  The fused
 * scan below would find much of such a graph unreachable at first and
 * reach it later through the stack (a third of a random graph with 3
 * edges per node), a second visit that marking first avoids
 * (docs/design-gc.md, "Figures"). */
static void mark_then_settle_full(gc_run *r)
{
    mark_reachable(r);
    scan_noting_dead(r, settle_span, NULL);
    r->h->gc.old_count += r->candidates - r->dead.marked;   /* every candidate is one or the other */
    finish_young(&r->h->gc, r->gen, 0);
}

/* After the fused scan (here or across the workers, gc_par.c): every
 * candidate was promoted or marked dead (late ones too), unless the stack
 * could not grow. */
static void finish_scan(gc_run *r)
{
    r->h->gc.old_count += r->candidates - r->dead.marked;
    if (r->overflow) {
        rc__gc_rescan_marked(r);
        forget_dead_marks(r);
        sweep(r);
    } else {
        finish_young(&r->h->gc, r->gen, 0);
    }
}

/* 2+3 fused, for a full collection.  In address order, a candidate that is
 * reachable when its turn comes (marked from an earlier object, or a root)
 * is traversed and promoted on the spot: everything it references is marked
 * then, so later marking may skip it.  A candidate not reachable yet is
 * marked dead at once; should a later root reach it after all, it is
 * late, and gc_free.c moves it to gen 2.  One read of memory instead of
 * two.  The spans where objects were marked dead are noted for gc_free.c.
 * Should the mark stack fail to grow, objects marked but not traversed
 * remain: the rescan to a fixpoint and the separate sweep settle them. */
static void mark_sweep_full(gc_run *r)
{
    if (r->prefetch) {
        mark_then_settle_full(r);
        return;
    }
    type_memo memo = {NULL, 0};
    scan_noting_dead(r, scan_span, &memo);
    finish_scan(r);
}

/* 1, 2 and 3 for a full collection across the heap's workers (gc_par.c),
 * when it has them and the heap is big enough. */
static bool full_in_parallel(gc_run *r)
{
    if (!rc__gc_par_full(r))
        return false;
    r->h->gc.old_count = 0;
    finish_scan(r);
    return true;
}

/* ---- one collection ------------------------------------------------------------- */

static void debug_start(rc_heap *h, int gen)
{
    rc_gc_state *gc = &h->gc;
    FILE *out = gc->debug_out ? gc->debug_out : stderr;
    fprintf(out, "gc: collecting generation %d...\n", gen);
    size_t young = 0;
    for (size_t i = 0; i < gc->young_len; i++)
        young += gc->young[i] != NULL;
    size_t gen0 = gc->young_len - gc->gen0_start - gc->holes0;
    fprintf(out, "gc: objects in each generation: %zu %zu %zu\n", gen0, young - gen0, gc->old_count);
    fprintf(out, "gc: objects in permanent generation: %zu\n", gc->frozen_count);
}

static void update_counts(rc_gc_state *gc, int gen, size_t survivors_old)
{
    if (gen + 1 < 3)
        gc->count[gen + 1]++;
    for (int i = 0; i <= gen; i++)
        gc->count[i] = 0;
    if (gen == 2) {
        gc->long_lived_pending = 0;
        gc->long_lived_total = gc->old_count;
    } else if (gen == 1) {
        gc->long_lived_pending += survivors_old;
    }
}

/* A scan of generations 0..gen: count, mark, sweep, then the dead set.
 * Returns how many were collected; *uncollectable gets the rest. */
static size_t scan(rc_heap *h, int gen, size_t *candidates, size_t *uncollectable)
{
    rc_gc_state *gc = &h->gc;
    young_squeeze(gc, gen == 0 ? gc->gen0_start : 0);      /* the passes read no holes */
    gc_run r = {.h = h, .gen = gen, .full = gen == 2,
                .lo = gen == 0 ? (uint32_t)gc->gen0_start : 0};
    size_t old_before = gc->old_count;
    if (!(r.full && full_in_parallel(&r))) {
        count_refs(&r);
        if (r.full) {
            gc->old_count = 0;
            mark_sweep_full(&r);
        } else {
            mark_reachable(&r);
            sweep(&r);
        }
    }
    update_counts(gc, gen, gen == 1 ? gc->old_count - old_before : 0);
    rc__mapvec_free(&r.stack, &r.stack_cap, sizeof *r.stack);
    if (gc->dirty_from <= gen) {        /* see "dirty generations" above */
        gc->dirty_from = gen + 1;
        note_range(gc);
    }

    size_t collected = 0;
    *uncollectable = 0;
    if (r.dead.marked > 0 || r.dead.len > 0) {
        collected = rc__gc_handle_dead(&r, uncollectable);
        rc__gc_set_dirty(h, 2);         /* members that stayed are in gen 2 */
    }
    gc->dead = NULL;
    rc__mapvec_free(&r.dead.v, &r.dead.cap, sizeof *r.dead.v);
    rc__mapvec_free(&r.dead.spans, &r.dead.spans_cap, sizeof *r.dead.spans);
    rc__gc_young_trim(gc);
    if (gen == 2) {
        gc->long_lived_total = gc->old_count;
        if (gc->old_count <= r.candidates - r.candidates / 4)
            rc__gc_workers_scratch_free(h);    /* sized to a heap that is gone */
    }
    *candidates = r.candidates;
    return collected;
}

/* Every young object goes to gen 2; returns how many. */
static size_t young_to_old(rc_gc_state *gc)
{
    size_t n = 0;
    for (size_t i = 0; i < gc->young_len; i++)
        if (gc->young[i]) {
            gc->young[i]->gc = RC_GC_OLD;
            n++;
        }
    gc->old_count += n;
    return n;
}

/* An automatic collection of clean generations 0..gen (gen < dirty_from):
 * none of their objects can be garbage, so all survive, promoted without a
 * look -- a gen-0 collection moves gen0_start (its holes go with it), an
 * older one writes each young word once.  Returns the candidates a scan
 * would have had. */
static size_t promote_unscanned(rc_heap *h, int gen)
{
    rc_gc_state *gc = &h->gc;
    size_t n = gen == 0 ? gc->young_len - gc->gen0_start - gc->holes0 : young_to_old(gc);
    finish_young(gc, gen, gc->young_len);
    update_counts(gc, gen, gen == 1 ? n : 0);
    rc__gc_young_trim(gc);
    return gen == 2 ? gc->old_count : n;
}

static size_t collect(rc_heap *h, int gen, bool automatic, size_t *uncollectable_out)
{
    rc_gc_state *gc = &h->gc;
    uint64_t t0 = rc__os_now_ns();
    if (gc->debug & RC_GC_DEBUG_STATS)
        debug_start(h, gen);
    rc__debug_check_children(h, gen);
    size_t candidates, uncollectable = 0, collected = 0;
    /* A threaded heap's atomic decrefs note nothing: it always scans. */
    bool unscanned = automatic && gen < gc->dirty_from && !h->mt;
    if (unscanned)
        candidates = promote_unscanned(h, gen);
    else
        collected = scan(h, gen, &candidates, &uncollectable);

    uint64_t dt = rc__os_now_ns() - t0;
    rc_gc_stats *st = &gc->stats[gen];
    st->collections++;
    st->unscanned += unscanned;
    st->collected += collected;
    st->uncollectable += uncollectable;
    st->candidates += candidates;
    st->duration_ns += dt;
    if (gc->debug & RC_GC_DEBUG_STATS) {
        FILE *out = gc->debug_out ? gc->debug_out : stderr;
        fprintf(out, "gc: done, %zu unreachable, %zu uncollectable, %.4fs elapsed\n",
                collected + uncollectable, uncollectable, (double)dt / 1e9);
    }
    *uncollectable_out = uncollectable;
    return collected;
}

static void run_callbacks(rc_heap *h, const char *phase, const rc_gc_info *info)
{
    rc_gc_state *gc = &h->gc;
    /* A callback may remove itself: walk a snapshot of the count. */
    for (size_t i = 0; i < gc->ncallbacks; i++)
        gc->callbacks[i].fn(phase, info, gc->callbacks[i].ctx);
}

/* automatic: started by rc__gc_collect_due, and so free to skip the
 * scan of clean generations; rc_gc_collect always scans. */
static size_t collect_with_callbacks(rc_heap *h, int gen, bool automatic)
{
    rc_gc_state *gc = &h->gc;
    gc->collecting = true;
    rc_gc_info info = {gen, 0, 0};
    run_callbacks(h, "start", &info);
    if (h->mt)
        rc__mt_stop_world(h);      /* restarted for finalizers and weakref callbacks (gc_dead.c) */
    info.collected = collect(h, gen, automatic, &info.uncollectable);
    if (h->mt)
        rc__mt_start_world(h);
    run_callbacks(h, "stop", &info);
    gc->collecting = false;
    return info.collected + info.uncollectable;
}

size_t rc_gc_collect(rc_heap *h, int generation)
{
    if (!h)
        return 0;
    RC_LOCK_HEAP(h);
    if (h->gc.collecting || rc__deaths_queued(h))
        return 0;
    if (generation < 0 || generation > 2)
        generation = 2;
    return collect_with_callbacks(h, generation, false);
}

/* CPython's collect_generations: the oldest generation over its threshold,
 * except that a full collection also waits for the long-lived rule. */
void rc__gc_collect_due(rc_heap *h)
{
    rc_gc_state *gc = &h->gc;
    if (!gc->enabled || gc->collecting || gc->threshold[0] == 0 || gc->count[0] <= gc->threshold[0] ||
        rc__deaths_queued(h))
        return;
    for (int i = 2; i >= 0; i--) {
        if (gc->count[i] <= gc->threshold[i])
            continue;
        if (i == 2 && gc->long_lived_pending < gc->long_lived_total / 4)
            continue;
        collect_with_callbacks(h, i, true);
        return;
    }
}
