/* The .dat file of memory_profiler's mprof, both ways (docs/file-formats.md).
 *
 * mprof's reader (mprof.py read_mprofile_file) splits each line at its first
 * space and ignores any keyword it does not know, and reads only the first
 * six fields of FUNC.  Everything recycle records beyond mprof (PEAK,
 * CHLDPEAK, BEFORE, EXIT) therefore uses keywords of its own on lines that
 * always contain a space, so mprof skips them instead of failing.  Numbers are
 * written with mprof's precision: MiB to 6 decimals, seconds to 4. */
#include "recycle-tools.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Makes room for one more item in a vector of *n items whose capacity is
 * implicit: 8, then the next power of two.  0 or RC_ENOMEM. */
static int grow(void **v, size_t *n, size_t elem)
{
    if (*n != 0 && (*n < 8 || (*n & (*n - 1)) != 0))
        return 0;
    void *nv = realloc(*v, (*n ? *n * 2 : 8) * elem);
    if (!nv)
        return RC_ENOMEM;
    *v = nv;
    return 0;
}
#define PUSH(vec, count) grow((void **)&(vec), &(count), sizeof *(vec))

rc_mprof *rc_mprof_new(void)
{
    return calloc(1, sizeof(rc_mprof));
}

int rc_mprof_add_mem(rc_mprof *p, double t, double mib)
{
    if (PUSH(p->mem, p->nmem))
        return RC_ENOMEM;
    p->mem[p->nmem++] = (rc_mprof_sample){t, mib};
    return 0;
}

int rc_mprof_add_peak(rc_mprof *p, double mib, double t0, double t1)
{
    if (PUSH(p->peaks, p->npeaks))
        return RC_ENOMEM;
    p->peaks[p->npeaks++] = (rc_mprof_interval){mib, t0, t1};
    return 0;
}

int rc_mprof_add_func(rc_mprof *p, const char *name, double mem0, double t0,
                      double mem1, double t1, int level)
{
    char *copy = strdup(name);
    if (!copy || PUSH(p->funcs, p->nfuncs)) {
        free(copy);
        return RC_ENOMEM;
    }
    p->funcs[p->nfuncs++] = (rc_mprof_func){copy, mem0, t0, mem1, t1, level};
    return 0;
}

static rc_mprof_child *child_of(rc_mprof *p, long pid)
{
    for (size_t i = 0; i < p->nchildren; i++)
        if (p->children[i].pid == pid)
            return &p->children[i];
    if (PUSH(p->children, p->nchildren))
        return NULL;
    rc_mprof_child *c = &p->children[p->nchildren++];
    *c = (rc_mprof_child){.pid = pid};
    return c;
}

int rc_mprof_add_child(rc_mprof *p, long pid, double t, double mib)
{
    rc_mprof_child *c = child_of(p, pid);
    if (!c || PUSH(c->samples, c->nsamples))
        return RC_ENOMEM;
    c->samples[c->nsamples++] = (rc_mprof_sample){t, mib};
    return 0;
}

static int add_child_peak(rc_mprof *p, long pid, double mib, double t0, double t1)
{
    rc_mprof_child *c = child_of(p, pid);
    if (!c || PUSH(c->peaks, c->npeaks))
        return RC_ENOMEM;
    c->peaks[c->npeaks++] = (rc_mprof_interval){mib, t0, t1};
    return 0;
}

void rc_mprof_free(rc_mprof *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nfuncs; i++)
        free(p->funcs[i].name);
    for (size_t i = 0; i < p->nchildren; i++) {
        free(p->children[i].samples);
        free(p->children[i].peaks);
    }
    free(p->funcs);
    free(p->children);
    free(p->mem);
    free(p->peaks);
    free(p->cmdline);
    free(p->skipped);
    free(p->path);
    free(p);
}

/* ---- reading ------------------------------------------------------------ */

#define MAX_FIELDS 8

