/* bench/threads: threaded heaps (rc_config.threads) against plain ones and
 * against Boehm GC with GC_THREADS, all measured in this run.
 *
 * Rows, each a ratio of two runs of the same work:
 *   incref+decref, alloc+free   a threaded heap used by its one thread
 *                               against a plain heap (goal: at most 1.3x);
 *                               incref+decref also with a second thread
 *                               attached and asleep (the counts atomic)
 *   2 threads, disjoint data    two attached threads each on objects of
 *                               their own, against one thread doing both
 *                               shares (throughput; goal: at least 1.7x
 *                               on 2 cores); CPU time is printed beside
 *                               the wall time, the machine being shared
 *   2 threads, one object       both threads incref and decref one object
 *   2 threads, containers       list append+len, dict lookups: two threads
 *                               on a container each against one thread
 *                               doing both shares (goal: at least 1.7x),
 *                               and two threads on one container (report)
 *   stop the world              a young collection while 8 attached
 *                               threads count references and pass safe
 *                               points; the median of the runs against
 *                               the same collection with no other thread
 *   Boehm GC                    the two-thread allocation row with
 *                               GC_MALLOC and GC_THREADS beside ours
 * usage: threads [scale]  (scale 1..100, default 10: the work per row)
 */
#define GC_THREADS
#include <gc.h>

#include <recycle.h>

#include "args.h"
#include "pair.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static size_t scale = 10;

typedef struct span { double wall, cpu; } span;

static double now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static span span_begin(void) { return (span){now(CLOCK_MONOTONIC), now(CLOCK_PROCESS_CPUTIME_ID)}; }

static span span_end(span s)
{
    return (span){now(CLOCK_MONOTONIC) - s.wall, now(CLOCK_PROCESS_CPUTIME_ID) - s.cpu};
}

static rc_heap *heap_new(bool threads)
{
    rc_config cfg;
    rc_config_default(&cfg);
    cfg.threads = threads;
    rc_heap *h = rc_heap_new(&cfg);
    if (!h) {
        fprintf(stderr, "threads: cannot make a heap\n");
        exit(1);
    }
    return h;
}

/* ---- the work ------------------------------------------------------------------ */

static void refcount_work(void *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rc_incref(o);
        rc_decref(o);
    }
}

/* A small tree per step, dropped at once: allocation, linking, deaths. */
static void alloc_work(rc_heap *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        pair *p = rc_new(h, &pair_type);
        p->a = rc_new(h, &leaf_type);
        p->b = rc_new(h, &leaf_type);
        rc_decref(p);
    }
}

/* An append and a len per step, the list cleared past 64 items
 * (bench/plain_ops' workload 3). */
static void append_work(void *list, void *item, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rc_list_append(list, item);
        if (rc_list_len(list) > 64)
            rc_list_clear(list);
    }
}

enum { NKEYS = 64 };

/* A lookup per step, of NKEYS int keys in turn. */
static void lookup_work(void *dict, void *keys, size_t n)
{
    void **k = keys;
    for (size_t i = 0; i < n; i++)
        if (!rc_dict_get(dict, k[i % NKEYS]))
            abort();
}

typedef struct job {
    rc_heap *h;
    void *obj;               /* refcount jobs: the object; NULL: allocation */
    size_t n;
    atomic_bool *stop;       /* busy jobs: run until set */
    void *box;               /* container jobs: the container, obj the item or keys */
    void (*box_work)(void *box, void *obj, size_t n);
} job;

static void run_job(job *j)
{
    if (j->box)
        j->box_work(j->box, j->obj, j->n);
    else if (j->obj)
        refcount_work(j->obj, j->n);
    else
        alloc_work(j->h, j->n);
}

static void *job_main(void *arg)
{
    job *j = arg;
    rc_thread_attach(j->h);
    run_job(j);
    rc_thread_detach(j->h);
    return NULL;
}

/* Runs jobs[0..n) on n threads (the caller detached while it waits). */
static span run_threads(rc_heap *h, job *jobs, int n)
{
    pthread_t t[8];
    rc_thread_detach(h);
    span s = span_begin();
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, job_main, &jobs[i]);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    s = span_end(s);
    rc_thread_attach(h);
    return s;
}

/* ---- rows ---------------------------------------------------------------------------- */

/* A second thread attached beside the counting one, asleep: every count
 * of the heap turns atomic, which is what the one thread pays while it
 * does not count alone. */
typedef struct idler {
    rc_heap *h;
    atomic_bool ready, stop;
    pthread_t thread;
} idler;

static void *idler_main(void *arg)
{
    idler *d = arg;
    rc_thread_attach(d->h);
    atomic_store(&d->ready, true);
    while (!atomic_load(&d->stop))
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    rc_thread_detach(d->h);
    return NULL;
}

static void idler_start(idler *d)
{
    pthread_create(&d->thread, NULL, idler_main, d);
    while (!atomic_load(&d->ready))
        rc_safepoint(d->h);     /* its attach waits for the lone thread's safe point */
}

