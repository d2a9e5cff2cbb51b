/* bench/binarytrees: the Benchmarks Game's binary-trees, recycle against
 * Boehm GC, glibc malloc, mimalloc and CPython, all measured in this run.
 *
 * For a maximum depth D: a stretch tree of depth D+1 is built, checked and
 * dropped; a long-lived tree of depth D is built; then for d = 4, 6, ..., D,
 * 2^(D-d+4) trees of depth d are each built, checked (every node counted)
 * and dropped; last the long-lived tree is checked and dropped.  A tree of
 * depth d has 2^(d+1)-1 nodes of two children.
 *
 * recycle's nodes are RC_TYPE_REFS objects of two references, tracked by
 * the collector; a tree dies by rc_decref of its root.  "recycle" runs with
 * the collector at its default thresholds, "rc-nogc" with it disabled (as
 * RECYCLE_GC=0 would); for the first, the share of the run spent in the
 * automatic collections is the sum of their durations (rc_gc_get_stats)
 * over the run's wall time.  Boehm GC allocates with GC_MALLOC and drops
 * references; glibc and mimalloc (dlopen'ed, mi_malloc/mi_free) free each
 * node.  CPython builds tuples, timed inside python; its depth is capped
 * at 16 (depth 20 would take minutes) and the cap is shown.
 *
 * Each (allocator, depth) cell runs in a child process of its own, so no
 * two share a heap; times are thread CPU time, best of 3 runs (of 1
 * above depth 18, where one run of each takes seconds).
 *
 * usage: binarytrees [depth ...]    (default: 16 20)
 */
#include <recycle.h>

#include <dlfcn.h>
#include <gc.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "measure.h"

extern char **environ;

enum { MIN_DEPTH = 4, MAX_DEPTH = 24, PY_MAX_DEPTH = 16 };

static const char *const allocators[] = {"recycle", "rc-nogc", "boehm", "glibc", "mimalloc"};
#define NALLOC (sizeof allocators / sizeof *allocators)

static void die(const char *what)
{
    fprintf(stderr, "bench/binarytrees: %s\n", what);
    exit(2);
}

/* ---- the trees, one set of functions per allocator ---- */

typedef struct node {
    struct node *left, *right;
} node;

static rc_heap *heap;
static void *(*mi_malloc_p)(size_t);
static void (*mi_free_p)(void *);

static const rc_type node_type = {.name = "node", .size = sizeof(node), .flags = RC_TYPE_REFS};

static node *rc_make(int d)
{
    node *n = rc_new(heap, &node_type);
    if (!n)
        die("rc_new failed");
    if (d > 0) {
        n->left = rc_make(d - 1);     /* the new references are the fields' */
        n->right = rc_make(d - 1);
    }
    return n;
}

static void rc_drop(node *n) { rc_decref(n); }

/* A maker per allocator and a dropper per allocator that frees: functions
 * of their own, so each allocator's calls are direct. */
#define TREE_MAKE(pfx, ALLOC)                                          \
    static node *pfx##_make(int d)                                     \
    {                                                                  \
        node *n = ALLOC(sizeof *n);                                    \
        if (!n)                                                        \
            die("allocation failed");                                  \
        n->left = d > 0 ? pfx##_make(d - 1) : NULL;                    \
        n->right = d > 0 ? pfx##_make(d - 1) : NULL;                   \
        return n;                                                      \
    }
#define TREE_DROP(pfx, FREE)                                           \
    static void pfx##_drop(node *n)                                    \
    {                                                                  \
        if (n->left) {                                                 \
            pfx##_drop(n->left);                                       \
            pfx##_drop(n->right);                                      \
        }                                                              \
        FREE(n);                                                       \
    }

TREE_MAKE(gl, malloc)
TREE_DROP(gl, free)
TREE_MAKE(mi, mi_malloc_p)
TREE_DROP(mi, mi_free_p)
TREE_MAKE(bw, GC_MALLOC)
static void bw_drop(node *n) { (void)n; }   /* Boehm reclaims what is unreachable */

static uint64_t check(const node *n)
{
    return n->left ? 1 + check(n->left) + check(n->right) : 1;
}

typedef struct tree_ops {
    node *(*make)(int d);
    void (*drop)(node *n);
} tree_ops;

