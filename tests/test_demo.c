/* `make demo QUICK=1`, and the report's claims checked against the data it
 * was written from — the .dat profiles, the programs' RESULT lines and the
 * plot pixels — never against the report's text.
 *
 * The demo runs once (without CPython, so the test does not depend on
 * python3 and covers the report's "not available" path); each test reads
 * its output directory. */
#include <recycle-tools.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include "png_read.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

#define FUNC_NAME "average_ints"

static char out_dir[1024];

static const char *path_of(const char *name)
{
    static char buf[4][1200];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", out_dir, name);
    return p;
}

static int run_demo(void **state)
{
    (void)state;
    snprintf(out_dir, sizeof out_dir, "%s/demo-test-out", RC_BINARY_DIR);
    /* Under AddressSanitizer freed blocks wait in its quarantine instead of
     * going back to the OS, which would hide the very falls the demo shows. */
    const char *asan = getenv("ASAN_OPTIONS");
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "ASAN_OPTIONS='%s%squarantine_size_mb=0' QUICK=1 DEMO_OUT='%s' DEMO_PYTHON=/nonexistent/python3 "
             "'%s/scripts/demo.sh' '%s' >'%s.log' 2>&1",
             asan ? asan : "", asan && *asan ? ":" : "", out_dir, RC_SOURCE_DIR, RC_BINARY_DIR, out_dir);
    int rc = system(cmd);
    if (rc != 0) {
        fprintf(stderr, "demo failed (status %d); see %s.log\n", rc, out_dir);
        return -1;
    }
    return 0;
}

/* ---- the profiles -------------------------------------------------------- */

typedef struct {
    rc_mprof *p;
    rc_mprof_func calls[3];
    size_t ncalls;
} profile;

static int by_start(const void *a, const void *b)
{
    double x = ((const rc_mprof_func *)a)->t0, y = ((const rc_mprof_func *)b)->t0;
    return (x > y) - (x < y);
}

/* Loads c_<tag>.dat and its three brackets of the seed function, in time
 * order; they must not overlap. */
static void load(profile *pr, const char *tag)
{
    char name[128];
    snprintf(name, sizeof name, "c_%s.dat", tag);
    pr->p = NULL;
    assert_int_equal(rc_mprof_load(path_of(name), &pr->p), 0);
    pr->ncalls = 0;
    for (size_t i = 0; i < pr->p->nfuncs; i++)
        if (!strcmp(pr->p->funcs[i].name, FUNC_NAME)) {
            assert_true(pr->ncalls < 3);
            pr->calls[pr->ncalls++] = pr->p->funcs[i];
        }
    assert_int_equal(pr->ncalls, 3);
    qsort(pr->calls, 3, sizeof pr->calls[0], by_start);
    for (int i = 0; i < 2; i++)
        assert_true(pr->calls[i].t1 <= pr->calls[i + 1].t0);
}

/* Lowest MEM sample strictly between t0 and t1 (INFINITY when none). */
static double min_between(const rc_mprof *p, double t0, double t1)
{
    double lo = INFINITY;
    for (size_t i = 0; i < p->nmem; i++)
        if (p->mem[i].t > t0 && p->mem[i].t < t1)
            lo = fmin(lo, p->mem[i].mib);
    return lo;
}

static double rise(const profile *pr, int i)
{
    const rc_mprof_func *f = &pr->calls[i];
    return rc_mprof_max_between(pr->p, f->t0, f->t1) - f->mem0;
}

/* One array at QUICK size is about 12 MiB of ints and list; a bump must be
 * clearly more than sampling noise. */
#define MIN_BUMP_MIB 4.0

static void test_baseline_three_bumps(void **state)
{
    (void)state;
    profile pr;
    load(&pr, "list");
    for (int i = 0; i < 3; i++) {
        const rc_mprof_func *f = &pr.calls[i];
        double peak = rc_mprof_max_between(pr.p, f->t0, f->t1), up = rise(&pr, i);
        assert_true(up >= MIN_BUMP_MIB);
        /* released inside the bracket: the exit level is back down */
        assert_true(f->mem1 <= f->mem0 + up / 2);
        /* separate: memory is low between this call and the next */
        if (i < 2)
            assert_true(min_between(pr.p, f->t1, pr.calls[i + 1].t0) <= peak - up / 2);
    }
    rc_mprof_free(pr.p);
}

static void assert_stairs(const char *tag)
{
    profile pr;
    load(&pr, tag);
    /* after the third call (the program's exit frees everything later) */
    double one = rise(&pr, 0), base = pr.calls[0].mem0, final = pr.calls[2].mem1;
    assert_true(one >= MIN_BUMP_MIB);
    assert_true(final - base >= 2.5 * one);
    /* each call ends higher than it started: nothing is given back */
    for (int i = 0; i < 3; i++)
        assert_true(pr.calls[i].mem1 >= pr.calls[i].mem0 + one / 2);
    rc_mprof_free(pr.p);
}

