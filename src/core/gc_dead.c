/* The dead set of a collection: what cannot be cleared stays
 * (uncollectable, gc.garbage), weakrefs are cleared and their callbacks
 * run, finalizers run once, resurrected objects survive, the rest is
 * cleared and freed.  CPython's order (Python/gc.c); docs/design-gc.md. */
#include "gc_impl.h"

#include <stdio.h>
#include <stdlib.h>

static void debug_line(rc_heap *h, const char *what, rc_head *o)
{
    FILE *out = h->gc.debug_out ? h->gc.debug_out : stderr;
    fprintf(out, "gc: %s <%s %p>\n", what, rc__type(o)->name, rc__body(o));
}

static bool garbage_append(rc_heap *h, rc_head *o)
{
    rc_gc_state *gc = &h->gc;
    if (!rc__vec_reserve(&gc->garbage, &gc->garbage_cap, gc->garbage_len + 1, sizeof *gc->garbage, 16, SIZE_MAX))
        return false;
    o->refcnt++;
    gc->garbage[gc->garbage_len++] = rc__body(o);
    return true;
}

/* Per-member counters for the analyses below, indexed like the dead set. */
typedef struct dead_counts {
    uint32_t *n;
    bool     *flag;
    rc_head **work;
    size_t    nwork;
    gc_run   *r;
} dead_counts;

static uint32_t dead_index(const rc_head *o) { return o->gc & RC_GC_REFS; }

static int visit_count_dead(void *child, void *arg)
{
    dead_counts *c = arg;
    rc_head *ch = rc__head(child);
    if (is_cand(ch->gc))
        c->n[dead_index(ch)]++;
    return 0;
}

static int visit_release_dead(void *child, void *arg)
{
    dead_counts *c = arg;
    rc_head *ch = rc__head(child);
    if (is_cand(ch->gc)) {
        uint32_t i = dead_index(ch);
        if (--c->n[i] == 0 && !c->flag[i]) {
            c->flag[i] = true;
            c->work[c->nwork++] = ch;
        }
    }
    return 0;
}

static int visit_keep_dead(void *child, void *arg)
{
    dead_counts *c = arg;
    rc_head *ch = rc__head(child);
    if (is_cand(ch->gc) && c->flag[dead_index(ch)]) {
        c->flag[dead_index(ch)] = false;
        c->work[c->nwork++] = ch;
    }
    return 0;
}

/* Which dead objects clearing cannot free: clearing drops the references
 * of members that have `clear`; members without one keep theirs until they
 * die.  Counting only references from clear-less members, a member whose
 * count is 0 dies, releasing its references in turn; whoever is left is
 * held by a cycle of clear-less members: uncollectable (flag false) -- and
 * so is everything a member left references, since it is not cleared. */
static bool find_collectable(gc_run *r, dead_counts *c)
{
    dead_set *d = &r->dead;
    for (size_t i = 0; i < d->len; i++)
        if (!rc__type_clears(rc__type(d->v[i])))
            rc__traverse(d->v[i], visit_count_dead, c);
    for (size_t i = 0; i < d->len; i++)
        if (c->n[i] == 0) {
            c->flag[i] = true;
            c->work[c->nwork++] = d->v[i];
        }
    while (c->nwork > 0) {
        rc_head *o = c->work[--c->nwork];
        if (!rc__type_clears(rc__type(o)))
            rc__traverse(o, visit_release_dead, c);
    }
    /* A member that stays is not cleared: what it references stays too. */
    for (size_t i = 0; i < d->len; i++)
        if (!c->flag[i])
            c->work[c->nwork++] = d->v[i];
    while (c->nwork > 0)
        rc__traverse(c->work[--c->nwork], visit_keep_dead, c);
    return true;
}

/* Moves the uncollectable members out of the dead set: the clear-less ones
 * to gc.garbage, all of them to gen 2.  Returns how many. */
static size_t keep_uncollectable(gc_run *r)
{
    dead_set *d = &r->dead;
    if (!d->clearless)
        return 0;
    dead_counts c = {calloc(d->len, sizeof *c.n), calloc(d->len, sizeof *c.flag),
                     malloc(d->len * sizeof *c.work), 0, r};
    size_t kept = 0;
    bool ok = c.n && c.flag && c.work && find_collectable(r, &c);
    for (size_t i = 0; i < d->len; i++) {
        if (ok && c.flag[i])
            continue;
        /* Without the memory to decide, everything is kept: safe, later. */
        rc_head *o = d->v[i];
        if (r->h->gc.debug & RC_GC_DEBUG_UNCOLLECTABLE)
            debug_line(r->h, "uncollectable", o);
        if (!rc__type_clears(rc__type(o)) || (r->h->gc.debug & RC_GC_DEBUG_SAVEALL))
            garbage_append(r->h, o);
        survive_old(r->h, o);
        d->v[i] = NULL;
        kept++;
    }
    free(c.n);
    free(c.flag);
    free(c.work);
    return kept;
}

