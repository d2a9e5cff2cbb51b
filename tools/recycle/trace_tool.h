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
} cli_report_opts;

/* Parses --by, --limit, --cumulative, --include, --exclude, --domain and
 * checks that `operands` snapshot names follow; returns the index of the
 * first, or -1 after printing the problem. */
int cli_report_options(const char *cmd, int argc, char **argv, int operands, cli_report_opts *o);
/* Loads path and applies the filters; prints why not and returns NULL. */
rc_snapshot *cli_load_snapshot(const char *cmd, const char *path, const cli_report_opts *o);

#endif
