/* bench/mem: the memory a process keeps after a peak, for recycle against
 * glibc malloc and CPython, all measured in this run.
 *
 * One program in three forms: N two-reference nodes are made and held by
 * a list (recycle: an rc list of RC_TYPE_REFS nodes, made with the
 * collector off; glibc: malloc'd nodes in a malloc'd array; CPython:
 * __slots__ nodes in a list with gc disabled, bench/anchors/mem.py), then
 * the list is dropped and a full collection runs (glibc: every node is
 * freed).  Shapes:
 *   list    the nodes reference nothing: they die by reference count
 *   rings   each 10 consecutive nodes form a cycle: the collection frees them
 * Each (form, shape, N) runs in a process of its own, which reports its
 * resident size (/proc/self/statm) before the nodes are made, at the peak,
 * right after the drop and the collection, how many milliseconds after that
 * it is back within 16 MiB of where it started (polled every millisecond,
 * for at most BACK_WAIT_MS: recycle's unmapper thread hands big dead sets'
 * arenas back after the collection returns), settled: 60 ms after that,
 * and later: then 10^4 more nodes made and dropped, a small working set
 * whose memory an allocator may keep for the next one (recycle keeps its
 * spare arena, docs/design-alloc.md).
 *
 * What is live: the same program with no nodes, in a process of its own
 * that never peaks (the `live` rows, measured first in the same run).
 * Its settled size is the idle program's, its later size the small
 * working set's; settl/l and later/l divide each row's settled and later
 * by its form's, so they say what the process keeps of the peak above
 * what the same work takes without one.
 *
 * bench/mem --child FORM SHAPE N --where runs one process of the table and
 * also lists, on stderr, each mapping's resident KiB when settled and
 * later (/proc/self/smaps): what a process keeps above its live row.
 *
 * bench/mem --steady prices the spare arena the heap keeps for such a
 * working set: CPU time per round of making and dropping 10^4 nodes, with
 * arena_spare 1 (the default) and 0, without and with a full collection
 * each round (best of STEADY_TRIES).
 *
 * usage: bench/mem [N ...]   (default 1000000 10000000)
 *        bench/mem --steady
 */
#include "args.h"
#include "measure.h"

#include "../src/prim/prim.h"
#include <recycle.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define USAGE "mem [N ...] | mem --steady | mem --child recycle|glibc list|rings N [--where]"
enum { LATER_NODES = 10000, BACK_MIB = 16, BACK_WAIT_MS = 1000, STEADY_ROUNDS = 500, STEADY_TRIES = 5 };

typedef struct rss4 {
    double before, peak, after, settled, later;   /* MiB */
    double back_ms;                               /* -1: not back within BACK_WAIT_MS */
} rss4;

static double rss_mib(void) { return (double)rc__os_rss_bytes() / (1024.0 * 1024.0); }

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Milliseconds until the resident size is within BACK_MIB of `before`. */
static double ms_until_back(double before)
{
    for (int ms = 0; ms <= BACK_WAIT_MS; ms++) {
        if (rss_mib() <= before + BACK_MIB)
            return ms;
        sleep_ms(1);
    }
    return -1;
}

static bool is_rings(const char *shape) { return !strcmp(shape, "rings"); }

/* --where: lists each mapping with resident pages, as "KiB name" (an
 * anonymous one by its size), from /proc/self/smaps. */
static bool where;

static void list_mappings(const char *when)
{
    FILE *f = where ? fopen("/proc/self/smaps", "r") : NULL;
    if (!f)
        return;
    char line[512], name[256] = "";
    unsigned long lo, hi, kib;
    fprintf(stderr, "%s:\n", when);
    while (fgets(line, sizeof line, f)) {
        int at = 0;
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &at) == 2) {
            line[strcspn(line, "\n")] = 0;
            if (line[at])
                snprintf(name, sizeof name, "%s", line + at);
            else
                snprintf(name, sizeof name, "[anon %lu KiB]", (hi - lo) >> 10);
        } else if (sscanf(line, "Rss: %lu kB", &kib) == 1 && kib) {
            fprintf(stderr, "%8lu %s\n", kib, name);
        }
    }
    fclose(f);
}

/* ---- recycle ------------------------------------------------------------------ */

static const rc_type pair_type = {.name = "pair", .size = 2 * sizeof(void *), .flags = RC_TYPE_REFS};

static void set_ref(void **from, void *to)
{
    rc_incref(to);
    from[0] = to;
}

/* n nodes in a new list; with rings, node i references node i+1 of its
 * ring of 10 (the last one the first). */