/* Splits s at spaces in place; returns the number of fields. */
static int split(char *s, char *field[MAX_FIELDS + 1])
{
    int n = 0;
    for (char *tok = strtok(s, " \t"); tok && n <= MAX_FIELDS; tok = strtok(NULL, " \t"))
        field[n++] = tok;
    return n;
}

static bool number(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static bool integer(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno)
        return false;
    *out = v;
    return true;
}

/* Parses n numbers from fields; false when one is not a finite number. */
static bool numbers(char **field, int n, double *out)
{
    for (int i = 0; i < n; i++)
        if (!number(field[i], &out[i]))
            return false;
    return true;
}

/* One record; returns NULL when accepted, else why the line is malformed.
 * *oom is set when memory ran out. */
static const char *parse_record(rc_mprof *p, char *key, char *rest, int *err)
{
    char *f[MAX_FIELDS + 1];
    double v[5];
    long pid;
    if (!strcmp(key, "CMDLINE")) {
        free(p->cmdline);
        p->cmdline = strdup(rest);
        *err = p->cmdline ? 0 : RC_ENOMEM;
        return NULL;
    }
    int n = split(rest, f);
    if (!strcmp(key, "MEM")) {
        if (n < 2 || !numbers(f, 2, v))
            return "MEM needs <MiB> <time>";
        *err = rc_mprof_add_mem(p, v[1], v[0]);
    } else if (!strcmp(key, "FUNC")) {
        long level = 0;
        if (n < 5 || !numbers(f + 1, 4, v) || (n >= 6 && !integer(f[5], &level)))
            return "FUNC needs <name> <mem0> <t0> <mem1> <t1> [<level>]";
        *err = rc_mprof_add_func(p, f[0], v[0], v[1], v[2], v[3], (int)level);
    } else if (!strcmp(key, "CHLD")) {
        if (n < 3 || !integer(f[0], &pid) || !numbers(f + 1, 2, v))
            return "CHLD needs <pid> <MiB> <time>";
        *err = rc_mprof_add_child(p, pid, v[1], v[0]);
    } else if (!strcmp(key, "PEAK")) {
        if (n < 3 || !numbers(f, 3, v))
            return "PEAK needs <MiB> <t0> <t1>";
        *err = rc_mprof_add_peak(p, v[0], v[1], v[2]);
    } else if (!strcmp(key, "CHLDPEAK")) {
        if (n < 4 || !integer(f[0], &pid) || !numbers(f + 1, 3, v))
            return "CHLDPEAK needs <pid> <MiB> <t0> <t1>";
        *err = add_child_peak(p, pid, v[0], v[1], v[2]);
    } else if (!strcmp(key, "BEFORE")) {
        if (n < 2 || !numbers(f, 2, v))
            return "BEFORE needs <MiB> <time>";
        p->before_mib = v[0];
        p->before_t = v[1];
    } else if (!strcmp(key, "EXIT")) {
        long code;
        if (n < 3 || (strcmp(f[0], "code") && strcmp(f[0], "signal")) ||
            !integer(f[1], &code) || !number(f[2], &v[0]))
            return "EXIT needs code|signal <n> <time>";
        p->has_exit = true;
        p->exit_signaled = f[0][0] == 's';
        p->exit_code = (int)code;
        p->exit_t = v[0];
    }
    /* Other keywords: ignored, as mprof does, so newer files still load. */
    return NULL;
}

/* Malformed lines: the first few are kept with the profile
 * (rc_mprof.skipped) and the rest counted.  Whether the file is a .dat
 * file at all is known only at its end: one with no MEM sample gets one
 * line, not one per line of whatever it really is. */
#define SHOWN_BAD 5
typedef struct bad_lines {
    size_t lines;               /* lines read */
    size_t first_lineno;        /* the first malformed line */
    const char *first_why;
} bad_lines;

