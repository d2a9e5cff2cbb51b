/* bench/gc: full-collection cost per live and per garbage object, and gen-0
 * collection cost under a large old generation, for recycle, CPython
 * (bench/anchors/gc.py under /usr/bin/python3) and Boehm GC, in one run.
 *
 * Shapes: rings of 10 nodes with one pointer each (one external reference
 * per ring), and a random graph with 3 out-edges per node (an external
 * reference to every 10th node); the same rows again in CPU time.  Then
 * seed 001's experiment 5 (examples/manual_collect.c): two dead
 * self-referencing lists, each holding a list of 5,000,000 ints, found and
 * freed by one collection.
 *
 * Then the largest size's live full collection on two worker threads
 * against one (rc_config.gc_workers), wall-clock and CPU time of the
 * process, and their ratios.
 *
 *   bench/gc [N...]     default sizes 1e5 1e6 1e7; RC_BENCH_QUICK=1: 1e5 1e6,
 *                       and lists of 1e6 ints in the seed experiment
 *   bench/gc --workers [N]   only the last table, for N objects (default 1e7)
 *   bench/gc --workers N SHAPE TYPES W   one side of one of its rows (rings or
 *                       random, rc-fn, rc-refs or rc-words, W workers): a run short
 *                       enough for callgrind
 *   bench/gc --seed [N]      only the seed experiment, lists of N ints (default 5e6)
 *   bench/gc --row N SHAPE TYPES   recycle's side of one row of the first table (live
 *                       and garbage, default workers): a run short enough for callgrind
 */
#include "args.h"
#include "measure.h"

#include <recycle.h>

#include <gc/gc.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct bnode {
    struct bnode *a, *b, *c;
} bnode;

static int bnode_traverse(void *self, rc_visit visit, void *arg)
{
    bnode *n = self;
    int rv = 0;
    if (n->a && (rv = visit(n->a, arg)))
        return rv;
    if (n->b && (rv = visit(n->b, arg)))
        return rv;
    if (n->c && (rv = visit(n->c, arg)))
        return rv;
    return 0;
}

static void bnode_clear(void *self)
{
    bnode *n = self;
    bnode *a = n->a, *b = n->b, *c = n->c;
    n->a = n->b = n->c = NULL;
    if (a)
        rc_decref(a);
    if (b)
        rc_decref(b);
    if (c)
        rc_decref(c);
}

typedef struct ring {
    struct ring *a;
} ring;

static int ring_traverse(void *self, rc_visit visit, void *arg)
{
    ring *r = self;
    return r->a ? visit(r->a, arg) : 0;
}

static void ring_clear(void *self)
{
    ring *r = self;
    ring *a = r->a;
    r->a = NULL;
    if (a)
        rc_decref(a);
}

/* One pointer for rings, three for the random graph: bodies sized to fit.
 * Each shape three times: with traverse/clear functions (any C type); as
 * RC_TYPE_REFS bodies the collector walks inline (the built-in fast path);
 * and with the same functions and the reference fields declared
 * (rc_type.ref_words), which the collector reads instead of calling
 * traverse. */
enum { TYPES_FN, TYPES_REFS, TYPES_WORDS };
static const rc_type ring_types[3] = {
    {"ring", sizeof(ring), ring_traverse, ring_clear, NULL, NULL, 0, NULL, 0},
    {"ring", sizeof(ring), NULL, NULL, NULL, NULL, RC_TYPE_REFS, NULL, 0},
    {"ring", sizeof(ring), ring_traverse, ring_clear, NULL, NULL, 0, NULL, RC_REF_WORD(ring, a)},
};
static const rc_type graph_types[3] = {
    {"graph", sizeof(bnode), bnode_traverse, bnode_clear, NULL, NULL, 0, NULL, 0},
    {"graph", sizeof(bnode), NULL, NULL, NULL, NULL, RC_TYPE_REFS, NULL, 0},
    {"graph", sizeof(bnode), bnode_traverse, bnode_clear, NULL, NULL, 0, NULL,
     RC_REF_WORD(bnode, a) | RC_REF_WORD(bnode, b) | RC_REF_WORD(bnode, c)},
};
static int types = TYPES_FN;

static uint64_t now_ns(void) { return bench_clock_ns(CLOCK_MONOTONIC); }

static uint64_t rng = 42;
static size_t rnd(size_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (size_t)(rng % n);
}

