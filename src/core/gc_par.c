/* A full collection's count, mark and settle split across the heap's
 * workers (gc_workers.c; design: docs/design-gc.md, "Parallel marking").
 *
 * The address space is cut into one range per worker, at pool starts
 * chosen so that each range holds about as many blocks; each worker
 * walks the spans of its own range in every pass.  What a worker does
 * with a reference depends on the graph (gc.c's sample, r->prefetch):
 *
 * A graph allocated in order (rings, lists, trees: few references leave
 * a range) keeps the words partitioned: a worker is the only one to
 * write the words of its range during count and scan, so they need no
 * atomic operations, and a reference into another range travels to its
 * owner in a batch:
 *   count   each worker counts the references from its spans into the
 *           words it owns; the others go into a batch per owner, which
 *           the owner counts after everyone has walked (every reference
 *           is counted once, by the owner of its target).
 *   scan    each worker runs gc.c's fused scan over its own spans with a
 *           cursor of its own; a reference into another range is mailed
 *           to its owner, which marks it, stacks it or finds it late by
 *           its own cursor.  A member with a child in another range
 *           counts as referencing the outside.  The scan ends when every
 *           worker waits with an empty mailbox.
 *
 * A scattered graph (about half of the references cross to another range
 * with two workers) shares the words instead:
 *   count   each worker counts every reference of its spans with a
 *           compare-and-swap on the target's word.
 *   mark    the workers take the spans' roots from one counter and mark
 *           depth-first, each with a stack of its own; a mark is claimed
 *           by an atomic OR, and a worker with work to spare hands part of
 *           its stack to one that has run dry.
 *   settle  then each promotes or marks dead the candidates of its own
 *           spans.  Whether members reference non-members is read from
 *           the children's words, which other workers may be writing:
 *           those reads and the writes of this pass are relaxed atomics.
 *
 * Each worker counts the members of each of its spans; the spans are then
 * noted in address order, so the dead set, and everything the pipeline
 * does with it (gc_dead.c), is a single thread's.
 * A worker that cannot get memory for its stack or a batch leaves the
 * object it was at marked and says so: gc.c's rescan then traverses every
 * marked object again, on one thread, until none is left out.
 * Memory for the count's batches failing sets every word back and hands
 * the collection to gc.c's passes. */
#include "gc_impl.h"
#include "gc_workers.h"

#include <stdlib.h>
#include <string.h>

/* References handed from one worker to another at once: 8 KiB. */
#define PAR_BATCH 1023
/* Each reads the word of an object anywhere in the owner's range, a cache
 * miss that little work separates from the next: the header (and for
 * marking, the start of the body, where the children are) of the one
 * this far ahead is prefetched. */
#define MAIL_AHEAD 32

typedef struct batch {
    struct batch *next;
    size_t        n;
    rc_head      *v[PAR_BATCH];
} batch;

typedef struct par par;
typedef struct worker worker;

/* Cache-line aligned: each worker writes its own all the time. */
struct worker {
    _Alignas(64) par *p;
    uintptr_t lo, width;                /* its range: lo .. lo + width - 1 */
    unsigned  id;
    size_t    candidates;
    rc_head **stack;
    size_t    sp, cap;
    batch    *out[RC_GC_WORKERS_MAX];   /* being filled, per owner */
    batch    *sent[RC_GC_WORKERS_MAX];  /* count: full batches, per owner */
    batch    *mail;                     /* scan: batches for this worker (p->lock) */
    bool      waiting;                  /* scan: asleep with no mail (p->lock) */
    batch    *spare;                    /* empty batches to reuse */
    bool      failed;                   /* count: no memory for a batch */
    const char *cursor;                 /* scan: where this worker's scan is */
    rc_head  *at;                       /* scan: the object at the cursor */
    dead_set  dead;                     /* settle: what this worker's members need */
};

struct par {
    gc_run      *r;
    unsigned     n;                     /* workers */
    rc_gc_scratch *keep;                /* spans and dead_in, kept for the next collection */
    rc_span     *spans;                 /* the pools in address order, then large objects */
    size_t       nspans, npools;
    size_t      *dead_in;               /* settle: members per span */
    uintptr_t    bound[RC_GC_WORKERS_MAX];   /* where each worker's range starts */
    size_t       first_pool[RC_GC_WORKERS_MAX + 1];
    worker      *w;
    bool         fused;                 /* an ordered graph: ranges, mail and the fused scan; else shared words */
    bool         overflow;              /* mark: some object was left out (atomic) */
    rc__os_mutex lock;                  /* the mailboxes, the shared pool and who waits */
    rc__os_cond  cv;
    unsigned     idle;                  /* scan: workers waiting for mail */
    bool         done;
    size_t       next_root;             /* mark: the next span to take roots from (atomic) */
    rc_head    **pool;                  /* mark: work handed over (p->lock) */
    size_t       pool_n, pool_cap;
    unsigned     hungry;                /* mark: workers waiting for work (written under p->lock) */
};

/* ---- ranges and spans --------------------------------------------------------------- */