/* Runs each member's finalizer once, holding a reference so a finalizer
 * that drops references cannot free a member under our feet.  Returns
 * whether any ran. */
static bool run_finalizers(gc_run *r)
{
    dead_set *d = &r->dead;
    bool ran = false;
    for (size_t i = 0; i < d->len; i++) {
        rc_head *o = d->v[i];
        if (!o || !rc__type(o)->finalize || (rc__hflags(o) & RC_HF_FINALIZED))
            continue;
        rc__hflag_set(o, RC_HF_FINALIZED);
        o->refcnt++;
        rc__type(o)->finalize(rc__body(o));
        ran = true;
        rc_decref(rc__body(o));   /* may free o: its slot becomes NULL */
    }
    return ran;
}

static int visit_uncount_dead(void *child, void *arg)
{
    dead_counts *c = arg;
    rc_head *ch = rc__head(child);
    if (is_cand(ch->gc) && c->n[dead_index(ch)] > 0)
        c->n[dead_index(ch)]--;
    return 0;
}

static int visit_reach_dead(void *child, void *arg)
{
    dead_counts *c = arg;
    rc_head *ch = rc__head(child);
    if (is_cand(ch->gc) && !c->flag[dead_index(ch)]) {
        c->flag[dead_index(ch)] = true;
        c->work[c->nwork++] = ch;
    }
    return 0;
}

/* After finalizers: members referenced from outside the dead set again
 * (resurrected), and everything they reach, survive intact. */
static void keep_resurrected(gc_run *r)
{
    dead_set *d = &r->dead;
    dead_counts c = {calloc(d->len, sizeof *c.n), calloc(d->len, sizeof *c.flag),
                     malloc(d->len * sizeof *c.work), 0, r};
    bool ok = c.n && c.flag && c.work;
    if (ok) {
        for (size_t i = 0; i < d->len; i++)
            if (d->v[i])
                c.n[i] = d->v[i]->refcnt;
        for (size_t i = 0; i < d->len; i++)
            if (d->v[i])
                rc__traverse(d->v[i], visit_uncount_dead, &c);
        for (size_t i = 0; i < d->len; i++)
            if (d->v[i] && c.n[i] > 0 && !c.flag[i]) {
                c.flag[i] = true;
                c.work[c.nwork++] = d->v[i];
            }
        while (c.nwork > 0)
            rc__traverse(c.work[--c.nwork], visit_reach_dead, &c);
    }
    for (size_t i = 0; i < d->len; i++) {
        if (d->v[i] && (!ok || c.flag[i])) {
            survive_old(r->h, d->v[i]);
            d->v[i] = NULL;
        }
    }
    free(c.n);
    free(c.flag);
    free(c.work);
}

/* ---- clearing -------------------------------------------------------------------- */

/* A member whose only reference left is the collector's: finalized,
 * unlinked and cleared already (one without clear drops what traverse
 * visits here), so its death skips to the end.  A weakref made after the
 * set's were cleared (by a callback, a finalizer or a clear) gets its
 * callback first; the member is out of the set by then. */
static void free_cleared(rc_heap *h, rc_head *o)
{
    o->gc = RC_GC_UNTRACKED;
    if (rc__hflags(o) & RC_HF_WEAKREFS)
        rc__weak_on_dealloc(h, o);
    if (rc__type_clears(rc__type(o)))
        rc__release_and_free(h, o);
    else
        rc__free_dead(h, o);
}

/* Drops the holds on v[a..b) once every member has cleared: a member
 * whose only reference left is ours dies, one still referenced (by a
 * member not freed yet, or by what a clear kept) moves to gen 2, where a
 * later collection finds it.  pool: the span the range was gathered
 * from, whose members need nothing but their blocks back (no release,
 * no weakrefs) -- those die together, the pool at once when they are
 * all its objects; NULL: each dies as it is met. */
