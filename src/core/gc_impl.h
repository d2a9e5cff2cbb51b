/* Private to the collector's files: gc.c (generations, the passes that
 * deduce the dead set), gc_dead.c (the dead-set pipeline), gc_free.c (the
 * pipeline's last step, delete), gc_api.c (the gc module's control
 * surface).  The invariants are written once, at the top of gc.c; the
 * map is docs/design-gc.md.
 *
 * The gc word: the last 32 bits of the object header (the header's
 * layout: src/alloc/alloc.h, rc_head).  Every value it takes is listed here and
 * nowhere else.
 *
 * Outside a collection, where a tracked object is:
 *   1 .. RC_GC_YOUNG_MAX     gen 0 or 1: its index in the young vector + 1
 *   RC_GC_OLD (0)            gen 2
 *   RC_GC_FROZEN             the permanent generation (rc_gc_freeze)
 *   RC_GC_UNTRACKED          not tracked
 * (every value from RC_GC_SENTINEL_MIN up is a sentinel like the last two).
 *
 * During a collection, a candidate's word: RC_GC_CAND and flags above a
 * 28-bit field (RC_GC_REFS).
 *   0                        a full collection's candidate no other
 *                            candidate references (gen 2 is 0): a root
 *   CAND | n                 n references from other candidates
 *   CAND | REACHABLE | n     marked reachable
 *   CAND | DEADREF | ...     a full collection's scan marked an object
 *                            dead that references this one
 *   CAND | DEAD | [DEADREF] | n       marked dead where it lies by a full
 *                            collection's scan (the dead set in place)
 *   CAND | DEAD | REACHABLE | ...     the same, reached afterwards: late,
 *                            it survives
 *   CAND | DEAD | i          listed: the dead vector's member at index i
 *
 * Deaths queued past the nesting limit thread their queue through the
 * refcnt and gc words of the dying objects (object.c). */
#ifndef RC_GC_IMPL_H
#define RC_GC_IMPL_H

#include "internal.h"

#define RC_GC_CAND      0x80000000u
#define RC_GC_REACHABLE 0x40000000u
#define RC_GC_DEAD      0x20000000u
/* Should marking reach a DEADREF object, the dead set references
 * something outside it. */
#define RC_GC_DEADREF   0x10000000u
#define RC_GC_REFS      0x0FFFFFFFu
/* The count of references from other candidates stops here: such an
 * object has at least as many references in all, so it always counts as
 * referenced from outside (an object with a quarter of a billion
 * references is not garbage). */
#define RC_GC_REFS_SAT  0x0FFFFF00u

_Static_assert((RC_GC_CAND | RC_GC_REACHABLE | RC_GC_DEAD | RC_GC_DEADREF | RC_GC_REFS_SAT) < RC_GC_SENTINEL_MIN,
               "candidate words must not collide with the sentinels");
_Static_assert(RC_GC_YOUNG_MAX < RC_GC_CAND, "young words must not look like candidates");
_Static_assert((RC_GC_SENTINEL_MIN & RC_GC_REFS) >= RC_GC_REFS_SAT, "a sentinel must never count a reference");

RC_INLINE bool is_cand(uint32_t g) { return (g & RC_GC_CAND) && g < RC_GC_SENTINEL_MIN; }

/* Referenced from outside the candidates: more references than the
 * candidates hold.  (A missing incref can make the count exceed refcnt:
 * a debug build stops on it while counting, a release build treats the
 * object as unreferenced.) */
RC_INLINE bool has_outside_refs(const rc_head *o, uint32_t g) { return o->refcnt > (g & RC_GC_REFS); }

/* What the passes visit of o's children: nothing when o is flagged
 * RC_HF_LEAVES (every child of an untracked type, so no candidate: a
 * list of ten million ints costs one test), else every child. */
