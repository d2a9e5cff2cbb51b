/* The figures `make demo`'s report quotes, read from the files its runs
 * leave (scripts/demo.sh and demo_experiments.sh call this program; they
 * only lay the answers out).
 *
 *   demo_figures result FILE KEY [FIELD]   field FIELD (default 3) of the
 *                                          first "RESULT KEY ..." line
 *   demo_figures call-levels FILE.dat      "base max1 after1 max2 after2 ..."
 *   demo_figures calls-row LABEL FILE.dat  one row of the calls table
 *   demo_figures pair NAME FILE            "small small_py big big_py" of a
 *                                          type example's table
 *   demo_figures difference A B            A - B to one decimal
 *
 * The calls of a profile are the brackets of the seed function
 * (average_ints) in time order; for each, "max" is the highest sample
 * inside it and "after" the lowest sample between its end and the next
 * call (for the last call: the first sample after it, before the exit
 * frees everything).  "base" is the last sample before the first call (the
 * first sample when there is none).  Exit status 1 when a file cannot be
 * read, 2 for a wrong command line. */
#include <recycle-tools.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED_FUNC "average_ints"
#define MAX_FIELDS 16

/* ---- RESULT lines and the type examples' tables ------------------------- */

/* Splits line at blanks in place, as awk does; returns the field count. */
static int fields(char *line, char *f[MAX_FIELDS])
{
    int n = 0;
    for (char *tok = strtok(line, " \t\n"); tok && n < MAX_FIELDS; tok = strtok(NULL, " \t\n"))
        f[n++] = tok;
    return n;
}

static int result(const char *path, const char *key, int field)
{
    FILE *in = fopen(path, "r");
    if (!in) {
        perror(path);
        return 1;
    }
    char line[4096], *f[MAX_FIELDS];
    while (fgets(line, sizeof line, in)) {
        int n = fields(line, f);
        if (n >= 2 && !strcmp(f[0], "RESULT") && !strcmp(f[1], key)) {
            printf("%s\n", field <= n ? f[field - 1] : "");
            break;
        }
    }
    fclose(in);
    return 0;
}

/* A figure CPython measured, or "-" where the column has none. */
static const char *figure(int n, char **f, int i)
{
    return i < n && f[i][0] && strspn(f[i], "0123456789.") == strlen(f[i]) ? f[i] : "-";
}

typedef struct side { char value[64], py[64]; bool found; } side;

static void take(side *s, int n, char **f, int value, int py)
{
    snprintf(s->value, sizeof s->value, "%s", f[value]);
    snprintf(s->py, sizeof s->py, "%s", figure(n, f, py));
    s->found = true;
}

/* One line of a type example's table: which side it is, if either. */
static void pair_line(const char *name, int n, char **f, side *small, side *big)
{
    if (!strcmp(name, "slots_vs_dict")) {
        if (n >= 4 && !strcmp(f[0], "__slots__") && !strcmp(f[2], "RC_RECORD_SLOTS"))
            take(small, n, f, 3, 4);
        if (n >= 4 && !strcmp(f[0], "__dict__") && !strcmp(f[2], "RC_RECORD_DICT"))
            take(big, n, f, 3, 4);
        return;
    }
    const char *lo = !strcmp(name, "view_vs_copy") ? "view" : "generator";
    const char *hi = !strcmp(name, "view_vs_copy") ? "copy" : "list";
    if (n >= 3 && !strcmp(f[0], lo))
        take(small, n, f, 1, 2);
    if (n >= 3 && !strcmp(f[0], hi))
        take(big, n, f, 1, 2);
}

static int pair(const char *name, const char *path)
{
    FILE *in = fopen(path, "r");
    if (!in) {
        perror(path);
        return 1;
    }
    side small = {0}, big = {0};
    char line[4096], *f[MAX_FIELDS];
    while (fgets(line, sizeof line, in)) {
        int n = fields(line, f);
        pair_line(name, n, f, &small, &big);
    }
    fclose(in);
    if (small.found && big.found)
        printf("%s %s %s %s\n", small.value, small.py, big.value, big.py);
    return 0;
}

/* ---- the seed function's calls ------------------------------------------ */

typedef struct call { double t0, t1, max, after; } call;

typedef struct calls {
    call   c[64];
    size_t n;
    double base, peak;
} calls;

static bool is_seed(const char *name)
{
    size_t len = strlen(name), want = strlen(SEED_FUNC);
    return len >= want && !strcmp(name + len - want, SEED_FUNC);
}

