/* bench/types: list append, dict insert and lookup with 10^6 int and str
 * keys, and string interning -- recycle against CPython
 * (bench/anchors/types.py under /usr/bin/python3, timed inside Python) in
 * the same run.  Each side does the same work per operation: keys are
 * built beforehand and looked up with equal but distinct objects, so every
 * lookup hashes and compares; one row also makes a new int per append
 * (Python's range makes one per step), which measures the allocator as
 * much as the list.  Each side runs its rounds in one heap (one
 * interpreter), best of 5.
 *
 * Both sides time the process's CPU time (user + system, so page faults
 * count): on a shared machine wall time also counts the slices other
 * processes took.  The page faults of the best round are printed for both
 * sides: a first touch of fresh memory costs about as much as 100-500
 * operations here, and what it costs depends on the host (docs/types.md).
 *
 * Each round also times two references, best of the rounds as the rows:
 * a chain of dependent multiply-adds (the core's speed) and a pass that
 * writes one byte of every 64-byte line of a 64 MiB buffer (the memory's:
 * each line is read, then written back).  recycle's rows stream 60-90
 * bytes per operation and move with the second; CPython's spend 50-400
 * cycles on each and barely do (docs/types.md, "What moves with the host").
 *
 *   bench/types [N]     default 1000000; RC_BENCH_QUICK=1: 100000
 *   valgrind --tool=callgrind --toggle-collect=loop_dict_set bench/types
 *                       instructions of one loop (5 rounds of N operations)
 */
#include "args.h"

#include <recycle.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define ROUNDS 5
#define RC_BENCH_LOOP __attribute__((noinline))
enum { ALU_STEPS = 10000000, MEM_BYTES = 64 << 20, LINE = 64 };

enum { LIST_APPEND, LIST_APPEND_NEW, DICT_SET_INT, DICT_GET_INT, DICT_SET_STR, DICT_GET_STR, STR_INTERN, NOPS };
static const char *const op_key[NOPS] = {"list_append", "list_append_new_int", "dict_set_int", "dict_get_int",
                                         "dict_set_str", "dict_get_str", "str_intern"};
static const char *const op_label[NOPS] = {"list append", "new int + list append", "dict insert, int keys",
                                           "dict lookup, int keys", "dict insert, str keys", "dict lookup, str keys",
                                           "intern new strings"};

/* One row of one round: CPU seconds and page faults. */
typedef struct { double t, faults; } sample;

static sample now(void)
{
    struct timespec ts;
    struct rusage ru;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    getrusage(RUSAGE_SELF, &ru);
    return (sample){(double)ts.tv_sec + (double)ts.tv_nsec * 1e-9, (double)(ru.ru_minflt + ru.ru_majflt)};
}

static sample since(sample a)
{
    sample b = now();
    return (sample){b.t - a.t, b.faults - a.faults};
}

static void die(rc_heap *h, const char *what)
{
    fprintf(stderr, "bench/types: %s failed: %s\n", what, rc_last_error(h));
    exit(1);
}

static void **make_all(rc_heap *h, size_t n, const char *fmt)
{
    void **v = malloc(n * sizeof *v);
    if (!v) die(h, "malloc");
    for (size_t i = 0; i < n; i++)
        if (!(v[i] = fmt ? rc_str_format(h, fmt, i) : rc_int_from(h, (int64_t)i))) die(h, "making keys");
    return v;
}

static void drop_all(void **v, size_t n)
{
    for (size_t i = 0; i < n; i++) rc_decref(v[i]);
    free(v);
}

/* The timed loops, each a function of its own so callgrind can count
 * their instructions alone (--toggle-collect=loop_dict_set and so on). */
static RC_BENCH_LOOP void loop_list_append(rc_heap *h, void *l, void **xs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (rc_list_append(l, xs[i]) < 0) die(h, "rc_list_append");
}

static RC_BENCH_LOOP void loop_list_append_new(rc_heap *h, void *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        void *x = rc_int_from(h, (int64_t)i);
        if (!x || rc_list_append(l, x) < 0) die(h, "rc_list_append");
        rc_decref(x);
    }
}

static RC_BENCH_LOOP void loop_dict_set(rc_heap *h, void *d, void **keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (rc_dict_set(d, keys[i], keys[i]) < 0) die(h, "rc_dict_set");
}

static RC_BENCH_LOOP void loop_dict_get(rc_heap *h, void *d, void **probes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!rc_dict_get(d, probes[i])) die(h, "rc_dict_get");
}

static RC_BENCH_LOOP void loop_intern(rc_heap *h, void **strs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        void *s = rc_str_intern_obj(strs[i]);
        if (!s) die(h, "rc_str_intern_obj");
        rc_decref(s);
    }
}

static RC_BENCH_LOOP uint64_t loop_alu(uint64_t n)
{
    uint64_t x = 1;
    for (uint64_t i = 0; i < n; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        __asm__ volatile("" : "+r"(x));   /* one step after another, none folded */
    }
    return x;
}

static RC_BENCH_LOOP void loop_lines(volatile unsigned char *buf, size_t bytes)
{
    for (size_t i = 0; i < bytes; i += LINE) buf[i]++;
}

/* The two references: ns per multiply-add step and per 64-byte line. */
static void references(unsigned char *buf, sample *alu, sample *mem)
{
    sample t0 = now();
    loop_alu(ALU_STEPS);
    *alu = since(t0);
    t0 = now();
    loop_lines(buf, MEM_BYTES);
    *mem = since(t0);
}

