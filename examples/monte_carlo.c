/* Experiment 8 (seed 000, "Profiling BaseLibrary"): Monte-Carlo random
 * walks traced with recycle's tracer, as the seed traced them with
 * tracemalloc.
 *
 * monte_carlo_walk_analysis saves every walk (a list of (x, y) tuples) in
 * a dict before it measures them; monte_carlo_walk measures each walk as
 * soon as it is made and keeps only the distances, so each walk is freed
 * right after processing.  The peak of traced memory shows the difference;
 * compare_to('lineno') shows which allocation sites hold it.
 *
 * The allocation site of a built-in type's object is a line inside the
 * library (tuple.c, list.c), so the tracer keeps a few native frames too:
 * statistics('lineno', cumulative=True), limited to this file, then names
 * the lines of this program that the memory was allocated for. */
#include <recycle.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAMES 8

/* One walk of n blocks from (0, 0): the list of positions visited. */
static void *random_walk(rc_heap *h, long n)
{
    static const int dx[4] = {0, 0, 1, -1}, dy[4] = {1, -1, 0, 0};
    void *path = rc_list_new(h, 0);
    long x = 0, y = 0;
    for (long i = 0; i < n; i++) {
        int d = rand() % 4;
        x += dx[d];
        y += dy[d];
        void *pos = rc_tuple_pack(h, 2, rc_int_from(h, x), rc_int_from(h, y));
        rc_list_append(path, pos);
        rc_decref(pos);
    }
    return path;
}

/* How far from home the walk ended, as a float object. */
static void *distance(rc_heap *h, void *path)
{
    void *last = rc_list_get(path, rc_list_len(path) - 1);
    int64_t x, y;
    rc_int_value(rc_tuple_get(last, 0), &x);
    rc_int_value(rc_tuple_get(last, 1), &y);
    return rc_float_from(h, sqrt((double)(x * x + y * y)));
}

/* {length: [distance, ...]} built from a dict that saves every walk. */
static void *monte_carlo_walk_analysis(rc_heap *h, long max_len, long n_walks)
{
    void *walks = rc_dict_new(h), *result = rc_dict_new(h);
    for (long len = 1; len <= max_len; len++) {
        void *key = rc_int_from(h, len), *all = rc_list_new(h, 0);
        for (long i = 0; i < n_walks; i++) {
            void *walk = random_walk(h, len);
            rc_list_append(all, walk);
            rc_decref(walk);
        }
        rc_dict_set(walks, key, all);
        rc_decref(all);
        rc_decref(key);
    }
    for (long len = 1; len <= max_len; len++) {
        void *key = rc_int_from(h, len), *dists = rc_list_new(h, 0);
        void *all = rc_dict_get(walks, key);
        for (size_t i = 0; i < rc_list_len(all); i++) {
            void *d = distance(h, rc_list_get(all, i));
            rc_list_append(dists, d);
            rc_decref(d);
        }
        rc_dict_set(result, key, dists);
        rc_decref(dists);
        rc_decref(key);
    }
    rc_dict_set_str(result, "walks", walks);   /* the caller keeps every walk */
    rc_decref(walks);
    return result;
}

/* {length: [distance, ...]}: each walk dies as soon as it is measured. */
static void *monte_carlo_walk(rc_heap *h, long max_len, long n_walks)
{
    void *result = rc_dict_new(h);
    for (long len = 1; len <= max_len; len++) {
        void *key = rc_int_from(h, len), *dists = rc_list_new(h, 0);
        for (long i = 0; i < n_walks; i++) {
            void *walk = random_walk(h, len);
            void *d = distance(h, walk);
            rc_decref(walk);
            rc_list_append(dists, d);
            rc_decref(d);
        }
        rc_dict_set(result, key, dists);
        rc_decref(dists);
        rc_decref(key);
    }
    return result;
}

/* The statistics lines of this file only, largest first. */
static void print_own_lines(const rc_trace_stats *st, size_t limit)
{
    const char *me = strrchr(__FILE__, '/') ? strrchr(__FILE__, '/') + 1 : __FILE__;
    char line[256];
    for (size_t i = 0; i < st->len && limit; i++) {
        const char *file = st->items[i].traceback->frames[0].filename;
        size_t n = strlen(file), m = strlen(me);
        if (n >= m && !strcmp(file + n - m, me)) {
            rc_trace_stat_format(st, i, line, sizeof line);
            printf("%s\n", line);
            limit--;
        }
    }
}

int main(int argc, char **argv)
{
    long n_walks = argc > 1 ? atol(argv[1]) : 10000;
    rc_heap *h = rc_heap_new(NULL);

    rc_trace_start(h, FRAMES);
    void *walk_dict = monte_carlo_walk_analysis(h, 20, n_walks);
    rc_snapshot *walk_snapshot = rc_trace_take_snapshot(h);
    size_t walk_peak, dist_peak;
    rc_trace_get_traced_memory(h, NULL, &walk_peak);
    rc_trace_reset_peak(h);
    rc_trace_stop(h);

    rc_trace_start(h, FRAMES);
    void *dist_dict = monte_carlo_walk(h, 20, n_walks);
    rc_snapshot *dist_snapshot = rc_trace_take_snapshot(h);
    rc_trace_get_traced_memory(h, NULL, &dist_peak);

    rc_trace_stats *diff = rc_snapshot_compare_to(dist_snapshot, walk_snapshot, RC_TRACE_BY_LINENO, false);
    printf("Peak memory used with walk saving: %zu\n", walk_peak);
    printf("Peak memory used without walk saving: %zu\n", dist_peak);
    printf("[ Difference in the 10 most allocation heavy lines ]\n");
    if (diff)
        rc_trace_stats_print(diff, 10, stdout);
    rc_trace_stats *own = rc_snapshot_statistics(walk_snapshot, RC_TRACE_BY_LINENO, true);
    printf("[ With walk saving: the lines of this program that hold the memory (cumulative) ]\n");
    if (own)
        print_own_lines(own, 5);
    rc_trace_stats_free(own);
    printf("RESULT walk_peak %zu\nRESULT dist_peak %zu\n", walk_peak, dist_peak);

    rc_trace_stats_free(diff);
    rc_snapshot_free(walk_snapshot);
    rc_snapshot_free(dist_snapshot);
    rc_decref(walk_dict);
    rc_decref(dist_dict);
    rc_heap_free(h);
    return 0;
}
