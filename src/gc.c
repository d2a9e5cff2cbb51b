/* The generational cycle collector (design: docs/design-gc.md).
 *
 * Invariants kept here (outside a collection):
 *   - A tracked object is in exactly one of: gen 0, gen 1 (both in the young
 *     vector, gc word = its index), gen 2 (gc == RC_GC_OLD), the permanent
 *     generation of freeze (gc == RC_GC_FROZEN).  Untracked: RC_GC_UNTRACKED.
 *   - young[0..gen0_start) is gen 1, young[gen0_start..young_len) is gen 0.
 *   - old_count / frozen_count count the objects in gen 2 / permanent.
 *   - count[0] = tracked allocations minus deallocations since the last
 *     collection (never below 0); count[n] = collections of gen n-1 since
 *     the last collection of gen n.
 *
 * A collection of generation g (CPython's algorithm, address-ordered):
 *   1. subtract: every candidate gets gc_refs = refcnt, minus one for each
 *      reference from another candidate (one pass: a candidate's word is
 *      initialised the first time it is either scanned or referenced).
 *   2. mark: candidates with gc_refs > 0 are referenced from outside the
 *      set; everything they reach is reachable.
 *   3. sweep: reachable candidates move to the next generation; the rest
 *      are the dead set, each remembering its index in it.
 *   4. the dead set: cycles that cannot be cleared stay (uncollectable,
 *      gc.garbage); weakrefs cleared and callbacks run; finalizers run once;
 *      resurrected objects and all they reach survive; the rest are cleared.
 * A young collection reads only the young vector and the children of young
 * objects; a full one walks the allocator's pools in address order.
 *
 * gc word during a collection:
 *   candidate   RC_GC_CAND | [RC_GC_REACHABLE] | gc_refs (saturating)
 *   dead set    RC_GC_CAND | index in the dead vector (after the sweep)
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

#define RC_GC_CAND      0x80000000u
#define RC_GC_REACHABLE 0x40000000u
/* A member of the dead set (its index in the low bits).  A full
 * collection fills the set while it still marks, and counts the members
 * that marking reaches after all. */
#define RC_GC_DEAD      0x20000000u
#define RC_GC_REFS      0x1FFFFFFFu
/* gc_refs saturate here: such an object is always treated as referenced
 * from outside (an object with a billion references is not garbage). */
#define RC_GC_REFS_SAT  0x1FFFFF00u

_Static_assert((RC_GC_CAND | RC_GC_REACHABLE | RC_GC_DEAD | RC_GC_REFS_SAT) < RC_GC_SENTINEL_MIN,
               "candidate words must not collide with the sentinels");
_Static_assert(RC_GC_INDEX_MAX < RC_GC_CAND, "young indices must not look like candidates");

static bool is_cand(uint32_t g) { return (g & RC_GC_CAND) && g < RC_GC_SENTINEL_MIN; }

/* ---- the young vector --------------------------------------------------------- */

static bool young_reserve(rc_gc_state *gc, size_t n)
{
    if (n <= gc->young_cap)
        return true;
    size_t cap = gc->young_cap ? gc->young_cap : 1024;
    while (cap < n)
        cap *= 2;
    if (cap > (size_t)RC_GC_INDEX_MAX + 1)
        return false;
    rc_head **v = realloc(gc->young, cap * sizeof *v);
    if (!v)
        return false;
    gc->young = v;
    gc->young_cap = cap;
    return true;
}

/* Links o into gen 0.  Should the vector not grow (out of memory), o goes
 * straight to gen 2: still tracked and collected, only later. */
static void link_young(rc_heap *h, rc_head *o)
{
    rc_gc_state *gc = &h->gc;
    if (!young_reserve(gc, gc->young_len + 1)) {
        o->gc = RC_GC_OLD;
        gc->old_count++;
        return;
    }
    o->gc = (uint32_t)gc->young_len;
    gc->young[gc->young_len++] = o;
}