/* A RESULT line's first value from c_<tag>.txt; fails when absent. */
static double result(const char *tag, const char *key)
{
    char name[128], line[512], k[128];
    snprintf(name, sizeof name, "c_%s.txt", tag);
    FILE *f = fopen(path_of(name), "r");
    assert_non_null(f);
    double v = NAN;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "RESULT %127s %lf", k, &v) == 2 && !strcmp(k, key))
            break;
        else
            v = NAN;
    fclose(f);
    if (isnan(v))
        fail_msg("no RESULT %s in %s", key, name);
    return v;
}

static void test_cycle_gc_disabled_stairs(void **state)
{
    (void)state;
    assert_stairs("cycle_gc_disabled");
}

static void test_cycle_gc_enabled_stairs(void **state)
{
    (void)state;
    assert_stairs("cycle_gc_enabled");
    /* why: count0 never reached threshold 0, so nothing was collected */
    assert_true(result("cycle_gc_enabled", "count0_after_call3") < result("cycle_gc_enabled", "threshold0"));
    assert_true(result("cycle_gc_enabled", "collections") == 0);
}

static void test_manual_collect_falls(void **state)
{
    (void)state;
    profile pr;
    load(&pr, "manual_collect");
    double one = rise(&pr, 0), base = pr.calls[0].mem0;
    assert_true(one >= MIN_BUMP_MIB);
    /* two stairs first ... */
    assert_true(pr.calls[1].mem1 >= base + 1.5 * one);
    /* ... then the collection between calls 2 and 3 brings memory down */
    assert_true(min_between(pr.p, pr.calls[1].t1, pr.calls[2].t0) <= base + one / 2);
    assert_true(result("manual_collect", "collect_found") >= 2);
    assert_true(result("manual_collect", "collect_freed") >= 2);
    rc_mprof_free(pr.p);
}

static void test_refcounts(void **state)
{
    (void)state;
    assert_true(result("refcounts", "a") == 1);
    assert_true(result("refcounts", "b") == 1);
    assert_true(result("refcounts", "c") == 2);
    assert_true(result("refcounts", "alias_after_b") == 2);
    assert_true(result("refcounts", "alias_after_del") == 1);
}

static void test_monte_carlo_peaks(void **state)
{
    (void)state;
    double with = result("monte_carlo", "walk_peak"), without = result("monte_carlo", "dist_peak");
    assert_true(without > 0);
    assert_true(with > without);
}

/* The recycle column of the rows of a type example's table whose first
 * word is small (resp. big): "view   48   312". */
static void pair(const char *tag, const char *small, const char *big, double *s, double *b)
{
    char name[128], line[512], w1[64], w2[64], w3[64];
    snprintf(name, sizeof name, "c_%s.txt", tag);
    FILE *f = fopen(path_of(name), "r");
    assert_non_null(f);
    *s = *b = NAN;
    while (fgets(line, sizeof line, f)) {
        double v;
        if (sscanf(line, "%63s %lf", w1, &v) == 2 || sscanf(line, "%63s %63s %63s %lf", w1, w2, w3, &v) == 4) {
            if (!strcmp(w1, small))
                *s = v;
            else if (!strcmp(w1, big))
                *b = v;
        }
    }
    fclose(f);
    if (isnan(*s) || isnan(*b))
        fail_msg("%s: no %s / %s rows", name, small, big);
}

static void test_types_smaller_side(void **state)
{
    (void)state;
    double s, b;
    pair("slots_vs_dict", "__slots__", "__dict__", &s, &b);
    assert_true(s > 0 && s < b);
    pair("view_vs_copy", "view", "copy", &s, &b);
    assert_true(s > 0 && s < b);
    pair("generator_vs_list", "generator", "list", &s, &b);
    assert_true(s > 0 && s < b);
}

/* ---- plots ----------------------------------------------------------------- */

typedef struct {
    png_uint_32 w, h;
    unsigned char *rgb;
} picture;

static void decode(picture *pic, const char *file)
{
    pic->rgb = png_read(file, PNG_FORMAT_RGB, &pic->w, &pic->h);
}

static bool dark_near(const picture *pic, double px, double py, int r)
{
    for (int dy = -r; dy <= r; dy++)
        for (int dx = -r; dx <= r; dx++) {
            long x = lround(px) + dx, y = lround(py) + dy;
            if (x < 0 || y < 0 || x >= (long)pic->w || y >= (long)pic->h)
                continue;
            const unsigned char *p = pic->rgb + (y * pic->w + x) * 3;
            if (p[0] < 90 && p[1] < 90 && p[2] < 90)
                return true;
        }
    return false;
}

/* The memory line of c_<tag>.png passes through the samples of its .dat:
 * the plot frame comes from drawing the same profile again with rc_plot
 * (same data, same default size, so the same layout). */
