/* `recycle plot`: mprof plot's chart drawn by PLplot through its cairo
 * driver (pngcairo, svgcairo, pdfcairo).  The layout follows mprof.py's
 * plot_file: time in seconds from the profile's first record on x, MiB on
 * y, the memory line through MEM and FUNC points ("+-" in mprof's colour
 * order k b r g c y m), a bracket at each FUNC record's ends (each in a
 * colour of its own, labels moved up rather than overlapping), the maximum
 * as red dashed lines, children as lines of their own, a legend on the
 * right.  Beyond mprof, the line also passes through each PEAK record (the
 * true maximum between two samples, drawn at the middle of its interval),
 * so a spike the samples missed is still on the chart. */
#include "recycle-tools.h"

#include <plplot.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmap0 entries. */
enum { BG, FG, LINE0, NLINE = 7, GRID = LINE0 + NLINE, SLOPE, FLAME0, NFLAME = 8 };
enum { BRACKET0 = FLAME0 + NFLAME, NBRACKET = 8, NCOL = BRACKET0 + NBRACKET };

static const unsigned char line_rgb[NLINE][3] = {   /* matplotlib's k b r g c y m */
    {0, 0, 0}, {0, 0, 255}, {255, 0, 0}, {0, 128, 0}, {0, 191, 191}, {191, 191, 0}, {191, 0, 191}};
/* One colour per bracket, in turn: matplotlib's tab10 without its red
 * (the maximum line's) and grey (too close to the grid). */
static const unsigned char bracket_rgb[NBRACKET][3] = {
    {31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {148, 103, 189},
    {140, 86, 75},  {227, 119, 194}, {188, 189, 34}, {23, 190, 207}};

#define MAX_LEGEND 24
#define MAX_LABELS 60           /* brackets labelled on the chart itself */
#define LEGEND_BRACKETS 16      /* brackets named in the legend; the rest counted */

typedef struct pt { double t, mib; } pt;

typedef struct legend {
    int         n;
    const char *text[MAX_LEGEND];
    char        store[MAX_LEGEND][160];
    PLINT       colour[MAX_LEGEND], style[MAX_LEGEND];
} legend;

/* ---- data --------------------------------------------------------------- */

static int by_time(const void *a, const void *b)
{
    double x = ((const pt *)a)->t, y = ((const pt *)b)->t;
    return (x > y) - (x < y);
}

/* The main series as mprof merges it (MEM + FUNC ends), plus PEAK points. */
static pt *main_series(const rc_mprof *p, size_t *n)
{
    size_t cap = p->nmem + 2 * p->nfuncs + p->npeaks;
    pt *v = malloc((cap ? cap : 1) * sizeof *v);
    if (!v)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < p->nmem; i++)
        v[k++] = (pt){p->mem[i].t, p->mem[i].mib};
    for (size_t i = 0; i < p->nfuncs; i++) {
        v[k++] = (pt){p->funcs[i].t0, p->funcs[i].mem0};
        v[k++] = (pt){p->funcs[i].t1, p->funcs[i].mem1};
    }
    for (size_t i = 0; i < p->npeaks; i++)
        v[k++] = (pt){(p->peaks[i].t0 + p->peaks[i].t1) / 2, p->peaks[i].mib};
    qsort(v, k, sizeof *v, by_time);
    *n = k;
    return v;
}

static double start_of(const rc_mprof *p)
{
    double t = INFINITY;
    for (size_t i = 0; i < p->nmem; i++)
        t = fmin(t, p->mem[i].t);
    for (size_t i = 0; i < p->nfuncs; i++)
        t = fmin(t, p->funcs[i].t0);
    return isfinite(t) ? t : 0;
}

typedef struct range { double x0, x1, y0, y1; } range;

static void extend(range *r, double t, double mib)
{
    r->x0 = fmin(r->x0, t);
    r->x1 = fmax(r->x1, t);
    r->y0 = fmin(r->y0, mib);
    r->y1 = fmax(r->y1, mib);
}

