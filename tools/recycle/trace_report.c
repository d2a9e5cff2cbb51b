/* recycle trace-report SNAPSHOT -o report.html [--by calls|temporary|
 * allocated|peak|leaked] [--limit N] [filters]: one self-contained page
 * for a person to browse — the summary, the top sites (heaptrack's
 * figures), the live set at the traced peak, the top lines over time
 * (a PNG inside the page, when `recycle trace --every` wrote numbered
 * snapshots) and the flame graph of the peak (SVG inside the page). */
#include "commands.h"
#include "trace_tool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put_escaped(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        default: fputc(*s, out);
        }
    }
}

static const char *size_text(size_t n, char *buf)
{
    rc_trace_format_size((double)n, false, buf, 32);
    return buf;
}

static void put_site(FILE *out, const rc_trace_stat *it)
{
    const rc_frame *f = &it->traceback->frames[0];
    fputs("<td class=\"site\">", out);
    put_escaped(out, f->filename);
    fprintf(out, ":%d</td>", f->lineno);
}

static void put_summary(FILE *out, rc_snapshot *s, const rc_trace_stats *sites)
{
    size_t cur, peak, calls = 0, temporary = 0, allocated = 0;
    char a[32], b[32], c[32];
    rc_snapshot_traced_memory(s, &cur, &peak);
    for (size_t i = 0; sites && i < sites->len; i++) {
        calls += sites->items[i].calls;
        temporary += sites->items[i].temporary;
        allocated += sites->items[i].allocated;
    }
    fprintf(out, "<section id=\"summary\"><h2>Summary</h2><table class=\"summary\">\n"
                 "<tr><th>traced peak</th><td>%s</td></tr>\n"
                 "<tr><th>live when written</th><td>%s in %zu blocks</td></tr>\n",
            size_text(peak, a), size_text(rc_snapshot_size(s), b), rc_snapshot_count(s));
    if (sites)
        fprintf(out, "<tr><th>allocation calls</th><td>%zu</td></tr>\n"
                     "<tr><th>temporary allocations</th><td>%zu</td></tr>\n"
                     "<tr><th>allocated in all</th><td>%s</td></tr>\n", calls, temporary, size_text(allocated, c));
    fputs("</table></section>\n", out);
}

static const char *const order_names[] = {"calls", "temporary", "allocated", "peak", "leaked"};

static void put_sites(FILE *out, rc_trace_stats *sites, rc_trace_order order, size_t limit)
{
    fprintf(out, "<section id=\"sites\"><h2>Top sites by %s</h2>\n", order_names[order]);
    if (!sites) {
        fputs("<p>This snapshot holds no record of the run (not written by recycle trace).</p></section>\n", out);
        return;
    }
    rc_trace_stats_sort(sites, order);
    size_t shown = limit && limit < sites->len ? limit : sites->len;
    fputs("<table id=\"sites-table\"><thead><tr><th>site</th><th>calls</th><th>temporary</th><th>allocated</th>"
          "<th>peak</th><th>peak blocks</th><th>leaked</th><th>leaked blocks</th></tr></thead><tbody>\n", out);
    for (size_t i = 0; i < shown; i++) {
        const rc_trace_stat *it = &sites->items[i];
        char a[32], p[32], l[32];
        fputs("<tr>", out);
        put_site(out, it);
        fprintf(out, "<td>%zu</td><td>%zu</td><td>%s</td><td>%s</td><td>%zu</td><td>%s</td><td>%zu</td></tr>\n",
                it->calls, it->temporary, size_text(it->allocated, a), size_text(it->peak_size, p), it->peak_count,
                size_text(it->size, l), it->count);
    }
    fprintf(out, "</tbody></table><p>%zu of %zu sites shown.</p></section>\n", shown, sites->len);
}

