/* bench/graph: who refers to an object, and why is it alive, on a heap of
 * 10^6 objects -- recycle beside CPython's gc.get_referrers and objgraph's
 * find_backref_chain (/usr/bin/python3 with Debian's python3-objgraph) on
 * the same graph, measured in the same run.
 *
 * The graph: 10^5 chains of 10 one-pointer nodes; the program holds each
 * chain's head (from outside the heap: C variables here, a local list in
 * Python).  The target is the tail of the middle chain, 9 references below
 * its head.  why_alive answers head → … → tail; objgraph is asked the same
 * question with the predicate "is a chain head", since it cannot tell what
 * is held from outside.  Usage: graph [objects] (default 1000000).
 */
#include "args.h"

#include <recycle.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHAIN 10

typedef struct bnode {
    void *next;
} bnode;

static int bnode_traverse(void *self, rc_visit visit, void *arg)
{
    bnode *n = self;
    return n->next ? visit(n->next, arg) : 0;
}

static void bnode_clear(void *self)
{
    RC_CLEAR(((bnode *)self)->next);
}

static const rc_type bnode_type = {.name = "bnode", .size = sizeof(bnode),
                                   .traverse = bnode_traverse, .clear = bnode_clear};
/* The same node as an RC_TYPE_REFS body, which the runtime walks inline. */
static const rc_type bnode_refs_type = {.name = "bnode", .size = sizeof(bnode), .flags = RC_TYPE_REFS};
static const rc_type *node_type = &bnode_type;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int count_ref(void *o, void *arg)
{
    (void)o;
    ++*(size_t *)arg;
    return 0;
}

static int count_info(const rc_objinfo *o, void *arg)
{
    (void)o;
    ++*(size_t *)arg;
    return 0;
}

typedef struct c_times {
    double referrers, why_alive, snapshot, why_on_snapshot, snap_referrers;
    size_t nref, chain_len;
} c_times;

/* Builds the chains; returns the heads (held by us) and the target. */
static void **build(rc_heap *h, size_t n, void **target)
{
    size_t chains = n / CHAIN;
    void **heads = malloc(chains * sizeof *heads);
    for (size_t c = 0; c < chains; c++) {
        void *next = NULL;
        for (int i = 0; i < CHAIN; i++) {
            bnode *b = rc_new(h, node_type);
            if (!b) {
                fprintf(stderr, "graph: out of memory\n");
                exit(1);
            }
            b->next = next;     /* the new node takes over our reference */
            if (i == 0 && c == chains / 2)
                *target = b;
            next = b;
        }
        heads[c] = next;
    }
    return heads;
}

static c_times run_recycle(size_t n)
{
    rc_config cfg;
    rc_config_default(&cfg);
    cfg.gc_enabled = false;
    rc_heap *h = rc_heap_new(&cfg);
    void *target = NULL;
    void **heads = build(h, n, &target);
    c_times t = {1e9, 1e9, 1e9, 1e9, 1e9, 0, 0};
    for (int rep = 0; rep < 3; rep++) {
        size_t nref = 0;
        double t0 = now();
        rc_gc_get_referrers(h, target, count_ref, &nref);
        double t1 = now();
        void **chain;
        size_t len;
        if (rc_graph_why_alive(target, &chain, &len) != 0 || chain[0] != heads[n / CHAIN / 2]) {
            fprintf(stderr, "graph: why_alive gave the wrong answer\n");
            exit(1);
        }
        double t2 = now();
        free(chain);
        rc_objgraph *g = rc_objgraph_new(h);
        double t3 = now();
        uint64_t *c;
        rc_objgraph_why_alive(g, (uintptr_t)target, &c, &len);
        double t4 = now();
        free(c);
        size_t nref2 = 0;   /* the index exists now: a query costs its own edges */
        rc_objgraph_referrers(g, (uintptr_t)target, count_info, &nref2);
        double t5 = now();
        if (nref2 != nref) {
            fprintf(stderr, "graph: snapshot referrers disagree with rc_gc_get_referrers\n");
            exit(1);
        }
        rc_objgraph_free(g);
        t.snap_referrers = t5 - t4 < t.snap_referrers ? t5 - t4 : t.snap_referrers;
        t.nref = nref;
        t.chain_len = len;
        t.referrers = t1 - t0 < t.referrers ? t1 - t0 : t.referrers;
        t.why_alive = t2 - t1 < t.why_alive ? t2 - t1 : t.why_alive;
        t.snapshot = t3 - t2 < t.snapshot ? t3 - t2 : t.snapshot;
        t.why_on_snapshot = t4 - t3 < t.why_on_snapshot ? t4 - t3 : t.why_on_snapshot;
    }
    for (size_t c = 0; c < n / CHAIN; c++)
        rc_decref(heads[c]);
    free(heads);
    rc_heap_free(h);
    return t;
}

