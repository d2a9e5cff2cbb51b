/* bench/alloc: recycle's allocator against glibc malloc, mimalloc, jemalloc,
 * Boehm GC and CPython, all measured in this run.
 *
 * Patterns (blocks of 16..512 bytes, sizes from one fixed random sequence):
 *   lifo    alloc 1000 blocks, free them newest first; repeated
 *   fifo    alloc 10000 blocks, free them oldest first; repeated
 *   random  100000 slots; each step frees a random slot's block and puts a
 *           new one there (random lifetimes); RSS per live payload byte is
 *           measured at the end, before anything is freed
 *   trees   GCBench/binary-trees of depth 18: a stretch tree of depth 19, a
 *           long-lived tree of depth 18, and 2^(18-d) trees of each depth
 *           d = 4, 6, ..., 18 built and dropped; 16-byte nodes
 * and the object path, every object made and dropped in batches of 4096
 * (freed newest first, oldest first, or in one fixed scattered order):
 *   obj-*   recycle: rc_new + rc_decref of an untracked type with a 32-byte
 *           body (a 48-byte block); malloc(48) + free for the allocators;
 *           CPython: bytes(15), a 48-byte untracked object
 *   trk-*   the same with a type that has traverse (tracked by the
 *           collector, at its default thresholds); CPython: an instance
 *           of a class with two __slots__, a 48-byte tracked object
 * Each (allocator, pattern) cell runs in a child process of its own, so the
 * allocators never share a heap and RSS is per allocator.  mimalloc is used
 * through dlopen + mi_malloc/mi_free (its library also exports malloc, so it
 * is not linked); jemalloc's Debian build exports only malloc and needs
 * static TLS, so its children run this program again with LD_PRELOAD.
 * Boehm GC allocates with GC_MALLOC and drops references instead of freeing,
 * as a collected program does.  CPython runs the same loops with bytes
 * objects of the same sizes and __slots__ tree nodes, timed inside python.
 * Times are thread CPU time (user + system), best of REPS runs: the machine
 * is shared, and wall time would also count other processes.
 *
 * --core runs obj-lifo with recycle and with mimalloc in turn, in one
 * process, in slices of 400k pairs, and prints each slice's times.
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

#include "measure.h"

extern char **environ;

enum { NSIZES = 1 << 16, LIFO_N = 1000, LIFO_ROUNDS = 2000, FIFO_N = 10000, FIFO_ROUNDS = 200,
       SLOTS = 100000, RANDOM_STEPS = 2000000, TREE_DEPTH = 18, OBJ_N = 4096, OBJ_ROUNDS = 500, OBJ_BODY = 32 };

static const char *const patterns[] = {"lifo",     "fifo",     "random",   "trees",    "objtrees", "obj-lifo",
                                       "obj-fifo", "obj-scat", "trk-lifo", "trk-fifo", "trk-scat"};
static const char *const allocators[] = {"recycle", "glibc", "mimalloc", "jemalloc", "boehm"};
#define NPAT 11
#define OBJTREES 4
#define OBJ_FIRST 5               /* obj-lifo; the tracked rows start 3 later */
#define REPS 3
#define NALLOC 5

/* ---- the allocators, as a pair of functions each ---- */
static rc_heap *heap;
static void *(*mi_malloc_p)(size_t);
static void (*mi_free_p)(void *);

static void *rc_a(size_t n) { return rc_alloc(heap, n); }
static void  rc_f(void *p) { rc_free(heap, p); }
static void *gl_a(size_t n) { return malloc(n); }
static void  gl_f(void *p) { free(p); }
static void *mi_a(size_t n) { return mi_malloc_p(n); }
static void  mi_f(void *p) { mi_free_p(p); }
static void *gc_a(size_t n) { return GC_MALLOC(n); }
static void  gc_f(void *p) { (void)p; }     /* the collector reclaims */

typedef struct node {
    struct node *left, *right;
} node;

typedef struct ops {
    void *(*alloc)(size_t);
    void (*free)(void *);
    node *(*tree_make)(int depth);
    void (*tree_free)(node *n);
} ops;

static uint16_t sizes[NSIZES];