/* ---- recycle ----------------------------------------------------------------- */

/* Builds the shape; returns the array of external references. */
static void **rc_build(rc_heap *h, const char *shape, size_t n, size_t *nroots)
{
    size_t nr = n / 10;
    void **roots = malloc(nr * sizeof *roots);
    if (!strcmp(shape, "rings")) {
        for (size_t r = 0; r < nr; r++) {
            const rc_type *t = &ring_types[types];
            ring *first = rc_new(h, t), *prev = first;
            for (int i = 0; i < 9; i++) {
                ring *x = rc_new(h, t);
                prev->a = x;          /* the new reference moves into prev */
                prev = x;
            }
            prev->a = first;          /* first: one reference from the ring, one ours */
            rc_incref(first);
            roots[r] = first;
        }
    } else {
        bnode **all = malloc(n * sizeof *all);
        for (size_t i = 0; i < n; i++)
            all[i] = rc_new(h, &graph_types[types]);
        for (size_t i = 0; i < n; i++) {
            bnode *x = all[i];
            x->a = all[rnd(n)];
            x->b = all[rnd(n)];
            x->c = all[rnd(n)];
            rc_incref(x->a);
            rc_incref(x->b);
            rc_incref(x->c);
        }
        for (size_t r = 0; r < nr; r++)
            roots[r] = all[r * 10];
        for (size_t i = 0; i < n; i++)
            if (i % 10)
                rc_decref(all[i]);
        free(all);
    }
    *nroots = nr;
    return roots;
}

static double rc_timed_collect(rc_heap *h, int gen)
{
    uint64_t t0 = now_ns();
    rc_gc_collect(h, gen);
    return (double)(now_ns() - t0);
}

/* A live collection leaves the heap as it found it, so each side times
 * it LIVE_REPEATS times and keeps the best (bench/anchors/gc.py too); a
 * garbage collection is timed once. */
#define LIVE_REPEATS 5

/* ns per object, wall clock and (cpu) the process's CPU time: every
 * worker's, and after a garbage collection the unmapper's thread's until
 * rc_heap_trim has waited for it to give back what the collection freed
 * (CPython unmaps inside gc.collect). */
typedef struct result {
    double live, garbage;
    double live_cpu, garbage_cpu;
} result;

static double cpu_now(void) { return (double)bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID); }

static result rc_measure(const char *shape, size_t n, int kind)
{
    types = kind;
    rc_heap *h = rc_heap_new(NULL);
    rc_gc_disable(h);
    size_t nr;
    void **roots = rc_build(h, shape, n, &nr);
    rc_gc_collect(h, 2);
    result r;
    r.live = r.live_cpu = 1e30;
    for (int i = 0; i < LIVE_REPEATS; i++) {
        double c0 = cpu_now();
        double t = rc_timed_collect(h, 2) / (double)n, c = (cpu_now() - c0) / (double)n;
        r.live = t < r.live ? t : r.live;
        r.live_cpu = c < r.live_cpu ? c : r.live_cpu;
    }
    for (size_t i = 0; i < nr; i++)
        rc_decref(roots[i]);
    double c0 = cpu_now();
    r.garbage = rc_timed_collect(h, 2) / (double)n;
    rc_heap_trim(h);
    r.garbage_cpu = (cpu_now() - c0) / (double)n;
    free(roots);
    rc_heap_free(h);
    return r;
}

static double rc_gen0(size_t n_old)
{
    rc_heap *h = rc_heap_new(NULL);
    rc_gc_disable(h);
    size_t nr;
    void **roots = rc_build(h, "rings", n_old, &nr);
    rc_gc_collect(h, 2);
    double best = 1e30;
    void *young[700];
    for (int t = 0; t < 5; t++) {
        for (int i = 0; i < 700; i++)
            young[i] = rc_new(h, &ring_types[TYPES_FN]);
        double d = rc_timed_collect(h, 0);
        best = d < best ? d : best;
        for (int i = 0; i < 700; i++)
            rc_decref(young[i]);
    }
    for (size_t i = 0; i < nr; i++)
        rc_decref(roots[i]);
    free(roots);
    rc_heap_free(h);
    return best;
}

/* Seed 001's experiment: holder = [ints]; holder.append(holder), twice,
 * both dropped, then one collection.  Ints as the seed draws them, below
 * 10^6 (those up to 256 are the heap's immortal small ints, as CPython's).
 * Each side runs it SEED_REPEATS times and the medians are printed. */