#define RC_FOR_EACH_GC_CHILD(o, VISIT, ARG)                                   \
    do {                                                                      \
        rc_head *gco_ = (o);                                                  \
        if (!(rc__hflags(gco_) & RC_HF_LEAVES))                               \
            RC_FOR_EACH_CHILD(gco_, VISIT, ARG);                              \
    } while (0)

/* Not reached by marking yet: a candidate without RC_GC_REACHABLE.  The
 * sentinels have both bits, so one masked compare is the whole test. */
RC_INLINE bool is_fresh(uint32_t g) { return (g & (RC_GC_CAND | RC_GC_REACHABLE)) == RC_GC_CAND; }

/* Fresh, and no dead object has marked it (RC_GC_DEAD, RC_GC_DEADREF):
 * the full collection's scan meets mostly these. */
RC_INLINE bool is_fresh_unmarked(uint32_t g)
{
    return (g & (RC_GC_CAND | RC_GC_REACHABLE | RC_GC_DEAD | RC_GC_DEADREF)) == RC_GC_CAND;
}

/* Marked dead by a full collection's scan (reached afterwards or not). */
RC_INLINE bool is_dead_mark(uint32_t g) { return (g & (RC_GC_CAND | RC_GC_DEAD)) == (RC_GC_CAND | RC_GC_DEAD) && g < RC_GC_SENTINEL_MIN; }

/* A member of the dead set: marked dead and not reached afterwards. */
RC_INLINE bool is_member(uint32_t g) { return is_dead_mark(g) && !(g & RC_GC_REACHABLE); }

/* The collector's cache misses are the children of the objects it scans
 * when they lie far away (a random graph; not rings or trees allocated in
 * order, whose children are next door): a full collection that finds its
 * first objects' children scattered prefetches the children of the object
 * RC_WALK_AHEAD blocks ahead (up to 4 children: an RC_TYPE_REFS body's
 * first words, or the first a traverse function visits), and of each
 * object it pops from the mark stack into the lag queue, so their headers
 * arrive while the objects between are processed.  The body's form is
 * unrolled: it runs once or twice per object of such a graph, and the
 * loop's control was half its instructions (its time did not measurably
 * change). */
/* A NULL child prefetches an address below 0: prefetches never fault. */
RC_INLINE void prefetch_child(uintptr_t child, bool bodies)
{
    __builtin_prefetch((const void *)(child - sizeof(rc_head)), 1, 3);
    if (bodies)
        __builtin_prefetch((const void *)(child + sizeof(rc_head)), 1, 3);
}

/* A traverse function's first children whose headers lie in [lo, lo +
 * width) (a parallel worker's range; everywhere for the serial passes),
 * through a visit that stops it after PREFETCH_TRAVERSED of them (a big
 * container's children are many, and its traverse runs for prefetching on
 * top of the pass's own). */
#define PREFETCH_TRAVERSED 4
typedef struct prefetch_visit {
    uintptr_t lo, width;
    unsigned  left;
    bool      bodies;
} prefetch_visit;

RC_INLINE int visit_prefetch(void *child, void *arg)
{
    prefetch_visit *v = arg;
    if ((uintptr_t)child - sizeof(rc_head) - v->lo < v->width)
        prefetch_child((uintptr_t)child, v->bodies);
    return --v->left == 0;
}

/* The children of an object whose type has a traverse function: a call
 * each, so only where it pays (r->prefetch_traversed).  Not for
 * RC_HF_LEAVES (its children are no candidates) nor a type that may not
 * be traversed (untracked types have no traverse). */
RC_INLINE void prefetch_traversed_in(const rc_head *o, bool bodies, uintptr_t lo, uintptr_t width)
{
    const rc_type *t = rc__type(o);
    if (!t->traverse || (rc__hflags(o) & RC_HF_LEAVES))
        return;
    prefetch_visit v = {lo, width, PREFETCH_TRAVERSED, bodies};
    if (t->ref_words)
        rc__visit_ref_words((void **)rc__body(o), t->ref_words, visit_prefetch, &v);
    else
        t->traverse(rc__body(o), visit_prefetch, &v);
}