static void put_peak(FILE *out, rc_snapshot *s, size_t limit)
{
    fputs("<section id=\"peak\"><h2>Live at the traced peak</h2>\n", out);
    rc_trace_stats *st = rc_snapshot_has_sites(s)
                             ? rc_snapshot_statistics_view(s, RC_TRACE_VIEW_PEAK, RC_TRACE_BY_LINENO, false) : NULL;
    if (!st) {
        fputs("<p>Not recorded in this snapshot.</p></section>\n", out);
        return;
    }
    size_t shown = limit && limit < st->len ? limit : st->len;
    fputs("<table id=\"peak-table\"><thead><tr><th>site</th><th>size</th><th>blocks</th><th>average</th></tr>"
          "</thead><tbody>\n", out);
    for (size_t i = 0; i < shown; i++) {
        const rc_trace_stat *it = &st->items[i];
        char a[32], b[32];
        fputs("<tr>", out);
        put_site(out, it);
        fprintf(out, "<td>%s</td><td>%zu</td><td>%s</td></tr>\n", size_text(it->size, a), it->count,
                size_text(it->count ? it->size / it->count : 0, b));
    }
    fprintf(out, "</tbody></table><p>%zu of %zu lines shown.</p></section>\n", shown, st->len);
    rc_trace_stats_free(st);
}

/* The whole of path, malloc'd and NUL-terminated; NULL if unreadable. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    if (!f)
        return NULL;
    do {
        if (n + 65536 + 1 > cap) {
            char *grown = realloc(buf, cap = 2 * cap + 65536 + 1);
            if (!grown)
                break;
            buf = grown;
        }
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
    } while (got > 0);
    bool ok = buf && !ferror(f) && feof(f);
    fclose(f);
    if (!ok) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

static void put_base64(FILE *out, const unsigned char *p, size_t n)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        char q[5] = {digits[v >> 18 & 63], digits[v >> 12 & 63], i + 1 < n ? digits[v >> 6 & 63] : '=',
                     i + 2 < n ? digits[v & 63] : '=', 0};
        fputs(q, out);
    }
}

/* The over-time chart as a data: URI; 0, or -1 after saying why not. */
static int put_over_time(FILE *out, const char *snap, const char *tmp, const cli_report_opts *o)
{
    fputs("<section id=\"over-time\"><h2>Top lines over time</h2>\n", out);
    if (!cli_has_series(snap)) {
        fputs("<p>No numbered snapshots beside this one (<code>recycle trace --every S</code> writes them).</p>"
              "</section>\n", out);
        return 0;
    }
    char png[4096];
    snprintf(png, sizeof png, "%s/over-time.png", tmp);
    cli_report_opts chart = *o;
    chart.output = png;
    chart.chart_only = true;
    size_t n = 0;
    char *data = cli_over_time(snap, &chart) == 0 ? slurp(png, &n) : NULL;
    unlink(png);
    if (!data)
        return -1;
    fputs("<img id=\"over-time-chart\" alt=\"the top lines' live sizes along the run\" src=\"data:image/png;base64,",
          out);
    put_base64(out, (const unsigned char *)data, n);
    fputs("\"></section>\n", out);
    free(data);
    return 0;
}

/* The flame graph of st, the <svg> element of PLplot's file scaled to the
 * page's width; 0, or -1 after saying why not. */
static int put_flame(FILE *out, const rc_trace_stats *st, const char *title, const char *tmp)
{
    char svg[4096];
    snprintf(svg, sizeof svg, "%s/flame.svg", tmp);
    size_t n;
    char *data = cli_flame_draw(st, svg, title) == 0 ? slurp(svg, &n) : NULL;
    unlink(svg);
    char *start = data ? strstr(data, "<svg") : NULL, *end = start ? strchr(start, '>') : NULL;
    if (!end) {
        free(data);
        return -1;
    }
    char *w = strstr(start, "width=\""), *h = strstr(start, "height=\"");
    fputs("<svg class=\"flame\"", out);
    for (char *p = start + 4; p < end; p++) {
        if ((p == w || p == h) && p < end) {      /* the viewBox keeps the proportions */
            p = strchr(p + 8, '"');
            continue;
        }
        fputc(*p, out);
    }
    fputs(end, out);
    free(data);
    return 0;
}