static uint64_t tree_nodes(int d) { return ((uint64_t)2 << d) - 1; }

/* The benchmark; returns the nodes made, having checked every tree. */
static uint64_t run_trees(const tree_ops *o, int max_depth)
{
    node *stretch = o->make(max_depth + 1);
    uint64_t nodes = check(stretch), want = tree_nodes(max_depth + 1);
    o->drop(stretch);
    node *long_lived = o->make(max_depth);
    for (int d = MIN_DEPTH; d <= max_depth; d += 2) {
        uint64_t iters = (uint64_t)1 << (max_depth - d + MIN_DEPTH);
        for (uint64_t i = 0; i < iters; i++) {
            node *t = o->make(d);
            nodes += check(t);
            o->drop(t);
        }
        want += iters * tree_nodes(d);
    }
    nodes += check(long_lived);
    want += tree_nodes(max_depth);
    o->drop(long_lived);
    if (nodes != want)
        die("a tree lost nodes");
    return nodes;
}

/* ---- a child: one allocator, one depth ---- */

/* Prints "<ns per node> <share of wall time in automatic collections>
 * <collections>" (the last two 0 but for recycle). */
static int cell_main(const char *alloc, int depth)
{
    tree_ops o;
    if (!strncmp(alloc, "r", 1)) {
        heap = rc_heap_new(NULL);
        if (!heap)
            die("rc_heap_new failed");
        if (!strcmp(alloc, "rc-nogc"))
            rc_gc_disable(heap);
        o = (tree_ops){rc_make, rc_drop};
    } else if (!strcmp(alloc, "boehm")) {
        GC_INIT();
        o = (tree_ops){bw_make, bw_drop};
    } else if (!strcmp(alloc, "glibc")) {
        o = (tree_ops){gl_make, gl_drop};
    } else if (!strcmp(alloc, "mimalloc")) {
        bench_load_mimalloc(&mi_malloc_p, &mi_free_p);
        o = (tree_ops){mi_make, mi_drop};
    } else {
        die("unknown allocator");
    }
    uint64_t w0 = bench_clock_ns(CLOCK_MONOTONIC), t0 = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID);
    uint64_t nodes = run_trees(&o, depth);
    uint64_t t = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0, w = bench_clock_ns(CLOCK_MONOTONIC) - w0;
    uint64_t gc_ns = 0, collections = 0;
    for (int g = 0; heap && g < 3; g++) {
        rc_gc_stats st = rc_gc_get_stats(heap, g);
        gc_ns += st.duration_ns;
        collections += st.collections;
    }
    printf("%.3f %.4f %llu\n", (double)t / (double)nodes, w ? (double)gc_ns / (double)w : 0.0,
           (unsigned long long)collections);
    if (heap)
        rc_heap_free(heap);
    return 0;
}

/* ---- the parent: children, CPython, the table ---- */

typedef struct cell {
    double ns, share;
    unsigned long long collections;
    bool ok;
} cell;