#define SEED_REPEATS 3

typedef struct seed_result {
    double wall_ms;      /* the collection, wall clock */
    double cpu_ms;       /* the collection's thread, CPU time */
    double other_ms;     /* CPU time of the heap's other threads (the unmapper) until the memory is back */
    double rss_mib;      /* above the level before the lists were made, right after the collection */
    double fall_ms;      /* from the collection's end until RSS is within 16 MiB of that level */
    double make_ms;      /* making the lists, CPU time (first touch of their memory included) */
} seed_result;

static void *rc_seed_holder(rc_heap *h, size_t n)
{
    void *ints = rc_list_new(h, 0);
    for (size_t i = 0; i < n; i++) {
        void *item = rc_int_from(h, (int64_t)rnd(1000000));
        rc_list_append(ints, item);
        rc_decref(item);
    }
    void *holder = rc_list_new(h, 2);
    rc_list_append(holder, ints);
    rc_list_append(holder, holder);
    rc_decref(ints);
    return holder;
}

/* Milliseconds from t0 until RSS is within 16 MiB of rss0 (-1: not in 2 s). */
static double rss_fall_ms(size_t rss0, uint64_t t0)
{
    struct timespec tick = {0, 200000};
    while (now_ns() - t0 < 2000000000u) {
        if (bench_rss_bytes() <= rss0 + ((size_t)16 << 20))
            return (double)(now_ns() - t0) / 1e6;
        nanosleep(&tick, NULL);
    }
    return -1;
}

/* The user pays for the unmapper's thread too: its CPU time is the
 * process's less this thread's, from the collection's start until
 * rc_heap_trim has waited for the unmapper to finish. */
static seed_result rc_seed_once(size_t n, bool huge)
{
    size_t rss0 = bench_rss_bytes();
    rc_config cfg;
    rc_config_default(&cfg);
    cfg.arena_huge = huge;
    rc_heap *h = rc_heap_new(&cfg);
    uint64_t m0 = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID);
    for (int k = 0; k < 2; k++)
        rc_decref(rc_seed_holder(h, n));
    double make_ms = (double)(bench_clock_ns(CLOCK_THREAD_CPUTIME_ID) - m0) / 1e6;
    uint64_t p0 = bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID), c0 = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID), w0 = now_ns();
    rc_gc_collect(h, 2);
    uint64_t w1 = now_ns(), c1 = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID);
    seed_result r = {(double)(w1 - w0) / 1e6, (double)(c1 - c0) / 1e6, 0,
                     ((double)bench_rss_bytes() - (double)rss0) / 1048576.0, rss_fall_ms(rss0, w1), make_ms};
    rc_heap_trim(h);
    uint64_t c2 = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID), p2 = bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    r.other_ms = ((double)(p2 - p0) - (double)(c2 - c0)) / 1e6;
    rc_heap_free(h);
    return r;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n ? v[n / 2] : 0;
}

static seed_result rc_seed(size_t n, bool huge)
{
    double v[6][SEED_REPEATS];
    for (int i = 0; i < SEED_REPEATS; i++) {
        seed_result r = rc_seed_once(n, huge);
        v[0][i] = r.wall_ms, v[1][i] = r.cpu_ms, v[2][i] = r.other_ms, v[3][i] = r.rss_mib, v[4][i] = r.fall_ms;
        v[5][i] = r.make_ms;
    }
    return (seed_result){median(v[0], SEED_REPEATS), median(v[1], SEED_REPEATS), median(v[2], SEED_REPEATS),
                         median(v[3], SEED_REPEATS), median(v[4], SEED_REPEATS), median(v[5], SEED_REPEATS)};
}

/* The live full collection of n objects on `workers` threads: the best
 * of LIVE_REPEATS, ns per object, of the wall clock and of the process's
 * CPU time (every thread's). */
typedef struct timing {
    double wall, cpu;
} timing;

