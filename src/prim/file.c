/* Files and folders: the files the profiler appends to, listing a folder,
 * and what a path names.  Each record appended leaves in one write(2) to a
 * descriptor opened O_APPEND, so records of several processes sharing a
 * file (the sampler's ticks, the program's brackets) never interleave. */
#include "prim.h"
#include "recycle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A descriptor at or above this number is out of the way of programs that
 * reuse low numbers (the profiled program shares its process with us). */
#define HIGH_FD 512

static bool same_file(int fd, uint64_t dev, uint64_t ino)
{
    struct stat st;
    return fstat(fd, &st) == 0 && (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino;
}

int rc__os_log_open(rc__os_log *l, const char *path, bool create, bool high)
{
    int flags = O_WRONLY | O_APPEND | O_CLOEXEC | (create ? O_CREAT : 0);
    int fd = open(path, flags, 0644);
    l->fd = -1;
    if (fd < 0)
        return -1;
    int moved = high ? fcntl(fd, F_DUPFD_CLOEXEC, HIGH_FD) : -1;
    if (moved >= 0) {
        close(fd);
        fd = moved;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return -1;
    }
    *l = (rc__os_log){fd, (uint64_t)st.st_dev, (uint64_t)st.st_ino};
    return 0;
}

bool rc__os_log_still_ours(const rc__os_log *l)
{
    return l->fd >= 0 && same_file(l->fd, l->dev, l->ino);
}

bool rc__os_log_write(rc__os_log *l, const void *buf, size_t n)
{
    return rc__os_fd_write(l->fd, buf, n);
}

void rc__os_log_close(rc__os_log *l)
{
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
}

char *rc__os_abspath(const char *path)
{
    return realpath(path, NULL);
}

bool rc__os_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

int rc__os_dir_each(const char *path, int (*fn)(const char *name, void *arg), void *arg)
{
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? RC_ENOENT : RC_EIO;
    int r = 0;
    for (struct dirent *e; !r && (e = readdir(d));)
        r = fn(e->d_name, arg);
    closedir(d);
    return r;
}

void rc__os_local_time(char *buf, size_t n, const char *fmt)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(buf, n, fmt, &tm);
}

FILE *rc__os_newfile_open(rc__os_newfile *nf, const char *path)
{
    size_t len = strlen(path);
    *nf = (rc__os_newfile){NULL, malloc(len + 8)};
    if (!nf->tmp) {
        errno = ENOMEM;     /* not every malloc says so */
        return NULL;
    }
    memcpy(nf->tmp, path, len);
    memcpy(nf->tmp + len, ".XXXXXX", 8);
    int fd = mkstemp(nf->tmp);
    nf->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!nf->f) {
        int err = errno;
        if (fd >= 0) {
            close(fd);
            unlink(nf->tmp);
        }
        free(nf->tmp);
        errno = err;
    }
    return nf->f;
}

int rc__os_newfile_commit(rc__os_newfile *nf, const char *path, bool ok)
{
    ok = ok && fflush(nf->f) == 0 && fsync(fileno(nf->f)) == 0;
    ok = fclose(nf->f) == 0 && ok;
    ok = ok && rename(nf->tmp, path) == 0;
    int err = errno;
    if (!ok)
        unlink(nf->tmp);
    free(nf->tmp);
    errno = err;
    return ok ? 0 : -1;
}