/* The first list goes before the second loop, as the anchor's `l = []`
 * drops it: each side's new-int loop may reuse its buffer. */
static void lists(rc_heap *h, size_t n, sample *t)
{
    void **xs = make_all(h, n, NULL), *l = rc_list_new(h, 0), *l2 = rc_list_new(h, 0);
    sample t0 = now();
    loop_list_append(h, l, xs, n);
    t[LIST_APPEND] = since(t0);
    rc_decref(l);
    t0 = now();
    loop_list_append_new(h, l2, n);
    t[LIST_APPEND_NEW] = since(t0);
    rc_decref(l2);
    drop_all(xs, n);
}

/* fmt NULL: int keys; else str keys made with fmt. */
static void dicts(rc_heap *h, size_t n, const char *fmt, sample *set_t, sample *get_t)
{
    void **keys = make_all(h, n, fmt), **probes = make_all(h, n, fmt), *d = rc_dict_new(h);
    sample t0 = now();
    loop_dict_set(h, d, keys, n);
    *set_t = since(t0);
    t0 = now();
    loop_dict_get(h, d, probes, n);
    *get_t = since(t0);
    rc_decref(d);
    drop_all(keys, n);
    drop_all(probes, n);
}

static void interning(rc_heap *h, size_t n, sample *t)
{
    void **strs = make_all(h, n, "s%zu");
    sample t0 = now();
    loop_intern(h, strs, n);
    t[STR_INTERN] = since(t0);
    drop_all(strs, n);
}

/* Reads "name ns faults" lines (per operation, per 1000 operations) from
 * the CPython anchor; false if it cannot run. */
static bool run_python(size_t n, double *ns, double *kfaults)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/bench/anchors/types.py %zu %d 2>/dev/null", RC_SOURCE_DIR, n,
             ROUNDS);
    FILE *p = popen(cmd, "r");
    if (!p) return false;
    char name[64];
    double v, f;
    int got = 0;
    while (fscanf(p, "%63s %lf %lf", name, &v, &f) == 3)
        for (int i = 0; i < NOPS; i++)
            if (strcmp(name, op_key[i]) == 0) ns[i] = v, kfaults[i] = f, got++;
    return pclose(p) == 0 && got == NOPS;
}

static double load_average(void)
{
    FILE *la = fopen("/proc/loadavg", "r");
    double load = -1;
    if (la) {
        if (fscanf(la, "%lf", &load) != 1) load = -1;
        fclose(la);
    }
    return load;
}

int main(int argc, char **argv)
{
    size_t n = getenv("RC_BENCH_QUICK") ? 100000 : 1000000;
    if (argc > 1) n = bench_count_arg("bench/types", argv[1], 1, 100000000, "bench/types [N] (default 1e6)");
    sample best[NOPS], alu_best = {1e30, 0}, mem_best = {1e30, 0};
    for (int i = 0; i < NOPS; i++) best[i] = (sample){1e30, 0};
    rc_heap *h = rc_heap_new(NULL);   /* one heap for every round, as the anchor keeps one interpreter */
    unsigned char *buf = calloc(1, MEM_BYTES);
    if (!h || !buf) die(h, "rc_heap_new or calloc");
    for (int r = 0; r < ROUNDS; r++) {
        sample t[NOPS], alu, mem;
        lists(h, n, t);
        dicts(h, n, NULL, &t[DICT_SET_INT], &t[DICT_GET_INT]);
        dicts(h, n, "%zu", &t[DICT_SET_STR], &t[DICT_GET_STR]);
        interning(h, n, t);
        references(buf, &alu, &mem);
        for (int i = 0; i < NOPS; i++)
            if (t[i].t < best[i].t) best[i] = t[i];
        if (alu.t < alu_best.t) alu_best = alu;
        if (mem.t < mem_best.t) mem_best = mem;
    }
    free(buf);
    rc_heap_free(h);
    double py[NOPS], pyf[NOPS];
    bool have_py = run_python(n, py, pyf);
    printf("bench/types: %zu operations each, best of %d by CPU time; CPython %s\n", n, ROUNDS,
           have_py ? "= /usr/bin/python3, timed inside Python (bench/anchors/types.py)" : "unavailable");
    double load = load_average();
    if (load >= 0) printf("(load average %.1f: other processes share the CPUs; both sides ran under it)\n", load);
    printf("references: %.3f ns per dependent multiply-add, %.2f ns per 64-byte line read and written back\n",
           alu_best.t * 1e9 / ALU_STEPS, mem_best.t * 1e9 / (MEM_BYTES / LINE));
    printf("%-24s %14s %14s %10s %18s\n", "operation", "recycle ns/op", "CPython ns/op", "speedup",
           "faults/1000 ops");
    for (int i = 0; i < NOPS; i++) {
        double ours = best[i].t * 1e9 / (double)n, kf = best[i].faults * 1e3 / (double)n;
        if (have_py)
            printf("%-24s %14.1f %14.1f %9.1fx %8.2f %9.2f\n", op_label[i], ours, py[i], py[i] / ours, kf, pyf[i]);
        else printf("%-24s %14.1f %14s %10s %8.2f %9s\n", op_label[i], ours, "-", "-", kf, "-");
    }
    return 0;
}
