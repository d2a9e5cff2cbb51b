/* The dead set where it lies, and the pipeline's last step, delete.
 *
 * A full collection's scan marks its dead objects where they lie (gc.c)
 * and notes the spans holding them.  Settling moves the late ones (marked
 * dead, reached afterwards) to gen 2 and counts each span's members; a
 * span all of whose blocks are members is whole, and its walks need no
 * look at the words (garbage allocated together dies together: rings,
 * lists, trees).  Listing, when a step needs it, moves the members into
 * the dead vector span by span, so the vector keeps the spans' order.
 *
 * Delete, for a set of RC_TYPE_REFS bodies: nothing outside the set
 * refers to a member (such a reference would have made it reachable), so
 * the references between members need no decref; only those leaving the
 * set are dropped (when the scan saw any), then every member dies.  For
 * any other set every member is held by a reference first (a full
 * collection's scan takes it as it marks a member dead: dead_set.held),
 * so that while the members clear none dies and no death cascades through
 * the set; the holds are dropped once all have cleared: a member whose
 * only reference left was ours dies, one still referenced (by what a
 * clear kept) moves to gen 2, where a later collection finds it.  The
 * clear pass notes, per span, the members only the hold keeps.  Either
 * way the dying members of a span that owe nothing but their blocks (no
 * release, no weakrefs) go back with their pool in one step when they
 * were all its objects (rc__free_pool_objects); held in place, a member
 * keeps its pool in use, so whatever user code allocates or frees
 * meanwhile cannot take a member's place. */
#include "gc_impl.h"

#include <stdlib.h>

/* ---- settling, listing, keeping -------------------------------------------------- */

static bool settle_late(member_pass *p, rc_head *o)
{
    if (!(o->gc & RC_GC_REACHABLE))
        return true;
    dead_unhold(&p->r->dead, o);
    survive_old(p->r->h, o);
    return false;
}

void rc__gc_settle(gc_run *r)
{
    dead_set *d = &r->dead;
    for (size_t k = 0; k < d->nspans; k++) {
        dead_span *ds = &d->spans[k];
        rc_span s;
        rc__span_of(ds->start, &s);
        if (d->late) {
            member_group g = {.start = s.start, .stride = s.stride, .count = s.count, .n = ds->members};
            member_pass p = {.r = r};
            each_in_group(&p, &g, settle_late);
            ds->members = p.kept;
        }
        ds->whole = ds->members == s.count;
    }
}

static bool list_member(member_pass *p, rc_head *o)
{
    dead_unhold(&p->r->dead, o);
    dead_list(&p->r->dead, o);
    return true;
}

/* The vector is sized for every member at once: no regrowth.  The steps
 * that want a list run user code or count references: the holds go. */
bool rc__gc_list(gc_run *r)
{
    dead_set *d = &r->dead;
    if (!rc__mapvec_reserve(&d->v, &d->cap, d->marked - d->late, sizeof *d->v, 256, RC_GC_REFS))
        return false;
    each_member(r, list_member, NULL);
    d->listed = true;
    d->held = false;
    return true;
}

static bool keep_member(member_pass *p, rc_head *o)
{
    survive_old(p->r->h, o);
    return false;
}

/* Without the spans (lost) the marked objects are found by walking every
 * pool; a later full collection finds the garbage again. */
void rc__gc_keep_all(gc_run *r)
{
    if (r->dead.listed) {
        each_member(r, keep_member, NULL);
        return;
    }
    rc_span_iter it;
    rc_span s;
    rc__span_iter_init_trackable(r->h, &it);
    while (rc__span_next(&it, &s))
        for (char *p = s.start; p < s.start + s.count * s.stride; p += s.stride) {
            rc_head *o = (rc_head *)(void *)p;
            if (o->tw && is_dead_mark(o->gc)) {
                dead_unhold(&r->dead, o);
                survive_old(r->h, o);
            }
        }
    r->dead.held = false;
}

/* ---- delete ------------------------------------------------------------------------- */

RC_INLINE bool hold_member(member_pass *p, rc_head *o)
{
    (void)p;
    o->refcnt++;
    return true;
}