static range data_range(const rc_mprof *const *ps, size_t n, const rc_plot_opts *o)
{
    range r = {0, -INFINITY, INFINITY, -INFINITY};
    for (size_t i = 0; i < n; i++) {
        const rc_mprof *p = ps[i];
        double s = start_of(p), t;
        for (size_t k = 0; k < p->nmem; k++)
            extend(&r, p->mem[k].t - s, p->mem[k].mib);
        extend(&r, r.x0, rc_mprof_peak(p, &t));
        for (size_t k = 0; k < p->npeaks; k++)
            extend(&r, (p->peaks[k].t0 + p->peaks[k].t1) / 2 - s, p->peaks[k].mib);
        for (size_t k = 0; k < p->nfuncs; k++)
            extend(&r, p->funcs[k].t1 - s, p->funcs[k].mem1);
        for (size_t c = 0; c < p->nchildren; c++)
            for (size_t k = 0; k < p->children[c].nsamples; k++)
                extend(&r, p->children[c].samples[k].t - s, p->children[c].samples[k].mib);
    }
    if (!(r.x1 > r.x0))
        r.x1 = r.x0 + 1;
    double pad = r.y1 > r.y0 ? (r.y1 - r.y0) * 0.08 : fmax(1, r.y1 * 0.05);
    r.y0 = fmax(0, r.y0 - pad);
    r.y1 += pad;
    r.x1 += (r.x1 - r.x0) * 0.02;
    const double *w = o->window;   /* -w overrides what it gives */
    if (!isnan(w[0])) r.x0 = w[0];
    if (!isnan(w[1])) r.x1 = w[1];
    if (!isnan(w[2])) r.y0 = w[2];
    if (!isnan(w[3])) r.y1 = w[3];
    return r;
}

/* ---- drawing helpers ---------------------------------------------------- */

/* PLplot treats '#' as its escape character. */
static void plain(char *dst, size_t size, const char *src)
{
    size_t k = 0;
    for (; *src && k + 2 < size; src++) {
        if (*src == '#')
            dst[k++] = '#';
        dst[k++] = *src == '\n' ? ' ' : *src;
    }
    dst[k] = 0;
}

