/* recycle list: mprof list's lines, "INDEX FILE HH:MM:SS DD/MM/YYYY". */
#include "commands.h"

#include <string.h>

int cmd_list(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "usage: recycle list   (no arguments)\n");
        return CLI_EXIT_USAGE;
    }
    char **names;
    size_t n;
    if (rc_mprof_list(".", &names, &n)) {
        fprintf(stderr, "recycle list: cannot read this directory\n");
        return CLI_EXIT_FAILURE;
    }
    for (size_t i = 0; i < n; i++) {
        const char *ts = names[i] + strlen("mprofile_");
        printf("%zu %s %.2s:%.2s:%.2s %.2s/%.2s/%.4s\n", i, names[i], ts + 8, ts + 10, ts + 12,
               ts + 6, ts + 4, ts);
    }
    rc_mprof_names_free(names, n);
    return 0;
}
