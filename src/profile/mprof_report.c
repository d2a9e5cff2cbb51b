/* `recycle report`: memory_profiler's line-by-line table at function
 * granularity.  Increment sums (exit - entry) over calls, so a function
 * that leaks a little each call shows the whole climb; "max inside" also
 * uses the PEAK records, so a spike inside a call between two samples
 * counts (a PEAK interval overlapping the call is attributed to it). */
#include "recycle-tools.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct row {
    const char *name;
    size_t calls;
    double seconds, entry, exit, max_inside, increment;
} row;

static double call_max(const rc_mprof *p, const rc_mprof_func *f)
{
    double m = fmax(f->mem0, f->mem1);
    return fmax(m, rc_mprof_max_between(p, f->t0, f->t1));
}

static void print_header(FILE *out, const char *first)
{
    fprintf(out, "%-32s %6s %10s %11s %11s %11s %11s\n", first, "Calls", "Time (s)",
            "Entry MiB", "Exit MiB", "Max inside", "Increment");
    for (int i = 0; i < 32 + 7 + 11 + 4 * 12; i++)
        fputc('=', out);
    fputc('\n', out);
}

static void print_row(FILE *out, const row *r, int indent)
{
    char name[64];
    snprintf(name, sizeof name, "%*s%s", indent, "", r->name);
    fprintf(out, "%-32s %6zu %10.4f %11.3f %11.3f %11.3f %+11.3f\n", name, r->calls,
            r->seconds, r->entry, r->exit, r->max_inside, r->increment);
}

static void report_calls(const rc_mprof *p, FILE *out)
{
    print_header(out, "Call (indented by level)");
    for (size_t i = 0; i < p->nfuncs; i++) {
        const rc_mprof_func *f = &p->funcs[i];
        row r = {f->name, 1, f->t1 - f->t0, f->mem0, f->mem1, call_max(p, f), f->mem1 - f->mem0};
        /* the level comes from the file: indent at most 16 levels deep */
        print_row(out, &r, 2 * (f->level > 0 ? (f->level < 16 ? f->level : 16) : 0));
    }
}

/* Rows per function name, in order of first call. */
static int report_functions(const rc_mprof *p, FILE *out)
{
    row *rows = calloc(p->nfuncs ? p->nfuncs : 1, sizeof *rows);
    if (!rows)
        return RC_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < p->nfuncs; i++) {
        const rc_mprof_func *f = &p->funcs[i];
        size_t k = 0;
        while (k < n && strcmp(rows[k].name, f->name))
            k++;
        if (k == n)
            rows[n++] = (row){f->name, 0, 0, f->mem0, f->mem1, -INFINITY, 0};
        row *r = &rows[k];
        r->calls++;
        r->seconds += f->t1 - f->t0;
        r->exit = f->mem1;
        r->max_inside = fmax(r->max_inside, call_max(p, f));
        r->increment += f->mem1 - f->mem0;
    }
    print_header(out, "Function");
    for (size_t k = 0; k < n; k++)
        print_row(out, &rows[k], 0);
    fprintf(out, "\nEntry: at the first call; Exit: at the last; Max inside: the highest of all "
                 "calls,\nexact peaks included; Increment: exit - entry summed over the calls.\n");
    free(rows);
    return 0;
}

int rc_mprof_report(const rc_mprof *p, bool per_call, FILE *out)
{
    double t, peak = rc_mprof_peak(p, &t);
    double start = p->nmem ? p->mem[0].t : 0;
    fprintf(out, "Filename: %s\n", p->path ? p->path : "(memory)");
    if (p->cmdline)
        fprintf(out, "Command: %s\n", p->cmdline);
    fprintf(out, "Peak: %.3f MiB at %.3f s (%zu samples, %zu exact-peak records)\n\n", peak,
            t - start, p->nmem, p->npeaks);
    if (p->nfuncs == 0) {
        fprintf(out, "No FUNC records: mark functions with RC_PROFILE_FUNC() or build with "
                     "-finstrument-functions, and run under `recycle run`.\n");
        return 0;
    }
    if (per_call) {
        report_calls(p, out);
        return 0;
    }
    return report_functions(p, out);
}