/* The brackets in time order (the file has them in the order they ended). */
static void find_calls(const rc_mprof *p, calls *cs)
{
    cs->n = 0;
    for (size_t i = 0; i < p->nfuncs && cs->n < 64; i++)
        if (is_seed(p->funcs[i].name))
            cs->c[cs->n++] = (call){p->funcs[i].t0, p->funcs[i].t1, 0, -1};
    for (size_t i = 1; i < cs->n; i++)
        for (size_t j = i; j > 0 && cs->c[j].t0 < cs->c[j - 1].t0; j--) {
            call x = cs->c[j];
            cs->c[j] = cs->c[j - 1];
            cs->c[j - 1] = x;
        }
}

/* max and after of call i, from the samples. */
static void measure_call(const rc_mprof *p, calls *cs, size_t i)
{
    call *c = &cs->c[i];
    bool last = i + 1 == cs->n;
    for (size_t k = 0; k < p->nmem; k++) {
        double t = p->mem[k].t, m = p->mem[k].mib;
        if (t >= c->t0 && t <= c->t1 && m > c->max)
            c->max = m;
        if (t > c->t1 && (last ? c->after < 0 : t < cs->c[i + 1].t0 && (c->after < 0 || m < c->after)))
            c->after = m;
    }
    if (c->after < 0)
        c->after = p->nmem ? p->mem[p->nmem - 1].mib : 0;
}

static void measure(const rc_mprof *p, calls *cs)
{
    find_calls(p, cs);
    for (size_t i = 0; i < cs->n; i++)
        measure_call(p, cs, i);
    cs->base = p->nmem ? p->mem[0].mib : 0;
    for (size_t k = 0; k < p->nmem && (cs->n == 0 || p->mem[k].t < cs->c[0].t0); k++)
        cs->base = p->mem[k].mib;
    cs->peak = 0;
    for (size_t k = 0; k < p->nmem; k++)
        cs->peak = fmax(cs->peak, p->mem[k].mib);
}

/* A profile with no sample has no calls to measure: figures of 0. */
static int load_calls(const char *path, calls *cs)
{
    rc_mprof *p;
    int err = rc_mprof_load(path, &p);
    if (err == RC_EFORMAT)
        p = rc_mprof_new();
    else if (err) {
        fprintf(stderr, "demo_figures: %s\n", rc_last_error(NULL));
        return 1;
    }
    if (!p)
        return 1;
    measure(p, cs);
    rc_mprof_free(p);
    return 0;
}

/* Figures as the report prints them: one decimal. */
static double shown(double v)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.1f", v);
    return strtod(buf, NULL);
}

static int call_levels(const char *path)
{
    calls cs;
    if (load_calls(path, &cs))
        return 1;
    printf("%.1f", cs.base);
    for (size_t i = 0; i < cs.n; i++)
        printf(" %.1f %.1f", cs.c[i].max, cs.c[i].after);
    printf("\n");
    return 0;
}

/* "LABEL|before|call 1: max → after|call 2 ...|call 3 ...", or a row
 * saying the file has no brackets. */
static int calls_row(const char *label, const char *path)
{
    calls cs;
    if (load_calls(path, &cs))
        return 1;
    if (cs.n == 0) {
        printf("%s|—|(no brackets in the file; peak %.1f)||\n", label, shown(cs.peak));
        return 0;
    }
    printf("%s|%.1f", label, shown(cs.base));
    for (size_t i = 0; i < 3; i++)
        if (i < cs.n)
            printf("|%.1f → %.1f", shown(cs.c[i].max), shown(cs.c[i].after));
        else
            printf("|");
    printf("\n");
    return 0;
}

/* ---- the command line ---------------------------------------------------- */

static int usage(void)
{
    fputs("usage: demo_figures result FILE KEY [FIELD] | call-levels FILE.dat | calls-row LABEL FILE.dat\n"
          "                    | pair NAME FILE | difference A B\n", stderr);
    return 2;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    if (!strcmp(cmd, "result") && (argc == 4 || argc == 5))
        return result(argv[2], argv[3], argc == 5 ? atoi(argv[4]) : 3);
    if (!strcmp(cmd, "call-levels") && argc == 3)
        return call_levels(argv[2]);
    if (!strcmp(cmd, "calls-row") && argc == 4)
        return calls_row(argv[2], argv[3]);
    if (!strcmp(cmd, "pair") && argc == 4)
        return pair(argv[2], argv[3]);
    if (!strcmp(cmd, "difference") && argc == 4) {
        printf("%.1f", strtod(argv[2], NULL) - strtod(argv[3], NULL));
        return 0;
    }
    return usage();
}
