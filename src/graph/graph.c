/* objgraph's queries over a snapshot (graph.h), and their live-heap forms.
 *
 * Every query is written once, against rc_objgraph; the rc_graph_* live
 * functions take a snapshot, ask, and translate addresses back to objects.
 * A snapshot costs one pass over the heap, the same order as objgraph's
 * gc.get_objects() walks, and a referrer query then costs O(edges) once
 * instead of one heap scan per gc.get_referrers call.
 *
 * Per-heap state (show_growth's peaks, the mark of new_since_mark) lives in
 * h->graph, created on first use and freed with the heap.
 */
#include "graph.h"

#include <stdlib.h>

/* ------------------------------------------------------------------------
 * Nodes
 * ---------------------------------------------------------------------- */

size_t rc_objgraph_count(const rc_objgraph *g) { return g->n; }
size_t rc_objgraph_edge_count(const rc_objgraph *g) { return g->m; }

bool rc_objgraph_lookup(const rc_objgraph *g, uint64_t addr, rc_objinfo *out)
{
    uint32_t i = rc__graph_find(g, addr);
    if (i == RC_GNONE)
        return false;
    if (out)
        rc__graph_info(g, i, out);
    return true;
}

/* Visits the nodes for which keep(g, i) holds (NULL: all). */
static int visit_nodes(const rc_objgraph *g, bool (*keep)(const rc_objgraph *, uint32_t, const void *),
                       const void *kctx, rc_objinfo_visit fn, void *arg)
{
    for (uint32_t i = 0; i < g->n; i++) {
        if (keep && !keep(g, i, kctx))
            continue;
        rc_objinfo info;
        rc__graph_info(g, i, &info);
        int r = fn(&info, arg);
        if (r)
            return r;
    }
    return 0;
}

int rc_objgraph_each(const rc_objgraph *g, rc_objinfo_visit fn, void *arg)
{
    return visit_nodes(g, NULL, NULL, fn, arg);
}

/* The neighbours of the node at addr, through one side of the CSR. */
static int visit_neighbours(const rc_objgraph *cg, uint64_t addr, bool backwards,
                            rc_objinfo_visit fn, void *arg)
{
    rc_objgraph *g = (rc_objgraph *)cg;   /* the reverse index is a cache */
    uint32_t i = rc__graph_find(g, addr);
    if (i == RC_GNONE)
        return rc__graph_fail(g, RC_ENOENT, "no object at %#llx in the snapshot", (unsigned long long)addr);
    if (backwards && rc__graph_reverse(g) != 0)
        return RC_ENOMEM;
    rc_gadj adj = rc__graph_adj(g, backwards);
    for (uint32_t e = adj.start[i]; e < adj.start[i + 1]; e++) {
        rc_objinfo info;
        rc__graph_info(g, adj.to[e], &info);
        int r = fn(&info, arg);
        if (r)
            return r;
    }
    return 0;
}

int rc_objgraph_referrers(const rc_objgraph *g, uint64_t addr, rc_objinfo_visit fn, void *arg)
{
    return visit_neighbours(g, addr, true, fn, arg);
}

int rc_objgraph_referents(const rc_objgraph *g, uint64_t addr, rc_objinfo_visit fn, void *arg)
{
    return visit_neighbours(g, addr, false, fn, arg);
}

static bool has_type(const rc_objgraph *g, uint32_t i, const void *name)
{
    return strcmp(g->names[g->nodes[i].type], name) == 0;
}

static bool is_leaking(const rc_objgraph *g, uint32_t i, const void *unused)
{
    (void)unused;
    return (g->nodes[i].flags & RC_GN_TRACKED) && g->nodes[i].internal == 0;
}

int rc_objgraph_by_type(const rc_objgraph *g, const char *type, rc_objinfo_visit fn, void *arg)
{
    return visit_nodes(g, has_type, type, fn, arg);
}

int rc_objgraph_leaking(const rc_objgraph *g, rc_objinfo_visit fn, void *arg)
{
    return visit_nodes(g, is_leaking, NULL, fn, arg);
}

/* ------------------------------------------------------------------------
 * Type statistics
 * ---------------------------------------------------------------------- */

