/* Snapshots of a live heap: every live object and every reference between
 * objects, as the CSR graph of graph.h.
 *
 * Objects are found by walking the allocator's spans (every object block,
 * tracked or not; gc.get_objects in CPython sees only tracked ones), sorted
 * by address, so nodes come out in address order.  A child pointer is
 * mapped to its node through the same span table: a small hash from 4 KiB
 * granules to the first span touching them, then slot arithmetic, so no
 * hash table over objects is needed (at 10^6 objects the granule table has
 * about 8000 entries and stays in cache).
 * Two passes: the first numbers the live blocks, the second traverses
 * each object and records its edges.
 */
#include "graph.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct span_ent {
    char  *start;
    size_t stride, count;
    size_t base;            /* index of the span's first slot in slot2node */
} span_ent;

#define GRANULE_SHIFT 12

typedef struct granule_ent {
    uint64_t key;           /* granule number + 1; 0: empty */
    uint32_t span;          /* the lowest span touching the granule */
} granule_ent;

typedef struct type_cache {
    const rc_type *key[256];
    uint32_t       idx[256];
} type_cache;

typedef struct builder {
    rc_heap     *h;
    rc_objgraph *g;
    span_ent    *spans;
    size_t       nspans;
    uint32_t    *slot2node;
    size_t       slots;
    granule_ent *granules;
    size_t       granule_mask;
    size_t       edges_cap;
    type_cache   types;
    size_t       names_cap;
    bool         oom;
} builder;

rc_objgraph *rc__graph_alloc(void)
{
    return calloc(1, sizeof(rc_objgraph));
}

const char *rc_objgraph_last_error(const rc_objgraph *g)
{
    return g->err;
}

void rc_objgraph_free(rc_objgraph *g)
{
    if (!g)
        return;
    free(g->nodes);
    free(g->out_start);
    free(g->out);
    free(g->in_start);
    free(g->in);
    free(g->names);
    free(g->name_pool);
    free(g);
}

