/* Private to the collector's files: gc.c (generations, the passes, one
 * collection), gc_dead.c (what happens to the dead set), gc_api.c (the gc
 * module's control surface).  The invariants are written once, at the top
 * of gc.c; the design is docs/design-gc.md. */
#ifndef RC_GC_IMPL_H
#define RC_GC_IMPL_H

#include "internal.h"

#define RC_GC_CAND      0x80000000u
#define RC_GC_REACHABLE 0x40000000u
/* Dead: in the dead vector (its index in the low bits), or marked dead
 * where it lies by a full collection's scan, which may still reach it
 * afterwards (it then also has RC_GC_REACHABLE: late, and survives). */
#define RC_GC_DEAD      0x20000000u
/* Referenced by an object a full collection marked dead: should marking
 * reach it after all, the dead set references something outside it. */
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
 * RC_WALK_AHEAD blocks ahead (RC_TYPE_REFS bodies; up to 4 children), and
 * of each object it pops from the mark stack into the lag queue, so their
 * headers arrive while the objects between are processed.  Unrolled: it
 * runs once or twice per object of such a graph, and the loop's control
 * was half its instructions (its time did not measurably change). */
RC_INLINE void prefetch_blocks(const char *block, bool bodies)
{
    const rc_head *o = (const rc_head *)(const void *)block;
    if (!o->tw || !(rc__type(o)->flags & RC_TYPE_REFS))
        return;
    const uintptr_t *c = (const uintptr_t *)rc__body(o);
    size_t n = rc__nrefs(rc__type(o));
    /* A NULL child prefetches an address below 0: prefetches never fault. */
#define RC_PREFETCH_CHILD(i)                                                        \
    do {                                                                            \
        __builtin_prefetch((const void *)(c[i] - sizeof(rc_head)), 1, 3);           \
        if (bodies)                                                                 \
            __builtin_prefetch((const void *)(c[i] + sizeof(rc_head)), 1, 3);       \
    } while (0)
    switch (n < 4 ? n : 4) {
    case 4: RC_PREFETCH_CHILD(3); /* fall through */
    case 3: RC_PREFETCH_CHILD(2); /* fall through */
    case 2: RC_PREFETCH_CHILD(1); /* fall through */
    case 1: RC_PREFETCH_CHILD(0); /* fall through */
    default: break;
    }
#undef RC_PREFETCH_CHILD
}

/* The children's headers: what the count pass and marking read. */
RC_INLINE void prefetch_children(const char *block) { prefetch_blocks(block, false); }

/* And the start of their bodies, where marking will soon read their own
 * children: a block that straddles two cache lines would miss there. */
RC_INLINE void prefetch_children_and_bodies(const char *block) { prefetch_blocks(block, true); }

/* The dead vector of the running collection; its members' words hold
 * their index so a death during the collection can leave a hole. */
typedef struct rc_dead_set {
    rc_head **v;
    size_t    len, cap;
    /* A full collection marks its dead objects where they lie instead
     * (RC_GC_DEAD without an index; gc_free.c frees them or fills v). */
    size_t    marked;        /* objects marked dead, late ones included */
    size_t    late;          /* of those, reached by marking afterwards */
    bool      refs_out;      /* a marked object may reference a non-member */
    /* The spans (pools, large objects) holding marked objects, with how
     * many each, so freeing visits only those; spans_lost: the list could
     * not grow, every span is walked instead.  by_span: the members were
     * gathered from them in order (gc_free.c), `marked` now says how many
     * each gave (span_members), and they are freed pool by pool. */
    struct dead_span {
        char  *start;
        size_t marked;
    }        *spans;
    size_t    nspans, spans_cap;
    bool      spans_lost;
    bool      by_span;
    /* The members were held where they lie, none in v (gc_free.c). */
    bool      in_place;
    bool      releases;      /* some member's type has release */
    /* A dead object could not join the vector (no memory): all are kept,
     * since freeing the others could leave it pointing at freed members. */
    bool      lost;
    /* What the members need, gathered as they join, so the passes over the
     * set that would find nothing to do are skipped. */
    unsigned  hflags;        /* union of the members' RC_HF_* flags */
    bool      clearless;     /* some member's type has no clear */
    bool      finalizers;    /* some member's type has finalize */
    bool      not_refs;      /* some member's type is not RC_TYPE_REFS */
    const rc_type *last_type;/* the type last noted */
} dead_set;

/* Once gathered in place, a span whose members are all its blocks has
 * this bit in `marked`: they need no look at their words. */
#define RC_SPAN_WHOLE (SIZE_MAX ^ (SIZE_MAX >> 1))

RC_INLINE bool span_whole(const struct dead_span *ds) { return (ds->marked & RC_SPAN_WHOLE) != 0; }
RC_INLINE size_t span_members(const struct dead_span *ds) { return ds->marked & ~RC_SPAN_WHOLE; }

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
    bool      unbranched;   /* and the heap fits in the cache: mark without branching */
    size_t    candidates;
    dead_set  dead;
} gc_run;

RC_INLINE void survive_old(rc_heap *h, rc_head *o)
{
    o->gc = RC_GC_OLD;
    h->gc.old_count++;
}

/* gc_dead.c: frees what can be freed of r's dead set; returns how many
 * were collected and sets *uncollectable. */
size_t rc__gc_handle_dead(gc_run *r, size_t *uncollectable);

/* gc_dead.c: the last step of the above, for members the caller holds by
 * one reference each (in the vector, or in place): clears them, then
 * frees those whose only reference left is the hold and moves the others
 * to gen 2. */
void rc__gc_clear_held(gc_run *r);

/* gc_free.c: the same for a full collection's dead objects marked in
 * place: freed where they lie when nothing about them needs the set
 * (gc_free.c says when), else gathered into the dead vector for the above. */
size_t rc__gc_handle_marked(gc_run *r, size_t *uncollectable);

/* gc.c: adds o to the dead vector (its word then holds its index); false
 * when the vector cannot grow. */
bool rc__gc_dead_push(dead_set *d, rc_head *o);

#endif /* RC_GC_IMPL_H */
