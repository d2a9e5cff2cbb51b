/* The mprofile_YYYYmmddHHMMSS.dat files of a directory, named, listed and
 * picked as mprof does (mprof.py get_profile_filenames / get_profiles):
 * sorted by name, which is by start time; an integer argument indexes that
 * list, 0 the oldest and -1 the newest. */
#include "recycle-tools.h"
#include "../prim/prim.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rc_mprof_default_name(char buf[RC_MPROF_NAME_LEN])
{
    rc__os_local_time(buf, RC_MPROF_NAME_LEN, "mprofile_%Y%m%d%H%M%S.dat");
}

/* mprof's glob: mprofile_ then exactly 14 characters then .dat. */
static bool is_profile_name(const char *s)
{
    return strlen(s) == 9 + 14 + 4 && !strncmp(s, "mprofile_", 9) && !strcmp(s + 23, ".dat");
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void rc_mprof_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

typedef struct name_list {
    char **names;
    size_t n, cap;
} name_list;

/* A folder entry that is a profile joins the list (a copy of its name). */
static int add_profile(const char *name, void *arg)
{
    name_list *l = arg;
    if (!is_profile_name(name))
        return 0;
    if (!rc__vec_reserve(&l->names, &l->cap, l->n + 1, sizeof *l->names, 16, SIZE_MAX))
        return RC_ENOMEM;
    if (!(l->names[l->n] = strdup(name)))
        return RC_ENOMEM;
    l->n++;
    return 0;
}

int rc_mprof_list(const char *dir, char ***names, size_t *n)
{
    name_list l = {0};
    int err = rc__os_dir_each(dir ? dir : ".", add_profile, &l);
    if (err) {
        rc_mprof_names_free(l.names, l.n);
        l = (name_list){0};
    }
    if (l.n)
        qsort(l.names, l.n, sizeof *l.names, by_name);
    *names = l.names;
    *n = l.n;
    return err;
}

static char *join(const char *dir, const char *name)
{
    if (!dir || !strcmp(dir, "."))
        return strdup(name);
    size_t len = strlen(dir) + strlen(name) + 2;
    char *s = malloc(len);
    if (s)
        snprintf(s, len, "%s/%s", dir, name);
    return s;
}

static bool is_index(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

char *rc_mprof_resolve(const char *dir, const char *arg)
{
    char *path = join(dir, arg);
    /* anything readable but a folder: <(...) names a pipe */
    if (path && arg[0] != '/' && rc__os_is_file(path))
        return path;
    free(path);
    if (arg[0] == '/' && rc__os_is_file(arg))
        return strdup(arg);
    if (!is_index(arg))
        return NULL;
    char **names;
    size_t n;
    if (rc_mprof_list(dir, &names, &n))
        return NULL;
    long i = strtol(arg, NULL, 10);
    if (i < 0)
        i += (long)n;
    char *found = i >= 0 && (size_t)i < n ? join(dir, names[i]) : NULL;
    rc_mprof_names_free(names, n);
    return found;
}