/* CPU time of this thread (user + system): the machine is shared, and wall
 * time would count the time other processes ran. */
static uint64_t now_ns(void) { return bench_clock_ns(CLOCK_THREAD_CPUTIME_ID); }

static void die(const char *what)
{
    fprintf(stderr, "bench/alloc: %s\n", what);
    exit(2);
}

/* ---- the patterns; always_inline so each allocator's calls are direct ---- */
#define HOT static inline __attribute__((always_inline))

HOT void touch(void *p, size_t i)
{
    if (!p)
        die("allocation failed");
    *(size_t *)p = i;
}

HOT uint64_t run_lifo(const ops *o, void **v)
{
    uint64_t pairs = 0;
    size_t k = 0;
    for (int r = 0; r < LIFO_ROUNDS; r++) {
        for (int i = 0; i < LIFO_N; i++, k++) {
            v[i] = o->alloc(sizes[k & (NSIZES - 1)]);
            touch(v[i], k);
        }
        for (int i = LIFO_N - 1; i >= 0; i--)
            o->free(v[i]);
        pairs += LIFO_N;
    }
    return pairs;
}

HOT uint64_t run_fifo(const ops *o, void **v)
{
    uint64_t pairs = 0;
    size_t k = 0;
    for (int r = 0; r < FIFO_ROUNDS; r++) {
        for (int i = 0; i < FIFO_N; i++, k++) {
            v[i] = o->alloc(sizes[k & (NSIZES - 1)]);
            touch(v[i], k);
        }
        for (int i = 0; i < FIFO_N; i++)
            o->free(v[i]);
        pairs += FIFO_N;
    }
    return pairs;
}

/* Returns the pairs done; *payload gets the bytes live at the end and
 * *rss the resident growth measured then. */
HOT uint64_t run_random(const ops *o, void **v, size_t *len, size_t *payload, size_t *rss, size_t rss0)
{
    uint64_t x = 88172645463325252ull;
    size_t k = 0, live = 0;
    for (size_t i = 0; i < SLOTS; i++, k++) {
        len[i] = sizes[k & (NSIZES - 1)];
        v[i] = o->alloc(len[i]);
        touch(v[i], k);
        live += len[i];
    }
    for (int s = 0; s < RANDOM_STEPS; s++, k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t i = (size_t)(x % SLOTS);
        o->free(v[i]);
        live -= len[i];
        len[i] = sizes[k & (NSIZES - 1)];
        v[i] = o->alloc(len[i]);
        touch(v[i], k);
        live += len[i];
    }
    *payload = live;
    *rss = bench_rss_bytes() - rss0;
    for (size_t i = 0; i < SLOTS; i++)
        o->free(v[i]);
    return SLOTS + RANDOM_STEPS;
}

/* Recursive, so not inlinable: one pair of functions per allocator. */
#define DEFINE_TREES(pfx, ALLOC, FREE)                              \
    static node *pfx##_make(int depth)                             \
    {                                                              \
        node *n = ALLOC(sizeof *n);                                \
        touch(n, 0);                                               \
        n->left = depth > 0 ? pfx##_make(depth - 1) : NULL;        \
        n->right = depth > 0 ? pfx##_make(depth - 1) : NULL;       \
        return n;                                                  \
    }                                                              \
    static void pfx##_free_tree(node *n)                           \
    {                                                              \
        if (n->left) {                                             \
            pfx##_free_tree(n->left);                                \
            pfx##_free_tree(n->right);                                \
        }                                                          \
        FREE(n);                                                   \
    }
DEFINE_TREES(rc, rc_a, rc_f)
DEFINE_TREES(gl, gl_a, gl_f)
DEFINE_TREES(mi, mi_a, mi_f)
DEFINE_TREES(gc, gc_a, gc_f)

