/* Debug checks that must not trust the pointer they are given: is this the
 * body of a live object, of which heap, what was the type of this freed
 * block, where was this object allocated.  Every read of memory that may
 * not be ours goes through rc__os_read_safe, so a wild pointer gets a
 * one-line report instead of a second crash (docs/reliability.md). */
#include "internal.h"
#include "../alloc/alloc_impl.h"

#include <stdio.h>
#include <stdlib.h>

int rc_debug_level(void)
{
    return RC_DEBUG;
}

/* h points at a live heap: its magic word reads back. */
static bool is_heap(const rc_heap *h)
{
    uint64_t magic = 0;
    return h && !((uintptr_t)h & 7) && rc__os_read_safe(&h->magic, &magic, sizeof magic) &&
           magic == RC_HEAP_MAGIC;
}

/* The heap named by the pool descriptor or the large-block prefix that
 * would describe the block at b, if that memory holds a heap pointer. */
static rc_heap *claimed_heap(const void *where)
{
    rc_heap *h = NULL;
    return rc__os_read_safe(where, &h, sizeof h) && is_heap(h) ? h : NULL;
}

rc_heap *rc__debug_heap_of(const void *p)
{
    if (!p || ((uintptr_t)p & 15))
        return NULL;
    const char *b = (const char *)p - sizeof(rc_head);
    rc_heap *h = claimed_heap(&rc__pool_of(b)->heap);
    if (h && rc__is_object_body(h, p))
        return h;
    h = claimed_heap(&rc__large_of(b)->heap);
    return h && rc__is_object_body(h, p) ? h : NULL;
}

/* The pool holding the block whose body is at body, when that is a block
 * boundary of an object pool (in use, or given back empty and untouched
 * since) of a live heap; else NULL. */
static const rc_pool *object_pool_of(const void *body)
{
    const char *b = (const char *)body - sizeof(rc_head);
    const rc_pool *pool = rc__pool_of(b);
    rc_heap *h = claimed_heap(&pool->heap);
    if (!h || !rc__in_arena(h->alloc, b))
        return NULL;
    bool objects = pool->kind == RC_KIND_OBJ || (pool->kind == RC_KIND_FREE && pool->last_kind == RC_KIND_OBJ);
    const char *first = rc__pool_first(pool);
    if (!objects || !pool->size || b < first || b >= pool->top || (size_t)(b - first) % pool->size)
        return NULL;
    return pool;
}

bool rc__debug_is_freed(const void *body)
{
    return !((uintptr_t)body & 15) && object_pool_of(body) && rc__head(body)->tw == 0;
}

const char *rc__freed_type_name(const void *body)
{
    const rc_pool *pool = object_pool_of(body);
    const rc_type *t = NULL;
    const char *name = NULL;
    if (!pool || pool->size <= 24 || !rc__os_read_safe(body, &t, sizeof t) || !t ||
        !rc__os_read_safe(&t->name, &name, sizeof name) || !name)
        return "?";
    return name;
}

/* "<lead>file:line (func)" from the first frame of tb (freed), or ""; a
 * native frame without a line table gives "module(func)" alone. */
static int format_site(rc_traceback *tb, const char *lead, char *buf, size_t n)
{
    int len = 0;
    buf[0] = '\0';
    if (tb && tb->nframe > 0) {
        const rc_frame *f = &tb->frames[0];
        bool func = f->func && f->lineno;
        char line[16] = "";
        if (f->lineno)
            snprintf(line, sizeof line, ":%d", f->lineno);
        len = snprintf(buf, n, "%s%s%s%s%s%s", lead, f->filename, line, func ? " (" : "",
                       func ? f->func : "", func ? ")" : "");
    }
    free(tb);
    return len < 0 || (size_t)len >= n ? (int)(n ? n - 1 : 0) : len;
}

void rc__debug_site(const void *p, char *buf, size_t n)
{
    buf[0] = '\0';
    if (!p)
        return;
    rc_heap *h = rc__debug_heap_of(p);
    if (!h && rc__debug_is_freed(p)) {
        rc__debug_freed_site(p, buf, n);
        return;
    }
    format_site(h ? rc__traceback_of(h, p) : NULL, ", allocated at ", buf, n);
}

