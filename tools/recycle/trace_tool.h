/* Helpers shared by `recycle trace`, `trace-stats` and `trace-diff`. */
#ifndef RECYCLE_TOOL_TRACE_H
#define RECYCLE_TOOL_TRACE_H

#include <recycle.h>

/* Options of trace-stats and trace-diff. */
typedef struct cli_report_opts {
    rc_trace_key key;
    size_t limit;
    bool cumulative;
    rc_trace_filter filters[16];
    size_t nfilters;
    rc_trace_view view;        /* --peak, or --by calls|temporary|allocated|peak|leaked */
    bool over_time;            /* --over-time */
    const char *output;        /* -o: the --over-time chart (.png, .svg, .pdf) */
    const char *suppressions[8];   /* --suppressions FILE */
    size_t nsuppressions;
    bool no_default_suppressions;
    rc_trace_order order;
    bool chart_only;           /* trace-report: the --over-time chart without the table */
} cli_report_opts;

/* Parses --by, --limit, --cumulative, --include, --exclude, --domain,
 * --peak, --over-time, -o and the suppressions, and checks that
 * `operands` snapshot names follow; returns the index of the first, or -1
 * after printing the problem. */
int cli_report_options(const char *cmd, int argc, char **argv, int operands, cli_report_opts *o);
/* Loads path and applies the filters; prints why not and returns NULL. */
rc_snapshot *cli_load_snapshot(const char *cmd, const char *path, const cli_report_opts *o);

/* The snapshot without what the suppressions (files, and the defaults in
 * the leak view) match, saying on stdout how much that was; NULL after
 * printing why not.  Takes s. */
rc_snapshot *cli_suppress(rc_snapshot *s, const cli_report_opts *o);
/* trace-stats --over-time: the top lines along base.00001, base.00002, ...
 * and base; an exit status. */
int cli_over_time(const char *base, const cli_report_opts *o);
/* Whether numbered snapshots base.00001, ... exist. */
bool cli_has_series(const char *base);
/* trace-flame -o F.svg: st's tracebacks drawn by rc_flame; 0, or an
 * error code after saying why. */
int cli_flame_draw(const rc_trace_stats *st, const char *path, const char *title);
/* Whether path names a picture (.svg, .png, .pdf) rather than text. */
bool cli_is_picture(const char *path);

#endif