/* Whether a lies in w's range: one subtraction and compare on bounds the
 * compiler keeps in registers (owner_of reads p->n, an unsigned like the
 * words the passes store, again after each store). */
RC_INLINE bool own(const worker *w, const void *a)
{
    return (uintptr_t)a - w->lo < w->width;
}

/* A parallel collection has two workers or more: bound[1] is always there. */
RC_INLINE unsigned owner_of(const par *p, const void *a)
{
    unsigned o = (uintptr_t)a >= p->bound[1];
    for (unsigned j = 2; j < p->n; j++)
        o += (uintptr_t)a >= p->bound[j];
    return o;
}

/* What a pass keeps in registers over a run of objects: the worker's
 * range (read once, not after each store: a store of a word or a stack
 * slot could alias it for the compiler) and the type of the object before. */
typedef struct walk {
    uintptr_t lo, width;
    type_memo memo;
} walk;

RC_INLINE walk walk_of(const worker *w) { return (walk){w->lo, w->width, {NULL, 0}}; }

/* Whether the object whose header is at `head` lies in k's range. */
RC_INLINE bool walk_owns(const walk *k, uintptr_t head)
{
    return head - k->lo < k->width;
}

/* Worker w's spans, in address order: its pools, then the large objects
 * in its range. */
typedef void (*span_job)(worker *w, size_t k);

static void each_own_span(worker *w, span_job fn)
{
    par *p = w->p;
    for (size_t k = p->first_pool[w->id]; k < p->first_pool[w->id + 1]; k++)
        fn(w, k);
    for (size_t k = p->npools; k < p->nspans; k++)
        if (own(w, p->spans[k].start))
            fn(w, k);
}

static bool add_span(par *p, const rc_span *s, bool pool)
{
    rc_gc_scratch *k = p->keep;
    if (!rc__mapvec_reserve(&k->spans, &k->spans_cap, p->nspans + 1, sizeof *k->spans, 256, SIZE_MAX))
        return false;
    p->spans = k->spans;
    p->spans[p->nspans++] = *s;
    if (pool)
        p->npools = p->nspans;
    return true;
}

/* The spans of the candidate pools, in the walk's order (every pool comes
 * before every large object).  Serial, so it reads only the pools'
 * descriptors: a look at each pool's first block would cost a cache miss
 * per 16 KiB of heap before any worker starts. */
static bool gather_spans(par *p)
{
    rc_span_iter it;
    rc_span s;
    rc__span_iter_init_trackable(p->r->h, &it);
    while (rc__span_next(&it, &s))
        if (!add_span(p, &s, rc__span_iter_at_pool(&it))) {
            rc__span_iter_stop(&it);
            return false;
        }
    return true;
}

/* Room for the members of each span, which the scan or settle of the
 * span's worker writes, every one, before merge_dead reads them. */
static bool reserve_dead_in(par *p)
{
    rc_gc_scratch *k = p->keep;
    if (!rc__mapvec_reserve(&k->dead_in, &k->dead_in_cap, p->nspans + 1, sizeof *k->dead_in, 256, SIZE_MAX))
        return false;
    p->dead_in = k->dead_in;
    return true;
}

/* Cuts the pools into n runs of about equal blocks; worker j's range
 * starts at its first pool (a large object never straddles a pool). */
static void cut_ranges(par *p)
{
    size_t total = 0, sum = 0, k = 0;
    for (size_t i = 0; i < p->npools; i++)
        total += p->spans[i].count;
    for (unsigned j = 0; j < p->n; j++) {
        while (k < p->npools && sum + p->spans[k].count / 2 < total / p->n * j)
            sum += p->spans[k++].count;
        p->first_pool[j] = k;
        p->bound[j] = k < p->npools ? (uintptr_t)p->spans[k].start : UINTPTR_MAX;
    }
    p->first_pool[p->n] = p->npools;
    p->bound[0] = 0;
}

/* ---- batches ------------------------------------------------------------------------ */

static batch *batch_new(worker *w)
{
    batch *b = w->spare;
    if (b)
        w->spare = b->next;
    else if (!(b = malloc(sizeof *b)))
        return NULL;
    b->next = NULL;
    b->n = 0;
    return b;
}

static void batch_recycle(worker *w, batch *b)
{
    b->next = w->spare;
    w->spare = b;
}

static void batches_free(batch *b)
{
    while (b) {
        batch *next = b->next;
        free(b);
        b = next;
    }
}

typedef void (*batch_full)(worker *w, unsigned owner);

/* batch_add's rest: a batch to start, or one to hand on once c is in. */
static RC_NOINLINE bool batch_add_slow(worker *w, unsigned owner, rc_head *c, batch_full full)
{
    batch *b = w->out[owner];
    if (!b && !(b = w->out[owner] = batch_new(w)))
        return false;
    b->v[b->n++] = c;
    if (b->n == PAR_BATCH)
        full(w, owner);
    return true;
}

/* Adds c to the batch for its owner; false when no batch could be had.
 * Mostly a store and an increment, which need no registers saved. */
