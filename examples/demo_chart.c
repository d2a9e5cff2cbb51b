/* The demo's line chart for series that are not memory over time (the
 * thresholds experiment's collections per generation), drawn with PLplot
 * like `recycle plot`.
 *
 *     demo_chart TABLE OUT.png TITLE XLABEL YLABEL [GROUP]
 *
 * TABLE: a header line of column names, then rows of numbers; column 1 is
 * x, every other column is a line.  Columns come in groups of GROUP
 * (default 1): a line's colour is its place in the group, its style (solid,
 * dashed, dotted) its group.  The y axis is logarithmic, so series that
 * differ a hundredfold stay readable; zeros sit on the bottom edge. */
#include <plplot.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 12
#define MAX_ROWS 100000

enum { BG, FG, GRID, LINE0 };
static const int rgb[][3] = {{31, 119, 180}, {214, 39, 40}, {44, 160, 44}, {148, 103, 189}, {255, 127, 14}};
#define NRGB (int)(sizeof rgb / sizeof rgb[0])

typedef struct {
    int   ncols;
    size_t nrows;
    char  names[MAX_COLS][64];
    PLFLT *v[MAX_COLS];       /* v[c][r]; y columns already log10 */
} table;

static int read_table(const char *path, table *t)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    if (!f || !fgets(line, sizeof line, f)) {
        fprintf(stderr, "demo_chart: %s: cannot read\n", path);
        return -1;
    }
    for (char *tok = strtok(line, " \t\n"); tok && t->ncols < MAX_COLS; tok = strtok(NULL, " \t\n"))
        snprintf(t->names[t->ncols++], sizeof t->names[0], "%s", tok);
    for (int c = 0; c < t->ncols; c++)
        t->v[c] = calloc(MAX_ROWS, sizeof(PLFLT));
    while (t->nrows < MAX_ROWS && fgets(line, sizeof line, f)) {
        char *p = line, *end;
        for (int c = 0; c < t->ncols; c++, p = end) {
            double x = strtod(p, &end);
            t->v[c][t->nrows] = c == 0 ? x : log10(x < 1 ? 1 : x);
        }
        t->nrows++;
    }
    fclose(f);
    return t->nrows ? 0 : -1;
}

static void draw(const table *t, int group)
{
    PLINT opt[MAX_COLS], col[MAX_COLS], sty[MAX_COLS], zero[MAX_COLS] = {0};
    PLFLT wid[MAX_COLS], zerof[MAX_COLS] = {0};
    const char *text[MAX_COLS];
    int n = t->ncols - 1;
    for (int i = 0; i < n; i++) {
        col[i] = LINE0 + i % group % NRGB;
        sty[i] = 1 + i / group % 3;           /* 1 solid, 2 dashed, 3 dotted */
        opt[i] = PL_LEGEND_LINE;
        wid[i] = 2;
        text[i] = t->names[i + 1];
        plcol0(col[i]);
        pllsty(sty[i]);
        plwidth(2);
        plline((PLINT)t->nrows, t->v[0], t->v[i + 1]);
    }
    pllsty(1);
    plwidth(1);
    PLINT text_col[MAX_COLS];
    for (int i = 0; i < n; i++)
        text_col[i] = FG;
    PLFLT w, h;
    pllegend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
             PL_POSITION_RIGHT | PL_POSITION_OUTSIDE | PL_POSITION_VIEWPORT, 0.02, 0, 0.08, BG, FG, 1, 0, 0,
             n, opt, 0.8, 0.8, 2.0, 0, text_col, text, zero, zero, zerof, zerof, col, sty, wid, zero, zerof,
             zero, NULL);
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: demo_chart TABLE OUT.png TITLE XLABEL YLABEL [GROUP]\n");
        return 2;
    }
    table t = {0};
    if (read_table(argv[1], &t) < 0 || t.ncols < 2)
        return 1;
    int group = argc > 6 ? atoi(argv[6]) : 1;
    if (group < 1)
        group = 1;
    PLFLT xmax = t.v[0][t.nrows - 1], ymax = 0;
    for (int c = 1; c < t.ncols; c++)
        for (size_t r = 0; r < t.nrows; r++)
            ymax = fmax(ymax, t.v[c][r]);
    plsdev("pngcairo");
    plsfnam(argv[2]);
    plspage(90, 90, 1260, 540, 0, 0);
    plscmap0n(LINE0 + NRGB);
    plscol0(BG, 255, 255, 255);
    plscol0(FG, 0, 0, 0);
    plscol0(GRID, 210, 210, 210);
    for (int i = 0; i < NRGB; i++)
        plscol0(LINE0 + i, rgb[i][0], rgb[i][1], rgb[i][2]);
    plinit();
    pladv(0);
    plschr(0, 0.75);
    plvpor(0.07, 0.70, 0.12, 0.90);
    plwind(0, xmax, 0, ceil(ymax + 0.05));
    plcol0(GRID);
    plbox("g", 0, 0, "gl", 0, 0);
    plcol0(FG);
    plbox("bcnst", 0, 0, "bcnstlv", 0, 0);
    pllab(argv[4], argv[5], argv[3]);
    draw(&t, group);
    plend1();               /* like recycle plot: plend would unload the drivers and leak in libltdl */
    for (int c = 0; c < t.ncols; c++)
        free(t.v[c]);
    return 0;
}
