/* Objects: the header, rc_new, reference counting and death.
 *
 * Invariants kept here:
 *   - refcnt is the true number of references; RC_REFCNT_IMMORTAL never
 *     changes and such an object never dies.
 *   - An object dies the moment its count reaches 0: finalize (once, and it
 *     may resurrect), weakrefs cleared and their callbacks run, unlinked from
 *     the collector, its references dropped (clear, or a decref per child
 *     traverse visits), release, memory freed.
 *   - Deaths nest: dropping a child's last reference kills the child inside
 *     the parent's death.  Past RC_DEALLOC_DEPTH nested deaths the rest are
 *     queued and finished by the outermost one (CPython's trashcan), so a
 *     long chain cannot overflow the C stack.
 */
#include "internal.h"

#define RC_DEALLOC_DEPTH 64

#undef rc_new
#undef rc_new_var

/* The checks on an object argument (RC_DEBUG): it must not be NULL; at
 * level 2 it must be the body of a live object of some heap, proved
 * without touching it; at level 1 the header must not be a freed block's
 * (tw == 0).  `freed` names the check a freed block fails: a second decref
 * of a dead object is a double or excess decref. */
#if RC_DEBUG >= 1
static void check_live(const void *body, const char *freed)
{
    if (RC_UNLIKELY(!body))
        rc__fatal("NULL object", NULL, body, "a NULL pointer where an object is required (rc_xdecref accepts NULL)");
#if RC_DEBUG >= 2
    if (RC_UNLIKELY(!rc__debug_heap_of(body))) {
        if (rc__debug_is_freed(body))
            rc__fatal(freed, rc__freed_type_name(body), body, "the block was freed");
        rc__fatal("not an object", NULL, body, "not the body of a live object of any heap");
    }
#endif
    if (RC_UNLIKELY(rc__head(body)->tw == 0))
        rc__fatal(freed, rc__freed_type_name(body), body, "the block was freed");
}

void rc__check_arg(const void *body)
{
    check_live(body, "use of a freed object");
}

/* The same, and the count must not be 0 already. */
static void check_object(const void *body, const char *freed)
{
    check_live(body, freed);
    const rc_head *o = rc__head(body);
    if (RC_UNLIKELY(o->refcnt == 0))
        rc__fatal("refcount underflow", rc__type(o)->name, body, "its refcount is already 0 (it is being destroyed)");
}
#else
#define check_object(body, freed) ((void)0)
#endif

/* A tracked object, linked into gen 0 inline.  Only h lives across the
 * allocator's call. */
static RC_NOINLINE void *new_tracked(rc_heap *h, const rc_type *t, size_t body, const rc_site *site)
{
    void *o = rc__new_tracked_object(h, (uintptr_t)t, body, site);
    if (RC_UNLIKELY(!o))
        return NULL;
    rc__gc_on_new(h, rc__head(o));
    return o;
}

/* count[0] passed threshold[0]: a collection may run first. */
static RC_NOINLINE void *new_tracked_due(rc_heap *h, const rc_type *t, size_t body, const rc_site *site)
{
    rc__gc_collect_due(h);
    return new_tracked(h, t, body, site);
}

static RC_NOINLINE void *new_refused(rc_heap *h, const rc_type *t)
{
    if (h)
        rc__error(h, RC_EINVAL, "rc_new: %s", t ? "rc_type is not 64-byte aligned" : "NULL type");
    return NULL;
}

void *rc__new_checked(rc_heap *h, const rc_type *t, size_t body, const rc_site *site)
{
    if (!rc__type_tracked(t))
        return rc__new_leaf(h, t, body, site);
    if (RC_UNLIKELY(rc__gc_count_due(h)))
        return new_tracked_due(h, t, body, site);
    return new_tracked(h, t, body, site);
}

/* In release builds (no thread check) a plain heap's call is a leaf that
 * tail-calls the allocator's fast path. */