/* The members a held set has not held yet (dead_set.held). */
RC_INLINE bool hold_refs_member(member_pass *p, rc_head *o)
{
    if (!holds_itself(o))
        hold_member(p, o);
    return true;
}

/* Held, o dies when the hold is dropped, with nothing but its block to
 * give back.  Once only the hold is left nothing else references o, so
 * no later clear can change that. */
RC_INLINE bool dies_with_pool(const rc_head *o)
{
    return o->refcnt == 1 && !(rc__hflags(o) & RC_HF_WEAKREFS);
}

/* The clear pass looks at each member again CLEAR_LAG members later, its
 * header still in the cache, instead of a pass over the set before each
 * pool is freed: by then the clears of its neighbours (a ring's, a list's
 * or a tree's, allocated together) have dropped their references to it.
 * A member still referenced then is not counted, and its span's members
 * are looked at one by one when released (release_group). */
#define CLEAR_LAG 16
_Static_assert((CLEAR_LAG & (CLEAR_LAG - 1)) == 0, "a power of two: the slot is a mask of the count");
typedef struct clear_lag {
    rc_head   *o[CLEAR_LAG];     /* NULL: an empty slot */
    dead_span *span[CLEAR_LAG];
    unsigned   k;                /* members cleared */
    dead_span *at;               /* the span being cleared (NULL: no pools) */
} clear_lag;

RC_INLINE void lag_look(rc_head *o, dead_span *s)
{
    if (s && dies_with_pool(o))
        s->dying++;
}

/* o joins the ring; the member it replaces, CLEAR_LAG members older, is
 * looked at. */
RC_INLINE void lag_note(clear_lag *q, rc_head *o)
{
    unsigned i = q->k++ & (CLEAR_LAG - 1);
    if (q->o[i])
        lag_look(q->o[i], q->span[i]);
    q->o[i] = o;
    q->span[i] = q->at;
}

RC_INLINE bool clear_member(member_pass *p, rc_head *o)
{
    rc__clear(o);                /* nothing for a member without clear */
    lag_note(p->arg, o);
    return true;
}

/* A whole span's members are its blocks, so each is looked at by address
 * CLEAR_LAG blocks after it is cleared, without the ring; only its last
 * CLEAR_LAG go through the ring, to be looked at after the clears that
 * follow (garbage allocated together straddles pools). */
static void clear_whole(member_pass *p, const member_group *g)
{
    clear_lag *q = p->arg;
    size_t st = g->stride, n = g->n, first = n < CLEAR_LAG ? n : CLEAR_LAG;
    char *b = g->start, *end = b + n * st;
    for (; b < g->start + first * st; b += st)
        rc__clear((rc_head *)(void *)b);
    for (; b < end; b += st) {
        rc__clear((rc_head *)(void *)b);
        q->at->dying += dies_with_pool((rc_head *)(void *)(b - CLEAR_LAG * st));
    }
    for (b = end - first * st; b < end; b += st)
        lag_note(q, (rc_head *)(void *)b);
    p->seen += n;
    p->kept += n;
}

/* Clears every member, counting in each span those that die with it. */
static void clear_members(gc_run *r)
{
    dead_set *d = &r->dead;
    clear_lag q = {.k = 0};
    member_pass p = {.r = r, .arg = &q};
    group_iter it = {0, 0};
    member_group g;
    while (next_group(d, &it, &g)) {
        q.at = d->nspans ? &d->spans[it.k - 1] : NULL;
        if (g.whole && !g.listed)
            clear_whole(&p, &g);
        else
            each_in_group(&p, &g, clear_member);
    }
    for (unsigned i = 0; i < CLEAR_LAG; i++)
        if (q.o[i])
            lag_look(q.o[i], q.span[i]);
}

/* Drops o's references that leave the set (o is an RC_TYPE_REFS body).
 * The members stay intact while the user code this may run runs. */
RC_INLINE bool drop_refs_out(member_pass *p, rc_head *o)
{
    (void)p;
    void **c = (void **)rc__body(o);
    for (size_t i = 0, n = rc__nrefs(rc__type(o)); i < n; i++)
        if (c[i] && !is_member(rc__head(c[i])->gc))
            rc_decref(c[i]);
    return true;
}

