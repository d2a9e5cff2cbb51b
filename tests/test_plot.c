/* src/profile/plot.c: charts decoded back with libpng — the memory line, the
 * brackets and the red maximum line are where the data says, inside the
 * plot area. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <recycle-tools.h>
#include "prof_support.h"

#include <math.h>
#include "png_read.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *dir;

typedef struct image {
    int w, h;
    unsigned char *rgba;
} image;

static image decode(const char *path)
{
    png_uint_32 w, h;
    unsigned char *rgba = png_read(path, PNG_FORMAT_RGBA, &w, &h);
    return (image){(int)w, (int)h, rgba};
}

static const unsigned char *px(const image *im, int x, int y)
{
    return im->rgba + 4 * ((size_t)y * (size_t)im->w + (size_t)x);
}

static bool dark(const unsigned char *c) { return c[0] < 90 && c[1] < 90 && c[2] < 90; }
static bool red(const unsigned char *c) { return c[0] > 200 && c[1] < 130 && c[2] < 130; }
/* A saturated colour that is not red: the bracket colours c y g b. */
static bool bracket(const unsigned char *c)
{
    int hi = c[0] > c[1] ? (c[0] > c[2] ? c[0] : c[2]) : (c[1] > c[2] ? c[1] : c[2]);
    int lo = c[0] < c[1] ? (c[0] < c[2] ? c[0] : c[2]) : (c[1] < c[2] ? c[1] : c[2]);
    return hi - lo > 100 && !red(c);
}

/* Counts pixels of a kind in the box of half-size r around (x, y). */
static int count_near(const image *im, double x, double y, int r, bool (*kind)(const unsigned char *))
{
    int n = 0;
    for (int j = (int)y - r; j <= (int)y + r; j++)
        for (int i = (int)x - r; i <= (int)x + r; i++)
            if (i >= 0 && j >= 0 && i < im->w && j < im->h)
                n += kind(px(im, i, j));
    return n;
}

static double to_px(const rc_plot_frame *f, double t)
{
    return f->px0 + (t - f->x0) / (f->x1 - f->x0) * (f->px1 - f->px0);
}

static double to_py(const rc_plot_frame *f, double mib)
{
    return f->py1 - (mib - f->y0) / (f->y1 - f->y0) * (f->py1 - f->py0);
}

/* Memory rises 10 -> 100 MiB over 10 s; load() spans 2..6 s; a PEAK of
 * 150 MiB between the samples at 8 and 9 s. */
static rc_mprof *synthetic(void)
{
    rc_mprof *p = rc_mprof_new();
    p->cmdline = strdup("synthetic");
    const double t0 = 1700000000;
    for (int i = 0; i <= 10; i++)
        rc_mprof_add_mem(p, t0 + i, 10 + 9 * i);
    rc_mprof_add_func(p, "load", 28, t0 + 2, 64, t0 + 6, 0);
    rc_mprof_add_peak(p, 150, t0 + 8, t0 + 9);
    return p;
}

static void test_png_shows_line_brackets_and_max(void **state)
{
    (void)state;
    rc_mprof *p = synthetic();
    rc_plot_opts o;
    rc_plot_opts_default(&o);
    o.output = prof_path(dir, "chart.png");
    o.width = 1000;
    o.height = 500;
    rc_plot_frame f;
    assert_int_equal(rc_plot((const rc_mprof *const *)&p, 1, &o, &f), 0);
    image im = decode(o.output);
    assert_int_equal(im.w, 1000);
    assert_int_equal(im.h, 500);
    assert_true(f.px0 > 0 && f.px1 < im.w && f.py0 > 0 && f.py1 < im.h);

    /* The memory line between samples: at t = 0.5 s, 14.5 MiB. */
    assert_true(count_near(&im, to_px(&f, 0.5), to_py(&f, 14.5), 2, dark) > 0);
    /* ...and not in the empty upper left of the plot area. */
    assert_int_equal(count_near(&im, to_px(&f, 1.0), to_py(&f, 120), 6, dark), 0);
    /* The spike from the PEAK record: the line climbs to 150 MiB at 8.5 s
     * (at 8.25 s it is half way up from 82 MiB) and a red mark sits there. */
    assert_true(count_near(&im, to_px(&f, 8.25), to_py(&f, 116), 2, dark) > 0);
    assert_true(count_near(&im, to_px(&f, 8.5), to_py(&f, 150), 4, red) > 10);

    /* Brackets: a vertical stroke at t = 2 s around 28 MiB and at 6 s
     * around 64 MiB, in a bracket colour; none far from them. */
    double v = (f.y1 - f.y0) / 20;
    assert_true(count_near(&im, to_px(&f, 2), to_py(&f, 28 - v / 2), 3, bracket) >= 4);
    assert_true(count_near(&im, to_px(&f, 6), to_py(&f, 64 + v / 2), 3, bracket) >= 4);
    assert_int_equal(count_near(&im, to_px(&f, 9.5), to_py(&f, 30), 8, bracket), 0);

    /* The red dashed maximum line at 150 MiB across the plot area. */
    int reds = 0, y = (int)to_py(&f, 150);
    for (int x = (int)f.px0 + 2; x < (int)f.px1 - 2; x++)
        reds += count_near(&im, x, y, 1, red) > 0;
    assert_true(reds > (f.px1 - f.px0) * 0.3);
    /* and nowhere near 100 MiB, where only the black line passes */
    assert_int_equal(count_near(&im, to_px(&f, 3), to_py(&f, 100), 5, red), 0);
    free(im.rgba);
    rc_mprof_free(p);
}