HOT uint64_t run_trees(const ops *o)
{
    uint64_t nodes = 0;
    o->tree_free(o->tree_make(TREE_DEPTH + 1));
    nodes += ((uint64_t)2 << (TREE_DEPTH + 1)) - 1;
    node *long_lived = o->tree_make(TREE_DEPTH);
    nodes += ((uint64_t)2 << TREE_DEPTH) - 1;
    for (int d = 4; d <= TREE_DEPTH; d += 2) {
        int iters = 1 << (TREE_DEPTH - d);
        for (int i = 0; i < iters; i++) {
            o->tree_free(o->tree_make(d));
            nodes += ((uint64_t)2 << d) - 1;
        }
    }
    if (!long_lived->left)
        die("tree lost its children");
    o->tree_free(long_lived);
    return nodes;
}

/* Trees of reference-counted, collector-tracked recycle objects: what a
 * program gets from rc_new, beside CPython's objects and Boehm's blocks. */
typedef struct onode {
    void *left, *right;
} onode;

static int onode_traverse(void *self, rc_visit visit, void *arg)
{
    onode *n = self;
    int rv = n->left ? visit(n->left, arg) : 0;
    return rv ? rv : n->right ? visit(n->right, arg) : 0;
}

static void onode_clear(void *self)
{
    onode *n = self;
    RC_CLEAR(n->left);
    RC_CLEAR(n->right);
}

static const rc_type onode_type = {
    .name = "node", .size = sizeof(onode), .traverse = onode_traverse, .clear = onode_clear,
};

static onode *otree_make(int depth)
{
    onode *n = rc_new(heap, &onode_type);
    if (!n)
        die("rc_new failed");
    if (depth > 0) {
        n->left = otree_make(depth - 1);
        n->right = otree_make(depth - 1);
    }
    return n;
}

static uint64_t run_object_trees(void)
{
    uint64_t nodes = 0;
    rc_decref(otree_make(TREE_DEPTH + 1));
    nodes += ((uint64_t)2 << (TREE_DEPTH + 1)) - 1;
    onode *long_lived = otree_make(TREE_DEPTH);
    nodes += ((uint64_t)2 << TREE_DEPTH) - 1;
    for (int d = 4; d <= TREE_DEPTH; d += 2)
        for (int i = 0; i < 1 << (TREE_DEPTH - d); i++) {
            rc_decref(otree_make(d));
            nodes += ((uint64_t)2 << d) - 1;
        }
    rc_decref(long_lived);
    return nodes;
}

/* The object rows: batches of OBJ_N objects, freed in the order `order`
 * gives (0 newest first, 1 oldest first, 2 the scattered permutation). */
static uint32_t scattered[OBJ_N];

static void make_scattered(void)
{
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (uint32_t i = 0; i < OBJ_N; i++)
        scattered[i] = i;
    for (uint32_t i = OBJ_N - 1; i > 0; i--) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint32_t j = (uint32_t)(x % (i + 1)), t = scattered[i];
        scattered[i] = scattered[j];
        scattered[j] = t;
    }
}

HOT size_t free_index(int order, int i)
{
    return order == 0 ? (size_t)(OBJ_N - 1 - i) : order == 1 ? (size_t)i : scattered[i];
}

static int obj_traverse(void *self, rc_visit visit, void *arg)
{
    void **ref = self;
    return *ref ? visit(*ref, arg) : 0;
}

static const rc_type obj_plain = {.name = "obj32", .size = OBJ_BODY};
static const rc_type obj_tracked = {.name = "trk32", .size = OBJ_BODY, .traverse = obj_traverse};

HOT uint64_t run_objects(const ops *o, void **v, int row)
{
    int order = row % 3;
    const rc_type *t = row < 3 ? &obj_plain : &obj_tracked;
    for (int r = 0; r < OBJ_ROUNDS; r++) {
        for (int i = 0; i < OBJ_N; i++) {
            /* the word after the reference obj_traverse reads, 24 bytes into the block */
            if (o->alloc == rc_a) {
                v[i] = rc_new(heap, t);
                touch((void **)v[i] + 1, (size_t)i);
            } else {
                v[i] = o->alloc(16 + OBJ_BODY);
                touch((void **)v[i] + 3, (size_t)i);
            }
        }
        for (int i = 0; i < OBJ_N; i++) {
            void *p = v[free_index(order, i)];
            if (o->alloc == rc_a)
                rc_decref(p);
            else
                o->free(p);
        }
    }
    return (uint64_t)OBJ_ROUNDS * OBJ_N;
}

