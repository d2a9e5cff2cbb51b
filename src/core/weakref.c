/* Weak references.
 *
 * A weakref is an object of its own holding a borrowed pointer to its
 * target.  The heap keeps a table target → list of its weakrefs (newest
 * first, so callbacks run newest first, as in CPython); a target with
 * entries carries RC_HF_WEAKREFS so a death without weakrefs costs one bit
 * test.  When the target dies every weakref is cleared first, then the
 * callbacks run (each with its weakref held alive).
 *
 * Weakrefs are tracked by the collector though they hold no strong
 * references: a weakref that is itself part of dead garbage must not have
 * its callback run (CPython's handle_weakrefs rule), and only the collector
 * can tell.
 */
#include "internal.h"

#include <stdlib.h>

typedef struct weakref {
    rc_head       *target;   /* NULL once cleared */
    rc_weakref_cb  cb;
    void          *ctx;
    struct weakref *next, *prev;
} weakref;

typedef struct slot {
    rc_head *target;         /* NULL: empty; TOMBSTONE: deleted */
    weakref *first;
} slot;

struct rc_weak_table {
    slot  *slots;
    size_t cap, used, filled;   /* used: live entries; filled: live + tombstones */
};

#define TOMBSTONE ((rc_head *)(uintptr_t)1)

/* ---- the table ----------------------------------------------------------------- */