static void young_place(rc_gc_state *gc, size_t i, rc_head *o)
{
    gc->young[i] = o;
    o->gc = (uint32_t)i;
}

/* Removes the object at index i keeping both regions contiguous: the last
 * gen-1 object fills a gen-1 hole and the last gen-0 object fills its place. */
static void unlink_young(rc_gc_state *gc, size_t i)
{
    size_t last = gc->young_len - 1;
    if (i < gc->gen0_start) {
        size_t last1 = gc->gen0_start - 1;
        if (i != last1)
            young_place(gc, i, gc->young[last1]);
        if (last1 != last)
            young_place(gc, last1, gc->young[last]);
        gc->gen0_start--;
    } else if (i != last) {
        young_place(gc, i, gc->young[last]);
    }
    gc->young_len--;
}

/* ---- tracking ----------------------------------------------------------------- */

void rc__gc_on_new(rc_heap *h, rc_head *o)
{
    h->gc.count[0]++;
    link_young(h, o);
}

static void untrack(rc_heap *h, rc_head *o)
{
    rc_gc_state *gc = &h->gc;
    uint32_t g = o->gc;
    if (g <= RC_GC_INDEX_MAX)
        unlink_young(gc, g);
    else if (g == RC_GC_OLD)
        gc->old_count--;
    else if (g == RC_GC_FROZEN)
        gc->frozen_count--;
    o->gc = RC_GC_UNTRACKED;
}

/* The dead vector of the running collection; its members' words hold
 * their index so a death during the collection can leave a hole. */
typedef struct rc_dead_set {
    rc_head **v;
    size_t    len, cap;
    /* What the members need, gathered as they join, so the passes over the
     * set that would find nothing to do are skipped. */
    unsigned  hflags;        /* union of the members' RC_HF_* flags */
    bool      clearless;     /* some member's type has no clear */
    bool      finalizers;    /* some member's type has finalize */
    bool      not_refs;      /* some member's type is not RC_TYPE_REFS */
    const rc_type *last_type;/* the type last noted */
} dead_set;

bool rc__gc_in_dead_set(const rc_head *o)
{
    return is_cand(o->gc);
}

void rc__gc_on_dealloc(rc_heap *h, rc_head *o)
{
    rc_gc_state *gc = &h->gc;
    if (gc->count[0] > 0)
        gc->count[0]--;
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
    return rc__is_tracked(rc__head(o));
}

bool rc_gc_is_finalized(const void *o)
{
    return (rc__hflags(rc__head(o)) & RC_HF_FINALIZED) != 0;
}

void rc_gc_track(void *o)
{
    rc_head *hd = rc__head(o);
    if (rc__is_tracked(hd) || !rc__type_tracked(rc__type(hd)))
        return;
    link_young(rc__object_heap(hd), hd);
}

void rc_gc_untrack(void *o)
{
    rc_head *hd = rc__head(o);
    if (!rc__is_tracked(hd) || is_cand(hd->gc))
        return;
    untrack(rc__object_heap(hd), hd);
}

/* ---- the candidate set ---------------------------------------------------------- */

/* Which objects a collection examines: the young vector from `lo`, and for
 * a full collection every object in gen 2 too (found by walking the pools). */
typedef struct gc_run {
    rc_heap  *h;
    int       gen;
    bool      full;
    uint32_t  lo;           /* first young index in the set */
    rc_head **stack;        /* mark stack */
    size_t    sp, stack_cap;
    bool      overflow;     /* the stack could not grow: rescan to a fixpoint */
    char     *cursor;       /* the full collection's scan position */
    size_t    late;         /* dead-set members marked reachable afterwards */
    size_t    candidates;
    dead_set  dead;
} gc_run;


static uint32_t initial_refs(const rc_head *o)
{
    return o->refcnt >= RC_GC_REFS_SAT ? RC_GC_REFS_SAT : o->refcnt;
}

/* Iterates the candidates: for a young collection the young vector, for a
 * full one every pool in address order.  fn returns nothing; it may read
 * and rewrite the gc word. */