static void idler_stop(idler *d)
{
    atomic_store(&d->stop, true);
    pthread_join(d->thread, NULL);
}

static double time_refcount(bool threads, bool beside, size_t n)
{
    idler d = {.h = heap_new(threads)};
    if (beside)
        idler_start(&d);
    void *o = rc_new(d.h, &leaf_type);
    span s = span_begin();
    refcount_work(o, n);
    s = span_end(s);
    if (beside)
        idler_stop(&d);
    rc_decref(o);
    rc_heap_free(d.h);
    return s.cpu;
}

static double time_alloc(bool threads, size_t n)
{
    rc_heap *h = heap_new(threads);
    span s = span_begin();
    alloc_work(h, n);
    s = span_end(s);
    rc_heap_free(h);
    return s.cpu;
}

static void row(const char *what, double plain, double threaded, const char *goal)
{
    printf("%-34s %9.1f %9.1f %8.2fx  %s\n", what, plain * 1e3, threaded * 1e3, threaded / plain, goal);
}

static void one_thread_rows(void)
{
    size_t n = scale * 2000000;
    printf("%-34s %9s %9s %9s\n", "one thread (CPU ms)", "plain", "threaded", "ratio");
    double plain = time_refcount(false, false, n);
    row("incref+decref", plain, time_refcount(true, false, n), "goal <= 1.3x");
    row("incref+decref, 2nd thread attached", plain, time_refcount(true, true, n), "atomic counts");
    row("alloc 3 objects + free", time_alloc(false, n / 10), time_alloc(true, n / 10), "goal <= 1.3x");
}

/* The process's voluntary context switches so far: each is a thread that
 * slept, as one waiting for a lock another thread holds does. */
static long sleeps(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_nvcsw;
}

/* Two threads on jobs a and b against one thread doing both in turn.  On
 * a loaded machine the wall clock is the load's: the CPU times and the
 * sleeps of the two threads (beside the two the run itself costs) say
 * what two idle cores would do. */
static void two_thread_row(const char *what, rc_heap *h, job a, job b, const char *goal)
{
    span one = span_begin();
    run_job(&a);
    run_job(&b);
    one = span_end(one);
    job jobs[2] = {a, b};
    long slept = sleeps();
    span two = run_threads(h, jobs, 2);
    slept = sleeps() - slept;
    printf("%-34s %9.1f %9.1f %8.2fx  cpu %.1f / %.1f ms, %ld sleeps  %s\n", what, one.wall * 1e3, two.wall * 1e3,
           one.wall / two.wall, one.cpu * 1e3, two.cpu * 1e3, slept, goal);
}

static void two_thread_rows(void)
{
    size_t n = scale * 2000000;
    printf("\n%-34s %9s %9s %9s\n", "two threads (wall ms)", "1 thread", "2 threads", "speedup");
    rc_heap *h = heap_new(true);
    /* y is of another size class, so in another pool: the two threads'
     * counts do not share a cache line, as data two threads made each for
     * itself would not. */
    void *x = rc_new(h, &leaf_type), *y = rc_new_var(h, &leaf_type, 64);
    two_thread_row("incref+decref, disjoint objects", h, (job){h, x, n, NULL, NULL, NULL}, (job){h, y, n, NULL, NULL, NULL},
                   "goal >= 1.7x");
    two_thread_row("alloc 3 objects + free, disjoint", h, (job){h, NULL, n / 10, NULL, NULL, NULL},
                   (job){h, NULL, n / 10, NULL, NULL, NULL}, "goal >= 1.7x");
    two_thread_row("incref+decref, one shared object", h, (job){h, x, n / 4, NULL, NULL, NULL}, (job){h, x, n / 4, NULL, NULL, NULL},
                   "report");
    rc_decref(x);
    rc_decref(y);
    rc_heap_free(h);
}

/* A dict of NKEYS int keys, made of keys[]. */
static void *dict_of(rc_heap *h, void **keys)
{
    void *d = rc_dict_new(h);
    for (int i = 0; i < NKEYS; i++) {
        keys[i] = rc_int_from(h, i);
        rc_dict_set(d, keys[i], keys[i]);
    }
    return d;
}

static void container_rows(void)
{
    size_t n = scale * 500000;
    rc_heap *h = heap_new(true);
    void *x = rc_new(h, &leaf_type), *y = rc_new_var(h, &leaf_type, 64);
    void *lx = rc_list_new(h, 0), *ly = rc_list_new(h, 0);
    two_thread_row("list append+len, a list each", h, (job){h, x, n, .box = lx, .box_work = append_work},
                   (job){h, y, n, .box = ly, .box_work = append_work}, "goal >= 1.7x");
    two_thread_row("list append+len, one list", h, (job){h, x, n / 2, .box = lx, .box_work = append_work},
                   (job){h, y, n / 2, .box = lx, .box_work = append_work}, "report");
    void *kx[NKEYS], *ky[NKEYS];
    void *dx = dict_of(h, kx), *dy = dict_of(h, ky);
    two_thread_row("dict lookup, a dict each", h, (job){h, kx, n, .box = dx, .box_work = lookup_work},
                   (job){h, ky, n, .box = dy, .box_work = lookup_work}, "goal >= 1.7x");
    two_thread_row("dict lookup, one dict", h, (job){h, kx, n, .box = dx, .box_work = lookup_work},
                   (job){h, kx, n, .box = dx, .box_work = lookup_work}, "report");
    for (int i = 0; i < NKEYS; i++) {
        rc_decref(kx[i]);
        rc_decref(ky[i]);
    }
    void *owned[] = {dx, dy, lx, ly, x, y};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
        rc_decref(owned[i]);
    rc_heap_free(h);
}

