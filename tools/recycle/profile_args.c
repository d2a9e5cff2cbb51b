/* Argument handling shared by the profile commands (run, plot, peak...). */
#include "commands.h"

#include <ctype.h>
#include <getopt.h>
#include <errno.h>
#include <math.h>
#include <recycle.h>
#include <stdlib.h>
#include <string.h>

static int is_negative_index(const char *s)
{
    if (s[0] != '-' || !isdigit((unsigned char)s[1]))
        return 0;
    for (s++; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

int rc_tool_take_indices(int *argc, char **argv, char **taken)
{
    int k = 1, n = 0;
    for (int i = 1; i < *argc; i++) {
        if (is_negative_index(argv[i]))
            taken[n++] = argv[i];
        else
            argv[k++] = argv[i];
    }
    argv[k] = NULL;
    *argc = k;
    return n;
}

char **rc_tool_positionals(int argc, char **argv, int optind_, char **taken, int ntaken, int *n)
{
    char **all = calloc((size_t)(argc - optind_ + ntaken + 1), sizeof *all);
    if (!all)
        return NULL;
    *n = 0;
    for (int i = optind_; i < argc; i++)
        all[(*n)++] = argv[i];
    for (int i = 0; i < ntaken; i++)
        all[(*n)++] = taken[i];
    return all;
}

double rc_tool_seconds(const char *cmd, const char *opt, const char *value)
{
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (end == value || *end || errno || !isfinite(v) || v <= 0) {
        fprintf(stderr, "recycle %s: %s %s: expected a number of seconds > 0\n", cmd, opt, value);
        return -1;
    }
    return v;
}

void rc_tool_profiles_free(char **paths, int count)
{
    for (int i = 0; i < count; i++)
        free(paths[i]);
    free(paths);
}

char **rc_tool_profiles(const char *cmd, int n, char **args, int *count)
{
    char *newest[1] = {"-1"};
    if (n == 0) {
        args = newest;
        n = 1;
    }
    char **paths = calloc((size_t)n, sizeof *paths);
    if (!paths)
        return NULL;
    for (*count = 0; *count < n; ++*count) {
        paths[*count] = rc_mprof_resolve(".", args[*count]);
        if (paths[*count])
            continue;
        if (args == newest)
            fprintf(stderr, "recycle %s: no mprofile_*.dat file here; make one with "
                            "'recycle run PROGRAM' or name a file\n", cmd);
        else
            fprintf(stderr, "recycle %s: %s: no such file or profile index\n", cmd, args[*count]);
        rc_tool_profiles_free(paths, *count);
        return NULL;
    }
    return paths;
}

char **rc_tool_profile_args(const char *cmd, int argc, char **argv, char **taken, int ntaken, int *count)
{
    int nargs;
    char **args = rc_tool_positionals(argc, argv, optind, taken, ntaken, &nargs);
    char **paths = args ? rc_tool_profiles(cmd, nargs, args, count) : NULL;
    free(args);
    return paths;
}

rc_mprof *rc_tool_load_profile(const char *path)
{
    rc_mprof *p;
    if (rc_mprof_load(path, &p)) {
        fprintf(stderr, "%s\n", rc_last_error(NULL));
        return NULL;
    }
    if (p->skipped)
        fputs(p->skipped, stderr);
    return p;
}

int rc_tool_each_profile(char **paths, int n, void (*fn)(rc_mprof *p, int i, void *ctx), void *ctx)
{
    int status = 0;
    for (int i = 0; i < n; i++) {
        rc_mprof *p = rc_tool_load_profile(paths[i]);
        if (!p) {
            status = RC_EXIT_USAGE;
            continue;
        }
        fn(p, i, ctx);
        rc_mprof_free(p);
    }
    rc_tool_profiles_free(paths, n);
    return status;
}