static timing rc_live_on(const char *shape, size_t n, unsigned workers)
{
    rc_config cfg;
    rc_config_default(&cfg);
    cfg.gc_enabled = false;
    cfg.gc_workers = workers;
    rc_heap *h = rc_heap_new(&cfg);
    size_t nr;
    void **roots = rc_build(h, shape, n, &nr);
    rc_gc_collect(h, 2);
    timing best = {1e30, 1e30};
    for (int i = 0; i < LIVE_REPEATS; i++) {
        uint64_t w0 = now_ns(), c0 = bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
        rc_gc_collect(h, 2);
        double wall = (double)(now_ns() - w0) / (double)n;
        double cpu = (double)(bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c0) / (double)n;
        best.wall = wall < best.wall ? wall : best.wall;
        best.cpu = cpu < best.cpu ? cpu : best.cpu;
    }
    for (size_t i = 0; i < nr; i++)
        rc_decref(roots[i]);
    free(roots);
    rc_heap_free(h);
    return best;
}

static void workers_rows(size_t n)
{
    printf("\nLive full collection of %zu objects on 2 worker threads against 1 (rc_config.gc_workers),\n"
           "ns per object, best of %d; CPU = the process's CPU time; speedup = 1 worker / 2 workers.\n",
           n, LIVE_REPEATS);
    printf("%-7s %-8s %9s %9s %9s %9s %9s %9s\n", "shape", "types", "1-wall", "1-cpu", "2-wall", "2-cpu",
           "speedup", "cpu-ratio");
    const char *shapes[] = {"rings", "random"};
    for (int s = 0; s < 2; s++)
        for (int refs = 0; refs < 2; refs++) {
            types = refs ? TYPES_REFS : TYPES_FN;
            timing one = rc_live_on(shapes[s], n, 1), two = rc_live_on(shapes[s], n, 2);
            printf("%-7s %-8s %9.2f %9.2f %9.2f %9.2f %8.2fx %8.2fx\n", shapes[s], refs ? "rc-refs" : "rc-fn",
                   one.wall, one.cpu, two.wall, two.cpu, one.wall / two.wall, two.cpu / one.cpu);
            fflush(stdout);
        }
}

/* ---- Boehm GC ---------------------------------------------------------------- */

/* Keeps the root array visible to Boehm's conservative scan: without it the
 * compiler may drop the array's last use and the "live" heap is swept. */
static void *volatile boehm_keep;

static result boehm_measure(const char *shape, size_t n)
{
    size_t nr = n / 10;
    void **roots = GC_MALLOC(nr * sizeof *roots);
    if (!strcmp(shape, "rings")) {
        for (size_t r = 0; r < nr; r++) {
            ring *first = GC_MALLOC(sizeof(ring)), *prev = first;
            for (int i = 0; i < 9; i++) {
                ring *x = GC_MALLOC(sizeof(ring));
                prev->a = x;
                prev = x;
            }
            prev->a = first;
            roots[r] = first;
        }
    } else {
        bnode **all = GC_MALLOC(n * sizeof *all);
        for (size_t i = 0; i < n; i++)
            all[i] = GC_MALLOC(sizeof(bnode));
        for (size_t i = 0; i < n; i++) {
            all[i]->a = all[rnd(n)];
            all[i]->b = all[rnd(n)];
            all[i]->c = all[rnd(n)];
        }
        for (size_t r = 0; r < nr; r++)
            roots[r] = all[r * 10];
        all = NULL;
    }
    boehm_keep = roots;
    GC_gcollect();
    result r;
    r.live = 1e30;
    uint64_t t0;
    for (int i = 0; i < LIVE_REPEATS; i++) {
        t0 = now_ns();
        GC_gcollect();
        double t = (double)(now_ns() - t0) / (double)n;
        r.live = t < r.live ? t : r.live;
    }
    for (size_t i = 0; i < nr; i++)
        ((void *volatile *)roots)[i] = NULL;
    boehm_keep = NULL;
    t0 = now_ns();
    GC_gcollect();
    r.garbage = (double)(now_ns() - t0) / (double)n;
    return r;
}

/* The same lists in Boehm's heap: boxed ints as pointer-free blocks. */
static double boehm_seed_once(size_t n)
{
    for (int k = 0; k < 2; k++) {
        void **ints = GC_MALLOC(n * sizeof *ints);
        for (size_t i = 0; i < n; i++) {
            int64_t *v = GC_MALLOC_ATOMIC(sizeof *v);
            *v = (int64_t)rnd(1000000);
            ints[i] = v;
        }
        void **holder = GC_MALLOC(2 * sizeof *holder);
        holder[0] = ints;
        holder[1] = holder;
    }
    uint64_t t0 = now_ns();
    GC_gcollect();
    return (double)(now_ns() - t0) / 1e6;
}

