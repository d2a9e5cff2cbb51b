/* recycle peak [--func NAME] [FILE|INDEX ...]: mprof peak's lines, with the
 * exact peak (PEAK records between samples included). */
#include "commands.h"

#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* mprof peak --func: the peak inside the calls of one function. */
static int print_func_peak(const rc_mprof *p, const char *func)
{
    double m = rc_mprof_func_peak(p, func);
    if (isnan(m)) {
        fprintf(stderr, "recycle peak: %s: no function '%s' (no FUNC record of that name)%s\n", p->path,
                func, p->nfuncs ? "; 'recycle report' lists those there are" : "");
        return CLI_EXIT_FAILURE;
    }
    printf("%s\t%.3f MiB\n", p->path, m);
    return 0;
}

static int print_peak(rc_mprof *p, int index, void *ctx)
{
    (void)index;
    if (ctx)
        return print_func_peak(p, ctx);
    double sampled = -INFINITY;
    for (size_t i = 0; i < p->nmem; i++)
        sampled = fmax(sampled, p->mem[i].mib);
    double exact = rc_mprof_peak(p, NULL);
    printf("%s\t%.3f MiB", p->path, exact);
    if (exact > sampled)
        printf("\t(between samples; samples alone: %.3f MiB)", sampled);
    if (p->before_mib > 0)
        printf("\t(before attaching: %.3f MiB)", p->before_mib);
    printf("\n");
    for (size_t c = 0; c < p->nchildren; c++)
        printf("  Child %ld\t\t\t%.3f MiB\n", p->children[c].pid,
               rc_mprof_child_peak(&p->children[c]));
    return 0;
}

int cmd_peak(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"func", required_argument, 0, 'f'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    char *taken[argc + 1];
    int ntaken = cli_take_indices(&argc, argv, taken);
    const char *func = NULL;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1;) {
        if (c == 'f') {
            func = optarg;
            continue;
        }
        fprintf(c == 'h' ? stdout : stderr,
                "usage: recycle peak [--func NAME] [FILE.dat|INDEX ...]   (default: the newest)\n");
        return c == 'h' ? 0 : CLI_EXIT_USAGE;
    }
    int n;
    char **paths = cli_profile_args("peak", argc, argv, taken, ntaken, &n);
    if (!paths)
        return CLI_EXIT_FAILURE;
    return cli_each_profile(paths, n, print_peak, (void *)(uintptr_t)func);
}