/* traversed: through traverse functions too (r->prefetch_traversed). */
RC_INLINE void prefetch_blocks(const char *block, bool bodies, bool traversed)
{
    const rc_head *o = (const rc_head *)(const void *)block;
    if (!o->tw)
        return;
    if (!(rc__type(o)->flags & RC_TYPE_REFS)) {
        if (traversed)
            prefetch_traversed_in(o, bodies, 0, UINTPTR_MAX);
        return;
    }
    const uintptr_t *c = (const uintptr_t *)rc__body(o);
    size_t n = rc__nrefs(rc__type(o));
    switch (n < 4 ? n : 4) {
    case 4: prefetch_child(c[3], bodies); /* fall through */
    case 3: prefetch_child(c[2], bodies); /* fall through */
    case 2: prefetch_child(c[1], bodies); /* fall through */
    case 1: prefetch_child(c[0], bodies); /* fall through */
    default: break;
    }
}

/* The children's headers: what the count pass and marking read. */
RC_INLINE void prefetch_children(const char *block, bool traversed) { prefetch_blocks(block, false, traversed); }

/* And the start of their bodies, where marking will soon read their own
 * children: a block that straddles two cache lines would miss there. */
RC_INLINE void prefetch_children_and_bodies(const char *block, bool traversed)
{
    prefetch_blocks(block, true, traversed);
}

/* The dead set of the running collection.  A young collection's sweep
 * lists its members in the dead vector as it finds them; a full
 * collection's scan marks them where they lie and notes the spans (pools,
 * large objects) holding them, and they are listed only when a step of
 * the pipeline needs an index per member (gc_dead.c).  Either way the
 * steps walk them with one iterator (each_member, below). */
typedef struct dead_span {
    char  *start;
    size_t members;          /* marked by the scan; once settled, members */
    bool   whole;            /* every block of the span is a member */
    size_t dying;            /* members the clear pass saw held by the set's hold alone */
} dead_span;

typedef struct rc_dead_set {
    rc_head  **v;            /* the dead vector (listed) */
    size_t     len, cap;
    dead_span *spans;        /* where the marked members lie, in address order */
    size_t     nspans, spans_cap;
    size_t     marked;       /* objects the scan marked dead, late ones included */
    size_t     late;         /* of those, reached by marking afterwards */
    bool       listed;       /* the members are in v */
    /* Not every member could be kept track of (no memory): all stay,
     * since freeing the others could leave one pointing at freed members. */
    bool       lost;
    bool       refs_out;     /* a member may reference a non-member */
    /* The members of types other than RC_TYPE_REFS hold a reference to
     * themselves, taken when a full collection's scan marked them dead
     * (dead_mark_ours: delete's hold, without a pass of its own); dropped
     * when one leaves the set, and for all when the set is listed (user
     * code must see true counts).  A dead mark without a count of
     * references (gc_par.c's left_out: a promoted object made late) was
     * never held. */
    bool       held;
    /* What the members need, noted as they join, so the steps that would
     * find nothing to do are skipped. */
    unsigned   hflags;       /* union of the members' RC_HF_* flags */
    bool       clearless;    /* some member's type has no clear */
    bool       finalizers;   /* some member's type has finalize */
    bool       releases;     /* some member's type has release */
    bool       not_refs;     /* some member's type is not RC_TYPE_REFS */
    bool       some_refs;    /* some member's type is RC_TYPE_REFS */
    const rc_type *last_type;/* the type last noted */
    bool       last_holds;   /* and whether its members hold themselves (holds_itself) */
} dead_set;

/* Lists o as the next member of the dead vector, which has room: its
 * word then holds its index, so a death during the pipeline can leave a
 * hole (rc__gc_on_dealloc). */
