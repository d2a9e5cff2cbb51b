/* Option parsing and loading shared by `recycle trace-stats` and
 * `recycle trace-diff`. */
#include "trace_tool.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(const char *cmd, const char *what, const char *value)
{
    fprintf(stderr, "recycle %s: %s '%s'\n", cmd, what, value);
    return -1;
}

/* PATTERN or PATTERN:LINE, as a tracemalloc.Filter. */
static int add_filter(const char *cmd, cli_report_opts *o, bool inclusive, char *arg)
{
    if (o->nfilters == sizeof o->filters / sizeof o->filters[0])
        return bad(cmd, "too many filters at", arg);
    rc_trace_filter *f = &o->filters[o->nfilters++];
    memset(f, 0, sizeof *f);
    f->inclusive = inclusive;
    char *colon = strrchr(arg, ':');
    if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
        *colon = 0;
        f->lineno = atoi(colon + 1);
    }
    f->filename_pattern = arg;
    return 0;
}

static void report_usage(FILE *out, const char *cmd, bool help)
{
    bool stats = strcmp(cmd, "trace-diff") != 0;
    fprintf(out, "usage: recycle %s %s [--by lineno|filename|traceback] [--limit N] [--cumulative]\n"
                 "       [--include PATTERN[:LINE]] [--exclude PATTERN[:LINE]] [--domain N]\n",
            cmd, stats ? "SNAPSHOT" : "OLD NEW");
    if (stats)
        fputs("       [--peak] [--by calls|temporary|allocated|peak|leaked] [--over-time [-o CHART]]\n"
              "       [--suppressions FILE]... [--no-default-suppressions]\n", out);
    if (stats && help)
        fputs("  --peak   what was live when the traced total peaked\n"
              "  --by calls|...  heaptrack's figures per line, largest first\n"
              "  --over-time  the top lines along SNAPSHOT.00001, .00002, ... (--every)\n"
              "  -o CHART     with --over-time: draw them too (.png, .svg or .pdf)\n"
              "  --suppressions FILE  leave out traces a leak:PATTERN line matches\n"
              "  --no-default-suppressions  --by leaked shows system libraries' leaks too\n", out);
}

/* A grouping key (tracemalloc's) or one of heaptrack's orders, which
 * group by line. */
static int parse_by(cli_report_opts *o, const char *arg)
{
    static const char *const keys[] = {"filename", "lineno", "traceback"};
    static const char *const orders[] = {"calls", "temporary", "allocated", "peak", "leaked"};
    for (int i = 0; i < 3; i++)
        if (!strcmp(arg, keys[i])) {
            o->key = (rc_trace_key)i;
            return 0;
        }
    for (int i = 0; i < 5; i++)
        if (!strcmp(arg, orders[i])) {
            o->view = RC_TRACE_VIEW_SITES;
            o->order = (rc_trace_order)i;
            return 0;
        }
    return -1;
}

