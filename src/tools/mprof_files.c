/* The mprofile_YYYYmmddHHMMSS.dat files of a directory, named, listed and
 * picked as mprof does (mprof.py get_profile_filenames / get_profiles):
 * sorted by name, which is by start time; an integer argument indexes that
 * list, 0 the oldest and -1 the newest. */
#include "recycle-tools.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void rc_mprof_default_name(char buf[RC_MPROF_NAME_LEN])
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(buf, RC_MPROF_NAME_LEN, "mprofile_%Y%m%d%H%M%S.dat", &tm);
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

int rc_mprof_list(const char *dir, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir ? dir : ".");
    if (!d)
        return errno == ENOENT ? RC_ENOENT : RC_EIO;
    size_t cap = 0;
    int err = 0;
    for (struct dirent *e; !err && (e = readdir(d));) {
        if (!is_profile_name(e->d_name))
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            char **nv = realloc(*names, cap * sizeof *nv);
            if (!nv) { err = RC_ENOMEM; break; }
            *names = nv;
        }
        if (!((*names)[*n] = strdup(e->d_name)))
            err = RC_ENOMEM;
        else
            ++*n;
    }
    closedir(d);
    if (err) {
        rc_mprof_names_free(*names, *n);
        *names = NULL;
        *n = 0;
        return err;
    }
    if (*n)
        qsort(*names, *n, sizeof **names, by_name);
    return 0;
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
    struct stat st;
    char *path = join(dir, arg);
    if (path && arg[0] != '/' && stat(path, &st) == 0 && S_ISREG(st.st_mode))
        return path;
    free(path);
    if (arg[0] == '/' && stat(arg, &st) == 0 && S_ISREG(st.st_mode))
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
