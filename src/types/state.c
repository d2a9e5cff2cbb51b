/* Per-heap state of the built-in types: the None/True/False singletons, the
 * small-int cache -5..256 and the empty tuple (all immortal), the
 * interned-string table and the record types.  Made on first use; freed by
 * a destructor that runs after every object of the heap has been released. */
#include "types.h"


static void types_state_free(rc_heap *h)
{
    rc_types_state *s = h->types;
    if (!s) return;
    rc__records_free(h, s);
    rc_free(h, s->intern);
    rc_free(h, s->repr_stack);
    rc_free(h, s);
    h->types = NULL;
}

void *rc__immortal_new(rc_heap *h, const rc__vtype *t, size_t body)
{
    void *o = rc_new_var(h, &t->bt.type, body);
    if (o) rc_immortalize(o);
    return o;
}

/* Idempotent: after a failed allocation the next call makes what is missing. */
static int make_singletons(rc_heap *h, rc_types_state *s)
{
    if (!s->none && !(s->none = rc__immortal_new(h, &rc__none_type, 0))) return RC_ENOMEM;
    if (!s->false_ && !(s->false_ = rc__immortal_new(h, &rc__bool_type, sizeof(rc_int_obj))))
        return RC_ENOMEM;
    if (!s->true_) {
        if (!(s->true_ = rc__immortal_new(h, &rc__bool_type, sizeof(rc_int_obj)))) return RC_ENOMEM;
        ((rc_int_obj *)s->true_)->v = 1;
    }
    if (!s->empty_tuple) {
        s->empty_tuple = rc__immortal_new(h, &rc__tuple_type, sizeof(rc_tuple_obj));
        if (!s->empty_tuple) return RC_ENOMEM;
        rc_gc_untrack(s->empty_tuple);
    }
    for (int64_t v = RC__SMALL_MIN; v <= RC__SMALL_MAX; v++) {
        void **slot = &s->small[v - RC__SMALL_MIN];
        if (*slot) continue;
        if (!(*slot = rc__int_new(h, v))) return RC_ENOMEM;
        rc_immortalize(*slot);
    }
    s->ready = true;
    return 0;
}

rc_types_state *rc__types_make(rc_heap *h)
{
    rc_types_state *s = h->types;
    if (s && s->ready) return s;
    if (!s) {
        if (!(s = rc_alloc(h, sizeof *s))) goto oom;
        memset(s, 0, sizeof *s);
        if (rc__heap_on_free(h, types_state_free) < 0) {
            rc_free(h, s);
            goto oom;
        }
        h->types = s;
    }
    /* Objects made before a failure are immortal heap objects, kept for the retry. */
    if (make_singletons(h, s) < 0) goto oom;
    return s;
oom:
    rc__error(h, RC_ENOMEM, "out of memory creating the built-in types' state");
    return NULL;
}