static int cmp_type_count(const void *a, const void *b)
{
    const rc_type_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* All types with at least one object, most common first; malloc'd. */
static rc_type_count *type_totals(const rc_objgraph *g, size_t *ntypes)
{
    rc_type_count *t = calloc(g->ntypes ? g->ntypes : 1, sizeof *t);
    if (!t)
        return NULL;
    for (size_t i = 0; i < g->ntypes; i++)
        t[i].name = g->names[i];
    for (size_t i = 0; i < g->n; i++) {
        t[g->nodes[i].type].count++;
        t[g->nodes[i].type].bytes += g->nodes[i].size;
    }
    size_t k = 0;
    for (size_t i = 0; i < g->ntypes; i++)
        if (t[i].count)
            t[k++] = t[i];
    qsort(t, k, sizeof *t, cmp_type_count);
    *ntypes = k;
    return t;
}

size_t rc_objgraph_typestats(const rc_objgraph *g, rc_type_count *out, size_t cap)
{
    size_t k = 0;
    rc_type_count *t = type_totals(g, &k);
    if (!t)
        return 0;
    if (cap)
        memcpy(out, t, (k < cap ? k : cap) * sizeof *t);
    free(t);
    return k;
}

size_t rc_objgraph_type_count(const rc_objgraph *g, const char *type)
{
    size_t c = 0;
    for (uint32_t i = 0; i < g->n; i++)
        c += has_type(g, i, type);
    return c;
}

/* ------------------------------------------------------------------------
 * Growth: counts against remembered peaks (objgraph.growth)
 * ---------------------------------------------------------------------- */

typedef struct peak {
    char  *name;
    size_t count;
} peak;

typedef struct peak_table {
    peak  *v;
    size_t len, cap;
} peak_table;

static peak *peak_find(const peak_table *p, const char *name)
{
    for (size_t i = 0; i < p->len; i++)
        if (strcmp(p->v[i].name, name) == 0)
            return &p->v[i];
    return NULL;
}

static int peak_raise(peak_table *p, const char *name, size_t count)
{
    peak *e = peak_find(p, name);
    if (e) {
        e->count = count;
        return 0;
    }
    if (!rc__vec_reserve(&p->v, &p->cap, p->len + 1, sizeof *p->v, 32, SIZE_MAX))
        return RC_ENOMEM;
    char *copy = strdup(name);
    if (!copy)
        return RC_ENOMEM;
    p->v[p->len++] = (peak){copy, count};
    return 0;
}

static void peak_table_free(peak_table *p)
{
    for (size_t i = 0; i < p->len; i++)
        free(p->v[i].name);
    free(p->v);
    *p = (peak_table){0};
}

static int cmp_growth(const void *a, const void *b)
{
    const rc_type_growth *x = a, *y = b;
    if (x->delta != y->delta)
        return x->delta > y->delta ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* The types of now above their peak, largest rise first; raises the peaks
 * when raise is set.  Returns how many rose (negative: error). */
static long growth(const rc_objgraph *now, peak_table *peaks, bool raise,
                   rc_type_growth *out, size_t limit)
{
    size_t k = 0, nrose = 0;
    rc_type_count *t = type_totals(now, &k);
    rc_type_growth *rose = calloc(k ? k : 1, sizeof *rose);
    long rc = (t && rose) ? 0 : RC_ENOMEM;
    for (size_t i = 0; rc == 0 && i < k; i++) {
        const peak *p = peak_find(peaks, t[i].name);
        size_t old = p ? p->count : 0;
        if (t[i].count <= old)
            continue;
        rose[nrose++] = (rc_type_growth){t[i].name, t[i].count, t[i].count - old};
        if (raise)
            rc = peak_raise(peaks, t[i].name, t[i].count);
    }
    if (rc == 0) {
        qsort(rose, nrose, sizeof *rose, cmp_growth);
        if (limit)
            memcpy(out, rose, (nrose < limit ? nrose : limit) * sizeof *rose);
        rc = (long)nrose;
    }
    free(t);
    free(rose);
    return rc;
}

size_t rc_objgraph_growth(const rc_objgraph *before, const rc_objgraph *now,
                          rc_type_growth *out, size_t limit)
{
    peak_table peaks = {0};
    size_t k = 0;
    rc_type_count *t = type_totals(before, &k);
    long rc = t ? 0 : RC_ENOMEM;
    for (size_t i = 0; rc == 0 && i < k; i++)
        rc = peak_raise(&peaks, t[i].name, t[i].count);
    if (rc == 0)
        rc = growth(now, &peaks, false, out, limit);
    free(t);
    peak_table_free(&peaks);
    return rc < 0 ? 0 : (size_t)rc;
}

/* ------------------------------------------------------------------------
 * Chains: breadth-first search over referents or referrers
 * ---------------------------------------------------------------------- */

/* The path found → start through parent[], malloc'd. */
static int parent_path(const uint32_t *parent, uint32_t start, uint32_t found,
                       uint32_t **path, size_t *len)
{
    size_t n = 1;
    for (uint32_t v = found; v != start; v = parent[v])
        n++;
    uint32_t *p = malloc(n * sizeof *p);
    if (!p)
        return RC_ENOMEM;
    uint32_t v = found;
    for (size_t i = 0; i < n; i++, v = parent[v])
        p[i] = v;
    *path = p;
    *len = n;
    return 0;
}

/* Breadth first from start; parent[] records the tree.  The queue is
 * processed level by level so that depth needs no array of its own. */
static uint32_t bfs_search(const rc_objgraph *g, rc_gadj adj, uint32_t start, size_t max_depth,
                           rc_gnode_pred pred, void *ctx, uint32_t *parent, uint32_t *queue)
{
    size_t head = 0, tail = 0, level_end = 1, depth = 0;
    parent[start] = start;
    queue[tail++] = start;
    while (head < tail) {
        if (head == level_end) {
            depth++;
            level_end = tail;
        }
        uint32_t v = queue[head++];
        if (pred(g, v, ctx))
            return v;
        if (depth >= max_depth)
            continue;
        for (uint32_t e = adj.start[v]; e < adj.start[v + 1]; e++) {
            uint32_t w = adj.to[e];
            if (parent[w] == RC_GNONE) {
                parent[w] = v;
                queue[tail++] = w;
            }
        }
    }
    return RC_GNONE;
}

int rc__graph_bfs(rc_objgraph *g, uint32_t start, bool backwards, size_t max_depth,
                  rc_gnode_pred pred, void *ctx, uint32_t **path, size_t *len)
{
    if (backwards && rc__graph_reverse(g) != 0)
        return RC_ENOMEM;
    uint32_t *parent = malloc(g->n * sizeof *parent);
    uint32_t *queue = malloc(g->n * sizeof *queue);
    int rc = RC_ENOENT;
    if (!parent || !queue) {
        rc = rc__graph_fail(g, RC_ENOMEM, "out of memory searching %zu objects", g->n);
    } else {
        memset(parent, 0xFF, g->n * sizeof *parent);
        uint32_t found = bfs_search(g, rc__graph_adj(g, backwards), start, max_depth,
                                    pred, ctx, parent, queue);
        if (found != RC_GNONE)
            rc = parent_path(parent, start, found, path, len);
    }
    free(parent);
    free(queue);
    return rc;
}

typedef struct user_pred {
    rc_objinfo_pred fn;
    void *ctx;
} user_pred;

static bool call_user_pred(const rc_objgraph *g, uint32_t i, void *ctx)
{
    const user_pred *u = ctx;
    rc_objinfo info;
    rc__graph_info(g, i, &info);
    return u->fn(&info, u->ctx);
}

static bool held_from_outside(const rc_objgraph *g, uint32_t i, void *unused)
{
    (void)unused;
    return (g->nodes[i].flags & RC_GN_IMMORTAL) || rc__graph_external(&g->nodes[i]) > 0;
}

static uint64_t *path_addrs(const rc_objgraph *g, const uint32_t *p, size_t n, bool reverse)
{
    uint64_t *a = malloc((n ? n : 1) * sizeof *a);
    for (size_t i = 0; a && i < n; i++)
        a[i] = g->nodes[p[reverse ? n - 1 - i : i]].addr;
    return a;
}

/* The search behind the three chain queries; on RC_ENOENT the chain is
 * addr alone when alone_on_miss (objgraph's [obj]), else empty. */
static int chain_query(const rc_objgraph *cg, uint64_t addr, bool backwards, size_t max_depth,
                       rc_gnode_pred pred, void *ctx, bool alone_on_miss,
                       uint64_t **chain, size_t *len)
{
    rc_objgraph *g = (rc_objgraph *)cg;   /* the reverse index is a cache */
    uint32_t start = rc__graph_find(g, addr);
    uint32_t *p = NULL;
    size_t n = 0;
    *chain = NULL;
    *len = 0;
    if (start == RC_GNONE)
        return rc__graph_fail(g, RC_ENOENT, "no object at %#llx in the snapshot", (unsigned long long)addr);
    int rc = rc__graph_bfs(g, start, backwards, max_depth, pred, ctx, &p, &n);
    if (rc == RC_ENOENT && alone_on_miss) {
        p = malloc(sizeof *p);
        if (!p)
            return RC_ENOMEM;
        p[0] = start;
        n = 1;
    }
    if (p) {
        /* bfs gives found → start: backref chains read that way, ref chains
         * the other (objgraph's find_ref_chain). */
        *chain = path_addrs(g, p, n, !backwards);
        *len = *chain ? n : 0;
        if (!*chain)
            rc = RC_ENOMEM;
    }
    free(p);
    return rc;
}

/* find_backref_chain and find_ref_chain: a search with the user's predicate. */
static int user_chain(const rc_objgraph *g, uint64_t addr, bool backwards, rc_objinfo_pred pred,
                      void *ctx, size_t max_depth, uint64_t **chain, size_t *len)
{
    if (!pred) {
        *chain = NULL;
        *len = 0;
        return rc__graph_fail((rc_objgraph *)g, RC_EINVAL, "%s: no predicate",
                              backwards ? "find_backref_chain" : "find_ref_chain");
    }
    user_pred u = {pred, ctx};
    return chain_query(g, addr, backwards, max_depth, call_user_pred, &u, true, chain, len);
}

int rc_objgraph_find_backref_chain(const rc_objgraph *g, uint64_t addr, rc_objinfo_pred pred,
                                   void *ctx, size_t max_depth, uint64_t **chain, size_t *len)
{
    return user_chain(g, addr, true, pred, ctx, max_depth, chain, len);
}

int rc_objgraph_find_ref_chain(const rc_objgraph *g, uint64_t addr, rc_objinfo_pred pred,
                               void *ctx, size_t max_depth, uint64_t **chain, size_t *len)
{
    return user_chain(g, addr, false, pred, ctx, max_depth, chain, len);
}

int rc_objgraph_why_alive(const rc_objgraph *g, uint64_t addr, uint64_t **chain, size_t *len)
{
    return chain_query(g, addr, true, SIZE_MAX, held_from_outside, NULL, false, chain, len);
}

/* ------------------------------------------------------------------------
 * Per-heap state and the live-heap forms
 * ---------------------------------------------------------------------- */

typedef struct mark_ent {
    uint64_t    addr;
    const char *type;   /* rc_type names outlive their objects */
} mark_ent;

struct rc_graph_state {
    peak_table peaks;
    mark_ent  *mark;
    size_t     nmark;
    bool       marked;
};

static void graph_state_free(rc_heap *h)
{
    if (!h->graph)
        return;
    peak_table_free(&h->graph->peaks);
    free(h->graph->mark);
    free(h->graph);
    h->graph = NULL;
}

static struct rc_graph_state *graph_state(rc_heap *h)
{
    if (h->graph)
        return h->graph;
    struct rc_graph_state *s = calloc(1, sizeof *s);
    if (!s || rc__heap_on_free(h, graph_state_free) != 0) {
        free(s);
        rc__error(h, RC_ENOMEM, "rc_graph: out of memory for the graph state");
        return NULL;
    }
    h->graph = s;
    return s;
}

size_t rc_graph_count(rc_heap *h, const char *type)
{
    rc_objgraph *g = rc_objgraph_new(h);
    size_t c = g ? rc_objgraph_type_count(g, type) : 0;
    rc_objgraph_free(g);
    return c;
}

size_t rc_graph_typestats(rc_heap *h, rc_type_count *out, size_t cap)
{
    rc_objgraph *g = rc_objgraph_new(h);
    size_t k = g ? rc_objgraph_typestats(g, out, cap) : 0;
    rc_objgraph_free(g);
    return k;
}

int rc_graph_show_most_common_types(rc_heap *h, size_t limit, FILE *out)
{
    if (limit == 0)     /* objgraph's limit=None: every type */
        limit = rc_graph_typestats(h, NULL, 0);
    rc_type_count *t = malloc((limit ? limit : 1) * sizeof *t);
    if (!t)
        return rc__error(h, RC_ENOMEM, "show_most_common_types: out of memory");
    size_t k = rc_graph_typestats(h, t, limit);
    k = k < limit ? k : limit;
    int width = 0;
    for (size_t i = 0; i < k; i++)
        width = (int)strlen(t[i].name) > width ? (int)strlen(t[i].name) : width;
    for (size_t i = 0; i < k; i++)
        fprintf(out, "%-*s %zu\n", width, t[i].name, t[i].count);
    free(t);
    return 0;
}

long rc_graph_growth(rc_heap *h, rc_type_growth *out, size_t limit)
{
    struct rc_graph_state *s = graph_state(h);
    if (!s)
        return RC_ENOMEM;
    rc_gc_collect(h, 2);    /* objgraph.growth collects first */
    rc_objgraph *g = rc_objgraph_new(h);
    if (!g)
        return rc_last_error_code(h);
    long rc = growth(g, &s->peaks, true, out, limit);
    rc_objgraph_free(g);
    return rc;
}

int rc_graph_show_growth(rc_heap *h, size_t limit, FILE *out)
{
    if (limit == 0)     /* objgraph's limit=None: every type that grew */
        limit = rc_graph_typestats(h, NULL, 0);
    rc_type_growth *t = malloc((limit ? limit : 1) * sizeof *t);
    if (!t)
        return rc__error(h, RC_ENOMEM, "show_growth: out of memory");
    long k = rc_graph_growth(h, t, limit);
    if (k < 0) {
        free(t);
        return (int)k;
    }
    size_t shown = (size_t)k < limit ? (size_t)k : limit;
    int width = 0;
    for (size_t i = 0; i < shown; i++)
        width = (int)strlen(t[i].name) > width ? (int)strlen(t[i].name) : width;
    for (size_t i = 0; i < shown; i++)
        fprintf(out, "%-*s%9zu %+9lld\n", width, t[i].name, t[i].count, (long long)t[i].delta);
    free(t);
    return 0;
}

int rc_graph_mark(rc_heap *h)
{
    struct rc_graph_state *s = graph_state(h);
    rc_objgraph *g = s ? rc_objgraph_new(h) : NULL;
    if (!g)
        return rc_last_error_code(h);
    mark_ent *m = malloc((g->n ? g->n : 1) * sizeof *m);
    if (!m) {
        rc_objgraph_free(g);
        return rc__error(h, RC_ENOMEM, "rc_graph_mark: out of memory for %zu objects", g->n);
    }
    for (size_t i = 0; i < g->n; i++)
        m[i] = (mark_ent){g->nodes[i].addr, g->names[g->nodes[i].type]};
    free(s->mark);
    s->mark = m;
    s->nmark = g->n;
    s->marked = true;
    rc_objgraph_free(g);
    return 0;
}

int rc_graph_new_since_mark(rc_heap *h, rc_visit fn, void *arg)
{
    struct rc_graph_state *s = graph_state(h);
    if (!s)
        return RC_ENOMEM;
    if (!s->marked)
        return rc__error(h, RC_ESTATE, "rc_graph_new_since_mark: rc_graph_mark was never called");
    rc_objgraph *g = rc_objgraph_new(h);
    if (!g)
        return rc_last_error_code(h);
    int r = 0;
    size_t k = 0;   /* both lists are in address order: merge them */
    for (size_t i = 0; i < g->n && r == 0; i++) {
        while (k < s->nmark && s->mark[k].addr < g->nodes[i].addr)
            k++;
        bool old = k < s->nmark && s->mark[k].addr == g->nodes[i].addr
                && strcmp(s->mark[k].type, g->names[g->nodes[i].type]) == 0;
        if (!old)
            r = fn((void *)(uintptr_t)g->nodes[i].addr, arg);
    }
    rc_objgraph_free(g);
    return r;
}

typedef struct obj_visit {
    rc_visit fn;
    void *arg;
} obj_visit;

static int visit_obj(const rc_objinfo *o, void *arg)
{
    const obj_visit *v = arg;
    return v->fn(o->obj, v->arg);
}

int rc_graph_by_type(rc_heap *h, const char *type, rc_visit fn, void *arg)
{
    rc_objgraph *g = rc_objgraph_new(h);
    if (!g)
        return rc_last_error_code(h);
    obj_visit v = {fn, arg};
    int r = rc_objgraph_by_type(g, type, visit_obj, &v);
    rc_objgraph_free(g);
    return r;
}

int rc_graph_leaking(rc_heap *h, rc_visit fn, void *arg)
{
    rc_objgraph *g = rc_objgraph_new(h);
    if (!g)
        return rc_last_error_code(h);
    obj_visit v = {fn, arg};
    int r = rc_objgraph_leaking(g, visit_obj, &v);
    rc_objgraph_free(g);
    return r;
}

void *rc_graph_at(rc_heap *h, uintptr_t addr)
{
    return rc__is_object_body(h, (const void *)addr) ? (void *)addr : NULL;
}

/* Runs a chain query on a snapshot of obj's heap; the addresses come back
 * as the live objects they are. */
typedef int (*chain_fn)(const rc_objgraph *g, uint64_t addr, const void *q, uint64_t **c, size_t *n);

typedef struct chain_args {
    rc_objinfo_pred pred;
    void *ctx;
    size_t max_depth;
} chain_args;

static int live_chain(void *obj, chain_fn fn, const void *q, void ***chain, size_t *len)
{
    rc_heap *h = rc_heap_of(obj);
    rc_objgraph *g = rc_objgraph_new(h);
    uint64_t *c = NULL;
    *chain = NULL;
    *len = 0;
    if (!g)
        return rc_last_error_code(h);
    size_t n = 0;
    int rc = fn(g, (uint64_t)(uintptr_t)obj, q, &c, &n);
    if (c) {
        void **objs = malloc((n ? n : 1) * sizeof *objs);
        for (size_t i = 0; objs && i < n; i++)
            objs[i] = (void *)(uintptr_t)c[i];
        *chain = objs;
        *len = objs ? n : 0;
        rc = objs ? rc : RC_ENOMEM;
    }
    free(c);
    rc_objgraph_free(g);
    return rc;
}

static int backref_chain_fn(const rc_objgraph *g, uint64_t a, const void *q, uint64_t **c, size_t *n)
{
    const chain_args *x = q;
    return rc_objgraph_find_backref_chain(g, a, x->pred, x->ctx, x->max_depth, c, n);
}

static int ref_chain_fn(const rc_objgraph *g, uint64_t a, const void *q, uint64_t **c, size_t *n)
{
    const chain_args *x = q;
    return rc_objgraph_find_ref_chain(g, a, x->pred, x->ctx, x->max_depth, c, n);
}

static int why_alive_fn(const rc_objgraph *g, uint64_t a, const void *q, uint64_t **c, size_t *n)
{
    (void)q;
    return rc_objgraph_why_alive(g, a, c, n);
}

int rc_graph_find_backref_chain(void *obj, rc_objinfo_pred pred, void *ctx,
                                size_t max_depth, void ***chain, size_t *len)
{
    chain_args q = {pred, ctx, max_depth};
    return live_chain(obj, backref_chain_fn, &q, chain, len);
}

int rc_graph_find_ref_chain(void *obj, rc_objinfo_pred pred, void *ctx,
                            size_t max_depth, void ***chain, size_t *len)
{
    chain_args q = {pred, ctx, max_depth};
    return live_chain(obj, ref_chain_fn, &q, chain, len);
}

int rc_graph_why_alive(void *obj, void ***chain, size_t *len)
{
    return live_chain(obj, why_alive_fn, NULL, chain, len);
}
