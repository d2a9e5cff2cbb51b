/* The dead-set pipeline, in CPython's order (Python/gc.c): the dead set
 * deduced by gc.c's passes is settled (gc_free.c); what cannot be cleared
 * stays (uncollectable, gc.garbage); weakrefs to members are cleared and
 * their callbacks run; finalizers run once; what user code resurrected
 * survives; the rest is deleted (gc_free.c).  Written once: each step
 * walks the members with each_member (gc_impl.h), whether they are
 * listed or where they lie, and a step the members' noted needs say would
 * find nothing to do is skipped.  The steps that need an index per member
 * (the counts below) have the set listed first.  docs/design-gc.md. */
#include "gc_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Per-member counters for the analyses below, indexed like the dead
 * vector (a listed member's word holds its index).  vec.c arrays, so
 * that a big dead set's counters go back to the OS with it. */
typedef struct dead_counts {
    uint32_t *n;
    bool     *flag;
    rc_head **work;
    size_t    nwork;
    size_t    cap_n, cap_flag, cap_work;
    bool      ok;            /* the arrays could be had */
} dead_counts;

static uint32_t dead_index(const rc_head *o) { return o->gc & RC_GC_REFS; }

/* len elements of elem bytes, zeroed when `zero`; NULL without memory. */
static void *counts_array(size_t *cap, size_t len, size_t elem, bool zero)
{
    void *v = NULL;
    *cap = 0;
    if (!rc__vec_reserve(&v, cap, len, elem, len, SIZE_MAX))
        return NULL;
    if (zero)
        memset(v, 0, len * elem);
    return v;
}

static void counts_init(dead_counts *c, size_t len)
{
    len = len ? len : 1;       /* arrays even for an empty set: ok means memory */
    *c = (dead_counts){0};
    c->n = counts_array(&c->cap_n, len, sizeof *c->n, true);
    c->flag = counts_array(&c->cap_flag, len, sizeof *c->flag, true);
    c->work = counts_array(&c->cap_work, len, sizeof *c->work, false);
    c->ok = c->n && c->flag && c->work;
}

static void counts_free(dead_counts *c)
{
    rc__vec_free(&c->n, &c->cap_n, sizeof *c->n);
    rc__vec_free(&c->flag, &c->cap_flag, sizeof *c->flag);
    rc__vec_free(&c->work, &c->cap_work, sizeof *c->work);
}

static void push_work(dead_counts *c, rc_head *o, bool flag)
{
    c->flag[dead_index(o)] = flag;
    c->work[c->nwork++] = o;
}

/* Runs the worklist: each object popped is traversed with visit. */
static void drain_work(dead_counts *c, rc_visit visit)
{
    while (c->nwork > 0)
        rc__traverse(c->work[--c->nwork], visit, c);
}

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
        if (--c->n[i] == 0 && !c->flag[i])
            push_work(c, ch, true);
    }
    return 0;
}

static int visit_keep_dead(void *child, void *arg)
{
    dead_counts *c = arg;
    rc_head *ch = rc__head(child);
    if (is_cand(ch->gc) && c->flag[dead_index(ch)])
        push_work(c, ch, false);
    return 0;
}

/* ---- uncollectable --------------------------------------------------------------- */

static bool count_from_clearless(member_pass *p, rc_head *o)
{
    if (!rc__type_clears(rc__type(o)))
        rc__traverse(o, visit_count_dead, p->arg);
    return true;
}

static bool push_unreferenced(member_pass *p, rc_head *o)
{
    dead_counts *c = p->arg;
    if (c->n[dead_index(o)] == 0)
        push_work(c, o, true);
    return true;
}

static bool push_kept(member_pass *p, rc_head *o)
{
    dead_counts *c = p->arg;
    if (!c->flag[dead_index(o)])
        push_work(c, o, false);
    return true;
}

/* Which dead objects clearing cannot free: clearing drops the references
 * of members that have `clear`; members without one keep theirs until they
 * die.  Counting only references from clear-less members, a member whose
 * count is 0 dies, releasing its references in turn; whoever is left is
 * held by a cycle of clear-less members: uncollectable (flag false) -- and
 * so is everything a member left references, since it is not cleared. */
static void find_collectable(gc_run *r, dead_counts *c)
{
    each_member(r, count_from_clearless, c);
    each_member(r, push_unreferenced, c);
    while (c->nwork > 0) {
        rc_head *o = c->work[--c->nwork];
        if (!rc__type_clears(rc__type(o)))
            rc__traverse(o, visit_release_dead, c);
    }
    each_member(r, push_kept, c);
    drain_work(c, visit_keep_dead);
}

/* Moves an uncollectable member out of the set: a clear-less one to
 * gc.garbage, and to gen 2.  Without the memory to decide, everything is
 * kept: safe, later. */
static bool keep_if_uncollectable(member_pass *p, rc_head *o)
{
    const dead_counts *c = p->arg;
    rc_heap *h = p->r->h;
    if (c->ok && c->flag[dead_index(o)])
        return true;
    if (h->gc.debug & RC_GC_DEBUG_UNCOLLECTABLE)
        debug_line(h, "uncollectable", o);
    if (!rc__type_clears(rc__type(o)) || (h->gc.debug & RC_GC_DEBUG_SAVEALL))
        garbage_append(h, o);
    survive_old(h, o);
    return false;
}