/* Runs one pattern with one allocator; the figures go to stdout as
 * "<ns per op> <rss bytes> <payload bytes>". */
HOT void run_cell(const ops *o, int pat)
{
    /* Boehm must see the blocks' only references: its array is a root. */
    void **v = o->alloc == gc_a ? GC_MALLOC_UNCOLLECTABLE(sizeof(void *) * SLOTS) : malloc(sizeof(void *) * SLOTS);
    if (!v)
        die("out of memory");
    memset(v, 0, sizeof(void *) * SLOTS);
    size_t *len = calloc(SLOTS, sizeof *len);     /* resident before the baseline */
    if (!len)
        die("out of memory");
    memset(len, 1, SLOTS * sizeof *len);
    size_t payload = 0, rss = 0, rss0 = bench_rss_bytes();
    uint64_t t0 = now_ns(), n = 0;
    switch (pat) {
    case 0: n = run_lifo(o, v); break;
    case 1: n = run_fifo(o, v); break;
    case 2: n = run_random(o, v, len, &payload, &rss, rss0); break;
    case 3: n = run_trees(o); break;
    case 4: n = o->alloc == rc_a ? run_object_trees() : run_trees(o); break;
    default: n = run_objects(o, v, pat - OBJ_FIRST); break;
    }
    uint64_t t = now_ns() - t0;
    printf("%.3f %zu %zu\n", (double)t / (double)n, rss, payload);
    if (o->alloc == gc_a)
        GC_FREE(v);
    else
        free(v);
    free(len);
}

static const ops rc_ops = {rc_a, rc_f, rc_make, rc_free_tree}, gl_ops = {gl_a, gl_f, gl_make, gl_free_tree},
                 mi_ops = {mi_a, mi_f, mi_make, mi_free_tree}, gc_ops = {gc_a, gc_f, gc_make, gc_free_tree};

static int cell_main(const char *alloc, int pat)
{
    if (!strcmp(alloc, "recycle")) {
        heap = rc_heap_new(NULL);
        if (!heap)
            die("rc_heap_new failed");
        run_cell(&rc_ops, pat);
    } else if (!strcmp(alloc, "glibc") || !strcmp(alloc, "jemalloc")) {
        run_cell(&gl_ops, pat);              /* jemalloc: malloc is LD_PRELOADed */
    } else if (!strcmp(alloc, "mimalloc")) {
        bench_load_mimalloc(&mi_malloc_p, &mi_free_p);
        run_cell(&mi_ops, pat);
    } else if (!strcmp(alloc, "boehm")) {
        GC_INIT();
        run_cell(&gc_ops, pat);
    } else {
        die("unknown allocator");
    }
    return 0;
}

/* ---- --core: obj-lifo, recycle and mimalloc in turn, in one process ---- */

enum { CORE_SLICES = 60, CORE_ROUNDS = 100 };

