/* Files read and written through bare descriptors: no malloc and no
 * stdio, so the tracer can use them inside allocation hooks and signal
 * handlers (the preload library links this file too). */
#include "prim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>   /* rename */
#include <string.h>
#include <unistd.h>

int rc__os_fd_open_read(const char *path)
{
    return open(path, O_RDONLY | O_CLOEXEC);
}

long rc__os_fd_read(int fd, void *buf, size_t n)
{
    ssize_t got;
    do
        got = read(fd, buf, n);
    while (got < 0 && errno == EINTR);
    return (long)got;
}

bool rc__os_fd_pread(int fd, void *buf, size_t n, uint64_t off)
{
    return pread(fd, buf, n, (off_t)off) == (ssize_t)n;
}

bool rc__os_fd_write(int fd, const void *buf, size_t n)
{
    for (size_t off = 0; off < n;) {
        ssize_t w = write(fd, (const char *)buf + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        off += (size_t)w;
    }
    return true;
}

void rc__os_fd_close(int fd)
{
    close(fd);
}

/* path's temporary sibling, path + ".tmp", in tmp (n bytes); false when
 * it does not fit. */
static bool tmp_name(const char *path, char *tmp, size_t n)
{
    size_t len = strlen(path);
    if (len + sizeof ".tmp" > n)
        return false;
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp", sizeof ".tmp");
    return true;
}

int rc__os_fd_replace_open(const char *path)
{
    char tmp[4096];
    if (!tmp_name(path, tmp, sizeof tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

bool rc__os_fd_replace_commit(int fd, const char *path, bool ok)
{
    char tmp[4096];
    tmp_name(path, tmp, sizeof tmp);
    ok = close(fd) == 0 && ok && rename(tmp, path) == 0;
    if (!ok)
        unlink(tmp);
    return ok;
}
