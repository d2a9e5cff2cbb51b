/* The first half of rc_heap_free: a heap ends as CPython's interpreter
 * does in Py_Finalize, so finalizers and weakref callbacks a program
 * relies on run at exit too, and garbage left behind is reported.
 *
 * CPython collects, then clears the module dicts (so objects held only by
 * globals die and their __del__ and callbacks run, cycles included), then
 * collects again and warns "gc: N uncollectable objects at shutdown".  A
 * heap has no modules: what plays the globals' part is every reference
 * still held when rc_heap_free is called (by C variables, by gc.garbage,
 * by other live objects).  So, in order:
 *   1. a full collection: dead cycles are finalized, called back and freed;
 *   2. the finalizer of every live object that has one and has not run it
 *      yet runs once (PEP 442), in the allocator's walk order (by address);
 *   3. every weakref still pointing at a live object is cleared and its
 *      callback runs;
 *   4. a full collection again, for what the finalizers let go;
 *   5. the report: when gc.garbage is not empty, SAVEALL is off and the
 *      program asked (a gc debug flag, or a gc debug stream of its own),
 *      "gc: N uncollectable objects at shutdown" on the gc debug stream,
 *      each object listed under RC_GC_DEBUG_UNCOLLECTABLE.
 * The release of every object follows (heap.c).  rc_config.fast_free
 * skips all of this. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

/* The live objects whose finalizer has not run, each held by a reference
 * (*out's capacity in *cap). */
static size_t unfinalized(rc_heap *h, void ***out, size_t *cap)
{
    void **v = NULL;
    size_t n = 0;
    *cap = 0;
    RC_FOR_EACH_OBJECT(h, o, {
        const rc_type *t = rc__type(o);
        if (!t->finalize || (rc__hflags(o) & RC_HF_FINALIZED) || o->refcnt == RC_REFCNT_IMMORTAL)
            continue;
        if (n == *cap && !rc__vec_reserve(&v, cap, n + 1, sizeof *v, 64, SIZE_MAX))
            break;   /* out of memory: those found still run; release follows anyway */
        rc_incref(rc__body(o));
        v[n++] = rc__body(o);
    });
    *out = v;
    return n;
}

/* Step 2: each runs once, even when an earlier finalizer already dropped
 * the last other reference to it (its death then ran it). */
static void finalize_survivors(rc_heap *h)
{
    void **v;
    size_t cap;
    size_t n = unfinalized(h, &v, &cap);
    for (size_t i = 0; i < n; i++) {
        rc_head *o = rc__head(v[i]);
        if (!(rc__hflags(o) & RC_HF_FINALIZED)) {
            rc__hflag_set(o, RC_HF_FINALIZED);
            rc__type(o)->finalize(v[i]);
        }
    }
    for (size_t i = 0; i < n; i++)
        rc_decref(v[i]);
    rc__vec_free(&v, &cap, sizeof *v);
}

/* Step 3: the targets are held while the callbacks run, so a callback
 * sees the world as it was. */
static void clear_live_weakrefs(rc_heap *h)
{
    rc_head **v = NULL;
    size_t n = 0, cap = 0;
    RC_FOR_EACH_OBJECT(h, o, {
        if (!(rc__hflags(o) & RC_HF_WEAKREFS))
            continue;
        if (n == cap && !rc__vec_reserve(&v, &cap, n + 1, sizeof *v, 64, SIZE_MAX))
            break;
        rc_incref(rc__body(o));
        v[n++] = o;
    });
    rc__weak_clear_dead(h, v, n);
    for (size_t i = 0; i < n; i++)
        rc_decref(rc__body(v[i]));
    rc__vec_free(&v, &cap, sizeof *v);
}

/* Step 5, in CPython's words. */
static void report_garbage(rc_heap *h)
{
    const rc_gc_state *gc = &h->gc;
    /* Asked for: by a debug flag, or by a debug stream of the program's own
     * (CPython warns with a ResourceWarning, shown under -W default). */
    bool asked = gc->debug || gc->debug_out;
    if (gc->garbage_len == 0 || !asked || (gc->debug & RC_GC_DEBUG_SAVEALL))
        return;
    FILE *out = gc->debug_out ? gc->debug_out : stderr;
    bool list = gc->debug & RC_GC_DEBUG_UNCOLLECTABLE;
    fprintf(out, "gc: %zu uncollectable objects at shutdown%s\n", gc->garbage_len,
            list ? "" : "; use rc_gc_set_debug(h, RC_GC_DEBUG_UNCOLLECTABLE) to list them");
    for (size_t i = 0; list && i < gc->garbage_len; i++)
        fprintf(out, "      <%s object at %p>\n", rc__type(rc__head(gc->garbage[i]))->name, gc->garbage[i]);
    fflush(out);
}

void rc__heap_finalize(rc_heap *h)
{
    if (h->cfg.fast_free || h->gc.collecting || rc__deaths_queued(h))
        return;
    rc_gc_collect(h, 2);
    finalize_survivors(h);
    clear_live_weakrefs(h);
    rc_gc_collect(h, 2);
    report_garbage(h);
}