static double boehm_seed(size_t n)
{
    double v[SEED_REPEATS];
    for (int i = 0; i < SEED_REPEATS; i++)
        v[i] = boehm_seed_once(n);
    return median(v, SEED_REPEATS);
}

/* ---- CPython ------------------------------------------------------------------ */

typedef struct py_row {
    char   shape[16], kind[16];
    size_t n;
    double value;
} py_row;

static size_t run_python(const size_t *sizes, int nsizes, size_t seed_n, py_row *rows, size_t cap)
{
    char cmd[512];
    int off = snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/bench/anchors/gc.py seed=%zu", RC_SOURCE_DIR, seed_n);
    for (int i = 0; i < nsizes; i++)
        off += snprintf(cmd + off, sizeof cmd - (size_t)off, " %zu", sizes[i]);
    FILE *p = popen(cmd, "r");
    if (!p)
        return 0;
    size_t n = 0;
    char line[256];
    while (n < cap && fgets(line, sizeof line, p)) {
        py_row *r = &rows[n];
        if (sscanf(line, "%15s %zu %15s %lf", r->shape, &r->n, r->kind, &r->value) == 4)
            n++;
    }
    pclose(p);
    return n;
}

static double py_lookup(const py_row *rows, size_t n, const char *shape, size_t size, const char *kind)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rows[i].shape, shape) && rows[i].n == size && !strcmp(rows[i].kind, kind))
            return rows[i].value;
    return 0;
}

/* The median of every row of that shape, size and kind (repeated measurements). */
static double py_median(const py_row *rows, size_t n, const char *shape, size_t size, const char *kind)
{
    double v[16];
    size_t k = 0;
    for (size_t i = 0; i < n && k < 16; i++)
        if (!strcmp(rows[i].shape, shape) && rows[i].n == size && !strcmp(rows[i].kind, kind))
            v[k++] = rows[i].value;
    return median(v, k);
}

static void print_ratio(double anchor, double ours)
{
    if (anchor > 0 && ours > 0)
        printf(" %9.1fx", anchor / ours);
    else
        printf(" %10s", "-");
}

/* A row of the full-collection table in CPU time (result.live_cpu,
 * garbage_cpu), and CPython's thread's (bench/anchors/gc.py). */
typedef struct cpu_row {
    const char *shape;
    size_t      n;
    const char *kind;        /* live-cpu, garbage-cpu: gc.py's names */
    double      rc[3];       /* TYPES_FN, TYPES_REFS, TYPES_WORDS */
} cpu_row;

static void cpu_rows(const cpu_row *rows, size_t n, const py_row *py, size_t npy)
{
    printf("\nThe same collections in CPU time, ns per object: recycle's process (every worker; after a\n"
           "garbage collection the unmapper's thread too, until rc_heap_trim returns), CPython's thread.\n"
           "On an idle machine the wall-clock ratio is at least the CPU ratio.\n");
    printf("%-7s %-9s %-12s %8s %8s %8s %8s %9s %9s %9s\n", "shape", "objects", "", "rc-fn", "rc-refs", "rc-words",
           "CPython", "CPy/fn", "CPy/refs", "CPy/words");
    for (size_t i = 0; i < n; i++) {
        const cpu_row *r = &rows[i];
        double cp = py_lookup(py, npy, r->shape, r->n, r->kind);
        printf("%-7s %-9zu %-12s %8.2f %8.2f %8.2f %8.2f", r->shape, r->n, r->kind, r->rc[0], r->rc[1], r->rc[2], cp);
        for (int t = TYPES_FN; t <= TYPES_WORDS; t++)
            print_ratio(cp, r->rc[t]);
        printf("\n");
    }
}

/* Sets `types` from argv[4] after checking the shape argv[3]; false,
 * with a message, when either is not one. */
static bool shape_and_types(char **argv, const char *usage)
{
    static const char *const kinds[3] = {"rc-fn", "rc-refs", "rc-words"};
    bool shape_ok = !strcmp(argv[3], "rings") || !strcmp(argv[3], "random");
    types = 0;
    while (types < 3 && strcmp(argv[4], kinds[types]))
        types++;
    if (shape_ok && types < 3)
        return true;
    fprintf(stderr, "bench/gc: '%s %s' is not a shape and types; usage: %s\n", argv[3], argv[4], usage);
    return false;
}