#define FOR_EACH_CANDIDATE(r, o, body)                                            \
    do {                                                                          \
        if (!(r)->full) {                                                         \
            rc_gc_state *gc_ = &(r)->h->gc;                                       \
            for (size_t i_ = (r)->lo; i_ < gc_->young_len; i_++) {                \
                rc_head *o = gc_->young[i_];                                      \
                body                                                              \
            }                                                                     \
        } else {                                                                  \
            RC_FOR_EACH_OBJECT((r)->h, o, {                                       \
                if (o->gc == RC_GC_UNTRACKED || o->gc == RC_GC_FROZEN)            \
                    continue;                                                     \
                body                                                              \
            });                                                                   \
        }                                                                         \
    } while (0)

/* 1. subtract ------------------------------------------------------------------ */

/* One reference from a candidate to c: c's gc_refs, set on first sight,
 * lose one.  The set is every tracked object outside the permanent
 * generation for a full collection, else the young indices from lo. */
RC_INLINE void subtract_one(rc_head *c, bool full, uint32_t lo)
{
    uint32_t g = c->gc;
    if (!is_cand(g)) {
        bool in = full ? (g <= RC_GC_INDEX_MAX || g == RC_GC_OLD) : (g >= lo && g <= RC_GC_INDEX_MAX);
        if (!in)
            return;
        g = RC_GC_CAND | initial_refs(c);
    }
    uint32_t refs = g & RC_GC_REFS;
    rc_assert(refs > 0, "refcount lower than references found in the heap", rc__body(c),
              "refcount %u", c->refcnt);
    if (refs > 0 && refs < RC_GC_REFS_SAT)
        g--;
    c->gc = g;
}

RC_INLINE int visit_subtract_full(void *child, void *arg)
{
    (void)arg;
    subtract_one(rc__head(child), true, 0);
    return 0;
}

RC_INLINE int visit_subtract_young(void *child, void *arg)
{
    subtract_one(rc__head(child), false, ((gc_run *)arg)->lo);
    return 0;
}

#define SUBTRACT_PASS(r, VISIT)                               \
    FOR_EACH_CANDIDATE(r, o, {                                \
        if (!is_cand(o->gc))                                  \
            o->gc = RC_GC_CAND | initial_refs(o);             \
        n++;                                                  \
        RC_FOR_EACH_CHILD(o, VISIT, r);                       \
    })

static void subtract_refs(gc_run *r)
{
    size_t n = 0;
    if (r->full)
        SUBTRACT_PASS(r, visit_subtract_full);
    else
        SUBTRACT_PASS(r, visit_subtract_young);
    r->candidates = n;
}

/* 2. mark ---------------------------------------------------------------------- */

static void push(gc_run *r, rc_head *o)
{
    if (r->sp == r->stack_cap) {
        size_t cap = r->stack_cap ? r->stack_cap * 2 : 4096;
        rc_head **s = realloc(r->stack, cap * sizeof *s);
        if (!s) {
            r->overflow = true;   /* o stays marked; the rescan finds it */
            return;
        }
        r->stack = s;
        r->stack_cap = cap;
    }
    r->stack[r->sp++] = o;
}

RC_INLINE int visit_mark(void *child, void *arg)
{
    gc_run *r = arg;
    rc_head *c = rc__head(child);
    uint32_t g = c->gc;
    if (is_cand(g) && !(g & RC_GC_REACHABLE)) {
        c->gc = g | RC_GC_REACHABLE;
        push(r, c);
    }
    return 0;
}

static void drain(gc_run *r)
{
    while (r->sp > 0) {
        rc_head *o = r->stack[--r->sp];
        RC_FOR_EACH_CHILD(o, visit_mark, r);
    }
}

/* Out of memory for the stack: some marked objects were never scanned.
 * Scanning every marked object again until nothing changes is slow but
 * needs no memory. */