RC_INLINE void dead_list(dead_set *d, rc_head *o)
{
    o->gc = RC_GC_CAND | RC_GC_DEAD | (uint32_t)d->len;
    d->v[d->len++] = o;
}

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
    bool      prefetch;     /* children are scattered: prefetch them */
    bool      prefetch_traversed; /* and through traverse functions: the heap is not in the cache */
    bool      unbranched;   /* and the heap fits in the cache: mark without branching */
    size_t    candidates;
    dead_set  dead;
} gc_run;

RC_INLINE void survive_old(rc_heap *h, rc_head *o)
{
    o->gc = RC_GC_OLD;
    h->gc.old_count++;
}

/* ---- shared by the passes of gc.c and their parallel forms (gc_par.c) ------------- */

/* What the fused scan does with the object o it reaches (gc.c's
 * scan_object, gc_par.c's scan_one): skip it (untracked, frozen), mark it
 * dead (a candidate nothing outside references, not yet reached), or
 * traverse and promote it (a root, or reachable: then marked so). */
typedef enum scan_verdict { SCAN_SKIP, SCAN_DEAD, SCAN_LIVE } scan_verdict;

RC_INLINE scan_verdict scan_verdict_of(rc_head *o)
{
    uint32_t g = o->gc;
    if (!is_cand(g))
        return g == RC_GC_OLD ? SCAN_LIVE : SCAN_SKIP;  /* no candidate references an OLD one: a root */
    if (!(g & RC_GC_REACHABLE)) {
        if (!has_outside_refs(o, g))
            return SCAN_DEAD;
        o->gc = g | RC_GC_REACHABLE;
    }
    return SCAN_LIVE;
}

/* A scattered graph's mark drain: popped objects wait in a small FIFO
 * with their children prefetched, so the depth-first walk overlaps its
 * cache misses (gc.c and gc_par.c, drain_lagged). */
#define DRAIN_LAG 8
typedef struct lag_ring {
    rc_head *o[DRAIN_LAG];
    unsigned head, n;
} lag_ring;

RC_INLINE bool lag_full(const lag_ring *q) { return q->n == DRAIN_LAG; }

RC_INLINE void lag_push(lag_ring *q, rc_head *o)
{
    q->o[(q->head + q->n++) % DRAIN_LAG] = o;
}

/* The oldest waiting object, or NULL when none waits. */
RC_INLINE rc_head *lag_pop(lag_ring *q)
{
    if (q->n == 0)
        return NULL;
    rc_head *o = q->o[q->head];
    q->head = (q->head + 1) % DRAIN_LAG;
    q->n--;
    return o;
}

/* The passes over the pools walk an RC_TYPE_REFS body's children inline,
 * and those of a type whose ref_words are its first words alike.
 * Pools hold runs of one type, so the type of the object before is
 * remembered: one compare instead of reading the type's flags and size
 * for each object (10^5 live rings: 2.7 instructions less per node in the
 * count pass). */
typedef struct type_memo {
    const rc_type *type;
    size_t         nrefs;      /* RC_NOT_REFS, RC_MAY_LEAVES: the type has a traverse function */
} type_memo;
#define RC_NOT_REFS   SIZE_MAX
#define RC_MAY_LEAVES (SIZE_MAX - 1)  /* and its objects may be flagged RC_HF_LEAVES */

/* Declared ref_words that are the body's first words are walked as an
 * RC_TYPE_REFS body's are: how many, or 0 (none, or not such a run). */
RC_INLINE size_t leading_ref_words(uint64_t words)
{
    return words && !(words & (words + 1)) ? (size_t)__builtin_popcountll(words) : 0;
}

RC_INLINE size_t memo_nrefs(type_memo *m, const rc_type *t)
{
    if (RC_UNLIKELY(t != m->type)) {
        m->type = t;
        m->nrefs = t->flags & RC_TYPE_REFS     ? rc__nrefs(t)
                   : t->flags & RC__TYPE_LEAVES ? RC_MAY_LEAVES
                   : leading_ref_words(t->ref_words) ? leading_ref_words(t->ref_words)
                                                     : RC_NOT_REFS;
    }
    return m->nrefs;
}

