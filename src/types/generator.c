/* Generators: items produced one at a time by a C callback with its own
 * state, and pipeline stages (map, filter, take) that pull from a source
 * iterator.  A pipeline holds one item at a time, so its memory stays flat
 * however long the sequence is. */
#include "types.h"

#include <stddef.h>

#define STATE_MAX 1024

typedef struct rc_gen_obj rc_gen_obj;
typedef int (*step_fn)(rc_gen_obj *g, rc_heap *h, void **item);

struct rc_gen_obj {
    step_fn step;
    const char *what;         /* for repr */
    void  *src;               /* source iterator of a stage; NULL when done */
    union { rc_gen_fn user; rc_map_fn map; rc_pred_fn pred; } fn;
    void  *ctx;
    size_t remaining;         /* take */
    bool   done;
    max_align_t state[];      /* a user generator's state */
};

static int user_step(rc_gen_obj *g, rc_heap *h, void **item)
{
    return g->fn.user(h, g->state, item);
}

static int map_step(rc_gen_obj *g, rc_heap *h, void **item)
{
    void *x;
    int rc = rc_iter_next(g->src, &x);
    if (rc <= 0) return rc;
    h->err.code = 0;   /* to tell the function's own error from an older one */
    *item = g->fn.map(h, x, g->ctx);
    rc_decref(x);
    if (*item) return 1;
    if (h->err.code < 0) return h->err.code;
    return rc__error(h, RC_EINVAL, "map function returned NULL without recording an error");
}

static int filter_step(rc_gen_obj *g, rc_heap *h, void **item)
{
    (void)h;
    for (;;) {
        void *x;
        int rc = rc_iter_next(g->src, &x);
        if (rc <= 0) return rc;
        int keep = g->fn.pred(x, g->ctx);
        if (keep > 0) {
            *item = x;
            return 1;
        }
        rc_decref(x);
        if (keep < 0) return keep;
    }
}

static int take_step(rc_gen_obj *g, rc_heap *h, void **item)
{
    (void)h;
    if (g->remaining == 0) return 0;
    int rc = rc_iter_next(g->src, item);
    if (rc == 1) g->remaining--;
    return rc;
}

/* A finished generator (exhausted or failed) stays finished, as in Python. */
static int gen_next(void *self, void **item)
{
    rc_gen_obj *g = self;
    if (g->done) return 0;
    int rc = g->step(g, rc__heap(self), item);
    if (rc == 1 && !*item) rc = rc__err(self, RC_EINVAL, "generator callback gave an item but no object");
    if (rc != 1) {
        g->done = true;
        RC_CLEAR(g->src);
        *item = NULL;
    }
    return rc;
}

static rc_gen_obj *gen_alloc(rc_heap *h, step_fn step, const char *what, size_t state_size)
{
    rc_gen_obj *g = rc_new_var(h, &rc__gen_type.bt.type, sizeof(rc_gen_obj) + state_size);
    if (g) {
        g->step = step;
        g->what = what;
    }
    return g;
}

void *rc_gen_new(rc_heap *h, rc_gen_fn next, const void *state, size_t state_size)
{
    if (!next || state_size > STATE_MAX || (state_size && !state)) {
        rc__error(h, RC_EINVAL, "rc_gen_new: need a callback and at most %d bytes of state (got %zu)", STATE_MAX,
                  state_size);
        return NULL;
    }
    rc_gen_obj *g = gen_alloc(h, user_step, "generator", state_size);
    if (!g) return NULL;
    g->fn.user = next;
    if (state_size) memcpy(g->state, state, state_size);
    rc_gc_untrack(g);   /* holds no objects: never part of a cycle */
    return g;
}

static rc_gen_obj *stage(void *iterable, step_fn step, const char *what)
{
    if (!iterable) return NULL;
    void *src = rc_iter(iterable);
    if (!src) return NULL;
    rc_gen_obj *g = gen_alloc(rc__heap(iterable), step, what, 0);
    if (!g) {
        rc_decref(src);
        return NULL;
    }
    g->src = src;
    return g;
}

void *rc_gen_map(void *iterable, rc_map_fn fn, void *ctx)
{
    if (!fn) return iterable ? (rc__err(iterable, RC_EINVAL, "rc_gen_map: NULL function"), NULL) : NULL;
    rc_gen_obj *g = stage(iterable, map_step, "map");
    if (g) g->fn.map = fn, g->ctx = ctx;
    return g;
}

void *rc_gen_filter(void *iterable, rc_pred_fn fn, void *ctx)
{
    if (!fn) return iterable ? (rc__err(iterable, RC_EINVAL, "rc_gen_filter: NULL predicate"), NULL) : NULL;
    rc_gen_obj *g = stage(iterable, filter_step, "filter");
    if (g) g->fn.pred = fn, g->ctx = ctx;
    return g;
}

void *rc_gen_take(void *iterable, size_t n)
{
    rc_gen_obj *g = stage(iterable, take_step, "take");
    if (g) g->remaining = n;
    return g;
}

static int gen_traverse(void *self, rc_visit visit, void *arg)
{
    rc_gen_obj *g = self;
    return g->src ? visit(g->src, arg) : 0;
}

static void gen_clear(void *self)
{
    RC_CLEAR(((rc_gen_obj *)self)->src);
}

static int gen_repr(const void *self, rc_strbuf *sb, int depth)
{
    (void)depth;
    char what[32];
    snprintf(what, sizeof what, "%s object", ((const rc_gen_obj *)self)->what);
    return rc__repr_address(self, what, sb);
}

const rc__vtype rc__gen_type = {
    .bt.type = {.name = "generator", .traverse = gen_traverse, .clear = gen_clear, .flags = RC__TYPE_VALUE},
    .repr = gen_repr,
    .next = gen_next,
};