static void rescan_marked(gc_run *r)
{
    while (r->overflow) {
        r->overflow = false;
        FOR_EACH_CANDIDATE(r, o, {
            if (is_cand(o->gc) && (o->gc & RC_GC_REACHABLE)) {
                rc__traverse(o, visit_mark, r);
                drain(r);
            }
        });
    }
}

static void mark_reachable(gc_run *r)
{
    FOR_EACH_CANDIDATE(r, o, {
        uint32_t g = o->gc;
        if ((g & RC_GC_REFS) && !(g & RC_GC_REACHABLE)) {
            o->gc = g | RC_GC_REACHABLE;
            push(r, o);
            drain(r);
        }
    });
    rescan_marked(r);
}

/* 3. sweep --------------------------------------------------------------------- */

static RC_NOINLINE bool dead_grow(dead_set *d)
{
    size_t cap = d->cap ? d->cap * 2 : 256;
    rc_head **v = realloc(d->v, cap * sizeof *v);
    if (!v)
        return false;
    d->v = v;
    d->cap = cap;
    return true;
}

static RC_NOINLINE void dead_note_type(dead_set *d, const rc_type *t)
{
    d->last_type = t;
    d->clearless |= !rc__type_clears(t);
    d->finalizers |= t->finalize != NULL;
    d->not_refs |= !(t->flags & RC_TYPE_REFS);
}

/* Adds o to the dead set; its word remembers its index there.  What its
 * type needs is noted once per run of members of one type. */
RC_INLINE bool dead_push(dead_set *d, rc_head *o)
{
    if (RC_UNLIKELY(d->len == d->cap) && !dead_grow(d))
        return false;
    o->gc = RC_GC_CAND | RC_GC_DEAD | (uint32_t)d->len;
    d->v[d->len++] = o;
    d->hflags |= rc__hflags(o);
    if (RC_UNLIKELY(rc__type(o) != d->last_type))
        dead_note_type(d, rc__type(o));
    return true;
}

/* Where survivors of this collection go: the next generation. */
static void survive_old(rc_heap *h, rc_head *o)
{
    o->gc = RC_GC_OLD;
    h->gc.old_count++;
}

static void promote(gc_run *r, rc_head *o, size_t *w)
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
}

/* A candidate's fate, once marking is over. */
static void settle(gc_run *r, rc_head *o, size_t *w)
{
    if ((o->gc & RC_GC_REACHABLE) || !dead_push(&r->dead, o))
        promote(r, o, w);
}

static void sweep(gc_run *r)
{
    rc_gc_state *gc = &r->h->gc;
    size_t w = r->lo;
    FOR_EACH_CANDIDATE(r, o, {
        if (is_cand(o->gc))
            settle(r, o, &w);
    });
    finish_young(gc, r->gen, w);
}

/* Marking during the address-ordered scan of a full collection: a child
 * ahead of the cursor is only marked — the scan traverses it when it gets
 * there — and one behind it goes on the stack.  Large objects are walked
 * after the pools, in list order, so the cursor is past everything then.
 * Objects allocated in order (lists, rings, trees) need no stack at all. */
RC_INLINE int visit_mark_scan(void *child, void *arg)
{
    gc_run *r = arg;
    rc_head *c = rc__head(child);
    uint32_t g = c->gc;
    if (is_cand(g) && !(g & RC_GC_REACHABLE)) {
        c->gc = g | RC_GC_REACHABLE;
        if (RC_UNLIKELY(g & RC_GC_DEAD))
            r->late++;
        if ((char *)c < r->cursor)
            push(r, c);
    }
    return 0;
}

static void drain_scan(gc_run *r)
{
    while (r->sp > 0) {
        rc_head *o = r->stack[--r->sp];
        RC_FOR_EACH_CHILD(o, visit_mark_scan, r);
    }
}

/* Members of the dead set that marking reached after they joined move to
 * gen 2; the others close ranks and take their new indices. */
