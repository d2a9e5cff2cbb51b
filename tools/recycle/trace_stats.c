/* recycle trace-stats SNAPSHOT [--by lineno|filename|traceback] [--limit N]
 * [--cumulative] [--peak]: the top of Snapshot.statistics() (of what was
 * live at the traced peak with --peak), printed as tracemalloc prints each
 * Statistic; --by calls|temporary|allocated|peak|leaked: heaptrack's
 * figures per line instead. */
#include "commands.h"
#include "trace_tool.h"

#include <stdio.h>

/* The lines of the chosen view, then the total. */
static void print(rc_snapshot *s, rc_trace_stats *st, const cli_report_opts *o)
{
    size_t shown = o->limit && o->limit < st->len ? o->limit : st->len;
    if (o->view == RC_TRACE_VIEW_SITES) {
        char line[4096];
        rc_trace_stats_sort(st, o->order);
        for (size_t i = 0; i < shown; i++) {
            rc_trace_site_format(st, i, line, sizeof line);
            printf("%s\n", line);
        }
    } else {
        rc_trace_stats_print(st, o->limit, stdout);
    }
    char total[32], peak[32];
    size_t cur, pk;
    rc_snapshot_traced_memory(s, &cur, &pk);
    rc_trace_format_size((double)rc_snapshot_size(s), false, total, sizeof total);
    rc_trace_format_size((double)pk, false, peak, sizeof peak);
    if (o->view == RC_TRACE_VIEW_PEAK)
        printf("Total at the traced peak: %s; %zu of %zu statistics shown\n", peak, shown, st->len);
    else
        printf("Total: %zu blocks, %s live (traced peak %s); %zu of %zu statistics shown\n", rc_snapshot_count(s),
               total, peak, shown, st->len);
}

int cmd_trace_stats(int argc, char **argv)
{
    cli_report_opts o;
    int i = cli_report_options("trace-stats", argc, argv, 1, &o);
    if (i < 0)
        return CLI_EXIT_USAGE;
    if (o.over_time)
        return cli_over_time(argv[i], &o);
    rc_snapshot *s = cli_load_snapshot("trace-stats", argv[i], &o);
    if (s)
        s = cli_suppress(s, &o);
    if (!s)
        return CLI_EXIT_FAILURE;
    if (o.view != RC_TRACE_VIEW_LIVE && !rc_snapshot_has_sites(s)) {
        fprintf(stderr, "recycle trace-stats: %s holds no record of the run (peak, calls): it was not written by "
                        "recycle trace, or by an older one\n", argv[i]);
        rc_snapshot_free(s);
        return CLI_EXIT_FAILURE;
    }
    rc_trace_stats *st = rc_snapshot_statistics_view(s, o.view, o.key, o.cumulative);
    if (!st) {
        fprintf(stderr, "recycle trace-stats: %s: %s\n", argv[i], rc_last_error(NULL));
        rc_snapshot_free(s);
        return CLI_EXIT_FAILURE;
    }
    const char *warning = rc_snapshot_symbol_warning(s);
    if (warning)
        fprintf(stderr, "recycle trace-stats: %s\n", warning);
    print(s, st, &o);
    rc_trace_stats_free(st);
    rc_snapshot_free(s);
    return 0;
}