HOT double obj_lifo_ns(const ops *o, void **v)
{
    uint64_t t0 = now_ns();
    for (int r = 0; r < CORE_ROUNDS; r++) {
        for (int i = 0; i < OBJ_N; i++) {
            v[i] = o->alloc == rc_a ? rc_new(heap, &obj_plain) : o->alloc(16 + OBJ_BODY);
            touch(v[i], (size_t)i);
        }
        for (int i = OBJ_N - 1; i >= 0; i--)
            o->alloc == rc_a ? rc_decref(v[i]) : o->free(v[i]);
    }
    return (double)(now_ns() - t0) / ((double)CORE_ROUNDS * OBJ_N);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Slices of a few ms each, the two allocators one after the other, so
 * that whatever slows the core falls on both: the table shows whether the
 * times move within a process, and together. */
static int core_main(void)
{
    heap = rc_heap_new(NULL);
    bench_load_mimalloc(&mi_malloc_p, &mi_free_p);
    void **v = malloc(sizeof(void *) * OBJ_N);
    if (!heap || !v)
        die("out of memory");
    double ratio[CORE_SLICES];
    printf("slice  recycle  mimalloc  mimalloc/rc   (obj-lifo, ns per pair)\n");
    for (int i = 0; i < CORE_SLICES; i++) {
        double rc = obj_lifo_ns(&rc_ops, v), mi = obj_lifo_ns(&mi_ops, v);
        ratio[i] = mi / rc;
        printf("%5d  %7.2f  %8.2f  %10.2fx\n", i, rc, mi, ratio[i]);
    }
    qsort(ratio, CORE_SLICES, sizeof *ratio, cmp_double);
    printf("\nmimalloc/rc over %d slices: lowest %.2fx, median %.2fx, highest %.2fx\n", CORE_SLICES, ratio[0],
           ratio[CORE_SLICES / 2], ratio[CORE_SLICES - 1]);
    free(v);
    return 0;
}

/* ---- the parent: children, CPython, the table ---- */

typedef struct cell {
    double ns;
    size_t rss, payload;
    bool ok;
} cell;

/* Runs argv with env, reading the child's one-line result. */
static bool run_child(char *const argv[], char *const env[], cell *c)
{
    int fd[2];
    if (pipe(fd) < 0)
        return false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    pid_t pid;
    int err = posix_spawn(&pid, argv[0], &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    if (err) {
        close(fd[0]);
        return false;
    }
    FILE *f = fdopen(fd[0], "r");
    c->ok = fscanf(f, "%lf %zu %zu", &c->ns, &c->rss, &c->payload) == 3;
    fclose(f);
    int status;
    waitpid(pid, &status, 0);
    c->ok = c->ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    return c->ok;
}

static char **env_with(const char *extra)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11))
            env[k++] = environ[i];
    if (extra)
        env[k++] = (char *)extra;
    return env;
}

static const char python_script[] =
    "import sys, time, random\n"
    "rnd = random.Random(1)\n"
    "sizes = [rnd.randint(16, 512) - 33 for _ in range(65536)]\n"
    "sizes = [max(s, 0) for s in sizes]\n"
    "M = 65535\n"
    "def statm():\n"
    "    with open('/proc/self/statm') as f: return int(f.read().split()[1]) * 4096\n"
    "def lifo():\n"
    "    k = 0\n"
    "    for r in range(%d):\n"
    "        v = [bytes(sizes[(k + i) & M]) for i in range(%d)]\n"
    "        k += %d\n"
    "        while v: v.pop()\n"
    "    return %d * %d\n"
    "def fifo():\n"
    "    k = 0\n"
    "    for r in range(%d):\n"
    "        v = [bytes(sizes[(k + i) & M]) for i in range(%d)]\n"
    "        k += %d\n"
    "        for i in range(%d): v[i] = None\n"
    "    return %d * %d\n"
    "def rand():\n"
    "    global rss, payload\n"
    "    r0 = statm()\n"
    "    S = %d\n"
    "    v = [bytes(sizes[i & M]) for i in range(S)]\n"
    "    k = S\n"
    "    x = 88172645463325252\n"
    "    MASK = (1 << 64) - 1\n"
    "    for s in range(%d):\n"
    "        x ^= (x << 13) & MASK; x ^= x >> 7; x ^= (x << 17) & MASK\n"
    "        v[x %% S] = bytes(sizes[k & M]); k += 1\n"
    "    payload = sum(sys.getsizeof(b) for b in v)\n"
    "    rss = statm() - r0\n"
    "    return S + %d\n"
    "class Node:\n"
    "    __slots__ = ('left', 'right')\n"
    "    def __init__(self, l, r): self.left = l; self.right = r\n"
    "def make(d):\n"
    "    return Node(make(d - 1), make(d - 1)) if d > 0 else Node(None, None)\n"
    "def trees():\n"
    "    D = %d\n"
    "    n = 0\n"
    "    make(D + 1); n += (2 << (D + 1)) - 1\n"
    "    keep = make(D); n += (2 << D) - 1\n"
    "    for d in range(4, D + 1, 2):\n"
    "        for i in range(1 << (D - d)):\n"
    "            make(d); n += (2 << d) - 1\n"
    "    return n\n"
    "N, R = %d, %d\n"
    "perm = list(range(N))\n"
    "random.Random(2).shuffle(perm)\n"
    "class S:\n"
    "    __slots__ = ('a', 'b')\n"
    "def drop(v, order):\n"
    "    if order == 0:\n"
    "        while v: v.pop()\n"
    "    elif order == 1:\n"
    "        for i in range(N): v[i] = None\n"
    "    else:\n"
    "        for i in perm: v[i] = None\n"
    "def objs(tracked, order):\n"
    "    for r in range(R):\n"
    "        drop([S() for i in range(N)] if tracked else [bytes(15) for i in range(N)], order)\n"
    "    return R * N\n"
    "rows = [('lifo', lifo), ('fifo', fifo), ('random', rand), ('trees', trees)]\n"
    "for t, kind in enumerate(('obj', 'trk')):\n"
    "    for o, order in enumerate(('lifo', 'fifo', 'scat')):\n"
    "        rows.append(('%%s-%%s' %% (kind, order), lambda t=t, o=o: objs(t, o)))\n"
    "if sys.argv[1] == 'objects': rows = rows[4:]\n"
    "rss = payload = 0\n"
    "for name, fn in rows:\n"
    "    rss = payload = 0\n"
    "    t0 = time.thread_time_ns()\n"
    "    n = fn()\n"
    "    t = time.thread_time_ns() - t0\n"
    "    print('%%s %%.3f %%d %%d' %% (name, t / n, rss, payload), flush=True)\n";

