/* `recycle trace-report`: the HTML page of a trace, opened in a real
 * headless browser (Debian's chromium, installed by scripts/deps.sh) —
 * the DOM it builds holds the summary, the tables with the rows asked
 * for, the over-time chart and the flame graph's boxes and labels, and
 * its screenshot shows the flame graph drawn. */
#include <recycle.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "png_read.h"
#include "files.h"

static char dir[] = "/tmp/test_trace_report_XXXXXX";

static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot read %s", path);
    char *buf = NULL;
    size_t n = 0, cap = 0, got;
    do {
        if (n + 4097 > cap)
            assert_non_null(buf = realloc(buf, cap = 2 * cap + 4097));
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
    } while (got);
    fclose(f);
    buf[n] = 0;
    return buf;
}

static size_t count(const char *s, const char *what)
{
    size_t n = 0;
    for (; (s = strstr(s, what)); s++)
        n++;
    return n;
}

/* The part of the page from the element with id up to the next section. */
static char *section(char *dom, const char *id)
{
    char open[64];
    snprintf(open, sizeof open, "<section id=\"%s\">", id);
    char *start = strstr(dom, open);
    if (!start)
        fail_msg("no section %s in the page", id);
    char *end = strstr(start + 1, "<section");
    if (end)
        *end = 0;
    return start;
}

/* chromium run as the brief for CI says: no sandbox (root in a container),
 * nothing from the network, a throw-away profile. */
static void browse(const char *page, const char *flags, const char *out)
{
    int r = sh("command -v chromium >/dev/null || { echo 'test_trace_report: chromium is missing "
               "(scripts/deps.sh installs it)' >&2; exit 99; }; "
               "p=$(mktemp -d) && timeout 120 chromium --headless --no-sandbox --disable-gpu "
               "--disable-background-networking --disable-component-update --disable-sync --no-first-run "
               "--user-data-dir=$p %s file://%s > %s 2>%s/chromium.log; s=$?; rm -rf $p; exit $s",
               flags, page, out, dir);
    if (r != 0)
        fail_msg("chromium failed (%d); see %s/chromium.log", r, dir);
}

static void test_page_in_a_browser(void **state)
{
    (void)state;
    /* numbered copies stand for the snapshots --every writes along a run */
    assert_int_equal(sh("RECYCLE_TRACE_LIB=%s %s trace -n 4 -o %s/r.snap -- %s peak >/dev/null 2>&1 && "
                        "cp %s/r.snap %s/r.snap.00001 && cp %s/r.snap %s/r.snap.00002",
                        RC_PRELOAD_LIB, RC_RECYCLE, dir, RC_FRAMES_PROG, dir, dir, dir, dir), 0);
    assert_int_equal(sh("%s trace-report %s/r.snap -o %s/r.html --by calls --limit 3", RC_RECYCLE, dir, dir), 0);
    char page[300], dom_path[300], shot[300];
    snprintf(page, sizeof page, "%s/r.html", dir);
    snprintf(dom_path, sizeof dom_path, "%s/dom.html", dir);
    snprintf(shot, sizeof shot, "%s/shot.png", dir);
    browse(page, "--dump-dom", dom_path);
    char *dom = read_text(dom_path);
    assert_non_null(strstr(dom, "<h1>Allocations traced in"));

    char *flame = section(dom, "flame");
    assert_int_equal(count(flame, "<svg"), 1);
    assert_true(count(flame, "<polyline") >= 4);          /* main, rise_and_fall, the site, leak_small... */
    assert_non_null(strstr(flame, "rise_and_fall"));      /* labels are text the browser can find */
    char *over = section(dom, "over-time");
    assert_non_null(strstr(over, "<img id=\"over-time-chart\""));
    assert_non_null(strstr(over, "src=\"data:image/png;base64,iVBORw0KGgo"));   /* a PNG's signature */
    char *peak = section(dom, "peak");
    assert_int_equal(count(peak, "<td class=\"site\">"), 2);   /* peak_only and leak_small */
    assert_non_null(strstr(peak, "<td>977 KiB</td><td>100</td>"));
    char *sites = section(dom, "sites");
    assert_non_null(strstr(sites, "Top sites by calls"));
    assert_int_equal(count(sites, "<td class=\"site\">"), 3);  /* --limit 3 */
    char *summary = section(dom, "summary");
    assert_non_null(strstr(summary, "<th>temporary allocations</th><td>80</td>"));   /* 50 + 1 + 29 */
    free(dom);

    char flags[400];
    snprintf(flags, sizeof flags, "--window-size=1200,1800 --screenshot=%s", shot);
    browse(page, flags, "/dev/null");
    png_uint_32 w, h;
    unsigned char *rgba = png_read(shot, PNG_FORMAT_RGBA, &w, &h);
    assert_non_null(rgba);
    size_t warm = 0;                                      /* the flame graph's red-to-yellow boxes */
    for (size_t i = 0; i < (size_t)w * h; i++) {
        const unsigned char *c = rgba + 4 * i;
        warm += c[0] > 220 && c[1] > 80 && c[2] < 70;
    }
    free(rgba);
    assert_true(warm > 10000);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_in_a_browser),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (!failed)
        remove_tree(dir);
    return failed;
}