static void add_legend(legend *lg, PLINT colour, PLINT style, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add_legend(legend *lg, PLINT colour, PLINT style, const char *fmt, ...)
{
    if (lg->n == MAX_LEGEND)
        return;
    char raw[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    plain(lg->store[lg->n], sizeof lg->store[lg->n], raw);
    lg->text[lg->n] = lg->store[lg->n];
    lg->colour[lg->n] = colour;
    lg->style[lg->n++] = style;
}

static void polyline(const pt *v, size_t n, double shift, bool marks)
{
    PLFLT *x = malloc((n ? n : 1) * sizeof *x), *y = malloc((n ? n : 1) * sizeof *y);
    if (x && y) {
        for (size_t i = 0; i < n; i++) {
            x[i] = v[i].t - shift;
            y[i] = v[i].mib;
        }
        plline((PLINT)n, x, y);
        if (marks && n <= 4000)
            plstring((PLINT)n, x, y, "+");
    }
    free(x);
    free(y);
}

static void segment(double x0, double y0, double x1, double y1)
{
    PLFLT x[2] = {x0, x1}, y[2] = {y0, y1};
    plline(2, x, y);
}

/* ---- the parts of the chart --------------------------------------------- */

/* Labels already on the chart, so the next one is moved up past them
 * rather than written over them. */
typedef struct labels {
    PLFLT x0[MAX_LABELS], x1[MAX_LABELS], y0[MAX_LABELS], y1[MAX_LABELS];
    int   n;
    double per_mm_x, per_mm_y;    /* world units per millimetre */
    double line;                  /* a text line's height, world units */
    double glyph;                 /* a character's width, generously, world units */
} labels;

static void labels_init(labels *l, const range *r)
{
    PLFLT vx0, vx1, vy0, vy1, sx0, sx1, sy0, sy1, def, ht;
    plgvpd(&vx0, &vx1, &vy0, &vy1);
    plgspa(&sx0, &sx1, &sy0, &sy1);
    plgchr(&def, &ht);
    l->n = 0;
    l->per_mm_x = (r->x1 - r->x0) / ((vx1 - vx0) * (sx1 - sx0));
    l->per_mm_y = (r->y1 - r->y0) / ((vy1 - vy0) * (sy1 - sy0));
    l->line = 1.4 * ht * l->per_mm_y;
    /* this PLplot has no plstrl: a sans glyph is at most ~0.8 of the
     * character height wide */
    l->glyph = 0.8 * ht * l->per_mm_x;
}

static size_t chars(const char *utf8)
{
    size_t n = 0;
    for (; *utf8; utf8++)
        n += ((unsigned char)*utf8 & 0xC0) != 0x80;
    return n;
}

static bool label_clear(const labels *l, PLFLT x0, PLFLT x1, PLFLT y0, PLFLT y1)
{
    for (int i = 0; i < l->n; i++)
        if (x0 < l->x1[i] && l->x0[i] < x1 && y0 < l->y1[i] && l->y0[i] < y1)
            return false;
    return true;
}

/* Writes text with its left end at x, at height y or the first free line
 * above it; nothing when no line inside the plot is free. */
static void place_label(labels *l, const char *text, double x, double y, double top)
{
    if (l->n == MAX_LABELS)
        return;
    PLFLT x1 = x + (double)chars(text) * l->glyph, half = l->line / 2;
    while (!label_clear(l, x, x1, y - half, y + half) && y + half <= top)
        y += l->line;
    if (y + half > top)
        return;
    plptex(x, y, 1, 0, 0, text);
    l->x0[l->n] = x;
    l->x1[l->n] = x1;
    l->y0[l->n] = y - half;
    l->y1[l->n++] = y + half;
}

/* The legend names each bracket in its colour, numbering the calls of a
 * function called more than once in the order they began (the file has
 * them in the order they ended). */
static void legend_bracket(legend *lg, const rc_mprof *p, size_t i, PLINT col)
{
    const rc_mprof_func *f = &p->funcs[i];
    size_t call = 0, calls = 0;
    for (size_t k = 0; k < p->nfuncs; k++)
        if (!strcmp(p->funcs[k].name, f->name)) {
            calls++;
            call += p->funcs[k].t0 < f->t0 || (p->funcs[k].t0 == f->t0 && k <= i);
        }
    if (calls == 1)
        add_legend(lg, col, 1, "%s", p->funcs[i].name);
    else
        add_legend(lg, col, 1, "%s, call %zu of %zu", p->funcs[i].name, call, calls);
}

static void draw_brackets(const rc_mprof *p, double s, const range *r, legend *lg)
{
    double v = (r->y1 - r->y0) / 20, h = (r->x1 - r->x0) / 60;   /* mprof's proportions */
    labels lb;
    labels_init(&lb, r);
    plwidth(2);
    for (size_t i = 0; i < p->nfuncs; i++) {
        const rc_mprof_func *f = &p->funcs[i];
        PLINT col = BRACKET0 + (PLINT)(i % NBRACKET);
        plcol0(col);
        double x0 = f->t0 - s, x1 = f->t1 - s;
        PLFLT lx[4] = {x0 + h, x0, x0, x0 + h}, ly[4] = {f->mem0 + v, f->mem0 + v, f->mem0 - v, f->mem0 - v};
        PLFLT rx[4] = {x1 - h, x1, x1, x1 - h}, ry[4] = {f->mem1 + v, f->mem1 + v, f->mem1 - v, f->mem1 - v};
        plline(4, lx, ly);
        plline(4, rx, ry);
        if (p->nfuncs <= MAX_LABELS) {
            char label[96];
            plain(label, sizeof label, f->name);
            place_label(&lb, label, x0, f->mem0 + 1.4 * v, r->y1);
        }
        if (i < LEGEND_BRACKETS)
            legend_bracket(lg, p, i, col);
    }
    if (p->nfuncs > LEGEND_BRACKETS)
        add_legend(lg, BG, 1, "and %zu more brackets", p->nfuncs - LEGEND_BRACKETS);
    plwidth(1);
}

static void draw_flame(const rc_mprof *p, double s, const range *r)
{
    int levels = 1;   /* as mprof's flame_plotter: 1 + the deepest level */
    for (size_t i = 0; i < p->nfuncs; i++)
        levels = p->funcs[i].level + 1 > levels ? p->funcs[i].level + 1 : levels;
    /* Levels stack up from the bottom of the plot, each 1/(levels+1) of a
     * band covering the lower half. */
    double band = (r->y1 - r->y0) / 2 / (levels + 1);
    for (size_t i = 0; i < p->nfuncs; i++) {
        const rc_mprof_func *f = &p->funcs[i];
        int lv = f->level > 0 ? f->level : 0;
        double y0 = r->y0 + lv * band, y1 = y0 + band;
        double x0 = f->t0 - s, x1 = f->t1 - s;
        PLFLT x[4] = {x0, x1, x1, x0}, y[4] = {y0, y0, y1, y1};
        plcol0(FLAME0 + (lv * 2 + (int)(i % 2)) % NFLAME);
        plfill(4, x, y);
        plcol0(FG);
        if ((x1 - x0) > (r->x1 - r->x0) / 25) {
            char label[96];
            plain(label, sizeof label, f->name);
            plptex(x0, y0 + band / 2, 1, 0, 0, label);
        }
    }
}

static void draw_slope(const pt *v, size_t n, double s, PLINT colour, char *label, size_t size)
{
    double st = 0, sm = 0, stt = 0, stm = 0;
    for (size_t i = 0; i < n; i++) {
        double t = v[i].t - s;
        st += t; sm += v[i].mib; stt += t * t; stm += t * v[i].mib;
    }
    double den = n * stt - st * st;
    if (n < 2 || den == 0)
        return;
    double a = (n * stm - st * sm) / den, b = (sm - a * st) / n;
    double t0 = v[0].t - s, t1 = v[n - 1].t - s;
    plcol0(colour);
    pllsty(2);
    segment(t0, a * t0 + b, t1, a * t1 + b);
    pllsty(1);
    size_t len = strlen(label);
    snprintf(label + len, size - len, " slope %.5f", a);
}

static void draw_max(const rc_mprof *p, double s, const range *r)
{
    double t, peak = rc_mprof_peak(p, &t);
    char label[64];
    plcol0(LINE0 + 2);
    pllsty(2);
    plwidth(1.5);
    segment(r->x0, peak, r->x1, peak);
    segment(t - s, r->y0, t - s, r->y1);
    plwidth(1);
    pllsty(1);
    snprintf(label, sizeof label, "max %.1f MiB", peak);
    plptex(r->x1 - (r->x1 - r->x0) * 0.01, peak + (r->y1 - r->y0) * 0.015, 1, 0, 1, label);
}

static void draw_children(const rc_mprof *p, double s, legend *lg)
{
    for (size_t c = 0; c < p->nchildren; c++) {
        const rc_mprof_child *ch = &p->children[c];
        size_t n = ch->nsamples;
        pt *v = malloc((n + ch->npeaks + 1) * sizeof *v);
        if (!v)
            return;
        for (size_t i = 0; i < n; i++)
            v[i] = (pt){ch->samples[i].t, ch->samples[i].mib};
        for (size_t i = 0; i < ch->npeaks; i++)
            v[n++] = (pt){(ch->peaks[i].t0 + ch->peaks[i].t1) / 2, ch->peaks[i].mib};
        qsort(v, n, sizeof *v, by_time);
        PLINT col = LINE0 + (PLINT)((c + 1) % NLINE);
        plcol0(col);
        polyline(v, n, s, true);
        add_legend(lg, col, 1, "child %ld", ch->pid);
        free(v);
    }
}

/* A red triangle on each PEAK point: the heights no sample saw. */
static void draw_peak_marks(const rc_mprof *p, double s)
{
    plcol0(LINE0 + 2);
    for (size_t i = 0; i < p->npeaks; i++) {
        PLFLT x = (p->peaks[i].t0 + p->peaks[i].t1) / 2 - s, y = p->peaks[i].mib;
        plstring(1, &x, &y, "▲");
    }
}

static int draw_profile(const rc_mprof *p, size_t index, bool single, const rc_plot_opts *o,
                        const range *r, legend *lg)
{
    size_t n;
    pt *v = main_series(p, &n);
    if (!v)
        return RC_ENOMEM;
    double s = start_of(p);
    PLINT col = LINE0 + (PLINT)(index % NLINE);
    char label[160];
    snprintf(label, sizeof label, "%s", single && p->cmdline ? "memory" :
             p->path ? p->path : p->cmdline ? p->cmdline : "profile");
    if (o->slope)
        draw_slope(v, n, s, SLOPE, label, sizeof label);
    plcol0(col);
    polyline(v, n, s, !o->flame);
    add_legend(lg, col, 1, "%s", label);
    free(v);
    draw_peak_marks(p, s);
    draw_children(p, s, lg);
    if (single && !o->no_brackets && p->nfuncs) {
        if (o->flame)
            draw_flame(p, s, r);
        else
            draw_brackets(p, s, r, lg);
    }
    if (single)
        draw_max(p, s, r);
    return 0;
}

static void draw_legend(const legend *lg)
{
    if (lg->n == 0)
        return;
    PLINT opt[MAX_LEGEND], zero[MAX_LEGEND] = {0}, text_col[MAX_LEGEND];
    PLFLT widths[MAX_LEGEND], zerof[MAX_LEGEND] = {0};
    for (int i = 0; i < lg->n; i++) {
        opt[i] = PL_LEGEND_LINE;
        widths[i] = 2;
        text_col[i] = FG;
    }
    PLFLT w, h;
    pllegend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
             PL_POSITION_RIGHT | PL_POSITION_OUTSIDE | PL_POSITION_VIEWPORT, 0.02, 0, 0.05, BG, FG,
             1, 0, 0, lg->n, opt, 0.8, 0.8, 2.0, 0, text_col, lg->text, zero, zero, zerof, zerof,
             lg->colour, lg->style, widths, zero, zerof, zero, NULL);
}

/* ---- setup -------------------------------------------------------------- */

static const char *device_for(const char *path)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (!dot)
        return NULL;
    if (!strcasecmp(dot, ".png")) return "pngcairo";
    if (!strcasecmp(dot, ".svg")) return "svgcairo";
    if (!strcasecmp(dot, ".pdf")) return "pdfcairo";
    return NULL;
}