/* Pixels close to one colour (the cairo driver antialiases edges). */
static bool near_rgb(const unsigned char *c, int r, int g, int b)
{
    return abs(c[0] - r) < 25 && abs(c[1] - g) < 25 && abs(c[2] - b) < 25;
}

static bool first_colour(const unsigned char *c) { return near_rgb(c, 31, 119, 180); }
static bool second_colour(const unsigned char *c) { return near_rgb(c, 255, 127, 14); }
static bool third_colour(const unsigned char *c) { return near_rgb(c, 44, 160, 44); }

/* Mean row of the pixels of a kind in [x0, x1) x [y0, y1); -1 if none. */
static double mean_row(const image *im, int x0, int x1, int y0, int y1, bool (*kind)(const unsigned char *))
{
    double sum = 0;
    int n = 0;
    for (int y = y0 < 0 ? 0 : y0; y < y1 && y < im->h; y++)
        for (int x = x0 < 0 ? 0 : x0; x < x1 && x < im->w; x++)
            if (kind(px(im, x, y))) {
                sum += y;
                n++;
            }
    return n ? sum / n : -1;
}

/* Three calls of one function: each bracket in a colour of its own; two
 * of them open at the same time and height, and the second one's label is
 * moved up a line instead of being written over the first one's. */
static void test_brackets_own_colours_labels_apart(void **state)
{
    (void)state;
    rc_mprof *p = synthetic();
    const double t0 = 1700000000;
    rc_mprof_add_func(p, "load", 28, t0 + 2, 40, t0 + 3, 1);
    rc_mprof_add_func(p, "load", 80, t0 + 7, 90, t0 + 9, 0);
    rc_plot_opts o;
    rc_plot_opts_default(&o);
    o.output = prof_path(dir, "colours.png");
    rc_plot_frame f;
    assert_int_equal(rc_plot((const rc_mprof *const *)&p, 1, &o, &f), 0);
    image im = decode(o.output);
    double v = (f.y1 - f.y0) / 20;
    /* each bracket's closing stroke in its own colour, and only that one */
    assert_true(count_near(&im, to_px(&f, 6), to_py(&f, 64), 3, first_colour) >= 4);
    assert_true(count_near(&im, to_px(&f, 3), to_py(&f, 40), 3, second_colour) >= 4);
    assert_true(count_near(&im, to_px(&f, 9), to_py(&f, 90), 3, third_colour) >= 4);
    assert_int_equal(count_near(&im, to_px(&f, 3), to_py(&f, 40), 3, first_colour), 0);
    assert_int_equal(count_near(&im, to_px(&f, 9), to_py(&f, 90), 3, second_colour), 0);
    /* the labels above the two brackets opening at 2 s, 28 MiB: the
     * second sits at least most of a text line above the first */
    int x0 = (int)to_px(&f, 2) + 2, x1 = x0 + 60, top = (int)to_py(&f, 28 + v) - 3;
    double first = mean_row(&im, x0, x1, top - 80, top, first_colour);
    double second = mean_row(&im, x0, x1, top - 80, top, second_colour);
    assert_true(first > 0 && second > 0);
    assert_true(first - second > 8);
    free(im.rgba);
    rc_mprof_free(p);
}

