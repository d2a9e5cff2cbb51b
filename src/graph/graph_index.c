/* What the queries and the renderers need of a snapshot, wherever it came
 * from: the referrer index, lookups by address, node descriptions and the
 * error record.  Plain functions of the struct in graph.h, calling nothing
 * else of the library but rc_set_error, so librecycle-tools compiles its
 * own copy of this file (see CMakeLists.txt) instead of librecycle
 * exporting internal names. */
#include "graph.h"

#include <stdio.h>
#include <stdlib.h>

int rc__graph_fail(rc_objgraph *g, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->err, sizeof g->err, fmt, ap);
    va_end(ap);
    if (g->heap)
        rc_set_error(g->heap, code, "%s", g->err);
    return code;
}

int rc__graph_reverse(rc_objgraph *g)
{
    if (g->in_start)
        return 0;
    uint32_t *start = malloc((g->n + 1) * sizeof *start);
    uint32_t *in = malloc((g->m ? g->m : 1) * sizeof *in);
    if (!start || !in) {
        free(start);
        free(in);
        return rc__graph_fail(g, RC_ENOMEM, "out of memory building the referrer index");
    }
    uint32_t sum = 0;
    for (size_t i = 0; i < g->n; i++) {
        start[i] = sum;
        sum += g->nodes[i].internal;
    }
    start[g->n] = sum;
    /* Fill by bumping start[] and then shifting back: sources come out in
     * increasing order, so referrers are listed in address order. */
    for (size_t s = 0; s < g->n; s++)
        for (uint32_t e = g->out_start[s]; e < g->out_start[s + 1]; e++)
            in[start[g->out[e]]++] = (uint32_t)s;
    for (size_t i = g->n; i > 0; i--)
        start[i] = start[i - 1];
    start[0] = 0;
    g->in_start = start;
    g->in = in;
    return 0;
}

uint32_t rc__graph_find(const rc_objgraph *g, uint64_t addr)
{
    size_t lo = 0, hi = g->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g->nodes[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < g->n && g->nodes[lo].addr == addr ? (uint32_t)lo : RC_GNONE;
}

size_t rc__graph_external(const rc_gnode *n)
{
    if (n->flags & RC_GN_IMMORTAL)
        return 0;
    return n->refcnt > n->internal ? n->refcnt - n->internal : 0;
}

void rc__graph_info(const rc_objgraph *g, uint32_t i, rc_objinfo *out)
{
    const rc_gnode *n = &g->nodes[i];
    *out = (rc_objinfo){
        .obj = g->heap ? (void *)(uintptr_t)n->addr : NULL,
        .addr = n->addr,
        .type = g->names[n->type],
        .size = (size_t)n->size,
        .refcount = n->refcnt == RC_REFCNT_IMMORTAL ? RC_IMMORTAL_REFCNT : n->refcnt,
        .internal = n->internal,
        .external = rc__graph_external(n),
        .tracked = n->flags & RC_GN_TRACKED,
        .immortal = n->flags & RC_GN_IMMORTAL,
        .in_garbage = n->flags & RC_GN_GARBAGE,
        .finalizer = n->flags & RC_GN_FINALIZER,
    };
}