void *rc_new_at(rc_heap *h, const rc_type *t, size_t body_size, const rc_site *site)
{
    if (RC_UNLIKELY(!h || !t || ((uintptr_t)t & RC_HF_MASK)))
        return new_refused(h, t);
    size_t body = RC_LIKELY(body_size == 0) ? t->size : body_size;
    if (RC_UNLIKELY(h->mt != NULL))
        return rc__mt_new(h, t, body, site);
    rc__thread_enter(h, "rc_new");
    void *o = rc__new_checked(h, t, body, site);
    rc__thread_leave(h);
    return o;
}

void *rc_new(rc_heap *h, const rc_type *t)
{
    return rc_new_at(h, t, 0, NULL);
}

void *rc_new_var(rc_heap *h, const rc_type *t, size_t body_size)
{
    return rc_new_at(h, t, body_size, NULL);
}

void rc_incref(void *o)
{
    check_object(o, "use of a freed object");
    rc_head *hd = rc__head(o);
    if (RC_UNLIKELY(rc__is_shared(hd))) {
        rc__mt_incref(hd);
        return;
    }
    rc__thread_enter(rc__object_heap(hd), "rc_incref");
    if (hd->refcnt != RC_REFCNT_IMMORTAL)
        hd->refcnt++;
    rc__thread_leave(rc__object_heap(hd));
}

static void dealloc_unshared(rc_head *o);

/* The count goes down unless it is RC_REFCNT_IMMORTAL; the last reference
 * is found before any store, so a death writes no count it then frees. */
void rc_decref(void *o)
{
    check_object(o, "double or excess decref");
    rc_head *hd = rc__head(o);
    if (RC_UNLIKELY(rc__is_shared(hd))) {
        rc__mt_decref(hd);
        return;
    }
    rc_heap *h = rc__object_heap(hd);
    rc__thread_enter(h, "rc_decref");
    rc__note_free_caller(h);
    uint32_t left = hd->refcnt - 1;
    if (left == 0) {
        dealloc_unshared(hd);
    } else {
        if (left != RC_REFCNT_IMMORTAL - 1)
            hd->refcnt = left;
        rc__gc_decref_kept(hd);
    }
    rc__thread_leave(h);
}

void rc_xdecref(void *o)
{
    if (o)
        rc_decref(o);
}

void *rc_newref(void *o)
{
    if (o)
        rc_incref(o);
    return o;
}

size_t rc_refcount(const void *o)
{
    rc__check_arg(o);
    uint32_t n = __atomic_load_n(&rc__head(o)->refcnt, __ATOMIC_RELAXED);   /* other threads' increfs */
    return n == RC_REFCNT_IMMORTAL ? RC_IMMORTAL_REFCNT : n;
}

const rc_type *rc_typeof(const void *o)
{
    if (!o)
        return NULL;
    rc__check_arg(o);
    return rc__type(rc__head(o));
}

rc_heap *rc_heap_of(const void *o)
{
    if (!o)
        return NULL;
    rc__check_arg(o);
    return rc__object_heap(rc__head(o));
}

void rc_immortalize(void *o)
{
    rc__check_arg(o);
    rc__head(o)->refcnt = RC_REFCNT_IMMORTAL;
}

bool rc_is_immortal(const void *o)
{
    rc__check_arg(o);
    return rc__head(o)->refcnt == RC_REFCNT_IMMORTAL;
}

bool rc_is_object(rc_heap *h, const void *p)
{
    return h && p && rc__is_object_body(h, p);
}

size_t rc_sizeof(const void *o)
{
    rc__check_arg(o);
    const rc_head *hd = rc__head(o);
    const rc_type *t = rc__type(hd);
    return rc__object_block_size(hd) + (t->owned ? t->owned(o) : 0);
}

/* ---- death ---------------------------------------------------------------- */

static int decref_child(void *child, void *arg)
{
    (void)arg;
    rc_decref(child);
    return 0;
}

/* An RC_TYPE_REFS body's n references.  Out of line: the decrefs inlined
 * here would make every death save and restore the registers they use. */
static RC_NOINLINE void clear_refs(void **slots, size_t n)
{
    rc__clear_slots(slots, n);
}

/* The words a traverse type declares (ref_words), each NULL before its
 * decref as in rc__clear_slots: the children traverse would visit, without
 * the call through the type.  Out of line for the same reason. */