/* CPython runs the same loops, timed inside python by its thread CPU time. */
static void run_python(cell out[NPAT], bool objects_only)
{
    char script[sizeof python_script + 256];
    snprintf(script, sizeof script, python_script, LIFO_ROUNDS, LIFO_N, LIFO_N, LIFO_ROUNDS, LIFO_N,
             FIFO_ROUNDS, FIFO_N, FIFO_N, FIFO_N, FIFO_ROUNDS, FIFO_N, SLOTS, RANDOM_STEPS, RANDOM_STEPS,
             TREE_DEPTH, OBJ_N, OBJ_ROUNDS);
    char *argv[] = {"/usr/bin/python3", "-c", script, objects_only ? "objects" : "all", NULL};
    int fd[2];
    if (access(argv[0], X_OK) || pipe(fd) < 0)
        return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    pid_t pid;
    int err = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    if (err) {
        close(fd[0]);
        return;
    }
    FILE *f = fdopen(fd[0], "r");
    char name[16];
    cell c = {0};
    while (fscanf(f, "%15s %lf %zu %zu", name, &c.ns, &c.rss, &c.payload) == 4)
        for (int p = 0; p < NPAT; p++)
            if (!strcmp(name, patterns[p])) {
                out[p] = c;
                out[p].ok = true;
            }
    fclose(f);
    waitpid(pid, NULL, 0);
}