static void set_palette(void)
{
    plscmap0n(NCOL);
    plscol0(BG, 255, 255, 255);
    plscol0(FG, 0, 0, 0);
    for (int i = 0; i < NLINE; i++)
        plscol0(LINE0 + i, line_rgb[i][0], line_rgb[i][1], line_rgb[i][2]);
    plscol0(GRID, 210, 210, 210);
    plscol0(SLOPE, 0, 227, 216);
    for (int i = 0; i < NFLAME; i++)   /* mprof's flame: red and orange, paler with depth */
        plscol0a(FLAME0 + i, 255, i % 2 ? 170 : 60 + 20 * (i / 2), 60 + 25 * (i / 2), 0.5);
    for (int i = 0; i < NBRACKET; i++)
        plscol0(BRACKET0 + i, bracket_rgb[i][0], bracket_rgb[i][1], bracket_rgb[i][2]);
}

/* PLplot reports a failure through this hook and carries on; the plot
 * then fails with its message (one rc_plot at a time: PLplot is global). */
static bool plot_aborted;
static void on_plabort(PLCHAR_VECTOR msg)
{
    plot_aborted = true;
    rc_set_error(NULL, RC_EIO, "PLplot: %s", msg);
}

void rc_plot_opts_default(rc_plot_opts *o)
{
    *o = (rc_plot_opts){.window = {NAN, NAN, NAN, NAN}};
}