/* bench/gc --row N SHAPE TYPES */
static int row_one(char **argv)
{
    const char *usage = "bench/gc --row N rings|random rc-fn|rc-refs|rc-words";
    size_t n = bench_count_arg("bench/gc", argv[2], 10, 100000000, usage);
    if (!shape_and_types(argv, usage))
        return 2;
    result r = rc_measure(argv[3], n, types);
    printf("%s %s, %zu objects: live %.2f ns wall, %.2f ns CPU; garbage %.2f ns wall, %.2f ns CPU per object\n",
           argv[3], argv[4], n, r.live, r.live_cpu, r.garbage, r.garbage_cpu);
    return 0;
}

/* bench/gc --workers N SHAPE TYPES W */
static int workers_one(char **argv)
{
    const char *usage = "bench/gc --workers N rings|random rc-fn|rc-refs|rc-words W";
    size_t n = bench_count_arg("bench/gc", argv[2], 10, 100000000, usage);
    char *end;
    unsigned long w = strtoul(argv[5], &end, 10);
    if (!shape_and_types(argv, usage))
        return 2;
    if (*end || w < 1 || w > RC_GC_WORKERS_MAX) {
        fprintf(stderr, "bench/gc: '%s' is not a number of workers (1 to %d); usage: %s\n", argv[5],
                RC_GC_WORKERS_MAX, usage);
        return 2;
    }
    timing t = rc_live_on(argv[3], n, (unsigned)w);
    printf("%s %s, %zu objects, %lu workers: %.2f ns wall, %.2f ns CPU per object\n", argv[3], argv[4], n, w,
           t.wall, t.cpu);
    return 0;
}

/* Seed 001's experiment on each side, SEED_REPEATS times, medians.  CPU
 * time counts every thread that works for the collection: CPython unmaps
 * inside gc.collect(), recycle on its unmapper's thread. */
static void print_rc_seed(const char *name, seed_result r)
{
    printf("%-10s %10.2f %10.2f %10.2f %10.1f %10.1f %10.1f\n", name, r.wall_ms, r.cpu_ms + r.other_ms, r.other_ms,
           r.rss_mib, r.fall_ms, r.make_ms);
}

static void print_seed_ratios(const char *name, double cp_wall, double cp_cpu, seed_result r)
{
    printf("%-10s", name);
    print_ratio(cp_wall, r.wall_ms);
    print_ratio(cp_cpu, r.cpu_ms + r.other_ms);
    printf("\n");
}

static void seed_rows(const py_row *py, size_t npy, size_t seed_n)
{
    printf("\nSeed 001, experiment 5: one collection frees two self-referencing lists of %zu ints each.\n"
           "Milliseconds, median of %d runs of each; cpu = the collecting thread's CPU time + other-cpu, the\n"
           "CPU time of recycle's unmapper thread until the memory is back (CPython unmaps inside the call);\n"
           "RSS: MiB above the start right after the collection, and ms until within 16 MiB of it; make:\n"
           "CPU time making the lists.  rc-huge: recycle with arena_huge (RECYCLE_ARENA_HUGE=1).\n",
           seed_n, SEED_REPEATS);
    printf("%-10s %10s %10s %10s %10s %10s %10s\n", "", "wall", "cpu", "other-cpu", "RSS", "RSS-ms", "make");
    seed_result ours = rc_seed(seed_n, false), huge = rc_seed(seed_n, true);
    print_rc_seed("recycle", ours);
    print_rc_seed("rc-huge", huge);
    double cp_wall = py_median(py, npy, "seed", seed_n, "collect") / 1e6;
    double cp_cpu = py_median(py, npy, "seed", seed_n, "cpu") / 1e6;
    double cp_rss = py_median(py, npy, "seed", seed_n, "rss");
    printf("%-10s %10.2f %10.2f %10s %10.1f\n", "CPython", cp_wall, cp_cpu, "-", cp_rss);
    double boehm = boehm_seed(seed_n);
    printf("%-10s %10.2f %10s\n", "Boehm", boehm, "-");
    print_seed_ratios("CPy/rc", cp_wall, cp_cpu, ours);
    print_seed_ratios("CPy/huge", cp_wall, cp_cpu, huge);
    printf("%-10s", "Boehm/rc");
    print_ratio(boehm, ours.wall_ms);
    printf("\n");
}