/* Whether a candidate of a traverse type (every tracked type that is not
 * RC_TYPE_REFS has one) is to be traversed: not when flagged RC_HF_LEAVES
 * (see RC_FOR_EACH_GC_CHILD), which is looked for only in the types that
 * set it. */
RC_INLINE bool traverses(const rc_head *o, size_t nrefs)
{
    return nrefs == RC_NOT_REFS || !(rc__hflags(o) & RC_HF_LEAVES);
}

/* The young candidates' words are indices: they start counting from
 * `start` (gc.c, count_refs); young[from .. to - 1] of them here. */
RC_INLINE void young_words_set(rc_gc_state *gc, size_t from, size_t to, uint32_t start)
{
    for (size_t i = from; i < to; i++)
        gc->young[i]->gc = start;
}

RC_INLINE void young_to_candidates(gc_run *r, uint32_t start)
{
    young_words_set(&r->h->gc, r->lo, r->h->gc.young_len, start);
}

/* One more reference from a candidate to c, whose word is g; c is a
 * candidate (RC_GC_CAND) from now on. */
RC_INLINE void count_ref(rc_head *c, uint32_t g)
{
    rc_assert((g & RC_GC_REFS) < c->refcnt, "refcount lower than references found in the heap",
              rc__body(c), "refcount %u", c->refcnt);
    c->gc = (g + 1) | RC_GC_CAND;
}

/* In a full collection every word below the sentinels is a candidate's
 * (counting up from RC_GC_OLD, RC_GC_CAND set by the first reference):
 * one compare turns away the sentinels and a saturated count alike. */
RC_INLINE void count_full_ref(rc_head *c)
{
    uint32_t g = c->gc;
    if ((g & RC_GC_REFS) < RC_GC_REFS_SAT)
        count_ref(c, g);
}

/* Marking could not stack every object it marked (r->overflow): traverses
 * every marked candidate again, single-threaded, until nothing is left
 * out (gc.c). */
void rc__gc_rescan_marked(gc_run *r);

/* Sets r->prefetch (and r->unbranched) for a full collection: whether the
 * graph is scattered, from a sample of its first objects (gc.c). */
void rc__gc_decide_prefetch(gc_run *r);

/* Whether member o holds a reference to itself while the set is held
 * (dead_set.held): its type is not RC_TYPE_REFS. */
RC_INLINE bool holds_itself(const rc_head *o) { return !(rc__type(o)->flags & RC_TYPE_REFS); }

/* Member o leaves a held set, or the set stops being held: its hold goes. */
RC_INLINE void dead_unhold(const dead_set *d, rc_head *o)
{
    if (d->held && holds_itself(o))
        o->refcnt--;
}

/* What o's type and header flags need of the set, noted as it joins. */
void rc__gc_note_type(dead_set *d, const rc_type *t);
RC_INLINE void dead_note(dead_set *d, const rc_head *o)
{
    d->hflags |= rc__hflags(o);
    if (RC_UNLIKELY(rc__type(o) != d->last_type))
        rc__gc_note_type(d, rc__type(o));
}

/* A full collection's scan found o unreachable so far: it is marked dead
 * where it lies, and holds itself (dead_set.held) unless it is an
 * RC_TYPE_REFS body: the header is being written anyway, and delete then
 * makes no pass over the set to hold it.  While every member is an
 * RC_TYPE_REFS body, its children are looked at too: one that is not
 * (yet) a member, or that marking reaches later (RC_GC_DEADREF tells the
 * scan's marking), means the set references something outside it, whose
 * reference must be dropped when the set is freed (gc_free.c); otherwise
 * the set is closed.  `ours` says whether this thread may read and write a child's
 * word (a worker of gc_par.c owns a range); a child it may not counts as
 * outside. */
typedef bool (*word_owner)(const void *ctx, const rc_head *c);