static const char style[] =
    "body{font-family:sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "th,td{border:1px solid #ccc;padding:.2em .6em;text-align:right}"
    "th{background:#f0f0f0}td{white-space:nowrap}th:first-child{text-align:left}"
    "td.site,.summary th{text-align:left;font-family:monospace;white-space:normal}"
    "img,svg.flame{max-width:100%;height:auto;border:1px solid #ddd}"
    "section{margin-bottom:2em}";

static int write_page(FILE *out, const char *snap, rc_snapshot *s, const cli_report_opts *o, const char *tmp)
{
    bool sites_ok = rc_snapshot_has_sites(s);
    rc_trace_stats *sites = sites_ok ? rc_snapshot_statistics_view(s, RC_TRACE_VIEW_SITES, RC_TRACE_BY_LINENO, false)
                                     : NULL;
    rc_trace_view fv = sites_ok ? RC_TRACE_VIEW_PEAK : RC_TRACE_VIEW_LIVE;
    rc_trace_stats *tbs = rc_snapshot_statistics_view(s, fv, RC_TRACE_BY_TRACEBACK, false);
    if ((sites_ok && !sites) || !tbs) {
        fprintf(stderr, "recycle trace-report: %s: %s\n", snap, rc_last_error(NULL));
        rc_trace_stats_free(sites);
        rc_trace_stats_free(tbs);
        return -1;
    }
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>recycle trace report: ", out);
    put_escaped(out, snap);
    fprintf(out, "</title><style>%s</style></head><body>\n<h1>Allocations traced in ", style);
    put_escaped(out, snap);
    fputs("</h1>\n", out);
    put_summary(out, s, sites);
    put_sites(out, sites, o->view == RC_TRACE_VIEW_SITES ? o->order : RC_TRACE_ORDER_PEAK, o->limit);
    put_peak(out, s, o->limit);
    int err = put_over_time(out, snap, tmp, o);
    fprintf(out, "<section id=\"flame\"><h2>Flame graph of %s</h2>\n", sites_ok ? "the traced peak" : "the live set");
    size_t bytes = 0;
    for (size_t k = 0; k < tbs->len; k++)
        bytes += tbs->items[k].size;
    if (!bytes)
        fputs("<p>Nothing was live.</p>\n", out);
    else if (!err)
        err = put_flame(out, tbs, sites_ok ? "live at the traced peak" : "live when written", tmp);
    fputs("</section>\n</body></html>\n", out);
    rc_trace_stats_free(sites);
    rc_trace_stats_free(tbs);
    return err;
}

int cmd_trace_report(int argc, char **argv)
{
    cli_report_opts o;
    int i = cli_report_options("trace-report", argc, argv, 1, &o);
    if (i < 0)
        return CLI_EXIT_USAGE;
    if (!o.output) {
        fprintf(stderr, "usage: recycle trace-report SNAPSHOT -o REPORT.html [--by calls|temporary|allocated|peak|leaked]"
                        " [--limit N]\n");
        return CLI_EXIT_USAGE;
    }
    const char *path = o.output;
    FILE *out = fopen(path, "w");
    if (!out) {
        fprintf(stderr, "recycle trace-report: cannot write %s: %s\n", path, strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    char tmp[] = "/tmp/recycle-report-XXXXXX";     /* the pictures on their way into the page */
    rc_snapshot *s = cli_load_snapshot("trace-report", argv[i], &o);
    if (s)
        s = cli_suppress(s, &o);
    bool made = s && mkdtemp(tmp);
    if (s && !made)
        fprintf(stderr, "recycle trace-report: %s: %s\n", tmp, strerror(errno));
    int err = made ? write_page(out, argv[i], s, &o, tmp) : -1;
    if (made)
        rmdir(tmp);
    if (fclose(out) != 0 && !err) {
        fprintf(stderr, "recycle trace-report: %s: %s\n", path, strerror(errno));
        err = -1;
    }
    rc_snapshot_free(s);
    if (err)
        unlink(path);
    return err ? CLI_EXIT_FAILURE : 0;
}