static int cmp_span(const void *a, const void *b)
{
    const span_ent *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int collect_spans(builder *b)
{
    rc_span_iter it;
    rc_span s;
    size_t cap = 0, slots = 0;
    rc__span_iter_init(b->h, &it);
    while (rc__span_next(&it, &s)) {
        if (!rc__vec_reserve(&b->spans, &cap, b->nspans + 1, sizeof *b->spans, 256, SIZE_MAX))
            return RC_ENOMEM;
        b->spans[b->nspans++] = (span_ent){s.start, s.stride, s.count, 0};
    }
    if (b->nspans)                    /* an empty heap has no span array */
        qsort(b->spans, b->nspans, sizeof *b->spans, cmp_span);
    for (size_t i = 0; i < b->nspans; i++) {
        b->spans[i].base = slots;
        slots += b->spans[i].count;
    }
    b->slots = slots;
    b->slot2node = malloc((slots ? slots : 1) * sizeof *b->slot2node);
    return b->slot2node ? 0 : RC_ENOMEM;
}

static size_t granule_hash(uint64_t g, size_t mask)
{
    return (size_t)((g * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

static char *span_end(const span_ent *s)
{
    return s->start + s->count * s->stride;
}

/* Spans are inserted lowest first, so each granule keeps its lowest span. */
static int index_granules(builder *b)
{
    size_t n = 0, cap = 16;
    for (size_t i = 0; i < b->nspans; i++)
        if (b->spans[i].count)
            n += (((uintptr_t)span_end(&b->spans[i]) - 1) >> GRANULE_SHIFT)
               - ((uintptr_t)b->spans[i].start >> GRANULE_SHIFT) + 1;
    while (cap < 2 * n)
        cap *= 2;
    b->granules = calloc(cap, sizeof *b->granules);
    if (!b->granules)
        return RC_ENOMEM;
    b->granule_mask = cap - 1;
    for (size_t i = 0; i < b->nspans; i++) {
        if (!b->spans[i].count)
            continue;
        uint64_t g0 = (uintptr_t)b->spans[i].start >> GRANULE_SHIFT;
        uint64_t g1 = ((uintptr_t)span_end(&b->spans[i]) - 1) >> GRANULE_SHIFT;
        for (uint64_t g = g0; g <= g1; g++) {
            size_t k = granule_hash(g, b->granule_mask);
            while (b->granules[k].key && b->granules[k].key != g + 1)
                k = (k + 1) & b->granule_mask;
            if (!b->granules[k].key)
                b->granules[k] = (granule_ent){g + 1, (uint32_t)i};
        }
    }
    return 0;
}

/* The type index for t: types with the same name share one index, as
 * objgraph's typestats groups by name. */
static uint32_t type_index(builder *b, const rc_type *t)
{
    size_t slot = ((uintptr_t)t >> 4) & 255;
    if (b->types.key[slot] == t)
        return b->types.idx[slot];
    rc_objgraph *g = b->g;
    const char *name = t->name ? t->name : "?";
    uint32_t i = 0;
    while (i < g->ntypes && strcmp(g->names[i], name) != 0)
        i++;
    if (i == g->ntypes) {
        if (!rc__vec_reserve(&g->names, &b->names_cap, g->ntypes + 1, sizeof *g->names, 32, SIZE_MAX)) {
            b->oom = true;
            return 0;
        }
        g->names[g->ntypes++] = name;
    }
    b->types.key[slot] = t;
    b->types.idx[slot] = i;
    return i;
}

static void fill_node(builder *b, rc_gnode *n, rc_head *o)
{
    const rc_type *t = rc__type(o);
    n->addr = (uint64_t)(uintptr_t)rc__body(o);
    n->size = rc_sizeof(rc__body(o));
    n->type = type_index(b, t);
    n->refcnt = o->refcnt;
    n->internal = 0;
    n->flags = (rc__is_tracked(o) ? RC_GN_TRACKED : 0)
             | (o->refcnt == RC_REFCNT_IMMORTAL ? RC_GN_IMMORTAL : 0)
             | (t->finalize ? RC_GN_FINALIZER : 0);
}

/* Pass 1: number the live blocks in address order. */
static int number_nodes(builder *b)
{
    size_t n = 0;
    rc_objgraph *g = b->g;
    if (b->slots >= RC_GNONE)
        return RC_ERANGE;
    g->nodes = malloc((b->slots ? b->slots : 1) * sizeof *g->nodes);   /* live ≤ slots */
    if (!g->nodes)
        return RC_ENOMEM;
    for (size_t s = 0; s < b->nspans; s++) {
        const span_ent *sp = &b->spans[s];
        for (size_t k = 0; k < sp->count; k++) {
            rc_head *o = (rc_head *)(sp->start + k * sp->stride);
            b->slot2node[sp->base + k] = RC_GNONE;
            if (o->tw == 0)
                continue;
            b->slot2node[sp->base + k] = (uint32_t)n;
            fill_node(b, &g->nodes[n++], o);
        }
    }
    g->n = n;
    return b->oom ? RC_ENOMEM : 0;
}

/* The node of the object whose body is p, or RC_GNONE (not an object of
 * this heap: a pointer a type's traverse should not have produced). */
static uint32_t resolve(const builder *b, const void *p)
{
    const char *head = (const char *)p - sizeof(rc_head);
    uint64_t g = (uintptr_t)head >> GRANULE_SHIFT;
    size_t k = granule_hash(g, b->granule_mask);
    while (b->granules[k].key != g + 1) {
        if (!b->granules[k].key)
            return RC_GNONE;
        k = (k + 1) & b->granule_mask;
    }
    /* Several small large-object spans may share a granule: step on. */
    for (size_t i = b->granules[k].span; i < b->nspans && b->spans[i].start <= head; i++) {
        const span_ent *sp = &b->spans[i];
        if (head >= span_end(sp))
            continue;
        size_t off = (size_t)(head - sp->start);
        return off % sp->stride ? RC_GNONE : b->slot2node[sp->base + off / sp->stride];
    }
    return RC_GNONE;
}

static int add_edge(void *child, void *arg)
{
    builder *b = arg;
    if (!child)
        return 0;
    uint32_t t = resolve(b, child);
    if (t == RC_GNONE)
        return 0;
    rc_objgraph *g = b->g;
    if (!rc__vec_reserve(&g->out, &b->edges_cap, g->m + 1, sizeof *g->out, g->n + 4096, RC_GNONE)) {
        b->oom = true;
        return 1;
    }
    g->out[g->m++] = t;
    g->nodes[t].internal++;
    return 0;
}

/* Pass 2: each object's references, in traverse order. */
static int record_edges(builder *b)
{
    rc_objgraph *g = b->g;
    g->out_start = malloc((g->n + 1) * sizeof *g->out_start);
    if (!g->out_start)
        return RC_ENOMEM;
    for (size_t i = 0; i < g->n; i++) {
        g->out_start[i] = (uint32_t)g->m;
        rc__traverse(rc__head((void *)(uintptr_t)g->nodes[i].addr), add_edge, b);
        if (b->oom)
            return RC_ENOMEM;
    }
    g->out_start[g->n] = (uint32_t)g->m;
    return 0;
}

/* Flags the nodes held by gc.garbage (the heap's list of them). */
static void mark_garbage(builder *b)
{
    for (size_t i = 0; i < b->h->gc.garbage_len; i++) {
        uint32_t n = rc__graph_find(b->g, (uint64_t)(uintptr_t)b->h->gc.garbage[i]);
        if (n != RC_GNONE)
            b->g->nodes[n].flags |= RC_GN_GARBAGE;
    }
}

rc_objgraph *rc_objgraph_new(rc_heap *h)
{
    if (rc__deaths_queued(h)) {
        rc__error(h, RC_ESTATE, "rc_objgraph_new: not while deaths wait in the queue");
        return NULL;
    }
    builder b = {.h = h, .g = rc__graph_alloc()};
    int rc = b.g ? collect_spans(&b) : RC_ENOMEM;
    if (rc == 0)
        rc = index_granules(&b);
    if (rc == 0)
        rc = number_nodes(&b);
    if (rc == 0)
        rc = record_edges(&b);
    if (rc == 0)
        mark_garbage(&b);
    free(b.spans);
    free(b.slot2node);
    free(b.granules);
    if (rc != 0) {
        rc_objgraph_free(b.g);
        rc__error(h, rc, "rc_objgraph_new: %s while taking a snapshot of the heap", rc_strerror(rc));
        return NULL;
    }
    b.g->heap = h;
    return b.g;
}