RC_INLINE bool batch_add(worker *w, unsigned owner, rc_head *c, batch_full full)
{
    batch *b = w->out[owner];
    if (RC_UNLIKELY(!b || b->n >= PAR_BATCH - 1))
        return batch_add_slow(w, owner, c, full);
    b->v[b->n++] = c;
    return true;
}

/* ---- the children -------------------------------------------------------------------- */

/* What a pass does with a child of its own, or another worker's (the
 * cursor is the fused scan's, NULL in the other passes). */
typedef void (*child_fn)(worker *w, rc_head *c, const char *cursor);

/* Calls mine or theirs on each child of o (mine on every child when
 * theirs is NULL: a pass that does not mind the ranges): inline for an
 * RC_TYPE_REFS body, through o's traverse and `visit` otherwise (which
 * finds the cursor in w: stored only on this path, not for every object). */
RC_INLINE void each_child(worker *w, walk *k, rc_head *o, child_fn mine, child_fn theirs, const char *cursor,
                          rc_visit visit)
{
    const rc_type *t = rc__type(o);
    size_t n = memo_nrefs(&k->memo, t);
    if (n >= RC_MAY_LEAVES) {
        if (traverses(o, n)) {
            if (cursor)
                w->cursor = cursor;
            t->traverse(rc__body(o), visit, w);
        }
        return;
    }
    void **p = (void **)rc__body(o);
    for (size_t i = 0; i < n; i++) {
        if (!p[i])
            continue;
        rc_head *c = rc__head(p[i]);
        if (!theirs || walk_owns(k, (uintptr_t)c))
            mine(w, c, cursor);
        else
            theirs(w, c, cursor);
    }
}

/* ---- 0. the young candidates ---------------------------------------------------------- */

/* Young vectors from this long are set by every worker a slice (the
 * first full collection after ten million allocations would otherwise
 * spend a sixth of its time writing them on one thread); shorter ones
 * cost less than waking the helpers. */
#define YOUNG_PAR_MIN 65536

static void young_job(void *arg, unsigned id)
{
    par *p = arg;
    rc_gc_state *gc = &p->r->h->gc;
    size_t n = gc->young_len;
    young_words_set(gc, n * id / p->n, n * (id + 1) / p->n, RC_GC_OLD);
}

/* A full collection's young candidates count from RC_GC_OLD, as gen 2's do. */
static void young_to_old_words(par *p)
{
    if (p->r->h->gc.young_len >= YOUNG_PAR_MIN)
        rc__gc_workers_run(p->r->h, p->n, young_job, p);
    else
        young_to_candidates(p->r, RC_GC_OLD);
}

/* ---- 1. count ----------------------------------------------------------------------- */

static void count_batch_full(worker *w, unsigned owner)
{
    batch *b = w->out[owner];
    b->next = w->sent[owner];
    w->sent[owner] = b;
    w->out[owner] = NULL;
}

RC_INLINE void count_mine(worker *w, rc_head *c, const char *cursor)
{
    (void)w;
    (void)cursor;
    count_full_ref(c);
}

/* Out of line: inlined, it takes registers from count_blocks' loop over
 * every object, and rings of traverse types run 4% more instructions for
 * 7% fewer on a random graph of RC_TYPE_REFS. */
static RC_NOINLINE void count_theirs(worker *w, rc_head *c, const char *cursor)
{
    (void)cursor;
    if (!batch_add(w, owner_of(w->p, c), c, count_batch_full))
        w->failed = true;
}

static int visit_count(void *child, void *arg)
{
    worker *w = arg;
    rc_head *c = rc__head(child);
    if (own(w, c))
        count_full_ref(c);
    else
        count_theirs(w, c, NULL);
    return 0;
}

/* The candidates of span s counted, for an ordered graph. */
static void count_blocks(worker *w, const rc_span *s)
{
    walk k = walk_of(w);
    size_t n = 0, st = s->stride;
    char *end = s->start + s->count * st;
    for (char *q = s->start; q < end; q += st) {
        rc_head *o = (rc_head *)(void *)q;
        if (!o->tw || o->gc >= RC_GC_SENTINEL_MIN)       /* free, untracked or frozen */
            continue;
        n++;
        each_child(w, &k, o, count_mine, count_theirs, NULL, visit_count);
    }
    w->candidates += n;
}

/* A scattered graph's references cross between any two ranges as often
 * as not: every worker counts every reference of its spans into the
 * target's word with a compare-and-swap (the counts stay exact, and no
 * batch is written or read; docs/design-gc.md has the figures). */
RC_INLINE uint32_t word_of(const rc_head *c) { return __atomic_load_n(&c->gc, __ATOMIC_RELAXED); }