int main(int argc, char **argv)
{
    if (argc == 6 && !strcmp(argv[1], "--workers"))
        return workers_one(argv);
    if (argc == 5 && !strcmp(argv[1], "--row"))
        return row_one(argv);
    if (argc > 1 && !strcmp(argv[1], "--seed")) {
        size_t n = argc > 2 ? bench_count_arg("bench/gc", argv[2], 10, 100000000, "bench/gc --seed [N]") : 5000000;
        py_row py[16];
        size_t npy = run_python(NULL, 0, n, py, 16);
        seed_rows(py, npy, n);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "--workers")) {
        workers_rows(argc > 2 ? bench_count_arg("bench/gc", argv[2], 10, 100000000, "bench/gc --workers [N]")
                              : 10000000);
        return 0;
    }
    size_t sizes[8] = {100000, 1000000, 10000000};
    int nsizes = getenv("RC_BENCH_QUICK") ? 2 : 3;
    if (argc > 9) {
        fprintf(stderr, "bench/gc: at most 8 sizes\n");
        return 2;
    }
    if (argc > 1) {
        nsizes = 0;
        for (int i = 1; i < argc; i++)
            sizes[nsizes++] = bench_count_arg("bench/gc", argv[i], 10, 100000000, "bench/gc [N...] (default 1e5 1e6 1e7)");
    }
    GC_INIT();
    py_row py[128];
    size_t seed_n = getenv("RC_BENCH_QUICK") ? 1000000 : 5000000;
    size_t npy = run_python(sizes, nsizes, seed_n, py, 128);
    if (npy == 0)
        printf("(CPython anchor unavailable: /usr/bin/python3 failed)\n");

    printf("Full collection, ns per object (lower is better); ratios = anchor / recycle.\n"
           "rc-fn: types with traverse/clear functions; rc-refs: RC_TYPE_REFS bodies; rc-words: the\n"
           "rc-fn types declaring their reference fields (rc_type.ref_words).\n");
    printf("%-7s %-9s %-8s %8s %8s %8s %8s %8s %9s %9s %9s %9s\n", "shape", "objects", "", "rc-fn", "rc-refs",
           "rc-words", "CPython", "Boehm", "CPy/fn", "CPy/refs", "CPy/words", "Boehm/refs");
    const char *shapes[] = {"rings", "random"};
    cpu_row cpu[32];
    size_t ncpu = 0;
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < nsizes; i++) {
            result rc[3];
            for (int t = TYPES_FN; t <= TYPES_WORDS; t++)
                rc[t] = rc_measure(shapes[s], sizes[i], t);
            result boehm = boehm_measure(shapes[s], sizes[i]);
            const char *kinds[2] = {"live", "garbage"};
            for (int k = 0; k < 2; k++) {
                double v[3];
                cpu_row *c = &cpu[ncpu++];
                *c = (cpu_row){shapes[s], sizes[i], k ? "garbage-cpu" : "live-cpu", {0}};
                for (int t = TYPES_FN; t <= TYPES_WORDS; t++) {
                    v[t] = k ? rc[t].garbage : rc[t].live;
                    c->rc[t] = k ? rc[t].garbage_cpu : rc[t].live_cpu;
                }
                double b = k ? boehm.garbage : boehm.live;
                double cp = py_lookup(py, npy, shapes[s], sizes[i], kinds[k]);
                printf("%-7s %-9zu %-8s %8.2f %8.2f %8.2f %8.2f %8.2f", shapes[s], sizes[i], kinds[k], v[0], v[1],
                       v[2], cp, b);
                for (int t = TYPES_FN; t <= TYPES_WORDS; t++)
                    print_ratio(cp, v[t]);
                print_ratio(b, v[TYPES_REFS]);
                printf("\n");
            }
            fflush(stdout);
        }
    cpu_rows(cpu, ncpu, py, npy);

    printf("\nGen-0 collection of 700 young objects, microseconds, by old-generation size\n");
    printf("%-10s %10s %10s %10s\n", "old", "recycle", "CPython", "vsCPython");
    types = TYPES_FN;
    for (int i = 0; i < nsizes; i++) {
        double ours = rc_gen0(sizes[i]);
        double cp = py_lookup(py, npy, "gen0", sizes[i], "gen0");
        printf("%-10zu %10.1f %10.1f", sizes[i], ours / 1e3, cp / 1e3);
        print_ratio(cp, ours);
        printf("\n");
    }

    seed_rows(py, npy, seed_n);
    workers_rows(sizes[nsizes - 1]);
    return 0;
}
