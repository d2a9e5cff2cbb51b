/* recycle report [--calls] [FILE|INDEX]: the per-function table. */
#include "commands.h"

#include <getopt.h>
#include <stdlib.h>

static int print_report(rc_mprof *p, int index, void *ctx)
{
    if (index)
        putchar('\n');
    return rc_mprof_report(p, *(const bool *)ctx, stdout) ? CLI_EXIT_FAILURE : 0;
}

int cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"calls", no_argument, 0, 'c'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    char *taken[argc + 1];
    int ntaken = cli_take_indices(&argc, argv, taken);
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
        return c == 'h' ? 0 : CLI_EXIT_USAGE;
    }
    int n;
    char **paths = cli_profile_args("report", argc, argv, taken, ntaken, &n);
    if (!paths)
        return CLI_EXIT_FAILURE;
    return cli_each_profile(paths, n, print_report, &per_call);
}
