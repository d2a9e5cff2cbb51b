/* recycle report [--calls] [FILE|INDEX]: the per-function table. */
#include "commands.h"

#include <getopt.h>
#include <stdlib.h>

int cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"calls", no_argument, 0, 'c'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    char *taken[argc + 1];
    int ntaken = rc_tool_take_indices(&argc, argv, taken);
    bool per_call = false;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "ch", longopts, NULL)) != -1;) {
        if (c == 'c') {
            per_call = true;
            continue;
        }
        fprintf(c == 'h' ? stdout : stderr,
                "usage: recycle report [--calls] [FILE.dat|INDEX]   (default: the newest)\n"
                "  --calls  one row per call (indented by nesting level)\n");
        return c == 'h' ? 0 : RC_EXIT_USAGE;
    }
    int nargs, n;
    char **args = rc_tool_positionals(argc, argv, optind, taken, ntaken, &nargs);
    char **paths = args ? rc_tool_profiles("report", nargs, args, &n) : NULL;
    free(args);
    if (!paths)
        return RC_EXIT_USAGE;
    int status = 0;
    for (int i = 0; i < n; i++) {
        rc_mprof *p;
        if (rc_mprof_load(paths[i], stderr, &p)) {
            status = RC_EXIT_USAGE;
            continue;
        }
        if (i)
            putchar('\n');
        rc_mprof_report(p, per_call, stdout);
        rc_mprof_free(p);
    }
    rc_tool_profiles_free(paths, n);
    return status;
}