#if RC_DEBUG >= 1
void rc__debug_freed_site(const void *body, char *buf, size_t n)
{
    const rc_pool *pool = object_pool_of(body);
    rc_heap *h = pool ? claimed_heap(&pool->heap) : NULL;
    buf[0] = '\0';
    if (!h)
        return;
    int len = format_site(rc__freed_traceback_of(h, body, false), " (allocated at ", buf, n);
    if (len == 0)
        return;
    len += format_site(rc__freed_traceback_of(h, body, true), ", freed at ", buf + len, n - (size_t)len);
    snprintf(buf + len, n - (size_t)len, ")");
}
#else
void rc__debug_freed_site(const void *body, char *buf, size_t n)
{
    (void)body, (void)n;
    buf[0] = '\0';
}
#endif

#if RC_DEBUG >= 1
RC_COLD static _Noreturn void two_threads(const rc_heap *h, const char *fn, uint64_t me, uint64_t inside)
{
    fprintf(stderr, "recycle: heap used by two threads: thread %llu called %s on heap %p while thread %llu "
            "is inside it (a heap is used by one thread at a time; docs/threads.md)\n",
            (unsigned long long)me, fn, (const void *)h, (unsigned long long)inside);
    fflush(stderr);
    abort();
}

void rc__thread_enter(rc_heap *h, const char *fn)
{
    uint64_t me = rc__os_thread_id();
    uint64_t inside = atomic_load_explicit(&h->user, memory_order_acquire);
    if (inside == me) {
        h->user_depth++;
        return;
    }
    if (inside != 0 || !atomic_compare_exchange_strong(&h->user, &inside, me))
        two_threads(h, fn, me, inside);
    h->user_depth = 1;
}

/* Threaded heaps (thread_heap.c) take no claim: every attached thread may
 * be inside at once; what they check is that the caller is attached. */
void rc__debug_thread_misuse(const rc_heap *h, const char *what)
{
    fprintf(stderr, "recycle: threaded heap %p: thread %llu %s (docs/threads.md)\n", (const void *)h,
            (unsigned long long)rc__os_thread_id(), what);
    fflush(stderr);
    abort();
}

void rc__thread_leave(rc_heap *h)
{
    if (--h->user_depth == 0) {
        h->free_caller = NULL;
        atomic_store_explicit(&h->user, 0, memory_order_release);
    }
}
#endif

#if RC_DEBUG >= 1
/* A reference the collector is about to follow does not lead to a live
 * object of the holder's heap: name the holder (rc__fatal adds where it was
 * allocated) and what the reference leads to. */
RC_COLD static _Noreturn void held_badly(const rc_head *holder, const void *child)
{
    const char *type = rc__type(holder)->name;
    const void *body = rc__body(holder);
    if (rc__debug_is_freed(child)) {
        char freed[800];
        rc__debug_freed_site(child, freed, sizeof freed);
        rc__fatal("reference to a freed object", type, body, "holds %p, a freed %s object%s", child,
                  rc__freed_type_name(child), freed);
    }
    rc_heap *other = rc__debug_heap_of(child);
    if (other)
        rc__fatal("object of another heap", type, body, "holds %p, a %s object of heap %p; the holder is of heap %p",
                  child, rc__safe_type_name(child), (void *)other, (void *)rc__object_heap(holder));
    rc__fatal("not an object", type, body, "holds %p, which is not the body of a live object of any heap", child);
}

static int check_child(void *child, void *arg)
{
    const rc_head *holder = arg;
    if (RC_UNLIKELY(!rc__is_object_body(rc__object_heap(holder), child)))
        held_badly(holder, child);
    return 0;
}

void rc__debug_check_children(rc_heap *h, int gen)
{
    const rc_gc_state *gc = &h->gc;
    if (gen < 2) {
        for (size_t i = gen == 0 ? gc->gen0_start : 0; i < gc->young_len; i++)
            if (gc->young[i])
                rc__traverse(gc->young[i], check_child, gc->young[i]);
        return;
    }
    RC_FOR_EACH_TRACKABLE(h, o, {
        if (rc__is_tracked(o))
            rc__traverse(o, check_child, o);
    });
}
#endif