static void assert_memory_plot(const char *tag)
{
    char name[128], again[1400];
    snprintf(name, sizeof name, "c_%s.dat", tag);
    rc_mprof *p = NULL;
    assert_int_equal(rc_mprof_load(path_of(name), &p), 0);
    snprintf(again, sizeof again, "%s/test_demo_%s.png", RC_BINARY_DIR, tag);
    rc_plot_opts o;
    rc_plot_opts_default(&o);
    o.output = again;
    rc_plot_frame fr;
    const rc_mprof *one[] = {p};
    assert_int_equal(rc_plot(one, 1, &o, &fr), 0);
    remove(again);

    snprintf(name, sizeof name, "c_%s.png", tag);
    picture pic;
    decode(&pic, path_of(name));
    assert_int_equal(pic.w, fr.width);
    assert_int_equal(pic.h, fr.height);
    size_t on_line = 0;
    double t_start = p->mem[0].t;
    for (size_t i = 0; i < p->nmem; i++) {
        double x = fr.px0 + (p->mem[i].t - t_start - fr.x0) / (fr.x1 - fr.x0) * (fr.px1 - fr.px0);
        double y = fr.py1 - (p->mem[i].mib - fr.y0) / (fr.y1 - fr.y0) * (fr.py1 - fr.py0);
        on_line += dark_near(&pic, x, y, 3);
    }
    /* every sample has its marker on the line; allow a few lost to rounding */
    assert_true(p->nmem >= 10);
    assert_true(on_line >= p->nmem * 9 / 10);
    free(pic.rgb);
    rc_mprof_free(p);
}

static void test_memory_plots_drawn(void **state)
{
    (void)state;
    const char *tags[] = {"list", "array", "gc_disabled", "cycle_gc_disabled", "cycle_gc_enabled", "manual_collect", "manual_collect_array"};
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
        assert_memory_plot(tags[i]);
}

/* Pixels of one colour in the plot area of a picture. */
static size_t count_colour(const picture *pic, int r, int g, int b)
{
    size_t n = 0;
    for (size_t i = 0; i < (size_t)pic->w * pic->h; i++) {
        const unsigned char *p = pic->rgb + i * 3;
        n += abs(p[0] - r) < 30 && abs(p[1] - g) < 30 && abs(p[2] - b) < 30;
    }
    return n;
}

static void test_thresholds_chart_drawn(void **state)
{
    (void)state;
    picture pic;
    decode(&pic, path_of("c_thresholds.png"));
    /* the generation-0 lines (blue) and the generation-1 lines (red) */
    assert_true(count_colour(&pic, 31, 119, 180) > 500);
    assert_true(count_colour(&pic, 214, 39, 40) > 500);
    free(pic.rgb);
    /* and the data say what the chart shows: lower thresholds, more collections */
    assert_true(result("thresholds", "runs_100") > result("thresholds", "runs_700"));
}

static void test_object_graph_drawn(void **state)
{
    (void)state;
    picture pic;
    decode(&pic, path_of("c_objects.png"));
    assert_true(pic.w > 100 && pic.h > 50);
    size_t dark = 0;
    for (size_t i = 0; i < (size_t)pic.w * pic.h; i++)
        dark += pic.rgb[i * 3] < 90 && pic.rgb[i * 3 + 1] < 90 && pic.rgb[i * 3 + 2] < 90;
    assert_true(dark > 200);        /* boxes, arrows, text */
    free(pic.rgb);
    assert_true(result("cycle_drawn", "show_refs") == 0);
    assert_true(result("cycle_drawn", "why_alive_len") == 3);   /* list -> dict -> int */
    assert_true(result("cycle_drawn", "why_alive_cycle") == RC_ENOENT);
}

/* Every PNG in the output is valid; index.html embeds each figure. */
static void test_reports_complete(void **state)
{
    (void)state;
    struct stat st;
    assert_int_equal(stat(path_of("REPORT.md"), &st), 0);
    FILE *f = fopen(path_of("index.html"), "r");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *html = malloc((size_t)n + 1);
    assert_int_equal(fread(html, 1, (size_t)n, f), (size_t)n);
    html[n] = 0;
    fclose(f);
    size_t embedded = 0;
    for (const char *p = html; (p = strstr(p, "src=\"data:image/png;base64,")); p++)
        embedded++;
    assert_true(embedded >= 8);
    assert_null(strstr(html, "src=\"c_"));          /* nothing outside the page */
    assert_non_null(strstr(html, "not available here"));   /* python3 was hidden */
    free(html);

    /* every PNG in the output decodes, and there is one per figure */
    DIR *d = opendir(out_dir);
    assert_non_null(d);
    size_t pngs = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n > 4 && !strcmp(e->d_name + n - 4, ".png")) {
            picture pic;
            decode(&pic, path_of(e->d_name));
            free(pic.rgb);
            pngs++;
        }
    }
    closedir(d);
    assert_int_equal(pngs, embedded);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_baseline_three_bumps),
        cmocka_unit_test(test_cycle_gc_disabled_stairs),
        cmocka_unit_test(test_cycle_gc_enabled_stairs),
        cmocka_unit_test(test_manual_collect_falls),
        cmocka_unit_test(test_refcounts),
        cmocka_unit_test(test_monte_carlo_peaks),
        cmocka_unit_test(test_types_smaller_side),
        cmocka_unit_test(test_memory_plots_drawn),
        cmocka_unit_test(test_thresholds_chart_drawn),
        cmocka_unit_test(test_object_graph_drawn),
        cmocka_unit_test(test_reports_complete),
    };
    return cmocka_run_group_tests(tests, run_demo, NULL);
}
