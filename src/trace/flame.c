/* Flame graphs (rc_flame) drawn by PLplot: its svg driver for .svg, which
 * keeps every label a <text> element a browser can search, and the cairo
 * driver for .png and .pdf.  The layout is Brendan Gregg's: the stacks
 * sorted by their frames, outermost first, so the stacks through one frame
 * sit side by side and merge into one box; the outermost frames at the
 * bottom, each box as wide as its bytes, a label where the box has room. */
#include "recycle-tools.h"

#include <plplot.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { BG, FG, WARM0, NWARM = 6, NCOL = WARM0 + NWARM };

typedef struct canvas {
    double total;        /* bytes across the whole width */
    double px_per_byte;  /* the plot's width in pixels over total */
    double char_px;      /* a label character's width in pixels, roughly */
} canvas;

static int by_frames(const void *a, const void *b)
{
    const rc_flame_stack *x = a, *y = b;
    for (size_t i = 0; i < x->nframe && i < y->nframe; i++) {
        int c = strcmp(x->frames[i], y->frames[i]);
        if (c)
            return c;
    }
    return (x->nframe > y->nframe) - (x->nframe < y->nframe);
}

/* As much of text as fits in px pixels, ".." marking a cut; "" when not
 * even three characters fit. */
static void fit_label(const char *text, double px, const canvas *c, char *out, size_t n)
{
    size_t room = (size_t)(px / c->char_px), len = strlen(text);
    out[0] = 0;
    if (room < 3 || n < 4)
        return;
    if (room >= n)
        room = n - 1;
    if (len <= room) {
        memcpy(out, text, len + 1);
        return;
    }
    memcpy(out, text, room - 2);
    strcpy(out + room - 2, "..");
}

static void draw_box(const char *frame, double x, double bytes, int depth, const canvas *c)
{
    PLFLT xs[4] = {x, x + bytes, x + bytes, x}, ys[4] = {depth + 0.04, depth + 0.04, depth + 0.96, depth + 0.96};
    size_t h = 5381;
    for (const char *p = frame; *p; p++)    /* a frame keeps its colour wherever it appears */
        h = h * 33 + (unsigned char)*p;
    plcol0(WARM0 + (int)(h % NWARM));
    plfill(4, xs, ys);
    char label[512];
    fit_label(frame, bytes * c->px_per_byte - 4, c, label, sizeof label);
    if (label[0]) {
        plcol0(FG);
        plptex(x + 2 / c->px_per_byte, depth + 0.5, 1, 0, 0, label);
    }
}

/* Draws s[0..n), which share their first depth frames, from x on. */
static void draw_level(const rc_flame_stack *s, size_t n, int depth, double x, const canvas *c)
{
    size_t i = 0;
    while (i < n && s[i].nframe <= (size_t)depth) {   /* stacks that end below: their bytes are below */
        x += (double)s[i].bytes;
        i++;
    }
    while (i < n) {
        size_t j = i;
        double bytes = 0;
        for (; j < n && !strcmp(s[j].frames[depth], s[i].frames[depth]); j++)
            bytes += (double)s[j].bytes;
        if (bytes > 0)
            draw_box(s[i].frames[depth], x, bytes, depth, c);
        draw_level(s + i, j - i, depth + 1, x, c);
        x += bytes;
        i = j;
    }
}

static const char *flame_device(const char *path)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (!dot)
        return NULL;
    if (!strcasecmp(dot, ".svg")) return "svg";
    if (!strcasecmp(dot, ".png")) return "pngcairo";
    if (!strcasecmp(dot, ".pdf")) return "pdfcairo";
    return NULL;
}

static void flame_palette(void)
{
    plscmap0n(NCOL);
    plscol0(BG, 255, 255, 255);
    plscol0(FG, 0, 0, 0);
    for (int i = 0; i < NWARM; i++)   /* flamegraph.pl's "hot" range: red to yellow */
        plscol0(WARM0 + i, 230 + 5 * (i % 3), 90 + 30 * i, 40 + 10 * (i % 2));
}

static bool flame_aborted;
static void on_flame_abort(PLCHAR_VECTOR msg)
{
    flame_aborted = true;
    rc_set_error(NULL, RC_EIO, "PLplot: %s", msg);
}

int rc_flame(rc_flame_stack *stacks, size_t n, const char *output, const char *title)
{
    const char *dev = flame_device(output);
    if (!dev)
        return rc_set_error(NULL, RC_EINVAL, "%s: the output must end in .svg, .png or .pdf",
                            output ? output : "(none)");
    double total = 0;
    size_t depth = 1;
    for (size_t i = 0; i < n; i++) {
        total += (double)stacks[i].bytes;
        depth = stacks[i].nframe > depth ? stacks[i].nframe : depth;
    }
    if (!(total > 0))
        return rc_set_error(NULL, RC_EINVAL, "no bytes to draw");
    qsort(stacks, n, sizeof *stacks, by_frames);
    int w = 1200, h = 60 + 18 * (int)depth;
    double left = 10, right = 10, top = 30, bottom = 10;
    PLINT stream;
    plmkstrm(&stream);
    flame_aborted = false;
    plsabort(on_flame_abort);
    plsdev(dev);
    plsfnam(output);
    plspage(90, 90, w, h, 0, 0);
    flame_palette();
    plinit();
    pladv(0);
    plschr(0, 0.62);
    plvpor(left / w, 1 - right / w, bottom / h, 1 - top / h);
    plwind(0, total, 0, (double)depth);
    PLFLT def, ht;
    plgchr(&def, &ht);
    canvas c = {total, (w - left - right) / total, 0.62 * ht * 90 / 25.4};
    plcol0(FG);
    plmtex("t", 1.2, 0.5, 0.5, title ? title : "");
    draw_level(stacks, n, 0, 0, &c);
    plend1();
    return flame_aborted ? RC_EIO : 0;
}
