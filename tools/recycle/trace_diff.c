/* recycle trace-diff OLD NEW [--by ...] [--limit N] [--cumulative]: the top
 * of Snapshot.compare_to(), printed as tracemalloc prints StatisticDiff. */
#include "commands.h"
#include "trace_tool.h"

#include <stdio.h>

int cmd_trace_diff(int argc, char **argv)
{
    cli_report_opts o;
    int i = cli_report_options("trace-diff", argc, argv, 2, &o);
    if (i < 0)
        return CLI_EXIT_USAGE;
    rc_snapshot *old = cli_load_snapshot("trace-diff", argv[i], &o);
    rc_snapshot *nw = old ? cli_load_snapshot("trace-diff", argv[i + 1], &o) : NULL;
    int status = CLI_EXIT_FAILURE;
    rc_trace_stats *st = nw ? rc_snapshot_compare_to(nw, old, o.key, o.cumulative) : NULL;
    if (st) {
        for (int k = 0; k < 2; k++) {       /* an old snapshot against a rebuilt program */
            const char *warning = rc_snapshot_symbol_warning(k ? nw : old);
            if (warning)
                fprintf(stderr, "recycle trace-diff: %s: %s\n", argv[i + k], warning);
        }
        rc_trace_stats_print(st, o.limit, stdout);
        status = 0;
    } else if (nw) {
        fprintf(stderr, "recycle trace-diff: %s\n", rc_last_error(NULL));
    }
    rc_trace_stats_free(st);
    rc_snapshot_free(old);
    rc_snapshot_free(nw);
    return status;
}
