/* The README's example: a self-referencing object survives its last
 * external decref, and a collection frees it. */
#include <recycle.h>
#include <stdio.h>

typedef struct box { void *self; } box;

static int box_traverse(void *o, rc_visit visit, void *arg)
{
    box *b = o;
    return b->self ? visit(b->self, arg) : 0;
}

static void box_clear(void *o)
{
    box *b = o;
    RC_CLEAR(b->self);
}

static const rc_type box_type = {.name = "box", .size = sizeof(box),
                                 .traverse = box_traverse, .clear = box_clear};

int main(void)
{
    rc_heap *h = rc_heap_new(NULL);
    box *b = rc_new(h, &box_type);          /* refcount 1 */
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