/* PLplot retries a file it cannot open and then aborts the process, so
 * the output is opened once here first (to append: what is there stays
 * until PLplot writes over it). */
static int check_writable(const char *path)
{
    FILE *f = fopen(path, "a");
    if (f && fclose(f) == 0)
        return 0;
    return rc_set_error(NULL, RC_EIO, "cannot write %s: %s", path, strerror(errno));
}

static void frame_out(rc_plot_frame *f, const range *r, int w, int h)
{
    PLFLT x0, x1, y0, y1;
    plgvpd(&x0, &x1, &y0, &y1);
    *f = (rc_plot_frame){r->x0, r->x1, r->y0, r->y1, x0 * w, x1 * w, (1 - y1) * h, (1 - y0) * h, w, h};
}

int rc_plot(const rc_mprof *const *profiles, size_t n, const rc_plot_opts *o, rc_plot_frame *frame)
{
    const char *dev = device_for(o->output);
    if (!dev || n == 0)
        return rc_set_error(NULL, RC_EINVAL, "%s: the output must end in .png, .svg or .pdf",
                            o->output ? o->output : "(none)");
    int w = o->width > 0 ? o->width : 1260, h = o->height > 0 ? o->height : 540;
    range r = data_range(profiles, n, o);
    if (!(r.x1 > r.x0) || !(r.y1 > r.y0))
        return rc_set_error(NULL, RC_EINVAL, "empty window: x %g..%g s, y %g..%g MiB", r.x0, r.x1, r.y0, r.y1);
    if (check_writable(o->output))
        return RC_EIO;
    bool single = n == 1;
    legend lg = {0};
    char title[256];
    plain(title, sizeof title, o->title ? o->title : single && profiles[0]->cmdline ? profiles[0]->cmdline : "");

    PLINT stream;
    plmkstrm(&stream);
    plot_aborted = false;
    plsabort(on_plabort);
    plsdev(dev);
    plsfnam(o->output);
    plspage(90, 90, w, h, 0, 0);
    set_palette();
    plinit();
    pladv(0);
    plschr(0, 0.75);
    plvpor(0.07, o->flame ? 0.95 : 0.70, 0.12, 0.90);
    plwind(r.x0, r.x1, r.y0, r.y1);
    plcol0(GRID);
    plbox("g", 0, 0, "g", 0, 0);
    plcol0(FG);
    plbox("bcnst", 0, 0, "bcnstv", 0, 0);
    pllab("time (in seconds)", "memory used (in MiB)", title);
    int err = 0;
    for (size_t i = 0; i < n && !err; i++)
        err = draw_profile(profiles[i], i, single, o, &r, &lg);
    if (!o->flame)
        draw_legend(&lg);
    if (frame)
        frame_out(frame, &r, w, h);
    plend1();
    return err ? err : plot_aborted ? RC_EIO : 0;
}
