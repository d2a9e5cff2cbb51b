/* show_refs / show_backrefs / show_chain: objgraph's drawings as DOT, and
 * their rendering to PNG, SVG or PDF in-process through Graphviz's
 * libraries (libgvc + libcgraph), so no `dot` program is needed.
 *
 * The walk is objgraph's _show_graph: breadth first from the roots up to
 * max_depth; per object at most too_many neighbours are drawn and the rest
 * become one "N more references" node; ignored and filtered objects are
 * never drawn; fill colours fade from white to grey with depth, highlighted
 * objects are blue.  What objgraph cannot know is drawn too: an object held
 * from outside the heap has a double border, an object whose type has a
 * finalizer gets objgraph's red "__del__" marker (named "finalize").
 */
#include "graph.h"
#include "recycle-tools.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>
#include <errno.h>
#include <stdlib.h>

typedef enum { RC_DOT_REFS, RC_DOT_BACKREFS } rc_dot_dir;

#define MARK_IGNORED 1u
#define MARK_ALLOWED 2u

typedef struct dot_walk {
    rc_objgraph *g;
    const rc_graph_opts *o;
    rc_dot_dir dir;
    FILE *f;
    uint32_t *depth;    /* RC_GNONE: not reached */
    uint8_t  *mark;     /* MARK_* */
    bool      only;     /* draw only nodes with MARK_ALLOWED */
} dot_walk;

void rc_graph_opts_default(rc_graph_opts *o)
{
    *o = (rc_graph_opts){.max_depth = 3, .too_many = 10, .shortnames = true};
}

