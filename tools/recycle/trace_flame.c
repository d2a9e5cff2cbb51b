/* recycle trace-flame SNAPSHOT [--peak] [-o FILE]: the live set (or the
 * peak's) as folded stacks, the text flame-graph tools read
 * (flamegraph.pl, inferno-flamegraph, speedscope): one line per
 * traceback, its frames outermost first joined by ';', then its bytes. */
#include "commands.h"
#include "trace_tool.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

/* "function file:line", or the file alone; ';' and blanks would split it. */
static void put_frame(FILE *out, const rc_frame *f)
{
    char label[4096];
    if (f->func && f->lineno)
        snprintf(label, sizeof label, "%s %s:%d", f->func, f->filename, f->lineno);
    else
        snprintf(label, sizeof label, "%s", f->func ? f->func : f->filename);
    for (char *p = label; *p; p++)
        if (*p == ';' || *p == '\n')
            *p = ',';
    fputs(label, out);
}

static void put_folded(FILE *out, const rc_trace_stats *st)
{
    for (size_t i = 0; i < st->len; i++) {
        const rc_traceback *tb = st->items[i].traceback;
        for (size_t k = tb->nframe; k-- > 0;) {
            put_frame(out, &tb->frames[k]);
            fputc(k ? ';' : ' ', out);
        }
        fprintf(out, "%zu\n", st->items[i].size);
    }
}

static int usage(int status)
{
    fprintf(status ? stderr : stdout,
            "usage: recycle trace-flame SNAPSHOT [--peak] [-o FILE]\n"
            "  folded stacks of the live set (--peak: at the traced peak), bytes per stack,\n"
            "  for flamegraph.pl, inferno-flamegraph or speedscope\n");
    return status;
}

int cmd_trace_flame(int argc, char **argv)
{
    static const struct option longs[] = {
        {"peak", no_argument, NULL, 'p'}, {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    cli_report_opts o = {.key = RC_TRACE_BY_TRACEBACK};
    const char *path = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "po:h", longs, NULL)) != -1) {
        if (c == 'p')
            o.view = RC_TRACE_VIEW_PEAK;
        else if (c == 'o')
            path = optarg;
        else
            return usage(c == 'h' ? 0 : CLI_EXIT_USAGE);
    }
    if (argc - optind != 1)
        return usage(CLI_EXIT_USAGE);
    FILE *out = path ? fopen(path, "w") : stdout;
    if (!out) {
        fprintf(stderr, "recycle trace-flame: cannot write %s: %s\n", path, strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    rc_snapshot *s = cli_load_snapshot("trace-flame", argv[optind], &o);
    rc_trace_stats *st = NULL;
    if (s && o.view == RC_TRACE_VIEW_PEAK && !rc_snapshot_has_sites(s))
        fprintf(stderr, "recycle trace-flame: %s holds no record of the peak (not written by recycle trace)\n",
                argv[optind]);
    else if (s && !(st = rc_snapshot_statistics_view(s, o.view, RC_TRACE_BY_TRACEBACK, false)))
        fprintf(stderr, "recycle trace-flame: %s: %s\n", argv[optind], rc_last_error(NULL));
    if (st)
        put_folded(out, st);
    int status = st && !ferror(out) ? 0 : CLI_EXIT_FAILURE;
    if (path && fclose(out) != 0)
        status = CLI_EXIT_FAILURE;
    rc_trace_stats_free(st);
    rc_snapshot_free(s);
    return status;
}