static int append_skipped(rc_mprof *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int append_skipped(rc_mprof *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    size_t old = p->skipped ? strlen(p->skipped) : 0;
    char *s = realloc(p->skipped, old + (size_t)n + 1);
    if (!s)
        return RC_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(s + old, (size_t)n + 1, fmt, ap);
    va_end(ap);
    p->skipped = s;
    return 0;
}

static int note_skipped(rc_mprof *p, bad_lines *b, size_t lineno, const char *why)
{
    if (p->bad_lines++ == 0) {
        b->first_lineno = lineno;
        b->first_why = why;
    }
    if (p->bad_lines > SHOWN_BAD)
        return 0;
    return append_skipped(p, "%s:%zu: malformed line skipped: %s\n", p->path, lineno, why);
}

static int note_unshown(rc_mprof *p)
{
    if (p->bad_lines <= SHOWN_BAD)
        return 0;
    return append_skipped(p, "%s: %zu more malformed lines skipped\n", p->path, p->bad_lines - SHOWN_BAD);
}

static int not_a_dat_file(const rc_mprof *p, const bad_lines *b)
{
    const char *path = p->path;
    if (b->lines == 0)
        return rc_set_error(NULL, RC_EFORMAT, "%s: not an mprof .dat file: it is empty", path);
    if (p->bad_lines == 0)
        return rc_set_error(NULL, RC_EFORMAT, "%s: not an mprof .dat file: no MEM sample in %zu line%s",
                            path, b->lines, b->lines == 1 ? "" : "s");
    return rc_set_error(NULL, RC_EFORMAT,
                        "%s: not an mprof .dat file: no MEM sample in %zu line%s; %zu malformed, the first (line %zu): %s",
                        path, b->lines, b->lines == 1 ? "" : "s", p->bad_lines, b->first_lineno, b->first_why);
}

static int load_stream(rc_mprof *p, FILE *in, bad_lines *bad)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int err = 0;
    for (size_t lineno = 1; !err && (len = getline(&line, &cap, in)) >= 0; lineno++) {
        bad->lines = lineno;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (line[0] == '#')
            continue;
        char *space = strchr(line, ' ');
        const char *why = "no record keyword followed by a space";
        if (space) {
            *space = 0;
            why = parse_record(p, line, space + 1, &err);
        } else if (!line[0]) {
            why = "empty line";
        }
        if (why && !err)
            err = note_skipped(p, bad, lineno, why);
    }
    free(line);
    if (!err && ferror(in))
        err = RC_EIO;
    return err;
}

int rc_mprof_load(const char *path, rc_mprof **out)
{
    *out = NULL;
    FILE *in = fopen(path, "r");
    if (!in)
        return rc_set_error(NULL, RC_ENOENT, "%s: cannot open: %s", path, strerror(errno));
    rc_mprof *p = rc_mprof_new();
    bad_lines bad = {0};
    int err = RC_ENOMEM;
    if (p && (p->path = strdup(path)))
        err = load_stream(p, in, &bad);
    fclose(in);
    if (!err)
        err = note_unshown(p);
    if (!err && p->nmem == 0)
        err = not_a_dat_file(p, &bad);
    else if (err)
        rc_set_error(NULL, err, "%s: %s", path, err == RC_EIO ? "read error" : "out of memory");
    if (err) {
        rc_mprof_free(p);
        return err;
    }
    *out = p;
    return 0;
}

/* ---- writing ------------------------------------------------------------ */

/* FUNC names are space-separated fields in mprof: spaces become '_'. */
static void put_name(const char *name, FILE *out)
{
    if (!*name)
        name = "?";
    for (; *name; name++)
        fputc(*name == ' ' || *name == '\t' || *name == '\n' ? '_' : *name, out);
}

static void write_child(const rc_mprof_child *c, FILE *out)
{
    for (size_t i = 0; i < c->nsamples; i++)
        fprintf(out, "CHLD %ld %.6f %.4f\n", c->pid, c->samples[i].mib, c->samples[i].t);
    for (size_t i = 0; i < c->npeaks; i++)
        fprintf(out, "CHLDPEAK %ld %.6f %.4f %.4f\n", c->pid, c->peaks[i].mib,
                c->peaks[i].t0, c->peaks[i].t1);
}