static size_t hash_ptr(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

static slot *table_find(const struct rc_weak_table *t, const rc_head *target)
{
    if (!t || !t->cap)
        return NULL;
    for (size_t i = hash_ptr(target) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        slot *s = &t->slots[i];
        if (s->target == target)
            return s;
        if (!s->target)
            return NULL;
    }
}

static bool table_grow(struct rc_weak_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    while (t->used * 2 >= cap)
        cap *= 2;
    slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < t->cap; i++) {
        slot *s = &t->slots[i];
        if (!s->target || s->target == TOMBSTONE)
            continue;
        size_t j = hash_ptr(s->target) & (cap - 1);
        while (slots[j].target)
            j = (j + 1) & (cap - 1);
        slots[j] = *s;
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    t->filled = t->used;
    return true;
}

/* The slot for target, created empty if missing; NULL when out of memory. */
static slot *table_get_or_add(rc_heap *h, rc_head *target)
{
    struct rc_weak_table *t = h->gc.weak;
    if (!t) {
        t = h->gc.weak = calloc(1, sizeof *t);
        if (!t)
            return NULL;
    }
    slot *s = table_find(t, target);
    if (s)
        return s;
    if ((t->filled + 1) * 4 > t->cap * 3 && !table_grow(t))
        return NULL;
    size_t i = hash_ptr(target) & (t->cap - 1);
    while (t->slots[i].target && t->slots[i].target != TOMBSTONE)
        i = (i + 1) & (t->cap - 1);
    if (!t->slots[i].target)
        t->filled++;
    t->used++;
    t->slots[i] = (slot){target, NULL};
    return &t->slots[i];
}

static void table_remove(struct rc_weak_table *t, slot *s)
{
    s->target = TOMBSTONE;
    s->first = NULL;
    t->used--;
}

/* ---- the weakref type ------------------------------------------------------------- */

/* Unlinks w from its target's list, dropping the entry when it empties. */
static void detach(weakref *w)
{
    rc_head *target = w->target;
    if (!target)
        return;
    rc_heap *h = rc__object_heap(target);
    if (w->prev) {
        w->prev->next = w->next;
    } else {
        slot *s = table_find(h->gc.weak, target);
        s->first = w->next;
        if (!s->first) {
            table_remove(h->gc.weak, s);
            rc__hflag_clear(target, RC_HF_WEAKREFS);
        }
    }
    if (w->next)
        w->next->prev = w->prev;
    w->target = NULL;
    w->next = w->prev = NULL;
}

static int weakref_traverse(void *self, rc_visit visit, void *arg)
{
    (void)self, (void)visit, (void)arg;
    return 0;
}

static void weakref_clear(void *self)
{
    detach(self);
}

static const rc_type weakref_type = {
    .name = "weakref",
    .size = sizeof(weakref),
    .traverse = weakref_traverse,
    .clear = weakref_clear,
    .release = weakref_clear,
    .flags = RC_TYPE_NO_WEAKREF,
};

void *rc_weakref_new(void *target, rc_weakref_cb cb, void *ctx)
{
    rc__check_arg(target);
    RC_LOCK_OBJECT(target);
    rc_head *th = rc__head(target);
    rc_heap *h = rc__object_heap(th);
    if (rc__type(th)->flags & RC_TYPE_NO_WEAKREF) {
        rc__error(h, RC_ETYPE, "cannot create weak reference to '%s' object", rc__type(th)->name);
        return NULL;
    }
    weakref *w = rc_new_at(h, &weakref_type, 0, NULL);
    if (!w)
        return NULL;
    slot *s = table_get_or_add(h, th);
    if (!s) {
        rc_decref(w);
        rc__error(h, RC_ENOMEM, "rc_weakref_new: out of memory");
        return NULL;
    }
    *w = (weakref){th, cb, ctx, s->first, NULL};
    if (s->first)
        s->first->prev = w;
    s->first = w;
    rc__hflag_set(th, RC_HF_WEAKREFS);
    return w;
}

static int check_weakref(const void *wr)
{
    rc__check_arg(wr);
    if (rc__type(rc__head(wr)) == &weakref_type)
        return 0;
    return rc__type_error(rc__object_heap(rc__head(wr)), wr, "weakref");
}

void *rc_weakref_get(const void *wr)
{
    const weakref *w = wr;
    RC_LOCK_OBJECT(wr);
    if (check_weakref(wr) < 0 || !w->target)
        return NULL;
    return rc__body(w->target);
}

int rc_weakref_get_ref(const void *wr, void **out)
{
    *out = NULL;
    int rc = check_weakref(wr);
    if (rc < 0)
        return rc;
    const weakref *w = wr;
    RC_LOCK_OBJECT(wr);
    if (!w->target)
        return 0;
    *out = rc_newref(rc__body(w->target));
    return 1;
}

size_t rc_weakref_count(const void *target)
{
    rc__check_arg(target);
    RC_LOCK_OBJECT(target);
    const rc_head *th = rc__head(target);
    if (!(rc__hflags(th) & RC_HF_WEAKREFS))
        return 0;
    slot *s = table_find(rc__object_heap(th)->gc.weak, th);
    size_t n = 0;
    for (weakref *w = s ? s->first : NULL; w; w = w->next)
        n++;
    return n;
}

/* ---- clearing ---------------------------------------------------------------------- */

/* Clears every weakref to target and prepends those whose callback should
 * run to *pending, holding a reference to each. */
static void clear_all(rc_heap *h, rc_head *target, weakref **pending)
{
    slot *s = table_find(h->gc.weak, target);
    rc__hflag_clear(target, RC_HF_WEAKREFS);
    if (!s)
        return;
    weakref *w = s->first;
    table_remove(h->gc.weak, s);
    /* Appended in list order, so each target's callbacks run newest first. */
    weakref *run = NULL, *tail = NULL;
    while (w) {
        weakref *next = w->next;
        w->target = NULL;
        w->next = w->prev = NULL;
        if (w->cb && !rc__gc_in_dead_set(rc__head(w))) {
            rc_incref(w);
            if (tail)
                tail->next = w;
            else
                run = w;
            tail = w;
        }
        w = next;
    }
    if (tail) {
        tail->next = *pending;
        *pending = run;
    }
}

/* Runs the callbacks; returns how many ran. */
static size_t run_callbacks(weakref *pending)
{
    size_t n = 0;
    while (pending) {
        weakref *w = pending;
        pending = w->next;
        w->next = NULL;
        w->cb(w, w->ctx);
        rc_decref(w);
        n++;
    }
    return n;
}

void rc__weak_on_dealloc(rc_heap *h, rc_head *o)
{
    weakref *pending = NULL;
    clear_all(h, o, &pending);
    run_callbacks(pending);
}

size_t rc__weak_clear_dead(rc_heap *h, rc_head **v, size_t n)
{
    weakref *pending = NULL, **tail = &pending;
    for (size_t i = 0; i < n; i++) {
        if (!v[i] || !(rc__hflags(v[i]) & RC_HF_WEAKREFS))
            continue;
        clear_all(h, v[i], tail);
        while (*tail)
            tail = &(*tail)->next;
    }
    return run_callbacks(pending);
}

void rc__weak_destroy(rc_heap *h)
{
    if (!h->gc.weak)
        return;
    free(h->gc.weak->slots);
    free(h->gc.weak);
    h->gc.weak = NULL;
}

/* ---- consistency (rc_heap_check) ------------------------------------------------ */

/* Every table entry is a live object of h flagged RC_HF_WEAKREFS whose
 * list holds live weakrefs pointing back at it; *targets gets the entries. */
int rc__weak_check(const rc_heap *h, size_t *targets, char *msg, size_t n)
{
    const struct rc_weak_table *t = h->gc.weak;
    size_t used = 0;
    for (size_t i = 0; t && i < t->cap; i++) {
        const slot *s = &t->slots[i];
        if (!s->target || s->target == TOMBSTONE)
            continue;
        used++;
        if (!rc__is_object_body(h, rc__body(s->target)) || !(rc__hflags(s->target) & RC_HF_WEAKREFS)) {
            snprintf(msg, n, "weakref table: target %p is %s", rc__body(s->target),
                     rc__is_object_body(h, rc__body(s->target)) ? "not flagged" : "not a live object");
            return RC_EINVAL;
        }
        for (const weakref *w = s->first, *prev = NULL; w; prev = w, w = w->next)
            if (!rc__is_object_body(h, w) || rc__type(rc__head(w)) != &weakref_type ||
                w->target != s->target || w->prev != prev) {
                snprintf(msg, n, "weakref table: the list of %p holds %p, not a live weakref to it",
                         rc__body(s->target), (const void *)w);
                return RC_EINVAL;
            }
    }
    if (t && used != t->used) {
        snprintf(msg, n, "weakref table: %zu entries, the table counts %zu", used, t->used);
        return RC_EINVAL;
    }
    *targets = used;
    return 0;
}

/* A weakref object that is not cleared points at a live object whose
 * table list holds it (a dangling one would hand out freed memory). */
int rc__weak_check_ref(const rc_heap *h, const rc_head *o, char *msg, size_t n)
{
    if (rc__type(o) != &weakref_type)
        return 0;
    const weakref *w = rc__body(o);
    if (!w->target)
        return 0;
    const slot *s = rc__is_object_body(h, rc__body(w->target)) ? table_find(h->gc.weak, w->target) : NULL;
    for (const weakref *x = s ? s->first : NULL; x; x = x->next)
        if (x == w)
            return 0;
    snprintf(msg, n, "weakref to %p, which is %s", rc__body(w->target),
             s ? "alive but does not list it" : "not a live object (dangling weakref)");
    return RC_EINVAL;
}