static void compact_dead(gc_run *r)
{
    dead_set *d = &r->dead;
    size_t w = 0;
    for (size_t i = 0; i < d->len; i++) {
        rc_head *o = d->v[i];
        if (o->gc & RC_GC_REACHABLE) {
            survive_old(r->h, o);
        } else {
            o->gc = RC_GC_CAND | RC_GC_DEAD | (uint32_t)w;
            d->v[w++] = o;
        }
    }
    d->len = w;
}

/* Empties the dead set back into plain candidates, for the sweep. */
static void undo_dead(gc_run *r)
{
    dead_set *d = &r->dead;
    for (size_t i = 0; i < d->len; i++)
        d->v[i]->gc = RC_GC_CAND | (d->v[i]->gc & RC_GC_REACHABLE);
    d->len = 0;
    d->hflags = 0;
    d->clearless = d->finalizers = d->not_refs = false;
    d->last_type = NULL;
}

/* 2+3 fused, for a full collection.  In address order, a candidate that is
 * reachable when its turn comes (marked from an earlier object, or a root)
 * is traversed and promoted on the spot: everything it references is marked
 * then, so later marking may skip it.  A candidate not reachable yet joins
 * the dead set at once; should a later root reach it after all, it is
 * counted and moved out at the end.  One read of memory instead of two.
 * Should the mark stack or the dead set fail to grow, promotion stops and
 * the separate sweep settles the rest. */
static void mark_sweep_full(gc_run *r)
{
    bool need_sweep = false;
    size_t promoted = 0;
    RC_FOR_EACH_OBJECT(r->h, o, {
        uint32_t g = o->gc;
        if (!is_cand(g))        /* untracked, frozen, or promoted already */
            continue;
        if (!(g & RC_GC_REACHABLE)) {
            if (!(g & RC_GC_REFS)) {
                if (!need_sweep && !dead_push(&r->dead, o))
                    need_sweep = true;
                continue;
            }
            o->gc = g | RC_GC_REACHABLE;
        }
        r->cursor = (rc__hflags(o) & RC_HF_LARGE) ? (char *)UINTPTR_MAX : (char *)o;
        RC_FOR_EACH_CHILD(o, visit_mark_scan, r);
        if (r->sp)
            drain_scan(r);
        if (r->overflow || need_sweep) {
            need_sweep = true;
        } else {
            o->gc = RC_GC_OLD;      /* promote(): a full collection's survivors go to gen 2 */
            promoted++;
        }
    });
    r->h->gc.old_count += promoted;
    if (r->overflow) {
        rescan_marked(r);
        need_sweep = true;
    }
    if (need_sweep) {
        undo_dead(r);
        sweep(r);
    } else {
        if (r->late)
            compact_dead(r);
        finish_young(&r->h->gc, r->gen, 0);
    }
}

/* ---- 4. the dead set ---------------------------------------------------------- */


static void debug_line(rc_heap *h, const char *what, rc_head *o)
{
    FILE *out = h->gc.debug_out ? h->gc.debug_out : stderr;
    fprintf(out, "gc: %s <%s %p>\n", what, rc__type(o)->name, rc__body(o));
}

