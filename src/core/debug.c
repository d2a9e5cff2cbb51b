/* Debug checks that must not trust the pointer they are given: is this the
 * body of a live object, of which heap, what was the type of this freed
 * block, where was this object allocated.  Every read of memory that may
 * not be ours goes through rc__os_read_safe, so a wild pointer gets a
 * one-line report instead of a second crash (docs/reliability.md). */
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

void rc__debug_site(const void *p, char *buf, size_t n)
{
    buf[0] = '\0';
    rc_heap *h = rc__debug_heap_of(p);
    if (!h)
        return;
    rc_traceback *tb = rc__traceback_of(h, p);
    if (tb && tb->nframe > 0) {
        const rc_frame *f = &tb->frames[0];
        snprintf(buf, n, ", allocated at %s:%d%s%s%s", f->filename, f->lineno, f->func ? " (" : "",
                 f->func ? f->func : "", f->func ? ")" : "");
    }
    free(tb);
}