RC_INLINE void dead_mark_ours(dead_set *d, rc_head *o, word_owner ours, const void *ctx)
{
    /* DEADREF: a dead object may have marked it; the count: it is no root. */
    o->gc = RC_GC_CAND | RC_GC_DEAD | (o->gc & (RC_GC_DEADREF | RC_GC_REFS));
    d->marked++;
    dead_note(d, o);
    if (d->not_refs) {
        o->refcnt += d->last_holds;     /* none held while every member is RC_TYPE_REFS */
        d->held = true;
        return;
    }
    if (d->refs_out)
        return;
    void **p = (void **)rc__body(o);
    for (size_t i = 0, n = rc__nrefs(rc__type(o)); i < n; i++) {
        if (!p[i])
            continue;
        rc_head *c = rc__head(p[i]);
        if (!ours(ctx, c)) {
            d->refs_out = true;
            return;
        }
        uint32_t g = c->gc;
        if (!is_fresh(g) || has_outside_refs(c, g)) {
            d->refs_out = true;      /* outside the set, or a root: outside soon */
            return;
        }
        c->gc = g | RC_GC_DEADREF;
    }
}

/* The fused scan marks c reachable: true when it was not yet.  A child a
 * dead object knew (RC_GC_DEAD: late; RC_GC_DEADREF: referenced from the
 * set) is noted. */
RC_INLINE bool scan_mark(dead_set *d, rc_head *c)
{
    uint32_t g = c->gc;
    if (!is_fresh_unmarked(g)) {
        if (!is_fresh(g))
            return false;
        d->late += (g & RC_GC_DEAD) != 0;      /* fresh, but a dead object knew it */
        d->refs_out |= (g & RC_GC_DEADREF) != 0;
    }
    c->gc = g | RC_GC_REACHABLE;
    return true;
}

/* gc_par.c: count, mark and settle of a full collection split across the
 * heap's workers, when it has more than one and the heap is big enough;
 * false, nothing done, otherwise (the passes of gc.c then run).  Leaves
 * what mark_sweep_full's scan leaves for finish_scan (gc.c): r->candidates
 * counted, every reachable candidate in gen 2 or late, the rest marked
 * dead where they lie, their spans noted in address order; or, with
 * r->overflow, objects marked but left out. */
bool rc__gc_par_full(gc_run *r);

/* ---- the member iterator ------------------------------------------------------------ */

/* The members in one place: a range of the dead vector (holes are NULL),
 * or those of one span where they lie. */
typedef struct member_group {
    bool      listed;        /* the members are v[0..n), not where they lie */
    rc_head **v;             /* listed: v[0..n) (NULL when n is 0) */
    char     *start;         /* the span (in place: its blocks) */
    size_t    stride, count;
    size_t    n;             /* members (listed: slots) */
    bool      whole;         /* in place: every block is a member */
    size_t    dying;         /* the span's dying (dead_span) */
} member_group;

typedef struct group_iter {
    size_t k;                /* next span */
    size_t at;               /* listed: its first slot in the vector */
} group_iter;

/* The next group: the spans in address order (listed, the vector's ranges
 * gathered from them), or the whole vector of a young collection, which
 * noted no spans.  The group has no pool when `start` is NULL. */
RC_INLINE bool next_group(const dead_set *d, group_iter *it, member_group *g)
{
    if (d->listed && d->nspans == 0) {
        *g = (member_group){.listed = true, .v = d->v, .n = d->len};
        return it->k++ == 0;
    }
    if (it->k == d->nspans)
        return false;
    const dead_span *ds = &d->spans[it->k++];
    /* A listed group reads its vector and, to free a pool at once, its
     * start (the span's, as noted): nothing of the pool itself, whose
     * owner on a threaded heap may be carving in it while finalizers and
     * callbacks run with the world restarted. */
    rc_span s = {.start = ds->start};
    if (!d->listed)
        rc__span_of(ds->start, &s);
    *g = (member_group){.start = s.start, .stride = s.stride, .count = s.count, .n = ds->members,
                        .whole = ds->whole};
    g->dying = ds->dying;
    if (d->listed) {
        g->listed = true;
        g->v = ds->members ? d->v + it->at : NULL;   /* an empty set may have no vector */
        it->at += ds->members;
    }
    return true;
}