static bool garbage_append(rc_heap *h, rc_head *o)
{
    rc_gc_state *gc = &h->gc;
    if (gc->garbage_len == gc->garbage_cap) {
        size_t cap = gc->garbage_cap ? gc->garbage_cap * 2 : 16;
        void **v = realloc(gc->garbage, cap * sizeof *v);
        if (!v)
            return false;
        gc->garbage = v;
        gc->garbage_cap = cap;
    }
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

/* Breaks the cycles.  Every member is held by a reference first, so while
 * the members with clear drop their references none of them dies and no
 * death cascades through the set.  Then each member whose only reference
 * left is ours is freed directly — it is finalized and unlinked already, so
 * its death skips to the end — and a member still referenced (by one not
 * freed yet, or by a clear that kept something) moves to gen 2, where a
 * later collection finds it if it is garbage. */
static size_t clear_dead(gc_run *r)
{
    dead_set *d = &r->dead;
    size_t collected = 0;
    for (size_t i = 0; i < d->len; i++)
        if (d->v[i]) {
            d->v[i]->refcnt++;
            collected++;
        }
    for (size_t i = 0; i < d->len; i++)
        if (d->v[i] && rc__type_clears(rc__type(d->v[i])))
            rc__clear(d->v[i]);
    for (size_t i = 0; i < d->len; i++) {
        rc_head *o = d->v[i];
        if (!o)
            continue;
        if (--o->refcnt != 0) {
            survive_old(r->h, o);
            d->v[i] = NULL;
        } else if (rc__hflags(o) & RC_HF_WEAKREFS) {
            rc__dealloc(o);      /* a callback made a new weakref: the full death */
        } else {
            d->v[i] = NULL;
            o->gc = RC_GC_UNTRACKED;
            if (rc__type_clears(rc__type(o)))
                rc__release_and_free(r->h, o);   /* cleared above: nothing to drop */
            else
                rc__free_dead(r->h, o);          /* drops what traverse visits */
        }
    }
    return collected;
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
static size_t handle_dead(gc_run *r, size_t *uncollectable)
{
    rc_heap *h = r->h;
    dead_set *d = &r->dead;
    *uncollectable = keep_uncollectable(r);
    if (h->gc.debug & RC_GC_DEBUG_COLLECTABLE)
        for (size_t i = 0; i < d->len; i++)
            if (d->v[i])
                debug_line(h, "collectable", d->v[i]);
    if (d->hflags & RC_HF_WEAKREFS)
        rc__weak_clear_dead(h, d->v, d->len);
    if (d->finalizers && run_finalizers(r))
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

/* ---- one collection ------------------------------------------------------------- */

static void debug_start(rc_heap *h, int gen)
{
    rc_gc_state *gc = &h->gc;
    FILE *out = gc->debug_out ? gc->debug_out : stderr;
    fprintf(out, "gc: collecting generation %d...\n", gen);
    fprintf(out, "gc: objects in each generation: %zu %zu %zu\n",
            gc->young_len - gc->gen0_start, gc->gen0_start, gc->old_count);
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

static size_t collect(rc_heap *h, int gen, size_t *uncollectable_out)
{
    rc_gc_state *gc = &h->gc;
    uint64_t t0 = rc__os_now_ns();
    if (gc->debug & RC_GC_DEBUG_STATS)
        debug_start(h, gen);
    gc_run r = {.h = h, .gen = gen, .full = gen == 2,
                .lo = gen == 0 ? (uint32_t)gc->gen0_start : 0};
    size_t old_before = gc->old_count;
    subtract_refs(&r);
    if (r.full) {
        gc->old_count = 0;
        mark_sweep_full(&r);
    } else {
        mark_reachable(&r);
        sweep(&r);
    }
    update_counts(gc, gen, gen == 1 ? gc->old_count - old_before : 0);
    free(r.stack);

    size_t uncollectable = 0, collected = 0;
    if (r.dead.len > 0) {
        gc->dead = &r.dead;
        collected = handle_dead(&r, &uncollectable);
        gc->dead = NULL;
    }
    free(r.dead.v);
    if (gen == 2)
        gc->long_lived_total = gc->old_count;

    uint64_t dt = rc__os_now_ns() - t0;
    rc_gc_stats *st = &gc->stats[gen];
    st->collections++;
    st->collected += collected;
    st->uncollectable += uncollectable;
    st->candidates += r.candidates;
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

static size_t collect_with_callbacks(rc_heap *h, int gen)
{
    rc_gc_state *gc = &h->gc;
    gc->collecting = true;
    rc_gc_info info = {gen, 0, 0};
    run_callbacks(h, "start", &info);
    info.collected = collect(h, gen, &info.uncollectable);
    run_callbacks(h, "stop", &info);
    gc->collecting = false;
    return info.collected + info.uncollectable;
}

size_t rc_gc_collect(rc_heap *h, int generation)
{
    if (!h || h->gc.collecting)
        return 0;
    if (generation < 0 || generation > 2)
        generation = 2;
    return collect_with_callbacks(h, generation);
}

/* CPython's collect_generations: the oldest generation over its threshold,
 * except that a full collection also waits for the long-lived rule. */
void rc__gc_maybe_collect(rc_heap *h)
{
    rc_gc_state *gc = &h->gc;
    if (!gc->enabled || gc->collecting || gc->threshold[0] == 0 || gc->count[0] <= gc->threshold[0])
        return;
    for (int i = 2; i >= 0; i--) {
        if (gc->count[i] <= gc->threshold[i])
            continue;
        if (i == 2 && gc->long_lived_pending < gc->long_lived_total / 4)
            continue;
        collect_with_callbacks(h, i);
        return;
    }
}

/* ---- control surface --------------------------------------------------------------- */

void rc_gc_enable(rc_heap *h) { h->gc.enabled = true; }
void rc_gc_disable(rc_heap *h) { h->gc.enabled = false; }
bool rc_gc_isenabled(const rc_heap *h) { return h->gc.enabled; }
void rc_gc_set_debug(rc_heap *h, unsigned flags) { h->gc.debug = flags; }
unsigned rc_gc_get_debug(const rc_heap *h) { return h->gc.debug; }

void rc_gc_get_count(const rc_heap *h, size_t count[3])
{
    memcpy(count, h->gc.count, sizeof h->gc.count);
}

void rc_gc_get_threshold(const rc_heap *h, size_t threshold[3])
{
    memcpy(threshold, h->gc.threshold, sizeof h->gc.threshold);
}

void rc_gc_set_threshold(rc_heap *h, size_t t0, size_t t1, size_t t2)
{
    h->gc.threshold[0] = t0;
    h->gc.threshold[1] = t1;
    h->gc.threshold[2] = t2;
}

rc_gc_stats rc_gc_get_stats(const rc_heap *h, int generation)
{
    if (generation < 0 || generation > 2)
        return (rc_gc_stats){0};
    return h->gc.stats[generation];
}

/* Rewrites the gc word of every object in gen 2 whose word is `from`. */
static size_t retag_old(rc_heap *h, uint32_t from, uint32_t to)
{
    size_t n = 0;
    RC_FOR_EACH_OBJECT(h, o, {
        if (o->gc == from) {
            o->gc = to;
            n++;
        }
    });
    return n;
}

void rc_gc_freeze(rc_heap *h)
{
    rc_gc_state *gc = &h->gc;
    if (gc->collecting)
        return;
    for (size_t i = 0; i < gc->young_len; i++)
        gc->young[i]->gc = RC_GC_FROZEN;
    gc->frozen_count += gc->young_len;
    gc->young_len = gc->gen0_start = 0;
    gc->frozen_count += retag_old(h, RC_GC_OLD, RC_GC_FROZEN);
    gc->old_count = 0;
    gc->count[0] = 0;
}

void rc_gc_unfreeze(rc_heap *h)
{
    rc_gc_state *gc = &h->gc;
    if (gc->collecting)
        return;
    gc->old_count += retag_old(h, RC_GC_FROZEN, RC_GC_OLD);
    gc->frozen_count = 0;
}

size_t rc_gc_get_freeze_count(const rc_heap *h) { return h->gc.frozen_count; }

/* Visits the tracked objects of one generation (or all of 0..2 with -1). */
int rc_gc_get_objects(rc_heap *h, int generation, rc_visit fn, void *arg)
{
    rc_gc_state *gc = &h->gc;
    if (generation < -1 || generation > 2)
        return rc__error(h, RC_EINVAL, "generation must be -1..2, got %d", generation);
    if (generation == 0 || generation == 1 || generation == -1) {
        size_t lo = generation == 0 ? gc->gen0_start : 0;
        size_t hi = generation == 1 ? gc->gen0_start : gc->young_len;
        for (size_t i = lo; i < hi && i < gc->young_len; i++) {
            int rv = fn(rc__body(gc->young[i]), arg);
            if (rv)
                return rv;
        }
    }
    int rv = 0;
    if (generation == 2 || generation == -1) {
        RC_FOR_EACH_OBJECT(h, o, {
            if (o->gc == RC_GC_OLD && (rv = fn(rc__body(o), arg)) != 0)
                goto out;
        });
    }
out:
    return rv;
}

typedef struct target_search {
    const void *target;
    bool        found;
} target_search;

RC_INLINE int visit_find_target(void *child, void *arg)
{
    target_search *s = arg;
    s->found = child == s->target;
    return s->found;
}

/* gc.get_referrers: one address-ordered walk, children visited inline. */
int rc_gc_get_referrers(rc_heap *h, const void *target, rc_visit fn, void *arg)
{
    int rv = 0;
    RC_FOR_EACH_OBJECT(h, o, {
        if (o->gc == RC_GC_UNTRACKED || o->gc == RC_GC_FROZEN)
            continue;
        target_search s = {target, false};
        RC_FOR_EACH_CHILD(o, visit_find_target, &s);
        if (s.found && (rv = fn(rc__body(o), arg)) != 0)
            return rv;
    });
    return rv;
}

int rc_gc_get_referents(void *o, rc_visit fn, void *arg)
{
    return rc__traverse(rc__head(o), fn, arg);
}

/* ---- gc.garbage and callbacks ---------------------------------------------------------- */

int rc_gc_garbage(rc_heap *h, rc_visit fn, void *arg)
{
    for (size_t i = 0; i < h->gc.garbage_len; i++) {
        int rv = fn(h->gc.garbage[i], arg);
        if (rv)
            return rv;
    }
    return 0;
}

size_t rc_gc_garbage_count(const rc_heap *h) { return h->gc.garbage_len; }

void rc_gc_garbage_clear(rc_heap *h)
{
    rc_gc_state *gc = &h->gc;
    /* Decrefs may run finalizers that append again: take the list first. */
    void **v = gc->garbage;
    size_t n = gc->garbage_len;
    gc->garbage = NULL;
    gc->garbage_len = gc->garbage_cap = 0;
    for (size_t i = 0; i < n; i++)
        rc_decref(v[i]);
    free(v);
}

int rc_gc_callback_add(rc_heap *h, rc_gc_callback cb, void *ctx)
{
    rc_gc_state *gc = &h->gc;
    if (!cb)
        return rc__error(h, RC_EINVAL, "rc_gc_callback_add: NULL callback");
    if (gc->ncallbacks == gc->callbacks_cap) {
        size_t cap = gc->callbacks_cap ? gc->callbacks_cap * 2 : 4;
        struct rc_gc_cb *v = realloc(gc->callbacks, cap * sizeof *v);
        if (!v)
            return rc__error(h, RC_ENOMEM, "rc_gc_callback_add: out of memory");
        gc->callbacks = v;
        gc->callbacks_cap = cap;
    }
    gc->callbacks[gc->ncallbacks++] = (struct rc_gc_cb){cb, ctx};
    return 0;
}

int rc_gc_callback_remove(rc_heap *h, rc_gc_callback cb, void *ctx)
{
    rc_gc_state *gc = &h->gc;
    for (size_t i = 0; i < gc->ncallbacks; i++) {
        if (gc->callbacks[i].fn == cb && gc->callbacks[i].ctx == ctx) {
            memmove(&gc->callbacks[i], &gc->callbacks[i + 1],
                    (gc->ncallbacks - i - 1) * sizeof gc->callbacks[0]);
            gc->ncallbacks--;
            return 0;
        }
    }
    return rc__error(h, RC_ENOENT, "rc_gc_callback_remove: callback not registered");
}

void rc__gc_destroy(rc_heap *h)
{
    rc_gc_state *gc = &h->gc;
    free(gc->young);
    free(gc->garbage);
    free(gc->callbacks);
    rc__weak_destroy(h);
    memset(gc, 0, sizeof *gc);
}