static const char *jemalloc_path(void)
{
    static const char *const paths[] = {"/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
                                        "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2",
                                        "/usr/lib/libjemalloc.so.2"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        if (!access(paths[i], R_OK))
            return paths[i];
    return NULL;
}

/* RSS per payload byte of `random`, when it ran. */
static void print_rss_row(const cell *r)
{
    if (!r[0].ok)
        return;
    printf("%-8s", "rss/B");
    for (int a = 0; a <= NALLOC; a++)
        r[a].ok && r[a].payload ? printf(" %9.2f", (double)r[a].rss / (double)r[a].payload) : printf(" %9s", "n/a");
    printf("  |");
    for (int a = 1; a <= NALLOC; a++)
        r[a].ok && r[0].ok && r[a].payload && r[0].rss
            ? printf(" %11.2fx", ((double)r[a].rss / (double)r[a].payload) / ((double)r[0].rss / (double)r[0].payload))
            : printf(" %12s", "n/a");
    printf("\n");
}

static void print_table(cell c[NPAT][NALLOC + 1])
{
    static const char *const cols[] = {"recycle", "glibc", "mimalloc", "jemalloc", "boehm", "cpython"};
    printf("\nns per alloc+free pair (trees: per node); ratio = anchor time / recycle time\n\n");
    printf("%-8s", "pattern");
    for (int a = 0; a <= NALLOC; a++)
        printf(" %9s", cols[a]);
    printf("  |");
    for (int a = 1; a <= NALLOC; a++)
        printf(" %8.8s/rc", cols[a]);
    printf("\n");
    for (int p = 0; p < NPAT; p++) {
        if (!c[p][0].ok)
            continue;                     /* not run (--objects), or failed and reported */
        printf("%-8s", patterns[p]);
        for (int a = 0; a <= NALLOC; a++)
            c[p][a].ok ? printf(" %9.2f", c[p][a].ns) : printf(" %9s", "n/a");
        printf("  |");
        for (int a = 1; a <= NALLOC; a++)
            c[p][a].ok && c[p][0].ok ? printf(" %11.2fx", c[p][a].ns / c[p][0].ns) : printf(" %12s", "n/a");
        printf("\n");
    }
    print_rss_row(c[2]);
    printf("\nobjtrees: the trees built from rc_new objects (reference counted, tracked by the\n"
           "collector, freed by rc_decref of the root); boehm and cpython as in trees.\n"
           "obj-*, trk-*: rc_new + rc_decref of a 32-byte body (trk: a type with traverse, collector\n"
           "at its defaults) against malloc(48) + free, GC_MALLOC(48), and CPython's 48-byte objects\n"
           "(bytes(15); trk: a two-slot instance); batches of %d freed newest first, oldest first,\n"
           "or scattered.\n"
           "rss/B: resident growth per live payload byte at the end of `random` "
           "(%d live blocks of 16..512 B).\nBest of %d runs per cell.\n", OBJ_N, SLOTS, REPS);
}

int main(int argc, char **argv)
{
    uint64_t x = 0x2545F4914F6CDD1Dull;
    for (int i = 0; i < NSIZES; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        sizes[i] = (uint16_t)(16 + x % 497);
    }
    make_scattered();
    if (argc == 4 && !strcmp(argv[1], "--cell"))
        return cell_main(argv[2], atoi(argv[3]));
    if (argc == 2 && !strcmp(argv[1], "--core"))
        return core_main();
    bool objects_only = argc == 2 && !strcmp(argv[1], "--objects");
    if (argc > 1 && !objects_only) {
        fprintf(stderr, "usage: %s [--objects | --core]   (--objects: only the obj-* and trk-* rows; "
                        "--core: obj-lifo in slices, recycle and mimalloc in turn)\n", argv[0]);
        return 2;
    }

    static cell c[NPAT][NALLOC + 1];
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        die("cannot find /proc/self/exe");
    self[len] = '\0';
    const char *je = jemalloc_path();
    char preload[4200];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", je ? je : "");
    char **plain_env = env_with(NULL), **je_env = env_with(preload);
    /* Each cell runs REPS times, allocators interleaved so that load from
     * elsewhere on the machine falls on all of them; the fastest run counts. */
    for (int rep = 0; rep < REPS; rep++)
        for (int p = objects_only ? OBJ_FIRST : 0; p < NPAT; p++)
            for (int a = 0; a < NALLOC; a++) {
                if ((a == 3 && !je) || (p == OBJTREES && a != 0))
                    continue;            /* objtrees: recycle objects; anchors come from trees */
                char pat[8];
                snprintf(pat, sizeof pat, "%d", p);
                char *args[] = {self, "--cell", (char *)allocators[a], pat, NULL};
                cell r;
                if (!run_child(args, a == 3 ? je_env : plain_env, &r))
                    fprintf(stderr, "bench/alloc: %s/%s failed\n", allocators[a], patterns[p]);
                else if (!c[p][a].ok || r.ns < c[p][a].ns)
                    c[p][a] = r;
            }
    c[OBJTREES][4] = c[3][4];
    cell py[NPAT] = {{0}};
    run_python(py, objects_only);
    for (int p = 0; p < NPAT; p++)
        c[p][NALLOC] = py[p == OBJTREES ? 3 : p];
    print_table(c);
    free(plain_env);
    free(je_env);
    return 0;
}