static void drop_holds(gc_run *r, size_t a, size_t b, char *pool)
{
    rc_heap *h = r->h;
    rc_head **v = r->dead.v;
    size_t dying = 0;
    for (size_t i = a; i < b; i++) {
        rc_head *o = v[i];
        if (!o)
            continue;
        if (--o->refcnt != 0) {
            survive_old(h, o);
            v[i] = NULL;
        } else if (!pool || (rc__hflags(o) & RC_HF_WEAKREFS)) {
            v[i] = NULL;
            free_cleared(h, o);
        } else {
            dying++;
        }
    }
    /* The dying members keep the pool: it is still theirs to give back,
     * unless a weakref's callback above allocated in it -- then they go
     * one by one. */
    if (!dying || rc__free_pool_objects(h, pool, dying)) {
        h->live_objects -= dying;
        return;
    }
    for (size_t i = a; i < b; i++)
        if (v[i]) {
            v[i]->gc = RC_GC_UNTRACKED;
            rc__release_and_free(h, v[i]);
        }
}

/* Runs body with o bound to each member of a span held where they lie
 * (in_place), in address order: every block of a whole span, else the
 * first `n` blocks whose words carry the scan's dead mark -- a member's
 * cannot change while it is held, and nothing else's can become one.
 * Past the last member nothing is read: freeing it may hand the pool
 * back.  The span's pool is in use while it holds a member.  (The span's
 * end bounds the walk all the same: a clear that drops a reference it
 * does not own could kill a member, and the walk must not run past the
 * pool looking for it.) */
#define FOR_EACH_HELD(ds, n, whole, o, ...)                                   \
    do {                                                                      \
        rc_span s_;                                                           \
        rc__span_of((ds)->start, &s_);                                        \
        size_t left_ = (n);                                                   \
        if (whole) {                                                          \
            for (size_t i_ = 0; i_ < left_; i_++) {                           \
                rc_head *o = (rc_head *)(void *)(s_.start + i_ * s_.stride);  \
                __VA_ARGS__                                                   \
            }                                                                 \
            break;                                                            \
        }                                                                     \
        char *end_ = s_.start + s_.count * s_.stride;                         \
        for (char *p_ = s_.start; left_ > 0 && p_ < end_; p_ += s_.stride) {  \
            rc_head *o = (rc_head *)(void *)p_;                               \
            if (!o->tw || !is_dead_mark(o->gc))                               \
                continue;                                                     \
            left_--;                                                          \
            __VA_ARGS__                                                       \
        }                                                                     \
    } while (0)

/* Whether every member of a whole span dies with nothing but its block
 * to give back (no reference left but ours, no weakrefs): then its pool
 * goes back after this one read of each. */
static bool whole_span_dies(const struct dead_span *ds)
{
    bool dies = true;
    FOR_EACH_HELD(ds, span_members(ds), true, o, {
        dies &= o->refcnt == 1 && !(rc__hflags(o) & RC_HF_WEAKREFS);
    });
    return dies;
}

/* drop_holds for a span held in place.  The dying ones keep their marks
 * until they are freed, so a second walk finds them should the pool not
 * go back at once; survivors have left (gen 2), and what a weakref's
 * callback allocated in a freed member's place never has a mark. */
static void drop_in_place(gc_run *r, const struct dead_span *ds, bool pool)
{
    rc_heap *h = r->h;
    if (pool && span_whole(ds) && whole_span_dies(ds) &&
        rc__free_pool_objects(h, ds->start, span_members(ds))) {
        h->live_objects -= span_members(ds);
        return;
    }
    size_t dying = 0;
    FOR_EACH_HELD(ds, span_members(ds), span_whole(ds), o, {
        if (--o->refcnt != 0)
            survive_old(h, o);
        else if (!pool || (rc__hflags(o) & RC_HF_WEAKREFS))
            free_cleared(h, o);
        else
            dying++;
    });
    if (!dying || rc__free_pool_objects(h, ds->start, dying)) {
        h->live_objects -= dying;
        return;
    }
    FOR_EACH_HELD(ds, dying, false, o, {
        o->gc = RC_GC_UNTRACKED;
        rc__release_and_free(h, o);
    });
}

RC_INLINE void clear_listed(rc_head **v, size_t a, size_t b)
{
    for (size_t i = a; i < b; i++)
        if (v[i])
            rc__clear(v[i]);         /* nothing for a member without clear */
}

/* Clears every member in address order.  The clears never move the
 * vector, and held, no member leaves a hole in it or its place. */
static void clear_members(dead_set *d)
{
    if (!d->in_place) {
        clear_listed(d->v, 0, d->len);
        return;
    }
    for (size_t k = 0; k < d->nspans; k++) {
        const struct dead_span *ds = &d->spans[k];
        FOR_EACH_HELD(ds, span_members(ds), span_whole(ds), o, { rc__clear(o); });
    }
}

