/* recycle trace-stats F --over-time: the top lines' live sizes along the
 * run, from the numbered snapshots `recycle trace --every S` writes
 * (F.00001, F.00002, ...) and the last one, F.  One row per snapshot, one
 * column per line; the lines are those with the largest size in any
 * snapshot. */
#include "commands.h"
#include "trace_tool.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
static int add_snapshot(table *t, size_t k, const char *path, const rc_tool_report_opts *o)
{
    rc_snapshot *s = rc_tool_load_snapshot("trace-stats", path, o);
    if (!s)
        return -1;
    rc_trace_stats *st = rc_snapshot_statistics(s, RC_TRACE_BY_LINENO, false, NULL);
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

int rc_tool_over_time(const char *base, const rc_tool_report_opts *o)
{
    char pattern[4096];
    glob_t g;
    snprintf(pattern, sizeof pattern, "%s.0[0-9]*", base);
    int gr = glob(pattern, 0, NULL, &g);
    size_t n = gr == 0 ? g.gl_pathc : 0;
    char **names = calloc(n + 2, sizeof *names);
    if (!names)
        return 2;
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
        status = 2;
    }
    for (size_t k = 0; k < n && !status; k++)
        status = add_snapshot(&t, k, names[k], o) ? 2 : 0;
    if (!status) {
        qsort(t.rows, t.nrows, sizeof *t.rows, by_max);
        print_table(&t, names, o->limit);
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
