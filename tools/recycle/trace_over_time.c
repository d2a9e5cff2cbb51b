/* recycle trace-stats F --over-time: the top lines' live sizes along the
 * run, from the numbered snapshots `recycle trace --every S` writes
 * (F.00001, F.00002, ...) and the last one, F.  One row per snapshot, one
 * column per line; the lines are those with the largest size in any
 * snapshot.  With -o chart.png (.svg, .pdf) the same lines are drawn
 * along the run by rc_plot, as `recycle plot` draws profiles: one series
 * per line, against the time each snapshot was written. */
#include "commands.h"
#include "trace_tool.h"

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct row { char *site; size_t *size; size_t max; } row;

typedef struct table {
    row *rows; size_t nrows, cap;
    size_t nsnaps;
} table;

/* The row of site, made when new (sizes 0 so far). */
static row *row_of(table *t, const char *site)
{
    for (size_t i = 0; i < t->nrows; i++)
        if (strcmp(t->rows[i].site, site) == 0)
            return &t->rows[i];
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        row *r = realloc(t->rows, cap * sizeof *r);
        if (!r)
            return NULL;
        t->rows = r;
        t->cap = cap;
    }
    row *r = &t->rows[t->nrows];
    r->site = strdup(site);
    r->size = calloc(t->nsnaps, sizeof *r->size);
    r->max = 0;
    if (!r->site || !r->size) {
        free(r->site);
        free(r->size);
        return NULL;
    }
    t->nrows++;
    return r;
}

/* Adds snapshot number k's statistics by line to the table. */
static int add_snapshot(table *t, size_t k, const char *path, const cli_report_opts *o)
{
    rc_snapshot *s = cli_load_snapshot("trace-stats", path, o);
    if (!s)
        return -1;
    rc_trace_stats *st = rc_snapshot_statistics(s, RC_TRACE_BY_LINENO, false);
    int r = st ? 0 : -1;
    for (size_t i = 0; st && i < st->len && !r; i++) {
        char site[4096];
        const rc_frame *f = &st->items[i].traceback->frames[0];
        snprintf(site, sizeof site, "%s:%d", f->filename, f->lineno);
        row *w = row_of(t, site);
        if (!w) {
            r = -1;
            break;
        }
        w->size[k] = st->items[i].size;
        w->max = w->size[k] > w->max ? w->size[k] : w->max;
    }
    if (r)
        fprintf(stderr, "recycle trace-stats: %s: out of memory\n", path);
    rc_trace_stats_free(st);
    rc_snapshot_free(s);
    return r;
}

static int by_max(const void *a, const void *b)
{
    size_t x = ((const row *)a)->max, y = ((const row *)b)->max;
    return x < y ? 1 : x > y ? -1 : strcmp(((const row *)a)->site, ((const row *)b)->site);
}

static void print_table(const table *t, char **names, size_t limit)
{
    size_t ncol = limit && limit < t->nrows ? limit : t->nrows;
    for (size_t c = 0; c < ncol; c++)
        printf("[%zu] %s\n", c + 1, t->rows[c].site);
    printf("%-24s", "snapshot");
    for (size_t c = 0; c < ncol; c++) {
        char head[32];
        snprintf(head, sizeof head, "[%zu]", c + 1);
        printf(" %12s", head);
    }
    printf("\n");
    for (size_t k = 0; k < t->nsnaps; k++) {
        const char *base = strrchr(names[k], '/');
        printf("%-24s", base ? base + 1 : names[k]);
        for (size_t c = 0; c < ncol; c++) {
            char size[32];
            rc_trace_format_size((double)t->rows[c].size[k], false, size, sizeof size);
            printf(" %12s", size);
        }
        printf("\n");
    }
}

