/* Helpers shared by `recycle trace`, `trace-stats` and `trace-diff`. */
#ifndef RECYCLE_TOOL_TRACE_H
#define RECYCLE_TOOL_TRACE_H

#include <recycle.h>

/* Options of trace-stats and trace-diff. */
typedef struct rc_tool_report_opts {
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
} rc_tool_report_opts;

/* Parses --by, --limit, --cumulative, --include, --exclude, --domain,
 * --peak;
 * returns the index of the first positional argument, or -1 after printing
 * the problem. */
int rc_tool_report_options(const char *cmd, int argc, char **argv, rc_tool_report_opts *o);
/* Loads path and applies the filters; prints why not and returns NULL. */
rc_snapshot *rc_tool_load_snapshot(const char *cmd, const char *path, const rc_tool_report_opts *o);

/* The snapshot without what the suppressions (files, and the defaults in
 * the leak view) match, saying on stdout how much that was; NULL after
 * printing why not.  Takes s. */
rc_snapshot *rc_tool_suppress(rc_snapshot *s, const rc_tool_report_opts *o);
/* trace-stats --over-time: the top lines along base.00001, base.00002, ...
 * and base; an exit status. */
int rc_tool_over_time(const char *base, const rc_tool_report_opts *o);
/* Whether numbered snapshots base.00001, ... exist. */
bool rc_tool_has_series(const char *base);
/* trace-flame -o F.svg: st's tracebacks drawn by rc_flame; 0, or an
 * error code after saying why. */
int rc_tool_flame_draw(const rc_trace_stats *st, const char *path, const char *title);
/* Whether path names a picture (.svg, .png, .pdf) rather than text. */
bool rc_tool_is_picture(const char *path);

#endif
