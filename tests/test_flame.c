/* src/trace/flame.c: flame graphs read back — one box per frame merged
 * across stacks, boxes as wide as their bytes, labels that fit their box,
 * and the errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <recycle-tools.h>
#include "prof_support.h"

#include "png_read.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *dir;

/* The SVG's text with &#xHH; entities (PLplot's svg driver writes every
 * label character so) turned back into characters. */
static char *svg_text(const char *path)
{
    char *s = prof_slurp(path);
    assert_non_null(s);
    char *w = s;
    for (const char *r = s; *r;) {
        unsigned c;
        int n = 0;
        if (sscanf(r, "&#x%x;%n", &c, &n) == 1 && n > 0 && c < 128) {
            *w++ = (char)c;
            r += n;
        } else {
            *w++ = *r++;
        }
    }
    *w = 0;
    return s;
}

/* Widths of the filled boxes, largest first; their number. */
static int box_widths(const char *svg, double *w, int max)
{
    int n = 0;
    for (const char *p = svg; (p = strstr(p, "<polyline")) && n < max; p++) {
        const char *pts = strstr(p, "points=\"");
        assert_non_null(pts);
        double lo = 1e9, hi = -1e9, x, y;
        int used;
        for (pts += 8; sscanf(pts, "%lf,%lf %n", &x, &y, &used) == 2; pts += used) {
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
        }
        w[n++] = hi - lo;
    }
    for (int i = 0; i < n; i++)            /* a few boxes: insertion sort */
        for (int j = i; j > 0 && w[j] > w[j - 1]; j--) {
            double t = w[j];
            w[j] = w[j - 1];
            w[j - 1] = t;
        }
    return n;
}

static const char *const s_ax[] = {"main", "alpha", "x_leaf"};
static const char *const s_ay[] = {"main", "alpha", "y_leaf"};
static const char *const s_b[] = {"main", "beta"};

static void test_svg_boxes_merge_and_scale(void **state)
{
    (void)state;
    rc_flame_stack st[] = {{s_b, 2, 50}, {s_ax, 3, 100}, {s_ay, 3, 50}};
    const char *out = prof_path(dir, "flame.svg");
    assert_int_equal(rc_flame(st, 3, out, "three stacks"), 0);
    char *svg = svg_text(out);
    double w[16];
    assert_int_equal(box_widths(svg, w, 16), 5);      /* main, alpha, beta, x_leaf, y_leaf */
    assert_true(w[0] > 1000);                         /* main: the whole width */
    assert_float_equal(w[1] / w[0], 0.75, 0.01);      /* alpha: 150 of 200 bytes */
    assert_float_equal(w[2] / w[0], 0.50, 0.01);      /* x_leaf */
    assert_float_equal(w[3] / w[0], 0.25, 0.01);      /* beta and y_leaf */
    assert_float_equal(w[4] / w[0], 0.25, 0.01);
    for (int i = 0; i < 3; i++)
        assert_non_null(strstr(svg, s_ax[i]));
    assert_non_null(strstr(svg, "y_leaf"));
    assert_non_null(strstr(svg, "beta"));
    assert_non_null(strstr(svg, "three stacks"));
    free(svg);
}

static void test_labels_fit_their_box(void **state)
{
    (void)state;
    static const char *const wide[] = {"a_function_with_a_name_long_enough_to_be_cut_in_a_narrow_box"};
    static const char *const narrow[] = {"tiny_box_label"};
    rc_flame_stack st[] = {{wide, 1, 100}, {narrow, 1, 1000}};
    const char *out = prof_path(dir, "labels.svg");
    assert_int_equal(rc_flame(st, 2, out, NULL), 0);
    char *svg = svg_text(out);
    assert_non_null(strstr(svg, "tiny_box_label"));
    assert_null(strstr(svg, wide[0]));                /* a tenth of the width: cut, marked ".." */
    assert_non_null(strstr(svg, "a_function_"));
    assert_non_null(strstr(svg, ".."));
    free(svg);
}

static void test_png_and_errors(void **state)
{
    (void)state;
    rc_flame_stack st[] = {{s_ax, 3, 100}};
    const char *png = prof_path(dir, "flame.png");
    assert_int_equal(rc_flame(st, 1, png, "png"), 0);
    png_uint_32 w, h;
    unsigned char *rgba = png_read(png, PNG_FORMAT_RGBA, &w, &h);
    assert_non_null(rgba);
    assert_int_equal(w, 1200);
    free(rgba);
    assert_int_equal(rc_flame(st, 1, prof_path(dir, "flame.txt"), NULL), RC_EINVAL);
    assert_non_null(strstr(rc_last_error(NULL), ".svg"));
    rc_flame_stack none[] = {{s_ax, 3, 0}};
    assert_int_equal(rc_flame(none, 1, png, NULL), RC_EINVAL);
}

int main(void)
{
    dir = prof_tmpdir();
    if (!dir)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_svg_boxes_merge_and_scale),
        cmocka_unit_test(test_labels_fit_their_box),
        cmocka_unit_test(test_png_and_errors),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (!failed)
        prof_sh(NULL, "rm -rf '%s'", dir);
    return failed;
}
