/* recycle trace-flame SNAPSHOT [--peak] [-o FILE]: the live set (or the
 * peak's) as folded stacks, the text flame-graph tools read
 * (flamegraph.pl, inferno-flamegraph, speedscope): one line per
 * traceback, its frames outermost first joined by ';', then its bytes.
 * With -o F.svg (.png, .pdf) the flame graph itself, drawn by rc_flame. */
#include "commands.h"
#include "trace_tool.h"

#include <errno.h>
#include <getopt.h>
#include <recycle-tools.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* "function file:line", or the file alone; ';' and blanks would split it. */
static void frame_label(const rc_frame *f, char *label, size_t n)
{
    if (f->func && f->lineno)
        snprintf(label, n, "%s %s:%d", f->func, f->filename, f->lineno);
    else
        snprintf(label, n, "%s", f->func ? f->func : f->filename);
    for (char *p = label; *p; p++)
        if (*p == ';' || *p == '\n')
            *p = ',';
}

static void put_folded(FILE *out, const rc_trace_stats *st)
{
    char label[4096];
    for (size_t i = 0; i < st->len; i++) {
        const rc_traceback *tb = st->items[i].traceback;
        for (size_t k = tb->nframe; k-- > 0;) {
            frame_label(&tb->frames[k], label, sizeof label);
            fputs(label, out);
            fputc(k ? ';' : ' ', out);
        }
        fprintf(out, "%zu\n", st->items[i].size);
    }
}

static void free_stacks(rc_flame_stack *stacks, size_t n)
{
    for (size_t i = 0; stacks && i < n; i++) {
        for (size_t k = 0; k < stacks[i].nframe; k++)
            free((char *)stacks[i].frames[k]);
        free((void *)stacks[i].frames);
    }
    free(stacks);
}

/* The stacks of st (a traceback view), labels as in the folded text. */
static rc_flame_stack *stacks_of(const rc_trace_stats *st)
{
    rc_flame_stack *stacks = calloc(st->len + 1, sizeof *stacks);
    char label[4096];
    for (size_t i = 0; stacks && i < st->len; i++) {
        const rc_traceback *tb = st->items[i].traceback;
        const char **frames = calloc(tb->nframe + 1, sizeof *frames);
        stacks[i] = (rc_flame_stack){frames, 0, st->items[i].size};
        for (size_t k = tb->nframe; frames && k-- > 0; stacks[i].nframe++) {
            frame_label(&tb->frames[k], label, sizeof label);
            if (!(frames[stacks[i].nframe] = strdup(label)))
                break;
        }
        if (!frames || stacks[i].nframe < tb->nframe) {
            free_stacks(stacks, i + 1);
            return NULL;
        }
    }
    return stacks;
}

int cli_flame_draw(const rc_trace_stats *st, const char *path, const char *title)
{
    rc_flame_stack *stacks = stacks_of(st);
    int err = stacks ? rc_flame(stacks, st->len, path, title) : RC_ENOMEM;
    if (err)
        fprintf(stderr, "recycle: %s: %s\n", path, stacks ? rc_last_error(NULL) : "out of memory");
    free_stacks(stacks, st->len);
    return err;
}

bool cli_is_picture(const char *path)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    return dot && (!strcasecmp(dot, ".svg") || !strcasecmp(dot, ".png") || !strcasecmp(dot, ".pdf"));
}

static int usage(int status)
{
    fprintf(status ? stderr : stdout,
            "usage: recycle trace-flame SNAPSHOT [--peak] [-o FILE]\n"
            "  folded stacks of the live set (--peak: at the traced peak), bytes per stack,\n"
            "  for flamegraph.pl, inferno-flamegraph or speedscope;\n"
            "  -o FILE.svg (.png, .pdf): the flame graph itself\n");
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
    FILE *out = path ? fopen(path, "w") : stdout;   /* for a picture, a probe: PLplot aborts on a bad path */
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
    bool picture = cli_is_picture(path);
    if (st && !picture)
        put_folded(out, st);
    int status = st && !ferror(out) ? 0 : CLI_EXIT_FAILURE;
    if (path && fclose(out) != 0)
        status = CLI_EXIT_FAILURE;
    if (!status && picture && cli_flame_draw(st, path, argv[optind])) {
        unlink(path);                              /* no empty picture left behind */
        status = CLI_EXIT_FAILURE;
    }
    rc_trace_stats_free(st);
    rc_snapshot_free(s);
    return status;
}