int cli_report_options(const char *cmd, int argc, char **argv, int operands, cli_report_opts *o)
{
    static const struct option longs[] = {
        {"by", required_argument, NULL, 'b'},      {"limit", required_argument, NULL, 'l'},
        {"cumulative", no_argument, NULL, 'c'},    {"include", required_argument, NULL, 'i'},
        {"exclude", required_argument, NULL, 'x'}, {"domain", required_argument, NULL, 'd'},
        {"peak", no_argument, NULL, 'p'},          {"over-time", no_argument, NULL, 't'},
        {"suppressions", required_argument, NULL, 's'}, {"no-default-suppressions", no_argument, NULL, 'S'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->key = RC_TRACE_BY_LINENO;
    o->limit = 10;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "b:l:ci:x:d:pts:So:h", longs, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'b':
            if (parse_by(o, optarg))
                return bad(cmd, "--by takes lineno, filename, traceback, calls, temporary, allocated, peak or leaked, not",
                           optarg);
            break;
        case 'p': o->view = RC_TRACE_VIEW_PEAK; break;
        case 't': o->over_time = true; break;
        case 'o': o->output = optarg; break;
        case 'S': o->no_default_suppressions = true; break;
        case 's':
            if (o->nsuppressions == sizeof o->suppressions / sizeof o->suppressions[0])
                return bad(cmd, "too many suppression files at", optarg);
            o->suppressions[o->nsuppressions++] = optarg;
            break;
        case 'l':
            o->limit = strtoul(optarg, &end, 10);
            if (*end || !*optarg)
                return bad(cmd, "--limit takes a number (0: all), not", optarg);
            break;
        case 'c': o->cumulative = true; break;
        case 'i': case 'x':
            if (add_filter(cmd, o, c == 'i', optarg))
                return -1;
            break;
        case 'd':
            if (o->nfilters == sizeof o->filters / sizeof o->filters[0])
                return bad(cmd, "too many filters at", optarg);
            o->filters[o->nfilters++] = (rc_trace_filter){.inclusive = true, .has_domain = true,
                                                          .domain = (unsigned)strtoul(optarg, NULL, 10)};
            break;
        case 'h':
            if (!strcmp(cmd, "trace-report")) {
                printf("usage: recycle trace-report SNAPSHOT -o REPORT.html [--by calls|temporary|allocated|peak|leaked]\n"
                       "       [--limit N] [--include PATTERN[:LINE]] [--exclude PATTERN[:LINE]] [--domain N]\n"
                       "       [--suppressions FILE]\n"
                       "  one self-contained page: summary, top sites, the peak, the top lines over time\n"
                       "  (from SNAPSHOT.00001, ... when --every wrote them) and the peak's flame graph\n");
                exit(0);
            }
            report_usage(stdout, cmd, true);
            exit(0);
        default:
            return -1;
        }
    }
    bool stats = !strcmp(cmd, "trace-stats"), report = !strcmp(cmd, "trace-report");
    if ((o->view == RC_TRACE_VIEW_PEAK || o->over_time) && !stats) {
        fprintf(stderr, "recycle %s: --peak and --over-time are for trace-stats\n", cmd);
        return -1;
    }
    if (o->view == RC_TRACE_VIEW_SITES && !stats && !report) {
        fprintf(stderr, "recycle %s: --by %s are for trace-stats and trace-report\n", cmd, "calls|temporary|...");
        return -1;
    }
    if (o->output && !o->over_time && !report) {
        fprintf(stderr, "recycle %s: -o draws the --over-time chart; give --over-time too\n", cmd);
        return -1;
    }
    if (o->cumulative && o->key == RC_TRACE_BY_TRACEBACK) {
        fprintf(stderr, "recycle %s: cumulative mode cannot be used with --by traceback\n", cmd);
        return -1;
    }
    if (argc - optind != operands) {
        report_usage(stderr, cmd, false);
        return -1;
    }
    return optind;
}

rc_snapshot *cli_load_snapshot(const char *cmd, const char *path, const cli_report_opts *o)
{
    rc_snapshot *s;
    if (rc_snapshot_load(path, &s) != 0) {
        fprintf(stderr, "recycle %s: %s\n", cmd, rc_last_error(NULL));
        return NULL;
    }
    if (!o->nfilters)
        return s;
    rc_snapshot *f = rc_snapshot_filter_traces(s, o->filters, o->nfilters);
    rc_snapshot_free(s);
    if (!f)
        fprintf(stderr, "recycle %s: %s: out of memory\n", cmd, path);
    return f;
}

static void free_patterns(char **p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(p[i]);
    free(p);
}

/* The defaults (leak view only), then the files'. */
static int collect_patterns(const cli_report_opts *o, char ***p, size_t *n)
{
    size_t nd = 0;
    const char *const *d = rc_trace_default_suppressions(&nd);
    bool defaults = o->view == RC_TRACE_VIEW_SITES && o->order == RC_TRACE_ORDER_LEAKED && !o->no_default_suppressions;
    for (size_t i = 0; defaults && i < nd; i++) {
        char **grown = realloc(*p, (*n + 1) * sizeof **p);
        if (!grown || !(grown[*n] = strdup(d[i]))) {
            *p = grown ? grown : *p;
            fprintf(stderr, "recycle trace-stats: out of memory\n");
            return -1;
        }
        *p = grown;
        (*n)++;
    }
    for (size_t i = 0; i < o->nsuppressions; i++) {
        if (rc_trace_read_suppressions(o->suppressions[i], p, n) != 0) {
            fprintf(stderr, "recycle trace-stats: %s\n", rc_last_error(NULL));
            return -1;
        }
    }
    return 0;
}

rc_snapshot *cli_suppress(rc_snapshot *s, const cli_report_opts *o)
{
    char **p = NULL;
    size_t n = 0, bytes = 0, count = 0;
    if (collect_patterns(o, &p, &n) != 0) {
        free_patterns(p, n);
        rc_snapshot_free(s);
        return NULL;
    }
    if (!n)
        return s;
    rc_snapshot *c = rc_snapshot_suppress(s, (const char *const *)p, n, &bytes, &count);
    rc_snapshot_free(s);
    free_patterns(p, n);
    if (!c) {
        fprintf(stderr, "recycle trace-stats: out of memory\n");
        return NULL;
    }
    char size[32];
    rc_trace_format_size((double)bytes, false, size, sizeof size);
    printf("Suppressed: %zu blocks, %s (%zu pattern%s)\n", count, size, n, n == 1 ? "" : "s");
    return c;
}
