/* A generator versus a list: the sum of i*i for i < 10^6, once through a
 * lazy pipeline (one item alive at a time) and once by building the whole
 * list first.  Peak bytes measured with rc_heap_memory, beside CPython's
 * sum(i*i for i in range(n)) and sum([i*i for i in range(n)]) under
 * tracemalloc. */
#include <recycle.h>

#include <stdint.h>
#include <stdio.h>

#include "python_anchor.h"

#define N 1000000

static void *square(rc_heap *h, void *item, void *ctx)
{
    (void)ctx;
    int64_t v;
    rc_int_value(item, &v);
    return rc_int_from(h, v * v);
}

static int64_t sum(void *iterable)
{
    void *it = rc_iter(iterable), *x;
    int64_t total = 0, v;
    while (rc_iter_next(it, &x) == 1) {
        rc_int_value(x, &v);
        total += v;
        rc_decref(x);
    }
    rc_decref(it);
    return total;
}

/* Peak bytes above the starting point while fn runs. */
static size_t peak_of(rc_heap *h, int64_t (*fn)(rc_heap *), int64_t *result)
{
    rc_memory_info before, after;
    rc_heap_reset_peak(h);
    rc_heap_memory(h, &before);
    *result = fn(h);
    rc_heap_memory(h, &after);
    return after.peak - before.requested;
}

static int64_t with_generator(rc_heap *h)
{
    void *r = rc_range_new(h, 0, N, 1), *g = rc_gen_map(r, square, NULL);   /* (i*i for i in range(n)) */
    int64_t s = sum(g);
    rc_decref(g);
    rc_decref(r);
    return s;
}

static int64_t with_list(rc_heap *h)
{
    void *r = rc_range_new(h, 0, N, 1), *g = rc_gen_map(r, square, NULL);
    void *l = rc_list_from_iter(h, g);                                      /* [i*i for i in range(n)] */
    int64_t s = sum(l);
    rc_decref(l);
    rc_decref(g);
    rc_decref(r);
    return s;
}

static const char *const py_names[] = {"generator", "list"};
static const char py_script[] =
    "import tracemalloc\n"
    "def peak(f):\n"
    "    tracemalloc.start(); b = tracemalloc.get_traced_memory()[0]; f()\n"
    "    p = tracemalloc.get_traced_memory()[1]; tracemalloc.stop(); return p - b\n"
    "n = 1000000\n"
    "print('generator', peak(lambda: sum(i*i for i in range(n))))\n"
    "print('list', peak(lambda: sum([i*i for i in range(n)])))\n";

int main(void)
{
    rc_heap *h = rc_heap_new(NULL);
    rc_none(h);   /* made at start-up, as Python's None and small ints are: not part of either side */
    int64_t s1, s2;
    size_t gen_peak = peak_of(h, with_generator, &s1), list_peak = peak_of(h, with_list, &s2);
    double py[2] = {0, 0};
    int got = python_anchor(py_script, py_names, py, 2);
    printf("generator vs list: sum(i*i for i < %d) = %lld (both ways: %s)\n", N, (long long)s1,
           s1 == s2 ? "same" : "DIFFERENT");
    printf("%-12s %16s %16s\n", "", "recycle peak B", "CPython peak B");
    if (got == 2) {
        printf("%-12s %16zu %16.0f\n", "generator", gen_peak, py[0]);
        printf("%-12s %16zu %16.0f\n", "list", list_peak, py[1]);
        printf("CPython: /usr/bin/python3 measured with tracemalloc in this run.\n");
    } else {
        printf("%-12s %16zu %16s\n", "generator", gen_peak, "-");
        printf("%-12s %16zu %16s\n", "list", list_peak, "-");
        printf("CPython: /usr/bin/python3 not available; not measured.\n");
    }
    rc_heap_free(h);
    return 0;
}