/* DOT string escaping, as objgraph's _quote. */
static void put_quoted(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

static void gradient(double from, double to, size_t depth, size_t max_depth, double *v)
{
    double f = max_depth ? (double)depth / (double)max_depth : 0.0;
    *v = from * (1 - f) + to * f;
}

static void write_label(const dot_walk *w, const rc_objinfo *info)
{
    FILE *f = w->f;
    fputc('"', f);
    put_quoted(f, info->type);
    if (w->o->refcounts) {
        if (info->immortal)
            fputs(" [immortal]", f);
        else
            fprintf(f, " [%zu, ext %zu]", info->refcount, info->external);
    }
    fprintf(f, "\\n%#llx", (unsigned long long)info->addr);
    if (!w->o->shortnames)
        fprintf(f, ", %zu B%s%s", info->size, info->tracked ? "" : ", untracked",
                info->in_garbage ? ", in gc.garbage" : "");
    if (w->o->extra_info) {
        char buf[256] = "";
        w->o->extra_info(info, w->o->ctx, buf, sizeof buf);
        fputs("\\n", f);
        put_quoted(f, buf);
    }
    fputc('"', f);
}

static void write_node(const dot_walk *w, uint32_t i)
{
    rc_objinfo info;
    rc__graph_info(w->g, i, &info);
    unsigned long long id = (unsigned long long)info.addr;
    double h = 0, s = 0, v;
    gradient(1.0, 0.3, w->depth[i], w->o->max_depth, &v);
    if (w->o->highlight && w->o->highlight(&info, w->o->ctx)) {
        h = .6;
        s = .6;
        v = 0.5 + v * 0.5;
    }
    fprintf(w->f, "  o%llx[label=", id);
    write_label(w, &info);
    fprintf(w->f, ", fillcolor=\"%g,%g,%g\"%s%s];\n", h, s, v,
            v < 0.5 ? ", fontcolor=white" : "",
            (info.external || info.immortal) ? ", peripheries=2" : "");
    if (info.finalizer)
        fprintf(w->f, "  o%llx->o%llx_fin[color=red,style=dotted,len=0.25,weight=10];\n"
                      "  o%llx_fin[label=\"finalize\",shape=doublecircle,height=0.25,"
                      "color=red,fillcolor=\"0,.5,1\",fontsize=6];\n", id, id, id);
}

static bool drawable(const dot_walk *w, uint32_t i)
{
    if (w->mark[i] & MARK_IGNORED)
        return false;
    if (w->only && !(w->mark[i] & MARK_ALLOWED))
        return false;
    if (!w->o->filter)
        return true;
    rc_objinfo info;
    rc__graph_info(w->g, i, &info);
    return w->o->filter(&info, w->o->ctx);
}

static void write_too_many(const dot_walk *w, uint32_t i, size_t skipped)
{
    unsigned long long id = (unsigned long long)w->g->nodes[i].addr;
    double v;
    gradient(1.0, 0.3, w->depth[i] + 1, w->o->max_depth, &v);
    if (w->dir == RC_DOT_REFS)
        fprintf(w->f, "  o%llx->too_many_o%llx[color=red,style=dotted,len=0.25,weight=10];\n"
                      "  too_many_o%llx[label=\"%zu more references\"", id, id, id, skipped);
    else
        fprintf(w->f, "  too_many_o%llx->o%llx[color=red,style=dotted,len=0.25,weight=10];\n"
                      "  too_many_o%llx[label=\"%zu more backreferences\"", id, id, id, skipped);
    fprintf(w->f, ",shape=box,height=0.25,color=red,fillcolor=\"0,1,%g\",fontsize=6,fontcolor=white];\n", v);
}

/* Draws the edges of one object and queues the neighbours first seen. */
static void expand(dot_walk *w, uint32_t t, uint32_t *queue, size_t *tail)
{
    const rc_objgraph *g = w->g;
    bool refs = w->dir == RC_DOT_REFS;
    rc_gadj adj = rc__graph_adj(g, !refs);
    size_t n = 0, skipped = 0;
    for (uint32_t e = adj.start[t]; e < adj.start[t + 1]; e++) {
        uint32_t s = adj.to[e];
        if (!drawable(w, s))
            continue;
        if (n >= w->o->too_many) {
            skipped++;
            continue;
        }
        uint32_t from = refs ? t : s, to = refs ? s : t;
        fprintf(w->f, "  o%llx -> o%llx;\n", (unsigned long long)g->nodes[from].addr,
                (unsigned long long)g->nodes[to].addr);
        if (w->depth[s] == RC_GNONE) {
            w->depth[s] = w->depth[t] + 1;
            queue[(*tail)++] = s;
        }
        n++;
    }
    if (skipped)
        write_too_many(w, t, skipped);
}

static int walk(dot_walk *w, const uint32_t *roots, size_t nroots)
{
    rc_objgraph *g = w->g;
    uint32_t *queue = malloc((g->n ? g->n : 1) * sizeof *queue);
    if (!queue)
        return RC_ENOMEM;
    size_t head = 0, tail = 0;
    fputs("digraph ObjectGraph {\n  node[shape=box, style=filled, fillcolor=white];\n", w->f);
    for (size_t r = 0; r < nroots; r++) {
        fprintf(w->f, "  o%llx[fontcolor=red];\n", (unsigned long long)g->nodes[roots[r]].addr);
        if (w->depth[roots[r]] == RC_GNONE) {
            w->depth[roots[r]] = 0;
            queue[tail++] = roots[r];
        }
    }
    while (head < tail) {
        uint32_t t = queue[head++];
        write_node(w, t);
        if (w->depth[t] < w->o->max_depth)
            expand(w, t, queue, &tail);
    }
    fputs("}\n", w->f);
    free(queue);
    return 0;
}

/* The DOT text of the drawing, malloc'd. */
static int make_dot(rc_objgraph *g, const uint32_t *roots, size_t nroots, rc_dot_dir dir,
                    const rc_graph_opts *o, const uint32_t *only, size_t nonly,
                    char **text, size_t *len)
{
    if (dir == RC_DOT_BACKREFS && rc__graph_reverse(g) != 0)
        return RC_ENOMEM;
    dot_walk w = {.g = g, .o = o, .dir = dir, .only = only != NULL};
    w.depth = malloc((g->n ? g->n : 1) * sizeof *w.depth);
    w.mark = calloc(g->n ? g->n : 1, 1);
    w.f = open_memstream(text, len);
    int rc = (w.depth && w.mark && w.f) ? 0 : RC_ENOMEM;
    if (rc == 0) {
        memset(w.depth, 0xFF, g->n * sizeof *w.depth);
        for (size_t i = 0; i < o->n_ignore; i++) {
            uint32_t k = rc__graph_find(g, (uint64_t)(uintptr_t)o->extra_ignore[i]);
            if (k != RC_GNONE)
                w.mark[k] |= MARK_IGNORED;
        }
        for (size_t i = 0; i < nonly; i++)
            w.mark[only[i]] |= MARK_ALLOWED;
        rc = walk(&w, roots, nroots);
    }
    if (w.f && fclose(w.f) != 0 && rc == 0)
        rc = RC_ENOMEM;
    if (rc != 0 && w.f) {
        free(*text);
        *text = NULL;
    }
    free(w.depth);
    free(w.mark);
    return rc;
}

static const char *format_of(const char *path)
{
    if (strcmp(path, "-") == 0)
        return "dot";
    const char *dot = strrchr(path, '.');
    if (!dot)
        return NULL;
    static const char *const known[] = {"dot", "png", "svg", "pdf"};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (strcmp(dot + 1, known[i]) == 0)
            return known[i];
    return NULL;
}

static int write_dot_file(rc_objgraph *g, const char *text, size_t len, const char *path)
{
    if (strcmp(path, "-") == 0)
        return fwrite(text, 1, len, stdout) == len ? 0 : rc__graph_fail(g, RC_EIO, "stdout: write failed");
    FILE *f = fopen(path, "w");
    if (!f)
        return rc__graph_fail(g, RC_EIO, "%s: cannot create: %s", path, strerror(errno));
    bool ok = fwrite(text, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    return ok ? 0 : rc__graph_fail(g, RC_EIO, "%s: write failed", path);
}

/* Graphviz's context is made once per process and kept: its text-layout
 * plugin (pango) caches a font name across contexts, and freeing the
 * context that owned the name leaves the cache pointing at freed memory
 * (Graphviz 2.42; AddressSanitizer finds the read on the second render).
 * Graphviz also keeps its error state in globals, so renders are
 * serialized by one lock.  Both are Graphviz's state, not recycle's. */
static rc__os_once_t gvc_once = RC_OS_ONCE_INIT;
static rc__os_mutex gvc_lock = RC_OS_MUTEX_INIT;
static GVC_t *gvc_shared;

static void gvc_make(void)
{
    gvc_shared = gvContext();
}

static int render_locked(rc_objgraph *g, GVC_t *gvc, const char *text, const char *format, const char *path)
{
    agseterr(AGMAX);        /* keep Graphviz quiet; we report its message */
    agreseterrors();
    Agraph_t *ag = agmemread(text);
    int rc = 0;
    if (!ag)
        rc = RC_EINVAL;
    else if (gvLayout(gvc, ag, "dot") != 0)
        rc = RC_ENOTSUP;
    else {
        if (gvRenderFilename(gvc, ag, format, path) != 0)
            rc = RC_EIO;
        gvFreeLayout(gvc, ag);
    }
    if (rc != 0) {
        char *msg = aglasterr();
        rc__graph_fail(g, rc, "Graphviz could not render %s as %s: %s", path, format,
                       msg && *msg ? msg : "no message");
        free(msg);
    }
    if (ag)
        agclose(ag);
    return rc;
}

/* Lays out and renders DOT text with Graphviz's libraries. */
static int render(rc_objgraph *g, const char *text, const char *format, const char *path)
{
    rc__os_once(&gvc_once, gvc_make);
    if (!gvc_shared)
        return rc__graph_fail(g, RC_ENOMEM, "Graphviz: cannot create a context");
    rc__os_lock(&gvc_lock);
    int rc = render_locked(g, gvc_shared, text, format, path);
    rc__os_unlock(&gvc_lock);
    return rc;
}

static int graph_show(rc_objgraph *g, const uint32_t *roots, size_t nroots, rc_dot_dir dir,
                      const rc_graph_opts *opts, const uint32_t *only, size_t nonly,
                      const char *path)
{
    rc_graph_opts defaults;
    if (!opts) {
        rc_graph_opts_default(&defaults);
        opts = &defaults;
    }
    const char *format = path ? format_of(path) : NULL;
    if (!path)
        return rc__graph_fail(g, RC_EINVAL, "no output path");
    if (!format)
        return rc__graph_fail(g, RC_EINVAL, "%s: unknown output format (use .dot, .png, .svg or .pdf)", path);
    char *text = NULL;
    size_t len = 0;
    int rc = make_dot(g, roots, nroots, dir, opts, only, nonly, &text, &len);
    if (rc != 0)
        return rc__graph_fail(g, rc, "out of memory drawing %zu objects", g->n);
    rc = strcmp(format, "dot") == 0 ? write_dot_file(g, text, len, path)
                                    : render(g, text, format, path);
    free(text);
    return rc;
}

/* ------------------------------------------------------------------------
 * Public forms
 * ---------------------------------------------------------------------- */

/* Node indices of addrs; RC_EINVAL naming the first one not in g. */
static int find_all(rc_objgraph *g, const uint64_t *addrs, size_t n, uint32_t **out)
{
    uint32_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx)
        return rc__graph_fail(g, RC_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        idx[i] = rc__graph_find(g, addrs[i]);
        if (idx[i] == RC_GNONE) {
            free(idx);
            return rc__graph_fail(g, RC_EINVAL, "no object at %#llx in the snapshot",
                                  (unsigned long long)addrs[i]);
        }
    }
    *out = idx;
    return 0;
}

static int show(const rc_objgraph *cg, const uint64_t *addrs, size_t n, rc_dot_dir dir,
                bool chain, const rc_graph_opts *opts, const char *path)
{
    rc_objgraph *g = (rc_objgraph *)cg;   /* the reverse index is a cache */
    uint32_t *idx = NULL;
    if (n == 0)
        return rc__graph_fail(g, RC_EINVAL, "nothing to draw");
    int rc = find_all(g, addrs, n, &idx);
    if (rc != 0)
        return rc;
    rc_graph_opts o;
    if (chain) {    /* objgraph.show_chain: backrefs from the chain's end */
        if (opts)
            o = *opts;
        else
            rc_graph_opts_default(&o);
        o.max_depth = n - 1;
        rc = graph_show(g, &idx[n - 1], 1, RC_DOT_BACKREFS, &o, idx, n, path);
    } else {
        rc = graph_show(g, idx, n, dir, opts, NULL, 0, path);
    }
    free(idx);
    return rc;
}

int rc_objgraph_show_refs(const rc_objgraph *g, const uint64_t *addrs, size_t n,
                          const rc_graph_opts *opts, const char *path)
{
    return show(g, addrs, n, RC_DOT_REFS, false, opts, path);
}

int rc_objgraph_show_backrefs(const rc_objgraph *g, const uint64_t *addrs, size_t n,
                              const rc_graph_opts *opts, const char *path)
{
    return show(g, addrs, n, RC_DOT_BACKREFS, false, opts, path);
}

int rc_objgraph_show_chain(const rc_objgraph *g, const uint64_t *chain, size_t len,
                           const rc_graph_opts *opts, const char *path)
{
    return show(g, chain, len, RC_DOT_BACKREFS, true, opts, path);
}

typedef int (*show_fn)(const rc_objgraph *, const uint64_t *, size_t, const rc_graph_opts *, const char *);

static int live_show(void *const *objs, size_t n, const rc_graph_opts *opts, const char *path, show_fn fn)
{
    if (n == 0 || !objs[0])
        return RC_EINVAL;
    rc_heap *h = rc_heap_of(objs[0]);
    uint64_t *addrs = malloc(n * sizeof *addrs);
    rc_objgraph *g = addrs ? rc_objgraph_new(h) : NULL;
    int rc = g ? 0 : RC_ENOMEM;
    if (rc == 0) {
        for (size_t i = 0; i < n; i++)
            addrs[i] = (uint64_t)(uintptr_t)objs[i];
        rc = fn(g, addrs, n, opts, path);
    } else {
        rc_set_error(h, rc, "rc_graph_show: out of memory");
    }
    rc_objgraph_free(g);
    free(addrs);
    return rc;
}

int rc_graph_show_refs(void *const *objs, size_t n, const rc_graph_opts *opts, const char *path)
{
    return live_show(objs, n, opts, path, rc_objgraph_show_refs);
}

int rc_graph_show_backrefs(void *const *objs, size_t n, const rc_graph_opts *opts, const char *path)
{
    return live_show(objs, n, opts, path, rc_objgraph_show_backrefs);
}

int rc_graph_show_chain(void *const *chain, size_t len, const rc_graph_opts *opts, const char *path)
{
    return live_show(chain, len, opts, path, rc_objgraph_show_chain);
}
