/* The dead objects of a full collection, marked where they lie (gc.c's
 * scan gives them RC_GC_DEAD without an index: no dead vector is written).
 *
 * Freed in place when nothing about them needs the set as a list: every
 * member is an RC_TYPE_REFS body (so clearing is dropping references, done
 * by the runtime), none has a finalizer or weakrefs, and the debug flags do
 * not ask to list or keep them.  Nothing outside the set refers to a
 * member (such a reference would have made it reachable), so references
 * between members need no decref: only those leaving the set are dropped,
 * and the members are freed pool by pool, a pool whose blocks all died
 * at once.  Otherwise, when nothing of CPython's order but the clears
 * applies, each member is held where it lies and cleared there
 * (clear_held); else the marks are gathered into the dead vector, from
 * the noted pools, for gc_dead.c, which does everything in that order. */
#include "gc_impl.h"

#include <stdlib.h>

/* Nothing of CPython's order (gc_dead.c) has to happen before the set is
 * cleared: no member has a finalizer or weakrefs, and no debug flag asks
 * to list or keep the members. */
static bool clears_first(const gc_run *r)
{
    const dead_set *d = &r->dead;
    return !d->finalizers && !(d->hflags & RC_HF_WEAKREFS) &&
           !(r->h->gc.debug & (RC_GC_DEBUG_COLLECTABLE | RC_GC_DEBUG_SAVEALL));
}

static bool frees_in_place(const gc_run *r)
{
    return !r->dead.not_refs && clears_first(r);
}

/* Objects marked dead that marking reached later survive: to gen 2. */
RC_INLINE bool settle_late(rc_heap *h, rc_head *o, uint32_t g)
{
    if (!(g & RC_GC_REACHABLE))
        return false;
    survive_old(h, o);
    return true;
}

/* ---- references leaving the set ------------------------------------------------ */

typedef struct refs_out {
    void  **v;
    size_t  len, cap;
} refs_out;

/* Every reference from a member to a non-member, gathered before anything
 * is freed: dropping one may run user code (a finalizer of the object it
 * frees), which must not run inside a walk of the pools.  False when the
 * list cannot grow. */
static bool gather_refs_out(rc_heap *h, refs_out *out)
{
    bool ok = true;
    RC_FOR_EACH_TRACKABLE(h, o, {
        if (!ok || !is_member(o->gc))
            continue;
        void **p = (void **)rc__body(o);
        for (size_t i = 0, n = rc__nrefs(rc__type(o)); i < n; i++) {
            if (!p[i] || is_member(rc__head(p[i])->gc))
                continue;
            if (out->len == out->cap &&
                !rc__vec_reserve(&out->v, &out->cap, out->len + 1, sizeof *out->v, 256, SIZE_MAX)) {
                ok = false;
                break;
            }
            out->v[out->len++] = p[i];
        }
    });
    return ok;
}

/* Without the memory to free the set safely, it stays: every marked
 * object moves to gen 2, and a later full collection finds the garbage. */
static void keep_all(rc_heap *h)
{
    RC_FOR_EACH_TRACKABLE(h, o, {
        if (is_dead_mark(o->gc))
            survive_old(h, o);
    });
}

/* ---- freeing where they lie ----------------------------------------------------- */

/* Frees the members in span s: the whole pool at once when they are all of
 * its objects, else one by one.  Returns how many. */
static size_t free_span(rc_heap *h, const rc_span *s)
{
    char *end = s->start + s->count * s->stride;
    size_t members = 0;
    bool release = false;
    for (char *p = s->start; p < end; p += s->stride) {
        rc_head *o = (rc_head *)(void *)p;
        uint32_t g = o->gc;
        if (!o->tw || !is_dead_mark(g) || settle_late(h, o, g))
            continue;
        members++;
        release |= rc__type(o)->release != NULL;
    }
    if (!members)
        return 0;
    h->live_objects -= members;
    if (!release && rc__free_pool_objects(h, s->start, members))
        return members;
    h->live_objects += members;      /* rc__release_and_free counts each */
    /* Freeing the last member may hand the pool back, and outside a walk
     * its arena too (arena_spare 0): nothing after it is read. */
    size_t left = members;
    for (char *p = s->start; left > 0 && p < end; p += s->stride) {
        rc_head *o = (rc_head *)(void *)p;
        if (!o->tw || !is_member(o->gc))
            continue;
        o->gc = RC_GC_UNTRACKED;
        rc__release_and_free(h, o);
        left--;
    }
    return members;
}

/* Every marked object is a member and no user code ran since marking:
 * only the spans the scan noted are visited, and a pool whose objects all
 * died is given back without reading it again. */
static size_t free_noted_spans(gc_run *r)
{
    rc_heap *h = r->h;
    const dead_set *d = &r->dead;
    size_t n = 0;
    for (size_t i = 0; i < d->nspans; i++) {
        const struct dead_span *ds = &d->spans[i];
        if (!d->releases && rc__free_pool_objects(h, ds->start, ds->marked)) {
            h->live_objects -= ds->marked;
            n += ds->marked;
            continue;
        }
        rc_span s;
        rc__span_of(ds->start, &s);
        n += free_span(h, &s);
    }
    return n;
}