static void *rc_make(rc_heap *h, const char *shape, size_t n)
{
    void *list = rc_list_new(h, 0);
    if (!list) {
        fprintf(stderr, "mem: recycle ran out of memory for the list\n");
        exit(1);
    }
    void **first = NULL, **prev = NULL;
    for (size_t i = 0; i < n; i++) {
        void **x = rc_new(h, &pair_type);
        if (!x || rc_list_append(list, x) != 0) {
            fprintf(stderr, "mem: recycle ran out of memory at node %zu\n", i);
            exit(1);
        }
        rc_decref(x);                  /* the list holds it */
        if (!is_rings(shape))
            continue;
        if (i % 10 == 0)
            first = x;
        else
            set_ref(prev, x);
        if (i % 10 == 9 || i == n - 1)
            set_ref(x, first);
        prev = x;
    }
    return list;
}

static rss4 run_recycle(const char *shape, size_t n)
{
    rss4 r;
    rc_heap *h = rc_heap_new(NULL);
    r.before = rss_mib();
    rc_gc_disable(h);
    void *list = rc_make(h, shape, n);
    r.peak = rss_mib();
    rc_decref(list);
    rc_gc_collect(h, 2);
    rc_gc_enable(h);
    r.after = rss_mib();
    r.back_ms = ms_until_back(r.before);
    sleep_ms(60);
    r.settled = rss_mib();
    list_mappings("settled");
    rc_decref(rc_make(h, "list", LATER_NODES));
    r.later = rss_mib();
    list_mappings("later");
    rc_heap_free(h);
    return r;
}

/* Microseconds of CPU time per round of LATER_NODES nodes made and
 * dropped (and a full collection), best of STEADY_TRIES. */
static double steady_us(size_t spare, bool collect)
{
    rc_config cfg;
    rc_config_default(&cfg);
    cfg.arena_spare = spare;
    rc_heap *h = rc_heap_new(&cfg);
    double best = -1;
    for (int t = 0; t < STEADY_TRIES; t++) {
        uint64_t t0 = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID);
        for (int r = 0; r < STEADY_ROUNDS; r++) {
            rc_decref(rc_make(h, "list", LATER_NODES));
            if (collect)
                rc_gc_collect(h, 2);
        }
        double us = (double)(bench_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0) / 1e3 / STEADY_ROUNDS;
        if (best < 0 || us < best)
            best = us;
    }
    rc_heap_free(h);
    return best;
}

static void steady_rows(void)
{
    printf("bench/mem --steady: CPU microseconds per round of %d nodes made and dropped, best of %d\n"
           "tries of %d rounds, with arena_spare 1 (the default) and 0.\n\n",
           LATER_NODES, STEADY_TRIES, STEADY_ROUNDS);
    printf("%-24s %10s %10s\n", "round", "spare 1", "spare 0");
    for (int c = 0; c < 2; c++)
        printf("%-24s %10.1f %10.1f\n", c ? "with a full collection" : "nodes only", steady_us(1, c),
               steady_us(0, c));
}

/* ---- glibc malloc --------------------------------------------------------------- */

typedef struct mnode {
    struct mnode *a, *b;
} mnode;

static mnode **gl_make(const char *shape, size_t n)
{
    mnode **v = malloc(n * sizeof *v);
    for (size_t i = 0; v && i < n; i++) {
        if (!(v[i] = calloc(1, sizeof **v))) {
            fprintf(stderr, "mem: malloc ran out of memory at node %zu\n", i);
            exit(1);
        }
        if (is_rings(shape) && i % 10 != 0)
            v[i - 1]->a = v[i];
        if (is_rings(shape) && (i % 10 == 9 || i == n - 1))
            v[i]->a = v[i - i % 10];
    }
    if (!v) {
        fprintf(stderr, "mem: malloc ran out of memory for the list\n");
        exit(1);
    }
    return v;
}

static void gl_drop(mnode **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static rss4 run_glibc(const char *shape, size_t n)
{
    rss4 r;
    r.before = rss_mib();
    mnode **v = gl_make(shape, n);
    r.peak = rss_mib();
    gl_drop(v, n);
    r.after = rss_mib();
    r.back_ms = ms_until_back(r.before);
    sleep_ms(60);
    r.settled = rss_mib();
    list_mappings("settled");
    gl_drop(gl_make("list", LATER_NODES), LATER_NODES);
    r.later = rss_mib();
    list_mappings("later");
    return r;
}

/* ---- one process per measurement ------------------------------------------------- */

static void child_main(const char *form, const char *shape, size_t n)
{
    rss4 r = !strcmp(form, "recycle") ? run_recycle(shape, n) : run_glibc(shape, n);
    printf("%.0f %.0f %.0f %.0f %.0f %.0f\n", r.before * 1048576.0, r.peak * 1048576.0, r.after * 1048576.0,
           r.settled * 1048576.0, r.later * 1048576.0, r.back_ms);
}

/* Runs cmd and reads the five sizes and the milliseconds it prints; false
 * when it fails. */
static bool run_cmd(const char *cmd, rss4 *r)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return false;
    double b[6];
    int got = fscanf(p, "%lf %lf %lf %lf %lf %lf", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]);
    int st = pclose(p);
    if (got != 6 || st != 0)
        return false;
    const double mib = 1048576.0;
    *r = (rss4){b[0] / mib, b[1] / mib, b[2] / mib, b[3] / mib, b[4] / mib, b[5]};
    return true;
}