/* ---- stop the world ------------------------------------------------------------------- */

static atomic_int busy_running;
static atomic_long busy_loops;

static void *busy_main(void *arg)
{
    job *j = arg;
    rc_thread_attach(j->h);
    atomic_fetch_add(&busy_running, 1);
    while (!atomic_load_explicit(j->stop, memory_order_relaxed)) {
        refcount_work(j->obj, 256);
        atomic_fetch_add_explicit(&busy_loops, 1, memory_order_relaxed);
        rc_safepoint(j->h);
    }
    rc_thread_detach(j->h);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Lets the busy threads run again after a collection: the next stop must
 * find them running, not still parked from the last one. */
static void let_run(rc_heap *h, int busy)
{
    long before = atomic_load(&busy_loops);
    rc_thread_detach(h);
    while (atomic_load(&busy_loops) < before + 4 * busy)
        sched_yield();
    rc_thread_attach(h);
}

/* The median wall time of runs young collections of a small heap. */
static double median_collect(rc_heap *h, int runs, int busy)
{
    double t[64];
    for (int i = 0; i < runs; i++) {
        if (busy)
            let_run(h, busy);
        double t0 = now(CLOCK_MONOTONIC);
        rc_gc_collect(h, 0);
        t[i] = now(CLOCK_MONOTONIC) - t0;
    }
    qsort(t, (size_t)runs, sizeof t[0], cmp_double);
    return t[runs / 2];
}

static void stop_the_world_row(int BUSY)
{
    enum { RUNS = 41 };
    atomic_store(&busy_running, 0);
    rc_heap *h = heap_new(true);
    void *o = rc_new(h, &leaf_type);
    double alone = median_collect(h, RUNS, 0);
    atomic_bool stop = false;
    job j = {h, o, 0, &stop, NULL, NULL};
    pthread_t t[8];
    for (int i = 0; i < BUSY; i++)
        pthread_create(&t[i], NULL, busy_main, &j);
    rc_thread_detach(h);       /* not at a safe point while it waits */
    while (atomic_load(&busy_running) < BUSY)
        sched_yield();
    rc_thread_attach(h);
    double busy = median_collect(h, RUNS, BUSY);
    atomic_store(&stop, true);
    for (int i = 0; i < BUSY; i++)
        pthread_join(t[i], NULL);
    printf("young collection, %d busy threads %12.3f ms  (alone %.3f ms)%s\n", BUSY, busy * 1e3, alone * 1e3,
           BUSY == 8 ? "  goal < 1 ms" : "");
    rc_decref(o);
    rc_heap_free(h);
}

/* ---- Boehm GC -------------------------------------------------------------------------- */

typedef struct gc_pair { void *a, *b; } gc_pair;

static void *boehm_main(void *arg)
{
    size_t n = *(size_t *)arg;
    for (size_t i = 0; i < n; i++) {
        gc_pair *p = GC_MALLOC(sizeof *p);
        p->a = GC_MALLOC(16);
        p->b = GC_MALLOC(16);
    }
    return NULL;
}

static void boehm_row(void)
{
    size_t n = scale * 200000;
    span one = span_begin();
    boehm_main(&n);
    boehm_main(&n);
    one = span_end(one);
    pthread_t t[2];
    span two = span_begin();
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, boehm_main, &n);   /* GC_pthread_create under GC_THREADS */
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    two = span_end(two);
    printf("%-34s %9.1f %9.1f %8.2fx  cpu %.1f / %.1f ms  (parallel marking: %s, %d markers)\n",
           "Boehm GC_MALLOC 3 objects, disjoint", one.wall * 1e3, two.wall * 1e3, one.wall / two.wall,
           one.cpu * 1e3, two.cpu * 1e3, GC_get_parallel() ? "on" : "off", GC_get_parallel() + 1);
}

int main(int argc, char **argv)
{
    if (argc > 2) {
        fprintf(stderr, "usage: threads [scale]\n");
        return 2;
    }
    if (argc == 2)
        scale = bench_count_arg("threads", argv[1], 1, 100, "threads [scale]");
    GC_INIT();
    one_thread_rows();
    two_thread_rows();
    container_rows();
    boehm_row();
    printf("\nstop the world (median wall time of a collection)\n");
    stop_the_world_row(2);
    stop_the_world_row(8);
    return 0;
}