/* Runs argv, reading the one line its stdout gives. */
static FILE *spawn_reader(char *const argv[], pid_t *pid)
{
    int fd[2];
    if (pipe(fd) < 0)
        return NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    int err = posix_spawn(pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    if (err) {
        close(fd[0]);
        return NULL;
    }
    return fdopen(fd[0], "r");
}

static bool reap(FILE *f, pid_t pid, bool ok)
{
    fclose(f);
    int status;
    waitpid(pid, &status, 0);
    return ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static bool run_cell(const char *self, const char *alloc, int depth, cell *c)
{
    char d[16];
    snprintf(d, sizeof d, "%d", depth);
    char *argv[] = {(char *)self, "--cell", (char *)alloc, d, NULL};
    pid_t pid;
    FILE *f = spawn_reader(argv, &pid);
    if (!f)
        return false;
    bool ok = fscanf(f, "%lf %lf %llu", &c->ns, &c->share, &c->collections) == 3;
    return reap(f, pid, ok);
}

static const char python_script[] =
    "import time\n"
    "def make(d):\n"
    "    return (make(d - 1), make(d - 1)) if d else (None, None)\n"
    "def check(t):\n"
    "    l, r = t\n"
    "    return 1 if l is None else 1 + check(l) + check(r)\n"
    "D = %d\n"
    "t0 = time.thread_time_ns()\n"
    "n = check(make(D + 1))\n"
    "keep = make(D)\n"
    "for d in range(4, D + 1, 2):\n"
    "    for i in range(1 << (D - d + 4)):\n"
    "        n += check(make(d))\n"
    "n += check(keep)\n"
    "del keep\n"
    "print('%%.3f' %% ((time.thread_time_ns() - t0) / n))\n";

/* CPython's tuples at depth min(depth, PY_MAX_DEPTH): ns per node. */
static bool run_python(int depth, cell *c)
{
    char script[sizeof python_script + 16];
    snprintf(script, sizeof script, python_script, depth);
    char *argv[] = {"/usr/bin/python3", "-c", script, NULL};
    if (access(argv[0], X_OK))
        return false;
    pid_t pid;
    FILE *f = spawn_reader(argv, &pid);
    if (!f)
        return false;
    bool ok = fscanf(f, "%lf", &c->ns) == 1;
    return reap(f, pid, ok);
}

static void print_ns(const cell *c)
{
    c->ok ? printf(" %9.2f", c->ns) : printf(" %9s", "n/a");
}

static void print_row(int depth, int py_depth, const cell c[NALLOC + 1])
{
    printf("%5d", depth);
    for (size_t a = 0; a <= NALLOC; a++)
        print_ns(&c[a]);
    printf("  |");
    for (size_t a = 1; a <= NALLOC; a++)
        c[a].ok && c[0].ok ? printf(" %10.2fx", c[a].ns / c[0].ns) : printf(" %11s", "n/a");
    printf("  | %7.1f%% %8llu  py@%d\n", 100 * c[0].share, c[0].collections, py_depth);
}

static void print_header(void)
{
    printf("\nbinary-trees: ns per node (thread CPU time, best of 3 runs per cell, 1 above depth 18);\n"
           "ratio = other / recycle (above 1: recycle is faster); recycle runs with the\n"
           "collector at its default thresholds, rc-nogc with it disabled; gc%% = share of\n"
           "recycle's wall time in automatic collections, with their count; py@D: the\n"
           "depth CPython ran at (per node all the same)\n\n");
    printf("%5s", "depth");
    for (size_t a = 0; a < NALLOC; a++)
        printf(" %9s", allocators[a]);
    printf(" %9s  |", "cpython");
    for (size_t a = 1; a < NALLOC; a++)
        printf(" %8.8s/rc", allocators[a]);
    printf(" %8s/rc  | %8s %8s\n", "cpython", "gc%", "colls");
}

int main(int argc, char **argv)
{
    static const char usage[] = "binarytrees [depth ...]";
    if (argc == 4 && !strcmp(argv[1], "--cell"))
        return cell_main(argv[2], (int)bench_count_arg("binarytrees", argv[3], 0, MAX_DEPTH, usage));
    int depths[8] = {16, 20}, nd = 2;
    if (argc > 1) {
        if (argc - 1 > 8)
            die("at most 8 depths");
        nd = argc - 1;
        for (int i = 0; i < nd; i++)
            depths[i] = (int)bench_count_arg("binarytrees", argv[i + 1], MIN_DEPTH + 2, MAX_DEPTH, usage);
    }
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        die("cannot find /proc/self/exe");
    self[len] = '\0';
    print_header();
    for (int i = 0; i < nd; i++) {
        cell c[NALLOC + 1] = {{0}};
        /* Allocators interleaved, so that load from elsewhere on the
         * machine falls on all of them; the fastest run counts. */
        for (int rep = 0, reps = depths[i] > 18 ? 1 : 3; rep < reps; rep++)
            for (size_t a = 0; a < NALLOC; a++) {
                cell r = {0};
                if (!run_cell(self, allocators[a], depths[i], &r))
                    fprintf(stderr, "bench/binarytrees: %s at depth %d failed\n", allocators[a], depths[i]);
                else if (!c[a].ok || r.ns < c[a].ns)
                    c[a] = r, c[a].ok = true;
            }
        int py_depth = depths[i] < PY_MAX_DEPTH ? depths[i] : PY_MAX_DEPTH;
        c[NALLOC].ok = run_python(py_depth, &c[NALLOC]);
        print_row(depths[i], py_depth, c);
    }
    return 0;
}