/* A member whose only reference left was the set's: finalized, unlinked
 * and cleared already (one without clear drops what traverse visits
 * here), so its death skips to the end.  A weakref made after the set's
 * were cleared (by a callback, a finalizer or a clear) gets its callback
 * first; the member is out of the set by then. */
static void free_member(rc_heap *h, rc_head *o)
{
    o->gc = RC_GC_UNTRACKED;
    if (rc__hflags(o) & RC_HF_WEAKREFS)
        rc__weak_on_dealloc(h, o);
    if (rc__type_clears(rc__type(o)))
        rc__release_and_free(h, o);
    else
        rc__free_dead(h, o);
}

/* Drops the hold (held) and frees o, or leaves it in the set to die with
 * its pool (pool); one still referenced survives. */
RC_INLINE bool release_member(member_pass *p, rc_head *o)
{
    rc_heap *h = p->r->h;
    if (p->held && --o->refcnt != 0) {
        survive_old(h, o);
        return false;
    }
    if (!p->pool || (rc__hflags(o) & RC_HF_WEAKREFS)) {
        free_member(h, o);
        return false;
    }
    return true;
}

RC_INLINE bool free_dying(member_pass *p, rc_head *o)
{
    o->gc = RC_GC_UNTRACKED;
    rc__release_and_free(p->r->h, o);
    return false;
}

/* n dying members of g were all of its pool's objects: the pool is
 * emptied in one step.  False, nothing done, otherwise. */
static bool free_pool(rc_heap *h, const member_group *g, size_t n)
{
    return rc__free_pool_objects(h, g->start, n);
}

/* Whether every member of g dies with its pool without being released one
 * by one: quiet, none is held and none can have weakrefs; held, the clear
 * pass saw every member of a whole span die with it (garbage allocated
 * together dies together).  Either way they are not read again. */
static bool group_dies_with_pool(const member_pass *p, const member_group *g, bool quiet)
{
    if (!p->pool)
        return false;
    return quiet || (p->held && g->whole && g->dying == g->n);
}

/* The members of one group: those that die together go back with their
 * pool, the others one by one. */
static void release_group(member_pass *p, const member_group *g, bool quiet)
{
    if (g->n == 0)               /* every object marked dead there was late */
        return;
    if (group_dies_with_pool(p, g, quiet) && free_pool(p->r->h, g, g->n)) {
        p->seen += g->n;
        return;
    }
    size_t kept = p->kept;
    each_in_group(p, g, release_member);
    size_t dying = p->kept - kept;
    if (!dying || free_pool(p->r->h, g, dying))
        return;
    /* Their pool holds other objects too (or a callback allocated in it):
     * one by one.  They kept their marks (and their slots) for this. */
    member_group rest = *g;
    rest.whole = false;
    if (!rest.listed)
        rest.n = dying;
    member_pass q = {.r = p->r};
    each_in_group(&q, &rest, free_dying);
}

/* Returns how many members there were. */
static size_t release_all(gc_run *r, bool held)
{
    dead_set *d = &r->dead;
    bool pool = !d->releases && !d->clearless;
    bool quiet = !held && !d->finalizers && !(d->hflags & RC_HF_WEAKREFS);
    member_pass p = {.r = r, .held = held};
    group_iter it = {0, 0};
    member_group g;
    while (next_group(d, &it, &g)) {
        p.pool = pool && g.start;
        release_group(&p, &g, quiet);
    }
    return p.seen;
}

static size_t delete_members(gc_run *r)
{
    dead_set *d = &r->dead;
    if (!d->not_refs) {
        if (d->refs_out)
            each_member(r, drop_refs_out, NULL);
        return release_all(r, false);
    }
    if (!d->held)
        each_member(r, hold_member, NULL);
    else if (d->some_refs)
        each_member(r, hold_refs_member, NULL);
    clear_members(r);
    return release_all(r, true);
}

/* The arenas the set empties go back together once it is freed, by the
 * unmapper when they are many: a collection is a pause the program waits
 * for.  (A death by refcount gives its arenas back at once, inside the
 * call, as CPython does: mprof's brackets see the memory fall there.) */
size_t rc__gc_delete(gc_run *r)
{
    rc__alloc_bulk_begin(r->h);
    size_t n = delete_members(r);
    rc__alloc_bulk_end(r->h);
    return n;
}