static RC_NOINLINE void clear_words(void **p, uint64_t words)
{
    for (uint64_t m = words; m; m &= m - 1)
        RC_CLEAR(p[__builtin_ctzll(m)]);
}

/* Drops o's references: clear, or a decref of each child traverse visits.
 * t is o's type, which the caller has in hand. */
RC_INLINE void drop_refs(rc_head *o, const rc_type *t)
{
    if (t->flags & RC_TYPE_REFS)
        clear_refs((void **)rc__body(o), rc__nrefs(t));
    else if (t->clear)
        t->clear(rc__body(o));
    else if (t->traverse && t->ref_words)
        clear_words((void **)rc__body(o), t->ref_words);
    else if (t->traverse)
        t->traverse(rc__body(o), decref_child, NULL);
}

/* The end of every death once release has run (or the type has none);
 * `pooled` when o is known to be a pooled block of a plain heap (neither
 * RC_HF_LARGE nor RC_HF_SHARED), so the allocator need not look. */
RC_INLINE void free_released(rc_heap *h, rc_head *o, bool pooled)
{
    /* Weakrefs were cleared when the death began; one made since (by a
     * finalizer that did not resurrect, by clear or release) would point
     * at freed memory. */
    rc_assert(!(rc__hflags(o) & RC_HF_WEAKREFS), "dangling weakref", rc__body(o),
              "freed while a weakref made during its death still points at it");
    if (pooled)
        rc__free_pooled_object(h, o);
    else
        rc__free_object(h, o);
}

void rc__release_and_free(rc_heap *h, rc_head *o)
{
    const rc_type *t = rc__type(o);
    if (t->release)
        t->release(rc__body(o));
    free_released(h, o, false);
}

/* PEP 442: finalize runs once, with the object briefly alive again; it
 * returns true when the finalizer stored a new reference (resurrection). */
static bool finalize_resurrects(rc_head *o)
{
    const rc_type *t = rc__type(o);
    if (!t->finalize || (rc__hflags(o) & RC_HF_FINALIZED))
        return false;
    rc__hflag_set(o, RC_HF_FINALIZED);
    o->refcnt = 1;
    t->finalize(rc__body(o));
    if (--o->refcnt == 0)
        return false;
    rc__gc_decref_kept(o);      /* it may live on in a cycle */
    return true;
}

_Thread_local struct rc_deaths rc__deaths __attribute__((tls_model("initial-exec")));

/* The queue of deaths deferred past RC_DEALLOC_DEPTH is a list threaded
 * through the dead objects' own refcnt/gc words (8 bytes, 8-aligned). */
static rc_head **trash_link(rc_head *o)
{
    return (rc_head **)(void *)&o->refcnt;
}

/* Those words look like anything then, so an object of a threaded heap
 * holds its heap's lock while it waits (rc__deaths_queued). */
static RC_NOINLINE void trash_push(rc_head *o)
{
    if (rc__is_shared(o))
        rc__mt_lock(rc__object_heap(o));
    *trash_link(o) = rc__deaths.trash;
    rc__deaths.trash = o;
}

/* The deaths queued while the outermost one dropped its references, each
 * at depth 1 as the outermost one's own children were. */
static RC_NOINLINE void drain_trash(void)
{
    rc__deaths.depth = 1;
    while (rc__deaths.trash) {
        rc_head *next = rc__deaths.trash;
        rc__deaths.trash = *trash_link(next);
        rc_heap *h = rc__object_heap(next);
        bool shared = rc__is_shared(next);
        drop_refs(next, rc__type(next));
        rc__release_and_free(h, next);
        if (shared)
            rc__mt_unlock(h);
    }
    rc__deaths.depth = 0;
}

/* rc__free_dead, inline in the death of an object; `generational` when
 * dies_generational said so: the type has no release, and the block is
 * a plain heap's pooled one.  The depth goes back down by a decrement,
 * and the queue is looked at only when the outermost death ends: nothing
 * but h and o lives across drop_refs's call. */
