/* recycle plot [options] [FILE|INDEX ...]: mprof plot, drawn by PLplot.
 * Without -o the chart goes beside the (first) profile as <name>.png,
 * since there is no window to show it in. */
#include "commands.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char plot_usage[] =
    "usage: recycle plot [options] [FILE.dat|INDEX ...]   (default: the newest profile)\n"
    "  -o, --output FILE     .png, .svg or .pdf (default: the profile's name with .png)\n"
    "  -t, --title TEXT      the title (default: the command line)\n"
    "  -w, --window X0,X1[,Y0,Y1]  seconds (and MiB) to show; empty fields stay automatic\n"
    "  -f, --flame           function brackets as a flame graph\n"
    "  -s, --slope           a trend line and its slope\n"
    "  -n, --no-function-ts  no function brackets\n"
    "  INDEX: 0 the oldest mprofile_*.dat here, -1 the newest (as mprof)\n";

/* "x0,x1" or "x0,x1,y0,y1"; an empty field leaves that bound automatic. */
static int parse_window(const char *s, double w[4])
{
    int n = 0;
    for (const char *p = s;; p++) {
        if (n == 4)
            return -1;                     /* a fifth field */
        char *end = (char *)p;
        w[n++] = *p == ',' || !*p ? NAN : strtod(p, &end);
        p = end;
        if (!*p)
            break;
        if (*p != ',')
            return -1;                     /* not a number */
    }
    return n == 2 || n == 4 ? 0 : -1;
}

static char *default_output(const char *profile)
{
    size_t len = strlen(profile);
    char *out = malloc(len + 5);
    if (!out)
        return NULL;
    memcpy(out, profile, len + 1);
    char *dot = strrchr(out, '.');
    strcpy(dot && !strchr(dot, '/') ? dot : out + len, ".png");
    return out;
}

static int draw(rc_plot_opts *o, char **paths, int n)
{
    rc_mprof **ps = calloc((size_t)n, sizeof *ps);
    int status = ps ? 0 : 1;
    for (int i = 0; i < n && !status; i++)
        if (!(ps[i] = rc_tool_load_profile(paths[i])))
            status = RC_EXIT_USAGE;
    char *out = NULL;
    if (!status && !o->output)
        o->output = out = default_output(paths[0]);
    if (!status && rc_plot((const rc_mprof *const *)ps, (size_t)n, o, NULL)) {
        fprintf(stderr, "recycle plot: %s\n", rc_last_error(NULL));
        status = RC_EXIT_USAGE;
    }
    if (!status)
        printf("%s\n", o->output);
    for (int i = 0; ps && i < n; i++)
        rc_mprof_free(ps[i]);
    free(ps);
    free(out);
    return status;
}

int cmd_plot(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, 0, 'o'}, {"title", required_argument, 0, 't'},
        {"window", required_argument, 0, 'w'}, {"flame", no_argument, 0, 'f'},
        {"slope", no_argument, 0, 's'},        {"no-function-ts", no_argument, 0, 'n'},
        {"backend", required_argument, 0, 'b'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    char *taken[argc + 1];
    int ntaken = rc_tool_take_indices(&argc, argv, taken);
    rc_plot_opts o;
    rc_plot_opts_default(&o);
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "o:t:w:fsnh", longopts, NULL)) != -1;) {
        switch (c) {
        case 'o': o.output = optarg; break;
        case 't': o.title = optarg; break;
        case 'f': o.flame = true; break;
        case 's': o.slope = true; break;
        case 'n': o.no_brackets = true; break;
        case 'b': break;                       /* mprof's matplotlib backend */
        case 'w':
            if (parse_window(optarg, o.window) == 0)
                break;
            fprintf(stderr, "recycle plot: -w %s: expected X0,X1 or X0,X1,Y0,Y1\n", optarg);
            return RC_EXIT_USAGE;
        case 'h': fputs(plot_usage, stdout); return 0;
        default: fputs(plot_usage, stderr); return RC_EXIT_USAGE;
        }
    }
    int n;
    char **paths = rc_tool_profile_args("plot", argc, argv, taken, ntaken, &n);
    if (!paths)
        return RC_EXIT_USAGE;
    int status = draw(&o, paths, n);
    rc_tool_profiles_free(paths, n);
    return status;
}