static bool measure(const char *self, const char *form, const char *shape, size_t n, rss4 *r)
{
    char cmd[8192];
    if (!strcmp(form, "cpython"))
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/bench/anchors/mem.py %s %zu", RC_SOURCE_DIR, shape, n);
    else
        snprintf(cmd, sizeof cmd, "'%s' --child %s %s %zu", self, form, shape, n);
    return run_cmd(cmd, r);
}

/* ---- the table ------------------------------------------------------------------ */

static const char *const forms[] = {"recycle", "glibc", "cpython"};
enum { NFORMS = 3 };

/* Each form's run without a peak (0 nodes), measured before the table;
 * live_ok false when it failed. */
static rss4 live[NFORMS];
static bool live_ok[NFORMS];

static void print_row(const char *shape, size_t n, int form, const rss4 *r, bool ok)
{
    printf("%-6s %10zu  %-8s", shape, n, forms[form]);
    if (!ok) {
        printf("  (failed)\n");
        return;
    }
    printf(" %8.1f %9.1f %8.1f %8.1f %8.1f", r->before, r->peak, r->after, r->settled, r->later);
    if (live_ok[form])
        printf(" %8.2f %8.2f", r->settled / live[form].settled, r->later / live[form].later);
    else
        printf(" %8s %8s", "-", "-");
    if (r->back_ms >= 0)
        printf(" %8.0f\n", r->back_ms);
    else
        printf(" %7s%d\n", ">", BACK_WAIT_MS);
}

/* anchor ÷ recycle, as the other benches print: above 1, recycle uses less. */
static void print_ratio(double anchor, double ours)
{
    if (anchor > 0 && ours > 0)
        printf(" %10.2fx", anchor / ours);
    else
        printf(" %11s", "-");
}

static void print_ratios(const char *shape, size_t n, const rss4 *r, const bool *ok)
{
    for (int f = 1; f < NFORMS; f++) {
        if (!ok[0] || !ok[f])
            continue;
        printf("%-6s %10zu  %-8s", shape, n, forms[f]);
        print_ratio(r[f].peak - r[f].before, r[0].peak - r[0].before);
        print_ratio(r[f].after, r[0].after);
        print_ratio(r[f].settled, r[0].settled);
        print_ratio(r[f].later, r[0].later);
        printf("\n");
    }
}

static void run_live(const char *self)
{
    printf("%-6s %10s  %-8s %8s %9s %8s %8s %8s %8s %8s %8s\n", "shape", "objects", "form", "before", "peak", "after",
           "settled", "later", "settl/l", "later/l", "back-ms");
    for (int f = 0; f < NFORMS; f++) {
        live_ok[f] = measure(self, forms[f], "list", 0, &live[f]);
        print_row("live", 0, f, &live[f], live_ok[f]);
    }
}

static void run_size(const char *self, size_t n)
{
    static const char *const shapes[] = {"list", "rings"};
    for (int s = 0; s < 2; s++) {
        rss4 r[NFORMS];
        bool ok[NFORMS];
        for (int f = 0; f < NFORMS; f++) {
            ok[f] = measure(self, forms[f], shapes[s], n, &r[f]);
            print_row(shapes[s], n, f, &r[f], ok[f]);
        }
        printf("%-6s %10s  %-8s %11s %11s %11s %11s\n", "", "", "anchor", "peak-growth", "after", "settled", "later");
        print_ratios(shapes[s], n, r, ok);
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    if ((argc == 5 || (argc == 6 && !strcmp(argv[5], "--where"))) && !strcmp(argv[1], "--child")) {
        where = argc == 6;
        child_main(argv[2], argv[3], bench_count_arg(argv[0], argv[4], 0, (size_t)1 << 34, USAGE));
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "--steady")) {
        steady_rows();
        return 0;
    }
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) {
        fprintf(stderr, "mem: cannot read /proc/self/exe\n");
        return 1;
    }
    self[len] = 0;
    printf("bench/mem: resident MiB before N nodes are made, at the peak, after the drop and a full\n"
           "collection, settled (60 ms after back-ms) and later (then 10^4 nodes made and dropped);\n"
           "live: the same program with no nodes, a process that never peaks; settl/l, later/l:\n"
           "settled and later / the form's live settled and later; back-ms: milliseconds after the\n"
           "collection until within %d MiB of before (polled for at most %d ms).  Ratios: anchor's\n"
           "figure / recycle's (above 1: recycle keeps less).\n\n",
           BACK_MIB, BACK_WAIT_MS);
    run_live(self);
    static const size_t defaults[] = {1000000, 10000000};
    size_t nsizes = argc > 1 ? (size_t)argc - 1 : 2;
    for (size_t i = 0; i < nsizes; i++) {
        size_t n = argc > 1 ? bench_count_arg(argv[0], argv[i + 1], 10, (size_t)1 << 34, USAGE) : defaults[i];
        run_size(self, n);
    }
    return 0;
}