RC_INLINE void free_dead(rc_heap *h, rc_head *o, const rc_type *t, bool generational)
{
    int depth = rc__deaths.depth;
    if (RC_UNLIKELY(depth >= RC_DEALLOC_DEPTH)) {
        trash_push(o);
        return;
    }
    rc__deaths.depth = depth + 1;
    drop_refs(o, t);
    if (--rc__deaths.depth == 0 && RC_UNLIKELY(rc__deaths.trash != NULL))
        drain_trash();
    if (generational)
        free_released(h, o, true);
    else
        rc__release_and_free(h, o);
}

void rc__free_dead(rc_heap *h, rc_head *o)
{
    free_dead(h, o, rc__type(o), false);
}

/* Every death but a plain leaf's, once a finalizer (if the type has one)
 * has left o dead: unlinked from the collector before the weakref
 * callbacks run, since a callback may start a collection, which must not
 * find this object (count 0) and free it under us.  CPython's
 * subtype_dealloc untracks first too. */
RC_INLINE void dealloc_finalized(rc_head *o)
{
    rc_heap *h = rc__object_heap(o);
    if (rc__type_tracked(rc__type(o)))
        rc__gc_on_dealloc(h, o);
    if (RC_UNLIKELY(rc__hflags(o) & RC_HF_WEAKREFS))
        rc__weak_on_dealloc(h, o);
    free_dead(h, o, rc__type(o), false);
}

static RC_NOINLINE void dealloc_finalize(rc_head *o)
{
    if (!finalize_resurrects(o))
        dealloc_finalized(o);
}

/* A tracked object's common death: in gen 0, 1 or 2, of a plain heap's
 * pool, without weakrefs, of a type without release (nor finalizer: the
 * caller's test).  Its gc word says it is in a generation, so its type is
 * tracked and needs no asking; with no weakref there is no callback
 * between the unlink and the drop, and with no release the end needs no
 * second look at the type.  Gen 2 takes this path too: the batch an
 * automatic gen-1 collection promoted dies there. */
RC_INLINE bool dies_generational(const rc_head *o, const rc_type *t)
{
    return !(o->tw & (RC_HF_WEAKREFS | RC_HF_LARGE | RC_HF_SHARED)) && !t->release &&
           rc__gc_is_generational(o->gc);
}

RC_INLINE void dealloc_generational(rc_head *o, const rc_type *t)
{
    rc_heap *h = rc__pooled_heap(o);
    rc__gc_on_generational_dealloc(&h->gc, o);
    free_dead(h, o, t, true);
}

/* Every death but a plain leaf's.  The finalizer's path is apart, so that
 * nothing but o and its heap lives across the calls of the others. */
static RC_NOINLINE void dealloc_full(rc_head *o)
{
    const rc_type *t = rc__type(o);
    if (RC_UNLIKELY(t->finalize != NULL))
        return dealloc_finalize(o);
    if (RC_LIKELY(dies_generational(o, t)))
        return dealloc_generational(o, t);
    dealloc_finalized(o);
}

/* A plain leaf (ints, floats: no finalizer, clear, traverse or release,
 * noted at rc_new) without weakrefs, and without the `also` bits, dies by
 * going straight to the allocator, which finds the heap itself. */
RC_INLINE bool dies_plain(const rc_head *o, uintptr_t also)
{
    return (o->tw & (RC_HF_PLAIN | RC_HF_WEAKREFS | also)) == RC_HF_PLAIN;
}

void rc__dealloc(rc_head *o)
{
    if (RC_LIKELY(dies_plain(o, 0)))
        return rc__free_block_of(o);
    dealloc_full(o);
}

/* rc_decref's death, on a plain heap (RC_HF_SHARED clear) with the count
 * still 1 in the header: a pooled plain leaf's block goes back with no
 * more tests (its free-list link overwrites the count); every other death
 * sees its count at 0 first, as the rest of the death expects. */
static inline void dealloc_unshared(rc_head *o)
{
    if (RC_LIKELY(dies_plain(o, RC_HF_LARGE)))
        return rc__free_pooled_block_of(o);
    o->refcnt = 0;
    dealloc_full(o);
}