/* The same graph in CPython; everything local to a function so that no
 * module dict or frame shows up among the referrers objgraph walks. */
static const char *py_script =
    "import gc, sys, time, objgraph\n"
    "def main(n, L):\n"
    "    gc.disable()\n"
    "    heads = []\n"
    "    target = None\n"
    "    for c in range(n // L):\n"
    "        nxt = None\n"
    "        for i in range(L):\n"
    "            nxt = [nxt]\n"
    "            if i == 0 and c == (n // L) // 2:\n"
    "                target = nxt\n"
    "        heads.append(nxt)\n"
    "    del nxt\n"
    "    head_ids = set(map(id, heads))\n"
    "    best = 1e9\n"
    "    for _ in range(3):\n"
    "        t0 = time.perf_counter()\n"
    "        nref = len(gc.get_referrers(target))\n"
    "        best = min(best, time.perf_counter() - t0)\n"
    "    t0 = time.perf_counter()\n"
    "    chain = objgraph.find_backref_chain(target, lambda x: id(x) in head_ids, max_depth=20)\n"
    "    t1 = time.perf_counter()\n"
    "    print(best, nref, t1 - t0, len(chain))\n"
    "main(int(sys.argv[1]), int(sys.argv[2]))\n";

static bool run_python(size_t n, double *referrers, double *backref_chain, size_t *len)
{
    char path[] = "/tmp/rc-bench-graph-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return false;
    FILE *f = fdopen(fd, "w");
    fputs(py_script, f);
    fclose(f);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %zu %d 2>/dev/null", path, n, CHAIN);
    FILE *p = popen(cmd, "r");
    size_t nref = 0;
    bool ok = p && fscanf(p, "%lf %zu %lf %zu", referrers, &nref, backref_chain, len) == 4;
    if (p)
        ok = (pclose(p) == 0) && ok;
    remove(path);
    return ok;
}

static void row(const char *what, double ours, const char *anchor, double theirs, bool have)
{
    if (have)
        printf("%-44s %10.3f ms  %-34s %10.3f ms  %7.1fx\n", what, ours * 1e3, anchor, theirs * 1e3, theirs / ours);
    else
        printf("%-44s %10.3f ms  %-34s %13s  %8s\n", what, ours * 1e3, anchor, "n/a", "-");
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? bench_count_arg("bench/graph", argv[1], CHAIN, 100000000, "bench/graph [N] (default 1e6)") : 1000000;
    n -= n % CHAIN;
    c_times c = run_recycle(n);
    node_type = &bnode_refs_type;
    c_times cr = run_recycle(n);
    double py_ref = 0, py_chain = 0;
    size_t py_len = 0;
    bool py = run_python(n, &py_ref, &py_chain, &py_len);
    printf("object graph queries on %zu objects (%zu chains of %d; target %d references below its holder)\n",
           n, n / CHAIN, CHAIN, CHAIN - 1);
    printf("%-44s %13s  %-34s %13s  %8s\n", "recycle", "time", "CPython (same graph, same run)", "time", "ratio");
    row("rc_gc_get_referrers (one target)", c.referrers, "gc.get_referrers", py_ref, py);
    row("  the same, RC_TYPE_REFS nodes", cr.referrers, "gc.get_referrers", py_ref, py);
    row("rc_graph_why_alive (snapshot + search)", c.why_alive, "objgraph.find_backref_chain", py_chain, py);
    row("  rc_objgraph_new (the snapshot alone)", c.snapshot, "", 0, false);
    row("  rc_objgraph_why_alive on a snapshot", c.why_on_snapshot, "objgraph.find_backref_chain", py_chain, py);
    row("  rc_objgraph_referrers, index built", c.snap_referrers, "gc.get_referrers", py_ref, py);
    printf("chain lengths: recycle %zu, objgraph %zu; referrers found: %zu\n", c.chain_len, py_len, c.nref);
    if (!py)
        printf("(python3 with objgraph not available: /usr/bin/python3 -c 'import objgraph' failed)\n");
    return 0;
}
