/* bench/types: list append, dict insert and lookup with 10^6 int and str
 * keys, and string interning -- recycle against CPython
 * (bench/anchors/types.py under /usr/bin/python3, timed inside Python with
 * time.perf_counter) in the same run.  Each side does the same work per
 * operation: keys are built beforehand and looked up with equal but
 * distinct objects, so every lookup hashes and compares; one row also
 * makes a new int per append (Python's range makes one per step), which
 * measures the allocator as much as the list.  Best of 5 rounds (the machine may be shared).
 *
 *   bench/types [N]     default 1000000; RC_BENCH_QUICK=1: 100000
 */
#include "args.h"

#include <recycle.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS 5

enum { LIST_APPEND, LIST_APPEND_NEW, DICT_SET_INT, DICT_GET_INT, DICT_SET_STR, DICT_GET_STR, STR_INTERN, NOPS };
static const char *const op_key[NOPS] = {"list_append", "list_append_new_int", "dict_set_int", "dict_get_int",
                                         "dict_set_str", "dict_get_str", "str_intern"};
static const char *const op_label[NOPS] = {"list append", "new int + list append", "dict insert, int keys",
                                           "dict lookup, int keys", "dict insert, str keys", "dict lookup, str keys",
                                           "intern new strings"};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
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

static void lists(size_t n, double *t)
{
    rc_heap *h = rc_heap_new(NULL);
    void **xs = make_all(h, n, NULL), *l = rc_list_new(h, 0), *l2 = rc_list_new(h, 0);
    double t0 = now();
    for (size_t i = 0; i < n; i++)
        if (rc_list_append(l, xs[i]) < 0) die(h, "rc_list_append");
    double t1 = now();
    for (size_t i = 0; i < n; i++) {
        void *x = rc_int_from(h, (int64_t)i);
        if (!x || rc_list_append(l2, x) < 0) die(h, "rc_list_append");
        rc_decref(x);
    }
    t[LIST_APPEND_NEW] = now() - t1;
    t[LIST_APPEND] = t1 - t0;
    rc_decref(l);
    rc_decref(l2);
    drop_all(xs, n);
    rc_heap_free(h);
}

/* fmt NULL: int keys; else str keys made with fmt. */
static void dicts(size_t n, const char *fmt, double *set_t, double *get_t)
{
    rc_heap *h = rc_heap_new(NULL);
    void **keys = make_all(h, n, fmt), **probes = make_all(h, n, fmt), *d = rc_dict_new(h);
    double t0 = now();
    for (size_t i = 0; i < n; i++)
        if (rc_dict_set(d, keys[i], keys[i]) < 0) die(h, "rc_dict_set");
    double t1 = now();
    for (size_t i = 0; i < n; i++)
        if (!rc_dict_get(d, probes[i])) die(h, "rc_dict_get");
    *get_t = now() - t1;
    *set_t = t1 - t0;
    rc_decref(d);
    drop_all(keys, n);
    drop_all(probes, n);
    rc_heap_free(h);
}

static void interning(size_t n, double *t)
{
    rc_heap *h = rc_heap_new(NULL);
    void **strs = make_all(h, n, "s%zu");
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        void *s = rc_str_intern_obj(strs[i]);
        if (!s) die(h, "rc_str_intern_obj");
        rc_decref(s);
    }
    t[STR_INTERN] = now() - t0;
    drop_all(strs, n);
    rc_heap_free(h);
}

/* Reads "name ns" lines from the CPython anchor; false if it cannot run. */
static bool run_python(size_t n, double *ns)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/bench/anchors/types.py %zu %d 2>/dev/null", RC_SOURCE_DIR, n,
             ROUNDS);
    FILE *p = popen(cmd, "r");
    if (!p) return false;
    char name[64];
    double v;
    int got = 0;
    while (fscanf(p, "%63s %lf", name, &v) == 2)
        for (int i = 0; i < NOPS; i++)
            if (strcmp(name, op_key[i]) == 0) ns[i] = v, got++;
    return pclose(p) == 0 && got == NOPS;
}

int main(int argc, char **argv)
{
    size_t n = getenv("RC_BENCH_QUICK") ? 100000 : 1000000;
    if (argc > 1) n = bench_count_arg("bench/types", argv[1], 1, 100000000, "bench/types [N] (default 1e6)");
    double best[NOPS];
    for (int i = 0; i < NOPS; i++) best[i] = 1e30;
    for (int r = 0; r < ROUNDS; r++) {
        double t[NOPS];
        lists(n, t);
        dicts(n, NULL, &t[DICT_SET_INT], &t[DICT_GET_INT]);
        dicts(n, "%zu", &t[DICT_SET_STR], &t[DICT_GET_STR]);
        interning(n, t);
        for (int i = 0; i < NOPS; i++)
            if (t[i] < best[i]) best[i] = t[i];
    }
    double py[NOPS];
    bool have_py = run_python(n, py);
    printf("bench/types: %zu operations each, best of %d; CPython %s\n", n, ROUNDS,
           have_py ? "= /usr/bin/python3, timed inside Python (bench/anchors/types.py)" : "unavailable");
    FILE *la = fopen("/proc/loadavg", "r");
    double load = -1;
    if (la) {
        if (fscanf(la, "%lf", &load) != 1) load = -1;
        fclose(la);
    }
    if (load >= 0) printf("(load average %.1f: other processes share the CPUs; both sides ran under it)\n", load);
    printf("%-24s %14s %14s %10s\n", "operation", "recycle ns/op", "CPython ns/op", "speedup");
    for (int i = 0; i < NOPS; i++) {
        double ours = best[i] * 1e9 / (double)n;
        if (have_py) printf("%-24s %14.1f %14.1f %9.1fx\n", op_label[i], ours, py[i], py[i] / ours);
        else printf("%-24s %14.1f %14s %10s\n", op_label[i], ours, "-", "-");
    }
    return 0;
}