/* Seconds since the first snapshot was written, from the files' times. */
static double written_at(const char *path, double *first)
{
    struct stat st;
    double t = stat(path, &st) == 0 ? (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9 : 0;
    if (*first < 0)
        *first = t;
    return t - *first;
}

/* One rc_mprof per line, its sizes in MiB as MEM samples, the line as its
 * name in the legend; CLI_EXIT_FAILURE after saying why not. */
static int chart(const table *t, char **names, const char *base, const cli_report_opts *o)
{
    FILE *probe = fopen(o->output, "w");     /* PLplot aborts the process on a path it cannot open */
    if (!probe) {
        fprintf(stderr, "recycle trace-stats: cannot write %s: %s\n", o->output, strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    fclose(probe);
    size_t ncol = o->limit && o->limit < t->nrows ? o->limit : t->nrows;
    rc_mprof **series = calloc(ncol + 1, sizeof *series);
    double first = -1, *times = calloc(t->nsnaps + 1, sizeof *times);
    int err = series && times ? 0 : RC_ENOMEM;
    for (size_t k = 0; k < t->nsnaps && !err; k++)
        times[k] = written_at(names[k], &first);
    for (size_t c = 0; c < ncol && !err; c++) {
        const char *slash = strrchr(t->rows[c].site, '/');      /* the legend has room for file:line */
        series[c] = rc_mprof_new();
        err = series[c] && (series[c]->cmdline = strdup(slash ? slash + 1 : t->rows[c].site)) ? 0 : RC_ENOMEM;
        for (size_t k = 0; k < t->nsnaps && !err; k++)
            err = rc_mprof_add_mem(series[c], times[k], (double)t->rows[c].size[k] / (1 << 20));
    }
    char title[4096];
    snprintf(title, sizeof title, "top lines over time: %s", base);
    rc_plot_opts po;
    rc_plot_opts_default(&po);
    po.output = o->output;
    po.title = title;
    if (err)
        fprintf(stderr, "recycle trace-stats: out of memory\n");
    else if (ncol && (err = rc_plot((const rc_mprof *const *)series, ncol, &po, NULL)))
        fprintf(stderr, "recycle trace-stats: %s\n", rc_last_error(NULL));
    for (size_t c = 0; series && c < ncol; c++)
        rc_mprof_free(series[c]);
    free(series);
    free(times);
    return err ? CLI_EXIT_FAILURE : 0;
}

static int glob_series(const char *base, glob_t *g)
{
    char pattern[4096];
    snprintf(pattern, sizeof pattern, "%s.0[0-9]*", base);
    return glob(pattern, 0, NULL, g);
}

bool cli_has_series(const char *base)
{
    glob_t g;
    if (glob_series(base, &g) != 0)
        return false;
    globfree(&g);
    return true;
}

int cli_over_time(const char *base, const cli_report_opts *o)
{
    glob_t g;
    int gr = glob_series(base, &g);
    size_t n = gr == 0 ? g.gl_pathc : 0;
    char **names = calloc(n + 2, sizeof *names);
    if (!names)
        return CLI_EXIT_FAILURE;
    for (size_t i = 0; i < n; i++)
        names[i] = g.gl_pathv[i];                 /* glob sorts: zero-padded numbers in order */
    FILE *last = fopen(base, "rb");
    if (last) {
        fclose(last);
        names[n++] = (char *)base;
    }
    int status = 0;
    table t = {.nsnaps = n};
    if (!n) {
        fprintf(stderr, "recycle trace-stats: no snapshots %s.00001... nor %s (written by recycle trace --every S)\n",
                base, base);
        status = CLI_EXIT_FAILURE;
    }
    for (size_t k = 0; k < n && !status; k++)
        status = add_snapshot(&t, k, names[k], o) ? CLI_EXIT_FAILURE : 0;
    if (!status) {
        qsort(t.rows, t.nrows, sizeof *t.rows, by_max);
        if (!o->chart_only)
            print_table(&t, names, o->limit);
        if (o->output)
            status = chart(&t, names, base, o);
    }
    for (size_t i = 0; i < t.nrows; i++) {
        free(t.rows[i].site);
        free(t.rows[i].size);
    }
    free(t.rows);
    free(names);
    if (gr == 0)
        globfree(&g);
    return status;
}
