/* recycle clean [--dry-run]: removes every mprofile_*.dat here (mprof clean). */
#include "commands.h"

#include <string.h>

int cmd_clean(int argc, char **argv)
{
    bool dry_run = argc == 2 && !strcmp(argv[1], "--dry-run");
    if (argc > 2 || (argc == 2 && !dry_run)) {
        fprintf(stderr, "usage: recycle clean [--dry-run]\n");
        return CLI_EXIT_USAGE;
    }
    char **names;
    size_t n;
    if (rc_mprof_list(".", &names, &n)) {
        fprintf(stderr, "recycle clean: cannot read this directory\n");
        return CLI_EXIT_FAILURE;
    }
    int status = cli_remove(names, n, dry_run);
    rc_mprof_names_free(names, n);
    return status;
}