static size_t free_in_place(gc_run *r)
{
    rc_heap *h = r->h;
    if (!r->dead.refs_out && !r->dead.late && !r->dead.spans_lost)
        return free_noted_spans(r);
    if (r->dead.refs_out) {
        refs_out out = {NULL, 0, 0};
        if (!gather_refs_out(h, &out)) {
            free(out.v);
            keep_all(h);
            return 0;
        }
        /* The members are intact while user code may run here. */
        for (size_t i = 0; i < out.len; i++)
            rc_decref(out.v[i]);
        free(out.v);
    }
    size_t n = 0;
    rc_span_iter it;
    rc_span s;
    rc__span_iter_init_trackable(h, &it);
    while (rc__span_next(&it, &s))
        n += free_span(h, &s);
    return n;
}

/* ---- or cleared ------------------------------------------------------------------- */

/* Gathers the members of span s, settling the late objects; returns how
 * many there are.  held: each is held by a reference where it lies and
 * keeps its mark (see clear_held); else it joins the dead vector by
 * rc__gc_dead_push, its word then holding its index, as
 * rc__gc_handle_dead needs. */
/* One member: held, or pushed on the vector; 1 if it was gathered. */
RC_INLINE size_t gather_one(gc_run *r, rc_head *o, bool held)
{
    if (held) {
        o->refcnt++;
        return 1;
    }
    if (rc__gc_dead_push(&r->dead, o))
        return 1;
    r->dead.lost = true;             /* no room: all collected next time */
    survive_old(r->h, o);
    return 0;
}

RC_INLINE size_t gather_span(gc_run *r, const rc_span *s, bool held)
{
    size_t n = 0;
    RC_FOR_EACH_IN_SPAN(s, o, RC_NO_AHEAD, NULL, {
        uint32_t g = o->gc;
        if (!is_dead_mark(g) || settle_late(r->h, o, g))
            continue;
        n += gather_one(r, o, held);
    });
    return n;
}

/* The same for a span every block of which the scan marked dead, with
 * no late objects in the set: each block is a member, and none needs a
 * look at its word.  (Whole pools die together: rings, lists, trees.) */
RC_INLINE size_t gather_whole_span(gc_run *r, const rc_span *s, bool held)
{
    size_t n = 0;
    for (size_t i = 0; i < s->count; i++)
        n += gather_one(r, (rc_head *)(void *)(s->start + i * s->stride), held);
    return n;
}

/* Gathers the members in address order: from the noted spans when the
 * scan could keep the list (by_span: each span's count becomes how many
 * members it gave), else from every pool.  No user code has run since
 * the scan, so the noted spans are as it left them.  Returns how many
 * members there are. */
RC_INLINE size_t gather(gc_run *r, bool held)
{
    dead_set *d = &r->dead;
    size_t n = 0;
    if (d->spans_lost) {
        rc_span_iter it;
        rc_span s;
        rc__span_iter_init_trackable(r->h, &it);
        while (rc__span_next(&it, &s))
            n += gather_span(r, &s, held);
        return n;
    }
    for (size_t k = 0; k < d->nspans; k++) {
        struct dead_span *ds = &d->spans[k];
        rc_span s;
        rc__span_of(ds->start, &s);
        bool whole = s.count == ds->marked && !d->late;
        ds->marked = whole ? gather_whole_span(r, &s, held) : gather_span(r, &s, held);
        n += ds->marked;
        if (whole && held)
            ds->marked |= RC_SPAN_WHOLE;
    }
    d->by_span = true;
    return n;
}

static size_t handle_as_vector(gc_run *r, size_t *uncollectable)
{
    rc_heap *h = r->h;
    dead_set *d = &r->dead;
    /* Room for every marked object at once (late ones will not need it):
     * no regrowth.  Should it fail, the pushes grow it, or keep the set. */
    (void)rc__vec_reserve(&d->v, &d->cap, d->marked, sizeof *d->v, 256, RC_GC_REFS);
    (void)gather(r, false);
    if (d->len == 0)
        return 0;
    h->gc.dead = d;
    size_t collected = rc__gc_handle_dead(r, uncollectable);
    h->gc.dead = NULL;
    return collected;
}

/* Every member has clear, clearing comes first, and the scan kept the
 * list of spans. */
static bool clears_at_once(const gc_run *r)
{
    return !r->dead.clearless && !r->dead.spans_lost && clears_first(r);
}

/* Then the members are held where they lie as they are gathered, with no
 * pass of its own, and cleared there, span by span (in_place).  Held, no
 * member can die before the holds are dropped, nor its word change, and
 * the pools holding them stay: nothing user code allocates or frees can
 * take a member's place, so the clears and the drop of the holds find
 * them again by address (gc_dead.c).  No dead vector: it would be fresh
 * memory, and faulting its pages in cost more than the rest of gathering
 * (10^5 dead ring nodes: 3.5-4 ns of 11 per object).  Returns how many
 * were collected. */
static size_t clear_held(gc_run *r)
{
    size_t held = gather(r, true);
    r->dead.in_place = true;
    rc__gc_clear_held(r);
    return held;
}

size_t rc__gc_handle_marked(gc_run *r, size_t *uncollectable)
{
    *uncollectable = 0;
    if (frees_in_place(r))
        return free_in_place(r);
    return clears_at_once(r) ? clear_held(r) : handle_as_vector(r, uncollectable);
}