int rc_mprof_write(const rc_mprof *p, FILE *out)
{
    if (p->cmdline)
        fprintf(out, "CMDLINE %s\n", p->cmdline);
    if (p->before_mib > 0)
        fprintf(out, "BEFORE %.6f %.4f\n", p->before_mib, p->before_t);
    for (size_t i = 0; i < p->nmem; i++)
        fprintf(out, "MEM %.6f %.4f\n", p->mem[i].mib, p->mem[i].t);
    for (size_t i = 0; i < p->npeaks; i++)
        fprintf(out, "PEAK %.6f %.4f %.4f\n", p->peaks[i].mib, p->peaks[i].t0, p->peaks[i].t1);
    for (size_t i = 0; i < p->nchildren; i++)
        write_child(&p->children[i], out);
    for (size_t i = 0; i < p->nfuncs; i++) {
        const rc_mprof_func *f = &p->funcs[i];
        fputs("FUNC ", out);
        put_name(f->name, out);
        fprintf(out, " %.4f %.4f %.4f %.4f %d\n", f->mem0, f->t0, f->mem1, f->t1,
                f->level);
    }
    if (p->has_exit)
        fprintf(out, "EXIT %s %d %.4f\n", p->exit_signaled ? "signal" : "code", p->exit_code,
                p->exit_t);
    return fflush(out) || ferror(out) ? RC_EIO : 0;
}

int rc_mprof_save(const rc_mprof *p, const char *path)
{
    FILE *out = fopen(path, "w");
    if (!out)
        return RC_EIO;
    int err = rc_mprof_write(p, out);
    if (fclose(out) && !err)
        err = RC_EIO;
    return err;
}

/* ---- questions about a profile ------------------------------------------ */

static void consider(double mib, double t, double *best, double *best_t)
{
    if (mib > *best) {
        *best = mib;
        *best_t = t;
    }
}

double rc_mprof_peak(const rc_mprof *p, double *t)
{
    double best = -INFINITY, best_t = NAN;
    for (size_t i = 0; i < p->nmem; i++)
        consider(p->mem[i].mib, p->mem[i].t, &best, &best_t);
    for (size_t i = 0; i < p->npeaks; i++)
        consider(p->peaks[i].mib, (p->peaks[i].t0 + p->peaks[i].t1) / 2, &best, &best_t);
    for (size_t i = 0; i < p->nfuncs; i++) {
        consider(p->funcs[i].mem0, p->funcs[i].t0, &best, &best_t);
        consider(p->funcs[i].mem1, p->funcs[i].t1, &best, &best_t);
    }
    if (t)
        *t = best_t;
    return best;
}

double rc_mprof_child_peak(const rc_mprof_child *c)
{
    double best = -INFINITY, t;
    for (size_t i = 0; i < c->nsamples; i++)
        consider(c->samples[i].mib, 0, &best, &t);
    for (size_t i = 0; i < c->npeaks; i++)
        consider(c->peaks[i].mib, 0, &best, &t);
    return best;
}

double rc_mprof_max_between(const rc_mprof *p, double t0, double t1)
{
    double best = -INFINITY, t;
    for (size_t i = 0; i < p->nmem; i++)
        if (p->mem[i].t >= t0 && p->mem[i].t <= t1)
            consider(p->mem[i].mib, 0, &best, &t);
    for (size_t i = 0; i < p->npeaks; i++)
        if (p->peaks[i].t1 >= t0 && p->peaks[i].t0 <= t1)
            consider(p->peaks[i].mib, 0, &best, &t);
    return best;
}

double rc_mprof_func_peak(const rc_mprof *p, const char *name)
{
    double best = NAN;
    for (size_t i = 0; i < p->nfuncs; i++) {
        const rc_mprof_func *f = &p->funcs[i];
        if (strcmp(f->name, name))
            continue;
        double m = fmax(fmax(f->mem0, f->mem1), rc_mprof_max_between(p, f->t0, f->t1));
        best = isnan(best) ? m : fmax(best, m);
    }
    return best;
}