/* A pass of the pipeline over the members. */
typedef struct member_pass {
    gc_run *r;
    void   *arg;             /* the step's own state */
    size_t  seen;            /* members met */
    size_t  kept;            /* of those, still in the set afterwards */
    bool    held;            /* release: every member is held by the pass */
    bool    pool;            /* release: members may die with their pool */
} member_pass;

/* One step on member o; false: o has left the set (survived, or freed). */
typedef bool (*member_step)(member_pass *p, rc_head *o);

/* Calls step on each member of g, in address order.  In place, a whole
 * span's blocks are all members; in another, members are the blocks with
 * the scan's dead mark -- a member's word does not change while it is in
 * the set, and no other word can become one -- and past the last member
 * nothing is read (freeing it may hand the pool back); the span's end
 * bounds the walk all the same, in case a clear that drops a reference it
 * does not own killed a member.  A member that leaves a listed group
 * leaves a hole. */
RC_INLINE void each_in_group(member_pass *p, const member_group *g, member_step step)
{
    if (g->listed) {
        for (size_t i = 0; i < g->n; i++) {
            if (!g->v[i])
                continue;
            p->seen++;
            if (step(p, g->v[i]))
                p->kept++;
            else
                g->v[i] = NULL;
        }
        return;
    }
    p->seen += g->n;
    if (g->whole) {
        for (char *q = g->start, *end = q + g->n * g->stride; q < end; q += g->stride)
            p->kept += step(p, (rc_head *)(void *)q);
        return;
    }
    size_t left = g->n;
    char *end = g->start + g->count * g->stride;
    for (char *q = g->start; left > 0 && q < end; q += g->stride) {
        rc_head *o = (rc_head *)(void *)q;
        if (!o->tw || !is_dead_mark(o->gc))
            continue;
        left--;
        p->kept += step(p, o);
    }
}

/* Calls step on every member (a constant once inlined, so each step gets
 * loops of its own); each_member, with arg for the step's state, returns
 * how many there were. */
RC_INLINE void walk_members(member_pass *p, member_step step)
{
    group_iter it = {0, 0};
    member_group g;
    while (next_group(&p->r->dead, &it, &g))
        each_in_group(p, &g, step);
}

RC_INLINE size_t each_member(gc_run *r, member_step step, void *arg)
{
    member_pass p = {.r = r, .arg = arg};
    walk_members(&p, step);
    return p.seen;
}

/* gc.c: the young vector gives back what it does not need when it is
 * mostly empty (rc__mapvec_shrink's rule): at the end of each collection, at
 * a switch of the collector and after a freeze. */
void rc__gc_young_trim(rc_gc_state *gc);

/* ---- the pipeline ------------------------------------------------------------------- */

/* gc_dead.c: the dead-set pipeline, in CPython's order; returns how many
 * were collected and sets *uncollectable. */
size_t rc__gc_handle_dead(gc_run *r, size_t *uncollectable);

/* gc_free.c: the steps on the set where it lies.  settle: objects a full
 * collection's scan marked dead and marking reached afterwards survive,
 * and each span's members are counted.  list: the members join the dead
 * vector (false, nothing done, when it cannot hold them).  keep_all:
 * every member survives.  delete: clears the members and frees those
 * whose only references were the set's; returns how many there were. */
void   rc__gc_settle(gc_run *r);
bool   rc__gc_list(gc_run *r);
void   rc__gc_keep_all(gc_run *r);
size_t rc__gc_delete(gc_run *r);

#endif /* RC_GC_IMPL_H */
