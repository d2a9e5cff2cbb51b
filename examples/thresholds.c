/* Experiment 7 (seeds 000, 002, 004): the collector's thresholds.
 *
 * Prints the default thresholds (700, 10, 10), the current counts, what a
 * manual collection returns, then sets (100, 5, 5).  Then it runs the same
 * allocation-heavy loop under both settings and counts, through a gc
 * callback, the collections of each generation: a generation-0 collection
 * runs each time count0 (tracked allocations minus deallocations) passes
 * threshold 0, a generation-1 collection every threshold-1 of those, a
 * full one every threshold-2 generation-1 collections (if the long-lived
 * rule allows).  Lower thresholds: many more, smaller collections.
 *
 *     thresholds [SERIES_FILE]   writes the cumulative counts as a table */
#include "seed_arrays.h"

#include <stdint.h>

typedef struct { size_t runs[3]; } tally;

static void count_collection(const char *phase, const rc_gc_info *info, void *ctx)
{
    tally *t = ctx;
    if (phase[1] == 't' && phase[2] == 'o')     /* "stop" */
        t->runs[info->generation]++;
}

/* Each step makes a dead two-list cycle (work for the collector) and keeps
 * one list in eight alive (survivors that age into older generations). */
static void step(rc_heap *h, void *kept, size_t i)
{
    void *a = rc_list_new(h, 1), *b = rc_list_new(h, 1);
    rc_list_append(a, b);
    rc_list_append(b, a);
    if (i % 8 == 0)
        rc_list_append(kept, a);
    rc_decref(a);
    rc_decref(b);
}

static void run(size_t t0, size_t t1, size_t t2, size_t steps, size_t rows, size_t out[][3])
{
    rc_heap *h = rc_heap_new(NULL);
    rc_gc_set_threshold(h, t0, t1, t2);
    tally t = {{0}};
    rc_gc_callback_add(h, count_collection, &t);
    void *kept = rc_list_new(h, 0);
    for (size_t i = 1; i <= steps; i++) {
        step(h, kept, i);
        if (i % (steps / rows) == 0)
            for (int g = 0; g < 3; g++)
                out[i / (steps / rows) - 1][g] = t.runs[g];
    }
    uint64_t ns = 0;
    for (int g = 0; g < 3; g++)
        ns += rc_gc_get_stats(h, g).duration_ns;
    printf("thresholds (%zu, %zu, %zu): %zu, %zu, %zu collections of generations 0, 1, 2 in %.1f ms\n",
           t0, t1, t2, t.runs[0], t.runs[1], t.runs[2], (double)ns / 1e6);
    printf("RESULT runs_%zu %zu %zu %zu\n", t0, t.runs[0], t.runs[1], t.runs[2]);
    rc_decref(kept);
    rc_heap_free(h);
}

int main(int argc, char **argv)
{
    rc_heap *h = rc_heap_new(NULL);
    size_t th[3], c[3];
    rc_gc_get_threshold(h, th);
    printf("rc_gc_get_threshold: (%zu, %zu, %zu)\n", th[0], th[1], th[2]);
    void *junk = rc_list_new(h, 0);
    rc_gc_get_count(h, c);
    printf("rc_gc_get_count:     (%zu, %zu, %zu)\n", c[0], c[1], c[2]);
    printf("rc_gc_collect(h, 2): %zu\n", rc_gc_collect(h, 2));
    rc_gc_set_threshold(h, 100, 5, 5);
    rc_gc_get_threshold(h, th);
    printf("after rc_gc_set_threshold(h, 100, 5, 5): (%zu, %zu, %zu)\n\n", th[0], th[1], th[2]);
    rc_decref(junk);
    rc_heap_free(h);

    size_t steps = seed_env("DEMO_GC_STEPS", 200000), rows = 100;
    size_t (*dflt)[3] = calloc(rows, sizeof *dflt), (*low)[3] = calloc(rows, sizeof *low);
    printf("%zu steps, each making a dead two-list cycle and keeping one list in eight:\n", steps);
    run(700, 10, 10, steps, rows, dflt);
    run(100, 5, 5, steps, rows, low);
    FILE *f = argc > 1 ? fopen(argv[1], "w") : NULL;
    if (f) {
        fprintf(f, "steps gen0_(700,10,10) gen1_(700,10,10) gen2_(700,10,10) "
                   "gen0_(100,5,5) gen1_(100,5,5) gen2_(100,5,5)\n");
        for (size_t r = 0; r < rows; r++)
            fprintf(f, "%zu %zu %zu %zu %zu %zu %zu\n", (r + 1) * (steps / rows), dflt[r][0], dflt[r][1],
                    dflt[r][2], low[r][0], low[r][1], low[r][2]);
        fclose(f);
    }
    free(dflt);
    free(low);
    return 0;
}