static bool starts_with(const char *path, const char *magic)
{
    char *s = prof_slurp(path);
    bool ok = s && strstr(s, magic) != NULL && (size_t)(strstr(s, magic) - s) < 200;
    free(s);
    return ok;
}

static void test_formats_options_and_errors(void **state)
{
    (void)state;
    rc_mprof *p = synthetic();
    rc_mprof *two[2] = {p, synthetic()};
    rc_plot_opts o;
    rc_plot_opts_default(&o);
    o.output = prof_path(dir, "chart.svg");
    o.slope = true;
    assert_int_equal(rc_plot((const rc_mprof *const *)two, 2, &o, NULL), 0);
    assert_true(starts_with(o.output, "<svg"));
    o.output = prof_path(dir, "chart.pdf");
    o.flame = true;
    o.slope = false;
    assert_int_equal(rc_plot((const rc_mprof *const *)&p, 1, &o, NULL), 0);
    assert_true(starts_with(o.output, "%PDF"));

    /* -w: the window decides the frame */
    rc_plot_frame f;
    rc_plot_opts_default(&o);
    o.output = prof_path(dir, "window.png");
    o.window[0] = 2;
    o.window[1] = 4;
    o.window[2] = 0;
    o.window[3] = 50;
    assert_int_equal(rc_plot((const rc_mprof *const *)&p, 1, &o, &f), 0);
    assert_true(f.x0 == 2 && f.x1 == 4 && f.y0 == 0 && f.y1 == 50);

    o.window[0] = 4;   /* x0 > x1 */
    o.window[1] = 2;
    assert_int_equal(rc_plot((const rc_mprof *const *)&p, 1, &o, NULL), RC_EINVAL);
    assert_non_null(strstr(rc_last_error(NULL), "empty window: x 4..2 s"));
    o.output = prof_path(dir, "chart.gif");
    assert_int_equal(rc_plot((const rc_mprof *const *)&p, 1, &o, NULL), RC_EINVAL);
    assert_non_null(strstr(rc_last_error(NULL), "chart.gif: the output must end in .png, .svg or .pdf"));
    rc_mprof_free(p);
    rc_mprof_free(two[1]);
}

/* The tool end to end, and a file recorded from a real run. */
static void test_recycle_plot_command(void **state)
{
    (void)state;
    char *out;
    assert_int_equal(prof_sh(&out, "cd %s && %s run -T 0.02 -o mprofile_20200101000000.dat %s && "
                             "%s plot mprofile_20200101000000.dat -o run.png --title 'brackets' && "
                             "%s plot -1 -n -o idx.png && ls",
                             dir, prof_recycle(), prof_example("profile_brackets"), prof_recycle(),
                             prof_recycle()), 0);
    assert_non_null(strstr(out, "run.png"));
    assert_non_null(strstr(out, "idx.png"));
    free(out);
    image im = decode(prof_path(dir, "run.png"));
    assert_true(im.w == 1260 && im.h == 540);
    int coloured = 0;
    for (int i = 0; i < im.w * im.h; i++)
        coloured += bracket(im.rgba + 4 * i);
    assert_true(coloured > 50);   /* brackets of outer, leaf, recurse */
    free(im.rgba);
    assert_int_equal(prof_sh(&out, "cd %s && %s plot -w 1,x -1", dir, prof_recycle()), 2);
    free(out);
    /* an output that cannot be written: one line, exit 1, no PLplot abort */
    assert_int_equal(prof_sh(&out, "cd %s && %s plot -o /nonexistent/x.png -1", dir, prof_recycle()), 1);
    assert_string_equal(out, "recycle plot: cannot write /nonexistent/x.png: No such file or directory\n");
    free(out);
}

int main(void)
{
    dir = prof_tmpdir();
    if (!dir)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png_shows_line_brackets_and_max),
        cmocka_unit_test(test_brackets_own_colours_labels_apart),
        cmocka_unit_test(test_formats_options_and_errors),
        cmocka_unit_test(test_recycle_plot_command),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (!failed)
        prof_sh(NULL, "rm -rf '%s'", dir);
    return failed;
}
