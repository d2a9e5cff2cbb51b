/* Memory figures of processes from Linux's /proc.  Files stay open between
 * samples and are re-read with pread at offset 0, which makes the kernel
 * generate fresh contents: a sample is one pread, a peak reset one pwrite. */
#include "recycle.h"
#include "prim.h"
#include "proc_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int open_proc(long pid, const char *file, int flags)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/%s", pid, file);
    return open(path, flags | O_CLOEXEC);
}

int rc__procmem_open(rc__procmem *pm, long pid)
{
    pm->pid = pid;
    pm->status_fd = open_proc(pid, "status", O_RDONLY);
    pm->clear_fd = pm->status_fd >= 0 ? open_proc(pid, "clear_refs", O_WRONLY) : -1;
    return pm->status_fd >= 0 ? 0 : RC_ENOENT;
}

void rc__procmem_close(rc__procmem *pm)
{
    if (pm->status_fd >= 0)
        close(pm->status_fd);
    if (pm->clear_fd >= 0)
        close(pm->clear_fd);
    pm->status_fd = pm->clear_fd = -1;
}

/* The kB value of "key:   1234 kB" in /proc status text; false if absent. */
static bool status_field(const char *text, const char *key, uint64_t *bytes)
{
    const char *p = strstr(text, key);
    if (!p)
        return false;
    *bytes = strtoull(p + strlen(key), NULL, 10) * 1024;
    return true;
}

int rc__procmem_read(rc__procmem *pm, uint64_t *rss, uint64_t *hwm)
{
    char buf[4096];
    ssize_t n = pread(pm->status_fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return RC_ENOENT;
    buf[n] = 0;
    if (!status_field(buf, "\nVmRSS:", rss))
        return RC_ENOENT;
    if (!status_field(buf, "\nVmHWM:", hwm))
        *hwm = *rss;
    return 0;
}

int rc__procmem_reset_peak(rc__procmem *pm)
{
    if (pm->clear_fd < 0 || pwrite(pm->clear_fd, "5", 1, 0) != 1)
        return RC_ENOTSUP;
    return 0;
}

/* /proc/PID/file into buf: rc__os_read_file's count. */
static long read_proc(long pid, const char *file, char *buf, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/%s", pid, file);
    return rc__os_read_file(path, buf, size);
}

/* The text of /proc/PID/stat after "pid (comm)": comm may hold spaces
 * and parentheses, so it ends at the last ')'. */
static char *stat_fields(long pid, char *buf, size_t size)
{
    if (read_proc(pid, "stat", buf, size) <= 0)
        return NULL;
    char *paren = strrchr(buf, ')');
    return paren ? paren + 1 : NULL;
}

bool rc__proc_exists(long pid)
{
    return pid > 0 && kill((pid_t)pid, 0) == 0;
}

long rc__proc_self(void)
{
    return (long)getpid();
}

long rc__proc_ppid(long pid)
{
    char buf[512];
    char *f = stat_fields(pid, buf, sizeof buf);
    long ppid;
    char state;
    if (!f || sscanf(f, " %c %ld", &state, &ppid) != 2)
        return -1;
    return ppid;
}

long rc__proc_waited_children_faults(long pid)
{
    char buf[1024];
    char *f = stat_fields(pid, buf, sizeof buf);
    long v[8];
    char state;
    /* state ppid pgrp sid tty_nr tpgid flags minflt cminflt (proc(5)) */
    if (!f || sscanf(f, " %c %ld %ld %ld %ld %ld %lu %lu %lu", &state, &v[0], &v[1], &v[2], &v[3],
                     &v[4], (unsigned long *)&v[5], (unsigned long *)&v[6],
                     (unsigned long *)&v[7]) != 9)
        return -1;
    return v[7];
}

static int by_pid(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

typedef struct pid_list {
    long  *pids;
    size_t n, cap;
} pid_list;

/* An entry of /proc that is a process: its pid joins the list. */
static int add_pid(const char *name, void *arg)
{
    pid_list *l = arg;
    char *end;
    long pid = strtol(name, &end, 10);
    if (*end || pid <= 0)
        return 0;
    if (!rc__vec_reserve(&l->pids, &l->cap, l->n + 1, sizeof *l->pids, 256, SIZE_MAX))
        return RC_ENOMEM;
    l->pids[l->n++] = pid;
    return 0;
}

int rc__proc_pids(long **pids, size_t *n)
{
    pid_list l = {0};
    int err = rc__os_dir_each("/proc", add_pid, &l);
    if (err) {
        free(l.pids);
        l = (pid_list){0};
    }
    if (l.n)
        qsort(l.pids, l.n, sizeof *l.pids, by_pid);
    *pids = l.pids;
    *n = l.n;
    return err == RC_ENOENT ? RC_EIO : err;
}

int rc__proc_cmdline(long pid, char *buf, size_t size)
{
    long n = read_proc(pid, "cmdline", buf, size);
    if (n < 0)
        return RC_ENOENT;
    while (n > 0 && buf[n - 1] == 0)
        n--;
    for (long i = 0; i < n; i++)
        if (!buf[i])
            buf[i] = ' ';
    buf[n] = 0;
    return 0;
}

double rc__proc_epoch(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}