/* Every member is held by the caller, so while the members with clear
 * drop their references none of them dies and no death cascades through
 * the set; the holds are dropped once all have cleared.  Members gathered
 * pool by pool (by_span) are freed pool by pool. */
void rc__gc_clear_held(gc_run *r)
{
    dead_set *d = &r->dead;
    clear_members(d);
    bool pool = !d->releases && !d->clearless;
    if (d->in_place) {
        for (size_t k = 0; k < d->nspans; k++)
            drop_in_place(r, &d->spans[k], pool);
        return;
    }
    if (!d->by_span) {
        drop_holds(r, 0, d->len, NULL);
        return;
    }
    size_t i = 0;
    for (size_t k = 0; k < d->nspans; i += d->spans[k++].marked)
        drop_holds(r, i, i + d->spans[k].marked, pool ? d->spans[k].start : NULL);
    rc_assert(i == d->len, "dead vector", NULL, "spans give %zu members, the vector %zu", i, d->len);
}

/* Breaks the cycles: every member held by a reference, then cleared.
 * Returns how many were. */
static size_t clear_dead(gc_run *r)
{
    dead_set *d = &r->dead;
    size_t held = 0;
    for (size_t i = 0; i < d->len; i++)
        if (d->v[i]) {
            d->v[i]->refcnt++;
            held++;
        }
    rc__gc_clear_held(r);
    return held;
}

/* The bulk case: every member is an RC_TYPE_REFS body.  Nothing outside
 * the dead set refers to a member (such a reference would have made it
 * reachable), so the references between members need no decref at all:
 * only those leaving the set are dropped, then every member is freed as it
 * is met — no holds, no clears, no cascades. */
static size_t free_dead_refs(gc_run *r)
{
    dead_set *d = &r->dead;
    size_t n = 0;
    for (size_t i = 0; i < d->len; i++) {
        rc_head *o = d->v[i];
        if (!o)
            continue;
        void **p = (void **)rc__body(o);
        for (size_t k = 0, nk = rc__nrefs(rc__type(o)); k < nk; k++)
            if (p[k] && !is_cand(rc__head(p[k])->gc))
                rc_decref(p[k]);
    }
    for (size_t i = 0; i < d->len; i++) {
        rc_head *o = d->v[i];
        if (!o)
            continue;
        d->v[i] = NULL;
        if (rc__hflags(o) & RC_HF_WEAKREFS)
            rc__weak_on_dealloc(r->h, o);   /* made by a callback meanwhile */
        o->gc = RC_GC_UNTRACKED;
        rc__release_and_free(r->h, o);
        n++;
    }
    return n;
}

static void save_all(gc_run *r)
{
    dead_set *d = &r->dead;
    for (size_t i = 0; i < d->len; i++) {
        if (!d->v[i])
            continue;
        garbage_append(r->h, d->v[i]);
        survive_old(r->h, d->v[i]);
        d->v[i] = NULL;
    }
}

/* Returns collected; *uncollectable gets the rest. */
size_t rc__gc_handle_dead(gc_run *r, size_t *uncollectable)
{
    rc_heap *h = r->h;
    dead_set *d = &r->dead;
    *uncollectable = 0;
    if (d->lost) {
        for (size_t i = 0; i < d->len; i++)
            if (d->v[i])
                survive_old(h, d->v[i]);
        return 0;
    }
    *uncollectable = keep_uncollectable(r);
    if (h->gc.debug & RC_GC_DEBUG_COLLECTABLE)
        for (size_t i = 0; i < d->len; i++)
            if (d->v[i])
                debug_line(h, "collectable", d->v[i]);
    /* Callbacks and finalizers are user code: either may store a new
     * reference to a member (CPython rechecks after both, too). */
    bool user_code_ran = false;
    if (d->hflags & RC_HF_WEAKREFS)
        user_code_ran = rc__weak_clear_dead(h, d->v, d->len) > 0;
    if (d->finalizers)
        user_code_ran |= run_finalizers(r);
    if (user_code_ran)
        keep_resurrected(r);
    if (h->gc.debug & RC_GC_DEBUG_SAVEALL) {
        size_t n = 0;
        for (size_t i = 0; i < d->len; i++)
            n += d->v[i] != NULL;
        save_all(r);
        return n;
    }
    return d->not_refs ? clear_dead(r) : free_dead_refs(r);
}
