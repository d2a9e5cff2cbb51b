/* recycle trace-stats SNAPSHOT [--by lineno|filename|traceback] [--limit N]
 * [--cumulative]: the top of Snapshot.statistics(), printed as
 * tracemalloc prints each Statistic. */
#include "commands.h"
#include "trace_tool.h"

#include <stdio.h>

int cmd_trace_stats(int argc, char **argv)
{
    rc_tool_report_opts o;
    int i = rc_tool_report_options("trace-stats", argc, argv, &o);
    if (i < 0)
        return 2;
    if (argc - i != 1) {
        fprintf(stderr, "usage: recycle trace-stats SNAPSHOT [--by lineno|filename|traceback] [--limit N]"
                        " [--cumulative]\n");
        return 2;
    }
    rc_snapshot *s = rc_tool_load_snapshot("trace-stats", argv[i], &o);
    if (!s)
        return 2;
    rc_trace_stats *st = rc_snapshot_statistics(s, o.key, o.cumulative);
    if (!st) {
        fprintf(stderr, "recycle trace-stats: %s: %s\n", argv[i], rc_last_error(NULL));
        rc_snapshot_free(s);
        return 2;
    }
    rc_trace_stats_print(st, o.limit, stdout);
    char total[32], peak[32];
    size_t cur, pk;
    rc_snapshot_traced_memory(s, &cur, &pk);
    rc_trace_format_size((double)rc_snapshot_size(s), false, total, sizeof total);
    rc_trace_format_size((double)pk, false, peak, sizeof peak);
    size_t shown = o.limit && o.limit < st->len ? o.limit : st->len;
    printf("Total: %zu blocks, %s live (traced peak %s); %zu of %zu statistics shown\n", rc_snapshot_count(s),
           total, peak, shown, st->len);
    rc_trace_stats_free(st);
    rc_snapshot_free(s);
    return 0;
}