/* Returns how many members were uncollectable. */
static size_t keep_uncollectable(gc_run *r)
{
    dead_counts c;
    counts_init(&c, r->dead.len);
    if (c.ok)
        find_collectable(r, &c);
    member_pass p = {.r = r, .arg = &c};
    walk_members(&p, keep_if_uncollectable);
    counts_free(&c);
    return p.seen - p.kept;
}

/* ---- finalizers and resurrection ----------------------------------------------------- */

/* Runs o's finalizer once, holding a reference so a finalizer that drops
 * references cannot free o under our feet; *arg notes that one ran. */
static bool finalize_member(member_pass *p, rc_head *o)
{
    if (!rc__type(o)->finalize || (rc__hflags(o) & RC_HF_FINALIZED))
        return true;
    rc__hflag_set(o, RC_HF_FINALIZED);
    o->refcnt++;
    rc__type(o)->finalize(rc__body(o));
    *(bool *)p->arg = true;
    rc_decref(rc__body(o));   /* may free o: its slot becomes NULL */
    return true;
}

static bool run_finalizers(gc_run *r)
{
    bool ran = false;
    each_member(r, finalize_member, &ran);
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
    if (is_cand(ch->gc) && !c->flag[dead_index(ch)])
        push_work(c, ch, true);
    return 0;
}

static bool count_all_refs(member_pass *p, rc_head *o)
{
    ((dead_counts *)p->arg)->n[dead_index(o)] = o->refcnt;
    return true;
}

static bool uncount_inner_refs(member_pass *p, rc_head *o)
{
    rc__traverse(o, visit_uncount_dead, p->arg);
    return true;
}

static bool push_resurrected(member_pass *p, rc_head *o)
{
    dead_counts *c = p->arg;
    uint32_t i = dead_index(o);
    if (c->n[i] > 0 && !c->flag[i])
        push_work(c, o, true);
    return true;
}

static bool keep_if_resurrected(member_pass *p, rc_head *o)
{
    const dead_counts *c = p->arg;
    if (c->ok && !c->flag[dead_index(o)])
        return true;
    survive_old(p->r->h, o);
    return false;
}

/* After user code: members referenced from outside the dead set again
 * (resurrected), and everything they reach, survive intact.  Without the
 * memory to tell, every member survives. */
static void keep_resurrected(gc_run *r)
{
    dead_counts c;
    counts_init(&c, r->dead.len);
    if (c.ok) {
        each_member(r, count_all_refs, &c);
        each_member(r, uncount_inner_refs, &c);
        each_member(r, push_resurrected, &c);
        drain_work(&c, visit_reach_dead);
    }
    each_member(r, keep_if_resurrected, &c);
    counts_free(&c);
}

/* ---- debug flags ----------------------------------------------------------------------- */

static bool print_collectable(member_pass *p, rc_head *o)
{
    debug_line(p->r->h, "collectable", o);
    return true;
}

/* SAVEALL: every member to gc.garbage, alive. */
static bool save_member(member_pass *p, rc_head *o)
{
    garbage_append(p->r->h, o);
    survive_old(p->r->h, o);
    return false;
}

/* ---- the pipeline ------------------------------------------------------------------------- */

/* Whether a step before delete will run: those need the set listed. */
static bool needs_list(const gc_run *r)
{
    const dead_set *d = &r->dead;
    return d->clearless || d->finalizers || (d->hflags & RC_HF_WEAKREFS) ||
           (r->h->gc.debug & (RC_GC_DEBUG_COLLECTABLE | RC_GC_DEBUG_SAVEALL));
}

/* Returns collected; *uncollectable gets the rest. */
size_t rc__gc_handle_dead(gc_run *r, size_t *uncollectable)
{
    rc_heap *h = r->h;
    dead_set *d = &r->dead;
    *uncollectable = 0;
    if (!d->listed && !d->lost)
        rc__gc_settle(r);
    if (d->lost || (!d->listed && needs_list(r) && !rc__gc_list(r))) {
        rc__gc_keep_all(r);
        return 0;
    }
    if (d->listed)
        h->gc.dead = d;             /* a member's death leaves a hole */
    if (d->clearless)
        *uncollectable = keep_uncollectable(r);
    if (h->gc.debug & RC_GC_DEBUG_COLLECTABLE)
        each_member(r, print_collectable, NULL);
    /* Callbacks and finalizers are user code: either may store a new
     * reference to a member (CPython rechecks after both, too). */
    bool user_code_ran = false;
    if (d->hflags & RC_HF_WEAKREFS)
        user_code_ran = rc__weak_clear_dead(h, d->v, d->len) > 0;
    if (d->finalizers)
        user_code_ran |= run_finalizers(r);
    if (user_code_ran)
        keep_resurrected(r);
    if (h->gc.debug & RC_GC_DEBUG_SAVEALL)
        return each_member(r, save_member, NULL);
    return rc__gc_delete(r);
}