RC_INLINE void count_shared_ref(rc_head *c)
{
    uint32_t g = word_of(c);
    do {
        if ((g & RC_GC_REFS) >= RC_GC_REFS_SAT)
            return;
        rc_assert((g & RC_GC_REFS) < c->refcnt, "refcount lower than references found in the heap",
                  rc__body(c), "refcount %u", c->refcnt);
    } while (!__atomic_compare_exchange_n(&c->gc, &g, (g + 1) | RC_GC_CAND, true, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
}

RC_INLINE void count_shared(worker *w, rc_head *c, const char *cursor)
{
    (void)w;
    (void)cursor;
    count_shared_ref(c);
}

static int visit_count_shared(void *child, void *arg)
{
    (void)arg;
    count_shared_ref(rc__head(child));
    return 0;
}

/* The candidates of span s counted, prefetching the children of the
 * object RC_WALK_AHEAD blocks on (as gc.c's count pass does for such a
 * graph). */
static void count_blocks_shared(worker *w, const rc_span *s)
{
    walk k = walk_of(w);
    size_t n = 0, st = s->stride;
    char *end = s->start + s->count * st;
    bool traversed = w->p->r->prefetch_traversed;
    for (char *q = s->start; q < end; q += st) {
        if (q + RC_WALK_AHEAD * st < end)
            prefetch_children(q + RC_WALK_AHEAD * st, traversed);
        rc_head *o = (rc_head *)(void *)q;
        if (!o->tw || word_of(o) >= RC_GC_SENTINEL_MIN)     /* others count into it meanwhile */
            continue;
        n++;
        each_child(w, &k, o, count_shared, NULL, NULL, visit_count_shared);
    }
    w->candidates += n;
}

static void count_span(worker *w, size_t k)
{
    const rc_span s = w->p->spans[k];
    if (w->p->fused)
        count_blocks(w, &s);
    else
        count_blocks_shared(w, &s);
}

static void count_job(void *arg, unsigned id)
{
    worker *w = &((par *)arg)->w[id];
    each_own_span(w, count_span);
    for (unsigned j = 0; j < w->p->n; j++)
        if (w->out[j])
            count_batch_full(w, j);
}

/* The references the other workers found to w's objects: the first step
 * of w's scan, which is the first to read w's words once every worker is
 * through counting (no pass of its own: a wake and a wait fewer). */
static void count_mail(worker *w)
{
    par *p = w->p;
    for (unsigned i = 0; i < p->n; i++)
        for (batch *b = p->w[i].sent[w->id], *next; b; b = next) {
            for (size_t k = 0; k < b->n; k++) {
                if (k + MAIL_AHEAD < b->n)
                    __builtin_prefetch(b->v[k + MAIL_AHEAD], 1, 3);
                count_full_ref(b->v[k]);
            }
            next = b->next;
            batch_recycle(w, b);
        }
}

/* Out of memory while counting: every candidate's word back to RC_GC_OLD,
 * as before counting. */
static void uncount_span(worker *w, size_t k)
{
    const rc_span s = w->p->spans[k];   /* a copy, kept in registers across the stores */
    for (char *q = s.start; q < s.start + s.count * s.stride; q += s.stride) {
        rc_head *o = (rc_head *)(void *)q;
        if (o->tw && o->gc < RC_GC_SENTINEL_MIN)
            o->gc = RC_GC_OLD;
    }
}

static void uncount_job(void *arg, unsigned id)
{
    each_own_span(&((par *)arg)->w[id], uncount_span);
}

static bool count_refs_par(par *p)
{
    rc__gc_workers_run(p->r->h, p->n, count_job, p);
    bool failed = false;
    for (unsigned j = 0; j < p->n; j++)
        failed |= p->w[j].failed;
    if (failed) {
        for (unsigned i = 0; i < p->n; i++)
            for (unsigned j = 0; j < p->n; j++)
                batches_free(p->w[i].sent[j]);
        rc__gc_workers_run(p->r->h, p->n, uncount_job, p);
        return false;
    }
    for (unsigned j = 0; j < p->n; j++)
        p->r->candidates += p->w[j].candidates;
    return true;
}

/* ---- 2. mark ------------------------------------------------------------------------ */

/* A reference could not be stacked or mailed: the object being
 * traversed stays marked and gc.c's rescan traverses it again.  The fused
 * scan promotes the object at its cursor before traversing it (scan_one):
 * that one is made late instead, which the rescan and the sweep after it
 * (gc.c, finish_scan) see as marked. */
static RC_COLD void left_out(worker *w)
{
    __atomic_store_n(&w->p->overflow, true, __ATOMIC_RELAXED);
    rc_head *o = w->at;
    if (o && o->gc == RC_GC_OLD) {
        o->gc = RC_GC_CAND | RC_GC_DEAD | RC_GC_REACHABLE;
        w->dead.marked++;
        w->dead.late++;
    }
}

static RC_NOINLINE void push_growing(worker *w, rc_head *o)
{
    if (rc__mapvec_reserve(&w->stack, &w->cap, w->sp + 1, sizeof *w->stack, 4096, SIZE_MAX))
        w->stack[w->sp++] = o;
    else
        left_out(w);         /* o stays marked: the rescan traverses it */
}

RC_INLINE void push(worker *w, rc_head *o)
{
    if (RC_UNLIKELY(w->sp == w->cap))
        push_growing(w, o);
    else
        w->stack[w->sp++] = o;
}

/* Posts the full batch for owner into its mailbox, waking it if it sleeps. */
static void mail_batch(worker *w, unsigned owner)
{
    par *p = w->p;
    worker *to = &p->w[owner];
    batch *b = w->out[owner];
    w->out[owner] = NULL;
    rc__os_lock(&p->lock);
    b->next = to->mail;
    __atomic_store_n(&to->mail, b, __ATOMIC_RELAXED);    /* check_mail peeks without the lock */
    if (to->waiting) {
        to->waiting = false;
        p->idle--;
        rc__os_cond_broadcast(&p->cv);
    }
    rc__os_unlock(&p->lock);
}

/* A child of another worker goes to it by mail.  Inline: a call each
 * cost more than the registers it spared the scan's loop (count_theirs,
 * whose loop runs over every object, stays a call). */
RC_INLINE void mail_theirs(worker *w, rc_head *c, const char *cursor)
{
    (void)cursor;
    if (!batch_add(w, owner_of(w->p, c), c, mail_batch))
        left_out(w);         /* the object being traversed is marked: the rescan comes back to it */
}

static void drain_scan(worker *w, walk *k, const char *cursor);
RC_INLINE void scan_own(worker *w, rc_head *c);

static void take_mail(worker *w, batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        if (i + MAIL_AHEAD < b->n)
            prefetch_child((uintptr_t)rc__body(b->v[i + MAIL_AHEAD]), true);
        scan_own(w, b->v[i]);
    }
    batch_recycle(w, b);
    walk k = walk_of(w);
    drain_scan(w, &k, w->cursor);
}

/* Mail waiting for w, without waiting for any. */
static batch *check_mail(worker *w)
{
    par *p = w->p;
    if (!__atomic_load_n(&w->mail, __ATOMIC_RELAXED))
        return NULL;
    rc__os_lock(&p->lock);
    batch *b = w->mail;
    w->mail = NULL;
    rc__os_unlock(&p->lock);
    return b;
}

static void take_all_mail(worker *w, batch *b)
{
    while (b) {
        batch *next = b->next;
        take_mail(w, b);
        b = next;
    }
}

/* Sends what w has gathered for others, then waits for mail: NULL when
 * the scan is over (every worker waits, every mailbox is empty). */
static batch *wait_mail(worker *w)
{
    par *p = w->p;
    for (unsigned j = 0; j < p->n; j++)
        if (w->out[j])
            mail_batch(w, j);
    rc__os_lock(&p->lock);
    batch *b = NULL;
    for (;;) {
        if ((b = w->mail) || p->done)
            break;
        if (++p->idle == p->n) {
            p->done = true;
            rc__os_cond_broadcast(&p->cv);
            break;
        }
        w->waiting = true;
        while (w->waiting && !p->done)
            rc__os_cond_wait(&p->cv, &p->lock);
    }
    w->mail = NULL;
    rc__os_unlock(&p->lock);
    return b;
}

/* ---- 2. mark, for a scattered graph: shared work ------------------------------------- */

/* Any worker marks any object, and takes roots span by span from one
 * counter: the mark is claimed by an atomic OR of RC_GC_REACHABLE, after
 * a plain look that turns away what is marked already (no locked
 * instruction for those).  REACHABLE is the only bit this pass writes
 * into a counted word (a root nothing counted, word 0, gets CAND with it,
 * from the one worker that took its span), so the OR loses nothing and
 * the marked set is one thread's.  A worker whose stack runs dry waits
 * for work (hungry); one that sees a hungry worker and has a stack to
 * spare hands part of it over through the shared pool (Boehm GC's
 * parallel mark does the same with its global mark stack). */
RC_INLINE bool claim(rc_head *c, uint32_t bits)
{
    return !(__atomic_fetch_or(&c->gc, bits, __ATOMIC_RELAXED) & RC_GC_REACHABLE);
}

/* c marked by this worker (and stacked) when fresh. */
RC_INLINE void mark_shared(worker *w, rc_head *c, const char *cursor)
{
    (void)cursor;
    if (is_fresh(word_of(c)) && claim(c, RC_GC_REACHABLE))
        push(w, c);
}

static int visit_mark(void *child, void *arg)
{
    mark_shared(arg, rc__head(child), NULL);
    return 0;
}

RC_INLINE void mark_children(worker *w, walk *k, rc_head *o)
{
    each_child(w, k, o, mark_shared, NULL, NULL, visit_mark);
}

/* Stacks hold at least this many before any of them is handed over. */
#define SHARE_MIN 64
/* And at most this many go at once (a copy under the pool's lock). */
#define SHARE_MAX 4096

/* Part of w's stack (the top: any object of a scattered graph leads as
 * far as any other) into the shared pool while it is empty, for the
 * hungry.  With no memory for it, w keeps its work. */
static RC_NOINLINE void share(worker *w)
{
    par *p = w->p;
    size_t k = w->sp / 2 < SHARE_MAX ? w->sp / 2 : SHARE_MAX;
    rc__os_lock(&p->lock);
    if (p->pool_n == 0 && rc__mapvec_reserve(&p->pool, &p->pool_cap, k, sizeof *p->pool, SHARE_MAX, SIZE_MAX)) {
        w->sp -= k;
        memcpy(p->pool, w->stack + w->sp, k * sizeof *p->pool);
        p->pool_n = k;
        rc__os_cond_broadcast(&p->cv);
    }
    rc__os_unlock(&p->lock);
}

RC_INLINE bool someone_hungry(const worker *w)
{
    return __atomic_load_n(&w->p->hungry, __ATOMIC_RELAXED) && w->sp >= SHARE_MIN;
}

/* Popped objects wait in a small FIFO with their children prefetched, as
 * in gc.c's drain_lagged. */
static void drain(worker *w, walk *k)
{
    lag_ring q = {.n = 0, .head = 0};
    bool traversed = w->p->r->prefetch_traversed;
    for (;;) {
        while (!lag_full(&q) && w->sp > 0) {
            rc_head *o = w->stack[--w->sp];
            prefetch_children_and_bodies((const char *)o, traversed);
            lag_push(&q, o);
        }
        rc_head *top = lag_pop(&q);
        if (!top)
            return;
        mark_children(w, k, top);
        if (RC_UNLIKELY(someone_hungry(w)))
            share(w);
    }
}

/* w's share of the pool onto its stack; false when none is left
 * anywhere: every worker is hungry, so every stack is empty and every
 * span's roots taken. */
static bool take_shared(worker *w)
{
    par *p = w->p;
    rc__os_lock(&p->lock);
    __atomic_store_n(&p->hungry, p->hungry + 1, __ATOMIC_RELAXED);
    while (p->pool_n == 0 && !p->done) {
        if (p->hungry == p->n) {
            p->done = true;
            rc__os_cond_broadcast(&p->cv);
            break;
        }
        rc__os_cond_wait(&p->cv, &p->lock);
    }
    size_t k = (p->pool_n + p->hungry - 1) / p->hungry;
    __atomic_store_n(&p->hungry, p->hungry - 1, __ATOMIC_RELAXED);
    if (k && rc__mapvec_reserve(&w->stack, &w->cap, w->sp + k, sizeof *w->stack, 4096, SIZE_MAX)) {
        p->pool_n -= k;
        memcpy(w->stack + w->sp, p->pool + p->pool_n, k * sizeof *w->stack);
        w->sp += k;
    } else if (k) {
        p->pool_n -= k;
        left_out(w);         /* they stay marked: the rescan traverses them */
    }
    bool done = p->done;
    rc__os_unlock(&p->lock);
    return !done;
}

/* A candidate referenced from outside the set is a root (as in gc.c's
 * mark_if_root). */
RC_INLINE bool take_root(rc_head *o)
{
    uint32_t g = word_of(o);
    if (g >= RC_GC_SENTINEL_MIN || (g & RC_GC_REACHABLE) || !has_outside_refs(o, g))
        return false;
    return claim(o, RC_GC_CAND | RC_GC_REACHABLE);     /* CAND: a word of 0 is a root nothing counted */
}

static void mark_roots_span(worker *w, size_t j, walk *k)
{
    const rc_span s = w->p->spans[j];   /* a copy, kept in registers across the stores */
    for (char *q = s.start; q < s.start + s.count * s.stride; q += s.stride) {
        rc_head *o = (rc_head *)(void *)q;
        if (o->tw && take_root(o)) {
            mark_children(w, k, o);
            drain(w, k);
        }
    }
}

static void mark_job(void *arg, unsigned id)
{
    par *p = arg;
    worker *w = &p->w[id];
    walk k = walk_of(w);
    for (size_t j; (j = __atomic_fetch_add(&p->next_root, 1, __ATOMIC_RELAXED)) < p->nspans;)
        mark_roots_span(w, j, &k);
    while (take_shared(w))
        drain(w, &k);
}

static void mark_par(par *p)
{
    rc__gc_workers_run(p->r->h, p->n, mark_job, p);
    if (p->overflow) {
        p->r->overflow = true;
        rc__gc_rescan_marked(p->r);
    }
}

/* ---- 2+3 fused, for a graph allocated in order ---------------------------------------- */

/* gc.c's fused scan, each worker over its own spans with a cursor of its
 * own: a child of its own behind the cursor is stacked and traversed now,
 * one ahead only marked (the scan gets there); a child of another worker
 * is mailed to it, which does the same with its cursor.  Mail after a
 * worker's scan is over finds everything behind: an object it marked dead
 * is then late, as in gc.c. */
RC_INLINE void scan_own(worker *w, rc_head *c)
{
    if (scan_mark(&w->dead, c) && (const char *)c < w->cursor)
        push(w, c);
}


RC_INLINE void scan_mine(worker *w, rc_head *c, const char *cursor)
{
    if (scan_mark(&w->dead, c) && (const char *)c < cursor)
        push(w, c);
}

static RC_NOINLINE void visit_scan_slow(worker *w, rc_head *c)
{
    if (own(w, c))
        scan_own(w, c);
    else
        mail_theirs(w, c, NULL);
}

/* For a traverse function: the cursor is w's.  A fresh child of w's own
 * ahead of the cursor (the common case, as in gc.c's visit_mark_scan) is
 * marked here; the rest out of line, so that the function a traverse
 * calls per child saves no registers. */
static int visit_scan(void *child, void *arg)
{
    worker *w = arg;
    rc_head *c = rc__head(child);
    if (RC_LIKELY(own(w, c) && is_fresh_unmarked(c->gc) && (const char *)c >= w->cursor)) {
        c->gc |= RC_GC_REACHABLE;
        return 0;
    }
    visit_scan_slow(w, c);
    return 0;
}

/* Traverses o for the scan at cursor. */
RC_INLINE void scan_children(worker *w, walk *k, rc_head *o, const char *cursor)
{
    each_child(w, k, o, scan_mine, mail_theirs, cursor, visit_scan);
}

static void drain_scan(worker *w, walk *k, const char *cursor)
{
    while (w->sp > 0) {
        rc_head *o = w->stack[--w->sp];
        scan_children(w, k, o, cursor);
    }
}

RC_INLINE bool owns(const void *ctx, const rc_head *c)
{
    const worker *w = ctx;
    return own(w, c);
}

/* gc.c's scan_object.  The object is promoted before its children are
 * traversed (a child that is itself finds it not fresh either way), so
 * that a reference it cannot mail makes it late (left_out). */
RC_INLINE void scan_one(worker *w, walk *k, rc_head *o, const char *cursor)
{
    scan_verdict v = scan_verdict_of(o);
    if (v != SCAN_LIVE) {
        if (v == SCAN_DEAD)
            dead_mark_ours(&w->dead, o, owns, w);
        return;
    }
    o->gc = RC_GC_OLD;
    w->at = o;
    scan_children(w, k, o, cursor);
    if (w->sp)
        drain_scan(w, k, cursor);
}

/* The objects of span s in the fused scan, the cursor at each (past
 * everything for a large object, as in gc.c's scan_blocks). */
RC_INLINE void scan_blocks_par(worker *w, const rc_span *s, bool large)
{
    walk k = walk_of(w);
    size_t st = s->stride;
    char *end = s->start + s->count * st;
    for (char *q = s->start; q < end; q += st)
        if (((rc_head *)(void *)q)->tw)
            scan_one(w, &k, (rc_head *)(void *)q, large ? (char *)UINTPTR_MAX : q);
}

static void scan_span_par(worker *w, size_t j)
{
    const rc_span s = w->p->spans[j];   /* a copy, kept in registers across the stores */
    bool large = j >= w->p->npools;
    size_t before = w->dead.marked;
    if (large)
        scan_blocks_par(w, &s, true);
    else
        scan_blocks_par(w, &s, false);
    w->p->dead_in[j] = w->dead.marked - before;
    w->cursor = large ? (const char *)UINTPTR_MAX : s.start + s.count * s.stride;
    w->at = NULL;            /* mail traverses only objects marked late */
    take_all_mail(w, check_mail(w));
}

static void scan_job(void *arg, unsigned id)
{
    worker *w = &((par *)arg)->w[id];
    count_mail(w);
    each_own_span(w, scan_span_par);
    w->cursor = (const char *)UINTPTR_MAX;
    for (batch *b; (b = wait_mail(w));)
        take_all_mail(w, b);
}

/* ---- 3. settle ---------------------------------------------------------------------- */

RC_INLINE void set_word(rc_head *o, uint32_t g) { __atomic_store_n(&o->gc, g, __ATOMIC_RELAXED); }

/* gc.c's dead_mark once marking is over: no object is reached later, so
 * no child needs RC_GC_DEADREF; a child not fresh is outside the set. */
static void dead_mark_settled(dead_set *d, rc_head *o, uint32_t g)
{
    set_word(o, RC_GC_CAND | RC_GC_DEAD | (g & RC_GC_REFS));
    d->marked++;
    dead_note(d, o);
    if (d->not_refs || d->refs_out)
        return;
    void **c = (void **)rc__body(o);
    for (size_t i = 0, n = rc__nrefs(rc__type(o)); i < n; i++) {
        if (!c[i])
            continue;
        rc_head *ch = rc__head(c[i]);
        uint32_t cg = word_of(ch);
        if (!is_fresh(cg) || has_outside_refs(ch, cg)) {
            d->refs_out = true;
            return;
        }
    }
}

static void settle_span(worker *w, size_t k)
{
    const rc_span s = w->p->spans[k];   /* a copy, kept in registers across the stores */
    size_t before = w->dead.marked;
    for (char *q = s.start; q < s.start + s.count * s.stride; q += s.stride) {
        rc_head *o = (rc_head *)(void *)q;
        uint32_t g = o->gc;
        if (!o->tw || !is_cand(g))
            continue;
        if (g & RC_GC_REACHABLE)
            set_word(o, RC_GC_OLD);
        else
            dead_mark_settled(&w->dead, o, g);
    }
    w->p->dead_in[k] = w->dead.marked - before;
}

static void settle_job(void *arg, unsigned id)
{
    each_own_span(&((par *)arg)->w[id], settle_span);
}

/* The workers' findings as one dead set, its spans in address order. */
static void merge_dead(par *p)
{
    dead_set *d = &p->r->dead;
    size_t nspans = 0;
    for (unsigned j = 0; j < p->n; j++) {
        const dead_set *wd = &p->w[j].dead;
        d->marked += wd->marked;
        d->late += wd->late;
        d->hflags |= wd->hflags;
        d->clearless |= wd->clearless;
        d->finalizers |= wd->finalizers;
        d->releases |= wd->releases;
        d->not_refs |= wd->not_refs;
        d->some_refs |= wd->some_refs;
        d->refs_out |= wd->refs_out;
        d->held |= wd->held;
    }
    for (size_t k = 0; k < p->nspans; k++)
        nspans += p->dead_in[k] > 0;
    if (nspans && !rc__mapvec_reserve(&d->spans, &d->spans_cap, nspans, sizeof *d->spans, 64, SIZE_MAX)) {
        d->lost = true;          /* as gc.c's note_dead_span: the set survives whole */
        return;
    }
    for (size_t k = 0; k < p->nspans; k++)
        if (p->dead_in[k])
            d->spans[d->nspans++] = (dead_span){.start = p->spans[k].start, .members = p->dead_in[k]};
}

/* ---- one full collection ------------------------------------------------------------ */

static unsigned workers_wanted(const rc_heap *h)
{
    unsigned n = h->cfg.gc_workers;
    if (n == 0) {
        n = rc__os_cpus();
        n = n < 8 ? n : 8;
    }
    return n < RC_GC_WORKERS_MAX ? n : RC_GC_WORKERS_MAX;
}

static void par_free(par *p)
{
    for (unsigned j = 0; p->w && j < p->n; j++) {
        worker *w = &p->w[j];
        for (unsigned i = 0; i < p->n; i++)
            batches_free(w->out[i]);
        batches_free(w->spare);
        batches_free(w->mail);
        rc__mapvec_free(&w->stack, &w->cap, sizeof *w->stack);
    }
    free(p->w);
    rc__mapvec_free(&p->pool, &p->pool_cap, sizeof *p->pool);
    if (p->keep) {               /* kept; cut to twice the need when a quarter of it is used */
        rc__mapvec_shrink(&p->keep->spans, &p->keep->spans_cap, p->nspans, sizeof *p->spans, 256);
        rc__mapvec_shrink(&p->keep->dead_in, &p->keep->dead_in_cap, p->nspans + 1, sizeof *p->dead_in, 256);
    }
    rc__os_cond_destroy(&p->cv);
    rc__os_mutex_destroy(&p->lock);
}

/* Whether the collection is for several workers: a heap of
 * gc_parallel_min bytes or more, unless its graph is scattered and fits in
 * half the cache (r->unbranched), where gc.c's branch-free marking on one
 * thread takes little more than half the CPU time of two workers
 * together (figures: docs/design-gc.md, "Parallel marking"). */
static bool worth_workers(gc_run *r)
{
    rc_heap *h = r->h;
    if (rc__heap_bytes(h) < h->cfg.gc_parallel_min || workers_wanted(h) < 2)
        return false;
    rc__gc_decide_prefetch(r);      /* its sample reads no word young_to_candidates writes */
    return !r->unbranched;
}

/* Everything a parallel collection needs before it touches a word. */
static bool par_init(par *p, gc_run *r)
{
    rc_heap *h = r->h;
    *p = (par){.r = r};
    if (!rc__os_mutex_init(&p->lock))
        return false;
    if (!rc__os_cond_init(&p->cv)) {
        rc__os_mutex_destroy(&p->lock);
        return false;
    }
    p->n = rc__gc_workers_get(h, workers_wanted(h));
    if (p->n >= 2)
        p->keep = rc__gc_workers_scratch(h);
    if (p->n < 2 || !gather_spans(p) || !reserve_dead_in(p) ||
        !(p->w = aligned_alloc(_Alignof(worker), p->n * sizeof *p->w))) {
        par_free(p);
        return false;
    }
    cut_ranges(p);
    p->fused = !r->prefetch;
    for (unsigned j = 0; j < p->n; j++) {
        uintptr_t hi = j + 1 < p->n ? p->bound[j + 1] : UINTPTR_MAX;
        p->w[j] = (worker){.p = p, .id = j, .lo = p->bound[j], .width = hi - p->bound[j]};
    }
    return true;
}

bool rc__gc_par_full(gc_run *r)
{
    par p;
    if (!worth_workers(r)) {
        rc__gc_workers_scratch_free(r->h);
        return false;
    }
    if (!par_init(&p, r))
        return false;
    young_to_old_words(&p);
    if (!count_refs_par(&p)) {
        par_free(&p);
        return false;
    }
    if (p.fused) {
        rc__gc_workers_run(r->h, p.n, scan_job, &p);
        r->overflow = p.overflow;          /* gc.c's finish_scan rescans */
    } else {
        mark_par(&p);
        rc__gc_workers_run(r->h, p.n, settle_job, &p);
    }
    merge_dead(&p);
    par_free(&p);
    return true;
}
