/* recycle rm [--dry-run] INDEX|FILE ...: mprof rm. */
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Removes (or with dry_run lists) paths; shared with clean.c. */
int cli_remove(char **paths, size_t n, bool dry_run)
{
    int status = 0;
    if (dry_run)
        printf("Files to be removed: \n");
    for (size_t i = 0; i < n; i++) {
        if (dry_run)
            printf("%s\n", paths[i]);
        else if (unlink(paths[i])) {
            fprintf(stderr, "recycle: cannot remove %s: %s\n", paths[i], strerror(errno));
            status = CLI_EXIT_FAILURE;
        }
    }
    return status;
}

int cmd_rm(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"dry-run", no_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    char *taken[argc + 1];
    int ntaken = cli_take_indices(&argc, argv, taken);
    bool dry_run = false;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1;) {
        if (c == 'd') {
            dry_run = true;
            continue;
        }
        fprintf(c == 'h' ? stdout : stderr, "usage: recycle rm [--dry-run] INDEX|FILE ...\n");
        return c == 'h' ? 0 : CLI_EXIT_USAGE;
    }
    int nargs, n;
    char **args = cli_positionals(argc, argv, optind, taken, ntaken, &nargs);
    if (args && nargs == 0) {
        fprintf(stderr, "recycle rm: a profile to remove must be given (number or file name)\n");
        free(args);
        return CLI_EXIT_USAGE;
    }
    char **paths = args ? cli_profiles("rm", nargs, args, &n) : NULL;
    free(args);
    if (!paths)
        return CLI_EXIT_FAILURE;
    int status = cli_remove(paths, (size_t)n, dry_run);
    cli_profiles_free(paths, n);
    return status;
}
