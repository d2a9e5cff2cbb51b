/* The README's example: a self-referencing object survives its last
 * external decref, and a collection frees it.  Written to compile as C11
 * and as C++11 (casts from void *, the rc_type filled in order), so the
 * packaging test builds it both ways against an installed copy. */
#include <recycle.h>
#include <stdio.h>

typedef struct box { void *self; } box;

static int box_traverse(void *o, rc_visit visit, void *arg)
{
    box *b = (box *)o;
    return b->self ? visit(b->self, arg) : 0;
}

static void box_clear(void *o)
{
    box *b = (box *)o;
    RC_CLEAR(b->self);
}

/* name, size, traverse, clear, finalize, release, flags, owned */
static const rc_type box_type = {"box", sizeof(box), box_traverse, box_clear, NULL, NULL, 0, NULL, 0};

int main(void)
{
    rc_heap *h = rc_heap_new(NULL);
    box *b = (box *)rc_new(h, &box_type);   /* refcount 1 */
    b->self = rc_newref(b);                 /* refcount 2: it holds itself */
    rc_decref(b);                           /* refcount 1: not freed, a cycle */
    rc_memory_info mi;
    rc_heap_memory(h, &mi);
    printf("after decref: %zu object(s) alive\n", mi.live_objects);
    printf("rc_gc_collect freed %zu object(s)\n", rc_gc_collect(h, 2));
    rc_heap_memory(h, &mi);
    printf("after collect: %zu object(s) alive\n", mi.live_objects);
    rc_heap_free(h);
    return 0;
}
